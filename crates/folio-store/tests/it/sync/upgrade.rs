//! Migration 0009 (`content_state`, hash kinds by name) on a database made
//! by the migrations before it, holding rows in the old encodings: a
//! pending download's fake hash (SQLite only: PostgreSQL text cannot hold
//! the NUL it starts with) and hash kinds in their Rust `Debug` form.

use folio_domain::{ContentKind, ContentState, FetchFailure, HashKind, RemoteHash};

use super::raw::{Raw, Target};
use super::*;

/// The last migration before the typed store.
const BEFORE: i64 = 8;

/// A user and a library, then items as versions up to 0008 wrote them.
async fn old_rows(raw: &Raw, lib: Uuid) {
    let user = raw.uuid(Uuid::new_v4());
    let lib = raw.uuid(lib);
    raw.exec(&format!(
        "INSERT INTO users (id, username, is_admin, created_at, updated_at) \
         VALUES ({user}, 'old', FALSE, $1, $1)"
    ))
    .await;
    raw.exec(&format!(
        "INSERT INTO libraries (id, natural_id, name, type, owner_id, source, created_at, updated_at) \
         VALUES ({lib}, 'old', 'old', 'dropbox', {user}, '{{}}', $1, $1)"
    ))
    .await;
    let items = [
        // remote_id, is_folder, path, remote_hash, content_hash, content_kind, fetch_failure
        (
            "stored",
            "FALSE",
            "'a.txt'",
            "'Md5:5eb63bbb'",
            "'aa11'",
            "'file'",
            "NULL",
        ),
        (
            "xor",
            "FALSE",
            "'b.txt'",
            "'QuickXorHash:aCg:DG9='",
            "'bb22'",
            "'file'",
            "NULL",
        ),
        (
            "sha",
            "FALSE",
            "'c.txt'",
            "'Sha256:B94D'",
            "NULL",
            "'file'",
            "'temporary'",
        ),
        (
            "dbx",
            "FALSE",
            "'d.docx'",
            "'DropboxContentHash:bc62'",
            "'dd44'",
            "'export:docx'",
            "NULL",
        ),
        (
            "new",
            "FALSE",
            "'e.txt'",
            "'md5:already-a-name'",
            "NULL",
            "'none'",
            "'refused'",
        ),
        ("dir", "TRUE", "'f'", "NULL", "NULL", "NULL", "NULL"),
    ];
    for (id, folder, path, remote, content, kind, failure) in items {
        raw.exec(&format!(
            "INSERT INTO remote_items (library_id, remote_id, name, is_folder, path, remote_hash, \
             content_hash, updated_at, content_kind, fetch_failure) \
             VALUES ({lib}, '{id}', '{id}', {folder}, {path}, {remote}, {content}, $1, {kind}, {failure})"
        ))
        .await;
    }
    if raw.is_sqlite() {
        // The marker the executor kept in its tree while a download ran:
        // never meant to be stored, converted should one be.
        raw.exec(&format!(
            "INSERT INTO remote_items (library_id, remote_id, name, is_folder, path, remote_hash, \
             content_hash, updated_at, content_kind) \
             VALUES ({lib}, 'pending', 'pending', FALSE, 'g.txt', 'Md5:77', \
             char(0) || 'downloading in page 3', $1, 'file')"
        ))
        .await;
    }
}

#[tokio::test]
async fn rows_in_the_old_encodings_upgrade_and_read_back_typed() {
    let dir = TempDir::new().unwrap();
    let target = Target::new(&dir);
    let raw = target.raw().await;
    raw.migrate_to(BEFORE).await;
    let lib = Uuid::new_v4();
    old_rows(&raw, lib).await;
    let sqlite = raw.is_sqlite();
    raw.close().await;

    let store = target.store().await;
    store
        .migrate()
        .await
        .expect("0009 applies to a 0008 database");
    let items = store.list_remote_items(lib).await.expect("typed rows read");
    let by_id = |id: &str| {
        items
            .iter()
            .find(|i| i.remote_id == id)
            .unwrap_or_else(|| panic!("{id} kept"))
    };
    let hash = |kind, value: &str| Some(RemoteHash::new(kind, value));

    let stored = by_id("stored");
    assert_eq!(stored.remote_hash, hash(HashKind::Md5, "5eb63bbb"));
    assert_eq!(stored.content_state, ContentState::Stored);
    assert_eq!(stored.content_hash.as_deref(), Some("aa11"));
    assert_eq!(stored.content_kind, Some(ContentKind::File));
    assert_eq!(stored.fetch_failure, None);

    let xor = by_id("xor");
    assert_eq!(xor.remote_hash, hash(HashKind::QuickXorHash, "aCg:DG9="));
    assert_eq!(xor.content_state, ContentState::Stored);

    let sha = by_id("sha");
    assert_eq!(sha.remote_hash, hash(HashKind::Sha256, "B94D"));
    assert_eq!(sha.content_state, ContentState::Missing);
    assert_eq!(sha.content_hash, None);
    assert_eq!(sha.fetch_failure, Some(FetchFailure::Temporary));

    let dbx = by_id("dbx");
    assert_eq!(dbx.remote_hash, hash(HashKind::DropboxContentHash, "bc62"));
    assert_eq!(dbx.content_kind, Some(ContentKind::Export("docx".into())));

    let new = by_id("new");
    assert_eq!(new.remote_hash, hash(HashKind::Md5, "already-a-name"));
    assert_eq!(new.content_kind, Some(ContentKind::NoContent));
    assert_eq!(new.fetch_failure, Some(FetchFailure::Refused));
    assert_eq!(new.content_state, ContentState::Missing);

    let dir_row = by_id("dir");
    assert_eq!(
        (
            &dir_row.remote_hash,
            dir_row.content_state,
            &dir_row.content_kind
        ),
        (&None, ContentState::Missing, &None)
    );

    if sqlite {
        let pending = by_id("pending");
        assert_eq!(pending.content_state, ContentState::Pending);
        assert_eq!(pending.content_hash, None);
        assert_eq!(pending.remote_hash, hash(HashKind::Md5, "77"));
        // No bytes: the engine tries it again like any file not fetched.
        let unfetched = store.unfetched_remote_files(lib, 10).await.unwrap();
        assert!(unfetched.iter().any(|i| i.remote_id == "pending"));
    }
    assert_eq!(items.len(), if sqlite { 7 } else { 6 });

    // Written back, a row keeps its typed values.
    let mut batch_item = stored.clone();
    batch_item.remote_id = "again".into();
    batch_item.path = Some("h.txt".into());
    store
        .apply_sync_batch(
            SyncBatch {
                library_id: lib,
                item_upserts: vec![batch_item.clone()],
                ..SyncBatch::default()
            },
            |_| async { Ok(true) },
        )
        .await
        .unwrap();
    let again = store.get_remote_item(lib, "again").await.unwrap().unwrap();
    assert_eq!(
        (again.remote_hash, again.content_state, again.content_hash),
        (
            batch_item.remote_hash,
            batch_item.content_state,
            batch_item.content_hash
        )
    );
}
