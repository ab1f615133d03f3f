//! A real browser for the tests: Debian's chromium, headless, driven over
//! WebDriver through chromedriver, with helpers that find controls the way
//! a person (and a screen reader) does: buttons and links by their text,
//! fields by their label.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// How long a page may take to show what a test waits for.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// One browser at a time: the machine has few cores, and chromium is
/// heavy.
pub fn one_at_a_time() -> &'static tokio::sync::Mutex<()> {
    static LOCK: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(()))
}

/// Whether the browser tests must run (CI sets FOLIO_REQUIRE_BROWSER=1).
fn required() -> bool {
    std::env::var("FOLIO_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

pub struct Browser {
    pub client: Client,
    driver: Child,
    _guard: tokio::sync::MutexGuard<'static, ()>,
}

impl Browser {
    /// A fresh browser, or `None` (said loudly) when chromedriver is not
    /// installed and the tests are not required.
    ///
    /// # Panics
    /// When the browser is required but missing, or does not start.
    pub async fn start() -> Option<Self> {
        if !std::path::Path::new(CHROMEDRIVER).exists() {
            let line = format!(
                "!!! BROWSER TESTS DID NOT RUN: {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver) !!!"
            );
            assert!(!required(), "{line} (FOLIO_REQUIRE_BROWSER=1)");
            folio_testkit::say_loudly(&line);
            return None;
        }
        let guard = one_at_a_time().lock().await;
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        wait_for_driver(&url).await;
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", "--window-size=1280,1000", "--lang=en-US"],
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await
            .expect("a chromium session");
        Some(Self {
            client,
            driver,
            _guard: guard,
        })
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("open page");
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .expect("body")
            .text()
            .await
            .expect("text")
    }

    /// Waits until the page's text holds `needle`.
    pub async fn wait_for_text(&self, needle: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(body) = self.client.find(Locator::Css("body")).await
                && let Ok(text) = body.text().await
                && text.contains(needle)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "'{needle}' never appeared on {}; the page says:\n{}",
                self.path().await,
                self.text().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the button whose accessible name is `name`.
    pub async fn click_button(&self, name: &str) {
        let xpath = format!(
            "//button[normalize-space()={}] | //input[@type='submit' and @value={}]",
            literal(name),
            literal(name)
        );
        self.wait_find(&xpath, &format!("button '{name}'"))
            .await
            .click()
            .await
            .expect("click");
    }

    /// Waits for the element `xpath` finds (`what` names it in the panic).
    async fn wait_find(&self, xpath: &str, what: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::XPath(xpath))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!(
                "no {what} on {} ({e}); the page says:\n{}",
                self.path().await,
                self.text().await
            ),
        }
    }

    /// Whether a button named `name` is on the page.
    pub async fn has_button(&self, name: &str) -> bool {
        let xpath = format!("//button[normalize-space()={}]", literal(name));
        self.client
            .find_all(Locator::XPath(&xpath))
            .await
            .is_ok_and(|found| !found.is_empty())
    }

    /// Clicks the first link whose text contains `text`.
    pub async fn click_link(&self, text: &str) {
        let xpath = format!("//a[contains(normalize-space(), {})]", literal(text));
        self.wait_find(&xpath, &format!("link '{text}'"))
            .await
            .click()
            .await
            .expect("click");
    }

    /// The field labelled `label` (by its `<label for>`).
    async fn field(&self, label: &str) -> fantoccini::elements::Element {
        let xpath = format!("//label[normalize-space()={}]", literal(label));
        let label_element = self.wait_find(&xpath, &format!("label '{label}'")).await;
        let id = label_element
            .attr("for")
            .await
            .expect("attr")
            .unwrap_or_else(|| panic!("label '{label}' names no field"));
        self.client
            .find(Locator::Id(&id))
            .await
            .unwrap_or_else(|_| panic!("no field #{id} for label '{label}'"))
    }

    pub async fn fill(&self, label: &str, value: &str) {
        let field = self.field(label).await;
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("type");
    }

    pub async fn select(&self, label: &str, value: &str) {
        self.field(label)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value} in '{label}': {e}"));
    }

    pub async fn sign_in(&self, base: &str, username: &str, password: &str) {
        self.goto(&format!("{base}/login")).await;
        self.fill("Username", username).await;
        self.fill("Password", password).await;
        self.click_button("Sign in").await;
        self.wait_for_text("Sign out").await;
    }

    /// `aria-valuenow` and `aria-valuemax` of the progress bar, if shown.
    pub async fn progress(&self) -> Option<(i64, i64)> {
        let bar = self
            .client
            .find(Locator::Css("[role=progressbar]"))
            .await
            .ok()?;
        let now = bar.attr("aria-valuenow").await.ok()??.parse().ok()?;
        let max = bar.attr("aria-valuemax").await.ok()??.parse().ok()?;
        Some((now, max))
    }

    /// Waits until the live progress says the sync ended; its last words.
    pub async fn wait_for_sync_end(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(region) = self.client.find(Locator::Css(".progress")).await
                && let Ok(Some(finished)) = region.attr("data-finished").await
            {
                let text = region.text().await.expect("text");
                assert_eq!(finished, "done", "the sync ended badly: {text}");
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "the sync never ended; the page says:\n{}",
                self.text().await
            );
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// A URL fetched by the page itself (with its session): the bytes.
    pub async fn fetch_bytes(&self, href: &str) -> Vec<u8> {
        let script = "const done = arguments[arguments.length - 1];\
            fetch(arguments[0]).then(r => r.arrayBuffer())\
            .then(b => done(Array.from(new Uint8Array(b)))).catch(e => done('failed: ' + e));";
        let value = self
            .client
            .execute_async(script, vec![json!(href)])
            .await
            .expect("fetch in the page");
        value
            .as_array()
            .unwrap_or_else(|| panic!("download of {href}: {value}"))
            .iter()
            .map(|b| u8::try_from(b.as_u64().expect("byte")).expect("byte"))
            .collect()
    }

    /// The `href` of the first link whose text is `text`.
    pub async fn link_href(&self, text: &str) -> String {
        let xpath = format!("//a[normalize-space()={}]", literal(text));
        self.client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|_| panic!("no link '{text}'"))
            .attr("href")
            .await
            .expect("attr")
            .expect("href")
    }

    /// Runs axe-core on the page: no serious or critical violation.
    pub async fn check_accessibility(&self, page: &str) {
        let Some(axe) = axe_source() else { return };
        self.client
            .execute(&format!("{axe}\nreturn true;"), vec![])
            .await
            .expect("inject axe-core");
        let script = "const done = arguments[arguments.length - 1];\
            axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations\
              .filter(v => v.impact === 'serious' || v.impact === 'critical')\
              .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', '))))\
            .catch(e => done(['axe failed: ' + e]));";
        let violations = self
            .client
            .execute_async(script, vec![])
            .await
            .expect("run axe-core");
        let violations: Vec<Value> = violations.as_array().cloned().unwrap_or_default();
        assert!(
            violations.is_empty(),
            "accessibility of {page}: {violations:#?}"
        );
    }

    /// Saves a screenshot as `<target>/console-screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// axe-core's script from FOLIO_AXE_JS; `None` (said once) when unset.
fn axe_source() -> Option<&'static str> {
    static AXE: OnceLock<Option<String>> = OnceLock::new();
    AXE.get_or_init(|| match std::env::var("FOLIO_AXE_JS") {
        Ok(path) => Some(
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("FOLIO_AXE_JS={path}: {e}")),
        ),
        Err(_) => {
            let line = "!!! ACCESSIBILITY CHECKS DID NOT RUN: set FOLIO_AXE_JS to axe-core's axe.min.js !!!";
            assert!(!required(), "{line} (FOLIO_REQUIRE_BROWSER=1)");
            folio_testkit::say_loudly(line);
            None
        }
    })
    .as_deref()
}

/// `<target dir>/console-screenshots`, from this test binary's own path
/// (`<target>/debug/deps/browser-...`).
pub fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.ancestors()
        .nth(3)
        .map_or_else(|| PathBuf::from("target"), PathBuf::from)
        .join("console-screenshots")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn wait_for_driver(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let client = reqwest::Client::new();
    loop {
        if let Ok(response) = client.get(format!("{url}/status")).send().await
            && response.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `text` as an XPath string literal.
fn literal(text: &str) -> String {
    if !text.contains('\'') {
        return format!("'{text}'");
    }
    let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
    format!("concat({})", parts.join(", \"'\", "))
}
