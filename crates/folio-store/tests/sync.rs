//! The sync tables' contract (remote items, cursors, runs and leases,
//! schedules), on SQLite always and on PostgreSQL when
//! FOLIO_TEST_DATABASE_URL is set (each test in its own schema).

use chrono::Utc;
use folio_domain::LibrarySource;
use folio_store::sync::{
    BeginRun, CursorRow, NewSyncRun, RemoteItemRow, RunOutcome, RunProgress, ScheduleRow, SyncBatch,
};
use folio_store::{FileRecord, NewLibrary, NewUser, Store, StoreError};
use tempfile::TempDir;
use uuid::Uuid;

async fn fresh_store(dir: &TempDir) -> Store {
    let store = match std::env::var("FOLIO_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(url) => {
            Store::connect_postgres_schema(&url, &format!("t_{}", Uuid::new_v4().simple()))
                .await
                .expect("connect to PostgreSQL")
        }
        None => Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .expect("connect to SQLite"),
    };
    store.migrate().await.expect("migrate");
    store
}

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
            library_type: "google-drive".into(),
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
        seen_listing: None,
        updated_at: Utc::now(),
        path_lower: None,
        content_kind: Some("file".into()),
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

#[tokio::test]
async fn a_batch_commits_files_items_and_cursor_together() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let lib = library(&store).await;
    let first = SyncBatch {
        library_id: lib,
        file_puts: vec![
            file(lib, "d/a.txt", &h(1), "a"),
            file(lib, "d/b.txt", &h(2), "b"),
        ],
        item_upserts: vec![
            item(lib, "d", None, Some("d"), true),
            item(lib, "a", Some("d"), Some("d/a.txt"), false),
            item(lib, "b", Some("d"), Some("d/b.txt"), false),
        ],
        cursor: Some(cursor("c1", true)),
        ..SyncBatch::default()
    };
    let released = store
        .apply_sync_batch(first.clone(), |hashes| async move {
            assert_eq!(hashes.len(), 2);
            Ok(true)
        })
        .await
        .unwrap();
    assert!(released.is_empty());
    assert_eq!(paths(&store, lib).await, ["d/a.txt", "d/b.txt"]);
    assert_eq!(
        store.get_sync_cursor(lib).await.unwrap().unwrap().cursor,
        "c1"
    );
    let items = store.list_remote_items(lib).await.unwrap();
    let children = items.iter().filter(|i| i.parent_id.as_deref() == Some("d"));
    assert_eq!(children.count(), 2);
    assert_eq!(store.count_placed_remote_files(lib).await.unwrap(), 2);

    // A swap of two names, a delete and a replaced file, in one page.
    let second = SyncBatch {
        library_id: lib,
        file_moves: vec![
            ("d/a.txt".into(), "d/b.txt".into()),
            ("d/b.txt".into(), "d/a.txt".into()),
        ],
        file_puts: vec![file(lib, "d/a.txt", &h(3), "b")],
        cursor: Some(cursor("c2", true)),
        ..SyncBatch::default()
    };
    let released = store
        .apply_sync_batch(second.clone(), |_| async { Ok(true) })
        .await
        .unwrap();
    assert_eq!(released, [h(2)]);
    let b = store.get_file(lib, "d/b.txt").await.unwrap().unwrap();
    assert_eq!(b.hash, h(1));
    let third = SyncBatch {
        library_id: lib,
        file_deletes: vec!["d/b.txt".into()],
        item_deletes: vec!["a".into()],
        ..SyncBatch::default()
    };
    let released = store
        .apply_sync_batch(third.clone(), |_| async { Ok(true) })
        .await
        .unwrap();
    assert_eq!(released, [h(1)]);
    assert_eq!(paths(&store, lib).await, ["d/a.txt"]);
    assert!(store.get_remote_item(lib, "a").await.unwrap().is_none());
    assert_eq!(
        store.get_sync_cursor(lib).await.unwrap().unwrap().cursor,
        "c2"
    );
}

/// A page larger than one multi-row statement: 1,201 files put, then all
/// of them rotated one place along (a chain of moves across statement
/// boundaries), one replaced, some deleted, all in the same batch.
#[tokio::test]
async fn a_large_batch_spans_several_statements_in_order() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let lib = library(&store).await;
    let n = 1201;
    let name = |i: usize| format!("f/{i:05}");
    let hash = |i: usize| format!("{i:064x}");
    let first = SyncBatch {
        library_id: lib,
        file_puts: (0..n)
            .map(|i| file(lib, &name(i), &hash(i), &format!("r{i}")))
            .collect(),
        item_upserts: (0..n)
            .map(|i| item(lib, &format!("r{i}"), None, Some(&name(i)), false))
            .collect(),
        cursor: Some(cursor("c1", true)),
        ..SyncBatch::default()
    };
    let released = store
        .apply_sync_batch(first.clone(), |hashes| async move {
            assert_eq!(hashes.len(), n);
            Ok(true)
        })
        .await
        .unwrap();
    assert!(released.is_empty());
    assert_eq!(store.count_files(lib).await.unwrap(), n as i64);
    assert_eq!(
        store.count_placed_remote_files(lib).await.unwrap(),
        n as i64
    );

    // Every file moves to the next name (the last to the first), then the
    // file now at name(7) gets new bytes and names 0..10 except 7 go.
    let second = SyncBatch {
        library_id: lib,
        file_moves: (0..n).map(|i| (name(i), name((i + 1) % n))).collect(),
        ..SyncBatch::default()
    };
    store
        .apply_sync_batch(second.clone(), |_| async { Ok(true) })
        .await
        .unwrap();
    let third = SyncBatch {
        library_id: lib,
        file_deletes: (0..10).filter(|i| *i != 7).map(name).collect(),
        file_puts: vec![file(lib, &name(7), &hash(9999), "r6")],
        item_deletes: (0..n).map(|i| format!("r{i}")).collect(),
        ..SyncBatch::default()
    };
    let mut released = store
        .apply_sync_batch(third.clone(), |_| async { Ok(true) })
        .await
        .unwrap();
    released.sort();
    // name(i) held hash(i - 1) after the rotation (name(0) the last one's).
    let mut expected: Vec<String> = [n - 1, 0, 1, 2, 3, 4, 5, 7, 8, 6]
        .into_iter()
        .map(hash)
        .collect();
    expected.sort();
    assert_eq!(released, expected);
    assert_eq!(store.count_files(lib).await.unwrap(), (n - 9) as i64);
    assert_eq!(
        store.get_file(lib, &name(7)).await.unwrap().unwrap().hash,
        hash(9999)
    );
    assert_eq!(
        store.get_file(lib, &name(500)).await.unwrap().unwrap().hash,
        hash(499)
    );
    assert_eq!(
        store.get_file(lib, &name(501)).await.unwrap().unwrap().hash,
        hash(500)
    );
    assert_eq!(store.count_placed_remote_files(lib).await.unwrap(), 0);
}

#[tokio::test]
async fn a_batch_whose_blob_vanished_writes_nothing() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let lib = library(&store).await;
    let batch = one_file_batch(lib);
    let result = store
        .apply_sync_batch(batch.clone(), |_| async { Ok(false) })
        .await;
    assert!(matches!(result, Err(StoreError::BlobVanished(_))));
    assert!(paths(&store, lib).await.is_empty());
    assert!(store.get_sync_cursor(lib).await.unwrap().is_none());
    assert!(store.get_remote_item(lib, "x").await.unwrap().is_none());
}

/// Rows that exist are updated in place (SQLite inserts first and updates
/// when the key is taken); a put whose remote id another path holds is a
/// conflict, not an update of that path, and its batch writes nothing.
#[tokio::test]
async fn existing_rows_are_updated_and_a_clashing_remote_id_writes_nothing() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let lib = library(&store).await;
    let ok = |_| async { Ok(true) };
    let first = SyncBatch {
        library_id: lib,
        file_puts: vec![file(lib, "x.txt", &h(1), "x")],
        item_upserts: vec![item(lib, "x", None, Some("x.txt"), false)],
        ..SyncBatch::default()
    };
    store.apply_sync_batch(first, ok).await.unwrap();

    let mut renamed = item(lib, "x", Some("d"), Some("x.txt"), false);
    renamed.name = "x, renamed".into();
    let second = SyncBatch {
        library_id: lib,
        file_puts: vec![file(lib, "x.txt", &h(2), "x")],
        item_upserts: vec![renamed],
        ..SyncBatch::default()
    };
    let released = store.apply_sync_batch(second, ok).await.unwrap();
    assert_eq!(released, [h(1)]);
    assert_eq!(store.count_files(lib).await.unwrap(), 1);
    let stored = store.get_file(lib, "x.txt").await.unwrap().unwrap();
    assert_eq!(stored.hash, h(2));
    let row = store.get_remote_item(lib, "x").await.unwrap().unwrap();
    assert_eq!(
        (row.name.as_str(), row.parent_id.as_deref()),
        ("x, renamed", Some("d"))
    );

    let clash = SyncBatch {
        library_id: lib,
        file_puts: vec![file(lib, "y.txt", &h(3), "x")],
        item_upserts: vec![item(lib, "y", None, Some("y.txt"), false)],
        cursor: Some(cursor("c1", true)),
        ..SyncBatch::default()
    };
    let result = store.apply_sync_batch(clash, ok).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert_eq!(paths(&store, lib).await, ["x.txt"]);
    assert!(store.get_remote_item(lib, "y").await.unwrap().is_none());
    assert!(store.get_sync_cursor(lib).await.unwrap().is_none());
    let kept = store.get_file(lib, "x.txt").await.unwrap().unwrap();
    assert_eq!(kept.hash, h(2));
}

#[tokio::test]
async fn a_listings_marks_are_stored_and_cleared_with_the_sync_state() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let lib = library(&store).await;
    let listing = Uuid::new_v4();
    let mut seen = item(lib, "seen", None, Some("seen"), false);
    seen.seen_listing = Some(listing);
    let batch = SyncBatch {
        library_id: lib,
        item_upserts: vec![seen, item(lib, "gone", None, Some("gone"), false)],
        ..SyncBatch::default()
    };
    store
        .apply_sync_batch(batch.clone(), |_| async { Ok(true) })
        .await
        .unwrap();
    let mut marks: Vec<(String, Option<Uuid>)> = store
        .list_remote_items(lib)
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.remote_id, row.seen_listing))
        .collect();
    marks.sort();
    assert_eq!(
        marks,
        [
            ("gone".to_owned(), None),
            ("seen".to_owned(), Some(listing))
        ]
    );
    store.clear_sync_state(lib).await.unwrap();
    assert!(store.list_remote_items(lib).await.unwrap().is_empty());
}

fn new_run(lib: Uuid, owner: &str, until: i64) -> NewSyncRun {
    NewSyncRun {
        library_id: lib,
        progress_id: format!("p-{owner}"),
        trigger_kind: "manual".into(),
        lease_owner: owner.into(),
        lease_until_ms: until,
    }
}

#[tokio::test]
async fn one_running_sync_per_library_and_lapsed_leases_are_taken_over() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let lib = library(&store).await;
    let BeginRun::Started(first) = store
        .begin_sync_run(&new_run(lib, "a", 1_000), 0)
        .await
        .unwrap()
    else {
        panic!("the first run must start");
    };
    match store
        .begin_sync_run(&new_run(lib, "b", 2_000), 500)
        .await
        .unwrap()
    {
        BeginRun::Busy(run) => assert_eq!(run.progress_id, "p-a"),
        other => panic!("expected busy, got {other:?}"),
    }
    let progress = RunProgress {
        phase: "downloading".into(),
        done: 1,
        total: 4,
        bytes: 10,
        current_file: Some("x.txt".into()),
        ..RunProgress::default()
    };
    assert!(
        store
            .renew_sync_run(first.id, "a", &progress, 3_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .renew_sync_run(first.id, "b", &progress, 3_000)
            .await
            .unwrap()
    );
    let by_progress = store.sync_run_by_progress("p-a").await.unwrap().unwrap();
    assert_eq!(
        (
            by_progress.phase.as_str(),
            by_progress.done,
            by_progress.total
        ),
        ("downloading", 1, 4)
    );

    // Process "a" dies: after its lease lapses, "b" takes over.
    let BeginRun::Started(second) = store
        .begin_sync_run(&new_run(lib, "b", 9_000), 3_001)
        .await
        .unwrap()
    else {
        panic!("a lapsed lease must be taken over");
    };
    let abandoned = store.sync_run_by_progress("p-a").await.unwrap().unwrap();
    assert_eq!(abandoned.status, "failed");
    assert!(abandoned.message.unwrap().contains("lease"));
    assert!(
        !store
            .renew_sync_run(first.id, "a", &progress, 10_000)
            .await
            .unwrap()
    );

    let outcome = RunOutcome {
        status: "done".into(),
        synced_files: 4,
        added_files: 4,
        errors: "[]".into(),
        ..RunOutcome::default()
    };
    store.finish_sync_run(second.id, &outcome).await.unwrap();
    assert!(store.running_sync_run(lib).await.unwrap().is_none());
    let failed = store
        .record_sync_run(
            lib,
            "schedule",
            "failed",
            "no connection: reconnect the library",
        )
        .await
        .unwrap();
    let runs = store.list_sync_runs(lib, 10).await.unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0].id, failed.id);
    assert_eq!(runs[1].synced_files, 4);
    assert!(matches!(
        store
            .begin_sync_run(&new_run(lib, "c", 20_000), 10_000)
            .await
            .unwrap(),
        BeginRun::Started(_)
    ));
}

#[tokio::test]
async fn schedule_ticks_are_claimed_once() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let lib = library(&store).await;
    let row = ScheduleRow {
        library_id: lib,
        next_run_ms: 1_000,
        next_reconcile_ms: 86_400_000,
    };
    store.put_sync_schedule(&row).await.unwrap();
    assert!(store.due_sync_schedules(999, 10).await.unwrap().is_empty());
    assert_eq!(
        store.due_sync_schedules(1_000, 10).await.unwrap(),
        std::slice::from_ref(&row)
    );
    assert!(store.claim_sync_schedule(lib, 1_000, 61_000).await.unwrap());
    assert!(!store.claim_sync_schedule(lib, 1_000, 61_000).await.unwrap());
    assert_eq!(
        store
            .get_sync_schedule(lib)
            .await
            .unwrap()
            .unwrap()
            .next_run_ms,
        61_000
    );
    store.delete_sync_schedule(lib).await.unwrap();
    assert!(store.get_sync_schedule(lib).await.unwrap().is_none());
}

/// Sets or clears a library's `sync_schedule` column only (as another
/// replica, or an older version, might), leaving `sync_schedules` alone.
async fn set_schedule_column(store: &Store, lib: Uuid, minutes: Option<u32>) {
    store
        .update_library(
            lib,
            folio_store::LibraryPatch {
                sync_schedule: Some(minutes.map(|m| folio_domain::SyncSchedule {
                    interval_minutes: m,
                })),
                ..folio_store::LibraryPatch::default()
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn schedule_rows_follow_the_libraries_schedule_column() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let scheduled = library(&store).await;
    let unscheduled = library(&store).await;
    let kept = library(&store).await;
    set_schedule_column(&store, scheduled, Some(5)).await;
    set_schedule_column(&store, kept, Some(5)).await;
    let existing = ScheduleRow {
        library_id: kept,
        next_run_ms: 7,
        next_reconcile_ms: 8,
    };
    store.put_sync_schedule(&existing).await.unwrap();

    assert_eq!(
        store
            .insert_missing_sync_schedules(1_000, 2_000)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.get_sync_schedule(scheduled).await.unwrap(),
        Some(ScheduleRow {
            library_id: scheduled,
            next_run_ms: 1_000,
            next_reconcile_ms: 2_000
        })
    );
    assert_eq!(store.get_sync_schedule(unscheduled).await.unwrap(), None);
    assert_eq!(store.get_sync_schedule(kept).await.unwrap(), Some(existing));
    assert_eq!(
        store
            .insert_missing_sync_schedules(1_000, 2_000)
            .await
            .unwrap(),
        0
    );

    assert_eq!(store.delete_unscheduled_sync_schedules().await.unwrap(), 0);
    set_schedule_column(&store, scheduled, None).await;
    assert_eq!(store.delete_unscheduled_sync_schedules().await.unwrap(), 1);
    assert_eq!(store.get_sync_schedule(scheduled).await.unwrap(), None);
    assert!(store.get_sync_schedule(kept).await.unwrap().is_some());

    assert!(store.set_next_reconcile(kept, 99_000).await.unwrap());
    assert_eq!(
        store
            .get_sync_schedule(kept)
            .await
            .unwrap()
            .unwrap()
            .next_reconcile_ms,
        99_000
    );
    assert!(!store.set_next_reconcile(scheduled, 1).await.unwrap());

    store.delete_library(kept).await.unwrap();
    assert_eq!(
        store.get_sync_schedule(kept).await.unwrap(),
        None,
        "deleting a library drops its schedule row (ON DELETE CASCADE)"
    );
}

/// What a library holds, for comparing two ways of writing it: files with
/// their bytes, items with their paths and hashes, and the cursor.
async fn contents(
    store: &Store,
    lib: Uuid,
) -> (Vec<(String, String)>, Vec<String>, Option<String>) {
    let files = store
        .list_files(lib, "", None, 100)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|f| (f.path, f.hash))
        .collect();
    let items = store
        .list_remote_items(lib)
        .await
        .unwrap()
        .into_iter()
        .map(|i| format!("{} {:?} {:?}", i.remote_id, i.path, i.content_hash))
        .collect();
    let cursor = store.get_sync_cursor(lib).await.unwrap().map(|c| c.cursor);
    (files, items, cursor)
}

#[tokio::test]
async fn a_batch_absorbing_the_next_commits_what_the_two_would_in_turn() {
    let dir = TempDir::new().unwrap();
    let store = fresh_store(&dir).await;
    let (in_turn, merged) = (library(&store).await, library(&store).await);
    let base = |lib| SyncBatch {
        library_id: lib,
        file_puts: vec![
            file(lib, "old.txt", &h(1), "o"),
            file(lib, "from.txt", &h(2), "m"),
        ],
        item_upserts: vec![
            item(lib, "o", None, Some("old.txt"), false),
            item(lib, "m", None, Some("from.txt"), false),
        ],
        cursor: Some(cursor("c0", true)),
        ..SyncBatch::default()
    };
    // A page with a delete, a move and puts, then a page of puts and
    // upserts that replaces some of them (same path, same item) and keeps
    // the cursor (None).
    let first = |lib| SyncBatch {
        library_id: lib,
        file_deletes: vec!["old.txt".into()],
        file_moves: vec![("from.txt".into(), "to.txt".into())],
        file_puts: vec![
            file(lib, "a.txt", &h(3), "a"),
            file(lib, "b.txt", &h(4), "b"),
        ],
        item_deletes: vec!["o".into()],
        item_upserts: vec![
            item(lib, "m", None, Some("to.txt"), false),
            item(lib, "a", None, Some("a.txt"), false),
            item(lib, "b", None, Some("b.txt"), false),
        ],
        cursor: Some(cursor("c1", false)),
        ..SyncBatch::default()
    };
    let second = |lib| SyncBatch {
        library_id: lib,
        file_puts: vec![
            file(lib, "a.txt", &h(5), "a"),
            file(lib, "old.txt", &h(6), "n"),
        ],
        item_upserts: vec![
            item(lib, "a", None, Some("a.txt"), false),
            item(lib, "n", None, Some("old.txt"), false),
        ],
        cursor: None,
        ..SyncBatch::default()
    };
    let stored = |_| async { Ok(true) };
    let mut released_in_turn = Vec::new();
    let mut released_merged = Vec::new();
    for lib in [in_turn, merged] {
        store.apply_sync_batch(base(lib), stored).await.unwrap();
    }
    for batch in [first(in_turn), second(in_turn)] {
        released_in_turn.extend(store.apply_sync_batch(batch.clone(), stored).await.unwrap());
    }
    let mut gathered = first(merged);
    assert!(gathered.can_absorb(&second(merged)));
    gathered.absorb(second(merged));
    assert_eq!(gathered.rows(), 13);
    released_merged.extend(
        store
            .apply_sync_batch(gathered.clone(), stored)
            .await
            .unwrap(),
    );

    released_in_turn.sort();
    released_merged.sort();
    assert_eq!(released_merged, released_in_turn);
    assert_eq!(
        released_in_turn,
        [h(1), h(3)],
        "the deleted and the replaced bytes"
    );
    let expected = contents(&store, in_turn).await;
    assert_eq!(expected.0.len(), 4);
    assert_eq!(expected.2.as_deref(), Some("c1"));
    assert_eq!(contents(&store, merged).await, expected);

    // A later page that deletes or moves cannot be absorbed: its deletes
    // would run before the earlier page's puts.
    let deleting = SyncBatch {
        library_id: merged,
        file_deletes: vec!["a.txt".into()],
        ..SyncBatch::default()
    };
    let moving = SyncBatch {
        library_id: merged,
        file_moves: vec![("a.txt".into(), "z.txt".into())],
        ..SyncBatch::default()
    };
    let dropping = SyncBatch {
        library_id: merged,
        item_deletes: vec!["a".into()],
        ..SyncBatch::default()
    };
    for later in [deleting, moving, dropping] {
        assert!(!first(merged).can_absorb(&later), "{later:?}");
    }
    assert!(
        !first(merged).can_absorb(&second(in_turn)),
        "another library"
    );
}

/// An in-memory SQLite database (`sqlite::memory:`) lives in the pool's
/// connections only: sync batches must land in it, not in another database
/// of the same name.
#[tokio::test]
async fn an_in_memory_sqlite_store_commits_sync_batches() {
    let store = Store::connect("sqlite::memory:")
        .await
        .expect("connect to SQLite in memory");
    store.migrate().await.expect("migrate");
    let lib = library(&store).await;
    let batch = one_file_batch(lib);
    store
        .apply_sync_batch(batch, |_| async { Ok(true) })
        .await
        .expect("commit");
    assert_eq!(paths(&store, lib).await, ["x.txt"]);
    assert!(store.get_remote_item(lib, "x").await.unwrap().is_some());
    assert_eq!(
        store.get_sync_cursor(lib).await.unwrap().unwrap().cursor,
        "c1"
    );
}
