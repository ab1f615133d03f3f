//! Google Drive specifics against cloudsim: exports (and the exportLinks
//! fallback over the export size limit), forms that cannot be exported,
//! shortcuts, duplicate and hostile names, trash, shared drives.

use folio_connectors::{
    ConnectorError, ProviderKind, RemoteChange, RemoteHashExt, Source, connector_for,
};
use serde_json::json;

use crate::support::{Fixture, drain, fetch, find, upserts};

const DOC: &str = "application/vnd.google-apps.document";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

async fn google() -> Fixture {
    Fixture::new(ProviderKind::GoogleDrive).await
}

#[tokio::test]
async fn native_documents_are_exported_by_the_format_map() {
    let fx = google().await;
    fx.put(&format!("docs/Notes?mimeType={DOC}"), b"Meeting notes")
        .await;
    fx.put(
        "docs/Sheet?mimeType=application/vnd.google-apps.spreadsheet",
        b"a,b",
    )
    .await;
    fx.put("docs/Form?mimeType=application/vnd.google-apps.form", b"q")
        .await;
    let c = fx.connector();
    let (changes, _, _) = drain(c.as_ref(), None).await;
    let items = upserts(&changes);
    let notes = find(&items, "Notes").expect("doc listed");
    let export = notes.export.as_ref().expect("docs export");
    assert_eq!(export.extension, "docx");
    assert_eq!(export.mime_type, DOCX);
    assert_eq!(notes.size, None);
    assert!(notes.hash.is_none(), "native docs have no md5");
    let (bytes, _, _) = fetch(c.as_ref(), notes, true).await.expect("export");
    assert!(bytes.ends_with(b"Meeting notes"));
    assert!(String::from_utf8_lossy(&bytes).contains(DOCX));
    assert_eq!(
        find(&items, "Sheet")
            .and_then(|s| s.export.as_ref())
            .map(|e| e.extension.as_str()),
        Some("xlsx")
    );
    let form = find(&items, "Form").expect("form listed");
    assert!(form.export.is_none() && !form.is_downloadable());
    assert!(matches!(
        c.download(form).await,
        Err(ConnectorError::PerFile { .. })
    ));
}

/// Export choices other than the defaults: a Doc as PDF, a Sheet as CSV,
/// asked of Drive with that MIME type.
#[tokio::test]
async fn chosen_export_formats_are_asked_for() {
    let fx = google().await;
    fx.put(&format!("Notes?mimeType={DOC}"), b"Meeting notes")
        .await;
    fx.put(
        "Sheet?mimeType=application/vnd.google-apps.spreadsheet",
        b"a,b",
    )
    .await;
    let mut cfg = fx.config();
    cfg.export_formats =
        folio_connectors::ExportFormats::with_choices("document=pdf,spreadsheet=csv")
            .expect("valid choices");
    let c = connector_for(ProviderKind::GoogleDrive, cfg, fx.account.tokens.clone())
        .expect("connector");
    let (changes, _, _) = drain(c.as_ref(), None).await;
    let items = upserts(&changes);
    for (name, extension, mime) in [
        ("Notes", "pdf", "application/pdf"),
        ("Sheet", "csv", "text/csv"),
    ] {
        let item = find(&items, name).expect("listed");
        let export = item.export.as_ref().expect("exported");
        assert_eq!(
            (export.extension.as_str(), export.mime_type.as_str()),
            (extension, mime)
        );
        let (bytes, _, _) = fetch(c.as_ref(), item, true).await.expect("export");
        assert!(
            String::from_utf8_lossy(&bytes).contains(&format!("as {mime}")),
            "{name}"
        );
    }
}

#[tokio::test]
async fn export_over_the_limit_uses_export_links() {
    let fx = google().await;
    fx.env
        .patch_settings(json!({"googleExportLimitBytes": 16}))
        .await;
    let body = vec![b'x'; 4096];
    fx.put(&format!("Big doc?mimeType={DOC}"), &body).await;
    let c = fx.connector();
    let (changes, _, _) = drain(c.as_ref(), None).await;
    let doc = find(&upserts(&changes), "Big doc").expect("listed").clone();
    let (bytes, _, _) = fetch(c.as_ref(), &doc, true)
        .await
        .expect("exported through the link");
    assert!(bytes.ends_with(&body));
    let counts = fx.env.counts().await;
    assert_eq!(
        counts["google GET /drive/v3/files/{fileId}/export"], 1,
        "{counts}"
    );
}

#[tokio::test]
async fn shortcuts_duplicates_and_hostile_names_are_reported_raw() {
    let fx = google().await;
    let target = fx.put("docs/report.pdf", b"v1").await;
    let dup = fx.put("docs/report.pdf?duplicate=true", b"v2").await;
    fx.put("docs/ignored?name=a%2Fb.txt", b"slash").await;
    fx.put("docs/ignored2?name=..", b"dots").await;
    fx.env
        .control(
            &format!("/google/{}/shortcut", fx.drive),
            json!({"path": "links/report", "target": "docs/report.pdf"}),
        )
        .await;
    let c = fx.connector();
    let (changes, _, _) = drain(c.as_ref(), None).await;
    let items = upserts(&changes);
    let reports: Vec<_> = items.iter().filter(|i| i.name == "report.pdf").collect();
    assert_eq!(reports.len(), 2, "duplicates both reported");
    assert!(reports.iter().any(|r| r.id == dup) && reports.iter().any(|r| r.id == target));
    assert!(
        find(&items, "a/b.txt").is_some(),
        "a name holding '/' comes raw"
    );
    assert!(find(&items, "..").is_some());
    let sc = find(&items, "report").expect("shortcut listed");
    let t = sc.shortcut_target.as_ref().expect("shortcut target");
    assert!(t.id == target || t.id == dup);
    assert!(!sc.is_downloadable());
    assert!(c.capability().duplicate_names && c.capability().has_shortcuts);
}

#[tokio::test]
async fn trash_and_folder_removal_are_deletes() {
    let fx = google().await;
    let t = fx.put("docs/t.txt", b"t").await;
    let folder_file = fx.put("old/inner.txt", b"i").await;
    let c = fx.connector();
    let (_, cursor, _) = drain(c.as_ref(), None).await;
    fx.env
        .control(
            &format!("/google/{}/trash", fx.drive),
            json!({"path": "docs/t.txt"}),
        )
        .await;
    let old = fx.remove("old").await;
    let (changes, cursor, _) = drain(c.as_ref(), Some(cursor)).await;
    let deleted: Vec<&str> = changes
        .iter()
        .filter_map(|c| match c {
            RemoteChange::Delete { id } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        deleted.contains(&t.as_str()),
        "trash is a delete: {changes:?}"
    );
    assert!(
        deleted.contains(&old.as_str()),
        "folder delete: {changes:?}"
    );
    let _ = folder_file;
    // Restoring brings it back as an upsert.
    fx.env
        .control(
            &format!("/google/{}/trash", fx.drive),
            json!({"path": "docs/t.txt", "trashed": false}),
        )
        .await;
    let (changes, _, _) = drain(c.as_ref(), Some(cursor)).await;
    assert!(
        upserts(&changes).iter().any(|i| i.id == t),
        "restore: {changes:?}"
    );
}

#[tokio::test]
async fn shared_drive_source_lists_and_follows_that_drive() {
    let fx = google().await;
    fx.put("mine.txt", b"mine").await;
    let sd = fx
        .env
        .control(
            "/google/shared-drives",
            json!({"name": "Engineering", "members": [fx.account.account_id]}),
        )
        .await;
    let drive = sd["driveId"].as_str().expect("driveId").to_owned();
    fx.env
        .put("google", &drive, "specs/spec.txt", b"spec")
        .await;
    // The account root offers the shared drive as a source.
    let top = fx.connector().list_folders(None).await.expect("folders");
    let offered = top
        .iter()
        .find(|f| f.name == "Engineering")
        .expect("shared drive offered");
    assert_eq!(offered.source.drive_id.as_deref(), Some(drive.as_str()));

    let mut cfg = fx.config();
    cfg.source = Source {
        drive_id: Some(drive.clone()),
        ..Source::default()
    };
    let c = connector_for(ProviderKind::GoogleDrive, cfg, fx.account.tokens.clone())
        .expect("connector");
    let root = c.root().await.expect("root");
    assert_eq!(root.id, drive);
    let (changes, cursor, _) = drain(c.as_ref(), None).await;
    let items = upserts(&changes);
    assert!(find(&items, "spec.txt").is_some());
    assert!(
        find(&items, "mine.txt").is_none(),
        "My Drive items stay out"
    );
    let spec = find(&items, "spec.txt").expect("spec").clone();
    let (bytes, _, hash) = fetch(c.as_ref(), &spec, true).await.expect("download");
    assert_eq!(bytes, b"spec");
    spec.hash
        .as_ref()
        .expect("md5")
        .check(&hash)
        .expect("md5 matches");
    fx.env.put("google", &drive, "specs/new.txt", b"n").await;
    let (changes, _, _) = drain(c.as_ref(), Some(cursor)).await;
    assert!(
        find(&upserts(&changes), "new.txt").is_some(),
        "shared drive feed: {changes:?}"
    );
}

#[tokio::test]
async fn unknown_folder_source_is_not_found() {
    let fx = google().await;
    let mut cfg = fx.config();
    cfg.source = Source {
        folder_id: Some("nope".into()),
        ..Source::default()
    };
    let c = connector_for(ProviderKind::GoogleDrive, cfg, fx.account.tokens.clone())
        .expect("connector");
    assert!(matches!(c.root().await, Err(ConnectorError::NotFound(_))));
}

#[tokio::test]
async fn the_export_map_is_configurable() {
    let fx = google().await;
    fx.put(&format!("Notes?mimeType={DOC}"), b"text").await;
    let mut cfg = fx.config();
    cfg.export_formats.0.insert(
        DOC.to_owned(),
        folio_connectors::ExportInfo {
            mime_type: "application/pdf".into(),
            extension: "pdf".into(),
        },
    );
    let c = connector_for(ProviderKind::GoogleDrive, cfg, fx.account.tokens.clone())
        .expect("connector");
    let (changes, _, _) = drain(c.as_ref(), None).await;
    let notes = find(&upserts(&changes), "Notes").expect("listed").clone();
    assert_eq!(
        notes.export.as_ref().map(|e| e.extension.as_str()),
        Some("pdf")
    );
    let (bytes, _, _) = fetch(c.as_ref(), &notes, true).await.expect("export");
    assert!(String::from_utf8_lossy(&bytes).contains("application/pdf"));
}
