//! Users as admins see them (`GET /api/users`, `GET /api/users/{id}`), and
//! a user named by UUID or username wherever a route names one.

use folio_testkit::TestApp;
use serde_json::{Value, json};

use super::{DELETE, GET, POST, PUT, assert_error};

async fn get_json(app: &TestApp, path: &str) -> Value {
    let response = app.admin(GET, path).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn admins_list_users_a_page_at_a_time() {
    let app = TestApp::spawn().await;
    for name in ["carol", "alice", "bob"] {
        app.create_user(name).await;
    }
    let mut names = Vec::new();
    let mut path = "/api/users?limit=2".to_owned();
    loop {
        let page = get_json(&app, &path).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2, "{page}");
        for user in items {
            assert!(user.get("passwordHash").is_none(), "{user}");
            names.push(user["username"].as_str().unwrap().to_owned());
        }
        match page["next"].as_str() {
            Some(cursor) => path = format!("/api/users?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(names, ["admin", "alice", "bob", "carol"]);

    for bad in ["limit=0", "limit=1001", "cursor=!!", "colour=red"] {
        let response = app
            .admin(GET, &format!("/api/users?{bad}"))
            .send()
            .await
            .unwrap();
        assert_error(response, 400).await;
    }
}

#[tokio::test]
async fn a_user_is_found_by_uuid_or_username_and_only_admins_may_look() {
    let app = TestApp::spawn().await;
    let (alice, alice_token) = app.create_user("alice").await;
    let by_id = get_json(&app, &format!("/api/users/{alice}")).await;
    let by_name = get_json(&app, "/api/users/alice").await;
    assert_eq!(by_id, by_name);
    assert_eq!(by_id["id"], alice.to_string());
    assert_eq!(by_id["username"], "alice");

    let missing = app.admin(GET, "/api/users/nobody").send().await.unwrap();
    assert_eq!(assert_error(missing, 404).await, "user 'nobody' not found");
    let missing = app
        .admin(GET, &format!("/api/users/{}", uuid::Uuid::new_v4()))
        .send()
        .await
        .unwrap();
    assert_error(missing, 404).await;

    for path in ["/api/users", "/api/users/alice"] {
        let response = app.as_token(&alice_token, GET, path).send().await.unwrap();
        assert_error(response, 403).await;
    }

    // Tokens too are made for a user named either way.
    let response = app
        .admin(POST, "/api/users/alice/tokens")
        .json(&json!({"name": "by name"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let token: Value = response.json().await.unwrap();
    assert_eq!(token["userId"], alice.to_string());
}

#[tokio::test]
async fn usernames_shaped_like_uuids_are_refused() {
    let app = TestApp::spawn().await;
    let response = app
        .admin(POST, "/api/users")
        .json(&json!({"username": uuid::Uuid::new_v4().to_string()}))
        .send()
        .await
        .unwrap();
    let message = assert_error(response, 400).await;
    assert!(message.starts_with("username: "), "{message}");
}

#[tokio::test]
async fn shares_name_users_by_username_or_uuid_and_list_their_usernames() {
    let app = TestApp::spawn().await;
    let (alice, alice_token) = app.create_user("alice").await;
    let (bob, _) = app.create_user("bob").await;
    app.create_library(
        &app.admin_token,
        json!({"name": "Docs", "naturalId": "docs", "type": "local"}),
    )
    .await;

    let response = app
        .admin(PUT, "/api/libraries/docs/shares/alice")
        .json(&json!({"level": "read"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let share: Value = response.json().await.unwrap();
    assert_eq!(share["userId"], alice.to_string());
    assert_eq!(share["username"], "alice");
    assert_eq!(share["level"], "read");
    let response = app
        .admin(PUT, &format!("/api/libraries/docs/shares/{bob}"))
        .json(&json!({"level": "write"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // alice can read through the share made by her username.
    let response = app
        .as_token(&alice_token, GET, "/api/libraries/docs")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let shares = get_json(&app, "/api/libraries/docs/shares").await;
    let listed: Vec<(&str, &str, &str)> = shares["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["userId"].as_str().unwrap(),
                s["username"].as_str().unwrap(),
                s["level"].as_str().unwrap(),
            )
        })
        .collect();
    let (alice, bob) = (alice.to_string(), bob.to_string());
    assert_eq!(
        listed,
        [
            (alice.as_str(), "alice", "read"),
            (bob.as_str(), "bob", "write")
        ]
    );

    let response = app
        .admin(DELETE, "/api/libraries/docs/shares/bob")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let response = app
        .admin(DELETE, "/api/libraries/docs/shares/bob")
        .send()
        .await
        .unwrap();
    let message = assert_error(response, 404).await;
    assert!(message.contains("not shared with user 'bob'"), "{message}");
    let shares = get_json(&app, "/api/libraries/docs/shares").await;
    assert_eq!(shares["items"].as_array().unwrap().len(), 1);
}
