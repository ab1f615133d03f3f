//! What a sync (and the account route) says when an integration's address
//! is wrong or dead: which address failed, which integration field it
//! comes from, and the cause. And a `local` library sent to `_sync`.

use folio_testkit::sim::{Provider, SimWorld};
use reqwest::Method;
use serde_json::{Value, json};

/// Connects library `key` and points its integration's `field` at `value`.
async fn misconfigured(world: &SimWorld, key: &str, field: &str, value: &str) {
    world.connect_library(key).await;
    let (status, integration) = world
        .app
        .call(
            Method::GET,
            &format!("/api/libraries/{key}/integration"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{integration}");
    let id = integration["id"].as_str().expect("integration id");
    let (status, patched) = world
        .app
        .call(
            Method::PATCH,
            &format!("/api/integrations/{id}"),
            Some(json!({ field: value })),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
}

fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_wrong_token_uri_is_named_with_its_field_and_answer() {
    let world = SimWorld::start(Provider::Google).await;
    let wrong = world.sim.url("/wrong/token");
    misconfigured(&world, "tok", "tokenUri", &wrong).await;
    // The access token dies: the sync must go to the token endpoint.
    world
        .sim
        .post("/_sim/google/tokens/expire", json!({}))
        .await;
    let (status, body) = world.app.sync("tok", json!({})).await;
    assert_eq!(status, 502, "{body}");
    let said = message(&body);
    for part in [wrong.as_str(), "tokenUri", "404"] {
        assert!(said.contains(part), "{part} in {said}");
    }
}

#[tokio::test]
async fn a_wrong_api_uri_is_named_for_the_sync_and_the_account() {
    let world = SimWorld::start(Provider::Google).await;
    let wrong = world.sim.url("/nowhere");
    misconfigured(&world, "api", "apiUri", &wrong).await;
    let (status, body) = world.app.sync("api", json!({})).await;
    assert_eq!(status, 422, "{body}");
    let said = message(&body);
    for part in ["/nowhere/drive/v3/", "apiUri", "404"] {
        assert!(said.contains(part), "{part} in {said}");
    }
    let (status, body) = world
        .app
        .call(Method::GET, "/api/libraries/api/account", None)
        .await;
    assert_eq!(status, 422, "{body}");
    let said = message(&body);
    for part in ["/nowhere/drive/v3/about", "apiUri", "404"] {
        assert!(said.contains(part), "{part} in {said}");
    }
}

#[tokio::test]
async fn a_dead_api_port_is_named_with_the_cause() {
    let world = SimWorld::start(Provider::Google).await;
    // Port 1 on loopback: nothing listens, the connection is refused.
    misconfigured(&world, "dead", "apiUri", "http://127.0.0.1:1").await;
    let (status, body) = world.app.sync("dead", json!({})).await;
    assert_eq!(status, 502, "{body}");
    let said = message(&body);
    for part in ["http://127.0.0.1:1", "apiUri", "refused"] {
        assert!(said.contains(part), "{part} in {said}");
    }
}

/// A provider whose certificate Folio cannot verify (here a cloudsim whose
/// CA nobody trusts): the answer carries the cause, not only the log.
#[tokio::test]
async fn an_untrusted_certificate_is_named_in_the_answer() {
    let world = SimWorld::start(Provider::Google).await;
    let tls_dir = tempfile::tempdir().expect("tls dir");
    let untrusted = cloudsim::Sim::start(cloudsim::SimOptions {
        tls: Some(cloudsim::server::TlsOptions::Generate {
            dir: tls_dir.path().to_path_buf(),
        }),
        ..Default::default()
    })
    .await
    .expect("start cloudsim with TLS");
    let api = untrusted.base_url().to_owned();
    assert!(api.starts_with("https://"), "{api}");
    misconfigured(&world, "tls", "apiUri", &api).await;
    let (status, body) = world.app.sync("tls", json!({})).await;
    assert_eq!(status, 502, "{body}");
    let said = message(&body);
    for part in ["apiUri", "certificate"] {
        assert!(said.contains(part), "{part} in {said}");
    }
}

#[tokio::test]
async fn a_local_library_has_no_provider_to_sync_from() {
    let world = SimWorld::start(Provider::Google).await;
    let (status, created) = world
        .app
        .call(
            Method::POST,
            "/api/libraries",
            Some(json!({"name": "Local", "naturalId": "local-one", "type": "local"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let (status, body) = world.app.sync("local-one", json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        message(&body).contains("local library") && message(&body).contains("no provider"),
        "{body}"
    );
}
