//! `GET /api/progress/{id}` and `GET /api/progress/{id}/events` over real
//! HTTP: Folio and cloudsim in-process, a library connected through the
//! real OAuth flow, on SQLite or (with FOLIO_TEST_DATABASE_URL) PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use folio_testkit::TestApp;
use folio_testkit::sim::{Provider, SimWorld};
use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};

/// Longest a whole event stream may take before the test fails instead of
/// hanging.
const STREAM_LIMIT: Duration = Duration::from_secs(30);

/// Opens the event stream of a progress id.
async fn open_events(app: &TestApp, token: &str, id: &str, query: &str) -> reqwest::Response {
    app.as_token(
        token,
        Method::GET,
        &format!("/api/progress/{id}/events{query}"),
    )
    .send()
    .await
    .expect("events request")
}

/// One Server-Sent Event: its `event` name and its `data` as JSON.
#[derive(Debug, Clone)]
struct SseEvent {
    event: String,
    data: Value,
}

/// Reads a whole event stream until the server ends it; fails the test if
/// that takes longer than [`STREAM_LIMIT`].
async fn read_events(response: reqwest::Response) -> Vec<SseEvent> {
    assert_eq!(response.status(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    let mut body = response.bytes_stream();
    let mut text = String::new();
    let read_all = async {
        while let Some(chunk) = body.next().await {
            text.push_str(std::str::from_utf8(&chunk.expect("chunk")).expect("utf-8"));
        }
    };
    tokio::time::timeout(STREAM_LIMIT, read_all)
        .await
        .expect("the event stream ended");
    parse_events(&text)
}

/// Blocks separated by blank lines; `:` lines are comments (keep-alives).
fn parse_events(text: &str) -> Vec<SseEvent> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut event = "message".to_owned();
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event:") {
                    event = name.trim().to_owned();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push(value.strip_prefix(' ').unwrap_or(value));
                }
            }
            (!data.is_empty()).then(|| SseEvent {
                event,
                data: serde_json::from_str(&data.join("\n")).expect("event data is JSON"),
            })
        })
        .collect()
}

#[tokio::test]
async fn events_follow_a_sync_from_before_it_starts_to_done_then_end() {
    let world = Arc::new(SimWorld::start(Provider::Google).await);
    // Every download waits, so the sync lasts a couple of seconds.
    world.connect_slow_library("docs", 40, 300).await;

    // Subscribe first: the stream waits for the run to appear.
    let follower = {
        let world = world.clone();
        let token = world.app.admin_token.clone();
        tokio::spawn(async move {
            read_events(open_events(&world.app, &token, "live-1", "").await).await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, result) = world.app.sync("docs", json!({"progress": "live-1"})).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["addedFiles"], 40, "{result}");

    let events = follower.await.expect("follower");
    assert!(events.iter().all(|e| e.event == "progress"), "{events:?}");
    let downloading = events.iter().filter(|e| {
        e.data["status"] == "running"
            && e.data["phase"] == "downloading"
            && e.data["done"].as_i64() < e.data["total"].as_i64()
    });
    assert!(
        downloading.count() >= 1,
        "no event while the files were downloading: {events:?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e.data["phase"].as_str().is_some_and(|p| !p.is_empty())),
        "every event, the first included, names its phase: {events:?}"
    );
    assert!(
        events.iter().all(|e| e.data["current"].is_null()
            || e.data["current"].as_str().is_some_and(|c| c.contains('/'))),
        "the current file is its library path (gen/...): {events:?}"
    );
    let last = events.last().expect("at least one event");
    assert_eq!(last.data["status"], "done", "{events:?}");
    assert_eq!(last.data["totalKnown"], true, "{events:?}");
    assert_eq!(last.data["done"], 40);
    assert_eq!(last.data["total"], 40);
    assert_eq!(last.data["id"], "live-1");
    assert!(
        events[..events.len() - 1]
            .iter()
            .all(|e| e.data["status"] == "running"),
        "only the last event is final: {events:?}"
    );

    // The events carry the same JSON as GET /api/progress/{id}.
    let (status, snapshot) = world
        .app
        .call(Method::GET, "/api/progress/live-1", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(snapshot, last.data);

    // Subscribing after the end: the final state once, then the end.
    let again =
        read_events(open_events(&world.app, &world.app.admin_token, "live-1", "").await).await;
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0].data, last.data);
}

#[tokio::test]
async fn unknown_and_unreadable_progress_answer_404() {
    let world = SimWorld::start(Provider::Google).await;
    let admin = world.app.admin_token.clone();

    let response = open_events(&world.app, &admin, "nobody", "?wait=0").await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("error body");
    assert_eq!(body["message"], "progress 'nobody' not found", "{body}");

    // Waiting for a run that never comes ends in the same 404.
    let response = open_events(&world.app, &admin, "nobody", "?wait=1").await;
    assert_eq!(response.status(), 404);

    let response = open_events(&world.app, &admin, "nobody", "?wait=soon").await;
    assert_eq!(response.status(), 400);

    world.connect_library("docs").await;
    let (status, result) = world.app.sync("docs", json!({"progress": "mine"})).await;
    assert_eq!(status, 200, "{result}");

    let (bob, bob_token) = world.app.create_user("bob").await;
    let (status, _) = world
        .app
        .call_as(&bob_token, Method::GET, "/api/progress/mine", None)
        .await;
    assert_eq!(status, 404);
    let response = open_events(&world.app, &bob_token, "mine", "?wait=0").await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("error body");
    assert_eq!(
        body["message"], "progress 'mine' not found",
        "the same answer as for an unknown id"
    );
    let response = world
        .app
        .client
        .get(world.app.url("/api/progress/mine/events"))
        .send()
        .await
        .expect("anonymous");
    assert_eq!(response.status(), 401);

    let (status, _) = world
        .app
        .call(
            Method::PUT,
            &format!("/api/libraries/docs/shares/{bob}"),
            Some(json!({"level": "read"})),
        )
        .await;
    assert_eq!(status, 200);
    let events = read_events(open_events(&world.app, &bob_token, "mine", "?wait=0").await).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].data["status"], "done");

    let (status, spec) = world.app.call(Method::GET, "/api/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(
        spec["paths"]["/api/progress/{id}/events"]["get"].is_object(),
        "the events route is in the OpenAPI document"
    );
    assert!(spec["paths"]["/api/progress/{id}"]["get"].is_object());
}

#[tokio::test]
async fn a_failed_sync_ends_the_stream_with_failed() {
    let world = Arc::new(SimWorld::start(Provider::Google).await);
    let drive = world.connect_library("docs").await.account_id;
    world.put_file(&drive, "a.txt", b"alpha").await;
    world
        .sim
        .post("/_sim/google/tokens/revoke", json!({}))
        .await;

    let follower = {
        let world = world.clone();
        let token = world.app.admin_token.clone();
        tokio::spawn(async move {
            read_events(open_events(&world.app, &token, "doomed", "").await).await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, body) = world.app.sync("docs", json!({"progress": "doomed"})).await;
    assert_eq!(status, 422, "{body}");

    let events = follower.await.expect("follower");
    let last = events.last().expect("at least one event");
    assert_eq!(last.data["status"], "failed", "{events:?}");
    assert_eq!(last.data["id"], "doomed");
}

#[tokio::test]
async fn a_sync_whose_client_went_away_fails_its_run_and_frees_the_library() {
    let world = Arc::new(SimWorld::start(Provider::Google).await);
    world.connect_slow_library("docs", 40, 300).await;
    let follower = {
        let world = world.clone();
        let token = world.app.admin_token.clone();
        tokio::spawn(
            async move { read_events(open_events(&world.app, &token, "gone", "").await).await },
        )
    };
    let request = {
        let world = world.clone();
        tokio::spawn(async move { world.app.sync("docs", json!({"progress": "gone"})).await })
    };
    // Let it start downloading, then drop the request (its connection
    // closes, as when `folio sync` is stopped with Ctrl-C).
    let mut progress = Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        progress = world
            .app
            .call(Method::GET, "/api/progress/gone", None)
            .await
            .1;
        if progress["phase"] == "downloading" {
            break;
        }
    }
    assert_eq!(
        (&progress["phase"], &progress["status"]),
        (&json!("downloading"), &json!("running")),
        "{progress}"
    );
    request.abort();

    let events = follower.await.expect("follower");
    let last = events.last().expect("at least one event");
    assert_eq!(last.data["status"], "failed", "{events:?}");
    let (status, history) = world
        .app
        .call(Method::GET, "/api/libraries/docs/syncs", None)
        .await;
    assert_eq!(status, 200);
    let run = &history["items"][0];
    assert_eq!(
        (&run["progressId"], &run["status"]),
        (&json!("gone"), &json!("failed")),
        "{history}"
    );
    assert!(
        run["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("cancelled")),
        "{run}"
    );
    let (status, body) = world.app.sync("docs", json!({"progress": "again"})).await;
    assert_eq!(status, 200, "the library is free again: {body}");
    assert_eq!(body["syncedFiles"], 40, "{body}");
}
