//! A library with no connection (or no integration) yet gets one status,
//! 409, and one message for that condition on every route that needs it.

use serde_json::json;

use super::{DELETE, GET, POST, World};

#[tokio::test]
async fn no_connection_yet_is_409_with_the_same_message_everywhere() {
    let world = World::start().await;
    let token = world.app.admin_token.clone();
    world
        .library_with_integration(&token, "docs", "google-drive")
        .await;
    let expected = "library 'docs' has no connection yet; connect it with GET /api/libraries/docs/connection/authorize";
    let routes = [
        (GET, "/api/libraries/docs/connection", None),
        (DELETE, "/api/libraries/docs/connection", None),
        (GET, "/api/libraries/docs/account", None),
        (GET, "/api/libraries/docs/connection/folders", None),
        (POST, "/api/libraries/docs/_sync", Some(json!({}))),
    ];
    for (method, path, body) in routes {
        let (status, answer) = world.call(&token, method.clone(), path, body).await;
        assert_eq!(status, 409, "{method} {path}: {answer}");
        assert_eq!(answer["statusCode"], 409, "{method} {path}: {answer}");
        assert_eq!(answer["message"], expected, "{method} {path}");
    }
}

#[tokio::test]
async fn no_integration_yet_is_409_with_the_same_message_everywhere() {
    let world = World::start().await;
    let token = world.app.admin_token.clone();
    world
        .app
        .create_library(
            &token,
            json!({"name": "Docs", "naturalId": "docs", "type": "dropbox"}),
        )
        .await;
    let expected =
        "library 'docs' has no integration yet; set one with PUT /api/libraries/docs/integration";
    for path in [
        "/api/libraries/docs/integration",
        "/api/libraries/docs/connection/authorize",
    ] {
        let (status, answer) = world.call(&token, GET, path, None).await;
        assert_eq!(status, 409, "{path}: {answer}");
        assert_eq!(answer["message"], expected, "{path}");
    }
}
