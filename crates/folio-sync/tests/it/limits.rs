//! Provider limits through a whole sync (docs/sync.md, "Provider
//! limits"): rate limits (429, Drive 403 `userRateLimitExceeded`, Dropbox
//! `too_many_requests`, Graph 429) and transient 5xx during listing and
//! downloads are retried and the sync completes with every file; a provider
//! that keeps failing stops the sync with a clear error while what was
//! synced stays; per-file refusals (Drive `downloadQuotaExceeded`,
//! `cannotDownloadAbusiveFile`, an export over the size limit, Dropbox
//! `restricted_content`) land in `errors` while the rest arrives.
//!
//! Retries are asserted through cloudsim's request counters, never by
//! timing: a faulted sync must cost exactly the fault count more requests
//! than the same sync without faults.

use folio_connectors::ProviderKind;
use folio_sync::executor::{SyncError, SyncOptions};
use serde_json::{Value, json};

use crate::support::{Lib, download_key, setup};

/// The fault endpoint of a provider's full listing.
fn listing_endpoint(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::GoogleDrive => "GET /drive/v3/files",
        ProviderKind::OneDrive | ProviderKind::SharePoint => {
            "GET /v1.0/drives/{driveId}/root/{function}"
        }
        ProviderKind::Dropbox => "POST /2/files/list_folder*",
    }
}

/// The fault endpoint of a provider's change feed (after a first sync).
fn changes_endpoint(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::GoogleDrive => "GET /drive/v3/changes",
        ProviderKind::OneDrive | ProviderKind::SharePoint => {
            "GET /v1.0/drives/{driveId}/root/{function}"
        }
        ProviderKind::Dropbox => "POST /2/files/list_folder/continue",
    }
}

/// Requests a full listing made (Dropbox pages through two routes).
async fn listing_requests(lib: &Lib) -> u64 {
    match lib.fx.kind {
        ProviderKind::Dropbox => {
            lib.count("POST /2/files/list_folder").await
                + lib.count("POST /2/files/list_folder/continue").await
        }
        kind => lib.count(listing_endpoint(kind)).await,
    }
}

/// Six files in two folders, listed three items a page.
async fn six_files(kind: ProviderKind) -> Lib {
    let mut lib = setup(kind).await;
    lib.page_size = 3;
    for (i, path) in [
        "a/1.txt", "a/2.txt", "a/3.txt", "b/4.txt", "b/5.txt", "top.txt",
    ]
    .iter()
    .enumerate()
    {
        lib.fx.put(path, format!("file {i}").as_bytes()).await;
    }
    lib
}

/// Syncs under the two faults (each firing `count` times), then
/// checks every file arrived and that the listing and the downloads cost
/// exactly the firings more requests than a purge sync without faults.
async fn faulted_sync_completes(lib: &Lib, listing_fault: &Value, download_fault: &Value) {
    let kind = lib.fx.kind;
    let fired = |fault: &Value| fault["count"].as_u64().unwrap_or(0);
    for (fault, endpoint) in [
        (listing_fault, listing_endpoint(kind)),
        (download_fault, download_key(kind)),
    ] {
        let mut f = fault.clone();
        f["endpoint"] = json!(endpoint);
        lib.fault(f).await;
    }
    let out = lib.sync().await;
    assert!(out.errors.is_empty(), "{kind}: {:?}", out.errors);
    assert_eq!(
        (out.added_files, out.synced_files),
        (6, 6),
        "{kind}: {out:?}"
    );
    let faulted = (listing_requests(lib).await, lib.downloads().await);

    lib.reset_counts().await;
    let again = lib
        .sync_with(SyncOptions {
            purge: true,
            ..SyncOptions::default()
        })
        .await;
    assert_eq!(again.added_files, 6, "{kind}: {again:?}");
    let clean = (listing_requests(lib).await, lib.downloads().await);
    assert_eq!(clean.1, 6, "{kind}: one download per file");
    assert!(clean.0 >= 2, "{kind}: the listing has several pages");
    assert_eq!(
        faulted,
        (
            clean.0 + fired(listing_fault),
            clean.1 + fired(download_fault)
        ),
        "{kind}: each refused request was retried once more"
    );
    assert_eq!(lib.orphans().await, 0, "{kind}");
}

fn rate_limit(count: u64) -> Value {
    json!({"kind": "rate_limit", "count": count, "retryAfterSeconds": 1})
}

fn server_error(status: u16, count: u64) -> Value {
    json!({"kind": "server_error", "status": status, "count": count})
}

// Faults on one endpoint fire together, so each test puts one fault per
// endpoint and the firings add up exactly.

#[tokio::test]
async fn drive_rate_limits_403_and_429_are_waited_out() {
    let lib = six_files(ProviderKind::GoogleDrive).await;
    let user_rate_limit =
        json!({"kind": "rate_limit", "status": 403, "count": 2, "retryAfterSeconds": 1});
    faulted_sync_completes(&lib, &user_rate_limit, &rate_limit(2)).await;
}

#[tokio::test]
async fn dropbox_too_many_requests_is_waited_out() {
    let lib = six_files(ProviderKind::Dropbox).await;
    faulted_sync_completes(&lib, &rate_limit(2), &rate_limit(2)).await;
}

#[tokio::test]
async fn onedrive_429_is_waited_out() {
    let lib = six_files(ProviderKind::OneDrive).await;
    faulted_sync_completes(&lib, &rate_limit(2), &rate_limit(2)).await;
}

#[tokio::test]
async fn sharepoint_429_is_waited_out() {
    let lib = six_files(ProviderKind::SharePoint).await;
    faulted_sync_completes(&lib, &rate_limit(1), &rate_limit(2)).await;
}

#[tokio::test]
async fn transient_5xx_are_retried_for_every_provider() {
    for (kind, listing, download) in [
        (ProviderKind::GoogleDrive, 503, 500),
        (ProviderKind::OneDrive, 502, 503),
        (ProviderKind::Dropbox, 500, 502),
    ] {
        let lib = six_files(kind).await;
        faulted_sync_completes(&lib, &server_error(listing, 2), &server_error(download, 3)).await;
    }
}

/// After a first sync, a feed that keeps failing (the run fails with a
/// clear error), then downloads that keep failing (each a per-file error,
/// the run done): the library keeps what it had and gets no half-written
/// file, and once the provider is back the next sync brings exactly what
/// was missed.
async fn keeps_failing(kind: ProviderKind) {
    let lib = setup(kind).await;
    lib.fx.put("a.txt", b"alpha").await;
    lib.fx.put("b.txt", b"bravo").await;
    assert_eq!(lib.sync().await.added_files, 2, "{kind}");
    lib.fx.put("c.txt", b"charlie").await;
    lib.fx.put("docs/d.txt", b"delta").await;

    lib.reset_counts().await;
    lib.fault(json!({"endpoint": changes_endpoint(kind), "kind": "server_error"}))
        .await;
    let (row, result) = lib.run().await;
    let err = result.expect_err("a feed that keeps failing stops the sync");
    assert!(
        matches!(&err, SyncError::Provider(e) if e.is_temporary()),
        "{kind}: {err}"
    );
    assert!(
        err.to_string().contains("gave up after 5 attempts"),
        "{kind}: {err}"
    );
    assert_eq!(row.status, folio_domain::RunStatus::Failed, "{kind}");
    assert!(
        row.message
            .as_deref()
            .is_some_and(|m| m.contains("gave up")),
        "{kind}: {:?}",
        row.message
    );
    let feed_requests = match kind {
        ProviderKind::Dropbox => lib.count("POST /2/files/list_folder/continue").await,
        _ => lib.count(changes_endpoint(kind)).await,
    };
    assert_eq!(feed_requests, 5, "{kind}: one attempt and four retries");
    assert_eq!(lib.paths().await, ["a.txt", "b.txt"], "{kind}");
    assert_eq!(lib.downloads().await, 0, "{kind}");

    lib.clear_faults().await;
    lib.reset_counts().await;
    lib.fault(json!({"endpoint": download_key(kind), "kind": "server_error", "status": 503}))
        .await;
    let (row, result) = lib.run().await;
    let out = result.expect("downloads that keep failing are per-file errors");
    assert_eq!(row.status, folio_domain::RunStatus::Done, "{kind}: {row:?}");
    let mut failed: Vec<&str> = out.errors.iter().map(|e| e.path.as_str()).collect();
    failed.sort_unstable();
    assert_eq!(failed, ["c.txt", "docs/d.txt"], "{kind}: {out:?}");
    assert!(
        out.errors
            .iter()
            .all(|e| e.message.contains("gave up after 5 attempts")),
        "{kind}: {out:?}"
    );
    assert_eq!(
        lib.downloads().await,
        10,
        "{kind}: each file tried five times"
    );
    assert_eq!(lib.paths().await, ["a.txt", "b.txt"], "{kind}");
    assert_eq!(lib.orphans().await, 0, "{kind}: nothing half-written");

    lib.clear_faults().await;
    let back = lib.sync().await;
    assert!(back.errors.is_empty(), "{kind}: {back:?}");
    assert_eq!(
        back.added_files, 2,
        "{kind}: the next sync tries them again: {back:?}"
    );
    assert_eq!(
        lib.files().await,
        [
            ("a.txt".to_owned(), b"alpha".to_vec()),
            ("b.txt".to_owned(), b"bravo".to_vec()),
            ("c.txt".to_owned(), b"charlie".to_vec()),
            ("docs/d.txt".to_owned(), b"delta".to_vec()),
        ],
        "{kind}"
    );
}

#[tokio::test]
async fn drive_that_keeps_failing() {
    keeps_failing(ProviderKind::GoogleDrive).await;
}

#[tokio::test]
async fn onedrive_that_keeps_failing() {
    keeps_failing(ProviderKind::OneDrive).await;
}

#[tokio::test]
async fn dropbox_that_keeps_failing() {
    keeps_failing(ProviderKind::Dropbox).await;
}

const DOC: &str = "application/vnd.google-apps.document";

/// Makes cloudsim refuse each `(item id, endpoint, Drive reason)` with a
/// per-file error.
async fn refuse(lib: &Lib, refusals: &[(&str, &str, &str)]) {
    for (id, endpoint, reason) in refusals {
        lib.fault(
            json!({"endpoint": endpoint, "kind": "file_error", "itemId": id, "reason": reason}),
        )
        .await;
    }
}

#[tokio::test]
async fn drive_per_file_refusals_are_reported_and_the_rest_arrives() {
    let lib = setup(ProviderKind::GoogleDrive).await;
    lib.settings(json!({"googleExportLimitBytes": 100})).await;
    lib.fx.put("ok.txt", b"fine").await;
    let quota = lib.fx.put("media/quota.bin", b"popular").await;
    let abusive = lib.fx.put("media/abusive.bin", b"flagged").await;
    let big_text = "a long document ".repeat(20);
    lib.fx
        .put(&format!("Big?mimeType={DOC}"), big_text.as_bytes())
        .await;
    let huge = lib
        .fx
        .put(&format!("Huge?mimeType={DOC}"), big_text.as_bytes())
        .await;
    let media = "GET /drive/v3/files/{fileId}?alt=media";
    let export_link = "GET /feeds/download/{kind}/export/Export";
    refuse(
        &lib,
        &[
            (&quota, media, "downloadQuotaExceeded"),
            (&abusive, media, "cannotDownloadAbusiveFile"),
            (&huge, export_link, "exportSizeLimitExceeded"),
        ],
    )
    .await;

    let (row, result) = lib.run().await;
    let out = result.expect("per-file failures do not stop the sync");
    assert_eq!(row.status, folio_domain::RunStatus::Done);
    let mut errors = out.errors.clone();
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    let reported: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.path.as_str(), e.remote_id.as_str()))
        .collect();
    assert_eq!(
        reported,
        [
            ("Huge.docx", huge.as_str()),
            ("media/abusive.bin", abusive.as_str()),
            ("media/quota.bin", quota.as_str()),
        ],
        "{errors:?}"
    );
    assert!(
        errors[0].message.contains("exportSizeLimitExceeded"),
        "{errors:?}"
    );
    assert!(
        errors[1].message.contains("cannotDownloadAbusiveFile"),
        "{errors:?}"
    );
    assert!(
        errors[2].message.contains("downloadQuotaExceeded"),
        "{errors:?}"
    );
    let recorded: Value = serde_json::from_str(&row.errors).expect("errors JSON");
    assert_eq!(recorded.as_array().map(Vec::len), Some(3), "{recorded}");
    assert!(recorded[0].get("remoteId").is_some(), "{recorded}");

    let files = lib.files().await;
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["Big.docx", "ok.txt"]);
    let (_, docx) = &files[0];
    assert!(
        docx.starts_with(b"cloudsim export of") && docx.ends_with(big_text.as_bytes()),
        "the export link gave the whole export"
    );
    assert_eq!((out.added_files, out.synced_files), (2, 2));
    assert_eq!(lib.count(media).await, 3, "refusals are not retried");
    assert_eq!(
        lib.count("GET /drive/v3/files/{fileId}/export").await,
        2,
        "Big and Huge tried files.export once each"
    );
    assert_eq!(
        lib.count(export_link).await,
        2,
        "then their exportLinks, once each"
    );
    assert_eq!(lib.orphans().await, 0);

    // Once the provider lets them go, a reconcile fetches exactly the
    // refused files (the change feed has nothing new about them).
    lib.clear_faults().await;
    lib.reset_counts().await;
    let repaired = lib.reconcile().await;
    assert!(repaired.errors.is_empty(), "{repaired:?}");
    assert_eq!(repaired.added_files, 3, "{repaired:?}");
    assert_eq!(lib.count(media).await, 2, "quota.bin and abusive.bin");
    assert_eq!(lib.count(export_link).await, 1, "Huge only");
    assert_eq!(
        lib.paths().await,
        [
            "Big.docx",
            "Huge.docx",
            "media/abusive.bin",
            "media/quota.bin",
            "ok.txt"
        ]
    );
}

/// A file refused on its own is tried again by a later incremental sync,
/// once its last try is `retry_failed_after` old and not before, with
/// nothing new in the change feed; it arrives once the provider lets it go.
/// Exported documents (here one over the export limit, fetched through its
/// export link) are tried again the same way.
#[tokio::test]
async fn drive_refused_files_are_tried_again_by_later_syncs() {
    let lib = setup(ProviderKind::GoogleDrive).await;
    lib.settings(json!({"googleExportLimitBytes": 100})).await;
    lib.fx.put("ok.txt", b"fine").await;
    let quota = lib.fx.put("quota.bin", b"popular").await;
    let text = "a long document ".repeat(20);
    let huge = lib
        .fx
        .put(&format!("Huge?mimeType={DOC}"), text.as_bytes())
        .await;
    let media = "GET /drive/v3/files/{fileId}?alt=media";
    let export_link = "GET /feeds/download/{kind}/export/Export";
    refuse(
        &lib,
        &[
            (&quota, media, "downloadQuotaExceeded"),
            (&huge, export_link, "exportSizeLimitExceeded"),
        ],
    )
    .await;
    let first = lib.sync().await;
    assert_eq!(first.errors.len(), 2, "{first:?}");
    assert_eq!(lib.paths().await, ["ok.txt"]);

    // Tried an instant ago: the default interval (an hour) is not over.
    lib.reset_counts().await;
    let soon = lib.sync().await;
    assert!(soon.errors.is_empty(), "{soon:?}");
    assert_eq!(lib.downloads().await + lib.count(export_link).await, 0);

    let due = SyncOptions {
        retry_failed_after: Some(std::time::Duration::ZERO),
        ..SyncOptions::default()
    };
    // Due, and still refused: reported again, nothing else changes.
    let refused = lib.sync_with(due.clone()).await;
    let mut again: Vec<&str> = refused
        .errors
        .iter()
        .map(|e| e.remote_id.as_str())
        .collect();
    again.sort_unstable();
    let mut expected = [quota.as_str(), huge.as_str()];
    expected.sort_unstable();
    assert_eq!(again, expected, "{refused:?}");
    assert_eq!((refused.added_files, refused.synced_files), (0, 1));
    assert_eq!(lib.count(media).await, 1);
    assert_eq!(lib.count(export_link).await, 1);

    // The provider lets them go: the next due sync brings both.
    lib.clear_faults().await;
    lib.reset_counts().await;
    let back = lib.sync_with(due.clone()).await;
    assert!(back.errors.is_empty(), "{back:?}");
    assert_eq!((back.added_files, back.synced_files), (2, 3), "{back:?}");
    let files = lib.files().await;
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["Huge.docx", "ok.txt", "quota.bin"]);
    assert_eq!(files[2].1, b"popular");
    assert!(files[0].1.ends_with(text.as_bytes()), "the whole export");

    // Nothing is left to try.
    lib.reset_counts().await;
    let quiet = lib.sync_with(due).await;
    assert_eq!((quiet.added_files, quiet.errors.len()), (0, 0));
    assert_eq!(lib.downloads().await + lib.count(export_link).await, 0);
    assert_eq!(lib.orphans().await, 0);
}

#[tokio::test]
async fn dropbox_restricted_content_is_reported_and_the_rest_arrives() {
    let lib = setup(ProviderKind::Dropbox).await;
    lib.fx.put("ok.txt", b"fine").await;
    let restricted = lib.fx.put("docs/film.mp4", b"copyrighted").await;
    lib.fault(
        json!({"endpoint": "POST /2/files/download", "kind": "file_error", "itemId": restricted}),
    )
    .await;
    let out = lib.sync().await;
    assert_eq!(out.errors.len(), 1, "{out:?}");
    let error = &out.errors[0];
    assert_eq!(
        (error.path.as_str(), error.remote_id.as_str()),
        ("docs/film.mp4", restricted.as_str())
    );
    assert!(error.message.contains("restricted_content"), "{error:?}");
    assert_eq!(lib.paths().await, ["ok.txt"]);
    assert_eq!(lib.downloads().await, 2);
}

/// A download body that breaks off mid-way is fetched again; one that
/// breaks off every time is a per-file error (nothing of it kept), and the
/// next sync fetches it again.
async fn broken_bodies(kind: ProviderKind) {
    let lib = setup(kind).await;
    let big = vec![b'x'; 64 * 1024];
    lib.fx.put("a.bin", &big).await;
    lib.fx.put("b.bin", &big).await;
    lib.fault(
        json!({"endpoint": download_key(kind), "kind": "cut", "cutAfterBytes": 1000, "count": 1}),
    )
    .await;
    let out = lib.sync().await;
    assert!(out.errors.is_empty(), "{kind}: {out:?}");
    assert_eq!(out.added_files, 2, "{kind}: {out:?}");
    assert_eq!(lib.downloads().await, 3, "{kind}: the broken one again");
    assert_eq!(lib.orphans().await, 0, "{kind}");

    lib.fx.put("c.bin", &big).await;
    lib.fault(json!({"endpoint": download_key(kind), "kind": "cut", "cutAfterBytes": 1000}))
        .await;
    let (row, result) = lib.run().await;
    let out = result.expect("a body that always breaks off is a per-file error");
    assert_eq!(out.errors.len(), 1, "{kind}: {out:?}");
    assert_eq!(out.errors[0].path, "c.bin", "{kind}: {out:?}");
    assert!(
        out.errors[0].message.contains("broke off"),
        "{kind}: {out:?}"
    );
    assert_eq!(row.status, folio_domain::RunStatus::Done, "{kind}");
    assert_eq!(lib.paths().await, ["a.bin", "b.bin"], "{kind}");
    assert_eq!(lib.orphans().await, 0, "{kind}: nothing half-written");

    lib.clear_faults().await;
    let back = lib.sync().await;
    assert_eq!(back.added_files, 1, "{kind}: {back:?}");
    assert_eq!(lib.paths().await, ["a.bin", "b.bin", "c.bin"], "{kind}");
}

#[tokio::test]
async fn drive_broken_download_bodies() {
    broken_bodies(ProviderKind::GoogleDrive).await;
}

#[tokio::test]
async fn dropbox_broken_download_bodies() {
    broken_bodies(ProviderKind::Dropbox).await;
}

#[tokio::test]
async fn onedrive_broken_download_bodies() {
    broken_bodies(ProviderKind::OneDrive).await;
}
