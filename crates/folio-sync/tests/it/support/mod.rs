//! Shared setup of the engine tests (`limits`, `scope`, `reconcile`): a
//! library in a real store (SQLite, or PostgreSQL with
//! `FOLIO_TEST_DATABASE_URL`) with blob storage in a temporary directory,
//! connected to cloudsim through the real OAuth flow of the connectors'
//! test kit ([`sim`]), and helpers to sync it and read what it holds and
//! what cloudsim counted.
#![allow(dead_code)]

#[path = "../../../../folio-connectors/tests/it/support/mod.rs"]
pub mod sim;

use std::collections::HashSet;

use folio_blobs::{BlobConfig, BlobStore};
use folio_connectors::ProviderKind;
use folio_domain::LibrarySource;
use folio_store::sync::{RunProgress, SyncRun};
use folio_store::{NewLibrary, NewUser, Store};
use folio_sync::executor::{Executor, SyncError, SyncOptions, SyncOutcome};
use folio_sync::run::{RunRequest, Started, run_locked};
use futures::StreamExt;
use serde_json::{Value, json};
use sim::Fixture;
use tempfile::TempDir;
use uuid::Uuid;

/// One library synced from one cloudsim account.
pub struct Lib {
    _dir: TempDir,
    pub store: Store,
    pub blobs: BlobStore,
    pub id: Uuid,
    /// cloudsim, the connected account and the connector's `source`
    /// (change `fx.source` before syncing to scope the library).
    pub fx: Fixture,
    /// Items per listing page.
    pub page_size: u32,
}

async fn open_store(dir: &TempDir) -> Store {
    let url = std::env::var("FOLIO_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty());
    let store = match url {
        Some(url) => {
            Store::connect_postgres_schema(&url, &format!("t_{}", Uuid::new_v4().simple()))
                .await
                .expect("postgres schema")
        }
        None => Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .expect("sqlite"),
    };
    store.migrate().await.expect("migrate");
    store
}

/// A library of `kind` with an empty source account.
pub async fn setup(kind: ProviderKind) -> Lib {
    let dir = TempDir::new().expect("temp dir");
    let store = open_store(&dir).await;
    let blobs = BlobStore::open(
        &BlobConfig::parse_url(&dir.path().join("blobs").display().to_string()).expect("blob url"),
    )
    .await
    .expect("blobs");
    let owner = store
        .create_user(NewUser {
            username: "owner".into(),
            display_name: None,
            password_hash: None,
            is_admin: false,
        })
        .await
        .expect("user")
        .id;
    let id = store
        .create_library(NewLibrary {
            natural_id: "lib".into(),
            name: "lib".into(),
            description: None,
            library_type: kind.into(),
            owner_id: owner,
            source: LibrarySource::default(),
            sync_schedule: None,
        })
        .await
        .expect("library")
        .id;
    let fx = Fixture::new(kind).await;
    Lib {
        _dir: dir,
        store,
        blobs,
        id,
        fx,
        page_size: 50,
    }
}

/// The request-counter key of a provider's downloads.
pub fn download_key(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::GoogleDrive => "GET /drive/v3/files/{fileId}?alt=media",
        ProviderKind::OneDrive | ProviderKind::SharePoint => "GET /download/{token}",
        ProviderKind::Dropbox => "POST /2/files/download",
    }
}

impl Lib {
    /// A sync that may fail.
    pub async fn try_sync_with(&self, options: SyncOptions) -> Result<SyncOutcome, SyncError> {
        let connector = self.fx.connector_with(self.page_size);
        Executor {
            store: &self.store,
            blobs: &self.blobs,
            connector: connector.into(),
            library_id: self.id,
            options,
            progress: None,
            lease: None,
        }
        .run()
        .await
    }

    pub async fn sync_with(&self, options: SyncOptions) -> SyncOutcome {
        self.try_sync_with(options).await.expect("sync")
    }

    pub async fn sync(&self) -> SyncOutcome {
        self.sync_with(SyncOptions::default()).await
    }

    /// A reconcile: a full listing despite a usable cursor.
    pub async fn reconcile(&self) -> SyncOutcome {
        self.sync_with(SyncOptions {
            full_listing: true,
            ..SyncOptions::default()
        })
        .await
    }

    /// A sync under the library's lease, recorded as a run: the finished
    /// run row and the executor's result.
    pub async fn run(&self) -> (SyncRun, Result<SyncOutcome, SyncError>) {
        let progress_id = Uuid::new_v4().to_string();
        let request = RunRequest {
            library_id: self.id,
            progress_id: Some(progress_id.clone()),
            trigger: folio_domain::RunTrigger::Manual,
            options: SyncOptions::default(),
            owner: "test-process".into(),
            lease: std::time::Duration::from_secs(30),
            reconnect_with: None,
        };
        let (progress, _) = tokio::sync::watch::channel(RunProgress::default());
        let connector = self.fx.connector_with(self.page_size);
        let started = run_locked(
            &self.store,
            &self.blobs,
            connector.into(),
            request,
            &progress,
        )
        .await
        .expect("run starts");
        let Started::Finished { result, .. } = started else {
            panic!("no other run holds the library");
        };
        let row = self
            .store
            .sync_run_by_progress(&progress_id)
            .await
            .expect("run row")
            .expect("the run is recorded");
        (row, result)
    }

    /// path -> bytes of every library file, by path.
    pub async fn files(&self) -> Vec<(String, Vec<u8>)> {
        let page = self
            .store
            .list_files(self.id, "", None, 10_000)
            .await
            .expect("list files");
        let mut out = Vec::new();
        for f in page.items {
            let mut body = self.blobs.get(&f.hash, None).await.expect("blob");
            let mut bytes = Vec::new();
            while let Some(chunk) = body.next().await {
                bytes.extend_from_slice(&chunk.expect("chunk"));
            }
            out.push((f.path, bytes));
        }
        out
    }

    pub async fn paths(&self) -> Vec<String> {
        self.files().await.into_iter().map(|(p, _)| p).collect()
    }

    /// cloudsim's request counters, keys without the provider prefix.
    pub async fn counts(&self) -> std::collections::BTreeMap<String, u64> {
        let prefix = format!("{} ", self.fx.provider);
        let counts: Value = self.fx.env.counts().await;
        counts
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_owned(), v.as_u64()?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// How many requests `key` (`"GET /drive/v3/files"`) received.
    pub async fn count(&self, key: &str) -> u64 {
        self.counts().await.get(key).copied().unwrap_or(0)
    }

    /// How many downloads cloudsim served or refused.
    pub async fn downloads(&self) -> u64 {
        self.count(download_key(self.fx.kind)).await
    }

    /// Forgets cloudsim's request counts.
    pub async fn reset_counts(&self) {
        let resp = self
            .fx
            .env
            .http
            .delete(self.fx.env.url("/_sim/requests"))
            .send()
            .await
            .expect("reset counters");
        assert!(resp.status().is_success());
    }

    /// Blobs stored that no library file uses (half-written leftovers).
    pub async fn orphans(&self) -> usize {
        let used: HashSet<String> = self
            .store
            .list_files(self.id, "", None, 10_000)
            .await
            .expect("list files")
            .items
            .into_iter()
            .map(|f| f.hash)
            .collect();
        let stored = self.blobs.list_hashes().await.expect("blob hashes");
        stored.iter().filter(|h| !used.contains(*h)).count()
    }

    /// Posts a fault for this library's provider (`provider` is filled in).
    pub async fn fault(&self, body: Value) {
        self.fx.fault(body).await;
    }

    pub async fn clear_faults(&self) {
        self.fx.env.clear_faults().await;
    }

    /// The cloudsim id of the item at `path`.
    pub async fn id_of(&self, path: &str) -> String {
        let url = self.fx.env.url(&format!(
            "/_sim/{}/{}/files/{path}",
            self.fx.provider, self.fx.drive
        ));
        let v: Value = self
            .fx
            .env
            .http
            .get(url)
            .send()
            .await
            .expect("metadata")
            .json()
            .await
            .expect("metadata json");
        v["id"].as_str().expect("id").to_owned()
    }

    /// Makes an empty folder at `path`; returns its id.
    pub async fn folder(&self, path: &str) -> String {
        let mime = match self.fx.kind {
            ProviderKind::GoogleDrive => "application/vnd.google-apps.folder",
            _ => "folder",
        };
        self.fx.put(&format!("{path}?mimeType={mime}"), b"").await
    }

    pub async fn settings(&self, body: Value) {
        self.fx.env.patch_settings(body).await;
    }
}

/// A fault body for `kind` on `endpoint`.
pub fn fault_on(endpoint: &str, kind: &str) -> Value {
    json!({"endpoint": endpoint, "kind": kind})
}
