//! `folio-bench sync`: Folio's sync targets (speed against a bare client,
//! memory, re-sync cost; see the crate README), measured end to end over
//! loopback against cloudsim (Google Drive), each figure printed next to
//! its target or its same-run baseline. Each scenario runs over HTTPS, as
//! providers are reached in production, and over plain HTTP (`--transports`),
//! and the HTTPS/HTTP ratio of its times is printed (target: within 1.1x).
//!
//! Scenarios (each with a fresh cloudsim and a fresh `folio serve`, so one
//! scenario's memory or data cannot colour the next):
//! - `small`: full sync of N small files, against a bare concurrent reqwest
//!   client listing and downloading the same files with the same
//!   concurrency, writing each to a file (target: within 1.2x), and the
//!   same client discarding the bytes (shown for reference);
//! - `many`: full sync of N files (time, Folio's peak RSS, target under
//!   150 MiB), then a re-sync with no remote change (wall time of the
//!   `_sync` request, under 1 s; provider requests it cost, at most 3);
//! - `big`: full sync of one large file (time, peak RSS under 150 MiB),
//!   next to the bare client downloading it.

use std::time::Duration;

use anyhow::{Context, bail};

use crate::bare;
use crate::folio::{Folio, SyncReport};
use crate::process::cpu_seconds;
use crate::sim::{self, Sim, Transport};

/// Folio's default download concurrency (`SyncOptions::download_concurrency`).
pub const FOLIO_CONCURRENCY: usize = 8;
/// Folio's peak memory target during a sync.
const MEMORY_TARGET_MIB: f64 = 150.0;

/// A benchmark scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Full sync of many small files against a bare HTTP client.
    Small,
    /// Full sync of a large library, then a no-change re-sync.
    Many,
    /// Full sync of one large file.
    Big,
}

/// What to run, and at which size.
#[derive(Debug, Clone)]
pub struct SyncArgs {
    pub scenarios: Vec<Scenario>,
    /// Files of the `small` scenario.
    pub small_files: u64,
    /// Files of the `many` scenario.
    pub files: u64,
    /// Size of each generated file of `small` and `many`.
    pub file_bytes: u64,
    /// Size of the `big` scenario's file, MiB.
    pub big_mib: u64,
    /// The bare client's concurrency (Folio's is its default).
    pub concurrency: usize,
    /// Interleaved rounds of the `small` scenario (bare client, then Folio).
    pub rounds: u32,
    /// How each scenario reaches cloudsim; each runs once per transport.
    pub transports: Vec<Transport>,
}

/// A scenario's figures, and its times to compare between transports.
struct Outcome {
    rows: Vec<Row>,
    /// (what, seconds): the times the HTTPS/HTTP ratio is shown for.
    times: Vec<(String, f64)>,
}

/// One printed figure.
struct Row {
    work: String,
    measured: String,
    reference: String,
    verdict: &'static str,
}

impl Row {
    fn new(work: String, measured: String, reference: String, met: Option<bool>) -> Row {
        let verdict = match met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        };
        Row {
            work,
            measured,
            reference,
            verdict,
        }
    }

    /// The same row, its work prefixed with the transport.
    fn labelled(self, transport: Transport) -> Row {
        Row {
            work: format!("[{transport}] {}", self.work),
            ..self
        }
    }

    fn print(&self) {
        println!(
            "{:<60} {:>20}   {:<40} {}",
            self.work, self.measured, self.reference, self.verdict
        );
    }
}

/// Runs the chosen scenarios, once per transport, and prints their
/// figures, then the HTTPS/HTTP ratio of each scenario's times.
pub async fn run(args: SyncArgs) -> anyhow::Result<()> {
    println!(
        "# folio-bench sync: provider google (cloudsim, loopback); load average {}",
        load_average()
    );
    let mut rows = Vec::new();
    for scenario in &args.scenarios {
        let mut times_by_transport = Vec::new();
        for &transport in &args.transports {
            let outcome = match scenario {
                Scenario::Small => small(&args, transport).await,
                Scenario::Many => many(&args, transport).await,
                Scenario::Big => big(&args, transport).await,
            }
            .with_context(|| format!("scenario {scenario:?} over {transport}"))?;
            let found: Vec<Row> = outcome
                .rows
                .into_iter()
                .map(|row| row.labelled(transport))
                .collect();
            for row in &found {
                row.print();
            }
            println!(
                "#   after {scenario:?} over {transport}: load average {}",
                load_average()
            );
            rows.extend(found);
            times_by_transport.push((transport, outcome.times));
        }
        for row in transport_ratios(&times_by_transport) {
            row.print();
            rows.push(row);
        }
    }
    println!();
    println!(
        "{:<60} {:>20}   {:<40} verdict",
        "work", "measured", "target / baseline"
    );
    for row in &rows {
        row.print();
    }
    Ok(())
}

/// How much slower HTTPS is than plain HTTP, per time a scenario reports
/// (target: within 1.1x).
fn transport_ratios(measured: &[(Transport, Vec<(String, f64)>)]) -> Vec<Row> {
    let of = |t: Transport| measured.iter().find(|(m, _)| *m == t).map(|(_, v)| v);
    let (Some(https), Some(http)) = (of(Transport::Https), of(Transport::Http)) else {
        return Vec::new();
    };
    https
        .iter()
        .zip(http)
        .map(|((what, secure), (_, plain))| {
            let ratio = secure / plain;
            Row::new(
                format!("ratio https / http: {what}"),
                format!("{ratio:.2}x"),
                format!("<= 1.10x ({secure:.3} s against {plain:.3} s)"),
                Some(ratio <= 1.1),
            )
        })
        .collect()
}

/// Full sync of many small files against the bare client, in `rounds`
/// interleaved rounds: each runs the bare client (discarding the bytes,
/// then writing files), then a fresh Folio's full sync. Each figure is the
/// median of its rounds, so Folio and its baseline are judged by the same
/// statistic; the range of the per-round ratios is shown too (on a shared
/// machine one run of either can be a third slower than the next).
async fn small(args: &SyncArgs, transport: Transport) -> anyhow::Result<Outcome> {
    let n = args.small_files;
    let sim = Sim::start(transport).await?;
    sim.generate("bench", n, args.file_bytes, 2).await?;
    let token = sim.baseline_access_token().await?;
    sim.warm_md5s(&token).await?;
    let mut rounds = Vec::new();
    for _ in 0..args.rounds.max(1) {
        let discarding = bare_run(&sim, &token, args, n, false).await?;
        let writing = bare_run(&sim, &token, args, n, true).await?;
        let folio = folio_run(&sim, n).await?;
        rounds.push(SmallRound {
            discarding,
            writing,
            folio,
        });
    }
    let median_of = |pick: &dyn Fn(&SmallRound) -> f64| median(rounds.iter().map(pick).collect());
    let folio_secs = median_of(&|r| r.folio.elapsed.as_secs_f64());
    let writing_secs = median_of(&|r| r.writing.elapsed.as_secs_f64());
    let discarding_secs = median_of(&|r| r.discarding.elapsed.as_secs_f64());
    let ratio = folio_secs / writing_secs;
    let round_ratios: Vec<f64> = rounds
        .iter()
        .map(|r| r.folio.elapsed.as_secs_f64() / r.writing.elapsed.as_secs_f64())
        .collect();
    let (lowest, highest) = round_ratios
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &r| (lo.min(r), hi.max(r)));
    let peak = rounds.iter().map(|r| r.folio.peak_mib).fold(0.0, f64::max);
    let c = args.concurrency;
    let k = rounds.len();
    let rows = vec![
        Row::new(
            format!(
                "full sync, {n} files of {} B (x{}), median of {k}",
                args.file_bytes, FOLIO_CONCURRENCY
            ),
            format!("{folio_secs:.3} s"),
            format!("bare client x{c}, to files: {writing_secs:.3} s"),
            None,
        ),
        Row::new(
            "  ratio folio / bare client writing files".to_owned(),
            format!("{ratio:.2}x"),
            format!("<= 1.20x (rounds: {lowest:.2}x to {highest:.2}x)"),
            Some(ratio <= 1.2),
        ),
        Row::new(
            "  ratio folio / bare client discarding bytes".to_owned(),
            format!("{:.2}x", folio_secs / discarding_secs),
            format!("(bare x{c}, in memory: {discarding_secs:.3} s)"),
            None,
        ),
        Row::new(
            "  CPU of folio serve during the sync".to_owned(),
            format!("{:.2} s", median_of(&|r| r.folio.cpu.own)),
            format!(
                "bare client writing files: {:.2} s",
                median_of(&|r| r.writing.cpu.own)
            ),
            None,
        ),
        Row::new(
            "  CPU of cloudsim serving the sync".to_owned(),
            format!("{:.2} s", median_of(&|r| r.folio.cpu.cloudsim)),
            format!(
                "serving the bare client: {:.2} s",
                median_of(&|r| r.writing.cpu.cloudsim)
            ),
            None,
        ),
        memory_row(format!("  folio peak RSS, full sync of {n} files"), peak),
    ];
    Ok(Outcome {
        rows,
        times: vec![
            (format!("folio full sync of {n} files"), folio_secs),
            (format!("bare client writing {n} files"), writing_secs),
        ],
    })
}

/// One round of the `small` scenario.
struct SmallRound {
    discarding: BareRun,
    writing: BareRun,
    folio: FolioRun,
}

/// One full sync by a fresh Folio (its own process and data directory).
struct FolioRun {
    elapsed: Duration,
    cpu: Cpu,
    peak_mib: f64,
}

async fn folio_run(sim: &Sim, n: u64) -> anyhow::Result<FolioRun> {
    let folio = Folio::start_connected(sim).await?;
    folio.reset_peak_memory()?;
    let cpu_before = (folio.cpu_seconds()?, sim.process.cpu_seconds()?);
    let sync = folio.sync().await?;
    let cpu = Cpu {
        own: folio.cpu_seconds()? - cpu_before.0,
        cloudsim: sim.process.cpu_seconds()? - cpu_before.1,
    };
    expect_synced(&sync, n)?;
    Ok(FolioRun {
        elapsed: sync.elapsed,
        cpu,
        peak_mib: folio.peak_memory_mib()?,
    })
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    match values.len() {
        0 => f64::NAN,
        len if len % 2 == 1 => values[mid],
        _ => (values[mid - 1] + values[mid]) / 2.0,
    }
}

/// CPU seconds used during a run: by the client under test, and by cloudsim
/// serving it.
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    own: f64,
    cloudsim: f64,
}

/// One run of the bare client: its wall time and CPU.
#[derive(Debug, Clone, Copy, Default)]
struct BareRun {
    elapsed: Duration,
    cpu: Cpu,
}

/// One run of the bare client over the whole drive.
async fn bare_run(
    sim: &Sim,
    token: &str,
    args: &SyncArgs,
    n: u64,
    to_disk: bool,
) -> anyhow::Result<BareRun> {
    let dir = tempfile::tempdir().context("a directory for the bare client")?;
    let into = to_disk.then(|| dir.path());
    let cpu_before = (cpu_seconds("self")?, sim.process.cpu_seconds()?);
    let report = bare::download_everything(sim, token, args.concurrency, into).await?;
    let cpu = Cpu {
        own: cpu_seconds("self")? - cpu_before.0,
        cloudsim: sim.process.cpu_seconds()? - cpu_before.1,
    };
    if report.files != n || report.bytes != n * args.file_bytes {
        bail!(
            "the bare client fetched {} files, {} bytes; expected {n} files",
            report.files,
            report.bytes
        );
    }
    Ok(BareRun {
        elapsed: report.elapsed,
        cpu,
    })
}

/// Full sync of a large library, then a no-change re-sync.
async fn many(args: &SyncArgs, transport: Transport) -> anyhow::Result<Outcome> {
    let n = args.files;
    let sim = Sim::start(transport).await?;
    sim.generate("bench", n, args.file_bytes, 2).await?;
    sim.warm_md5s(&sim.baseline_access_token().await?).await?;
    let folio = Folio::start_connected(&sim).await?;
    folio.reset_peak_memory()?;
    let full = folio.sync().await?;
    expect_synced(&full, n)?;
    let full_peak = folio.peak_memory_mib()?;

    sim.reset_requests().await?;
    folio.reset_peak_memory()?;
    let again = folio.sync().await?;
    expect_synced(&again, n)?;
    let requests = sim.requests().await?;
    let resync_peak = folio.peak_memory_mib()?;
    if again.result["addedFiles"] != 0 || again.result["updatedFiles"] != 0 {
        bail!("the no-change re-sync changed files: {}", again.result);
    }
    let total = sim::total(&requests);
    let detail: Vec<String> = requests.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    println!("#   re-sync provider requests: {}", detail.join(", "));
    let rows = vec![
        Row::new(
            format!("full sync, {n} files of {} B", args.file_bytes),
            secs(full.elapsed),
            String::new(),
            None,
        ),
        memory_row(
            format!("  folio peak RSS, full sync of {n} files"),
            full_peak,
        ),
        Row::new(
            format!("re-sync of {n} files, no remote change"),
            secs(again.elapsed),
            "< 1.000 s".to_owned(),
            Some(again.elapsed < Duration::from_secs(1)),
        ),
        Row::new(
            "  provider requests of that re-sync".to_owned(),
            total.to_string(),
            "<= 3".to_owned(),
            Some(total <= 3),
        ),
        memory_row("  folio peak RSS, that re-sync".to_owned(), resync_peak),
    ];
    Ok(Outcome {
        rows,
        times: vec![
            (
                format!("full sync of {n} files"),
                full.elapsed.as_secs_f64(),
            ),
            (
                format!("no-change re-sync of {n} files"),
                again.elapsed.as_secs_f64(),
            ),
        ],
    })
}

/// Full sync of one large file.
async fn big(args: &SyncArgs, transport: Transport) -> anyhow::Result<Outcome> {
    let bytes = args.big_mib * 1024 * 1024;
    let sim = Sim::start(transport).await?;
    sim.generate("big", 1, bytes, 0).await?;
    let token = sim.baseline_access_token().await?;
    sim.warm_md5s(&token).await?;
    let folio = Folio::start_connected(&sim).await?;
    folio.reset_peak_memory()?;
    let sync = folio.sync().await?;
    expect_synced(&sync, 1)?;
    let peak = folio.peak_memory_mib()?;
    let baseline = bare::download_everything(&sim, &token, 1, None).await?;
    if baseline.bytes != bytes {
        bail!("the bare client read {} of {bytes} bytes", baseline.bytes);
    }
    let mib_per_s = |d: Duration| args.big_mib as f64 / d.as_secs_f64();
    let rows = vec![
        Row::new(
            format!("full sync, one file of {} MiB", args.big_mib),
            format!(
                "{} ({:.0} MiB/s)",
                secs(sync.elapsed),
                mib_per_s(sync.elapsed)
            ),
            format!(
                "bare client, in memory: {} ({:.0} MiB/s)",
                secs(baseline.elapsed),
                mib_per_s(baseline.elapsed)
            ),
            None,
        ),
        memory_row(
            format!("  folio peak RSS, full sync of {} MiB", args.big_mib),
            peak,
        ),
    ];
    Ok(Outcome {
        rows,
        times: vec![(
            format!("full sync of one {} MiB file", args.big_mib),
            sync.elapsed.as_secs_f64(),
        )],
    })
}

fn expect_synced(report: &SyncReport, files: u64) -> anyhow::Result<()> {
    let synced = report.result["syncedFiles"].as_u64();
    let errors = report.result["errors"].as_array().map_or(0, Vec::len);
    if synced != Some(files) || errors != 0 {
        bail!(
            "expected {files} synced files and no error, got {}",
            report.result
        );
    }
    Ok(())
}

fn memory_row(work: String, peak_mib: f64) -> Row {
    Row::new(
        work,
        format!("{peak_mib:.1} MiB"),
        format!("< {MEMORY_TARGET_MIB:.0} MiB"),
        Some(peak_mib < MEMORY_TARGET_MIB),
    )
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// `/proc/loadavg`'s three averages (the machine is shared; say so).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_takes_the_middle_value_or_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![0.9, 0.5, 0.7]), 0.7);
        assert_eq!(median(vec![0.4, 0.8, 0.6, 1.0]), 0.7);
        assert_eq!(median(vec![1.5]), 1.5);
        assert!(median(Vec::new()).is_nan());
    }
}
