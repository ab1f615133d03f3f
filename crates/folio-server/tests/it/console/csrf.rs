use folio_testkit::TestApp;
use reqwest::Method;
use serde_json::json;

use super::{browser_like, csrf_of, page, sign_in_admin};

#[tokio::test]
async fn a_cross_site_form_post_is_refused() {
    let app = TestApp::spawn().await;
    let cookie = sign_in_admin(&app).await;
    let (_, home) = page(&app, &cookie, "/").await;
    let token = csrf_of(&home);
    // Even with the right token, another site's post is refused.
    let response = browser_like()
        .post(app.url("/"))
        .header("cookie", &cookie)
        .header("origin", "http://evil.example")
        .form(&[
            ("csrf", token.as_str()),
            ("name", "Forged"),
            ("type", "local"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("Request refused"));
    // Without Origin, fetch metadata says where it came from.
    let response = browser_like()
        .post(app.url("/"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("csrf", token.as_str()),
            ("name", "Forged"),
            ("type", "local"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // From our own origin but without this session's token: refused too.
    let response = browser_like()
        .post(app.url("/"))
        .header("cookie", &cookie)
        .header("origin", &app.base_url)
        .form(&[("csrf", "guessed"), ("name", "Forged"), ("type", "local")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("This form has expired")
    );
    let (_, list) = app.call(Method::GET, "/api/libraries", None).await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        0,
        "nothing was created"
    );
    // The same form, sent properly, works.
    let response = browser_like()
        .post(app.url("/"))
        .header("cookie", &cookie)
        .header("origin", &app.base_url)
        .form(&[
            ("csrf", token.as_str()),
            ("name", "Real"),
            ("type", "local"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/libraries/real");
}

#[tokio::test]
async fn the_json_api_with_a_cookie_refuses_other_sites_but_not_bearer_callers() {
    let app = TestApp::spawn().await;
    let cookie = sign_in_admin(&app).await;
    let forged = browser_like()
        .post(app.url("/api/libraries"))
        .header("cookie", &cookie)
        .header("origin", "http://evil.example")
        .json(&json!({"name": "Forged", "type": "local"}))
        .send()
        .await
        .unwrap();
    let message = super::assert_error(forged, 403).await;
    assert!(message.contains("cross-site"), "{message}");
    let same_site = browser_like()
        .post(app.url("/api/libraries"))
        .header("cookie", &cookie)
        .header("origin", &app.base_url)
        .json(&json!({"name": "Own", "type": "local"}))
        .send()
        .await
        .unwrap();
    assert_eq!(same_site.status(), 201);
    let bearer = app
        .admin(Method::POST, "/api/libraries")
        .header("origin", "http://evil.example")
        .json(&json!({"name": "Scripted", "type": "local"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 201, "bearer callers are not affected");
    let logout = browser_like()
        .post(app.url("/api/auth/logout"))
        .header("cookie", &cookie)
        .header("origin", "null")
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 403, "an opaque origin is another site");
}
