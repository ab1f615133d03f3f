use folio_server::ServerConfig;
use folio_testkit::TestApp;
use serde_json::{Value, json};

use crate::{DELETE, GET, POST, assert_error};

#[tokio::test]
async fn unknown_routes_and_methods_use_the_error_body() {
    let app = TestApp::spawn().await;
    let response = app.admin(GET, "/api/nope").send().await.unwrap();
    let message = assert_error(response, 404).await;
    assert!(message.contains("/api/nope"));
    let response = app.client.get(app.url("/elsewhere")).send().await.unwrap();
    assert_error(response, 404).await;
    let response = app.admin(DELETE, "/api/libraries").send().await.unwrap();
    assert_error(response, 405).await;
}

#[tokio::test]
async fn malformed_json_wrong_content_type_and_oversized_bodies() {
    let app = TestApp::spawn_with(ServerConfig {
        max_json_bytes: 2048,
        ..ServerConfig::default()
    })
    .await;
    let response = app
        .admin(POST, "/api/libraries")
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    let message = assert_error(response, 400).await;
    assert!(message.contains("malformed JSON"), "{message}");

    let response = app
        .admin(POST, "/api/libraries")
        .header("content-type", "text/plain")
        .body("{\"name\":\"x\",\"type\":\"local\"}")
        .send()
        .await
        .unwrap();
    assert_error(response, 415).await;

    let response = app
        .admin(POST, "/api/libraries")
        .json(&json!({"name": "x".repeat(4096), "type": "local"}))
        .send()
        .await
        .unwrap();
    assert_error(response, 413).await;

    let list: Value = app
        .admin(GET, "/api/libraries")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]), "no failed request wrote anything");
}

#[tokio::test]
async fn openapi_document_covers_every_route() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let spec: Value = response.json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with('3'));
    let expected: &[(&str, &[&str])] = &[
        ("/api/health", &["get"]),
        ("/healthz", &["get"]),
        ("/readyz", &["get"]),
        ("/api/auth/login", &["post"]),
        ("/api/auth/logout", &["post"]),
        ("/api/me", &["get"]),
        ("/api/users", &["post"]),
        ("/api/users/{id}/tokens", &["post"]),
        ("/api/libraries", &["get", "post"]),
        ("/api/libraries/{id}", &["get", "patch", "delete"]),
        ("/api/libraries/{id}/shares", &["get"]),
        ("/api/libraries/{id}/shares/{userId}", &["put", "delete"]),
        ("/api/libraries/{id}/files", &["get"]),
        (
            "/api/libraries/{id}/files/{path}",
            &["get", "put", "delete"],
        ),
        ("/api/integrations", &["get", "post"]),
        ("/api/integrations/{id}", &["get", "patch", "delete"]),
        ("/api/libraries/{id}/integration", &["get", "put"]),
        ("/api/libraries/{id}/connection", &["get", "delete"]),
        ("/api/libraries/{id}/connection/authorize", &["get"]),
        ("/api/libraries/{id}/account", &["get"]),
        ("/api/libraries/{id}/connection/folders", &["get"]),
        ("/api/oauth/callback", &["get"]),
        ("/api/libraries/{id}/_sync", &["post"]),
        ("/api/libraries/{id}/syncs", &["get"]),
        ("/api/progress/{id}", &["get"]),
        ("/api/progress/{id}/events", &["get"]),
    ];
    let paths = spec["paths"].as_object().unwrap();
    for (path, methods) in expected {
        let item = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} missing from the spec"));
        for method in *methods {
            assert!(
                item.get(*method).is_some(),
                "{method} {path} missing from the spec"
            );
        }
    }
    assert_eq!(
        paths.len(),
        expected.len(),
        "the spec has routes this test does not know: {:?}",
        paths.keys()
    );
    assert!(spec["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test]
async fn health_needs_no_credentials() {
    let app = TestApp::spawn().await;
    let body: Value = app
        .client
        .get(app.url("/api/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["storage"], "ok");
}
