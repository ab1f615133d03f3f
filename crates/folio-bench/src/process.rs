//! Starting the servers under test as child processes.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

#[derive(Debug, Clone, Copy)]
pub enum Target {
    Folio,
    Baseline,
    /// The provider emulator (`cloudsim serve`), on `port` (0: any free
    /// one), over HTTPS with a CA of its own (`--tls-generate`) when `tls`.
    Cloudsim {
        tls: bool,
        port: u16,
    },
}

/// A running server; killed when dropped.
pub struct Running {
    child: Child,
    pub base_url: String,
    pub data_dir: tempfile::TempDir,
    /// The CA a TLS cloudsim generated (its `ca.pem`).
    pub ca: Option<std::path::PathBuf>,
}

/// Where a TLS cloudsim writes its CA and certificate.
fn tls_dir(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("tls")
}

/// The binary `name` next to this one; `FOLIO_BENCH_FOLIO` may name
/// another `folio` binary (to compare two builds).
fn sibling_binary(name: &str) -> anyhow::Result<std::path::PathBuf> {
    if name == "folio"
        && let Some(path) = std::env::var_os("FOLIO_BENCH_FOLIO")
    {
        return Ok(path.into());
    }
    let exe = std::env::current_exe().context("locating folio-bench")?;
    let path = exe.with_file_name(name);
    if !path.exists() {
        bail!(
            "{} not found; build it first: cargo build --release -p folio -p folio-bench -p cloudsim",
            path.display()
        );
    }
    Ok(path)
}

fn command(target: Target, data_dir: &std::path::Path) -> anyhow::Result<Command> {
    let mut command = match target {
        Target::Folio => {
            let mut c = Command::new(sibling_binary("folio")?);
            c.arg("serve")
                .env("FOLIO_DATA_DIR", data_dir)
                .env("FOLIO_LISTEN", "127.0.0.1:0")
                .env(
                    "FOLIO_LOG",
                    std::env::var("FOLIO_BENCH_FOLIO_LOG").unwrap_or_else(|_| "warn".into()),
                )
                // The sync benchmark's provider is cloudsim on loopback.
                .env("FOLIO_ALLOW_PRIVATE_PROVIDER_URLS", "true")
                .env_remove("FOLIO_DATABASE_URL")
                .env_remove("FOLIO_ADMIN_TOKEN");
            c
        }
        Target::Baseline => {
            let mut c = Command::new(std::env::current_exe()?);
            c.arg("baseline-server");
            c
        }
        Target::Cloudsim { tls, port } => {
            let mut c = Command::new(sibling_binary("cloudsim")?);
            c.args(["serve", "--port", &port.to_string()])
                .env("RUST_LOG", "error");
            if tls {
                c.arg("--tls-generate").arg(tls_dir(data_dir));
            }
            c
        }
    };
    command
        .stdout(Stdio::piped())
        // FOLIO_BENCH_FOLIO_LOG (a log filter) also shows the logs.
        .stderr(if std::env::var_os("FOLIO_BENCH_FOLIO_LOG").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .kill_on_drop(true);
    Ok(command)
}

/// Spawns the target and waits for its `listening on URL` line.
pub async fn start(target: Target) -> anyhow::Result<Running> {
    start_with_env(target, &[]).await
}

/// [`start`] with extra environment variables (e.g. `SSL_CERT_FILE`).
pub async fn start_with_env(
    target: Target,
    env: &[(&str, &std::ffi::OsStr)],
) -> anyhow::Result<Running> {
    let data_dir = tempfile::tempdir()?;
    let mut command = command(target, data_dir.path())?;
    command.envs(env.iter().copied());
    let mut child = command.spawn().context("spawning the server")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).await?;
    let base_url = line
        .trim()
        .strip_prefix("listening on ")
        .with_context(|| format!("unexpected first line {line:?}"))?
        .to_owned();
    let ca = match target {
        Target::Cloudsim { tls: true, .. } => Some(tls_dir(data_dir.path()).join("ca.pem")),
        _ => None,
    };
    Ok(Running {
        child,
        base_url,
        data_dir,
        ca,
    })
}

impl Running {
    /// Kills the process and waits until it has exited (so its port is
    /// free for the next one).
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// CPU seconds the process has used so far.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        let pid = self.pid().context("the process has exited")?;
        cpu_seconds(&pid.to_string())
    }
}

/// CPU time (user + system) a process has used so far, in seconds, from
/// `/proc/<pid>/stat` (`"self"` for this process).
pub fn cpu_seconds(pid: &str) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    // Fields after the command name, which is in parentheses and may hold
    // spaces: state is field 3, utime 14, stime 15 (proc(5)).
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| -> anyhow::Result<f64> {
        fields
            .get(index)
            .and_then(|v| v.parse::<f64>().ok())
            .with_context(|| format!("no field {} in /proc/{pid}/stat", index + 3))
    };
    // SAFETY: sysconf only reads a system constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Ok((ticks(11)? + ticks(12)?) / per_second.max(1.0))
}

/// Times, `count` times, from spawning a fresh server to its first 200.
pub async fn time_cold_starts(target: Target, count: u32) -> anyhow::Result<Vec<Duration>> {
    let client = reqwest::Client::new();
    let probe = match target {
        Target::Folio => "/api/health",
        Target::Baseline | Target::Cloudsim { .. } => "/",
    };
    let mut samples = Vec::new();
    for _ in 0..count {
        let started = Instant::now();
        let running = start(target).await?;
        let url = format!("{}{probe}", running.base_url);
        loop {
            if let Ok(response) = client.get(&url).send().await
                && response.status() == 200
            {
                break;
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!("{target:?} did not answer 200 within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        samples.push(started.elapsed());
    }
    Ok(samples)
}

/// Creates a library in a running Folio; returns its path and the admin token.
pub async fn prepare_library(running: &Running) -> anyhow::Result<(String, String)> {
    let token = std::fs::read_to_string(running.data_dir.path().join("admin.token"))
        .context("reading admin.token")?
        .trim()
        .to_owned();
    let library: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/libraries", running.base_url))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "Bench", "naturalId": "bench", "type": "local"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = library["id"].as_str().context("library id")?;
    Ok((format!("/api/libraries/{id}"), token))
}

/// The baseline: the smallest axum server answering a JSON body.
pub async fn baseline_server() -> anyhow::Result<()> {
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    // As Folio's own listener does, so both are measured alike.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await?;
    Ok(())
}
