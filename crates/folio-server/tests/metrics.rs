//! `GET /metrics` over real HTTP: a Drive sync at cloudsim with one file
//! failing and the counters agreeing with the `_sync` answer, provider
//! requests and throttled answers, token refreshes, route templates as
//! labels (no path, natural id, email or token in the text), and the
//! metrics token.
//!
//! The metrics are process-wide, so the tests of this file take turns
//! ([`TURN`]) and compare the counters before and after what they do.
//! For the same reason this file is a test binary of its own, not a module
//! of `tests/it`: the other tests' syncs and requests would move the
//! counters between the two scrapes.

use std::collections::HashMap;
use std::time::Duration;

use folio_server::scheduler::{Scheduler, SchedulerConfig};
use folio_server::{AppState, ServerConfig};
use folio_testkit::TestApp;
use folio_testkit::sim::{Provider, SimWorld};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::Mutex;

static TURN: Mutex<()> = Mutex::const_new(());

/// Every sample of a scrape, by its series (`name{labels}`).
struct Scrape {
    text: String,
    samples: HashMap<String, f64>,
}

impl Scrape {
    fn value(&self, series: &str) -> f64 {
        self.samples.get(series).copied().unwrap_or(0.0)
    }

    /// How much `series` grew since `before`.
    fn grew(&self, before: &Scrape, series: &str) -> f64 {
        self.value(series) - before.value(series)
    }

    /// How much the series of `name` whose labels include every one of
    /// `labels` grew since `before`, in all.
    fn grew_where(&self, before: &Scrape, name: &str, labels: &[&str]) -> f64 {
        self.samples
            .keys()
            .filter(|series| {
                series.starts_with(&format!("{name}{{"))
                    && labels.iter().all(|l| series.contains(l))
            })
            .map(|series| self.grew(before, series))
            .sum()
    }
}

async fn scrape(app: &TestApp) -> Scrape {
    let response = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(content_type.contains("text"), "{content_type}");
    let text = response.text().await.expect("body");
    let samples = text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect();
    Scrape { text, samples }
}

fn file_bytes(i: usize) -> Vec<u8> {
    format!("{i:04}").repeat(500).into_bytes()
}

/// The google requests cloudsim answered since its counts were reset,
/// but the OAuth ones (Folio sends those through its OAuth client, not a
/// connector).
async fn drive_requests_seen_by_the_provider(world: &SimWorld) -> f64 {
    let counts = world.sim.request_counts().await;
    let counts = counts.as_object().expect("counts");
    counts
        .iter()
        .filter(|(key, _)| key.starts_with("google ") && !key.contains("/token"))
        .filter(|(key, _)| !key.contains("/auth") && !key.contains("oauth"))
        .map(|(_, n)| n.as_f64().unwrap_or(0.0))
        .sum()
}

#[tokio::test]
async fn a_sync_with_one_failing_file_is_counted_as_its_answer_says() {
    let _turn = TURN.lock().await;
    let world = SimWorld::start(Provider::Google).await;
    let drive = world.connect_library("docs").await.account_id;
    let mut ids = Vec::new();
    for i in 0..5 {
        let put = world
            .put_file(&drive, &format!("f{i}.txt"), &file_bytes(i))
            .await;
        ids.push(put["id"].as_str().expect("file id").to_owned());
    }
    world
        .sim
        .post(
            "/_sim/faults",
            json!({"provider": "google", "endpoint": "GET /drive/v3/files/{fileId}?alt=media",
                   "kind": "server_error", "status": 500, "itemId": ids[3]}),
        )
        .await;
    world.sim.reset_request_counts().await;
    let before = scrape(&world.app).await;
    let (status, result) = world.app.sync("docs", json!({})).await;
    let after = scrape(&world.app).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(
        (
            result["addedFiles"].as_i64(),
            result["errors"].as_array().map(Vec::len)
        ),
        (Some(4), Some(1)),
        "{result}"
    );
    let runs = world.app.runs("docs").await;
    assert_eq!(runs[0]["status"], "done", "{runs:?}");

    let t = r#"type="google-drive""#;
    let grew = |series: &str| after.grew(&before, series);
    assert_eq!(
        grew(r#"folio_sync_runs_total{type="google-drive",trigger="manual",status="done"}"#),
        1.0,
        "{}",
        after.text
    );
    assert_eq!(
        after.grew_where(&before, "folio_sync_runs_total", &[t]),
        1.0
    );
    assert_eq!(
        grew(r#"folio_sync_files_total{type="google-drive",change="added"}"#),
        4.0
    );
    assert_eq!(
        grew(r#"folio_sync_files_total{type="google-drive",change="failed"}"#),
        1.0
    );
    assert_eq!(
        after.grew_where(&before, "folio_sync_files_total", &[t]),
        5.0,
        "nothing updated, deleted or moved"
    );
    let downloaded: usize = [0, 1, 2, 4].iter().map(|&i| file_bytes(i).len()).sum();
    assert_eq!(
        grew(r#"folio_sync_bytes_total{type="google-drive"}"#),
        downloaded as f64
    );
    assert_eq!(
        grew(r#"folio_sync_duration_seconds_count{type="google-drive"}"#),
        1.0
    );
    assert_eq!(after.value("folio_syncs_running"), 0.0);

    // Every Drive request the sync sent is counted once, by its class;
    // the failing download's attempts among the 5xx.
    let sent = after.grew_where(
        &before,
        "folio_provider_requests_total",
        &[r#"provider="google""#],
    );
    assert_eq!(
        sent,
        drive_requests_seen_by_the_provider(&world).await,
        "{}",
        after.text
    );
    let failed_downloads = world.sim.downloads(Provider::Google).await as f64 - 4.0;
    assert!(failed_downloads >= 1.0);
    assert_eq!(
        grew(r#"folio_provider_requests_total{provider="google",outcome="5xx"}"#),
        failed_downloads
    );
    assert!(grew(r#"folio_provider_requests_total{provider="google",outcome="2xx"}"#) >= 5.0);
    assert_eq!(
        grew(r#"folio_provider_throttled_total{provider="google"}"#),
        0.0,
        "a 500 is not a throttle"
    );

    // A dry run is a run of its own trigger that changes no file.
    let before = after;
    let (status, planned) = world.app.sync("docs", json!({"dryRun": true})).await;
    assert_eq!(status, 200, "{planned}");
    let after = scrape(&world.app).await;
    assert_eq!(
        after.grew(
            &before,
            r#"folio_sync_runs_total{type="google-drive",trigger="dry-run",status="done"}"#
        ),
        1.0,
        "{}",
        after.text
    );
    assert_eq!(
        after.grew_where(&before, "folio_sync_files_total", &[t]),
        0.0
    );
}

#[tokio::test]
async fn throttled_answers_and_token_refreshes_are_counted() {
    let _turn = TURN.lock().await;
    let world = SimWorld::start(Provider::Google).await;
    let drive = world.connect_library("docs").await.account_id;
    let put = world.put_file(&drive, "a.txt", b"alpha").await;
    world
        .sim
        .post(
            "/_sim/faults",
            json!({"provider": "google", "endpoint": "GET /drive/v3/files/{fileId}?alt=media",
                   "kind": "rate_limit", "retryAfterSeconds": 0, "count": 2, "itemId": put["id"]}),
        )
        .await;
    let before = scrape(&world.app).await;
    let (status, result) = world.app.sync("docs", json!({})).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(
        result["addedFiles"], 1,
        "retried past the throttling: {result}"
    );
    let after = scrape(&world.app).await;
    assert_eq!(
        after.grew(
            &before,
            r#"folio_provider_throttled_total{provider="google"}"#
        ),
        2.0,
        "{}",
        after.text
    );
    assert_eq!(
        after.grew(
            &before,
            r#"folio_provider_requests_total{provider="google",outcome="4xx"}"#
        ),
        2.0
    );

    // An expired access token: one refresh, ok.
    world
        .sim
        .post("/_sim/google/tokens/expire", json!({}))
        .await;
    let (status, body) = world
        .app
        .call(Method::GET, "/api/libraries/docs/account", None)
        .await;
    assert_eq!(status, 200, "{body}");
    let refreshed = scrape(&world.app).await;
    assert_eq!(
        refreshed.grew(
            &after,
            r#"folio_token_refreshes_total{provider="google",result="ok"}"#
        ),
        1.0,
        "{}",
        refreshed.text
    );

    // A revoked grant: the refresh says the connection needs reauthorizing.
    world
        .sim
        .post("/_sim/google/tokens/revoke", json!({}))
        .await;
    let (status, body) = world
        .app
        .call(Method::GET, "/api/libraries/docs/account", None)
        .await;
    assert_eq!(status, 422, "{body}");
    let refused = scrape(&world.app).await;
    assert_eq!(
        refused.grew(
            &refreshed,
            r#"folio_token_refreshes_total{provider="google",result="reauthorize"}"#
        ),
        1.0,
        "{}",
        refused.text
    );
}

#[tokio::test]
async fn routes_are_labelled_by_template_and_no_secret_or_name_shows() {
    let _turn = TURN.lock().await;
    let world = SimWorld::start(Provider::Google).await;
    let natural_id = "acme-ledger-7";
    let drive = world.connect_library(natural_id).await.account_id;
    let path = "quarterly-secrets/board-minutes.txt";
    world.put_file(&drive, path, b"minutes").await;
    let (status, result) = world.app.sync(natural_id, json!({})).await;
    assert_eq!(status, 200, "{result}");
    let before = scrape(&world.app).await;
    let (status, _) = world.app.file(natural_id, path).await;
    assert_eq!(status, 200);
    let (status, _) = world.app.file(natural_id, "no-such/file.txt").await;
    assert_eq!(status, 404);
    let (status, _) = world
        .app
        .call(Method::GET, &format!("/api/libraries/{natural_id}"), None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = world
        .app
        .call(
            Method::GET,
            "/nowhere/acme-ledger-7/quarterly-secrets",
            None,
        )
        .await;
    assert_eq!(status, 404);
    let after = scrape(&world.app).await;

    let files = r#"route="/api/libraries/{id}/files/{*path}""#;
    assert_eq!(
        after.grew(
            &before,
            &format!(r#"folio_http_requests_total{{method="GET",{files},status="200"}}"#)
        ),
        1.0,
        "{}",
        after.text
    );
    assert_eq!(
        after.grew(
            &before,
            &format!(r#"folio_http_requests_total{{method="GET",{files},status="404"}}"#)
        ),
        1.0
    );
    assert_eq!(
        after.grew(
            &before,
            &format!(r#"folio_http_request_duration_seconds_count{{method="GET",{files}}}"#)
        ),
        2.0
    );
    assert_eq!(
        after.grew(
            &before,
            r#"folio_http_requests_total{method="GET",route="/api/libraries/{id}",status="200"}"#
        ),
        1.0
    );
    assert_eq!(
        after.grew(
            &before,
            r#"folio_http_requests_total{method="GET",route="unmatched",status="404"}"#
        ),
        1.0
    );
    assert!(after.value(r#"folio_http_requests_total{method="POST",route="/api/libraries/{id}/_sync",status="200"}"#) >= 1.0);
    assert!(
        after.text.contains("process_resident_memory_bytes"),
        "{}",
        after.text
    );
    assert!(after.text.contains("process_cpu_seconds_total"));

    for secret in [
        natural_id,
        "quarterly-secrets",
        "board-minutes",
        "no-such",
        "a@example.com",
        world.app.admin_token.as_str(),
    ] {
        assert!(!after.text.contains(secret), "{secret} in:\n{}", after.text);
    }
}

#[tokio::test]
async fn a_metrics_token_is_the_only_credential_the_metrics_take() {
    let _turn = TURN.lock().await;
    let token = "scrape-me-0f3c9a";
    let app = TestApp::spawn_with(ServerConfig {
        metrics_token: Some(token.to_owned()),
        ..ServerConfig::default()
    })
    .await;
    let get = |bearer: Option<&str>| {
        let request = app.client.get(app.url("/metrics"));
        match bearer {
            Some(b) => request.bearer_auth(b),
            None => request,
        }
    };
    for (bearer, why) in [
        (None, "no credentials"),
        (Some("scrape-me-wrong"), "a wrong token"),
        (Some(app.admin_token.as_str()), "the admin's API token"),
    ] {
        let response = get(bearer).send().await.expect("GET /metrics");
        assert_eq!(response.status(), 401, "{why}");
        let body: Value = response.json().await.expect("the usual error body");
        assert_eq!(body["statusCode"], 401, "{why}: {body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains("metrics token")),
            "{body}"
        );
    }
    let response = get(Some(token)).send().await.expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("body");
    assert!(text.contains("# TYPE folio_syncs_running gauge"), "{text}");
    assert!(!text.contains(token));
    let lower_case = app
        .client
        .get(app.url("/metrics"))
        .header("authorization", format!("bearer {token}"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(lower_case.status(), 200, "the scheme is case-insensitive");

    // A method a client invents is one `other` label, not a series of its own.
    let invented = Method::from_bytes(b"FROBNICATE").expect("method");
    app.client
        .request(invented, app.url("/api/libraries"))
        .send()
        .await
        .expect("request");
    let text = get(Some(token))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("body");
    assert!(!text.contains("FROBNICATE"), "{text}");
    assert!(text.contains(r#"method="other""#), "{text}");

    let (status, _) = app.call(Method::GET, "/api/metrics", None).await;
    assert_eq!(status, 404, "not under /api");
}

#[tokio::test]
async fn a_scheduled_sync_that_cannot_start_is_a_failed_run() {
    let _turn = TURN.lock().await;
    let config = ServerConfig {
        scheduler: SchedulerConfig {
            tick: Duration::from_millis(100),
            ..SchedulerConfig::default()
        },
        ..ServerConfig::default()
    };
    let app = TestApp::spawn_with(config.clone()).await;
    let before = scrape(&app).await;
    let scheduler = Scheduler::start(AppState::new(app.store.clone(), app.blobs.clone(), config));
    // A Drive library with a schedule and no connection.
    let (status, library) = app
        .call(
            Method::POST,
            "/api/libraries",
            Some(
                json!({"name": "lone", "naturalId": "lone", "type": "google-drive",
                        "syncSchedule": {"intervalMinutes": 60}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{library}");
    let mut runs = Vec::new();
    for _ in 0..100 {
        runs = app.runs("lone").await;
        if !runs.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    scheduler.shutdown().await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(
        (&runs[0]["trigger"], &runs[0]["status"]),
        (&json!("schedule"), &json!("failed"))
    );
    let after = scrape(&app).await;
    assert_eq!(
        after.grew(
            &before,
            r#"folio_sync_runs_total{type="google-drive",trigger="schedule",status="failed"}"#
        ),
        1.0,
        "{}",
        after.text
    );
}
