//! The console in a real browser (Debian's chromium through chromedriver),
//! against the real server and cloudsim with its consent page on: what a
//! person does, found by the names a person (and a screen reader) sees.
//! Each page visited is checked with axe-core (FOLIO_AXE_JS), and the main
//! pages are saved as screenshots under `<target>/console-screenshots/`.
//!
//! Without chromedriver the tests say loudly that they did not run and
//! pass; with FOLIO_REQUIRE_BROWSER=1 (CI) they fail instead.

mod driver;

use std::time::Duration;

use driver::Browser;
use folio_testkit::TestApp;
use folio_testkit::sim::{Cloudsim, Provider, SimAccount, connect_library};
use reqwest::Method;
use serde_json::{Value, json};

const ADMIN_PASSWORD: &str = "admin-password-1";
const HELLO: &[u8] = b"Hello from the provider's drive.\n";

/// Folio and cloudsim, with Folio registered at `library_type`'s provider,
/// one account there (`a@example.com`), an integration made by the admin,
/// and the admin's password set.
struct World {
    app: TestApp,
    sim: Cloudsim,
    provider: Provider,
    account: SimAccount,
    library_type: &'static str,
}

impl World {
    async fn start(library_type: &'static str) -> Self {
        let provider = Provider::of_library_type(library_type);
        let sim = Cloudsim::start().await;
        let app = TestApp::spawn_with(folio_server::ServerConfig {
            allow_private_provider_urls: true,
            ..folio_server::ServerConfig::default()
        })
        .await;
        sim.register_client(provider, &app.url("/api/oauth/callback"))
            .await;
        let account = sim
            .add_account(provider, "a@example.com", "Ada Example")
            .await;
        let hash = folio_server::auth::hash_password(ADMIN_PASSWORD).expect("hash");
        app.store
            .set_password(app.admin_id, Some(&hash))
            .await
            .expect("admin password");
        Self {
            app,
            sim,
            provider,
            account,
            library_type,
        }
    }

    /// Shows cloudsim's consent page (Allow / Cancel) from now on.
    async fn consent_page_on(&self) {
        self.sim
            .call(
                Method::PATCH,
                "/_sim/settings",
                json!({"autoApprove": false}),
            )
            .await;
    }

    async fn integration(&self) {
        let body = self.sim.integration_body(
            self.library_type,
            &format!("cloudsim {}", self.library_type),
        );
        let (status, body) = self
            .app
            .call(Method::POST, "/api/integrations", Some(body))
            .await;
        assert_eq!(status, 201, "{body}");
    }

    /// The drive files go to: the account's own, or a SharePoint site's.
    async fn drive(&self) -> String {
        if self.library_type == "sharepoint" {
            let site = self
                .sim
                .post(
                    "/_sim/microsoft/sites",
                    json!({"name": "Marketing", "members": [self.account.account_id]}),
                )
                .await;
            site["driveId"].as_str().expect("driveId").to_owned()
        } else {
            self.account.drive_id.clone()
        }
    }

    async fn put(&self, drive: &str, path: &str, bytes: &[u8]) -> Value {
        self.sim.put_file(self.provider, drive, path, bytes).await
    }

    /// What cloudsim holds at `path` of `drive`: the SHA-256 of its bytes
    /// (hex) and their length, from its control API's metadata.
    async fn provider_content(&self, drive: &str, path: &str) -> (String, u64) {
        let meta: Value = self
            .sim
            .http()
            .get(self.sim.url(&format!(
                "/_sim/{}/{drive}/files/{path}",
                self.provider.sim_name()
            )))
            .send()
            .await
            .expect("cloudsim file")
            .json()
            .await
            .expect("metadata");
        let key = meta["content"]["key"].as_str().expect("content key");
        let len = meta["content"]["len"].as_u64().expect("content length");
        (key.to_owned(), len)
    }

    /// A library connected through the API (no browser), as the admin.
    async fn connected_library(&self, natural_id: &str) {
        connect_library(&self.app, &self.sim, self.library_type, natural_id).await;
    }
}

async fn whole_flow(library_type: &'static str, screenshots: bool) {
    let world = World::start(library_type).await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    world.consent_page_on().await;
    world.integration().await;
    let drive = world.drive().await;
    world.put(&drive, "Docs/hello.txt", HELLO).await;
    let big: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    world.put(&drive, "Docs/sub/data.bin", &big).await;
    world.put(&drive, "Elsewhere/skip.txt", b"not synced").await;
    let base = world.app.base_url.clone();
    let snap = |name: &'static str| {
        let browser = &browser;
        async move {
            browser.check_accessibility(name).await;
            if screenshots {
                browser.screenshot(name).await;
            }
        }
    };

    browser.goto(&format!("{base}/login")).await;
    snap("login").await;
    browser.sign_in(&base, "admin", ADMIN_PASSWORD).await;
    browser.fill("Name", &format!("Team {library_type}")).await;
    browser.select("Type", library_type).await;
    browser.click_button("Create library").await;
    browser.wait_for_text("No integration is chosen yet").await;
    browser.click_button("Use this integration").await;
    browser
        .wait_for_text("The integration is saved. Connect the library next.")
        .await;
    snap("library-new").await;
    browser.click_button("Connect").await;
    // cloudsim's consent page.
    browser.click_button("Allow").await;
    browser.wait_for_text("Connected as a@example.com").await;
    assert!(
        browser.path().await.starts_with("/libraries/team-"),
        "back on the library's page"
    );
    browser.click_button("Choose folder").await;
    if library_type == "sharepoint" {
        // The top lists the sites' document libraries: choose one first,
        // then its folders can be browsed.
        browser.click_link("Marketing").await;
        browser.click_button("Use this folder").await;
        browser.wait_for_text("The folder is saved").await;
        browser.click_button("Choose folder").await;
    }
    browser.click_link("Docs").await;
    browser.wait_for_text("Use this folder").await;
    snap("folders").await;
    browser.click_button("Use this folder").await;
    browser.wait_for_text("The folder is saved").await;
    browser.click_button("Sync now").await;
    let result = browser.wait_for_sync_end().await;
    assert!(result.contains("Sync finished: 2 added"), "{result}");
    let (now, max) = browser.progress().await.expect("a progress bar");
    assert_eq!((now, max), (2, 2), "the bar ends full");
    browser.goto(&browser_url(&browser).await).await;
    browser.wait_for_text("Sync history").await;
    snap("library").await;
    browser.click_link("Browse the files").await;
    browser.wait_for_text("hello.txt").await;
    let text = browser.text().await;
    assert!(text.contains("sub/"), "folders are listed: {text}");
    assert!(!text.contains("skip.txt"), "only the chosen folder: {text}");
    snap("files").await;
    let href = browser.link_href("hello.txt").await;
    let downloaded = browser.fetch_bytes(&href).await;
    assert_eq!(downloaded, HELLO, "byte for byte what the drive was given");
    assert_eq!(
        world.provider_content(&drive, "Docs/hello.txt").await,
        (sha256_hex(&downloaded), downloaded.len() as u64),
        "what cloudsim holds"
    );
    browser.click_link("sub/").await;
    let href = browser.link_href("data.bin").await;
    let downloaded = browser.fetch_bytes(&href).await;
    assert_eq!(downloaded, big, "byte for byte");
    assert_eq!(
        world.provider_content(&drive, "Docs/sub/data.bin").await,
        (sha256_hex(&downloaded), downloaded.len() as u64)
    );
    browser.goto(&format!("{base}/")).await;
    browser.wait_for_text("connected as a@example.com").await;
    let list = browser.text().await;
    assert!(list.contains(&format!("Team {library_type}")), "{list}");
    assert!(list.contains("done, 2 changes"), "the last sync: {list}");
    snap("libraries").await;
    if screenshots {
        browser.goto(&format!("{base}/integrations")).await;
        snap("integrations").await;
        browser.click_link("cloudsim").await;
        browser.wait_for_text("Redirect URI").await;
        snap("integration").await;
    }
    browser.close().await;
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

async fn browser_url(browser: &Browser) -> String {
    let url = browser.client.current_url().await.expect("url");
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port().map_or(String::new(), |p| format!(":{p}"))
    ) + url.path()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_on_google_drive() {
    whole_flow("google-drive", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_on_onedrive() {
    whole_flow("onedrive", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_on_sharepoint() {
    whole_flow("sharepoint", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_on_dropbox() {
    whole_flow("dropbox", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_at_the_consent_page_comes_back_as_a_sentence() {
    let world = World::start("google-drive").await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    world.consent_page_on().await;
    world.integration().await;
    let base = world.app.base_url.clone();
    browser.sign_in(&base, "admin", ADMIN_PASSWORD).await;
    browser.fill("Name", "Cancelled").await;
    browser.select("Type", "google-drive").await;
    browser.click_button("Create library").await;
    browser.click_button("Use this integration").await;
    browser.click_button("Connect").await;
    browser.click_button("Cancel").await;
    browser
        .wait_for_text("The provider did not grant access, so nothing was connected.")
        .await;
    assert_eq!(browser.path().await, "/libraries/cancelled?done=denied");
    let text = browser.text().await;
    assert!(text.contains("Not connected."), "{text}");
    assert!(!text.contains("statusCode"), "no JSON: {text}");
    browser.check_accessibility("consent-cancelled").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_after_the_provider_revoked_the_tokens() {
    let world = World::start("google-drive").await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    world.connected_library("revoked").await;
    world.consent_page_on().await;
    world
        .sim
        .post("/_sim/google/tokens/revoke", json!({}))
        .await;
    world
        .sim
        .post("/_sim/google/tokens/expire", json!({}))
        .await;
    let base = world.app.base_url.clone();
    browser.sign_in(&base, "admin", ADMIN_PASSWORD).await;
    browser.goto(&format!("{base}/libraries/revoked")).await;
    browser.wait_for_text("Reconnect needed.").await;
    browser.check_accessibility("reconnect").await;
    browser.screenshot("reconnect").await;
    browser.click_button("Reconnect").await;
    browser.click_button("Allow").await;
    browser.wait_for_text("Connected as a@example.com").await;
    assert!(!browser.text().await.contains("Reconnect needed."));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_as_another_account_says_so_and_offers_the_switch() {
    let world = World::start("google-drive").await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    world
        .sim
        .add_account(world.provider, "b@example.com", "Bea Example")
        .await;
    world.connected_library("switched").await;
    world.consent_page_on().await;
    world
        .sim
        .post("/_sim/google/tokens/revoke", json!({}))
        .await;
    world
        .sim
        .post("/_sim/google/tokens/expire", json!({}))
        .await;
    let base = world.app.base_url.clone();
    browser.sign_in(&base, "admin", ADMIN_PASSWORD).await;
    browser.goto(&format!("{base}/libraries/switched")).await;
    browser.click_button("Reconnect").await;
    // cloudsim's account chooser: the second account, not the connected one.
    browser.select("Account", "b@example.com").await;
    browser.click_button("Allow").await;
    browser
        .wait_for_text("as a different account than the one this library is connected with, so nothing changed")
        .await;
    assert_eq!(
        browser.path().await,
        "/libraries/switched?done=other-account"
    );
    assert!(!browser.text().await.contains("statusCode"), "no JSON");
    browser.check_accessibility("other-account").await;
    browser.screenshot("other-account").await;

    browser.click_button("Switch account").await;
    browser.select("Account", "b@example.com").await;
    browser.click_button("Allow").await;
    browser.wait_for_text("Connected as b@example.com").await;
    assert!(!browser.text().await.contains("Reconnect needed."));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_and_sync_says_what_it_deletes_before_it_runs() {
    let world = World::start("dropbox").await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    world.connected_library("purged").await;
    let drive = world.account.drive_id.clone();
    world.put(&drive, "a.txt", b"first").await;
    let (status, body) = world.app.sync("purged", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let base = world.app.base_url.clone();
    browser.sign_in(&base, "admin", ADMIN_PASSWORD).await;
    browser.goto(&format!("{base}/libraries/purged")).await;
    browser.click_button("Purge and sync").await;
    browser
        .wait_for_text("This deletes all 1 files (5 bytes) Folio holds for this library")
        .await;
    browser.check_accessibility("purge-confirm").await;
    browser.screenshot("purge-confirm").await;
    // Cancel leaves everything as it was.
    browser.click_link("Cancel").await;
    browser.wait_for_text("1 files, 5 bytes").await;
    browser.click_button("Purge and sync").await;
    // The confirmation page has a button of the same name: wait for that
    // page before clicking, or the click can land on the page being left.
    browser
        .wait_for_text("This deletes all 1 files (5 bytes) Folio holds for this library")
        .await;
    browser.click_button("Purge and sync").await;
    let result = browser.wait_for_sync_end().await;
    assert!(result.contains("Sync finished: 1 added"), "{result}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_in_the_middle_of_a_sync_picks_the_progress_up() {
    let world = World::start("google-drive").await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    world.connected_library("slow").await;
    world
        .sim
        .generate(
            world.provider,
            &world.account.account_id,
            "gen",
            40,
            2000,
            1,
        )
        .await;
    world
        .sim
        .add_latency(
            world.provider,
            Some(world.provider.download_endpoint()),
            150,
            None,
        )
        .await;
    let base = world.app.base_url.clone();
    browser.sign_in(&base, "admin", ADMIN_PASSWORD).await;
    browser.goto(&format!("{base}/libraries/slow")).await;
    browser.click_button("Sync now").await;
    wait_until_progress_moves(&browser).await;
    browser.screenshot("sync-running").await;
    browser.client.refresh().await.expect("reload");
    let (now, max) = browser.progress().await.expect("the bar is still there");
    assert!(now <= max, "{now} of {max}");
    // A second tab, without the progress id in its address, finds it too.
    browser.goto(&format!("{base}/libraries/slow")).await;
    assert!(
        browser.progress().await.is_some(),
        "the running sync is shown: {}",
        browser.text().await
    );
    let result = browser.wait_for_sync_end().await;
    assert!(result.contains("Sync finished: 40 added"), "{result}");
    browser.close().await;
}

async fn wait_until_progress_moves(browser: &Browser) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some((now, max)) = browser.progress().await
            && now > 0
            && now < max
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the progress never moved: {}",
            browser.text().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_sees_no_connect_or_sync_and_a_stranger_gets_not_found() {
    let world = World::start("onedrive").await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    world.connected_library("shared").await;
    world.app.create_user("reader").await;
    world.app.create_user("stranger").await;
    let (status, body) = world
        .app
        .call(
            Method::PUT,
            "/api/libraries/shared/shares/reader",
            Some(json!({"level": "read"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let base = world.app.base_url.clone();
    browser.sign_in(&base, "reader", "password-123").await;
    browser.goto(&format!("{base}/libraries/shared")).await;
    browser.wait_for_text("Connected as a@example.com").await;
    for button in [
        "Connect",
        "Sync now",
        "Purge and sync",
        "Disconnect",
        "Share",
    ] {
        assert!(
            !browser.has_button(button).await,
            "a reader sees no {button}"
        );
    }
    browser.check_accessibility("reader").await;
    browser.click_button("Sign out").await;
    browser.sign_in(&base, "stranger", "password-123").await;
    browser.goto(&format!("{base}/libraries/shared")).await;
    browser.wait_for_text("Not found").await;
    assert!(!browser.text().await.contains("shared"));
    browser.check_accessibility("not-found").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_form_post_is_refused() {
    let world = World::start("google-drive").await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let base = world.app.base_url.clone();
    // Another site (another origin) with a form aimed at Folio.
    let evil = format!(
        "<!doctype html><title>Win a prize</title><form method=post action=\"{base}/\">\
         <input type=hidden name=csrf value=x><input type=hidden name=name value=Forged>\
         <input type=hidden name=type value=local><button>Claim</button></form>"
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let evil_addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let app = axum::Router::new().route(
            "/",
            axum::routing::get(move || async move { axum::response::Html(evil) }),
        );
        axum::serve(listener, app).await.ok();
    });
    browser.sign_in(&base, "admin", ADMIN_PASSWORD).await;
    browser.goto(&format!("http://{evil_addr}/")).await;
    browser.click_button("Claim").await;
    browser.wait_for_text("Request refused").await;
    let (_, list) = world.app.call(Method::GET, "/api/libraries", None).await;
    assert_eq!(list["items"], json!([]), "nothing was created");
    browser.close().await;
}
