//! The token lifecycle seen from the API: refresh before expiry, one
//! refresh for many concurrent callers, strict rotation, invalid_grant.

use std::sync::Arc;

use serde_json::json;
use uuid::Uuid;

use super::{GET, World};

async fn connected(library_type: &str) -> (World, String, Uuid) {
    let world = World::start().await;
    let (_, token) = world.app.create_user("owner").await;
    let (library, _) = world
        .library_with_integration(&token, "docs", library_type)
        .await;
    assert_eq!(world.connect(&token, "docs").await, 200);
    let id = library["id"].as_str().unwrap().parse().unwrap();
    (world, token, id)
}

#[tokio::test]
async fn refreshes_ahead_of_expiry() {
    let world = World::start().await;
    // Tokens that live 60 s are inside the 5-minute margin at once.
    let response = world
        .browser
        .patch(world.sim.url("/_sim/settings"))
        .json(&json!({"accessTokenLifetimeSeconds": {"google": 60}}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let (_, token) = world.app.create_user("owner").await;
    let (library, _) = world
        .library_with_integration(&token, "docs", "google-drive")
        .await;
    assert_eq!(world.connect(&token, "docs").await, 200);
    let (_, before) = world
        .call(&token, GET, "/api/libraries/docs/connection", None)
        .await;
    world.sim.reset_request_counts().await;
    let (status, account) = world
        .call(&token, GET, "/api/libraries/docs/account", None)
        .await;
    assert_eq!(status, 200, "{account}");
    assert_eq!(
        world.token_calls("google").await,
        1,
        "one refresh before the call"
    );
    let (_, after) = world
        .call(&token, GET, "/api/libraries/docs/connection", None)
        .await;
    assert_ne!(after["tokenExpiresAt"], before["tokenExpiresAt"]);
    assert!(after["lastRefreshedAt"].is_string());
    let id: Uuid = library["id"].as_str().unwrap().parse().unwrap();
    world.assert_no_leaks(&world.stored_tokens(id).await);
}

#[tokio::test]
async fn a_hundred_concurrent_callers_cause_one_refresh() {
    let (world, token, library_id) = connected("onedrive").await;
    let old = world.stored_tokens(library_id).await;
    world
        .sim
        .post("/_sim/microsoft/tokens/expire", json!({}))
        .await;
    world.sim.reset_request_counts().await;
    let world = Arc::new(world);
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (world, token) = (world.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            world
                .call(&token, GET, "/api/libraries/docs/account", None)
                .await
        }));
    }
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["email"], "alice@example.com");
    }
    assert_eq!(
        world.token_calls("microsoft").await,
        1,
        "exactly one refresh: {}",
        world.sim.request_counts().await
    );
    let new = world.stored_tokens(library_id).await;
    assert_ne!(old[0], new[0], "a new access token");
    assert_ne!(
        old[1], new[1],
        "Microsoft rotated the refresh token and it was stored"
    );
    let mut all = old;
    all.extend(new);
    world.assert_no_leaks(&all);
}

#[tokio::test]
async fn strict_rotation_survives_repeated_refreshes() {
    // With strictRotation (cloudsim's default) a used refresh token dies:
    // every refresh must use the one stored by the previous refresh.
    let (world, token, library_id) = connected("sharepoint").await;
    let first = world.stored_tokens(library_id).await;
    for _ in 0..3 {
        world
            .sim
            .post("/_sim/microsoft/tokens/expire", json!({}))
            .await;
        let (status, body) = world
            .call(&token, GET, "/api/libraries/docs/account", None)
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, connection) = world
        .call(&token, GET, "/api/libraries/docs/connection", None)
        .await;
    assert_eq!(connection["status"], "active");
    // The first refresh token was rotated away and no longer works.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", first[1].as_str()),
        ("client_id", "folio-microsoft"),
        ("client_secret", super::CLIENT_SECRET),
    ];
    let response = world
        .browser
        .post(world.sim.url("/common/oauth2/v2.0/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn invalid_grant_marks_the_connection_for_reauthorization() {
    let (world, token, library_id) = connected("google-drive").await;
    let tokens = world.stored_tokens(library_id).await;
    world
        .sim
        .post("/_sim/google/tokens/revoke", json!({}))
        .await;
    let (status, body) = world
        .call(&token, GET, "/api/libraries/docs/account", None)
        .await;
    assert_eq!(status, 422, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("reconnect"), "{message}");
    assert!(
        message.contains("/api/libraries/docs/connection/authorize"),
        "{message}"
    );
    let (_, connection) = world
        .call(&token, GET, "/api/libraries/docs/connection", None)
        .await;
    assert_eq!(connection["status"], "needsReauthorization");
    // Later uses say so without asking the provider again.
    world.sim.reset_request_counts().await;
    let (status, _) = world
        .call(&token, GET, "/api/libraries/docs/account", None)
        .await;
    assert_eq!(status, 422);
    assert_eq!(world.token_calls("google").await, 0);
    // Reconnecting heals it.
    assert_eq!(world.connect(&token, "docs").await, 200);
    let (_, connection) = world
        .call(&token, GET, "/api/libraries/docs/connection", None)
        .await;
    assert_eq!(connection["status"], "active");
    let (status, _) = world
        .call(&token, GET, "/api/libraries/docs/account", None)
        .await;
    assert_eq!(status, 200);
    world.assert_no_leaks(&tokens);
}

#[tokio::test]
async fn a_401_triggers_one_refresh_and_one_retry() {
    let (world, token, _) = connected("dropbox").await;
    world
        .sim
        .post("/_sim/dropbox/tokens/expire", json!({}))
        .await;
    world.sim.reset_request_counts().await;
    let (status, body) = world
        .call(&token, GET, "/api/libraries/docs/account", None)
        .await;
    assert_eq!(status, 200, "{body}");
    let counts = world.sim.request_counts().await;
    assert_eq!(world.token_calls("dropbox").await, 1);
    assert_eq!(
        super::count_of(&counts, "dropbox POST ", |r| r
            == "/2/users/get_current_account"),
        2,
        "{counts}"
    );
}

#[tokio::test]
async fn keep_alive_refreshes_idle_grants() {
    let (world, token, _) = connected("google-drive").await;
    world.sim.reset_request_counts().await;
    let refreshed = world
        .app_tokens()
        .keep_alive_pass(chrono::Duration::zero())
        .await
        .unwrap();
    assert_eq!(refreshed, 1);
    assert_eq!(world.token_calls("google").await, 1);
    let refreshed = world
        .app_tokens()
        .keep_alive_pass(chrono::Duration::days(30))
        .await
        .unwrap();
    assert_eq!(refreshed, 0, "just refreshed: not idle");
    let (_, connection) = world
        .call(&token, GET, "/api/libraries/docs/connection", None)
        .await;
    assert!(connection["lastRefreshedAt"].is_string());
}

#[tokio::test]
async fn two_replicas_refresh_once() {
    // The server and a second TokenManager on the same database (another
    // replica: its own in-process locks) race for one expired token; the
    // row lease lets exactly one of them refresh.
    let (world, token, library_id) = connected("onedrive").await;
    let connection = world
        .app
        .store
        .connection_for_library(library_id)
        .await
        .unwrap()
        .unwrap();
    let old = world.stored_tokens(library_id).await;
    world
        .sim
        .post("/_sim/microsoft/tokens/expire", json!({}))
        .await;
    world.sim.reset_request_counts().await;
    let world = Arc::new(world);
    let replica = world.app_tokens();
    let rejected = folio_oauth::SecretString::from(old[0].clone());
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (world, token, replica, rejected) = (
            world.clone(),
            token.clone(),
            replica.clone(),
            rejected.clone(),
        );
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                let t = replica
                    .refresh_after_unauthorized(connection.id, &rejected)
                    .await
                    .expect("replica token");
                assert_ne!(
                    folio_oauth::ExposeSecret::expose_secret(&t.token),
                    folio_oauth::ExposeSecret::expose_secret(&rejected)
                );
            } else {
                let (status, body) = world
                    .call(&token, GET, "/api/libraries/docs/account", None)
                    .await;
                assert_eq!(status, 200, "{body}");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        world.token_calls("microsoft").await,
        1,
        "{}",
        world.sim.request_counts().await
    );
}

#[tokio::test]
async fn keys_rotate_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.keys");
    let keys = folio_oauth::Keyring::load_or_create_file(&path).unwrap();
    let world = World::start_with_keys(folio_server::ServerConfig::default(), keys).await;
    let (_, token) = world.app.create_user("owner").await;
    world
        .library_with_integration(&token, "docs", "dropbox")
        .await;
    assert_eq!(world.connect(&token, "docs").await, 200);

    // `folio keys rotate`, from another process's point of view.
    let rotating = folio_oauth::Keyring::load_or_create_file(&path).unwrap();
    assert_eq!(rotating.add_key_to_file().unwrap(), 2);
    let manager = folio_oauth::TokenManager::new(
        world.app.store.clone(),
        rotating,
        folio_oauth::UrlPolicy {
            allow_private: true,
        },
    )
    .unwrap();
    let (resealed, kept) = manager.reseal_all().await.unwrap();
    assert!(
        resealed >= 3,
        "client secret, access and refresh token: {resealed}"
    );
    assert_eq!(kept, 0);
    for value in world.app.store.sealed_values().await.unwrap() {
        assert_eq!(folio_oauth::Keyring::key_id_of(&value.value), Some(2));
    }
    // The running server learns key 2 from the file and keeps working.
    let (status, body) = world
        .call(&token, GET, "/api/libraries/docs/account", None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        manager.reseal_all().await.unwrap().0,
        0,
        "nothing left under key 1"
    );
}
