//! Reconnecting a library at the provider as another account than the one
//! it is connected with: the API refuses it (409) unless the flow asked to
//! switch accounts, so the console says in a sentence that nothing changed,
//! and offers the switch. Walked with plain HTTP through cloudsim's consent
//! page (its account chooser picks the second account).

use folio_testkit::sim::{Provider, SimWorld, location};
use reqwest::Method;
use serde_json::json;

use super::{browser_like, csrf_of, page, sign_in_admin};

const SENTENCE: &str = "You signed in at the provider as a different account than the one this library is connected with, so nothing changed";

/// Posts the library page's Connect form (`switch_account` when asked),
/// then allows the consent as `email` at cloudsim's page; where the
/// callback sends the browser.
async fn connect_as(world: &SimWorld, cookie: &str, email: &str, switch_account: bool) -> String {
    let (_, html) = page(&world.app, cookie, "/libraries/docs").await;
    let mut form = vec![("csrf", csrf_of(&html))];
    if switch_account {
        form.push(("switch_account", "yes".to_owned()));
    }
    let connect = browser_like()
        .post(world.app.url("/libraries/docs/connect"))
        .header("cookie", cookie)
        .header("origin", &world.app.base_url)
        .form(&form)
        .send()
        .await
        .expect("connect");
    assert_eq!(connect.status(), 303, "Connect goes to the provider");
    let consent_url = reqwest::Url::parse(&location(&connect)).expect("consent URL");
    // The consent page's form: every parameter back, the account chosen.
    let mut fields: Vec<(String, String)> = consent_url
        .query_pairs()
        .filter(|(name, _)| name != "login_hint")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    fields.push(("login_hint".to_owned(), email.to_owned()));
    fields.push(("decision".to_owned(), "allow".to_owned()));
    let mut post_to = consent_url.clone();
    post_to.set_query(None);
    let allowed = world
        .sim
        .http()
        .post(post_to)
        .form(&fields)
        .send()
        .await
        .expect("allow");
    assert_eq!(allowed.status(), 302, "the provider sends the browser back");
    let callback = browser_like()
        .get(location(&allowed))
        .header("accept", "text/html")
        .send()
        .await
        .expect("callback");
    assert!(
        callback.status().is_redirection(),
        "the console's flow goes back to its page: {}",
        callback.status()
    );
    let target = location(&callback);
    target
        .strip_prefix(&world.app.base_url)
        .unwrap_or(&target)
        .to_owned()
}

/// The library's file paths after one sync through the API (a purge
/// first when `purge`).
async fn synced_paths(world: &SimWorld, purge: bool) -> Vec<String> {
    let (status, body) = world
        .app
        .call(
            Method::POST,
            "/api/libraries/docs/_sync",
            Some(json!({"purge": purge})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, files) = world
        .app
        .call(Method::GET, "/api/libraries/docs/files", None)
        .await;
    files["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|f| f["path"].as_str().expect("path").to_owned())
        .collect()
}

#[tokio::test]
async fn another_account_at_the_consent_is_a_sentence_and_a_switch() {
    let world = SimWorld::start(Provider::of_library_type("google-drive")).await;
    let other = world
        .sim
        .add_account(world.provider, "b@example.com", "Bea")
        .await;
    world
        .put_file(&world.account.drive_id, "of-a.txt", b"a")
        .await;
    world.put_file(&other.drive_id, "of-b.txt", b"b").await;
    let library = world.connect_library("docs").await;
    assert_eq!(synced_paths(&world, false).await, ["of-a.txt"]);
    world
        .sim
        .call(
            Method::PATCH,
            "/_sim/settings",
            json!({"autoApprove": false}),
        )
        .await;
    let cookie = sign_in_admin(&world.app).await;

    let back = connect_as(&world, &cookie, "b@example.com", false).await;
    assert_eq!(back, "/libraries/docs?done=other-account");
    let (status, html) = page(&world.app, &cookie, &back).await;
    assert_eq!(status, 200);
    assert!(html.contains(SENTENCE), "{html}");
    assert!(html.contains(">Switch account</button>"), "{html}");
    let (_, connection) = world
        .app
        .call(Method::GET, "/api/libraries/docs/connection", None)
        .await;
    assert_eq!(
        connection["providerAccountId"], library.account_id,
        "the library stays connected to its account"
    );

    // The switch the sentence offers: the same consent, now accepted.
    let back = connect_as(&world, &cookie, "b@example.com", true).await;
    assert_eq!(back, "/libraries/docs?done=connected");
    let (_, html) = page(&world.app, &cookie, &back).await;
    assert!(
        html.contains("Connected as <strong>b@example.com</strong>"),
        "{html}"
    );
    assert!(!html.contains(SENTENCE));
    // As the sentence says: Purge and sync replaces the files with the
    // other account's.
    assert_eq!(
        synced_paths(&world, true).await,
        ["of-b.txt"],
        "the library now mirrors the other account"
    );
}

#[tokio::test]
async fn the_switch_is_offered_only_after_another_account() {
    let world = SimWorld::start(Provider::of_library_type("google-drive")).await;
    world.connect_library("docs").await;
    let cookie = sign_in_admin(&world.app).await;
    let (_, html) = page(&world.app, &cookie, "/libraries/docs").await;
    assert!(!html.contains("Switch account"), "{html}");
    let (_, html) = page(&world.app, &cookie, "/libraries/docs?done=denied").await;
    assert!(!html.contains("Switch account"), "{html}");
}
