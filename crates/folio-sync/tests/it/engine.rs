//! The executor end to end: cloudsim over HTTP through the real connectors,
//! a real store (SQLite, or PostgreSQL with FOLIO_TEST_DATABASE_URL) and real
//! blob storage in a temporary directory. No HTTP route yet: the executor
//! is called directly.

use folio_connectors::ProviderKind;
use folio_sync::executor::SyncOptions;
use serde_json::json;

use crate::support::setup;

async fn full_then_incremental(kind: ProviderKind) {
    let lib = setup(kind).await;
    lib.fx.put("docs/a.txt", b"alpha").await;
    lib.fx.put("docs/sub/b.txt", b"bravo").await;
    lib.fx.put("c.txt", b"charlie").await;
    lib.fx.put("empty.txt", b"").await;
    let first = lib.sync().await;
    assert_eq!(
        (first.added_files, first.synced_files),
        (4, 4),
        "{kind}: {first:?}"
    );
    assert!(first.errors.is_empty(), "{kind}: {:?}", first.errors);
    assert_eq!(
        lib.files().await,
        [
            ("c.txt".to_owned(), b"charlie".to_vec()),
            ("docs/a.txt".to_owned(), b"alpha".to_vec()),
            ("docs/sub/b.txt".to_owned(), b"bravo".to_vec()),
            ("empty.txt".to_owned(), Vec::new()),
        ]
    );

    // No change: nothing downloaded.
    let before = lib.downloads().await;
    let again = lib.sync().await;
    assert_eq!(
        (again.added_files, again.updated_files, again.deleted_files),
        (0, 0, 0),
        "{kind}"
    );
    assert_eq!(
        lib.downloads().await,
        before,
        "{kind}: a no-change sync downloads nothing"
    );

    // Rename a folder with children, move a file, edit one, delete one, add one.
    lib.fx.mv("docs", "papers").await;
    lib.fx.mv("c.txt", "papers/c.txt").await;
    lib.fx.put("papers/a.txt", b"alpha 2").await;
    lib.fx.remove("empty.txt").await;
    lib.fx.put("new.txt", b"november").await;
    let before = lib.downloads().await;
    let step = lib.sync().await;
    assert!(step.errors.is_empty(), "{kind}: {:?}", step.errors);
    assert_eq!(
        (step.added_files, step.updated_files, step.deleted_files),
        (1, 1, 1),
        "{kind}: {step:?}"
    );
    assert_eq!(
        lib.downloads().await - before,
        2,
        "{kind}: moves do not re-download"
    );
    assert_eq!(
        lib.files().await,
        [
            ("new.txt".to_owned(), b"november".to_vec()),
            ("papers/a.txt".to_owned(), b"alpha 2".to_vec()),
            ("papers/c.txt".to_owned(), b"charlie".to_vec()),
            ("papers/sub/b.txt".to_owned(), b"bravo".to_vec()),
        ]
    );
    assert_eq!(lib.orphans().await, 0, "{kind}: no orphaned blobs");

    // Cursor rejected: a full listing, no duplicates, nothing lost.
    lib.fx.reset_cursors().await;
    lib.fx.put("late.txt", b"lima").await;
    let recovered = lib.sync().await;
    assert_eq!(recovered.synced_files, 5, "{kind}: {recovered:?}");
    assert_eq!(
        lib.paths().await,
        [
            "late.txt",
            "new.txt",
            "papers/a.txt",
            "papers/c.txt",
            "papers/sub/b.txt"
        ]
    );

    // Purge: everything again from scratch.
    let purged = lib
        .sync_with(SyncOptions {
            purge: true,
            ..SyncOptions::default()
        })
        .await;
    assert_eq!(
        (purged.added_files, purged.synced_files),
        (5, 5),
        "{kind}: {purged:?}"
    );
    assert_eq!(lib.orphans().await, 0, "{kind}");
}

#[tokio::test]
async fn google_drive_full_and_incremental() {
    full_then_incremental(ProviderKind::GoogleDrive).await;
}

#[tokio::test]
async fn onedrive_full_and_incremental() {
    full_then_incremental(ProviderKind::OneDrive).await;
}

#[tokio::test]
async fn sharepoint_full_and_incremental() {
    full_then_incremental(ProviderKind::SharePoint).await;
}

#[tokio::test]
async fn corrupted_download_is_retried_then_reported() {
    let lib = setup(ProviderKind::GoogleDrive).await;
    lib.fx.put("ok.txt", b"fine").await;
    lib.fx.put("bad.txt", b"will be corrupted every time").await;
    lib.fx
        .fault(json!({"endpoint": "GET /drive/v3/files/{fileId}?alt=media", "kind": "corrupt", "probability": 1.0}))
        .await;
    let out = lib.sync().await;
    assert_eq!(out.errors.len(), 2, "{out:?}");
    assert!(
        out.errors.iter().all(|e| e.message.contains("hash")),
        "{out:?}"
    );
    assert!(lib.paths().await.is_empty());
    assert_eq!(lib.orphans().await, 0);
    lib.fx
        .env
        .http
        .delete(lib.fx.env.url("/_sim/faults"))
        .send()
        .await
        .unwrap();
    let once = lib.fx.put("bad.txt", b"will be corrupted once").await;
    assert!(!once.is_empty());
    lib.fx
        .fault(json!({"endpoint": "GET /drive/v3/files/{fileId}?alt=media", "kind": "corrupt", "count": 1}))
        .await;
    let out = lib
        .sync_with(SyncOptions {
            purge: true,
            ..SyncOptions::default()
        })
        .await;
    assert!(
        out.errors.is_empty(),
        "a single corruption is retried: {out:?}"
    );
    assert_eq!(lib.paths().await, ["bad.txt", "ok.txt"]);
}

#[tokio::test]
async fn a_full_listing_deleting_most_of_the_library_is_held() {
    let lib = setup(ProviderKind::GoogleDrive).await;
    for name in ["a", "b", "c", "d"] {
        lib.fx.put(&format!("{name}.txt"), name.as_bytes()).await;
    }
    lib.sync().await;
    for name in ["a", "b", "c"] {
        lib.fx.remove(&format!("{name}.txt")).await;
    }
    // Lose the cursor so the next sync lists everything and must infer deletes.
    lib.fx.reset_cursors().await;
    let held = lib.sync().await;
    assert!(
        held.held
            .as_deref()
            .is_some_and(|m| m.contains("confirmDeletes")),
        "{held:?}"
    );
    assert_eq!(held.deleted_files, 0);
    assert_eq!(lib.paths().await.len(), 4);
    let confirmed = lib
        .sync_with(SyncOptions {
            confirm_deletes: true,
            ..SyncOptions::default()
        })
        .await;
    assert_eq!(confirmed.deleted_files, 3, "{confirmed:?}");
    assert_eq!(lib.paths().await, ["d.txt"]);
}

#[tokio::test]
async fn drive_duplicates_hostile_names_exports_shortcuts_and_trash() {
    let lib = setup(ProviderKind::GoogleDrive).await;
    let fx = &lib.fx;
    let first = fx.put("docs/report.pdf", b"v1").await;
    let second = fx.put("docs/report.pdf?duplicate=true", b"v2").await;
    fx.put("docs/ignored?name=a%2Fb.txt", b"slash").await;
    fx.put("docs/ignored2?name=..", b"dots").await;
    fx.put(
        "docs/Notes?mimeType=application/vnd.google-apps.document",
        b"Meeting notes",
    )
    .await;
    fx.put("docs/Form?mimeType=application/vnd.google-apps.form", b"q")
        .await;
    fx.env
        .control(
            &format!("/google/{}/shortcut", fx.drive),
            json!({"path": "links/report", "target": "docs/report.pdf"}),
        )
        .await;
    let out = lib.sync().await;
    assert!(out.errors.is_empty(), "{out:?}");
    let files = lib.files().await;
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    // The lower id keeps the plain name; the other gets a stable suffix.
    let (plain, suffixed) = if first < second {
        (b"v1", b"v2")
    } else {
        (b"v2", b"v1")
    };
    assert!(
        files.contains(&("docs/report.pdf".to_owned(), plain.to_vec())),
        "{paths:?}"
    );
    assert!(
        files
            .iter()
            .any(|(p, b)| p.starts_with("docs/report (~") && p.ends_with(").pdf") && b == suffixed),
        "{paths:?}"
    );
    assert!(paths.contains(&"docs/a_b.txt"), "{paths:?}");
    assert!(paths.contains(&"docs/_.."), "{paths:?}");
    assert!(paths.contains(&"docs/Notes.docx"), "{paths:?}");
    assert!(
        !paths
            .iter()
            .any(|p| p.contains("Form") || p.starts_with("links/")),
        "{paths:?}"
    );
    assert_eq!(paths.len(), 5, "{paths:?}");
    for p in &paths {
        assert!(folio_domain::LibraryPath::parse(p).is_ok(), "{p}");
    }

    // The same names again: the same paths (stable), nothing downloaded.
    let before = lib.downloads().await;
    lib.sync().await;
    assert_eq!(lib.downloads().await, before);
    assert_eq!(lib.paths().await, paths);

    // Trash removes the file; restoring brings it back.
    let trash = format!("/google/{}/trash", fx.drive);
    fx.env.control(&trash, json!({"path": "docs/Notes"})).await;
    let trashed = lib.sync().await;
    assert_eq!(trashed.deleted_files, 1, "{trashed:?}");
    assert!(!lib.paths().await.contains(&"docs/Notes.docx".to_owned()));
    fx.env
        .control(&trash, json!({"path": "docs/Notes", "trashed": false}))
        .await;
    let restored = lib.sync().await;
    assert_eq!(restored.added_files, 1, "{restored:?}");
    assert_eq!(lib.paths().await, paths);
}

#[tokio::test]
async fn dropbox_full_and_incremental() {
    full_then_incremental(ProviderKind::Dropbox).await;
}

#[tokio::test]
async fn runs_hold_the_lease_record_progress_and_outcome() {
    use folio_store::sync::{BeginRun, NewSyncRun, RunProgress};
    use folio_sync::run::{RunRequest, Started, run_locked};
    let lib = setup(ProviderKind::GoogleDrive).await;
    lib.fx.put("a.txt", b"alpha").await;
    lib.fx.put("b.txt", b"bravo").await;
    let request = RunRequest {
        library_id: lib.id,
        progress_id: Some("client-1".into()),
        trigger: folio_domain::RunTrigger::Manual,
        options: SyncOptions::default(),
        owner: "test-process".into(),
        lease: std::time::Duration::from_secs(30),
        reconnect_with: None,
    };
    let (progress, _) = tokio::sync::watch::channel(RunProgress::default());
    let connector: std::sync::Arc<dyn folio_connectors::Connector> = lib.fx.connector().into();
    let started = run_locked(
        &lib.store,
        &lib.blobs,
        connector.clone(),
        request.clone(),
        &progress,
    )
    .await
    .unwrap();
    let Started::Finished { result, .. } = started else {
        panic!("must run");
    };
    assert_eq!(result.unwrap().added_files, 2);
    let row = lib
        .store
        .sync_run_by_progress("client-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.status, row.synced_files, row.added_files),
        (folio_domain::RunStatus::Done, 2, 2)
    );
    assert_eq!(progress.borrow().done, 2);
    assert_eq!(progress.borrow().bytes, 10);

    // Another process holds a live lease: this one is told who.
    let other = NewSyncRun {
        library_id: lib.id,
        progress_id: "other".into(),
        trigger_kind: folio_domain::RunTrigger::Schedule,
        lease_owner: "other-process".into(),
        lease_until_ms: chrono::Utc::now().timestamp_millis() + 60_000,
    };
    assert!(matches!(
        lib.store
            .begin_sync_run(&other, chrono::Utc::now().timestamp_millis())
            .await
            .unwrap(),
        BeginRun::Started(_)
    ));
    match run_locked(&lib.store, &lib.blobs, connector, request, &progress)
        .await
        .unwrap()
    {
        Started::Busy(run) => assert_eq!(run.progress_id, "other"),
        other => panic!("expected busy, got {other:?}"),
    }
}
