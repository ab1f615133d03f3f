use folio_server::ServerConfig;
use folio_testkit::TestApp;
use serde_json::{Value, json};

use super::{DELETE, GET, POST, assert_error};

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
        ("/api/users", &["get", "post"]),
        ("/api/users/{id}", &["get"]),
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

/// What an OpenAPI validator and a schema-driven fuzzer need from the
/// document: a description on every response, query parameters in the
/// query, every status the extractors answer, and the bounds the server
/// enforces.
#[tokio::test]
async fn openapi_document_is_complete() {
    let app = TestApp::spawn().await;
    let spec: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let operation = |path: &str, method: &str| spec["paths"][path][method].clone();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            for (status, response) in responses {
                let description = response["description"].as_str().unwrap_or_default();
                assert!(
                    !description.is_empty(),
                    "{method} {path} {status}: no description"
                );
            }
            let public = op["security"] == json!([{}]);
            assert!(
                public || responses.contains_key("401"),
                "{method} {path}: needs credentials, documents no 401"
            );
            if op.get("requestBody").is_some() || op.get("parameters").is_some() {
                assert!(responses.contains_key("400"), "{method} {path}: no 400");
            }
        }
    }
    let in_of = |op: &Value, name: &str| {
        op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))
            .clone()
    };
    let authorize = operation("/api/libraries/{id}/connection/authorize", "get");
    for name in ["returnTo", "switchAccount", "loginHint"] {
        assert_eq!(in_of(&authorize, name)["in"], "query", "{name}");
    }
    let callback = operation("/api/oauth/callback", "get");
    for name in ["code", "state", "error", "error_description"] {
        assert_eq!(in_of(&callback, name)["in"], "query", "{name}");
    }
    assert_eq!(in_of(&callback, "state")["required"], true);
    for path in ["/api/users", "/api/libraries/{id}/files"] {
        let limit = in_of(&operation(path, "get"), "limit");
        assert_eq!(limit["schema"]["minimum"], 1, "{path}");
        assert_eq!(limit["schema"]["maximum"], 1000, "{path}");
    }
    let schemas = &spec["components"]["schemas"];
    assert_eq!(
        schemas["CreateLibrary"]["properties"]["name"]["maxLength"],
        200
    );
    assert_eq!(
        schemas["CreateUser"]["properties"]["username"]["pattern"],
        "^[A-Za-z0-9._@-]{1,64}$"
    );
    let interval = &schemas["SyncSchedule"]["properties"]["intervalMinutes"];
    assert_eq!(
        (interval["minimum"].clone(), interval["maximum"].clone()),
        (json!(1), json!(525_600))
    );
    assert_eq!(
        schemas["LibraryType"]["enum"],
        json!(["local", "google-drive", "onedrive", "sharepoint", "dropbox"])
    );
    assert_eq!(
        schemas["ShareLevel"]["enum"],
        json!(["read", "sync", "write"])
    );
    assert_eq!(
        schemas["PutLibraryIntegration"]["required"],
        json!(["integrationId"])
    );
    let sync = operation("/api/libraries/{id}/_sync", "post");
    assert_ne!(
        sync["requestBody"]["required"], true,
        "the sync body is optional"
    );
    assert_eq!(
        sync["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/SyncRequestBody",
        "absent, not null"
    );
}

/// The document counts 5.0 as an integer (JSON Schema does); so does the
/// server.
#[tokio::test]
async fn whole_numbers_written_with_a_fraction_are_integers() {
    let app = TestApp::spawn().await;
    let response = app
        .admin(POST, "/api/libraries")
        .json(&json!({"name": "Docs", "type": "local", "syncSchedule": {"intervalMinutes": 90.0}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let library: Value = response.json().await.unwrap();
    assert_eq!(library["syncSchedule"], json!({"intervalMinutes": 90}));
    let response = app
        .admin(POST, "/api/libraries")
        .json(&json!({"name": "Half", "type": "local", "syncSchedule": {"intervalMinutes": 1.5}}))
        .send()
        .await
        .unwrap();
    let message = assert_error(response, 400).await;
    assert!(message.contains("intervalMinutes"), "{message}");
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
