//! `folio serve --config FILE` as an operator runs it: the file's settings
//! are used, the environment beats the file and a flag beats both, a bad
//! file stops the start naming the key, secrets come from files, and
//! docs/folio.example.toml is what `folio config example` prints.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// `folio` in `cwd` with only `envs` (and PATH) in its environment.
fn folio(cwd: &Path, args: &[&str], envs: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_folio"));
    command.args(args).current_dir(cwd).env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    command.envs(envs.iter().copied());
    command
}

fn run(cwd: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    folio(cwd, args, envs).output().expect("run folio")
}

struct Server {
    child: Child,
    base_url: String,
    log: PathBuf,
}

impl Server {
    /// Starts `folio serve ARGS`, logging to `cwd/serve.log`, and waits for
    /// its `listening on` line.
    fn start(cwd: &Path, args: &[&str], envs: &[(&str, &str)]) -> Self {
        let log = cwd.join("serve.log");
        let mut child = folio(cwd, &[&["serve"], args].concat(), envs)
            .stdout(Stdio::piped())
            .stderr(File::create(&log).expect("log file"))
            .spawn()
            .expect("spawn folio");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read stdout");
        let base_url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                panic!(
                    "unexpected first line {line:?}; log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            })
            .to_owned();
        Self {
            child,
            base_url,
            log,
        }
    }

    /// Stops the server (SIGTERM) and returns what it logged. A request
    /// answered first makes sure the signal handler is in place.
    fn stop(mut self) -> String {
        self.get_healthz();
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        assert!(self.child.wait().expect("wait").success());
        std::fs::read_to_string(&self.log).expect("read log")
    }
}

impl Server {
    fn get_healthz(&self) {
        use std::io::{Read, Write};
        let addr = self.base_url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream
            .write_all(b"GET /healthz HTTP/1.0\r\n\r\n")
            .expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        assert!(
            answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
            "{answer}"
        );
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn the_file_sets_listen_data_dir_and_sync_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(
        dir.path().join("folio.toml"),
        format!("listen = \"127.0.0.1:{port}\"\ndata_dir = \"from-file\"\nsync_concurrency = 3\n"),
    )
    .unwrap();
    let server = Server::start(dir.path(), &["--config", "folio.toml"], &[]);
    assert_eq!(server.base_url, format!("http://127.0.0.1:{port}"));
    let log = server.stop();
    assert!(log.contains("sync_concurrency=3"), "{log}");
    assert!(dir.path().join("from-file/folio.db").is_file());
    assert!(!dir.path().join("data").exists());
}

#[test]
fn the_environment_beats_the_file_and_a_flag_beats_both() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("folio.toml"),
        "listen = \"127.0.0.1:0\"\ndata_dir = \"from-file\"\nsync_concurrency = 3\n",
    )
    .unwrap();
    let envs = [
        ("FOLIO_CONFIG", "folio.toml"),
        ("FOLIO_DATA_DIR", "from-env"),
        ("FOLIO_SYNC_CONCURRENCY", "5"),
    ];
    let log = Server::start(dir.path(), &[], &envs).stop();
    assert!(log.contains("sync_concurrency=5"), "{log}");
    assert!(dir.path().join("from-env/folio.db").is_file());

    let flags = ["--data-dir", "from-flag", "--sync-concurrency", "7"];
    let log = Server::start(dir.path(), &flags, &envs).stop();
    assert!(log.contains("sync_concurrency=7"), "{log}");
    assert!(dir.path().join("from-flag/folio.db").is_file());
    assert!(!dir.path().join("from-file").exists());
}

/// Serves with `file` as folio.toml, expecting a failure whose message
/// holds every one of `words`; nothing may be written.
fn refused(file: Option<&str>, words: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    if let Some(text) = file {
        std::fs::write(dir.path().join("folio.toml"), text).unwrap();
    }
    let output = run(
        dir.path(),
        &["serve", "--config", "folio.toml"],
        &[("FOLIO_LISTEN", "127.0.0.1:0")],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{file:?} was accepted");
    for word in words {
        assert!(stderr.contains(word), "{word} missing from: {stderr}");
    }
    assert!(!dir.path().join("data").exists(), "{file:?} wrote data");
}

#[test]
fn a_bad_file_stops_the_start_naming_the_key_and_the_file() {
    refused(
        Some("sync_concurency = 3\n"),
        &[
            "folio.toml",
            "unknown key `sync_concurency`",
            "did you mean `sync_concurrency`?",
        ],
    );
    refused(
        Some("sync_concurrency = \"3\"\n"),
        &[
            "folio.toml",
            "`sync_concurrency`",
            "expected an integer, found string",
        ],
    );
    refused(
        Some("secure_cookies = 1\n"),
        &["`secure_cookies`", "true or false"],
    );
    refused(
        Some("sync_concurrency = 65\n"),
        &["`sync_concurrency`", "1..=64"],
    );
    refused(Some("listen = \"8080\"\n"), &["`listen`", "'8080'"]);
    refused(
        Some("[server]\nlisten = \"127.0.0.1:0\"\n"),
        &["unknown key `server`"],
    );
    refused(
        Some("listen = 127.0.0.1\n"),
        &["folio.toml", "not valid TOML", "line 1"],
    );
    refused(None, &["reading the config file folio.toml"]);
}

/// A secret from the file or the environment never shows in `--help`
/// (values from the file become clap defaults, which help would print).
#[test]
fn help_shows_no_secret_from_the_file_or_the_environment() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("folio.toml"),
        "admin_token = \"file-admin-token-secret\"\nmetrics_token = \"file-metrics-secret\"\n\
         database_url = \"postgres://u:file-db-secret@h/db\"\n",
    )
    .expect("write config");
    let output = run(
        dir.path(),
        &["--config", "folio.toml", "serve", "--help"],
        &[("FOLIO_DATABASE_URL", "postgres://u:env-db-secret@h/db")],
    );
    assert!(output.status.success(), "{output:?}");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("--admin-token"), "{help}");
    for secret in [
        "file-admin-token-secret",
        "file-metrics-secret",
        "file-db-secret",
        "env-db-secret",
    ] {
        assert!(!help.contains(secret), "{secret} in {help}");
    }
}

#[test]
fn other_commands_read_their_settings_and_ignore_the_servers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("folio.toml"),
        "listen = \"127.0.0.1:0\"\nsync_concurrency = 3\ndatabase_url = \"sqlite://elsewhere.db\"\n",
    )
    .unwrap();
    let output = run(dir.path(), &["migrate", "--config", "folio.toml"], &[]);
    assert!(output.status.success(), "{output:?}");
    assert!(dir.path().join("elsewhere.db").is_file());

    std::fs::write(dir.path().join("folio.toml"), "databse_url = \"x\"\n").unwrap();
    let output = run(dir.path(), &["migrate", "--config", "folio.toml"], &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("did you mean `database_url`?"), "{stderr}");
}

#[tokio::test]
async fn admin_token_file_works_and_conflicts_with_the_inline_token() {
    let dir = tempfile::tempdir().unwrap();
    let token = "folio-admin-from-a-file";
    std::fs::write(dir.path().join("admin.secret"), format!("{token}\n")).unwrap();
    std::fs::write(
        dir.path().join("folio.toml"),
        "listen = \"127.0.0.1:0\"\nadmin_token_file = \"admin.secret\"\n",
    )
    .unwrap();
    let server = Server::start(dir.path(), &["--config", "folio.toml"], &[]);
    let me = reqwest::Client::new()
        .get(format!("{}/api/me", server.base_url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    server.stop();
    assert!(!dir.path().join("data/admin.token").exists());

    let output = run(
        dir.path(),
        &["serve", "--config", "folio.toml"],
        &[("FOLIO_ADMIN_TOKEN", "another")],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("FOLIO_ADMIN_TOKEN") && stderr.contains("FOLIO_ADMIN_TOKEN_FILE"),
        "{stderr}"
    );
}

#[test]
fn database_password_file_needs_a_postgres_url_without_a_password() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("db.secret"), "pw\n").unwrap();
    for (url, words) in [
        (None, "only for a postgres:// database URL"),
        (
            Some("postgres://u:inline@127.0.0.1:1/db"),
            "holds a password",
        ),
    ] {
        let mut envs = vec![("FOLIO_DATABASE_PASSWORD_FILE", "db.secret")];
        envs.extend(url.map(|url| ("FOLIO_DATABASE_URL", url)));
        let output = run(dir.path(), &["migrate"], &envs);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(words), "{stderr}");
        assert!(!stderr.contains("inline"), "the password leaked: {stderr}");
    }
    assert!(!dir.path().join("data").exists());
}

/// With FOLIO_TEST_DATABASE_URL (a URL without a password), the server
/// reaches PostgreSQL with the password from `database_password_file`, in
/// a schema of its own, and never logs the password.
#[tokio::test]
async fn database_password_file_reaches_postgres() {
    let Some(url) = folio_testkit::postgres_url() else {
        folio_testkit::say_loudly("database_password_file_reaches_postgres: PostgreSQL NOT RUN");
        return;
    };
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    folio_store::Store::connect_postgres_schema(&url, &schema)
        .await
        .expect("create the schema")
        .close()
        .await;
    let separator = if url.contains('?') { '&' } else { '?' };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("db.secret"), "not-in-the-log\n").unwrap();
    std::fs::write(dir.path().join("admin.secret"), "folio-admin-on-postgres\n").unwrap();
    std::fs::write(
        dir.path().join("folio.toml"),
        format!(
            "listen = \"127.0.0.1:0\"\n\
             database_url = \"{url}{separator}options[search_path]={schema}\"\n\
             database_password_file = \"db.secret\"\n\
             admin_token_file = \"admin.secret\"\n"
        ),
    )
    .unwrap();
    let server = Server::start(dir.path(), &["--config", "folio.toml"], &[]);
    let me = reqwest::Client::new()
        .get(format!("{}/api/me", server.base_url))
        .bearer_auth("folio-admin-on-postgres")
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let log = server.stop();
    assert!(log.contains(&schema), "the log names the database: {log}");
    assert!(!log.contains("not-in-the-log"), "{log}");
    assert!(!dir.path().join("data/folio.db").exists());
}

/// docs/folio.example.toml is `folio config example`; regenerate it with
/// `cargo run -p folio -- config example > docs/folio.example.toml`.
#[test]
fn the_example_file_matches_the_code() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &["config", "example"], &[]);
    assert!(output.status.success());
    let printed = String::from_utf8(output.stdout).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/folio.example.toml");
    let stored = std::fs::read_to_string(&path).expect("docs/folio.example.toml");
    assert!(
        printed == stored,
        "docs/folio.example.toml is stale: regenerate it with \
         `cargo run -p folio -- config example > docs/folio.example.toml`"
    );
    // And it is a valid config file as it stands, and with every line
    // that has a value uncommented.
    std::fs::write(dir.path().join("folio.toml"), &printed).unwrap();
    let uncommented: String = printed
        .lines()
        .filter_map(|line| line.strip_prefix("# "))
        .filter(|line| line.contains(" = ") && !line.ends_with("(unset)"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(
        uncommented.contains("sync_concurrency = 8"),
        "{uncommented}"
    );
    std::fs::write(dir.path().join("all.toml"), &uncommented).unwrap();
    for file in ["folio.toml", "all.toml"] {
        let output = run(dir.path(), &["migrate", "--config", file], &[]);
        assert!(output.status.success(), "{file}: {output:?}");
    }
}
