use folio_server::console::security::CONTENT_SECURITY_POLICY;
use folio_testkit::TestApp;
use reqwest::Method;
use serde_json::json;

use super::{browser_like, page, signed_in_user};

#[tokio::test]
async fn pages_carry_the_security_headers() {
    let app = TestApp::spawn().await;
    let response = browser_like().get(app.url("/login")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert_eq!(csp, CONTENT_SECURITY_POLICY);
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let body = response.text().await.unwrap();
    assert!(
        !body.contains("<script>") && !body.contains(" onclick="),
        "no inline script"
    );
    assert!(body.contains("<label for=\"username\">Username</label>"));
    assert!(body.contains("<label for=\"password\">Password</label>"));
    assert!(body.contains(">Sign in</button>"));
}

#[tokio::test]
async fn the_script_and_stylesheet_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    for (path, kind) in [
        ("/console/assets/console.js", "text/javascript"),
        ("/console/assets/console.css", "text/css"),
    ] {
        let response = browser_like().get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
        assert!(response.text().await.unwrap().len() > 500, "{path}");
    }
    let missing = browser_like()
        .get(app.url("/console/assets/other.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn signed_out_pages_send_to_the_login_page() {
    let app = TestApp::spawn().await;
    let response = browser_like()
        .get(app.url("/libraries/docs?progress=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/login?next=%2Flibraries%2Fdocs%3Fprogress%3Dx"
    );
}

#[tokio::test]
async fn a_stranger_gets_the_not_found_page_and_a_reader_no_sync_or_connect() {
    let app = TestApp::spawn().await;
    let library = app
        .create_library(
            &app.admin_token,
            json!({"name": "Secret plans", "type": "google-drive"}),
        )
        .await;
    let key = library["naturalId"].as_str().unwrap();
    let stranger = signed_in_user(&app, "stranger").await;
    let (status, body) = page(&app, &stranger, &format!("/libraries/{key}")).await;
    assert_eq!(status, 404);
    assert!(body.contains("<h1>Not found</h1>"), "{body}");
    assert!(!body.contains("Secret plans"));
    let (status, body) = page(&app, &stranger, "/").await;
    assert_eq!(status, 200);
    assert!(!body.contains("Secret plans"), "the list hides it too");
    for sub in ["files", "folders", "purge", "disconnect"] {
        let (status, _) = page(&app, &stranger, &format!("/libraries/{key}/{sub}")).await;
        assert_eq!(status, 404, "{sub}");
    }

    let reader = signed_in_user(&app, "reader").await;
    let response = app
        .admin(Method::PUT, &format!("/api/libraries/{key}/shares/reader"))
        .json(&json!({"level": "read"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, body) = page(&app, &reader, &format!("/libraries/{key}")).await;
    assert_eq!(status, 200);
    assert!(body.contains("Secret plans"));
    for button in [
        ">Sync now<",
        ">Purge and sync<",
        ">Connect<",
        ">Disconnect<",
        ">Share<",
    ] {
        assert!(!body.contains(button), "a reader sees no {button}");
    }
    let (_, admin_view) = page(
        &app,
        &super::sign_in_admin(&app).await,
        &format!("/libraries/{key}"),
    )
    .await;
    assert!(admin_view.contains(">Sync now<"), "the owner side does");
}

#[tokio::test]
async fn unknown_pages_are_html_for_browsers_and_json_for_the_api() {
    let app = TestApp::spawn().await;
    let page = browser_like()
        .get(app.url("/no/such/page"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    assert!(page.text().await.unwrap().contains("<h1>Not found</h1>"));
    let api = browser_like()
        .get(app.url("/api/nothing"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 404);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["statusCode"], 404);
}

#[tokio::test]
async fn the_library_list_shows_type_connection_files_and_size() {
    let app = TestApp::spawn().await;
    app.create_library(&app.admin_token, json!({"name": "Scans", "type": "local"}))
        .await;
    app.create_library(
        &app.admin_token,
        json!({"name": "Team drive", "type": "onedrive"}),
    )
    .await;
    let response = app
        .admin(Method::PUT, "/api/libraries/scans/files/a/b.txt")
        .body("hello world")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let cookie = super::sign_in_admin(&app).await;
    let (status, body) = page(&app, &cookie, "/").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<a href=\"/libraries/scans\">Scans</a>"),
        "{body}"
    );
    assert!(body.contains("<a href=\"/libraries/team-drive\">Team drive</a>"));
    assert!(body.contains("OneDrive") && body.contains("Local"));
    assert!(body.contains("not connected"));
    assert!(body.contains("11 bytes"), "the total size");
}
