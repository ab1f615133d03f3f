//! `POST /api/libraries/{id}/_sync`, `/syncs` and `/api/progress/{id}` over
//! real HTTP: Folio and cloudsim in-process, a library connected through
//! the real OAuth flow, on SQLite or (with FOLIO_TEST_DATABASE_URL)
//! PostgreSQL.

mod dry_run;
mod messages;
mod moves;
mod per_file;
mod purge;
mod storm;

use folio_testkit::sim::{Provider, SimWorld};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn sync_route_answers_the_contract_shape_and_records_history() {
    let world = SimWorld::start(Provider::Google).await;
    // Before any connection: 409.
    create_unconnected_library(&world, "lone").await;
    let (status, body) = world
        .app
        .call(Method::POST, "/api/libraries/lone/_sync", None)
        .await;
    assert_eq!(status, 409, "{body}");

    let drive = world.connect_library("docs").await.account_id;
    world.put_file(&drive, "a.txt", b"alpha").await;
    world.put_file(&drive, "sub/b.txt", b"bravo").await;
    let (status, result) = world.app.sync("docs", json!({"progress": "p-1"})).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(
        result,
        json!({"syncedFiles": 2, "addedFiles": 2, "updatedFiles": 0, "deletedFiles": 0, "movedFiles": 0, "errors": []})
    );
    let (status, file) = world.app.file("docs", "sub/b.txt").await;
    assert_eq!((status, file), (200, Value::String("bravo".into())));

    let (status, progress) = world.app.call(Method::GET, "/api/progress/p-1", None).await;
    assert_eq!(status, 200, "{progress}");
    assert_eq!(
        (progress["status"].as_str(), progress["done"].as_i64()),
        (Some("done"), Some(2))
    );

    let (status, again) = world.app.sync("docs", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(again["addedFiles"], 0);

    let (status, history) = world
        .app
        .call(Method::GET, "/api/libraries/docs/syncs", None)
        .await;
    assert_eq!(status, 200);
    let items = history["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{history}");
    assert_eq!(items[1]["trigger"], "manual");
    assert_eq!(items[1]["status"], "done");
    assert_eq!(items[1]["addedFiles"], 2);

    let (status, body) = world.app.sync("docs", json!({"purge": "yes"})).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn a_second_sync_gets_409_with_the_running_progress_id_and_a_revoked_grant_422() {
    let world = std::sync::Arc::new(SimWorld::start(Provider::Google).await);
    let drive = world.connect_library("docs").await.account_id;
    world.put_file(&drive, "slow.txt", b"slow bytes").await;
    world
        .sim
        .add_latency(Provider::Google, None, 1500, Some(1))
        .await;
    let first = {
        let world = world.clone();
        tokio::spawn(async move {
            world
                .app
                .sync("docs", json!({"progress": "long-one"}))
                .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (status, body) = world
        .app
        .call(Method::POST, "/api/libraries/docs/_sync", None)
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("long-one")),
        "{body}"
    );
    let (status, progress) = world
        .app
        .call(Method::GET, "/api/progress/long-one", None)
        .await;
    assert_eq!(
        (status, progress["status"].as_str()),
        (200, Some("running")),
        "{progress}"
    );
    let (status, result) = first.await.expect("first sync");
    assert_eq!(
        (status, result["addedFiles"].as_i64()),
        (200, Some(1)),
        "{result}"
    );

    world
        .sim
        .post("/_sim/google/tokens/revoke", json!({}))
        .await;
    world.put_file(&drive, "more.txt", b"more").await;
    let (status, body) = world
        .app
        .call(Method::POST, "/api/libraries/docs/_sync", None)
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("reconnect")),
        "{body}"
    );
}

#[tokio::test]
async fn connection_folders_lists_remote_folders_with_the_source_to_pick() {
    let world = SimWorld::start(Provider::Google).await;
    create_unconnected_library(&world, "lone").await;
    let (status, body) = world
        .app
        .call(Method::GET, "/api/libraries/lone/connection/folders", None)
        .await;
    assert_eq!(status, 409, "no connection yet: {body}");

    let drive = world.connect_library("docs").await.account_id;
    world.put_file(&drive, "Reports/q1.txt", b"q1").await;
    world.put_file(&drive, "Reports/2026/q2.txt", b"q2").await;
    world.put_file(&drive, "top.txt", b"t").await;
    let (status, root) = world
        .app
        .call(Method::GET, "/api/libraries/docs/connection/folders", None)
        .await;
    assert_eq!(status, 200, "{root}");
    let items = root["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "only folders, not files: {root}");
    assert_eq!(items[0]["name"], "Reports");
    let reports = items[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(items[0]["source"]["folderId"], reports.as_str());

    let (status, nested) = world
        .app
        .call(
            Method::GET,
            &format!("/api/libraries/docs/connection/folders?parent={reports}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{nested}");
    let names: Vec<&str> = nested["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(names, ["2026"]);
}

/// A Google Drive library with no connection yet.
async fn create_unconnected_library(world: &SimWorld, key: &str) {
    let (status, body) = world
        .app
        .call(
            Method::POST,
            "/api/libraries",
            Some(json!({"name": key, "naturalId": key, "type": "google-drive"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

/// The server's sync settings reach every run: here Docs exported as PDF
/// (`FOLIO_GOOGLE_EXPORTS=document=pdf`) instead of docx.
#[tokio::test]
async fn the_servers_export_choices_reach_the_sync() {
    let config = folio_server::ServerConfig {
        google_exports: folio_connectors::ExportFormats::with_choices("document=pdf")
            .expect("valid choice"),
        ..folio_server::ServerConfig::default()
    };
    let world = SimWorld::start_with(Provider::Google, config).await;
    let drive = world.connect_library("docs").await.account_id;
    world
        .put_file(
            &drive,
            "Notes?mimeType=application/vnd.google-apps.document",
            b"minutes",
        )
        .await;
    let (status, result) = world
        .app
        .call(Method::POST, "/api/libraries/docs/_sync", None)
        .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["addedFiles"], 1, "{result}");
    let (status, listing) = world
        .app
        .call(Method::GET, "/api/libraries/docs/files", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(listing["items"][0]["path"], "Notes.pdf", "{listing}");
    assert_eq!(
        listing["items"][0]["contentType"], "application/pdf",
        "{listing}"
    );
}
