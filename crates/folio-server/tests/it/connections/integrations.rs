//! Admin CRUD of integrations, validation naming the field, the secret
//! kept write-only and sealed, and URL safety.

use folio_server::ServerConfig;
use folio_testkit::TestApp;
use serde_json::{Value, json};

use super::{CLIENT_SECRET, DELETE, GET, PATCH, POST, World};

#[tokio::test]
async fn crud_with_defaults_and_a_write_only_secret() {
    let world = World::start().await;
    let admin = world.app.admin_token.clone();
    let (status, created) = world
        .call(&admin, POST, "/api/integrations", Some(json!({"type": "sharepoint", "name": "Contoso", "clientId": "abc", "clientSecret": CLIENT_SECRET, "tenant": "contoso.onmicrosoft.com"})))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created["authUri"],
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize"
    );
    assert_eq!(
        created["tokenUri"],
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    );
    assert_eq!(
        created["scope"],
        "offline_access Files.Read.All Sites.Read.All User.Read"
    );
    assert_eq!(created["apiUri"], "https://graph.microsoft.com/");
    assert_eq!(created["authType"], "oauth2");
    assert_eq!(created["embedded"], false);
    assert_eq!(created["libraryId"], Value::Null);
    assert!(created.get("clientSecret").is_none());
    let id = created["id"].as_str().unwrap().to_owned();

    for (t, auth) in [
        (
            "google-drive",
            "https://accounts.google.com/o/oauth2/v2/auth",
        ),
        ("dropbox", "https://www.dropbox.com/oauth2/authorize"),
        (
            "onedrive",
            "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        ),
    ] {
        let (status, body) = world
            .call(
                &admin,
                POST,
                "/api/integrations",
                Some(json!({"type": t, "name": t, "clientId": "c", "clientSecret": CLIENT_SECRET})),
            )
            .await;
        assert_eq!(status, 201);
        assert_eq!(body["authUri"], auth);
    }

    let (status, list) = world.call(&admin, GET, "/api/integrations", None).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 4);
    let (status, patched) = world
        .call(
            &admin,
            PATCH,
            &format!("/api/integrations/{id}"),
            Some(json!({"name": "Contoso 2", "clientSecret": "rotated-secret-abcdef"})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["name"], "Contoso 2");
    let (status, _) = world
        .call(&admin, GET, &format!("/api/integrations/{id}"), None)
        .await;
    assert_eq!(status, 200);

    // Sealed at rest: the stored value is not the secret.
    let stored = world
        .app
        .store
        .integration(id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        !stored
            .client_secret_sealed
            .contains("rotated-secret-abcdef")
    );

    let (status, _) = world
        .call(&admin, DELETE, &format!("/api/integrations/{id}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = world
        .call(&admin, GET, &format!("/api/integrations/{id}"), None)
        .await;
    assert_eq!(status, 404);
    world.assert_no_leaks(&["rotated-secret-abcdef".to_owned()]);
}

#[tokio::test]
async fn bad_input_names_the_field_and_writes_nothing() {
    let world = World::start().await;
    let admin = world.app.admin_token.clone();
    let base = json!({"type": "dropbox", "name": "x", "clientId": "c", "clientSecret": "s"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = base.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    let cases = [
        (with("type", json!("ftp")), "type"),
        (without("type"), "type"),
        (without("name"), "name"),
        (without("clientId"), "clientId"),
        (without("clientSecret"), "clientSecret"),
        (with("name", json!("  ")), "name"),
        (with("authUri", json!("not a url")), "authUri"),
        (
            with("tokenUri", json!("ftp://example.com/token")),
            "tokenUri",
        ),
        (with("apiUri", json!("http://example.com")), "apiUri"),
        (with("tenant", json!("contoso")), "tenant"),
    ];
    for (body, field) in cases {
        let (status, error) = world
            .call(&admin, POST, "/api/integrations", Some(body.clone()))
            .await;
        assert_eq!(status, 400, "{body}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(field), "{field} not named in '{message}'");
    }
    let (_, list) = world.call(&admin, GET, "/api/integrations", None).await;
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn integrations_are_admin_only_and_in_use_ones_stay() {
    let world = World::start().await;
    let (_, token) = world.app.create_user("someone").await;
    let (status, _) = world.call(&token, GET, "/api/integrations", None).await;
    assert_eq!(status, 403);
    let (status, _) = world
        .call(
            &token,
            POST,
            "/api/integrations",
            Some(json!({"type": "dropbox", "name": "x", "clientId": "c", "clientSecret": "s"})),
        )
        .await;
    assert_eq!(status, 403);
    let (_, integration) = world
        .library_with_integration(&token, "docs", "dropbox")
        .await;
    let id = integration["id"].as_str().unwrap();
    let (status, _) = world
        .call(
            &world.app.admin_token,
            DELETE,
            &format!("/api/integrations/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 409);
    // A type that cannot serve the library.
    let google = world.integration("google-drive", json!({})).await;
    let (status, body) = world
        .call(
            &token,
            super::PUT,
            "/api/libraries/docs/integration",
            Some(json!({"integrationId": google["id"]})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("integrationId")
    );
    let (status, body) = world
        .call(
            &token,
            super::PUT,
            "/api/libraries/docs/integration",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("integrationId")
    );
}

async fn strict_app() -> TestApp {
    TestApp::spawn_with(ServerConfig::default()).await
}

#[tokio::test]
async fn internal_provider_urls_are_refused_unless_allowed() {
    let app = strict_app().await;
    for (field, url) in [
        ("authUri", "https://127.0.0.1/auth"),
        ("tokenUri", "https://localhost:8443/token"),
        ("apiUri", "https://169.254.169.254/"),
        ("authUri", "https://10.0.0.8/auth"),
        ("tokenUri", "https://[::1]/token"),
        ("apiUri", "https://metadata.google.internal/"),
        ("tokenUri", "http://oauth2.example.com/token"),
    ] {
        let response = app
            .admin(POST, "/api/integrations")
            .json(&json!({"type": "google-drive", "name": "x", "clientId": "c", "clientSecret": "s", field: url}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{field}={url}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["message"].as_str().unwrap().starts_with(field),
            "{body}"
        );
    }
}

#[tokio::test]
async fn connect_time_check_resolves_the_host() {
    // A name (not an IP literal, not "localhost") that resolves to an
    // internal address passes the create-time check but not the connect.
    let host = "localtest.folio.invalid";
    let app = strict_app().await;
    let hostname = std::fs::read_to_string("/etc/hostname")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let resolves_internal = match tokio::net::lookup_host((hostname.as_str(), 443)).await {
        Ok(mut addrs) => addrs.any(|a| folio_oauth::urlcheck::is_internal(a.ip())),
        Err(_) => false,
    };
    if hostname.is_empty() || !resolves_internal {
        folio_testkit::say_loudly(&format!(
            "connect-time DNS check NOT RUN: this machine's hostname does not resolve to an internal address ({host})"
        ));
        return;
    }
    let (_, token) = app.create_user("owner").await;
    app.create_library(
        &token,
        json!({"name": "docs", "naturalId": "docs", "type": "dropbox"}),
    )
    .await;
    let response = app
        .admin(POST, "/api/integrations")
        .json(&json!({"type": "dropbox", "name": "x", "clientId": "c", "clientSecret": "s", "authUri": format!("https://{hostname}/oauth2/authorize")}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let integration: Value = response.json().await.unwrap();
    let response = app
        .as_token(&token, super::PUT, "/api/libraries/docs/integration")
        .json(&json!({"integrationId": integration["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = app
        .as_token(&token, GET, "/api/libraries/docs/connection/authorize")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("internal address"),
        "{body}"
    );
}
