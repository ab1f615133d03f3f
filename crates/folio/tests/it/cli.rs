//! The `folio` binary as an operator runs it: zero-config start, the admin
//! token file, FOLIO_* variables, migrate, token create, graceful shutdown.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

struct Server {
    child: Child,
    base_url: String,
}

impl Server {
    /// Starts `folio serve` in `cwd` with `envs` and waits for its
    /// `listening on` line.
    fn start(cwd: &Path, envs: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_folio"));
        command
            .arg("serve")
            .current_dir(cwd)
            .env_remove("FOLIO_DATA_DIR")
            .env_remove("FOLIO_DATABASE_URL")
            .env_remove("FOLIO_ADMIN_TOKEN")
            .env("FOLIO_LISTEN", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in envs {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("spawn folio");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read stdout");
        let base_url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
        Self { child, base_url }
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        self.child.wait().expect("wait")
    }
}

fn folio(cwd: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(args)
        .current_dir(cwd)
        .env_remove("FOLIO_DATA_DIR")
        .env_remove("FOLIO_DATABASE_URL")
        .output()
        .expect("run folio")
}

#[tokio::test]
async fn zero_config_serve_creates_data_dir_and_admin_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let client = reqwest::Client::new();
    let health = client
        .get(format!("{}/api/health", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let data = dir.path().join("data");
    assert!(data.join("folio.db").exists());
    let token_file = data.join("admin.token");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let token = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_owned();
    let me: Value = client
        .get(format!("{}/api/me", server.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "admin");
    assert_eq!(me["admin"], true);
    assert!(server.terminate().success());

    // A second start keeps the same admin and token.
    let server = Server::start(dir.path(), &[]);
    let again = client
        .get(format!("{}/api/me", server.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(std::fs::read_to_string(&token_file).unwrap().trim(), token);
    assert!(server.terminate().success());
}

#[tokio::test]
async fn admin_token_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("elsewhere");
    let data_str = data.to_str().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("FOLIO_ADMIN_TOKEN", "folio_from-env-token"),
            ("FOLIO_DATA_DIR", data_str),
        ],
    );
    assert!(
        !data.join("admin.token").exists(),
        "no token file when the token is given"
    );
    let client = reqwest::Client::new();
    let me = client
        .get(format!("{}/api/me", server.base_url))
        .bearer_auth("folio_from-env-token")
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert!(server.terminate().success());

    // Set on a later start, a new value is installed for admin too.
    let server = Server::start(
        dir.path(),
        &[
            ("FOLIO_ADMIN_TOKEN", "folio_second-token"),
            ("FOLIO_DATA_DIR", data_str),
        ],
    );
    for token in ["folio_from-env-token", "folio_second-token"] {
        let me = client
            .get(format!("{}/api/me", server.base_url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200, "{token}");
    }
    assert!(server.terminate().success());
}

#[tokio::test]
async fn migrate_and_token_create() {
    let dir = tempfile::tempdir().unwrap();
    let output = folio(dir.path(), &["migrate"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("data/folio.db").exists());

    let output = folio(dir.path(), &["token", "create", "--user", "admin"]);
    assert!(!output.status.success(), "no admin before the first serve");
    assert!(String::from_utf8_lossy(&output.stderr).contains("no user named 'admin'"));

    let server = Server::start(dir.path(), &[]);
    let output = folio(
        dir.path(),
        &["token", "create", "--user", "admin", "--name", "ops"],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("folio_"));
    let me = reqwest::Client::new()
        .get(format!("{}/api/me", server.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert!(server.terminate().success());
}

#[test]
fn help_lists_the_commands_and_variables() {
    let dir = tempfile::tempdir().unwrap();
    let output = folio(dir.path(), &["--help"]);
    let text = String::from_utf8(output.stdout).unwrap();
    for word in ["serve", "migrate", "token", "user", "FOLIO_DATA_DIR"] {
        assert!(text.contains(word), "--help should mention {word}:\n{text}");
    }
    let output = folio(dir.path(), &["serve", "--help"]);
    let text = String::from_utf8(output.stdout).unwrap();
    for word in [
        "FOLIO_LISTEN",
        "FOLIO_ADMIN_TOKEN",
        "FOLIO_DATABASE_URL",
        "FOLIO_STORAGE_URL",
        "FOLIO_SECRET_KEY",
        "FOLIO_MAX_UPLOAD_BYTES",
        "FOLIO_SYNC_CONCURRENCY",
        "FOLIO_RETRY_FAILED_MINUTES",
        "FOLIO_GOOGLE_EXPORTS",
    ] {
        assert!(
            text.contains(word),
            "serve --help should mention {word}:\n{text}"
        );
    }
}

/// Each command lists only the options it reads: `sync` talks to a server
/// and opens no database, storage or key.
#[test]
fn each_command_shows_only_its_own_options() {
    let dir = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| {
        let output = folio(dir.path(), args);
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap()
    };
    let server_only = [
        "--database-url",
        "--storage-url",
        "--secret-key",
        "--secret-key-file",
    ];
    let sync = help(&["sync", "--help"]);
    for option in server_only {
        assert!(
            !sync.contains(option),
            "sync --help shows {option}:\n{sync}"
        );
    }
    assert!(
        sync.contains("--url") && sync.contains("--data-dir"),
        "{sync}"
    );
    let serve = help(&["serve", "--help"]);
    for option in server_only {
        assert!(serve.contains(option), "serve --help lacks {option}");
    }
    for args in [
        &["migrate", "--help"][..],
        &["token", "create", "--help"],
        &["user", "set-password", "--help"],
    ] {
        let text = help(args);
        assert!(text.contains("--database-url"), "{args:?}: {text}");
        assert!(!text.contains("--storage-url"), "{args:?}: {text}");
        assert!(!text.contains("--secret-key"), "{args:?}: {text}");
    }
    let rotate = help(&["keys", "rotate", "--help"]);
    assert!(rotate.contains("--secret-key") && !rotate.contains("--storage-url"));
}

/// A failure is said once, and log lines written to a pipe or a file carry
/// no colour codes.
#[test]
fn errors_are_said_once_and_piped_logs_are_plain() {
    let dir = tempfile::tempdir().unwrap();
    let output = folio(dir.path(), &["token", "create", "--user", "nobody"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr.matches("no user named 'nobody'").count(),
        1,
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");

    // `keys rotate` logs at info: plain text on a pipe.
    let output = folio(dir.path(), &["keys", "rotate"]);
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("added a new key"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

/// `--url host:port` (no scheme) is refused with the URL it probably means.
#[test]
fn a_url_without_a_scheme_gets_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    for (given, hint) in [
        ("127.0.0.1:8080", "did you mean http://127.0.0.1:8080"),
        ("localhost:8080", "did you mean http://localhost:8080"),
        ("ftp://example.com", "must be http or https"),
    ] {
        let output = folio(dir.path(), &["sync", "docs", "--url", given]);
        assert_eq!(output.status.code(), Some(2), "{given}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(hint), "{given}: {stderr}");
        assert!(!stderr.contains("relative URL without a base"), "{stderr}");
    }
}

/// Runs `folio user set-password USER` with `stdin` as its input.
fn set_password(cwd: &Path, user: &str, stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["user", "set-password", user])
        .current_dir(cwd)
        .env_remove("FOLIO_DATA_DIR")
        .env_remove("FOLIO_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn folio");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `folio user set-password` stores a password the login route accepts,
/// and refuses what `POST /api/users` refuses.
#[tokio::test]
async fn user_set_password_lets_the_user_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let admin_token = "folio_set-password-test";
    let server = Server::start(dir.path(), &[("FOLIO_ADMIN_TOKEN", admin_token)]);
    let client = reqwest::Client::new();
    let login = |password: &'static str| {
        client
            .post(format!("{}/api/auth/login", server.base_url))
            .json(&serde_json::json!({"username": "carol", "password": password}))
            .send()
    };
    let created = client
        .post(format!("{}/api/users", server.base_url))
        .bearer_auth(admin_token)
        .json(&serde_json::json!({"username": "carol"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(login("correct horse").await.unwrap().status(), 401);

    let output = set_password(dir.path(), "carol", "correct horse\n");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let response = login("correct horse").await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["username"], "carol");

    let output = set_password(dir.path(), "carol", "short\n");
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr.matches("at least 8 characters").count(),
        1,
        "{stderr}"
    );
    assert_eq!(
        login("correct horse").await.unwrap().status(),
        200,
        "unchanged"
    );

    let output = set_password(dir.path(), "nobody", "long enough\n");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no user named 'nobody'"));
    let output = set_password(dir.path(), "carol", "");
    assert!(!output.status.success(), "no password given");
    assert!(server.terminate().success());
}

/// Export choices Drive cannot make, and a download concurrency out of
/// range, stop `serve` before it starts, saying what is wrong.
#[test]
fn bad_sync_settings_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let output = folio(
        dir.path(),
        &["serve", "--google-exports", "spreadsheet=docx"],
    );
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("spreadsheet") && err.contains("csv"), "{err}");
    let output = folio(dir.path(), &["serve", "--sync-concurrency", "0"]);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("--sync-concurrency"), "{err}");
    assert!(!dir.path().join("data").exists(), "nothing was written");
}

/// SIGTERM stops accepting, lets the upload in flight finish, then exits 0.
#[tokio::test]
async fn sigterm_lets_requests_in_flight_finish() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[("FOLIO_ADMIN_TOKEN", "folio_shutdown-test")]);
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{}/api/libraries", server.base_url))
        .bearer_auth("folio_shutdown-test")
        .json(&serde_json::json!({"name": "l", "naturalId": "l", "type": "local"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(tokio_stream_from(rx));
    let url = format!("{}/api/libraries/l/files/slow.bin", server.base_url);
    let upload = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .put(url)
                .bearer_auth("folio_shutdown-test")
                .body(body)
                .send()
                .await
        }
    });
    tx.send(Ok(vec![1u8; 1024])).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    tx.send(Ok(vec![2u8; 1024])).await.unwrap();
    drop(tx);
    let response = upload.await.unwrap().unwrap();
    assert_eq!(response.status(), 201, "the upload in flight completed");
    let mut child = server.child;
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}

fn tokio_stream_from(
    rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

/// The key file is generated once (0600); `folio keys rotate` adds a key
/// while the server runs; a malformed FOLIO_SECRET_KEY stops the start.
#[tokio::test]
async fn secret_key_file_and_keys_rotate() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[("FOLIO_PUBLIC_URL", "https://folio.example.com")],
    );
    let key_file = dir.path().join("data").join("secret.keys");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let keys = |text: &str| {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .count()
    };
    assert_eq!(keys(&std::fs::read_to_string(&key_file).unwrap()), 1);

    let output = folio(dir.path(), &["keys", "rotate"]);
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("under key 2"), "{text}");
    assert_eq!(keys(&std::fs::read_to_string(&key_file).unwrap()), 2);
    let health = reqwest::get(format!("{}/api/health", server.base_url))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert!(server.terminate().success());

    let output = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["serve"])
        .current_dir(dir.path())
        .env_remove("FOLIO_DATA_DIR")
        .env_remove("FOLIO_DATABASE_URL")
        .env("FOLIO_LISTEN", "127.0.0.1:0")
        .env("FOLIO_SECRET_KEY", "dG9vLXNob3J0")
        .output()
        .expect("run folio");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("FOLIO_SECRET_KEY"), "{stderr}");
    assert!(
        !stderr.contains("dG9vLXNob3J0"),
        "the key value is never printed"
    );
}

#[tokio::test]
async fn the_metrics_token_from_the_environment_guards_the_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[("FOLIO_METRICS_TOKEN", "scrape-token-42")]);
    let client = reqwest::Client::new();
    let url = format!("{}/metrics", server.base_url);
    let open = client.get(&url).send().await.unwrap();
    assert_eq!(open.status(), 401);
    let wrong = client
        .get(&url)
        .bearer_auth("scrape-token-4")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let scraped = client
        .get(&url)
        .bearer_auth("scrape-token-42")
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), 200);
    let text = scraped.text().await.unwrap();
    assert!(text.contains("folio_syncs_running"), "{text}");
    assert!(server.terminate().success());

    // Unset (or empty), the metrics are open.
    let server = Server::start(dir.path(), &[("FOLIO_METRICS_TOKEN", "")]);
    let open = client
        .get(format!("{}/metrics", server.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(open.status(), 200);
    assert!(server.terminate().success());
}
