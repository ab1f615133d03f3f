//! Reconcile runs (`SyncOptions { full_listing: true, .. }`): a full
//! listing despite a usable cursor, compared by remote id and hash. Of an
//! unchanged library it downloads nothing; of a library that diverged
//! behind the change feed's back (a file row lost, a stored hash that no
//! longer matches, a leftover of an item the provider no longer has) it
//! repairs exactly what differs.

use folio_connectors::ProviderKind;
use folio_store::sync::SyncBatch;

use crate::support::{Lib, setup};

async fn four_files(kind: ProviderKind) -> Lib {
    let lib = setup(kind).await;
    lib.fx.put("a.txt", b"alpha").await;
    lib.fx.put("docs/b.txt", b"bravo").await;
    lib.fx.put("docs/deep/c.txt", b"charlie").await;
    lib.fx.put("d.txt", b"delta").await;
    if kind == ProviderKind::GoogleDrive {
        lib.fx
            .put(
                "docs/Notes?mimeType=application/vnd.google-apps.document",
                b"Meeting notes",
            )
            .await;
    }
    let first = lib.sync().await;
    assert!(first.errors.is_empty(), "{kind}: {first:?}");
    lib
}

async fn unchanged_library_downloads_nothing(kind: ProviderKind) {
    let lib = four_files(kind).await;
    let files = lib.files().await;
    lib.reset_counts().await;
    let out = lib.reconcile().await;
    assert!(out.errors.is_empty(), "{kind}: {out:?}");
    assert_eq!(
        (out.added_files, out.updated_files, out.deleted_files),
        (0, 0, 0),
        "{kind}: {out:?}"
    );
    assert_eq!(out.synced_files, files.len() as i64, "{kind}");
    let counts = lib.counts().await;
    let fetched: u64 = counts
        .iter()
        .filter(|(key, _)| {
            key.ends_with("?alt=media") || key.ends_with("/export") || key.contains("/download")
        })
        .map(|(_, n)| n)
        .sum();
    assert_eq!(fetched, 0, "{kind}: {counts:?}");
    let listed: u64 = counts
        .iter()
        .filter(|(key, _)| {
            key.as_str() == "GET /drive/v3/files"
                || key.ends_with("/root/{function}")
                || key.as_str() == "POST /2/files/list_folder"
        })
        .map(|(_, n)| n)
        .sum();
    assert!(
        listed > 0,
        "{kind}: a reconcile lists everything: {counts:?}"
    );
    assert_eq!(lib.files().await, files, "{kind}");
}

#[tokio::test]
async fn drive_reconcile_of_an_unchanged_library_downloads_nothing() {
    unchanged_library_downloads_nothing(ProviderKind::GoogleDrive).await;
}

#[tokio::test]
async fn onedrive_reconcile_of_an_unchanged_library_downloads_nothing() {
    unchanged_library_downloads_nothing(ProviderKind::OneDrive).await;
}

#[tokio::test]
async fn dropbox_reconcile_of_an_unchanged_library_downloads_nothing() {
    unchanged_library_downloads_nothing(ProviderKind::Dropbox).await;
}

/// Breaks the library behind the feed's back: `a.txt`'s file row is
/// deleted, `docs/b.txt`'s stored provider hash no longer matches, and a
/// file with an item the provider never had (`ghost.txt`) is left over.
async fn diverge(lib: &Lib) {
    let kind = lib.fx.kind;
    lib.store
        .delete_file(lib.id, "a.txt")
        .await
        .expect("delete a.txt's row");
    let b_id = lib.id_of("docs/b.txt").await;
    let mut b = lib
        .store
        .get_remote_item(lib.id, &b_id)
        .await
        .expect("item")
        .expect("b.txt is known");
    let hash_kind = b
        .remote_hash
        .as_ref()
        .map(|h| h.kind)
        .unwrap_or_else(|| panic!("{kind}: b.txt has a provider hash"));
    b.remote_hash = Some(folio_domain::RemoteHash::new(hash_kind, "not-the-hash"));

    let d_id = lib.id_of("d.txt").await;
    let d = lib
        .store
        .get_remote_item(lib.id, &d_id)
        .await
        .expect("item")
        .expect("d.txt is known");
    let d_file = lib
        .store
        .get_file(lib.id, "d.txt")
        .await
        .expect("file")
        .expect("d.txt is stored");
    let ghost = folio_store::sync::RemoteItemRow {
        remote_id: "ghost-item".into(),
        name: "ghost.txt".into(),
        path: Some("ghost.txt".into()),
        path_lower: d.path_lower.as_ref().map(|_| "/ghost.txt".into()),
        ..d.clone()
    };
    let ghost_file = folio_store::FileRecord {
        path: "ghost.txt".into(),
        remote_id: Some("ghost-item".into()),
        ..d_file
    };
    let batch = SyncBatch {
        library_id: lib.id,
        file_puts: vec![ghost_file],
        item_upserts: vec![b, ghost],
        ..SyncBatch::default()
    };
    lib.store
        .apply_sync_batch(batch.clone(), |_| async { Ok(true) })
        .await
        .expect("write the divergence");
}

async fn reconcile_repairs_what_diverged(kind: ProviderKind) {
    let lib = four_files(kind).await;
    let files = lib.files().await;
    diverge(&lib).await;
    assert_eq!(
        lib.files().await.len(),
        files.len(),
        "{kind}: one lost, one extra"
    );

    // The change feed sees nothing wrong.
    let quiet = lib.sync().await;
    assert_eq!(
        (quiet.added_files, quiet.updated_files, quiet.deleted_files),
        (0, 0, 0),
        "{kind}: {quiet:?}"
    );

    let before = lib.downloads().await;
    let out = lib.reconcile().await;
    assert!(out.errors.is_empty(), "{kind}: {out:?}");
    assert_eq!(
        (out.added_files, out.updated_files),
        (1, 1),
        "{kind}: a.txt added again, docs/b.txt fetched again: {out:?}"
    );
    assert_eq!(out.deleted_files, 1, "{kind}: the ghost goes: {out:?}");
    assert_eq!(
        lib.downloads().await - before,
        2,
        "{kind}: only what differs is downloaded"
    );
    assert_eq!(lib.files().await, files, "{kind}");
    assert_eq!(out.synced_files, files.len() as i64, "{kind}");

    // Repaired: the next reconcile finds nothing to do.
    let before = lib.downloads().await;
    let again = lib.reconcile().await;
    assert_eq!(
        (again.added_files, again.updated_files, again.deleted_files),
        (0, 0, 0),
        "{kind}: {again:?}"
    );
    assert_eq!(lib.downloads().await, before, "{kind}");
}

#[tokio::test]
async fn drive_reconcile_repairs_what_diverged() {
    reconcile_repairs_what_diverged(ProviderKind::GoogleDrive).await;
}

#[tokio::test]
async fn onedrive_reconcile_repairs_what_diverged() {
    reconcile_repairs_what_diverged(ProviderKind::OneDrive).await;
}

#[tokio::test]
async fn dropbox_reconcile_repairs_what_diverged() {
    reconcile_repairs_what_diverged(ProviderKind::Dropbox).await;
}
