use folio_testkit::TestApp;

use super::browser_like;

#[tokio::test]
async fn callback_failures_are_plain_pages_for_browsers() {
    let app = TestApp::spawn().await;
    let expired = browser_like()
        .get(app.url("/api/oauth/callback?state=long-gone&code=abc"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 400);
    assert!(
        expired.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let body = expired.text().await.unwrap();
    assert!(body.contains("expired or was already used"), "{body}");
    assert!(!body.contains("statusCode"), "no JSON for people");

    let denied = browser_like()
        .get(
            app.url("/api/oauth/callback?state=long-gone&error=access_denied&error_description=no"),
        )
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 422);
    assert!(
        denied
            .text()
            .await
            .unwrap()
            .contains("The provider did not grant access")
    );

    // API clients keep the JSON error.
    let api = browser_like()
        .get(app.url("/api/oauth/callback?state=long-gone&code=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 400);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["statusCode"], 400);
}
