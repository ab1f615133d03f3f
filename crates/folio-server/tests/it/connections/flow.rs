//! The connect flow for each provider type, the seed shapes, state replay
//! and expiry, PKCE, provider errors, returnTo, account switching and
//! disconnecting.

use chrono::Utc;
use folio_store::OAuthState;
use folio_testkit::sim::Provider;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{CLIENT_SECRET, DELETE, GET, World, count_of, query_param};

const CONNECTION_KEYS: [&str; 8] = [
    "id",
    "ownerId",
    "integrationId",
    "tokenExpiresAt",
    "refreshTokenExpiresAt",
    "lastAuthorizedAt",
    "createdAt",
    "updatedAt",
];
const INTEGRATION_KEYS: [&str; 10] = [
    "id",
    "name",
    "type",
    "embedded",
    "libraryId",
    "authType",
    "clientId",
    "authUri",
    "tokenUri",
    "scope",
];

fn is_rfc3339_utc(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        chrono::DateTime::parse_from_rfc3339(s).is_ok_and(|d| d.offset().local_minus_utc() == 0)
    })
}

async fn full_flow(library_type: &str) {
    let world = World::start().await;
    let app = &world.app;
    let (owner, token) = app.create_user("owner").await;
    let (library, integration) = world
        .library_with_integration(&token, "docs", library_type)
        .await;
    let p = Provider::of_library_type(library_type);

    // The authorize redirect carries PKCE S256, state and the offline parameters.
    let provider_url = world.authorize(&token, "docs", "").await;
    assert!(
        provider_url.starts_with(&world.sim.url(&p.auth_path())),
        "{provider_url}"
    );
    assert_eq!(
        query_param(&provider_url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(
        query_param(&provider_url, "response_type").as_deref(),
        Some("code")
    );
    assert_eq!(
        query_param(&provider_url, "redirect_uri"),
        Some(app.url("/api/oauth/callback"))
    );
    assert!(query_param(&provider_url, "state").is_some_and(|s| s.len() >= 43));
    let scope = query_param(&provider_url, "scope").unwrap();
    match p.sim_name() {
        "google" => {
            assert_eq!(
                query_param(&provider_url, "access_type").as_deref(),
                Some("offline")
            );
            assert_eq!(
                query_param(&provider_url, "prompt").as_deref(),
                Some("consent")
            );
            assert_eq!(scope, "https://www.googleapis.com/auth/drive.readonly");
        }
        "microsoft" => assert_eq!(
            scope,
            "offline_access Files.Read.All Sites.Read.All User.Read"
        ),
        _ => {
            assert_eq!(
                query_param(&provider_url, "token_access_type").as_deref(),
                Some("offline")
            );
            assert_eq!(
                scope,
                "files.metadata.read files.content.read account_info.read"
            );
        }
    }

    let callback = world.approve(&provider_url).await;
    assert!(
        callback.starts_with(&app.url("/api/oauth/callback")),
        "{callback}"
    );
    let code = query_param(&callback, "code").unwrap();
    let (status, page, _) = world.callback(&callback).await;
    assert_eq!(status, 200, "callback: {page}");
    assert!(page.as_str().unwrap().contains("alice@example.com"));

    // The connection, field for field.
    let (status, connection) = world
        .call(&token, GET, "/api/libraries/docs/connection", None)
        .await;
    assert_eq!(status, 200, "{connection}");
    for key in CONNECTION_KEYS {
        assert!(
            connection.get(key).is_some(),
            "connection lacks {key}: {connection}"
        );
    }
    assert_eq!(connection["ownerId"], owner.to_string());
    assert_eq!(connection["integrationId"], integration["id"]);
    assert_eq!(connection["status"], "active");
    for key in [
        "tokenExpiresAt",
        "lastAuthorizedAt",
        "createdAt",
        "updatedAt",
    ] {
        assert!(
            is_rfc3339_utc(&connection[key]),
            "{key} = {}",
            connection[key]
        );
    }
    if p.sim_name() == "microsoft" {
        assert!(is_rfc3339_utc(&connection["refreshTokenExpiresAt"]));
    } else {
        assert_eq!(connection["refreshTokenExpiresAt"], Value::Null);
    }
    for key in [
        "accessToken",
        "refreshToken",
        "access_token",
        "refresh_token",
    ] {
        assert!(connection.get(key).is_none());
    }

    // The embedded integration, field for field.
    let (status, embedded) = world
        .call(&token, GET, "/api/libraries/docs/integration", None)
        .await;
    assert_eq!(status, 200);
    for key in INTEGRATION_KEYS {
        assert!(
            embedded.get(key).is_some(),
            "integration lacks {key}: {embedded}"
        );
    }
    assert_eq!(embedded["embedded"], true);
    assert_eq!(embedded["libraryId"], library["id"]);
    assert_eq!(embedded["authType"], "oauth2");
    assert_eq!(embedded["type"], library_type);
    assert!(embedded.get("clientSecret").is_none());

    // The account, live from the provider.
    let (status, account) = world
        .call(&token, GET, "/api/libraries/docs/account", None)
        .await;
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["email"], "alice@example.com");
    assert_eq!(account["displayName"], "Alice Example");
    assert!(account["accountId"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(connection["providerAccountId"], account["accountId"]);

    // The code is single use at the provider and the state at Folio.
    let (status, replay, _) = world.callback(&callback).await;
    assert_eq!(status, 400, "replayed callback: {replay}");
    assert!(
        replay["message"]
            .as_str()
            .unwrap()
            .contains("already used or expired")
    );

    let library_id: Uuid = library["id"].as_str().unwrap().parse().unwrap();
    let mut secrets = world.stored_tokens(library_id).await;
    assert!(!secrets.is_empty());
    secrets.push(code);
    world.assert_no_leaks(&secrets);
}

#[tokio::test]
async fn connect_google_drive() {
    full_flow("google-drive").await;
}

#[tokio::test]
async fn connect_onedrive() {
    full_flow("onedrive").await;
}

#[tokio::test]
async fn connect_sharepoint_through_microsoft() {
    full_flow("sharepoint").await;
}

#[tokio::test]
async fn connect_dropbox() {
    full_flow("dropbox").await;
}

#[tokio::test]
async fn expired_and_unknown_states_are_refused_and_store_nothing() {
    let world = World::start().await;
    let (owner, token) = world.app.create_user("owner").await;
    let (library, integration) = world
        .library_with_integration(&token, "docs", "google-drive")
        .await;
    let state = "an-expired-state-value-0123456789abcdefghijk";
    let now = Utc::now();
    world
        .app
        .store
        .put_oauth_state(&OAuthState {
            state_hash: folio_oauth::pkce::hash_state(state),
            user_id: owner,
            library_id: library["id"].as_str().unwrap().parse().unwrap(),
            integration_id: integration["id"].as_str().unwrap().parse().unwrap(),
            pkce_verifier_sealed: "unused".into(),
            redirect_uri: world.app.url("/api/oauth/callback"),
            return_to: None,
            switch_account: false,
            created_at: now - chrono::Duration::minutes(11),
            expires_at: now - chrono::Duration::minutes(1),
        })
        .await
        .unwrap();
    let (status, body, _) = world
        .callback(
            &world
                .app
                .url(&format!("/api/oauth/callback?code=x&state={state}")),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _, _) = world
        .callback(
            &world
                .app
                .url("/api/oauth/callback?code=x&state=never-issued"),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _, _) = world
        .callback(&world.app.url("/api/oauth/callback?code=x"))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        world.token_calls("google").await,
        0,
        "no code was exchanged"
    );
    let (status, _) = world
        .call(&token, GET, "/api/libraries/docs/connection", None)
        .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn pkce_verifier_is_checked_by_the_provider() {
    let world = World::start().await;
    let (_, token) = world.app.create_user("owner").await;
    world
        .library_with_integration(&token, "docs", "dropbox")
        .await;
    // Two authorizations: the code of the first, redeemed with the state
    // (and so the verifier) of the second.
    let first = world
        .approve(&world.authorize(&token, "docs", "").await)
        .await;
    let second = world.authorize(&token, "docs", "").await;
    let code = query_param(&first, "code").unwrap();
    let state = query_param(&second, "state").unwrap();
    let mixed = world
        .app
        .url(&format!("/api/oauth/callback?code={code}&state={state}"));
    let (status, body, _) = world.callback(&mixed).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("invalid_grant"),
        "{body}"
    );
    let (status, _) = world
        .call(&token, GET, "/api/libraries/docs/connection", None)
        .await;
    assert_eq!(status, 409, "nothing stored");
    world.assert_no_leaks(&[code, state]);
}

#[tokio::test]
async fn provider_errors_give_a_clear_message_and_store_nothing() {
    let world = World::start().await;
    let (_, token) = world.app.create_user("owner").await;
    world
        .library_with_integration(&token, "docs", "google-drive")
        .await;

    // The user refused consent.
    let provider_url = world.authorize(&token, "docs", "").await;
    let state = query_param(&provider_url, "state").unwrap();
    let denied = world.app.url(&format!(
        "/api/oauth/callback?error=access_denied&state={state}"
    ));
    let (status, body, _) = world.callback(&denied).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["message"].as_str().unwrap().contains("access_denied"));
    // That state is spent: the real code cannot be redeemed with it any more.
    let callback = world.approve(&provider_url).await;
    assert_eq!(world.callback(&callback).await.0, 400);

    // A wrong client secret.
    let wrong = world
        .integration(
            "google-drive",
            json!({"clientSecret": "not-the-right-secret-123"}),
        )
        .await;
    let (status, _) = world
        .call(
            &token,
            super::PUT,
            "/api/libraries/docs/integration",
            Some(json!({"integrationId": wrong["id"]})),
        )
        .await;
    assert_eq!(status, 200);
    let callback = world
        .approve(&world.authorize(&token, "docs", "").await)
        .await;
    let (status, body, _) = world.callback(&callback).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("invalid_client"),
        "{body}"
    );
    let (status, _) = world
        .call(&token, GET, "/api/libraries/docs/connection", None)
        .await;
    assert_eq!(status, 409);
    world.assert_no_leaks(&["not-the-right-secret-123".to_owned()]);
}

#[tokio::test]
async fn return_to_only_same_origin_or_configured() {
    let world = World::start_with(folio_server::ServerConfig {
        allowed_return_origins: vec!["https://app.example.com".into()],
        ..Default::default()
    })
    .await;
    let (_, token) = world.app.create_user("owner").await;
    world
        .library_with_integration(&token, "docs", "onedrive")
        .await;
    for bad in [
        "https://evil.example/x",
        "//evil.example/x",
        "javascript:alert(1)",
        "https://app.example.com.evil.example/",
    ] {
        let path = format!(
            "/api/libraries/docs/connection/authorize?returnTo={}",
            urlencode(bad)
        );
        let (status, body) = world.call(&token, GET, &path, None).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["message"].as_str().unwrap().starts_with("returnTo"));
    }
    let provider_url = world
        .authorize(
            &token,
            "docs",
            "?returnTo=%2Flibraries%2Fdocs%3Fconnected%3D1",
        )
        .await;
    let (status, _, headers) = world.callback(&world.approve(&provider_url).await).await;
    assert_eq!(status, 302);
    assert_eq!(
        headers["location"],
        world.app.url("/libraries/docs?connected=1").as_str()
    );
    let provider_url = world
        .authorize(
            &token,
            "docs",
            "?returnTo=https%3A%2F%2Fapp.example.com%2Fdone",
        )
        .await;
    let (status, _, headers) = world.callback(&world.approve(&provider_url).await).await;
    assert_eq!(status, 302);
    assert_eq!(headers["location"], "https://app.example.com/done");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn reconnecting_as_another_account_needs_switch_account() {
    let world = World::start().await;
    let (_, token) = world.app.create_user("owner").await;
    world
        .library_with_integration(&token, "docs", "google-drive")
        .await;
    assert_eq!(world.connect(&token, "docs").await, 200);
    let (_, before) = world
        .call(&token, GET, "/api/libraries/docs/connection", None)
        .await;
    world
        .sim
        .post(
            "/_sim/accounts",
            json!({"provider": "google", "email": "bob@example.com", "displayName": "Bob"}),
        )
        .await;

    let provider_url = world
        .authorize(&token, "docs", "?loginHint=bob%40example.com")
        .await;
    let (status, body, _) = world.callback(&world.approve(&provider_url).await).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("switchAccount=true"),
        "{body}"
    );
    let (_, unchanged) = world
        .call(&token, GET, "/api/libraries/docs/connection", None)
        .await;
    assert_eq!(unchanged["providerAccountId"], before["providerAccountId"]);

    let provider_url = world
        .authorize(
            &token,
            "docs",
            "?loginHint=bob%40example.com&switchAccount=true",
        )
        .await;
    assert_eq!(
        world.callback(&world.approve(&provider_url).await).await.0,
        200
    );
    let (_, account) = world
        .call(&token, GET, "/api/libraries/docs/account", None)
        .await;
    assert_eq!(account["email"], "bob@example.com");
    let (_, after) = world
        .call(&token, GET, "/api/libraries/docs/connection", None)
        .await;
    assert_eq!(
        after["id"], before["id"],
        "the same connection, re-authorized"
    );
    assert_ne!(after["providerAccountId"], before["providerAccountId"]);
}

async fn disconnect(library_type: &str, revoke_route: Option<&str>) {
    let world = World::start().await;
    let (_, token) = world.app.create_user("owner").await;
    let (library, _) = world
        .library_with_integration(&token, "docs", library_type)
        .await;
    assert_eq!(world.connect(&token, "docs").await, 200);
    let library_id: Uuid = library["id"].as_str().unwrap().parse().unwrap();
    let tokens = world.stored_tokens(library_id).await;
    world.sim.reset_request_counts().await;
    let (status, body) = world
        .call(&token, DELETE, "/api/libraries/docs/connection", None)
        .await;
    assert_eq!(status, 204, "{body}");
    let p = Provider::of_library_type(library_type).sim_name();
    let counts = world.sim.request_counts().await;
    match revoke_route {
        Some(route) => assert_eq!(
            count_of(&counts, &format!("{p} POST "), |r| r == route),
            1,
            "{counts}"
        ),
        None => assert_eq!(
            count_of(&counts, "", |r| r.contains("revoke")),
            0,
            "{counts}"
        ),
    }
    assert!(
        world
            .app
            .store
            .connection_for_library(library_id)
            .await
            .unwrap()
            .is_none(),
        "tokens destroyed"
    );
    // At the provider: revoked grants refuse the old refresh token;
    // Microsoft (no per-app revoke) still honours it.
    let provider = Provider::of_library_type(library_type);
    let client_id = provider.client_id();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens[1].as_str()),
        ("client_id", client_id.as_str()),
        ("client_secret", CLIENT_SECRET),
    ];
    let response = world
        .browser
        .post(world.sim.url(&provider.token_path()))
        .form(&form)
        .send()
        .await
        .unwrap();
    let expected = if revoke_route.is_some() { 400 } else { 200 };
    assert_eq!(
        response.status().as_u16(),
        expected,
        "old refresh token after disconnect"
    );
    let (status, _) = world
        .call(&token, GET, "/api/libraries/docs/connection", None)
        .await;
    assert_eq!(status, 409);
    let (status, body) = world
        .call(&token, GET, "/api/libraries/docs/account", None)
        .await;
    assert_eq!(status, 409, "{body}");
    world.assert_no_leaks(&tokens);
}

#[tokio::test]
async fn disconnect_revokes_at_google() {
    disconnect("google-drive", Some("/revoke")).await;
}

#[tokio::test]
async fn disconnect_revokes_at_dropbox() {
    disconnect("dropbox", Some("/2/auth/token/revoke")).await;
}

#[tokio::test]
async fn disconnect_from_microsoft_destroys_tokens_only() {
    disconnect("sharepoint", None).await;
    assert!(super::logs().contains("Microsoft has no per-app revoke endpoint"));
}

#[tokio::test]
async fn disconnect_answers_204_when_the_provider_is_unreachable() {
    let world = World::start().await;
    let (_, token) = world.app.create_user("owner").await;
    let (library, integration) = world
        .library_with_integration(&token, "docs", "google-drive")
        .await;
    assert_eq!(world.connect(&token, "docs").await, 200);
    let id = integration["id"].as_str().unwrap();
    let (status, _) = world
        .call(
            &world.app.admin_token,
            super::PATCH,
            &format!("/api/integrations/{id}"),
            Some(json!({"tokenUri": "http://127.0.0.1:1/token"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = world
        .call(&token, DELETE, "/api/libraries/docs/connection", None)
        .await;
    assert_eq!(status, 204);
    let library_id: Uuid = library["id"].as_str().unwrap().parse().unwrap();
    assert!(
        world
            .app
            .store
            .connection_for_library(library_id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(super::logs().contains("could not revoke at the provider"));
    let _ = CLIENT_SECRET;
}
