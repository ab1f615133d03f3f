//! Committing batches: every test here runs on both commit paths.

use super::*;

/// Runs each test on both commit paths: `on_the_chosen_path` (the SQLite
/// writer on SQLite, sqlx on PostgreSQL) and `through_sqlx`.
macro_rules! on_both_paths {
    ($($name:ident),+ $(,)?) => {
        mod on_the_chosen_path {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::CommitPath::Chosen).await
            })+
        }
        mod through_sqlx {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::CommitPath::Sqlx).await
            })+
        }
    };
}

on_both_paths!(
    a_batch_commits_files_items_and_cursor_together,
    a_large_batch_spans_several_statements_in_order,
    a_batch_whose_blob_vanished_writes_nothing,
    existing_rows_are_updated_and_a_clashing_remote_id_writes_nothing,
    a_listings_marks_are_stored_and_cleared_with_the_sync_state,
    a_batch_absorbing_the_next_commits_what_the_two_would_in_turn,
);

async fn a_batch_commits_files_items_and_cursor_together(path: CommitPath) {
    let dir = TempDir::new().unwrap();
    let store = store_on(&dir, path).await;
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
async fn a_large_batch_spans_several_statements_in_order(path: CommitPath) {
    let dir = TempDir::new().unwrap();
    let store = store_on(&dir, path).await;
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

async fn a_batch_whose_blob_vanished_writes_nothing(path: CommitPath) {
    let dir = TempDir::new().unwrap();
    let store = store_on(&dir, path).await;
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
async fn existing_rows_are_updated_and_a_clashing_remote_id_writes_nothing(path: CommitPath) {
    let dir = TempDir::new().unwrap();
    let store = store_on(&dir, path).await;
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

async fn a_listings_marks_are_stored_and_cleared_with_the_sync_state(path: CommitPath) {
    let dir = TempDir::new().unwrap();
    let store = store_on(&dir, path).await;
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

async fn a_batch_absorbing_the_next_commits_what_the_two_would_in_turn(path: CommitPath) {
    let dir = TempDir::new().unwrap();
    let store = store_on(&dir, path).await;
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
