//! Test helpers: a fresh store per test on SQLite or PostgreSQL, fresh blob
//! storage, the real server on a random port ([`TestApp`], its API calls in
//! `api`), and cloudsim with libraries connected to it ([`sim`]).
//!
//! The backend comes from the environment: with `FOLIO_TEST_DATABASE_URL`
//! set (a `postgres://` URL) every test gets its own PostgreSQL schema;
//! without it, its own SQLite file, and the first test of the process says
//! loudly that the PostgreSQL suite did not run.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Once;

use folio_blobs::{BlobConfig, BlobStore};
use folio_server::auth::{TOKEN_PREFIX, hash_secret, new_secret};
use folio_server::{AppState, Application, ServerConfig};
use folio_store::{NewUser, Store};
use tempfile::TempDir;
use uuid::Uuid;

mod api;
pub mod sim;

/// The variable naming the PostgreSQL server for the PostgreSQL suite.
pub const POSTGRES_ENV: &str = "FOLIO_TEST_DATABASE_URL";

static ANNOUNCE: Once = Once::new();

/// The PostgreSQL URL to test against, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// Writes straight to the process's stderr, which the test harness does not
/// capture, so the line shows up in every run.
pub fn say_loudly(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn announce_backend() {
    ANNOUNCE.call_once(|| match postgres_url() {
        Some(_) => say_loudly("folio tests: metadata store = PostgreSQL (from FOLIO_TEST_DATABASE_URL)"),
        None => say_loudly(
            "folio tests: metadata store = SQLite. PostgreSQL suite NOT RUN: set FOLIO_TEST_DATABASE_URL=postgres://... to run it",
        ),
    });
}

/// A fresh, migrated store: its own PostgreSQL schema when
/// `FOLIO_TEST_DATABASE_URL` is set, else a SQLite file in `dir`.
pub async fn fresh_store(dir: &TempDir) -> anyhow::Result<Store> {
    announce_backend();
    let store = match postgres_url() {
        Some(url) => {
            let schema = format!("t_{}", Uuid::new_v4().simple());
            Store::connect_postgres_schema(&url, &schema).await?
        }
        None => {
            let path = dir.path().join("folio.db");
            Store::connect(&format!("sqlite://{}", path.display())).await?
        }
    };
    store.migrate().await?;
    Ok(store)
}

/// Fresh local blob storage under `dir`.
pub async fn fresh_blobs(dir: &TempDir) -> anyhow::Result<BlobStore> {
    let root = dir.path().join("blobs");
    Ok(BlobStore::open(&BlobConfig::Fs { root }).await?)
}

/// The real server, on 127.0.0.1 and a random port, with its own store and
/// storage, and an admin token.
pub struct TestApp {
    pub addr: SocketAddr,
    pub base_url: String,
    pub admin_token: String,
    pub admin_id: Uuid,
    pub store: Store,
    pub blobs: BlobStore,
    pub client: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    pub dir: TempDir,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(ServerConfig::default()).await
    }

    /// # Panics
    /// When the server cannot start: a test cannot go on without it.
    pub async fn spawn_with(config: ServerConfig) -> Self {
        let dir = TempDir::new().expect("temp dir");
        let store = fresh_store(&dir).await.expect("test store");
        let blobs = fresh_blobs(&dir).await.expect("test blob storage");
        let admin_token = new_secret(TOKEN_PREFIX);
        let admin = store
            .bootstrap_admin(
                NewUser {
                    username: "admin".into(),
                    display_name: Some("Administrator".into()),
                    password_hash: None,
                    is_admin: true,
                },
                "admin",
                &hash_secret(&admin_token),
            )
            .await
            .expect("bootstrap admin")
            .expect("empty store has no admin yet");
        let (addr, shutdown) = serve(AppState::new(store.clone(), blobs.clone(), config)).await;
        Self {
            addr,
            base_url: format!("http://{addr}"),
            admin_token,
            admin_id: admin.id,
            store,
            blobs,
            client: reqwest::Client::new(),
            shutdown: Some(shutdown),
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A request as the admin.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.as_token(&self.admin_token, method, path)
    }

    /// A request with a given Bearer token.
    pub fn as_token(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
    }

    /// Creates a user through the API and returns its id and a token.
    pub async fn create_user(&self, username: &str) -> (Uuid, String) {
        let user: serde_json::Value = self
            .admin(reqwest::Method::POST, "/api/users")
            .json(&serde_json::json!({ "username": username, "password": "password-123" }))
            .send()
            .await
            .expect("create user")
            .error_for_status()
            .expect("create user status")
            .json()
            .await
            .expect("user json");
        let id: Uuid = user["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("user id");
        let token: serde_json::Value = self
            .admin(reqwest::Method::POST, &format!("/api/users/{id}/tokens"))
            .json(&serde_json::json!({ "name": "test" }))
            .send()
            .await
            .expect("create token")
            .error_for_status()
            .expect("create token status")
            .json()
            .await
            .expect("token json");
        let token = token["token"].as_str().expect("token").to_owned();
        (id, token)
    }

    /// Creates a library as the given token's user and returns its JSON.
    pub async fn create_library(&self, token: &str, body: serde_json::Value) -> serde_json::Value {
        let response = self
            .as_token(token, reqwest::Method::POST, "/api/libraries")
            .json(&body)
            .send()
            .await
            .expect("create library");
        assert_eq!(response.status(), 201, "create library");
        response.json().await.expect("library json")
    }
}

/// Serves `state` on 127.0.0.1 and a random port until the sender is used
/// or dropped.
///
/// # Panics
/// When the server cannot bind.
async fn serve(state: AppState) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let app = Application::build(state, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("bind");
    let addr = app.local_addr().expect("local addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.serve_until(
        async move {
            let _ = rx.await;
        },
        std::time::Duration::from_secs(5),
    ));
    (addr, tx)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// One fresh database that several stores open at once, as the replicas of
/// one deployment do: a SQLite file, or (with `FOLIO_TEST_DATABASE_URL`) a
/// PostgreSQL schema. Its directory also holds the blob storage they share.
pub struct SharedDatabase {
    pub dir: TempDir,
    schema: String,
}

impl SharedDatabase {
    pub fn new() -> anyhow::Result<Self> {
        announce_backend();
        Ok(Self {
            dir: TempDir::new()?,
            schema: format!("t_{}", Uuid::new_v4().simple()),
        })
    }

    /// A store with its own connection pool on this database, migrated.
    pub async fn open(&self) -> anyhow::Result<Store> {
        let store = match postgres_url() {
            Some(url) => Store::connect_postgres_schema(&url, &self.schema).await?,
            None => {
                let path = self.dir.path().join("folio.db");
                Store::connect(&format!("sqlite://{}", path.display())).await?
            }
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The blob storage every replica of this database shares.
    pub async fn blobs(&self) -> anyhow::Result<BlobStore> {
        fresh_blobs(&self.dir).await
    }
}

impl TestApp {
    /// The real server as one replica on `db`, with its own store (pool)
    /// and the shared blob storage. The first replica creates the admin;
    /// every replica gets an admin token of its own, valid on all of them.
    ///
    /// # Panics
    /// When the server cannot start: a test cannot go on without it.
    pub async fn spawn_replica(db: &SharedDatabase, config: ServerConfig) -> Self {
        let store = db.open().await.expect("replica store");
        let blobs = db.blobs().await.expect("shared blob storage");
        let admin_token = new_secret(TOKEN_PREFIX);
        let admin = NewUser {
            username: "admin".into(),
            display_name: Some("Administrator".into()),
            password_hash: None,
            is_admin: true,
        };
        let created = store
            .bootstrap_admin(admin, "admin", &hash_secret(&admin_token))
            .await
            .expect("bootstrap admin");
        let admin_id = match created {
            Some(admin) => admin.id,
            None => {
                let admin = store
                    .get_user_by_username("admin")
                    .await
                    .expect("read admin")
                    .expect("the first replica created the admin");
                store
                    .create_token(admin.id, "replica", &hash_secret(&admin_token))
                    .await
                    .expect("replica admin token");
                admin.id
            }
        };
        let (addr, shutdown) = serve(AppState::new(store.clone(), blobs.clone(), config)).await;
        Self {
            addr,
            base_url: format!("http://{addr}"),
            admin_token,
            admin_id,
            store,
            blobs,
            client: reqwest::Client::new(),
            shutdown: Some(shutdown),
            dir: TempDir::new().expect("temp dir"),
        }
    }
}
