//! `folio-bench rclone`: Folio side by side with rclone (Debian's, unmodified)
//! on the same cloudsim over HTTPS, the same Google Drive files and the same
//! concurrency: a full sync of `--small-files` (10,000) small files, the
//! no-change re-sync of those, and the no-change re-sync of `--files`
//! (100,000). Wall time and provider requests (cloudsim's `/_sim/requests`)
//! for each, in one run.
//!
//! rclone reaches Drive only under its real host names on port 443, so the
//! command re-runs itself in fresh mount and network namespaces (`unshare
//! --mount --net`, as root): loopback up, a hosts file mapping the Google
//! host names to 127.0.0.1 bind-mounted over /etc/hosts, cloudsim on
//! 127.0.0.1:443 with its generated CA, which rclone trusts through
//! `SSL_CERT_FILE` and Folio too. Nothing of the machine's own /etc/hosts
//! or network changes, and both clients meet the same server.
//!
//! rclone runs with `--transfers 8 --checkers 8` (Folio downloads 8 at
//! once) and, for Drive, `--drive-pacer-min-sleep 0 --drive-pacer-burst
//! 1000`, so its own pacing (10 calls a second after a burst of 100 by
//! default) does not decide its figures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::folio::Folio;
use crate::sim::{self, Sim, Transport};

/// Set in the re-run inside the namespaces.
const INSIDE: &str = "FOLIO_BENCH_IN_NAMESPACE";
/// The Google host names rclone uses (the CA's certificate covers them).
const GOOGLE_HOSTS: &[&str] = &[
    "accounts.google.com",
    "oauth2.googleapis.com",
    "www.googleapis.com",
];
const RCLONE_CLIENT: &str = "bench-rclone";
const RCLONE_SECRET: &str = "bench-rclone-secret";
/// rclone's own redirect URL (never contacted here).
const RCLONE_REDIRECT: &str = "http://127.0.0.1:53682/";
/// rclone's concurrency, the same as Folio's downloads.
const RCLONE_FLAGS: &[&str] = &[
    "--transfers",
    "8",
    "--checkers",
    "8",
    "--drive-pacer-min-sleep",
    "0",
    "--drive-pacer-burst",
    "1000",
];

/// What to run, and at which size.
#[derive(Debug, Clone)]
pub struct RcloneArgs {
    /// Files of the full sync and its no-change re-sync.
    pub small_files: u64,
    /// Files of the large no-change re-sync.
    pub files: u64,
    pub file_bytes: u64,
    /// Full syncs per client at `small_files`; the figure is the median.
    pub rounds: u32,
}

/// One sync by one client: its wall time and the provider requests it made.
#[derive(Debug, Clone)]
struct Run {
    elapsed: Duration,
    requests: BTreeMap<String, u64>,
}

impl Run {
    fn total(&self) -> u64 {
        sim::total(&self.requests)
    }
}

/// Runs the comparison (re-running itself inside the namespaces first).
pub async fn run(args: RcloneArgs) -> anyhow::Result<()> {
    if std::env::var_os(INSIDE).is_none() {
        return rerun_in_namespaces().await;
    }
    isolate().context("setting up the namespaces")?;
    println!(
        "# folio-bench rclone: {}; Google Drive on cloudsim over HTTPS at the real host names; load average {}",
        rclone_version().await?,
        load_average()
    );
    let small = compare_small(&args).await.context("the small tree")?;
    let large = compare_large(&args).await.context("the large tree")?;
    print_table(&args, &small, &large);
    Ok(())
}

/// `unshare --mount --net -- <this command>`; its exit status is ours.
async fn rerun_in_namespaces() -> anyhow::Result<()> {
    // SAFETY: geteuid only reads the process's credentials.
    if unsafe { libc::geteuid() } != 0 {
        bail!("folio-bench rclone needs root: it runs in its own mount and network namespaces");
    }
    let exe = std::env::current_exe().context("locating folio-bench")?;
    let status = tokio::process::Command::new("unshare")
        .args(["--mount", "--net", "--propagation", "private", "--"])
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env(INSIDE, "1")
        .status()
        .await
        .context("running unshare (util-linux)")?;
    if !status.success() {
        bail!("the benchmark inside the namespaces failed ({status})");
    }
    Ok(())
}

/// Loopback up; Google's host names at 127.0.0.1 (this namespace only).
fn isolate() -> anyhow::Result<()> {
    let up = std::process::Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()
        .context("running ip (iproute2)")?;
    if !up.success() {
        bail!("ip link set lo up: {up}");
    }
    let hosts = std::env::temp_dir().join(format!("folio-bench-hosts-{}", std::process::id()));
    let mut text = String::from("127.0.0.1 localhost\n");
    for host in GOOGLE_HOSTS {
        text.push_str(&format!("127.0.0.1 {host}\n"));
    }
    std::fs::write(&hosts, text).context("writing the hosts file")?;
    let mounted = std::process::Command::new("mount")
        .arg("--bind")
        .arg(&hosts)
        .arg("/etc/hosts")
        .status()
        .context("running mount")?;
    if !mounted.success() {
        bail!("mount --bind {} /etc/hosts: {mounted}", hosts.display());
    }
    Ok(())
}

/// cloudsim on 127.0.0.1:443 over HTTPS with `files` generated files,
/// their md5s computed (Drive keeps them from the upload).
async fn provider(files: u64, bytes: u64) -> anyhow::Result<Sim> {
    let sim = Sim::start_on(Transport::Https, 443).await?;
    sim.generate("bench", files, bytes, 2).await?;
    sim.warm_md5s(&sim.baseline_access_token().await?).await?;
    Ok(sim)
}

/// Figures at `small_files`.
struct Small {
    folio_full: Vec<Run>,
    rclone_full: Vec<Run>,
    folio_again: Run,
    rclone_again: Run,
}

async fn compare_small(args: &RcloneArgs) -> anyhow::Result<Small> {
    let n = args.small_files;
    let sim = provider(n, args.file_bytes).await?;
    let rclone = Rclone::configure(&sim).await?;
    let mut folio_full = Vec::new();
    let mut rclone_full = Vec::new();
    let mut last = None;
    for round in 0..args.rounds.max(1) {
        let dir = tempfile::tempdir().context("a directory for rclone")?;
        let run = rclone.sync(&sim, dir.path()).await?;
        expect_files(dir.path(), n)?;
        println!("#   round {round}: rclone full sync {}", describe(&run));
        rclone_full.push(run);
        let folio = Folio::start_connected(&sim).await?;
        let run = folio_sync(&sim, &folio, n).await?;
        println!("#   round {round}: folio full sync {}", describe(&run));
        folio_full.push(run);
        last = Some((dir, folio));
    }
    let (dir, folio) = last.context("no round ran")?;
    let rclone_again = rclone.sync(&sim, dir.path()).await?;
    println!("#   rclone no-change re-sync {}", describe(&rclone_again));
    let folio_again = folio_sync(&sim, &folio, n).await?;
    println!("#   folio no-change re-sync {}", describe(&folio_again));
    drop(folio);
    sim.process.stop().await;
    Ok(Small {
        folio_full,
        rclone_full,
        folio_again,
        rclone_again,
    })
}

/// Figures at `files`: the full syncs (shown, one each) and the no-change
/// re-syncs.
struct Large {
    folio_full: Run,
    rclone_full: Run,
    folio_again: Run,
    rclone_again: Run,
}

async fn compare_large(args: &RcloneArgs) -> anyhow::Result<Large> {
    let n = args.files;
    let sim = provider(n, args.file_bytes).await?;
    let rclone = Rclone::configure(&sim).await?;
    let dir = tempfile::tempdir().context("a directory for rclone")?;
    let rclone_full = rclone.sync(&sim, dir.path()).await?;
    expect_files(dir.path(), n)?;
    println!("#   rclone full sync {}", describe(&rclone_full));
    let rclone_again = rclone.sync(&sim, dir.path()).await?;
    println!("#   rclone no-change re-sync {}", describe(&rclone_again));
    drop(dir);
    let folio = Folio::start_connected(&sim).await?;
    let folio_full = folio_sync(&sim, &folio, n).await?;
    println!("#   folio full sync {}", describe(&folio_full));
    let folio_again = folio_sync(&sim, &folio, n).await?;
    println!("#   folio no-change re-sync {}", describe(&folio_again));
    drop(folio);
    sim.process.stop().await;
    Ok(Large {
        folio_full,
        rclone_full,
        folio_again,
        rclone_again,
    })
}

/// One `_sync` of Folio's library, with the provider requests it made.
async fn folio_sync(sim: &Sim, folio: &Folio, files: u64) -> anyhow::Result<Run> {
    sim.reset_requests().await?;
    let report = folio.sync().await?;
    let synced = report.result["syncedFiles"].as_u64();
    let errors = report.result["errors"].as_array().map_or(0, Vec::len);
    if synced != Some(files) || errors != 0 {
        bail!(
            "expected {files} synced files and no error, got {}",
            report.result
        );
    }
    Ok(Run {
        elapsed: report.elapsed,
        requests: sim.requests().await?,
    })
}

/// rclone with a config of its own: one Drive remote holding a grant from
/// cloudsim's authorize and token endpoints, as `rclone config` gets one.
struct Rclone {
    config: tempfile::NamedTempFile,
    ca: PathBuf,
}

impl Rclone {
    async fn configure(sim: &Sim) -> anyhow::Result<Rclone> {
        let grant = sim
            .grant(RCLONE_CLIENT, RCLONE_SECRET, RCLONE_REDIRECT)
            .await?;
        let expires_in = grant["expires_in"].as_i64().unwrap_or(3599);
        let expiry = expiry_in(expires_in);
        let token = serde_json::json!({
            "access_token": grant["access_token"],
            "token_type": "Bearer",
            "refresh_token": grant["refresh_token"],
            "expiry": expiry,
        });
        let text = format!(
            "[gd]\ntype = drive\nclient_id = {RCLONE_CLIENT}\nclient_secret = {RCLONE_SECRET}\nscope = drive\ntoken = {token}\n"
        );
        let config = tempfile::NamedTempFile::new().context("rclone's config file")?;
        std::fs::write(config.path(), text).context("writing rclone's config")?;
        Ok(Rclone {
            config,
            ca: sim.ca().context("cloudsim serves no CA")?.to_path_buf(),
        })
    }

    /// `rclone sync gd: DIR`, timed, with the provider requests it made.
    async fn sync(&self, sim: &Sim, dir: &Path) -> anyhow::Result<Run> {
        sim.reset_requests().await?;
        let started = Instant::now();
        let output = tokio::process::Command::new("rclone")
            .arg("sync")
            .args(RCLONE_FLAGS)
            .arg("gd:")
            .arg(dir)
            .env("RCLONE_CONFIG", self.config.path())
            .env("SSL_CERT_FILE", &self.ca)
            .env_remove("SSL_CERT_DIR")
            .output()
            .await
            .context("running rclone (apt-get install rclone)")?;
        let elapsed = started.elapsed();
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            bail!(
                "rclone sync failed ({}): {}",
                output.status,
                tail(&stderr, 1500)
            );
        }
        Ok(Run {
            elapsed,
            requests: sim.requests().await?,
        })
    }
}

/// An RFC 3339 UTC time `seconds` from now (rclone's token `expiry`).
fn expiry_in(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(seconds))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn rclone_version() -> anyhow::Result<String> {
    let output = tokio::process::Command::new("rclone")
        .arg("version")
        .output()
        .await
        .context("running rclone (apt-get install rclone)")?;
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .next()
        .unwrap_or("rclone")
        .to_owned())
}

/// Fails unless `dir` holds `files` files (rclone synced everything).
fn expect_files(dir: &Path, files: u64) -> anyhow::Result<()> {
    let found = count_files(dir)?;
    if found != files {
        bail!(
            "rclone left {found} files in {}, not {files}",
            dir.display()
        );
    }
    Ok(())
}

fn count_files(dir: &Path) -> anyhow::Result<u64> {
    let mut count = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            count += count_files(&entry.path())?;
        } else {
            count += 1;
        }
    }
    Ok(count)
}

fn describe(run: &Run) -> String {
    let detail: Vec<String> = run
        .requests
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    format!(
        "{:.3} s, {} requests ({})",
        run.elapsed.as_secs_f64(),
        run.total(),
        detail.join(", ")
    )
}

fn tail(text: &str, max: usize) -> &str {
    let start = text.len().saturating_sub(max);
    let start = (start..=text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    &text[start..]
}

fn median_secs(runs: &[Run]) -> f64 {
    let mut secs: Vec<f64> = runs.iter().map(|r| r.elapsed.as_secs_f64()).collect();
    secs.sort_by(f64::total_cmp);
    let mid = secs.len() / 2;
    match secs.len() {
        0 => f64::NAN,
        len if len % 2 == 1 => secs[mid],
        _ => (secs[mid - 1] + secs[mid]) / 2.0,
    }
}

fn print_table(args: &RcloneArgs, small: &Small, large: &Large) {
    let (n, big, k) = (args.small_files, args.files, small.folio_full.len());
    println!();
    println!(
        "{:<46} {:>22} {:>22} {:>10}   {:<10} verdict",
        "work", "folio", "rclone", "rclone/folio", "target"
    );
    let line = |work: String,
                folio: f64,
                folio_req: u64,
                rclone: f64,
                rclone_req: u64,
                target: Option<f64>| {
        let ratio = rclone / folio;
        let (target_text, verdict) = match target {
            Some(t) => (
                format!(">= {t}x"),
                if ratio >= t { "met" } else { "MISSED" },
            ),
            None => (String::new(), ""),
        };
        println!(
            "{work:<46} {:>22} {:>22} {:>9.1}x   {target_text:<10} {verdict}",
            format!("{folio:.3} s, {folio_req} req"),
            format!("{rclone:.3} s, {rclone_req} req"),
            ratio
        );
    };
    let last = |runs: &[Run]| runs.last().map_or(0, Run::total);
    line(
        format!(
            "full sync, {n} files of {} B (median of {k})",
            args.file_bytes
        ),
        median_secs(&small.folio_full),
        last(&small.folio_full),
        median_secs(&small.rclone_full),
        last(&small.rclone_full),
        Some(1.5),
    );
    line(
        format!("no-change re-sync, {n} files"),
        small.folio_again.elapsed.as_secs_f64(),
        small.folio_again.total(),
        small.rclone_again.elapsed.as_secs_f64(),
        small.rclone_again.total(),
        None,
    );
    line(
        format!("full sync, {big} files (one run each)"),
        large.folio_full.elapsed.as_secs_f64(),
        large.folio_full.total(),
        large.rclone_full.elapsed.as_secs_f64(),
        large.rclone_full.total(),
        None,
    );
    line(
        format!("no-change re-sync, {big} files"),
        large.folio_again.elapsed.as_secs_f64(),
        large.folio_again.total(),
        large.rclone_again.elapsed.as_secs_f64(),
        large.rclone_again.total(),
        Some(100.0),
    );
}

/// `/proc/loadavg`'s three averages (the machine is shared; say so).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}
