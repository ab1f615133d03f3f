use folio_testkit::TestApp;
use serde_json::json;

use super::{GET, POST, assert_error};

#[tokio::test]
async fn requests_without_credentials_get_401() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/api/libraries"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap()),
        Some("Bearer")
    );
    assert_error(response, 401).await;
    let bad = app
        .as_token("folio_nope", GET, "/api/libraries")
        .send()
        .await
        .unwrap();
    assert_error(bad, 401).await;
    let malformed = app
        .client
        .get(app.url("/api/libraries"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_error(malformed, 401).await;
}

#[tokio::test]
async fn admin_creates_users_and_tokens_and_tokens_are_stored_hashed() {
    let app = TestApp::spawn().await;
    let (id, token) = app.create_user("alice").await;
    let me: serde_json::Value = app
        .as_token(&token, GET, "/api/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], id.to_string());
    assert_eq!(me["username"], "alice");
    assert_eq!(me["admin"], false);
    assert!(me.get("passwordHash").is_none());

    // The store knows the token only by its hash.
    let by_plain = app.store.user_by_token_hash(&token).await.unwrap();
    assert!(by_plain.is_none());
    let by_hash = app
        .store
        .user_by_token_hash(&folio_server::auth::hash_secret(&token))
        .await
        .unwrap();
    assert_eq!(by_hash.map(|u| u.id), Some(id));
}

#[tokio::test]
async fn only_admins_manage_users() {
    let app = TestApp::spawn().await;
    let (alice, token) = app.create_user("alice").await;
    let response = app
        .as_token(&token, POST, "/api/users")
        .json(&json!({"username": "mallory"}))
        .send()
        .await
        .unwrap();
    assert_error(response, 403).await;
    let response = app
        .as_token(&token, POST, &format!("/api/users/{alice}/tokens"))
        .json(&json!({"name": "more"}))
        .send()
        .await
        .unwrap();
    assert_error(response, 403).await;
    assert!(
        app.store
            .get_user_by_username("mallory")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn user_creation_rejects_bad_input_and_duplicates() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({"username": "bad name"}), 400, "username"),
        (json!({"username": ""}), 400, "username"),
        (
            json!({"username": "bob", "password": "short"}),
            400,
            "password",
        ),
        (json!({"password": "long-enough"}), 400, "username"),
        (json!({"username": "bob", "role": "x"}), 400, "role"),
    ];
    for (body, status, field) in cases {
        let response = app
            .admin(POST, "/api/users")
            .json(&body)
            .send()
            .await
            .unwrap();
        let message = assert_error(response, status).await;
        assert!(message.contains(field), "{message} should name {field}");
    }
    assert_eq!(
        app.store.count_users().await.unwrap(),
        1,
        "nothing was written"
    );
    app.create_user("bob").await;
    let response = app
        .admin(POST, "/api/users")
        .json(&json!({"username": "bob"}))
        .send()
        .await
        .unwrap();
    assert_error(response, 409).await;
    let response = app
        .admin(POST, &format!("/api/users/{}/tokens", uuid::Uuid::new_v4()))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_error(response, 404).await;
}

#[tokio::test]
async fn login_sets_an_httponly_samesite_cookie_and_logout_ends_it() {
    let app = TestApp::spawn().await;
    app.create_user("carol").await;
    let wrong = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "carol", "password": "nope-nope"}))
        .send()
        .await
        .unwrap();
    assert_error(wrong, 401).await;
    let unknown = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "nobody", "password": "password-123"}))
        .send()
        .await
        .unwrap();
    assert_error(unknown, 401).await;

    let response = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "carol", "password": "password-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_owned();

    let me: serde_json::Value = app
        .client
        .get(app.url("/api/me"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "carol");

    let logout = app
        .client
        .post(app.url("/api/auth/logout"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    assert!(
        logout
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = app
        .client
        .get(app.url("/api/me"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_error(after, 401).await;
    let again = app
        .client
        .post(app.url("/api/auth/logout"))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    let message = assert_error(again, 401).await;
    assert!(message.contains("already logged out"), "{message}");
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = TestApp::spawn().await;
    for scheme in ["bearer", "BEARER", "Bearer", "bEaReR"] {
        let response = app
            .client
            .get(app.url("/api/me"))
            .header("authorization", format!("{scheme} {}", app.admin_token))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{scheme}");
        let me: serde_json::Value = response.json().await.unwrap();
        assert_eq!(me["username"], "admin", "{scheme}");
    }
    let wrong = app
        .client
        .get(app.url("/api/me"))
        .header("authorization", "bearer folio_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(assert_error(wrong, 401).await, "invalid API token");
}

/// `/login/once`: a one-time token signs a browser in once, and is never a
/// session cookie itself.
#[tokio::test]
async fn a_one_time_login_link_works_once() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let in_an_hour = chrono::Utc::now() + chrono::Duration::hours(1);
    let token = folio_server::auth_once::issue(&app.store, app.admin_id, in_an_hour)
        .await
        .unwrap();
    let link = app.url(&format!("/login/once?token={token}"));
    let as_cookie = client
        .get(app.url("/api/me"))
        .header("cookie", format!("folio_session={token}"))
        .send()
        .await
        .unwrap();
    assert_error(as_cookie, 401).await;

    let first = client.get(&link).send().await.unwrap();
    assert_eq!(first.status(), 303);
    assert_eq!(first.headers()["location"], "/");
    let cookie = first.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_owned();
    let me: serde_json::Value = client
        .get(app.url("/api/me"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "admin");

    let second = client.get(&link).send().await.unwrap();
    assert_error(second, 401).await;
    let unknown = client
        .get(app.url("/login/once?token=once_nope"))
        .send()
        .await
        .unwrap();
    assert_error(unknown, 401).await;
    let expired = folio_server::auth_once::issue(
        &app.store,
        app.admin_id,
        chrono::Utc::now() - chrono::Duration::seconds(1),
    )
    .await
    .unwrap();
    let late = client
        .get(app.url(&format!("/login/once?token={expired}")))
        .send()
        .await
        .unwrap();
    assert_error(late, 401).await;
}
