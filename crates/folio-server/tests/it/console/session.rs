use folio_server::auth::{TOKEN_PREFIX, hash_secret, new_secret};
use folio_server::{AppState, Application, ServerConfig};
use folio_store::NewUser;
use tempfile::TempDir;

use super::{browser_like, page, sign_in};

#[tokio::test]
async fn signing_in_and_out_through_the_forms() {
    let app = folio_testkit::TestApp::spawn().await;
    app.create_user("ada").await;
    let wrong = browser_like()
        .post(app.url("/login"))
        .form(&[
            ("username", "ada"),
            ("password", "nope-nope"),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("Wrong username or password.")
    );
    // `next` must stay on this site.
    let away = browser_like()
        .post(app.url("/login"))
        .form(&[
            ("username", "ada"),
            ("password", "password-123"),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(away.headers()["location"], "/");
    let cookie = sign_in(&app, "ada", "password-123").await;
    let (status, body) = page(&app, &cookie, "/").await;
    assert_eq!(status, 200);
    assert!(body.contains(">Sign out</button>"));
    let token = super::csrf_of(&body);
    let out = browser_like()
        .post(app.url("/logout"))
        .header("cookie", &cookie)
        .header("origin", &app.base_url)
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _) = page(&app, &cookie, "/").await;
    assert_eq!(status, 303, "the session has ended");
}

/// A server whose admin has no password, as `folio serve` leaves it on a
/// first start; the set-up token it announced.
async fn first_start(dir: &TempDir) -> (String, String, tokio::sync::oneshot::Sender<()>) {
    let store = folio_testkit::fresh_store(dir).await.unwrap();
    let blobs = folio_testkit::fresh_blobs(dir).await.unwrap();
    store
        .bootstrap_admin(
            NewUser {
                username: "admin".into(),
                display_name: None,
                password_hash: None,
                is_admin: true,
            },
            "admin",
            &hash_secret(&new_secret(TOKEN_PREFIX)),
        )
        .await
        .unwrap()
        .unwrap();
    let state = AppState::new(store, blobs, ServerConfig::default());
    let app = Application::build(state.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = format!("http://{}", app.local_addr().unwrap());
    let token = state
        .setup_token
        .lock()
        .unwrap()
        .clone()
        .expect("a set-up token is announced when the admin has no password");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.serve_until(
        async move {
            let _ = rx.await;
        },
        std::time::Duration::from_secs(1),
    ));
    (base, token, tx)
}

#[tokio::test]
async fn the_set_up_link_lets_the_admin_choose_a_password_once() {
    let dir = TempDir::new().unwrap();
    let (base, token, _stop) = first_start(&dir).await;
    let client = browser_like();
    let wrong = client
        .get(format!("{base}/setup?token=guessed"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 404);
    let form = client
        .get(format!("{base}/setup?token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    assert!(
        form.text()
            .await
            .unwrap()
            .contains(">Set password</button>")
    );
    let mismatch = client
        .post(format!("{base}/setup"))
        .form(&[
            ("token", token.as_str()),
            ("password", "long-enough-1"),
            ("repeat", "other-one-22"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(mismatch.status(), 400);
    let short = client
        .post(format!("{base}/setup"))
        .form(&[
            ("token", token.as_str()),
            ("password", "short"),
            ("repeat", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(short.status(), 400);
    assert!(
        short
            .text()
            .await
            .unwrap()
            .contains("at least 8 characters")
    );
    let done = client
        .post(format!("{base}/setup"))
        .form(&[
            ("token", token.as_str()),
            ("password", "long-enough-1"),
            ("repeat", "long-enough-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    let login = client
        .post(format!("{base}/login"))
        .form(&[("username", "admin"), ("password", "long-enough-1")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303, "the chosen password signs in");
    let again = client
        .post(format!("{base}/setup"))
        .form(&[
            ("token", token.as_str()),
            ("password", "another-one-1"),
            ("repeat", "another-one-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404, "the link works once");
}

#[tokio::test]
async fn no_set_up_link_once_the_admin_has_a_password() {
    let app = folio_testkit::TestApp::spawn().await;
    super::sign_in_admin(&app).await;
    let dir = TempDir::new().unwrap();
    let (base, _token, _stop) = first_start(&dir).await;
    // The first server's admin got a password through the store: a new
    // announcement finds nothing to do.
    let state = AppState::new(
        app.store.clone(),
        app.blobs.clone(),
        ServerConfig::default(),
    );
    assert!(
        folio_server::console::session::announce_setup(&state)
            .await
            .is_none()
    );
    drop(base);
}
