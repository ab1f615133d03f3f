//! The store's contract, run on SQLite always and on PostgreSQL when
//! FOLIO_TEST_DATABASE_URL is set (each test in its own schema).

mod connections;
mod plans;

use std::io::Write;

use chrono::Utc;
use folio_domain::{LibrarySource, LibraryType, ShareLevel, SyncSchedule};
use folio_store::{FileRecord, LibraryPatch, NewLibrary, NewUser, Store, StoreError};
use tempfile::TempDir;
use uuid::Uuid;

use crate::support::{fresh_store, postgres_url};

async fn user(store: &Store, name: &str) -> Uuid {
    store
        .create_user(NewUser {
            username: name.into(),
            display_name: None,
            password_hash: None,
            is_admin: false,
        })
        .await
        .unwrap()
        .id
}

async fn library(store: &Store, owner: Uuid, natural_id: &str) -> Uuid {
    store
        .create_library(NewLibrary {
            natural_id: natural_id.into(),
            name: natural_id.into(),
            description: None,
            library_type: LibraryType::Local,
            owner_id: owner,
            source: LibrarySource::default(),
            sync_schedule: None,
        })
        .await
        .unwrap()
        .id
}

fn file(library_id: Uuid, path: &str, hash: &str) -> FileRecord {
    let now = Utc::now();
    FileRecord {
        library_id,
        path: path.into(),
        size: 3,
        content_type: "text/plain".into(),
        hash: hash.into(),
        modified_at: now,
        remote_id: None,
        synced_at: None,
        created_at: now,
        updated_at: now,
    }
}

fn h(n: u8) -> String {
    format!("{:064x}", n)
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    store.migrate().await.unwrap();
    assert_eq!(store.count_users().await.unwrap(), 0);
}

#[tokio::test]
async fn bootstrap_admin_happens_once() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let admin = || NewUser {
        username: "admin".into(),
        display_name: None,
        password_hash: None,
        is_admin: true,
    };
    let first = store.bootstrap_admin(admin(), "t", "hash-1").await.unwrap();
    assert!(first.is_some());
    let second = store.bootstrap_admin(admin(), "t", "hash-2").await.unwrap();
    assert!(second.is_none());
    assert_eq!(store.count_users().await.unwrap(), 1);
    assert!(store.user_by_token_hash("hash-1").await.unwrap().is_some());
    assert!(store.user_by_token_hash("hash-2").await.unwrap().is_none());
}

#[tokio::test]
async fn users_tokens_and_sessions() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let alice = user(&store, "alice").await;
    let dup = store
        .create_user(NewUser {
            username: "alice".into(),
            display_name: None,
            password_hash: None,
            is_admin: false,
        })
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(what)) if what.contains("username")));
    store.create_token(alice, "t", "tok-hash").await.unwrap();
    assert_eq!(
        store
            .user_by_token_hash("tok-hash")
            .await
            .unwrap()
            .map(|u| u.id),
        Some(alice)
    );

    store
        .create_session(alice, "live", Utc::now() + chrono::Duration::hours(1))
        .await
        .unwrap();
    store
        .create_session(alice, "dead", Utc::now() - chrono::Duration::hours(1))
        .await
        .unwrap();
    assert!(store.user_by_session_hash("live").await.unwrap().is_some());
    assert!(store.user_by_session_hash("dead").await.unwrap().is_none());
    store.delete_session("live").await.unwrap();
    assert!(store.user_by_session_hash("live").await.unwrap().is_none());
}

#[tokio::test]
async fn users_are_listed_a_page_at_a_time_in_username_order() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    for name in ["carol", "alice", "bob", "dave", "erin"] {
        user(&store, name).await;
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list_users(after.as_deref(), 2).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|u| u.username.clone()));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ["alice", "bob", "carol", "dave", "erin"]);
    let all = store.list_users(None, 5).await.unwrap();
    assert_eq!(all.items.len(), 5);
    assert_eq!(all.next_after, None, "no empty page after an exact fit");
}

#[tokio::test]
async fn setting_a_password_ends_the_users_sessions_but_not_its_tokens() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    store.create_token(alice, "t", "alice-token").await.unwrap();
    let later = Utc::now() + chrono::Duration::hours(1);
    store
        .create_session(alice, "alice-session", later)
        .await
        .unwrap();
    store
        .create_session(bob, "bob-session", later)
        .await
        .unwrap();

    store.set_password(alice, Some("new-hash")).await.unwrap();
    let updated = store.get_user(alice).await.unwrap();
    assert_eq!(updated.password_hash.as_deref(), Some("new-hash"));
    assert!(
        store
            .user_by_session_hash("alice-session")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .user_by_session_hash("bob-session")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .user_by_token_hash("alice-token")
            .await
            .unwrap()
            .is_some()
    );

    let missing = store.set_password(Uuid::now_v7(), Some("x")).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound("user"))),
        "{missing:?}"
    );
}

#[tokio::test]
async fn libraries_shares_and_visibility() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let owner = user(&store, "owner").await;
    let other = user(&store, "other").await;
    let lib = library(&store, owner, "docs").await;
    assert!(store.find_library("docs").await.unwrap().is_some());
    assert!(
        store
            .find_library(&lib.to_string())
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.find_library("nope").await.unwrap().is_none());

    assert_eq!(
        store.list_libraries_for(other, false).await.unwrap().len(),
        0
    );
    assert_eq!(
        store.list_libraries_for(other, true).await.unwrap().len(),
        1
    );
    store.put_share(lib, other, ShareLevel::Read).await.unwrap();
    store
        .put_share(lib, other, ShareLevel::Write)
        .await
        .unwrap();
    assert_eq!(
        store.share_level(lib, other).await.unwrap(),
        Some(ShareLevel::Write)
    );
    assert_eq!(
        store.list_libraries_for(other, false).await.unwrap().len(),
        1
    );
    let shares = store.list_shares(lib).await.unwrap();
    assert_eq!(shares.len(), 1);
    assert_eq!(
        (
            shares[0].user_id,
            shares[0].username.as_str(),
            shares[0].level.as_str()
        ),
        (other, "other", "write")
    );
    assert!(store.delete_share(lib, other).await.unwrap());
    assert!(!store.delete_share(lib, other).await.unwrap());

    let patched = store
        .update_library(
            lib,
            LibraryPatch {
                name: Some("Docs".into()),
                sync_schedule: Some(Some(SyncSchedule {
                    interval_minutes: 15,
                })),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.name, "Docs");
    let reread = store.library_by_id(lib).await.unwrap().unwrap();
    assert_eq!(reread.sync_schedule.map(|s| s.0.interval_minutes), Some(15));

    let second = library(&store, owner, "second").await;
    let clash = store
        .update_library(
            second,
            LibraryPatch {
                natural_id: Some("docs".into()),
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(clash, Err(StoreError::Conflict(what)) if what.contains("naturalId")));
}

#[tokio::test]
async fn files_page_in_byte_order_with_prefix() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let owner = user(&store, "o").await;
    let lib = library(&store, owner, "l").await;
    let paths = ["B.txt", "a.txt", "a/b.txt", "a/c.txt", "ä.txt", "Z/z.txt"];
    for p in paths {
        store
            .put_file(&file(lib, p, &h(1)), || async { Ok(true) })
            .await
            .unwrap();
    }
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list_files(lib, "", after.as_deref(), 2)
            .await
            .unwrap();
        all.extend(page.items.iter().map(|f| f.path.clone()));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut expected: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
    expected.sort(); // Rust sorts strings byte-wise, like both backends here
    assert_eq!(all, expected);
    let under_a = store.list_files(lib, "a/", None, 10).await.unwrap();
    assert_eq!(under_a.items.len(), 2);
    assert!(under_a.next_after.is_none());
}

#[tokio::test]
async fn put_file_reports_replaced_hash_and_refuses_vanished_blobs() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let owner = user(&store, "o").await;
    let lib = library(&store, owner, "l").await;
    let first = store
        .put_file(&file(lib, "x", &h(1)), || async { Ok(true) })
        .await
        .unwrap();
    assert_eq!(first, None);
    let same = store
        .put_file(&file(lib, "x", &h(1)), || async { Ok(true) })
        .await
        .unwrap();
    assert_eq!(same, None);
    let replaced = store
        .put_file(&file(lib, "x", &h(2)), || async { Ok(true) })
        .await
        .unwrap();
    assert_eq!(replaced, Some(h(1)));

    let vanished = store
        .put_file(&file(lib, "y", &h(3)), || async { Ok(false) })
        .await;
    assert!(matches!(vanished, Err(StoreError::BlobVanished(_))));
    assert!(
        store.get_file(lib, "y").await.unwrap().is_none(),
        "nothing was written"
    );
    assert!(!store.blob_row_exists(&h(3)).await.unwrap());
}

#[tokio::test]
async fn blobs_are_removed_only_when_unused() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let owner = user(&store, "o").await;
    let lib = library(&store, owner, "l").await;
    let other = library(&store, owner, "m").await;
    store
        .put_file(&file(lib, "x", &h(1)), || async { Ok(true) })
        .await
        .unwrap();
    store
        .put_file(&file(other, "x", &h(1)), || async { Ok(true) })
        .await
        .unwrap();
    store
        .put_file(&file(lib, "only", &h(2)), || async { Ok(true) })
        .await
        .unwrap();

    let deleted = std::sync::atomic::AtomicUsize::new(0);
    let removed = store
        .remove_blob_if_orphan(&h(1), || async {
            deleted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        })
        .await
        .unwrap();
    assert!(!removed);
    assert_eq!(
        deleted.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a used blob is never deleted"
    );

    let mut hashes = store.delete_library(lib).await.unwrap();
    hashes.sort();
    assert_eq!(hashes, vec![h(1), h(2)]);
    assert_eq!(store.orphan_blob_hashes(10).await.unwrap(), vec![h(2)]);
    assert!(
        store
            .remove_blob_if_orphan(&h(2), || async { Ok(()) })
            .await
            .unwrap()
    );
    assert!(
        !store
            .remove_blob_if_orphan(&h(1), || async { Ok(()) })
            .await
            .unwrap()
    );
    assert!(store.orphan_blob_hashes(10).await.unwrap().is_empty());
    assert_eq!(store.count_files(other).await.unwrap(), 1);

    let failing = store
        .remove_blob_if_orphan(&h(9), || async { Err("storage down".to_owned()) })
        .await;
    assert!(matches!(failing, Err(StoreError::Blob(_))));
}

/// Both migration folders must describe the same tables and columns.
#[tokio::test]
async fn sqlite_and_postgres_schemas_match() {
    let Some(url) = postgres_url() else {
        let _ = writeln!(
            std::io::stderr(),
            "schema parity NOT CHECKED: set FOLIO_TEST_DATABASE_URL to compare SQLite with PostgreSQL"
        );
        return;
    };
    let dir = TempDir::new().unwrap();
    let sqlite = Store::connect(&format!("sqlite://{}", dir.path().join("p.db").display()))
        .await
        .unwrap();
    sqlite.migrate().await.unwrap();
    let pg = Store::connect_postgres_schema(&url, &format!("t_{}", Uuid::new_v4().simple()))
        .await
        .unwrap();
    pg.migrate().await.unwrap();
    assert_eq!(
        sqlite.schema_columns().await.unwrap(),
        pg.schema_columns().await.unwrap()
    );
}
