//! The sync tables' contract (remote items, cursors, runs and leases,
//! schedules), on SQLite always and on PostgreSQL when
//! FOLIO_TEST_DATABASE_URL is set (each test in its own schema). The
//! tests that commit batches run on both commit paths (`commit.rs`).

mod commit;
mod decode;
mod raw;
mod runs;
mod upgrade;

use chrono::Utc;
use folio_domain::{
    ContentKind, ContentState, LibrarySource, LibraryType, RunPhase, RunStatus, RunTrigger,
};
use folio_store::sync::{
    BeginRun, CursorRow, NewSyncRun, RemoteItemRow, RunOutcome, RunProgress, ScheduleRow, SyncBatch,
};
use folio_store::{FileRecord, NewLibrary, NewUser, Store, StoreError};
use tempfile::TempDir;
use uuid::Uuid;

use crate::support::fresh_store;

async fn library(store: &Store) -> Uuid {
    let owner = store
        .create_user(NewUser {
            username: format!("u{}", Uuid::new_v4().simple()),
            display_name: None,
            password_hash: None,
            is_admin: false,
        })
        .await
        .unwrap()
        .id;
    store
        .create_library(NewLibrary {
            natural_id: format!("l{}", Uuid::new_v4().simple()),
            name: "lib".into(),
            description: None,
            library_type: LibraryType::GoogleDrive,
            owner_id: owner,
            source: LibrarySource::default(),
            sync_schedule: None,
        })
        .await
        .unwrap()
        .id
}

fn item(
    library_id: Uuid,
    id: &str,
    parent: Option<&str>,
    path: Option<&str>,
    folder: bool,
) -> RemoteItemRow {
    RemoteItemRow {
        library_id,
        remote_id: id.into(),
        parent_id: parent.map(Into::into),
        name: id.into(),
        is_folder: folder,
        path: path.map(Into::into),
        size: (!folder).then_some(3),
        remote_hash: None,
        version: None,
        content_hash: None,
        content_state: ContentState::Missing,
        seen_listing: None,
        updated_at: Utc::now(),
        path_lower: None,
        content_kind: Some(ContentKind::File),
        fetch_failure: None,
    }
}

fn file(library_id: Uuid, path: &str, hash: &str, remote_id: &str) -> FileRecord {
    let now = Utc::now();
    FileRecord {
        library_id,
        path: path.into(),
        size: 3,
        content_type: "text/plain".into(),
        hash: hash.into(),
        modified_at: now,
        remote_id: Some(remote_id.into()),
        synced_at: Some(now),
        created_at: now,
        updated_at: now,
    }
}

fn h(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn cursor(value: &str, complete: bool) -> CursorRow {
    CursorRow {
        cursor: value.into(),
        complete,
        listing_id: None,
        updated_at: Utc::now(),
    }
}

/// A page putting the file `x.txt` (remote item `x`) with the cursor `c1`.
fn one_file_batch(lib: Uuid) -> SyncBatch {
    SyncBatch {
        library_id: lib,
        file_puts: vec![file(lib, "x.txt", &h(1), "x")],
        item_upserts: vec![item(lib, "x", None, Some("x.txt"), false)],
        cursor: Some(cursor("c1", true)),
        ..SyncBatch::default()
    }
}

async fn paths(store: &Store, lib: Uuid) -> Vec<String> {
    store
        .list_files(lib, "", None, 100)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|f| f.path)
        .collect()
}

/// Which way a test's store commits sync batches.
#[derive(Debug, Clone, Copy)]
enum CommitPath {
    /// The store's own choice: the SQLite writer on a SQLite file, sqlx
    /// on PostgreSQL.
    Chosen,
    /// sqlx's multi-row statements, on either backend.
    Sqlx,
}

async fn store_on(dir: &TempDir, path: CommitPath) -> Store {
    let store = fresh_store(dir).await;
    match path {
        CommitPath::Chosen => store,
        CommitPath::Sqlx => store.commit_through_sqlx(),
    }
}
