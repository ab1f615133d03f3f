//! The executor's overlapping pages (a page downloads while the ones before
//! it commit and the one after it is listed): what a failure in the middle
//! keeps, and bytes one page lets go of while the next page needs them.
//! Each runs twice: with pages gathered into commits (the default) and
//! with every page committed on its own (`commit_rows: 1`).

use folio_connectors::ProviderKind;
use folio_sync::executor::{SyncError, SyncOptions};
use serde_json::json;

use crate::support::{Lib, setup};

/// The options of the failing runs: default, or one commit per page.
fn committing_every(commit_rows: Option<usize>) -> SyncOptions {
    let defaults = SyncOptions::default();
    SyncOptions {
        commit_rows: commit_rows.unwrap_or(defaults.commit_rows),
        ..defaults
    }
}

/// Twelve files at the top of the drive, listed five a page.
async fn twelve_files() -> Lib {
    let mut lib = setup(ProviderKind::GoogleDrive).await;
    lib.page_size = 5;
    for i in 0..12 {
        lib.fx
            .put(&format!("f{i:02}.txt"), format!("file {i}").as_bytes())
            .await;
    }
    lib
}

/// The listing of the second page (fetched while the first downloads)
/// keeps failing: the run fails, the first page stays committed, and the
/// next sync brings the rest without fetching the first page's files again.
#[tokio::test]
async fn a_listing_failing_ahead_keeps_the_page_committing_meanwhile() {
    listing_failing_ahead(None).await;
    listing_failing_ahead(Some(1)).await;
}

async fn listing_failing_ahead(commit_rows: Option<usize>) {
    let lib = twelve_files().await;
    lib.fault(json!({"endpoint": "GET /drive/v3/files", "kind": "server_error", "skip": 1}))
        .await;
    let err = lib
        .try_sync_with(committing_every(commit_rows))
        .await
        .expect_err("a listing that keeps failing stops the sync");
    assert!(
        matches!(&err, SyncError::Provider(e) if e.is_temporary()),
        "{err}"
    );
    let kept = lib.paths().await;
    assert_eq!(kept.len(), 5, "the first page: {kept:?}");
    assert_eq!(lib.orphans().await, 0);

    lib.clear_faults().await;
    lib.reset_counts().await;
    let rest = lib.sync().await;
    assert!(rest.errors.is_empty(), "{rest:?}");
    assert_eq!((rest.added_files, rest.synced_files), (7, 12), "{rest:?}");
    assert_eq!(
        lib.downloads().await,
        7,
        "stored files are not fetched again"
    );
    assert_eq!(lib.orphans().await, 0);
}

/// A download of the middle or the last page keeps failing at the
/// provider: it is a per-file error, every other file of every page is
/// kept, nothing it stored is left over, and the next sync fetches exactly
/// that file.
#[tokio::test]
async fn a_page_failing_one_download_keeps_everything_else() {
    for path in ["f07.txt", "f11.txt"] {
        page_failing_one_download(path, None).await;
        page_failing_one_download(path, Some(1)).await;
    }
}

async fn page_failing_one_download(path: &str, commit_rows: Option<usize>) {
    let lib = twelve_files().await;
    let kept = sync_failing_to_download(&lib, path, commit_rows).await;
    assert!(!kept.contains(&path.to_owned()), "{kept:?}");
    assert_eq!(kept.len(), 11, "all but {path}: {kept:?}");
    assert_eq!(lib.orphans().await, 0, "nothing of {path} is left over");
    sync_the_rest(&lib, kept.len()).await;
}

/// Runs a sync whose download of `path` keeps failing at the provider,
/// which reports it as a per-file error; returns the paths it kept.
async fn sync_failing_to_download(
    lib: &Lib,
    path: &str,
    commit_rows: Option<usize>,
) -> Vec<String> {
    let id = lib.id_of(path).await;
    lib.fault(json!({
        "endpoint": "GET /drive/v3/files/{fileId}?alt=media",
        "kind": "server_error",
        "itemId": id,
    }))
    .await;
    let out = lib
        .try_sync_with(committing_every(commit_rows))
        .await
        .expect("a download that keeps failing is a per-file error");
    assert_eq!(out.errors.len(), 1, "{out:?}");
    assert_eq!(
        (
            out.errors[0].path.as_str(),
            out.errors[0].remote_id.as_str()
        ),
        (path, id.as_str())
    );
    lib.paths().await
}

/// With the fault gone, the next sync of the twelve files fetches exactly
/// the ones not `kept`.
async fn sync_the_rest(lib: &Lib, kept: usize) {
    lib.clear_faults().await;
    lib.reset_counts().await;
    let rest = lib.sync().await;
    assert_eq!(rest.synced_files, 12, "{rest:?}");
    assert_eq!(lib.downloads().await as usize, 12 - kept);
}

/// A page replaces a file's bytes while the next page (downloading as the
/// first commits) holds a new file with those very bytes: they stay stored
/// for it, and nothing else is left over.
#[tokio::test]
async fn bytes_released_by_a_page_and_needed_by_the_next_stay() {
    released_bytes_needed_next(None).await;
    released_bytes_needed_next(Some(1)).await;
}

async fn released_bytes_needed_next(commit_rows: Option<usize>) {
    let mut lib = setup(ProviderKind::GoogleDrive).await;
    lib.page_size = 5;
    lib.fx.put("a.txt", b"shared bytes").await;
    assert_eq!(lib.sync().await.added_files, 1);

    // The change feed: a.txt's new bytes and four files (page one), then a
    // file with a.txt's old bytes (page two).
    lib.fx.put("a.txt", b"new bytes").await;
    for i in 0..4 {
        lib.fx
            .put(&format!("n{i}.txt"), format!("n{i}").as_bytes())
            .await;
    }
    lib.fx.put("z.txt", b"shared bytes").await;
    let out = lib.sync_with(committing_every(commit_rows)).await;
    assert!(out.errors.is_empty(), "{out:?}");
    assert_eq!((out.added_files, out.updated_files), (5, 1), "{out:?}");
    let files = lib.files().await;
    let z = files.iter().find(|(p, _)| p == "z.txt").expect("z.txt");
    assert_eq!(z.1, b"shared bytes");
    let a = files.iter().find(|(p, _)| p == "a.txt").expect("a.txt");
    assert_eq!(a.1, b"new bytes");
    assert_eq!(lib.orphans().await, 0);
}

/// A page is planned while the page before it still downloads: a folder
/// renamed in the next page moves the file the page before is downloading
/// into it, without fetching it again, and the stored rows are those of a
/// library in step (a reconcile finds nothing to do).
#[tokio::test]
async fn a_folder_renamed_while_its_new_file_downloads_takes_the_file_along() {
    for kind in [ProviderKind::GoogleDrive, ProviderKind::OneDrive] {
        let mut lib = setup(kind).await;
        lib.page_size = 1;
        lib.fx.put("docs/a.txt", b"alpha").await;
        assert_eq!(lib.sync().await.added_files, 1, "{kind}");

        // The feed: the new file (one page), then its folder renamed.
        lib.fx.put("docs/new.txt", b"november").await;
        lib.fx.mv("docs", "papers").await;
        lib.reset_counts().await;
        let out = lib.sync().await;
        assert!(out.errors.is_empty(), "{kind}: {out:?}");
        assert_eq!(out.added_files, 1, "{kind}: {out:?}");
        assert_eq!(lib.downloads().await, 1, "{kind}");
        assert_eq!(
            lib.files().await,
            [
                ("papers/a.txt".to_owned(), b"alpha".to_vec()),
                ("papers/new.txt".to_owned(), b"november".to_vec()),
            ],
            "{kind}"
        );
        assert_eq!(lib.orphans().await, 0, "{kind}");

        lib.reset_counts().await;
        let checked = lib.reconcile().await;
        assert_eq!(
            (
                checked.added_files,
                checked.updated_files,
                checked.deleted_files
            ),
            (0, 0, 0),
            "{kind}: {checked:?}"
        );
        assert_eq!(lib.downloads().await, 0, "{kind}: nothing fetched again");
    }
}

/// The same, when the new file's download fails for good: the move of a
/// file never stored moves nothing, the file is reported, and a later try
/// brings it to the folder's new place.
#[tokio::test]
async fn a_folder_renamed_while_its_new_file_fails_to_download() {
    let mut lib = setup(ProviderKind::GoogleDrive).await;
    lib.page_size = 1;
    lib.fx.put("docs/a.txt", b"alpha").await;
    assert_eq!(lib.sync().await.added_files, 1);

    lib.fx.put("docs/new.txt", b"november").await;
    let new = lib.id_of("docs/new.txt").await;
    lib.fx.mv("docs", "papers").await;
    lib.fault(json!({
        "endpoint": "GET /drive/v3/files/{fileId}?alt=media",
        "kind": "corrupt",
        "itemId": new,
    }))
    .await;
    let out = lib.sync().await;
    assert_eq!(out.errors.len(), 1, "{out:?}");
    assert_eq!(out.errors[0].path, "docs/new.txt", "{out:?}");
    assert_eq!(lib.paths().await, ["papers/a.txt"]);
    assert_eq!(lib.orphans().await, 0);

    lib.clear_faults().await;
    let retried = lib
        .sync_with(SyncOptions {
            retry_failed_after: Some(std::time::Duration::ZERO),
            ..SyncOptions::default()
        })
        .await;
    assert!(retried.errors.is_empty(), "{retried:?}");
    assert_eq!(
        lib.files().await,
        [
            ("papers/a.txt".to_owned(), b"alpha".to_vec()),
            ("papers/new.txt".to_owned(), b"november".to_vec()),
        ]
    );
}
