//! Names that would spoof what a user sees (bidi overrides, zero-width
//! joiners, byte-order marks) never become library paths: uploads naming
//! them are refused, synced names have them replaced, like control
//! characters.

use folio_testkit::TestApp;
use folio_testkit::sim::{Provider, SimWorld};
use serde_json::{Value, json};

use super::{GET, PUT, assert_error};

/// Raw names, each with the spoofing character it carries.
const SPOOFING: &[&str] = &[
    "evil\u{202e}txt.exe",
    "a\u{200d}b.txt",
    "\u{feff}bom.txt",
    "iso\u{2066}late\u{2069}.txt",
    "soft\u{ad}hyphen.txt",
    "filler\u{3164}.txt",
];

#[tokio::test]
async fn uploads_with_bidi_or_invisible_characters_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    app.create_library(
        &app.admin_token,
        json!({"name": "Docs", "naturalId": "docs", "type": "local"}),
    )
    .await;
    for name in SPOOFING {
        for path in [name.to_string(), format!("{name}/inner.txt")] {
            let response = app
                .admin(PUT, &format!("/api/libraries/docs/files/{path}"))
                .body("x")
                .send()
                .await
                .unwrap();
            let message = assert_error(response, 400).await;
            assert!(message.starts_with("path: "), "{path:?}: {message}");
            assert!(message.contains("bidi"), "{path:?}: {message}");
        }
    }
    let list: Value = app
        .admin(GET, "/api/libraries/docs/files")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn synced_names_with_bidi_or_invisible_characters_are_made_safe() {
    let world = SimWorld::start(Provider::Google).await;
    let drive = world.connect_library("docs").await.account_id;
    for name in SPOOFING {
        world.put_file(&drive, &format!("in/{name}"), b"x").await;
    }
    world.put_file(&drive, "rtl\u{202e}dir/f.txt", b"y").await;

    let (status, result) = world.app.sync("docs", json!({})).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["errors"], json!([]), "{result}");
    let mut paths: Vec<String> = world
        .app
        .files("docs")
        .await
        .iter()
        .map(|f| f["path"].as_str().unwrap_or_default().to_owned())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "in/_bom.txt",
            "in/a_b.txt",
            "in/evil_txt.exe",
            "in/filler_.txt",
            "in/iso_late_.txt",
            "in/soft_hyphen.txt",
            "rtl_dir/f.txt",
        ]
    );
    // The safe paths are the ones the API serves.
    let (status, body) = world.app.file("docs", "in/evil_txt.exe").await;
    assert_eq!((status, body), (200, json!("x")));
}
