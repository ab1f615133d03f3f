//! Crash safety of sync (docs/sync.md, "Atomicity"): the real `folio`
//! binary syncs a large Google Drive tree from cloudsim and is SIGKILLed at
//! random moments (listing, downloads in flight, commits), restarted on the
//! same data directory and database, the remote changing between rounds;
//! a last sync then runs to its end. The library must then equal the remote
//! byte for byte: every remote file once, at its expected path, nothing
//! else, and blob storage must hold exactly the blobs the files use, with
//! no upload left half-written.
//!
//! The kill moments come from a seeded RNG. The seed is printed on stderr
//! at the start; `FOLIO_CRASH_SEED=<seed>` replays a run. With
//! `FOLIO_TEST_DATABASE_URL` set the server runs on its own PostgreSQL
//! schema, else on SQLite in its data directory.
//!
//! A killed run leaves its lease in the database; the restarted process
//! recognises it as its previous instance's (same host, boot and process
//! id namespace, a process id that no longer runs with that start time)
//! and takes the library over at once: each round's first sync after a
//! restart must not answer 409.
//!
//! `a_sigkilled_purge_keeps_the_old_files` kills a purge half-way: the
//! library must still serve its old files byte-exact, and the next sync
//! leaves no staged file nor stray blob.
//!
//! What a killed process leaves in blob storage, the blobs it stored for a
//! page it never committed (useless once the remote changed) and its
//! uploads cut off in `staging/`, is collected by the server's storage sweep
//! (`folio_server::gc`), which spares anything younger than its grace period
//! (6 hours). The test ages storage by a day before each restart, as if the
//! restart came a day later, so the sweep each restarted server runs at
//! start may collect them while the next sync runs. Before the final checks
//! the test waits for the last server's sweep to be logged as finished; a
//! server without the sweep fails the test (no such line, or leftovers).
//!
//! Reading order: the test itself, then [`Folio`] (the child process),
//! [`Remote`] (cloudsim and the Drive API as the truth to compare with),
//! and the checks at the end.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use folio_domain::sanitize::with_stable_suffix;
use folio_store::Store;
use folio_testkit::{postgres_url, say_loudly};
use futures::{StreamExt, TryStreamExt};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

const ADMIN_TOKEN: &str = "folio_crash-test-admin-token";
const CLIENT_ID: &str = "folio-google";
const CLIENT_SECRET: &str = "sim-client-secret-crash";
/// The test's own OAuth client, to read the remote through the Drive API.
const CHECKER_ID: &str = "crash-checker";
const CHECKER_REDIRECT: &str = "http://127.0.0.1:9/checker";
const LIBRARY: &str = "docs";

/// The remote tree: many small files a few folders deep, and a few files
/// large enough that downloads are in flight when a kill lands.
const SMALL_FILES: u64 = 2_400;
const SMALL_BYTES: u64 = 2_048;
const DEPTH: u64 = 2;
const LARGE_FILES: u64 = 6;
const LARGE_BYTES: u64 = 3 * 1024 * 1024;

/// What the server logs when a storage sweep ends (`folio_server::gc`).
const SWEEP_FINISHED: &str = "storage sweep finished";
const SWEEP_FAILED: &str = "storage sweep failed";
/// How long the last server's startup sweep may take to be logged.
const SWEEP_LIMIT: Duration = Duration::from_secs(60);

/// Killed syncs before the one that runs to its end.
const ROUNDS: usize = 5;
/// Requests the checks make at once.
const CHECK_CONCURRENCY: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_syncs_resume_to_an_exact_copy_of_the_remote() {
    let seed = std::env::var("FOLIO_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    say_loudly(&format!(
        "crash test: seed {seed} (replay with FOLIO_CRASH_SEED={seed})"
    ));
    let mut rng = StdRng::seed_from_u64(seed);
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database(dir.path()).await;
    let remote = Remote::start().await;
    remote.populate().await;

    let mut folio = Folio::start(dir.path(), &database_url).await;
    folio.connected_library(&remote).await;

    for round in 0..ROUNDS {
        let progress = format!("crash-{round}");
        let sync = folio.start_sync(&progress);
        let point = KillPoint::pick(&mut rng, round);
        let seen = folio.wait_for(&progress, point).await;
        folio.kill();
        let answer = sync.await.expect("sync task");
        say_loudly(&format!(
            "crash test: round {round}: {point:?}: killed at {seen}; the sync {}",
            describe_answer(&answer)
        ));
        if let Ok(response) = &answer {
            assert_eq!(
                response.status(),
                StatusCode::OK,
                "seed {seed} round {round}: a sync that answered before the kill must have succeeded"
            );
        }
        remote.change(&mut rng, round).await;
        age_blob_storage(dir.path());
        folio = Folio::start(dir.path(), &database_url).await;
    }

    let result = folio.sync_to_end("crash-final").await;
    let again = folio.sync_to_end("crash-again").await;
    say_loudly(&format!(
        "crash test: final sync {result}, then a re-sync {again}, at {} ms",
        started.elapsed().as_millis()
    ));
    let mut problems = Vec::new();
    problems.extend(folio.wait_for_startup_sweep().await);
    if result["errors"] != json!([]) {
        problems.push(format!("the final sync had per-file errors: {result}"));
    }
    let changed = ["addedFiles", "updatedFiles", "deletedFiles"]
        .iter()
        .any(|count| again[count] != json!(0));
    if changed {
        problems.push(format!(
            "a re-sync right after the final sync, without remote change, changed files: {again}"
        ));
    }
    let expected = remote.tree().await;
    let files = folio.list_files().await;
    problems.extend(file_problems(&expected, &files));
    problems.extend(byte_problems(&folio, &remote, &expected, &files).await);
    folio.terminate().await;
    problems.extend(blob_problems(dir.path(), &database_url, &files).await);
    problems.extend(leftover_problems(dir.path(), &files));
    for sweep in log_lines(&dir.path().join("folio.log"), SWEEP_FINISHED) {
        say_loudly(&format!("crash test: {}", sweep.trim()));
    }
    say_loudly(&format!(
        "crash test: {} remote files, {} library files checked, {} ms in all",
        expected.len(),
        files.len(),
        started.elapsed().as_millis()
    ));
    assert!(
        problems.is_empty(),
        "seed {seed} (replay with FOLIO_CRASH_SEED={seed}):\n- {}",
        problems.join("\n- ")
    );
}

/// A purge SIGKILLed half-way (after it staged files): the restarted
/// server serves the library's old files byte-exact, takes the dead run's
/// library over at once (the next sync answers 200, not 409), and after
/// that sync and the storage sweep no staged file and no stray blob is
/// left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkilled_purge_keeps_the_old_files() {
    let mut rng = StdRng::seed_from_u64(7);
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database(dir.path()).await;
    let remote = Remote::start().await;
    remote.populate().await;
    let mut folio = Folio::start(dir.path(), &database_url).await;
    let library_id = folio.connected_library(&remote).await;
    folio.sync_to_end("before").await;
    let before = folio.list_files().await;
    remote.change(&mut rng, 1).await;

    let purge = folio.start_sync_with(json!({"purge": true, "progress": "purge"}));
    let staged = Instant::now();
    loop {
        let store = Store::connect(&database_url).await.expect("open the store");
        let count = store.count_purge_files(library_id).await.expect("count");
        store.close().await;
        if count > 0 {
            break;
        }
        assert!(
            staged.elapsed() < ROUND_LIMIT,
            "the purge staged nothing in {ROUND_LIMIT:?}: {}",
            folio.progress("purge").await
        );
        tokio::time::sleep(POLL).await;
    }
    folio.kill();
    let answer = purge.await.expect("purge task");
    assert!(answer.is_err(), "the purge ended before the kill");
    age_blob_storage(dir.path());
    let folio = Folio::start(dir.path(), &database_url).await;

    let kept = folio.list_files().await;
    assert_eq!(kept, before, "the library as it was before the purge");
    for file in &kept {
        let path = file["path"].as_str().unwrap_or_default();
        let (hash, size) = folio.file_digest(path).await;
        assert_eq!(
            (hash.as_str(), size),
            (
                file["hash"].as_str().unwrap_or_default(),
                file["size"].as_u64().unwrap_or_default()
            ),
            "{path}"
        );
    }
    let result = folio.sync_to_end("after").await;
    assert_eq!(result["errors"], json!([]), "{result}");
    let mut problems = Vec::new();
    problems.extend(folio.wait_for_startup_sweep().await);
    let expected = remote.tree().await;
    let files = folio.list_files().await;
    problems.extend(file_problems(&expected, &files));
    folio.terminate().await;
    let store = Store::connect(&database_url).await.expect("open the store");
    let staged_left = store.count_purge_files(library_id).await.expect("count");
    store.close().await;
    if staged_left > 0 {
        problems.push(format!("{staged_left} staged purge files left"));
    }
    problems.extend(blob_problems(dir.path(), &database_url, &files).await);
    problems.extend(leftover_problems(dir.path(), &files));
    assert!(problems.is_empty(), "- {}", problems.join("\n- "));
}

/// When a round's kill lands, as seen through the run's progress record.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// After a plain delay from the start of the request.
    After(Duration),
    /// Once this share of the downloads planned so far is done: downloads
    /// in flight, staged and promoted blobs not yet committed.
    Downloaded(f64),
    /// This long after the run moved past its first page (the page's
    /// commit, then the next page's listing): a full listing half done.
    PastFirstPage(Duration),
}

/// How long a round may wait for its kill point before killing anyway.
const ROUND_LIMIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(25);

impl KillPoint {
    /// The first round dies while listing; later ones at a random point of
    /// a random kind.
    fn pick(rng: &mut StdRng, round: usize) -> KillPoint {
        if round == 0 {
            return KillPoint::After(Duration::from_millis(rng.random_range(20..400)));
        }
        match rng.random_range(0..3) {
            0 => KillPoint::After(Duration::from_millis(rng.random_range(100..3_000))),
            1 => KillPoint::Downloaded(rng.random_range(0.05..0.95)),
            _ => KillPoint::PastFirstPage(Duration::from_millis(rng.random_range(0..300))),
        }
    }

    /// True once `progress` (a `/api/progress` body) has reached it.
    /// `first_total` is the download count of the first page seen.
    fn reached(self, progress: &Value, first_total: &mut Option<i64>) -> bool {
        let status = progress["status"].as_str().unwrap_or("running");
        let done = progress["done"].as_i64().unwrap_or(0);
        let total = progress["total"].as_i64().unwrap_or(0);
        if status != "running" {
            return true;
        }
        match self {
            KillPoint::After(_) => false,
            KillPoint::Downloaded(share) => total > 0 && done as f64 >= share * total as f64,
            KillPoint::PastFirstPage(_) => {
                if total > 0 && first_total.is_none() {
                    *first_total = Some(total);
                }
                let phase = progress["phase"].as_str().unwrap_or_default();
                first_total.is_some_and(|first| total > first || (phase == "listing" && done > 0))
            }
        }
    }
}

fn describe_answer(answer: &reqwest::Result<reqwest::Response>) -> String {
    match answer {
        Ok(response) => format!("answered {} before the kill", response.status()),
        Err(_) => "cut off by the kill".to_owned(),
    }
}

/// The database the server uses: its own PostgreSQL schema with
/// `FOLIO_TEST_DATABASE_URL`, else SQLite in the data directory.
async fn fresh_database(dir: &Path) -> String {
    let Some(url) = postgres_url() else {
        say_loudly(
            "crash test: metadata store = SQLite. PostgreSQL run NOT RUN: set FOLIO_TEST_DATABASE_URL=postgres://... to run it",
        );
        return format!("sqlite://{}", dir.join("data").join("folio.db").display());
    };
    say_loudly("crash test: metadata store = PostgreSQL (from FOLIO_TEST_DATABASE_URL)");
    // Named like folio-testkit's schemas, so CI's clean-up drops it too.
    let schema = format!("t_{}", Uuid::new_v4().simple());
    Store::connect_postgres_schema(&url, &schema)
        .await
        .expect("create the test schema")
        .close()
        .await;
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options[search_path]={schema}")
}

/// `folio serve` as a child process on a fixed data directory and
/// database, logging to `<dir>/folio.log`.
struct Folio {
    child: Child,
    base_url: String,
    log: PathBuf,
    /// Sweeps logged as ended by earlier processes.
    sweeps_before: usize,
    http: reqwest::Client,
}

impl Folio {
    /// Starts the binary and waits for its `listening on` line.
    async fn start(dir: &Path, database_url: &str) -> Folio {
        let log = dir.join("folio.log");
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("open the server log");
        let sweeps_before = sweeps_ended(&log);
        let mut child = Command::new(env!("CARGO_BIN_EXE_folio"))
            .arg("serve")
            .current_dir(dir)
            .env("FOLIO_LISTEN", "127.0.0.1:0")
            .env("FOLIO_DATA_DIR", dir.join("data"))
            .env("FOLIO_DATABASE_URL", database_url)
            .env("FOLIO_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("FOLIO_ALLOW_PRIVATE_PROVIDER_URLS", "true")
            .env("FOLIO_LOG", "info")
            .env("NO_COLOR", "1")
            .env_remove("FOLIO_STORAGE_URL")
            .env_remove("FOLIO_SECRET_KEY")
            .env_remove("FOLIO_PUBLIC_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .expect("spawn folio");
        let stdout = child.stdout.take().expect("stdout");
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        })
        .await
        .expect("reader task")
        .expect("read the server's stdout");
        let Some(base_url) = line.trim().strip_prefix("listening on ") else {
            panic!(
                "folio did not start ({line:?}); its log:\n{}",
                log_tail(&log)
            );
        };
        Folio {
            base_url: base_url.to_owned(),
            child,
            log,
            sweeps_before,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    /// Waits until the storage sweep this process runs at start is logged
    /// as ended; a problem if it failed or never ended.
    async fn wait_for_startup_sweep(&self) -> Option<String> {
        let started = Instant::now();
        while sweeps_ended(&self.log) == self.sweeps_before {
            if started.elapsed() > SWEEP_LIMIT {
                return Some(format!(
                    "the server logged no '{SWEEP_FINISHED}' within {SWEEP_LIMIT:?} of the final sync; its log:\n{}",
                    log_tail(&self.log)
                ));
            }
            tokio::time::sleep(POLL).await;
        }
        let failed = log_lines(&self.log, SWEEP_FAILED);
        (!failed.is_empty()).then(|| format!("storage sweeps failed: {failed:?}"))
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reaps the process.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL folio");
        self.child.wait().expect("reap folio");
    }

    /// SIGTERM and a graceful stop.
    async fn terminate(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("send SIGTERM");
        assert!(status.success());
        let stopped = tokio::task::spawn_blocking(move || self.child.wait())
            .await
            .expect("wait task")
            .expect("wait for folio");
        assert!(stopped.success(), "folio stopped with {stopped}");
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(ADMIN_TOKEN)
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("call folio");
        let status = response.status();
        let text = response.text().await.expect("folio body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    /// Creates the integration and the library `docs`, and connects it
    /// through the real OAuth flow (cloudsim approves at once).
    async fn connected_library(&self, remote: &Remote) -> Uuid {
        let base = remote.base_url();
        remote
            .control(
                Method::POST,
                "/_sim/clients",
                json!({"provider": "google", "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET,
                    "redirectUris": [format!("{}/api/oauth/callback", self.base_url)]}),
            )
            .await;
        let (status, integration) = self
            .call(
                Method::POST,
                "/api/integrations",
                Some(
                    json!({"type": "google-drive", "name": "sim", "clientId": CLIENT_ID,
                    "clientSecret": CLIENT_SECRET, "authUri": format!("{base}/o/oauth2/v2/auth"),
                    "tokenUri": format!("{base}/token"), "apiUri": base}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{integration}");
        let (status, library) = self
            .call(
                Method::POST,
                "/api/libraries",
                Some(json!({"name": "Docs", "naturalId": LIBRARY, "type": "google-drive"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{library}");
        let (status, body) = self
            .call(
                Method::PUT,
                &format!("/api/libraries/{LIBRARY}/integration"),
                Some(json!({"integrationId": integration["id"]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let authorize = self
            .request(
                Method::GET,
                &format!("/api/libraries/{LIBRARY}/connection/authorize"),
            )
            .send()
            .await
            .expect("authorize");
        assert_eq!(authorize.status(), StatusCode::FOUND);
        let approved = self
            .http
            .get(location(&authorize))
            .send()
            .await
            .expect("approve");
        assert_eq!(approved.status(), StatusCode::FOUND);
        let callback = self
            .http
            .get(location(&approved))
            .send()
            .await
            .expect("callback");
        assert!(
            callback.status().is_success() || callback.status().is_redirection(),
            "callback answered {}",
            callback.status()
        );
        library["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("library id")
    }

    /// Sends `POST /_sync` and does not wait for its answer.
    fn start_sync(
        &self,
        progress: &str,
    ) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
        self.start_sync_with(json!({ "progress": progress }))
    }

    /// Sends `POST /_sync` with `body` and does not wait for its answer.
    fn start_sync_with(
        &self,
        body: Value,
    ) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
        let request = self
            .request(Method::POST, &format!("/api/libraries/{LIBRARY}/_sync"))
            .json(&body)
            .send();
        tokio::spawn(request)
    }

    /// A sync run to its end; its result.
    async fn sync_to_end(&self, progress: &str) -> Value {
        let (status, result) = self
            .call(
                Method::POST,
                &format!("/api/libraries/{LIBRARY}/_sync"),
                Some(json!({ "progress": progress })),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "sync {progress}: {result}; server log:\n{}",
            log_tail(&self.log)
        );
        result
    }

    /// Waits until the run `progress` reaches `point` (or [`ROUND_LIMIT`]
    /// passes); returns what its progress record said last.
    async fn wait_for(&self, progress: &str, point: KillPoint) -> String {
        let started = Instant::now();
        if let KillPoint::After(delay) = point {
            tokio::time::sleep(delay).await;
            return format!(
                "{} ms, {}",
                delay.as_millis(),
                self.progress(progress).await
            );
        }
        let mut first_total = None;
        loop {
            let seen = self.progress_json(progress).await;
            let reached = seen
                .as_ref()
                .is_some_and(|p| point.reached(p, &mut first_total));
            if reached || started.elapsed() > ROUND_LIMIT {
                if let KillPoint::PastFirstPage(extra) = point {
                    tokio::time::sleep(extra).await;
                }
                return format!(
                    "{} ms, {}",
                    started.elapsed().as_millis(),
                    self.progress(progress).await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn progress_json(&self, id: &str) -> Option<Value> {
        let response = self
            .request(Method::GET, &format!("/api/progress/{id}"))
            .send()
            .await
            .ok()?;
        if response.status() != StatusCode::OK {
            return None;
        }
        response.json().await.ok()
    }

    /// What the progress record says, in a few words (for the round log).
    async fn progress(&self, id: &str) -> String {
        let response = self
            .request(Method::GET, &format!("/api/progress/{id}"))
            .send()
            .await;
        match response {
            Ok(r) if r.status() == StatusCode::OK => match r.json::<Value>().await {
                Ok(p) => format!(
                    "{}/{} {}/{} files",
                    p["status"].as_str().unwrap_or("?"),
                    p["phase"].as_str().unwrap_or("?"),
                    p["done"],
                    p["total"]
                ),
                Err(e) => format!("unreadable ({e})"),
            },
            Ok(r) => format!("not recorded yet ({})", r.status()),
            Err(e) => format!("unavailable ({e})"),
        }
    }

    /// Every file of the library, through the paged listing.
    async fn list_files(&self) -> Vec<Value> {
        let mut files = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/libraries/{LIBRARY}/files?limit=1000");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let (status, page) = self.call(Method::GET, &path, None).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            files.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["next"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return files,
            }
        }
    }

    /// The bytes of a library file: their SHA-256 and length.
    async fn file_digest(&self, path: &str) -> (String, u64) {
        let response = self
            .request(
                Method::GET,
                &format!("/api/libraries/{LIBRARY}/files/{path}"),
            )
            .send()
            .await
            .expect("download from folio");
        assert_eq!(response.status(), StatusCode::OK, "folio file {path}");
        digest(response).await
    }
}

impl Drop for Folio {
    fn drop(&mut self) {
        // A failed assertion must not leave the server running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// cloudsim in-process: its control API to shape the remote, and the
/// Drive API (with the test's own OAuth grant) to read it back.
struct Remote {
    sim: cloudsim::SimHandle,
    http: reqwest::Client,
    drive: String,
    token: String,
}

/// A remote file as the library must hold it.
#[derive(Debug, Clone)]
struct RemoteFile {
    path: String,
    size: u64,
}

impl Remote {
    /// cloudsim with one Google account, and a Drive token for the test.
    async fn start() -> Remote {
        let sim = cloudsim::Sim::start(cloudsim::SimOptions::default())
            .await
            .expect("cloudsim");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let mut remote = Remote {
            sim,
            http,
            drive: String::new(),
            token: String::new(),
        };
        let account = remote
            .control(
                Method::POST,
                "/_sim/accounts",
                json!({"provider": "google", "email": "crash@example.com", "displayName": "Crash"}),
            )
            .await;
        remote.drive = account["driveId"].as_str().expect("drive id").to_owned();
        remote.token = remote.checker_token().await;
        remote
    }

    fn base_url(&self) -> String {
        self.sim.base_url().to_owned()
    }

    async fn control(&self, method: Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, format!("{}{path}", self.base_url()))
            .json(&body)
            .send()
            .await
            .expect("cloudsim control");
        let status = response.status();
        let text = response.text().await.expect("cloudsim body");
        assert!(status.is_success(), "cloudsim {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn put(&self, path: &str, query: &str, bytes: Vec<u8>) {
        let url = format!(
            "{}/_sim/google/{}/files/{path}{query}",
            self.base_url(),
            self.drive
        );
        let response = self.http.put(url).body(bytes).send().await.expect("put");
        assert!(
            response.status().is_success(),
            "put {path}: {}",
            response.status()
        );
    }

    async fn delete(&self, path: &str) {
        let url = format!(
            "{}/_sim/google/{}/files/{path}",
            self.base_url(),
            self.drive
        );
        let response = self.http.delete(url).send().await.expect("delete");
        assert!(
            response.status().is_success(),
            "delete {path}: {}",
            response.status()
        );
    }

    /// The generated tree, large files, and two files of one name in one
    /// folder (Drive allows it; Folio gives one a stable suffix).
    async fn populate(&self) {
        let generate = format!("/_sim/google/{}/generate", self.drive);
        self.control(
            Method::POST,
            &generate,
            json!({"root": "docs", "files": SMALL_FILES, "bytes": SMALL_BYTES, "depth": DEPTH}),
        )
        .await;
        self.control(
            Method::POST,
            &generate,
            json!({"root": "large", "files": LARGE_FILES, "bytes": LARGE_BYTES, "depth": 0}),
        )
        .await;
        self.put("docs/twin.txt", "", b"first twin".to_vec()).await;
        self.put("docs/twin.txt", "?duplicate=true", b"second twin".to_vec())
            .await;
    }

    /// Changes the remote between rounds: edits, deletions, additions, a
    /// large file rewritten, and in one round a whole folder moved.
    async fn change(&self, rng: &mut StdRng, round: usize) {
        let tree = self.tree().await;
        let paths: Vec<&String> = tree.values().map(|f| &f.path).collect();
        let pick = |rng: &mut StdRng| paths[rng.random_range(0..paths.len())].clone();
        let mut touched = BTreeSet::new();
        for i in 0..8 {
            let path = pick(rng);
            if path.starts_with("docs/") && !path.contains("twin") && touched.insert(path.clone()) {
                self.put(
                    &path,
                    "",
                    format!("edited in round {round} ({i})").into_bytes(),
                )
                .await;
            }
        }
        for _ in 0..4 {
            let path = pick(rng);
            if path.starts_with("docs/") && !path.contains("twin") && touched.insert(path.clone()) {
                self.delete(&path).await;
            }
        }
        for i in 0..4 {
            self.put(
                &format!("added/round-{round}/file-{i}.txt"),
                "",
                format!("added in round {round}: {i}").into_bytes(),
            )
            .await;
        }
        if round == 1 {
            let large = format!("large/{}", tree_first_name(&tree, "large/"));
            self.put(&large, "", vec![b'L'; 1024 * 1024 + 7]).await;
        }
        if round == 2 {
            let folder = first_folder_under(&tree, "docs/");
            self.control(
                Method::POST,
                &format!("/_sim/google/{}/move", self.drive),
                json!({"from": folder, "to": format!("moved/{}", folder.replace('/', "-"))}),
            )
            .await;
        }
    }

    /// A Drive access token of the test's own client, by the
    /// authorization-code flow (cloudsim approves at once).
    async fn checker_token(&self) -> String {
        self.control(
            Method::POST,
            "/_sim/clients",
            json!({"provider": "google", "clientId": CHECKER_ID, "clientSecret": CLIENT_SECRET,
                "redirectUris": [CHECKER_REDIRECT]}),
        )
        .await;
        let verifier = "crash-checker-verifier-0123456789-0123456789-abcdef";
        let authorize = self
            .http
            .get(format!("{}/o/oauth2/v2/auth", self.base_url()))
            .query(&[
                ("client_id", CHECKER_ID),
                ("redirect_uri", CHECKER_REDIRECT),
                ("response_type", "code"),
                ("scope", "https://www.googleapis.com/auth/drive.readonly"),
                ("code_challenge", verifier),
                ("code_challenge_method", "plain"),
            ])
            .send()
            .await
            .expect("authorize");
        assert_eq!(authorize.status(), StatusCode::FOUND);
        let redirect = reqwest::Url::parse(&location(&authorize)).expect("redirect url");
        let code = redirect
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .expect("code");
        let token: Value = self
            .http
            .post(format!("{}/token", self.base_url()))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", CHECKER_REDIRECT),
                ("client_id", CHECKER_ID),
                ("client_secret", CLIENT_SECRET),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token json");
        token["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    /// Every file of the drive by id, with the library path Folio must give
    /// it: the remote path, where the later ids (in id order) of names
    /// shared in one folder get Folio's stable suffix (docs/sync.md, "Safe
    /// paths, stable names").
    async fn tree(&self) -> BTreeMap<String, RemoteFile> {
        let root: Value = self.drive_get("files/root", &[("fields", "id")]).await;
        let mut files = BTreeMap::new();
        let mut folders = vec![(
            root["id"].as_str().expect("root id").to_owned(),
            String::new(),
        )];
        while let Some((folder, prefix)) = folders.pop() {
            let children = self.children(&folder).await;
            for (id, (segment, child)) in library_segments(&children) {
                let path = format!("{prefix}{segment}");
                if child["mimeType"] == "application/vnd.google-apps.folder" {
                    folders.push((id, format!("{path}/")));
                } else {
                    let size = child["size"]
                        .as_str()
                        .and_then(|s| s.parse().ok())
                        .expect("file size");
                    files.insert(id, RemoteFile { path, size });
                }
            }
        }
        files
    }

    /// The untrashed children of a folder.
    async fn children(&self, folder: &str) -> Vec<Value> {
        let q = format!("'{folder}' in parents and trashed = false");
        let mut children = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let mut query = vec![
                ("q", q.clone()),
                ("pageSize", "1000".to_owned()),
                (
                    "fields",
                    "nextPageToken,files(id,name,mimeType,size)".to_owned(),
                ),
            ];
            if let Some(t) = &page_token {
                query.push(("pageToken", t.clone()));
            }
            let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let page = self.drive_get("files", &query).await;
            children.extend(page["files"].as_array().expect("files").iter().cloned());
            match page["nextPageToken"].as_str() {
                Some(t) => page_token = Some(t.to_owned()),
                None => return children,
            }
        }
    }

    async fn drive_get(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let response = self
            .http
            .get(format!("{}/drive/v3/{path}", self.base_url()))
            .bearer_auth(&self.token)
            .query(query)
            .send()
            .await
            .expect("drive api");
        assert_eq!(response.status(), StatusCode::OK, "drive {path}");
        response.json().await.expect("drive json")
    }

    /// The remote bytes of a file: their SHA-256 and length.
    async fn file_digest(&self, id: &str) -> (String, u64) {
        let response = self
            .http
            .get(format!("{}/drive/v3/files/{id}", self.base_url()))
            .bearer_auth(&self.token)
            .query(&[("alt", "media")])
            .send()
            .await
            .expect("download from drive");
        assert_eq!(response.status(), StatusCode::OK, "drive file {id}");
        digest(response).await
    }
}

/// Each child's library segment, keyed by id: names shared by several
/// children keep the name for the smallest id, the others get the stable
/// suffix. The test's names need no sanitising.
fn library_segments(children: &[Value]) -> BTreeMap<String, (String, &Value)> {
    let mut by_name: BTreeMap<&str, Vec<(&str, &Value)>> = BTreeMap::new();
    for child in children {
        let name = child["name"].as_str().expect("name");
        let id = child["id"].as_str().expect("id");
        by_name.entry(name).or_default().push((id, child));
    }
    let mut segments = BTreeMap::new();
    for (name, mut holders) in by_name {
        holders.sort_by_key(|(id, _)| *id);
        for (rank, (id, child)) in holders.into_iter().enumerate() {
            let segment = if rank == 0 {
                name.to_owned()
            } else {
                with_stable_suffix(name, id)
            };
            segments.insert(id.to_owned(), (segment, child));
        }
    }
    segments
}

fn tree_first_name(tree: &BTreeMap<String, RemoteFile>, prefix: &str) -> String {
    tree.values()
        .filter_map(|f| f.path.strip_prefix(prefix))
        .min()
        .expect("a file under the prefix")
        .to_owned()
}

/// The first folder (in path order) right under `prefix`.
fn first_folder_under(tree: &BTreeMap<String, RemoteFile>, prefix: &str) -> String {
    tree.values()
        .filter_map(|f| {
            let rest = f.path.strip_prefix(prefix)?;
            let (folder, _) = rest.split_once('/')?;
            Some(format!("{prefix}{folder}"))
        })
        .min()
        .expect("a folder under the prefix")
}

/// The library holds each remote file once, at its expected path, and
/// nothing else.
fn file_problems(expected: &BTreeMap<String, RemoteFile>, files: &[Value]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut by_remote_id: HashMap<&str, Vec<&str>> = HashMap::new();
    for file in files {
        let path = file["path"].as_str().unwrap_or_default();
        match file["remoteId"].as_str() {
            Some(id) => by_remote_id.entry(id).or_default().push(path),
            None => problems.push(format!("library file {path} has no remote id")),
        }
    }
    let duplicates: Vec<_> = by_remote_id.iter().filter(|(_, p)| p.len() > 1).collect();
    let extra: Vec<_> = by_remote_id
        .iter()
        .filter(|(id, _)| !expected.contains_key(**id))
        .collect();
    let missing: Vec<_> = expected
        .iter()
        .filter(|(id, _)| !by_remote_id.contains_key(id.as_str()))
        .map(|(_, f)| &f.path)
        .collect();
    let misplaced: Vec<_> = expected
        .iter()
        .filter_map(|(id, f)| {
            let held = by_remote_id.get(id.as_str())?[0];
            (held != f.path).then_some((&f.path, held))
        })
        .collect();
    let mut report = |what: &str, count: usize, sample: String| {
        if count > 0 {
            problems.push(format!("{count} {what}, e.g. {sample}"));
        }
    };
    report(
        "remote items held more than once (id, paths)",
        duplicates.len(),
        format!("{:?}", sample(&duplicates)),
    );
    report(
        "library files the remote does not have (id, paths)",
        extra.len(),
        format!("{:?}", sample(&extra)),
    );
    report(
        "remote files missing from the library",
        missing.len(),
        format!("{:?}", sample(&missing)),
    );
    report(
        "files at the wrong path (expected, held)",
        misplaced.len(),
        format!("{:?}", sample(&misplaced)),
    );
    problems
}

/// The first few of a list, for messages.
fn sample<T>(items: &[T]) -> &[T] {
    &items[..items.len().min(5)]
}

/// Every library file's bytes equal the remote bytes, and its listed hash
/// and size are those of the bytes.
async fn byte_problems(
    folio: &Folio,
    remote: &Remote,
    expected: &BTreeMap<String, RemoteFile>,
    files: &[Value],
) -> Vec<String> {
    let checks = files
        .iter()
        .filter(|file| {
            file["remoteId"]
                .as_str()
                .is_some_and(|id| expected.contains_key(id))
        })
        .map(|file| async move {
            let path = file["path"].as_str().unwrap_or_default();
            let id = file["remoteId"].as_str().unwrap_or_default();
            let (ours, theirs) = tokio::join!(folio.file_digest(path), remote.file_digest(id));
            let listed = (
                file["hash"].as_str().unwrap_or_default().to_owned(),
                file["size"].as_u64().unwrap_or_default(),
            );
            let remote_size = expected[id].size;
            let right = ours == theirs && ours == listed && ours.1 == remote_size;
            (!right)
                .then(|| format!("{path}: folio {ours:?}, listed {listed:?}, remote {theirs:?}"))
        });
    let wrong: Vec<String> = futures::stream::iter(checks)
        .buffer_unordered(CHECK_CONCURRENCY)
        .filter_map(|found| async move { found })
        .collect()
        .await;
    if wrong.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "{} files whose bytes differ from the remote's, e.g. {:?}",
        wrong.len(),
        sample(&wrong)
    )]
}

/// Every blob a library file uses is in storage, each stored blob is
/// whole under its hash, and no blob row is unused.
async fn blob_problems(dir: &Path, database_url: &str, files: &[Value]) -> Vec<String> {
    let root = dir.join("data").join("blobs");
    let used: BTreeSet<String> = files
        .iter()
        .filter_map(|f| f["hash"].as_str().map(str::to_owned))
        .collect();
    let stored = files_under(&root.join("blobs"));
    let stored_hashes: BTreeSet<String> = stored
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
        .collect();
    let lost: Vec<_> = used.difference(&stored_hashes).collect();
    let corrupt: Vec<_> = stored
        .iter()
        .filter(|blob| {
            let bytes = std::fs::read(blob).unwrap_or_default();
            let name = blob
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            hex::encode(Sha256::digest(&bytes)) != name
        })
        .collect();
    let store = Store::connect(database_url).await.expect("open the store");
    let unused_rows = store.orphan_blob_hashes(100).await.expect("orphan rows");
    store.close().await;
    let mut problems = Vec::new();
    let mut report = |what: &str, count: usize, sample: String| {
        if count > 0 {
            problems.push(format!("{count} {what}, e.g. {sample}"));
        }
    };
    report(
        "blobs of library files missing from storage",
        lost.len(),
        format!("{:?}", sample(&lost)),
    );
    report(
        "blobs whose bytes do not match their name",
        corrupt.len(),
        format!("{:?}", sample(&corrupt)),
    );
    report(
        "blob rows no file uses",
        unused_rows.len(),
        format!("{:?}", sample(&unused_rows)),
    );
    problems
}

/// What killed processes left in blob storage that the storage sweep
/// should have collected (see the module doc): blobs no file uses, and
/// uploads left in staging.
fn leftover_problems(dir: &Path, files: &[Value]) -> Vec<String> {
    let root = dir.join("data").join("blobs");
    let used: BTreeSet<&str> = files.iter().filter_map(|f| f["hash"].as_str()).collect();
    let orphans: Vec<PathBuf> = files_under(&root.join("blobs"))
        .into_iter()
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            !used.contains(name)
        })
        .collect();
    let staging = files_under(&root.join("staging"));
    let mut problems = Vec::new();
    if !orphans.is_empty() {
        problems.push(format!(
            "{} blobs in storage that no file uses (orphans), e.g. {:?}",
            orphans.len(),
            sample(&orphans)
        ));
    }
    if !staging.is_empty() {
        problems.push(format!(
            "{} half-written uploads left in staging, e.g. {:?}",
            staging.len(),
            sample(&staging)
        ));
    }
    problems
}

/// Ages every file in blob storage by a day, as if the restart came a day
/// after the kill, so a sweep that spares recent uploads (of a live
/// replica) may collect what the killed process left.
fn age_blob_storage(dir: &Path) {
    let a_day_ago = std::time::SystemTime::now() - Duration::from_secs(24 * 3600);
    for path in files_under(&dir.join("data").join("blobs")) {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open a stored file");
        file.set_modified(a_day_ago).expect("age a stored file");
    }
}

/// Every file below `dir`, recursively; none when it does not exist.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// SHA-256 and length of a response body, streamed.
async fn digest(response: reqwest::Response) -> (String, u64) {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut body = response.bytes_stream().map_err(std::io::Error::other);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.expect("body chunk");
        size += chunk.len() as u64;
        hasher.update(&chunk);
    }
    (hex::encode(hasher.finalize()), size)
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("location header")
        .to_owned()
}

/// How many storage sweeps the log says ended, finished or failed.
fn sweeps_ended(log: &Path) -> usize {
    log_lines(log, SWEEP_FINISHED).len() + log_lines(log, SWEEP_FAILED).len()
}

/// The lines of the server log that contain `needle`.
fn log_lines(log: &Path, needle: &str) -> Vec<String> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter(|line| line.contains(needle))
        .map(str::to_owned)
        .collect()
}

/// The last lines of the server log, for failure messages.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
