//! `/healthz`, `/readyz` and `/api/health` over real HTTP, against real
//! failures: the storage folder replaced by a file, PostgreSQL refusing
//! connections (with `FOLIO_TEST_DATABASE_URL`), and an S3 server stopped
//! (with `FOLIO_TEST_S3_URL`, the S3 suite; the test runs a moto server of
//! its own, on its own port, and leaves the suite's alone). Each failure is
//! undone and readiness must come back by itself.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use folio_blobs::{BlobConfig, BlobStore};
use folio_server::{AppState, Application, ServerConfig};
use folio_store::Store;
use folio_testkit::{TestApp, postgres_url, say_loudly};
use serde_json::{Value, json};

/// How long a recovered dependency may take to show as ready again.
const RECOVERY_LIMIT: Duration = Duration::from_secs(30);

async fn get(client: &reqwest::Client, url: &str) -> (u16, Value) {
    let response = client.get(url).send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

/// Polls `url` until it answers `status`, or panics after [`RECOVERY_LIMIT`].
async fn wait_for_status(client: &reqwest::Client, url: &str, status: u16) -> Value {
    let started = Instant::now();
    loop {
        let (seen, body) = get(client, url).await;
        if seen == status {
            return body;
        }
        assert!(
            started.elapsed() < RECOVERY_LIMIT,
            "{url} still answers {seen} {body} after {RECOVERY_LIMIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Asserts an unready body whose `failing` check is a sentence naming none
/// of `secrets`, the other check being `ok`.
fn assert_unready(body: &Value, failing: &str, other: &str, secrets: &[&str]) -> String {
    assert_eq!(body["status"], "unready", "{body}");
    assert_eq!(body["checks"][other], "ok", "{body}");
    let sentence = body["checks"][failing]
        .as_str()
        .expect("a sentence")
        .to_owned();
    assert_ne!(sentence, "ok");
    assert!(sentence.len() > 10, "{sentence}");
    for secret in secrets {
        assert!(!sentence.contains(secret), "{sentence:?} names {secret:?}");
    }
    sentence
}

#[tokio::test]
async fn liveness_and_readiness_need_no_credentials() {
    let app = TestApp::spawn().await;
    let (status, body) = get(&app.client, &app.url("/healthz")).await;
    assert_eq!((status, body), (200, json!({"status": "ok"})));
    let ready = json!({"status": "ready", "checks": {"database": "ok", "storage": "ok"}});
    let (status, body) = get(&app.client, &app.url("/readyz")).await;
    assert_eq!((status, body), (200, ready.clone()));
    let (status, body) = get(&app.client, &app.url("/api/health")).await;
    assert_eq!((status, body), (200, ready));
}

#[tokio::test]
async fn readiness_leaves_nothing_in_blob_storage() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        let (status, _) = get(&app.client, &app.url("/readyz")).await;
        assert_eq!(status, 200);
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    assert_eq!(app.blobs.list_hashes().await.unwrap(), Vec::<String>::new());
    let probes = app.dir.path().join("blobs/probes");
    let left = std::fs::read_dir(&probes).map_or(0, |entries| entries.count());
    assert_eq!(left, 0, "probe objects left in {}", probes.display());
}

#[tokio::test]
async fn storage_folder_replaced_by_a_file_is_unready_then_recovers() {
    let app = TestApp::spawn().await;
    let client = &app.client;
    let url = app.url("/readyz");
    assert_eq!(get(client, &url).await.0, 200);

    let blobs = app.dir.path().join("blobs");
    let aside = app.dir.path().join("blobs-aside");
    std::fs::rename(&blobs, &aside).unwrap();
    std::fs::write(&blobs, b"not a folder").unwrap();

    let body = wait_for_status(client, &url, 503).await;
    let dir = app.dir.path().display().to_string();
    let sentence = assert_unready(&body, "storage", "database", &[&dir, "blobs", "/"]);
    say_loudly(&format!(
        "readiness with the storage folder gone: {sentence}"
    ));
    let (status, api_body) = get(client, &app.url("/api/health")).await;
    assert_eq!((status, &api_body["status"]), (503, &json!("unready")));
    // Liveness does not look at storage.
    assert_eq!(get(client, &app.url("/healthz")).await.0, 200);

    std::fs::remove_file(&blobs).unwrap();
    std::fs::rename(&aside, &blobs).unwrap();
    let body = wait_for_status(client, &url, 200).await;
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn concurrent_scrapes_share_one_check_and_a_second_later_check_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = folio_testkit::fresh_store(&dir).await.unwrap();
    let blobs = folio_testkit::fresh_blobs(&dir).await.unwrap();
    let state = AppState::new(store, blobs, ServerConfig::default());
    let readiness = state.readiness.clone();
    let app = Application::build(state, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let url = format!("http://{}/readyz", app.local_addr().unwrap());
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.serve_until(
        async move {
            let _ = stopped.await;
        },
        Duration::from_secs(1),
    ));
    let client = reqwest::Client::new();
    let answers = futures::future::join_all((0..20).map(|_| get(&client, &url))).await;
    assert!(
        answers.iter().all(|(status, _)| *status == 200),
        "{answers:?}"
    );
    assert_eq!(
        readiness.checks_run(),
        1,
        "20 concurrent scrapes, one check"
    );
    tokio::time::sleep(folio_server::readiness::CACHE_FOR + Duration::from_millis(100)).await;
    assert_eq!(get(&client, &url).await.0, 200);
    assert_eq!(readiness.checks_run(), 2, "the cached result expired");
}

/// Serves `store` and `blobs` on a random port until the sender is dropped.
async fn serve(store: Store, blobs: BlobStore) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let state = AppState::new(store, blobs, ServerConfig::default());
    let app = Application::build(state, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("bind");
    let addr = app.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.serve_until(
        async move {
            let _ = rx.await;
        },
        Duration::from_secs(1),
    ));
    (addr, tx)
}

/// A PostgreSQL database of the test's own, dropped at the end however the
/// test ends.
struct OwnDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl OwnDatabase {
    async fn create(admin_url: &str) -> Self {
        let name = format!("folio_ready_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(admin_url).await.expect("connect");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .expect("create the test database");
        admin.close().await;
        let mut url = url::Url::parse(admin_url).expect("a URL");
        url.set_path(&format!("/{name}"));
        Self {
            admin_url: admin_url.to_owned(),
            name,
            url: url.to_string(),
        }
    }

    async fn run(admin_url: &str, sql: &str) {
        let admin = sqlx::PgPool::connect(admin_url).await.expect("connect");
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&admin)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        admin.close().await;
    }

    /// Refuses new connections and ends the open ones.
    async fn refuse_connections(&self) {
        let name = &self.name;
        Self::run(
            &self.admin_url,
            &format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"),
        )
        .await;
        Self::run(
            &self.admin_url,
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            ),
        )
        .await;
    }

    async fn allow_connections(&self) {
        let name = &self.name;
        Self::run(
            &self.admin_url,
            &format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"),
        )
        .await;
    }
}

impl Drop for OwnDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(OwnDatabase::run(&admin_url, &sql));
        })
        .join();
        if dropped.is_err() {
            say_loudly(&format!("could not drop the test database {}", self.name));
        }
    }
}

#[tokio::test]
async fn postgres_refusing_connections_is_unready_then_recovers() {
    let Some(admin_url) = postgres_url() else {
        say_loudly(
            "readiness on PostgreSQL NOT RUN: set FOLIO_TEST_DATABASE_URL=postgres://... to run it",
        );
        return;
    };
    let database = OwnDatabase::create(&admin_url).await;
    let store = Store::connect(&database.url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let dir = tempfile::tempdir().unwrap();
    let blobs = BlobStore::open(&BlobConfig::Fs {
        root: dir.path().join("blobs"),
    })
    .await
    .unwrap();
    let (addr, _stop) = serve(store.clone(), blobs).await;
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/readyz");
    assert_eq!(get(&client, &url).await.0, 200);

    database.refuse_connections().await;
    let body = wait_for_status(&client, &url, 503).await;
    let sentence = assert_unready(
        &body,
        "database",
        "storage",
        &[&database.name, "postgres", "127.0.0.1", "5432"],
    );
    say_loudly(&format!(
        "readiness with PostgreSQL refusing connections: {sentence}"
    ));
    assert_eq!(get(&client, &format!("http://{addr}/healthz")).await.0, 200);

    database.allow_connections().await;
    let body = wait_for_status(&client, &url, 200).await;
    assert_eq!(body["status"], "ready");
    store.close().await;
}

/// A moto S3 server of the test's own (`.ci/s3-server.sh` on a port of its
/// own), stopped when dropped.
struct OwnS3 {
    pid: u32,
    port: u16,
}

impl OwnS3 {
    fn start(port: Option<u16>) -> (Self, String) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.ci/s3-server.sh");
        let mut command = Command::new("bash");
        command.arg(script).env("FOLIO_S3_BUCKET", "folio-ready");
        if let Some(port) = port {
            command.env("FOLIO_S3_PORT", port.to_string());
        }
        let output = command.output().expect("run .ci/s3-server.sh");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "s3-server.sh failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let var = |name: &str| {
            stdout
                .lines()
                .find_map(|line| line.strip_prefix(&format!("export {name}=")))
                .map(|v| v.trim_matches('\'').to_owned())
                .unwrap_or_else(|| panic!("no {name} in {stdout}"))
        };
        let url = var("FOLIO_TEST_S3_URL");
        let pid: u32 = var("FOLIO_S3_SERVER_PID").parse().expect("a pid");
        let port = url
            .split("127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split('&').next())
            .and_then(|p| p.parse().ok())
            .expect("a port in the URL");
        (Self { pid, port }, url)
    }

    /// Stops the server and waits until its port refuses connections.
    fn stop(&mut self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
        self.pid = 0;
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "moto did not stop"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for OwnS3 {
    fn drop(&mut self) {
        if self.pid != 0 {
            let _ = Command::new("kill").arg(self.pid.to_string()).status();
        }
    }
}

#[tokio::test]
async fn s3_server_stopped_is_unready_then_recovers() {
    if std::env::var("FOLIO_TEST_S3_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .is_none()
    {
        say_loudly(
            "readiness on S3 NOT RUN: the S3 suite sets FOLIO_TEST_S3_URL (see .ci/s3-server.sh)",
        );
        return;
    }
    let (mut moto, url) = OwnS3::start(None);
    // Credentials in the URL: this moto, whatever the environment says.
    let url = url.replacen("s3://", "s3://test:test@", 1);
    let blobs = BlobStore::open(&BlobConfig::parse_url(&url).unwrap())
        .await
        .expect("open the bucket");
    let dir = tempfile::tempdir().unwrap();
    let store = folio_testkit::fresh_store(&dir).await.unwrap();
    let (addr, _stop) = serve(store, blobs).await;
    let client = reqwest::Client::new();
    let readyz = format!("http://{addr}/readyz");
    assert_eq!(get(&client, &readyz).await.0, 200);

    moto.stop();
    let body = wait_for_status(&client, &readyz, 503).await;
    let port = moto.port.to_string();
    let sentence = assert_unready(
        &body,
        "storage",
        "database",
        &["127.0.0.1", &port, "folio-ready", "s3", "test:test"],
    );
    say_loudly(&format!("readiness with the S3 server stopped: {sentence}"));

    let (again, _) = OwnS3::start(Some(moto.port));
    let body = wait_for_status(&client, &readyz, 200).await;
    assert_eq!(body["status"], "ready");
    drop(again);
}
