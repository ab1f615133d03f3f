//! Every permission rule of the integration, connection and account
//! routes: owner, read/sync/write shares, admin, stranger (404).

use serde_json::json;

use super::{DELETE, GET, PUT, World};

#[tokio::test]
async fn permission_rules() {
    let world = World::start().await;
    let app = &world.app;
    let (_, owner) = app.create_user("owner").await;
    let (_, integration) = world
        .library_with_integration(&owner, "docs", "google-drive")
        .await;
    assert_eq!(world.connect(&owner, "docs").await, 200);
    let mut users = vec![("owner", owner.clone()), ("admin", app.admin_token.clone())];
    for level in ["read", "sync", "write"] {
        let (id, token) = app.create_user(&format!("{level}er")).await;
        let (status, _) = world
            .call(
                &owner,
                PUT,
                &format!("/api/libraries/docs/shares/{id}"),
                Some(json!({"level": level})),
            )
            .await;
        assert_eq!(status, 200);
        users.push((level, token));
    }
    let (_, stranger) = app.create_user("stranger").await;
    users.push(("stranger", stranger));

    for (who, token) in &users {
        let read = if *who == "stranger" { 404 } else { 200 };
        for path in [
            "/api/libraries/docs/integration",
            "/api/libraries/docs/connection",
            "/api/libraries/docs/account",
        ] {
            let (status, body) = world.call(token, GET, path, None).await;
            assert_eq!(status, read, "{who} GET {path}: {body}");
        }
        let write = match *who {
            "stranger" => 404,
            "read" | "sync" => 403,
            _ => 200,
        };
        let (status, body) = world
            .call(
                token,
                PUT,
                "/api/libraries/docs/integration",
                Some(json!({"integrationId": integration["id"]})),
            )
            .await;
        assert_eq!(status, write, "{who} PUT integration: {body}");
        let response = world
            .browser
            .get(app.url("/api/libraries/docs/connection/authorize"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let expected = if write == 200 { 302 } else { write };
        assert_eq!(response.status().as_u16(), expected, "{who} authorize");
        if write != 200 {
            let (status, _) = world
                .call(token, DELETE, "/api/libraries/docs/connection", None)
                .await;
            assert_eq!(status, write, "{who} DELETE connection");
        }
    }
    // Without credentials: 401 everywhere but the callback.
    let response = app
        .client
        .get(app.url("/api/libraries/docs/connection"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // A writer may disconnect.
    let writer = &users.iter().find(|(w, _)| *w == "write").unwrap().1;
    let (status, _) = world
        .call(writer, DELETE, "/api/libraries/docs/connection", None)
        .await;
    assert_eq!(status, 204);
}
