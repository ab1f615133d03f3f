//! `folio demo` as a person runs it: the real binary, its three lines, the
//! wired libraries, the one-time console link, a connect through
//! cloudsim's consent page and a sync, `--changes`, and Ctrl-C.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::Value;
use sha2::{Digest, Sha256};

const LIBRARIES: [(&str, &str); 4] = [
    ("demo-google-drive", "google-drive"),
    ("demo-onedrive", "onedrive"),
    ("demo-sharepoint", "sharepoint"),
    ("demo-dropbox", "dropbox"),
];

/// A running `folio demo`.
struct Demo {
    child: Child,
    folio: String,
    cloudsim: String,
    console: String,
    http: reqwest::Client,
}

impl Demo {
    /// Starts `folio demo --listen 127.0.0.1:0 EXTRA...` with temporary
    /// folders made in `tmp`, and reads its three lines.
    fn start(tmp: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_folio"))
            .args(["demo", "--listen", "127.0.0.1:0"])
            .args(extra)
            .current_dir(tmp)
            .env("TMPDIR", tmp)
            .env_remove("FOLIO_DATA_DIR")
            .env_remove("FOLIO_DATABASE_URL")
            .env("FOLIO_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn folio demo");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = |prefix: &str| {
            let mut line = String::new();
            stdout.read_line(&mut line).expect("read a line");
            line.trim_end()
                .strip_prefix(prefix)
                .unwrap_or_else(|| panic!("expected '{prefix}...', got {line:?}"))
                .to_owned()
        };
        let folio = line("listening on ");
        let cloudsim = line("cloudsim: ");
        let console = line("console: ");
        // Keep draining stdout so the demo never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut rest = Vec::new();
            let _ = stdout.read_to_end(&mut rest);
        });
        for url in [&folio, &cloudsim] {
            assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        }
        assert!(
            console.starts_with(&format!("{folio}/login/once?token=")),
            "{console}"
        );
        let http = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .expect("client");
        Self {
            child,
            folio,
            cloudsim,
            console,
            http,
        }
    }

    /// Sends SIGINT (Ctrl-C) and waits for the exit.
    fn interrupt(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "folio demo did not stop");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.folio))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The one temporary data folder the demo made in `tmp`.
fn demo_data_dir(tmp: &Path) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(tmp)
        .expect("read tmp")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("folio-demo-"))
        })
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

fn admin_token(data_dir: &Path) -> String {
    std::fs::read_to_string(data_dir.join("admin.token"))
        .expect("admin.token")
        .trim()
        .to_owned()
}

#[tokio::test]
async fn the_demo_is_wired_signs_in_once_and_ctrl_c_leaves_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let demo = Demo::start(tmp.path(), &[]);
    let data_dir = demo_data_dir(tmp.path());
    let token = admin_token(&data_dir);

    for (library, kind) in LIBRARIES {
        let (status, body) = demo.get(&token, &format!("/api/libraries/{library}")).await;
        assert_eq!(status, StatusCode::OK, "{library}: {body}");
        assert_eq!(body["type"], kind, "{body}");
        let (status, integration) = demo
            .get(&token, &format!("/api/libraries/{library}/integration"))
            .await;
        assert_eq!(status, StatusCode::OK, "{library}: {integration}");
        assert_eq!(integration["type"], kind);
        let api_uri = integration["apiUri"].as_str().unwrap_or_default();
        assert_eq!(
            api_uri.trim_end_matches('/'),
            demo.cloudsim,
            "{integration}"
        );
        let auth_uri = integration["authUri"].as_str().unwrap_or_default();
        assert!(auth_uri.starts_with(&demo.cloudsim), "{auth_uri}");
        // The server's one answer for "no connection yet" is a 409.
        let (status, body) = demo
            .get(&token, &format!("/api/libraries/{library}/connection"))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{library}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains("no connection yet"), "{message}");
    }

    // The console link signs in once.
    let first = demo.http.get(&demo.console).send().await.expect("link");
    assert!(first.status().is_redirection(), "{}", first.status());
    assert_eq!(first.headers()["location"], "/");
    let cookie = first.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    assert!(cookie.starts_with("folio_session="), "{cookie}");
    let me: Value = demo
        .http
        .get(format!("{}/api/me", demo.folio))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("me json");
    assert_eq!(me["username"], "admin");
    let second = demo
        .http
        .get(&demo.console)
        .send()
        .await
        .expect("link again");
    assert_eq!(second.status(), StatusCode::UNAUTHORIZED);
    assert!(second.headers().get("set-cookie").is_none());
    // The token is no session cookie either.
    let token_part = demo.console.split("token=").nth(1).expect("token");
    let as_cookie = demo
        .http
        .get(format!("{}/api/me", demo.folio))
        .header("cookie", format!("folio_session={token_part}"))
        .send()
        .await
        .expect("me");
    assert_eq!(as_cookie.status(), StatusCode::UNAUTHORIZED);

    let (folio, cloudsim) = (demo.folio.clone(), demo.cloudsim.clone());
    let status = demo.interrupt();
    assert!(status.success(), "{status:?}");
    assert!(!data_dir.exists(), "the temporary data folder is removed");
    for url in [folio, cloudsim] {
        let refused = reqwest::get(format!("{url}/healthz")).await;
        assert!(refused.is_err(), "{url} still answers");
    }
}

/// Decodes the few entities cloudsim's consent page escapes.
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The hidden fields of the consent form.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|rest| {
            let name = rest.strip_prefix("name=\"")?.split('"').next()?;
            let value = rest.split("value=\"").nth(1)?.split('"').next()?;
            Some((unescape(name), unescape(value)))
        })
        .collect()
}

/// `base` with the segments of `path` appended, each percent-encoded
/// (names hold spaces, `#` and emoji).
fn with_path(base: &str, path: &str) -> reqwest::Url {
    let mut url = reqwest::Url::parse(base).expect("url");
    url.path_segments_mut()
        .expect("a base")
        .extend(path.split('/'));
    url
}

/// SHA-256 of the bytes cloudsim holds for the file at `path` of `drive`.
async fn cloudsim_sha256(http: &reqwest::Client, sim: &str, drive: &str, path: &str) -> String {
    let url = with_path(&format!("{sim}/_sim/dropbox/{drive}/files"), path);
    let item: Value = http
        .get(url)
        .send()
        .await
        .expect("get file")
        .json()
        .await
        .expect("file json");
    let content = &item["content"];
    match content["type"].as_str() {
        Some("blob") => content["key"].as_str().expect("key").to_owned(),
        Some("generated") => {
            let seed = content["seed"].as_u64().expect("seed");
            let len = content["len"].as_u64().expect("len");
            let mut bytes = vec![0u8; usize::try_from(len).expect("len")];
            cloudsim::content::fill_generated(seed, 0, &mut bytes);
            hex::encode(Sha256::digest(&bytes))
        }
        other => panic!("{path}: content {other:?}"),
    }
}

#[tokio::test]
async fn a_connect_through_the_consent_page_then_a_sync_brings_cloudsims_bytes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let demo = Demo::start(tmp.path(), &[]);
    let token = admin_token(&demo_data_dir(tmp.path()));
    let http = &demo.http;

    let authorize = http
        .get(format!(
            "{}/api/libraries/demo-dropbox/connection/authorize",
            demo.folio
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("authorize");
    assert!(
        authorize.status().is_redirection(),
        "{}",
        authorize.status()
    );
    let consent_url = authorize.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(consent_url.starts_with(&demo.cloudsim), "{consent_url}");
    let page = http.get(&consent_url).send().await.expect("consent page");
    assert_eq!(page.status(), StatusCode::OK, "the consent page is shown");
    let html = page.text().await.expect("html");
    assert!(html.contains("id=\"allow\""), "{html}");
    let mut form = hidden_fields(&html);
    form.push(("decision".into(), "allow".into()));
    let allowed = http
        .post(&consent_url)
        .form(&form)
        .send()
        .await
        .expect("allow");
    assert!(allowed.status().is_redirection(), "{}", allowed.status());
    let callback = allowed.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(
        callback.starts_with(&format!("{}/api/oauth/callback", demo.folio)),
        "{callback}"
    );
    let connected = http.get(&callback).send().await.expect("callback");
    assert!(
        connected.status().is_success() || connected.status().is_redirection(),
        "{}",
        connected.status()
    );
    let (status, connection) = demo
        .get(&token, "/api/libraries/demo-dropbox/connection")
        .await;
    assert_eq!(status, StatusCode::OK, "{connection}");

    let synced: Value = http
        .post(format!("{}/api/libraries/demo-dropbox/_sync", demo.folio))
        .bearer_auth(&token)
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("sync")
        .json()
        .await
        .expect("sync json");
    assert_eq!(synced["errors"], serde_json::json!([]), "{synced}");
    let added = synced["addedFiles"].as_i64().unwrap_or_default();
    assert!(added >= 100, "{synced}");

    let accounts: Value = http
        .get(format!("{}/_sim/accounts", demo.cloudsim))
        .send()
        .await
        .expect("accounts")
        .json()
        .await
        .expect("accounts json");
    let drive = accounts["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["provider"] == "dropbox")
        .and_then(|a| a["driveId"].as_str())
        .expect("dropbox drive")
        .to_owned();
    let mut files = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/libraries/demo-dropbox/files?limit=1000".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = demo.get(&token, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        files.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(files.len() as i64, added);
    for file in &files {
        let path = file["path"].as_str().expect("path");
        let expected = cloudsim_sha256(http, &demo.cloudsim, &drive, path).await;
        assert_eq!(file["hash"].as_str(), Some(expected.as_str()), "{path}");
    }
    // And what Folio serves is those bytes.
    let unicode = files
        .iter()
        .filter_map(|f| f["path"].as_str())
        .find(|p| p.contains('🎉'))
        .expect("a Unicode name");
    let url = with_path(
        &format!("{}/api/libraries/demo-dropbox/files", demo.folio),
        unicode,
    );
    let bytes = http
        .get(url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("download")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        cloudsim_sha256(http, &demo.cloudsim, &drive, unicode).await
    );
    assert!(demo.interrupt().success());
}

#[tokio::test]
async fn changes_make_the_world_change() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("kept");
    let demo = Demo::start(
        tmp.path(),
        &[
            "--changes",
            "1",
            "--data-dir",
            data.to_str().expect("utf-8"),
        ],
    );
    let seq = || async {
        let accounts: Value = demo
            .http
            .get(format!("{}/_sim/accounts", demo.cloudsim))
            .send()
            .await
            .expect("accounts")
            .json()
            .await
            .expect("json");
        let account = accounts["accounts"][0]["accountId"]
            .as_str()
            .expect("account")
            .to_owned();
        let provider = accounts["accounts"][0]["provider"]
            .as_str()
            .expect("provider")
            .to_owned();
        let cursor: Value = demo
            .http
            .get(format!(
                "{}/_sim/{provider}/{account}/cursor",
                demo.cloudsim
            ))
            .send()
            .await
            .expect("cursor")
            .json()
            .await
            .expect("json");
        cursor["seq"].as_u64().expect("seq")
    };
    let before = seq().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while seq().await < before + 3 {
        assert!(Instant::now() < deadline, "the world did not change");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(demo.interrupt().success());
    assert!(
        data.join("admin.token").is_file(),
        "a --data-dir is kept after Ctrl-C"
    );
}
