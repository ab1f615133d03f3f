//! The web console over plain HTTP (no browser): its security headers, the
//! CSRF refusals, signing in and the set-up link, the OAuth callback's
//! failures as pages (a consent for another account among them), and the
//! not-found page strangers get. Real server, real store (SQLite, or
//! PostgreSQL with FOLIO_TEST_DATABASE_URL).

mod callback;
mod csrf;
mod other_account;
mod pages;
mod session;

use folio_testkit::TestApp;

pub use crate::support::{assert_error, browser_like};

/// Signs `username` in through the console's form; the session cookie
/// pair (`folio_session=...`).
pub async fn sign_in(app: &TestApp, username: &str, password: &str) -> String {
    let response = browser_like()
        .post(app.url("/login"))
        .header("origin", &app.base_url)
        .form(&[
            ("username", username),
            ("password", password),
            ("next", "/"),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 303, "signing in redirects");
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a session cookie")
        .to_owned();
    cookie.split(';').next().expect("pair").to_owned()
}

/// A page as the holder of `cookie`: status and body.
pub async fn page(app: &TestApp, cookie: &str, path: &str) -> (u16, String) {
    let response = browser_like()
        .get(app.url(path))
        .header("cookie", cookie)
        .header("accept", "text/html")
        .send()
        .await
        .expect("page");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// The form token on a page (every console form carries it).
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a form token on the page") + marker.len();
    let end = html[start..].find('"').expect("end of the token") + start;
    html[start..end].to_owned()
}

/// A user with the password `password-123`, signed in.
pub async fn signed_in_user(app: &TestApp, username: &str) -> String {
    app.create_user(username).await;
    sign_in(app, username, "password-123").await
}

/// The admin, given a password through the store and signed in.
pub async fn sign_in_admin(app: &TestApp) -> String {
    let hash = folio_server::auth::hash_password("admin-password").expect("hash");
    app.store
        .set_password(app.admin_id, Some(&hash))
        .await
        .expect("admin password");
    sign_in(app, "admin", "admin-password").await
}
