//! `folio backup` and `folio restore` with the real binary: a backup taken
//! while a sync of a few thousand files runs, checked, restored, and served
//! by a new server byte for byte; backups killed midway or corrupted are
//! refused; a data folder that is not empty is refused; PostgreSQL and S3
//! are sent elsewhere.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const ADMIN_TOKEN: &str = "folio_backup-test-admin-token";
const CLIENT_ID: &str = "folio-google";
const CLIENT_SECRET: &str = "sim-client-secret-backup";
const LIBRARY: &str = "docs";
/// Files of the first sync, then of the second, during which the backup runs.
const FIRST_FILES: u64 = 500;
const SYNCED_FILES: u64 = 3_000;

/// `folio serve` on a data folder, stopped when dropped.
struct Folio {
    child: Child,
    base_url: String,
    http: reqwest::Client,
}

impl Folio {
    fn start(data_dir: &Path) -> Folio {
        let mut child = Command::new(env!("CARGO_BIN_EXE_folio"))
            .arg("serve")
            .env("FOLIO_LISTEN", "127.0.0.1:0")
            .env("FOLIO_DATA_DIR", data_dir)
            .env("FOLIO_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("FOLIO_ALLOW_PRIVATE_PROVIDER_URLS", "true")
            .env_remove("FOLIO_DATABASE_URL")
            .env_remove("FOLIO_STORAGE_URL")
            .env_remove("FOLIO_SECRET_KEY")
            .env_remove("FOLIO_PUBLIC_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn folio");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read stdout");
        let base_url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("folio did not start: {line:?}"))
            .to_owned();
        Folio {
            child,
            base_url,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(ADMIN_TOKEN)
    }

    async fn call(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .request(method, path)
            .json(&body)
            .send()
            .await
            .expect("call folio");
        let status = response.status();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Every file of the library, all pages.
    async fn files(&self, library: &str) -> Vec<Value> {
        let mut files = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/libraries/{library}/files?limit=1000");
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&cursor={cursor}"));
            }
            let (status, page) = self.call(Method::GET, &path, Value::Null).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            files.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["next"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return files,
            }
        }
    }

    /// SHA-256 and length of a file's bytes as served.
    async fn digest(&self, library: &str, path: &str) -> (String, u64) {
        let response = self
            .request(
                Method::GET,
                &format!("/api/libraries/{library}/files/{path}"),
            )
            .send()
            .await
            .expect("download");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let bytes = response.bytes().await.expect("bytes");
        (hex::encode(Sha256::digest(&bytes)), bytes.len() as u64)
    }
}

impl Drop for Folio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn folio(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(args)
        .env_remove("FOLIO_DATA_DIR")
        .env_remove("FOLIO_DATABASE_URL")
        .env_remove("FOLIO_STORAGE_URL")
        .env_remove("FOLIO_SECRET_KEY")
        .output()
        .expect("run folio")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

fn manifest(backup: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).expect("manifest"))
        .expect("manifest JSON")
}

/// cloudsim with one Google account holding `files` small files under
/// `docs/`; returns the drive id too.
async fn remote_with_files(files: u64) -> (cloudsim::SimHandle, reqwest::Client, String) {
    let sim = cloudsim::Sim::start(cloudsim::SimOptions::default())
        .await
        .expect("cloudsim");
    let http = reqwest::Client::new();
    let control = |path: &str, body: Value| {
        http.post(format!("{}{path}", sim.base_url()))
            .json(&body)
            .send()
    };
    let account: Value = control(
        "/_sim/accounts",
        json!({"provider": "google", "email": "backup@example.com", "displayName": "Backup"}),
    )
    .await
    .expect("account")
    .json()
    .await
    .expect("account JSON");
    let drive = account["driveId"].as_str().expect("drive id");
    let generated = control(
        &format!("/_sim/google/{drive}/generate"),
        json!({"root": "docs", "files": files, "bytes": 1024, "depth": 0}),
    )
    .await
    .expect("generate");
    assert!(generated.status().is_success());
    let drive = drive.to_owned();
    (sim, http, drive)
}

/// The integration and the library `docs`, connected through the real
/// OAuth flow (cloudsim approves at once).
async fn connect_library(folio: &Folio, sim: &cloudsim::SimHandle, http: &reqwest::Client) {
    let base = sim.base_url();
    let registered = http
        .post(format!("{base}/_sim/clients"))
        .json(
            &json!({"provider": "google", "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
            "redirectUris": [format!("{}/api/oauth/callback", folio.base_url)]}),
        )
        .send()
        .await
        .expect("register client");
    assert!(registered.status().is_success());
    let (status, integration) = folio
        .call(
            Method::POST,
            "/api/integrations",
            json!({"type": "google-drive", "name": "sim", "clientId": CLIENT_ID,
                "clientSecret": CLIENT_SECRET, "authUri": format!("{base}/o/oauth2/v2/auth"),
                "tokenUri": format!("{base}/token"), "apiUri": base}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{integration}");
    let (status, library) = folio
        .call(
            Method::POST,
            "/api/libraries",
            json!({"name": "Docs", "naturalId": LIBRARY, "type": "google-drive"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{library}");
    let (status, body) = folio
        .call(
            Method::PUT,
            &format!("/api/libraries/{LIBRARY}/integration"),
            json!({"integrationId": integration["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut next = folio
        .request(
            Method::GET,
            &format!("/api/libraries/{LIBRARY}/connection/authorize"),
        )
        .send()
        .await
        .expect("authorize");
    // authorize -> cloudsim approves -> callback.
    for _ in 0..2 {
        assert_eq!(next.status(), StatusCode::FOUND);
        let location = next.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned();
        next = folio.http.get(location).send().await.expect("follow");
    }
    assert!(next.status().is_success() || next.status().is_redirection());
}

/// Waits until the run `progress` has done `done` files or ended.
async fn wait_for_progress(folio: &Folio, progress: &str, done: i64) -> Value {
    let started = Instant::now();
    loop {
        let (status, body) = folio
            .call(
                Method::GET,
                &format!("/api/progress/{progress}"),
                Value::Null,
            )
            .await;
        if status == StatusCode::OK
            && (body["done"].as_i64().unwrap_or(0) >= done || body["status"] != "running")
        {
            return body;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no progress: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_a_sync_restores_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let backup = dir.path().join("backup");
    let restored = dir.path().join("restored");
    let (sim, http, drive) = remote_with_files(FIRST_FILES).await;
    let folio_server = Folio::start(&data);
    connect_library(&folio_server, &sim, &http).await;
    let (status, first) = folio_server
        .call(
            Method::POST,
            &format!("/api/libraries/{LIBRARY}/_sync"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    // A few thousand more, synced slowly, so the backup lands while the
    // second sync commits them page after page.
    let generated = http
        .post(format!("{}/_sim/google/{drive}/generate", sim.base_url()))
        .json(&json!({"root": "more", "files": SYNCED_FILES, "bytes": 1024, "depth": 0}))
        .send()
        .await
        .expect("generate");
    assert!(generated.status().is_success());
    let slowed = http
        .post(format!("{}/_sim/faults", sim.base_url()))
        .json(
            &json!({"provider": "google", "endpoint": "GET /drive/v3/files/{fileId}?alt=media",
            "kind": "latency", "latencyMs": 15}),
        )
        .send()
        .await
        .expect("latency fault");
    assert!(slowed.status().is_success());

    let sync = tokio::spawn(
        folio_server
            .request(Method::POST, &format!("/api/libraries/{LIBRARY}/_sync"))
            .json(&json!({"progress": "backup-sync"}))
            .send(),
    );
    // Once the second sync is storing downloads, well before its end.
    let seen = wait_for_progress(&folio_server, "backup-sync", 300).await;
    assert_eq!(seen["status"], "running", "{seen}");
    let args = [
        "backup".to_owned(),
        "--data-dir".to_owned(),
        path_str(&data).to_owned(),
        "--to".to_owned(),
        path_str(&backup).to_owned(),
    ];
    let output = tokio::task::spawn_blocking(move || folio(&args.each_ref().map(String::as_str)))
        .await
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let after = wait_for_progress(&folio_server, "backup-sync", 0).await;
    assert_eq!(
        after["status"], "running",
        "the sync ended before the backup did: they did not overlap ({after})"
    );
    eprintln!(
        "backup test: backup started at {}/{} files ({}), ended with the sync {} at {}/{}",
        seen["done"], seen["total"], seen["status"], after["status"], after["done"], after["total"]
    );
    let synced = sync.await.unwrap().expect("sync answer");
    assert_eq!(synced.status(), StatusCode::OK);

    let manifest = manifest(&backup);
    let files_in_backup = manifest["counts"]["files"].as_u64().unwrap();
    assert!(files_in_backup > 0, "{}", manifest["counts"]);
    assert!(
        (FIRST_FILES..=FIRST_FILES + SYNCED_FILES).contains(&files_in_backup),
        "{}",
        manifest["counts"]
    );
    eprintln!("backup test: the backup holds {files_in_backup} files");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(backup.join("secret.keys"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let output = folio(&["backup", "--verify", path_str(&backup)]);
    assert!(output.status.success(), "{}", text(&output));
    let output = folio(&[
        "restore",
        "--from",
        path_str(&backup),
        "--data-dir",
        path_str(&restored),
    ]);
    assert!(output.status.success(), "{}", text(&output));

    let restored_server = Folio::start(&restored);
    let blobs: HashMap<String, u64> = manifest["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["hash"].as_str().unwrap().to_owned(),
                b["size"].as_u64().unwrap(),
            )
        })
        .collect();
    let files = restored_server.files(LIBRARY).await;
    assert_eq!(files.len() as u64, files_in_backup);
    let checked: Vec<()> = futures::stream::iter(files.iter())
        .map(|file| {
            let server = &restored_server;
            let blobs = &blobs;
            async move {
                let path = file["path"].as_str().unwrap();
                let hash = file["hash"].as_str().unwrap();
                assert_eq!(blobs.get(hash).copied(), file["size"].as_u64(), "{file}");
                let (served, size) = server.digest(LIBRARY, path).await;
                assert_eq!(
                    (served.as_str(), Some(size)),
                    (hash, file["size"].as_u64()),
                    "{path}"
                );
                Ok::<(), ()>(())
            }
        })
        .buffer_unordered(16)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(checked.len(), files.len());

    // The restored key file opens the connection's sealed tokens: the
    // account is read live from the provider with them.
    let (status, account) = restored_server
        .call(
            Method::GET,
            &format!("/api/libraries/{LIBRARY}/account"),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{account}");
    assert_eq!(account["email"], "backup@example.com");
}

/// A local library of `count` small files, uploaded through the API.
async fn local_library(folio: &Folio, count: usize) {
    let (status, body) = folio
        .call(
            Method::POST,
            "/api/libraries",
            json!({"name": "Local", "naturalId": "local", "type": "local"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    futures::stream::iter(0..count)
        .map(|i| {
            folio
                .request(
                    Method::PUT,
                    &format!("/api/libraries/local/files/d{}/f{i}.txt", i % 10),
                )
                .body(format!("file number {i}"))
                .send()
        })
        .buffer_unordered(16)
        .for_each(|response| async move {
            assert!(response.expect("upload").status().is_success());
        })
        .await;
}

/// Every entry under `dir`, as paths relative to it.
fn entries(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_corrupt_and_misplaced_backups_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Folio::start(&data);
    local_library(&server, 2_000).await;

    // Killed midway: once it has started placing blobs.
    let killed = dir.path().join("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args([
            "backup",
            "--data-dir",
            path_str(&data),
            "--to",
            path_str(&killed),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !killed.join("blobs").exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the backup never placed a blob"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !killed.join("manifest.json").exists(),
        "the backup finished before the kill; the test could not kill it midway"
    );
    let output = folio(&["backup", "--verify", path_str(&killed)]);
    assert!(!output.status.success());
    assert!(text(&output).contains("incomplete"), "{}", text(&output));
    let target = dir.path().join("from-killed");
    let output = folio(&[
        "restore",
        "--from",
        path_str(&killed),
        "--data-dir",
        path_str(&target),
    ]);
    assert!(!output.status.success());
    assert!(text(&output).contains("incomplete"), "{}", text(&output));
    assert_eq!(
        entries(&target),
        Vec::<PathBuf>::new(),
        "a refused restore wrote nothing"
    );

    // Whole, then one blob corrupted (a new file, so the store's hard
    // link keeps its bytes).
    let whole = dir.path().join("whole");
    let output = folio(&[
        "backup",
        "--data-dir",
        path_str(&data),
        "--to",
        path_str(&whole),
    ]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        folio(&["backup", "--verify", path_str(&whole)])
            .status
            .success()
    );
    let manifest = manifest(&whole);
    assert_eq!(manifest["counts"]["files"], 2_000);
    let hash = manifest["blobs"][7]["hash"].as_str().unwrap();
    let blob = whole.join("blobs").join(&hash[..2]).join(hash);
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[0] ^= 1;
    std::fs::remove_file(&blob).unwrap();
    std::fs::write(&blob, &bytes).unwrap();
    let output = folio(&["backup", "--verify", path_str(&whole)]);
    assert!(!output.status.success());
    assert!(text(&output).contains("corrupt"), "{}", text(&output));
    let target = dir.path().join("from-corrupt");
    let output = folio(&[
        "restore",
        "--from",
        path_str(&whole),
        "--data-dir",
        path_str(&target),
    ]);
    assert!(!output.status.success());
    assert!(text(&output).contains("corrupt"), "{}", text(&output));
    assert_eq!(
        entries(&target),
        Vec::<PathBuf>::new(),
        "a refused restore left files"
    );

    // Into a folder that is not empty.
    let busy = dir.path().join("busy");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("keep.txt"), b"mine").unwrap();
    let output = folio(&[
        "restore",
        "--from",
        path_str(&whole),
        "--data-dir",
        path_str(&busy),
    ]);
    assert!(!output.status.success());
    assert!(text(&output).contains("not empty"), "{}", text(&output));
    assert_eq!(entries(&busy), vec![busy.join("keep.txt")]);
    assert_eq!(std::fs::read(busy.join("keep.txt")).unwrap(), b"mine");

    // A blob the database uses, lost from storage: the backup fails (after
    // a second snapshot still uses it) and leaves no folder behind.
    let lost = manifest["blobs"][3]["hash"].as_str().unwrap();
    std::fs::remove_file(data.join("blobs/blobs").join(&lost[..2]).join(lost)).unwrap();
    let failed = dir.path().join("failed");
    let output = folio(&[
        "backup",
        "--data-dir",
        path_str(&data),
        "--to",
        path_str(&failed),
    ]);
    assert!(!output.status.success());
    assert!(text(&output).contains(lost), "{}", text(&output));
    assert!(
        text(&output).contains("missing from storage"),
        "{}",
        text(&output)
    );
    assert!(!failed.exists(), "a failed backup left its folder");

    // Into a folder that is taken already as a backup target.
    let output = folio(&[
        "backup",
        "--data-dir",
        path_str(&data),
        "--to",
        path_str(&busy),
    ]);
    assert!(!output.status.success());
    assert!(text(&output).contains("not empty"), "{}", text(&output));
}

#[test]
fn backup_sends_postgres_and_s3_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("b");
    let output = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["backup", "--to", path_str(&to)])
        .env("FOLIO_DATA_DIR", dir.path())
        .env(
            "FOLIO_DATABASE_URL",
            "postgres://folio:hunter2@db.internal/folio",
        )
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = text(&output);
    assert!(said.contains("pg_dump"), "{said}");
    assert!(!said.contains("hunter2"), "{said}");
    assert!(!to.exists());

    let output = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["backup", "--to", path_str(&to)])
        .env("FOLIO_DATA_DIR", dir.path())
        .env_remove("FOLIO_DATABASE_URL")
        .env(
            "FOLIO_STORAGE_URL",
            "s3://bucket/prefix?endpoint=http://127.0.0.1:9",
        )
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = text(&output);
    assert!(said.contains("versioning"), "{said}");
    assert!(!to.exists());
}
