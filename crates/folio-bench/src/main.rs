//! `folio-bench`: Folio's benchmarks, each printed next to a baseline
//! measured in the same run on the same machine.
//!
//! `folio-bench api` measures
//! - cold start: spawning `folio serve` on an empty data directory until the
//!   first 200 from `/api/health`, against spawning a bare axum server (this
//!   same binary's `baseline-server`) until its first 200;
//! - `GET /api/libraries/{id}` latency at a fixed request rate (open loop:
//!   latency counts from when the request was due, so a stalled server
//!   cannot hide queueing), against the same load on the bare server.
//!
//! `folio-bench sync` measures the sync targets against cloudsim, over
//! HTTPS and plain HTTP: full sync of 10,000 small files against a bare
//! concurrent HTTP client, full sync and no-change re-sync of 100,000
//! files (time, provider requests, Folio's peak RSS), and one 2 GiB file;
//! see `sync.rs` and the crate README.
//!
//! `folio-bench console` measures the web console's pages on a library of
//! 100,000 files beside the JSON API's files page (see `console.rs`).
//!
//! `folio-bench rclone` puts Folio beside rclone on the same HTTPS cloudsim
//! (see `rclone.rs`).
//!
//! Build the binaries first:
//! `cargo build --release -p folio -p folio-bench -p cloudsim`.

mod bare;
mod console;
mod folio;
mod load;
mod process;
mod rclone;
mod scrape;
mod sim;
mod sync;

use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "folio-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Cold start and GET /api/libraries/{id} latency under fixed-rate load.
    Api {
        /// Requests per second.
        #[arg(long, default_value_t = 1000)]
        rate: u32,
        /// Seconds of load per target.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Cold starts to time per target.
        #[arg(long, default_value_t = 5)]
        starts: u32,
    },
    /// Sync speed, provider requests and peak memory against cloudsim.
    Sync {
        /// Scenarios to run (comma-separated).
        #[arg(long, value_delimiter = ',', default_values = ["small", "many", "big"])]
        scenarios: Vec<sync::Scenario>,
        /// Files of the `small` scenario (full sync against a bare client).
        #[arg(long, default_value_t = 10_000)]
        small_files: u64,
        /// Files of the `many` scenario (full sync, then no-change re-sync).
        #[arg(long, default_value_t = 100_000)]
        files: u64,
        /// Bytes of each generated file of `small` and `many`.
        #[arg(long, default_value_t = 4096)]
        file_bytes: u64,
        /// Size of the `big` scenario's single file, MiB.
        #[arg(long, default_value_t = 2048)]
        big_mib: u64,
        /// The bare client's concurrency (Folio's default is 8).
        #[arg(long, default_value_t = sync::FOLIO_CONCURRENCY)]
        concurrency: usize,
        /// Interleaved rounds of the `small` scenario (bare client, then a
        /// fresh Folio); its figures are the medians.
        #[arg(long, default_value_t = 5)]
        rounds: u32,
        /// How cloudsim is reached (comma-separated); each scenario runs
        /// once per transport, and the HTTPS/HTTP ratio is printed.
        #[arg(long, value_delimiter = ',', default_values = ["https", "http"])]
        transports: Vec<sim::Transport>,
    },
    /// Folio against rclone on the same HTTPS cloudsim (Drive, real host
    /// names, in namespaces of its own; needs root and rclone).
    Rclone {
        /// Files of the full sync and its no-change re-sync.
        #[arg(long, default_value_t = 10_000)]
        small_files: u64,
        /// Files of the large no-change re-sync.
        #[arg(long, default_value_t = 100_000)]
        files: u64,
        /// Bytes of each generated file.
        #[arg(long, default_value_t = 4096)]
        file_bytes: u64,
        /// Full syncs per client of the small tree (median shown).
        #[arg(long, default_value_t = 3)]
        rounds: u32,
    },
    /// GET /metrics latency at a fixed rate, idle and during a large sync.
    Scrape {
        /// Scrapes per second.
        #[arg(long, default_value_t = 10)]
        rate: u32,
        /// Seconds of scraping, idle and then during the sync.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Files of the sync (it should outlast the scraping).
        #[arg(long, default_value_t = 100_000)]
        files: u64,
        /// Bytes of each generated file.
        #[arg(long, default_value_t = 4096)]
        file_bytes: u64,
        /// The route requested; `/healthz` gives the same server's
        /// latency without the scrape's own work, for comparison.
        #[arg(long, default_value = "/metrics")]
        path: String,
    },
    /// The console's pages (libraries, a library, its files) on a library
    /// of 100,000 synced files, under fixed-rate load, beside the API.
    Console {
        /// Files of the library (generated by cloudsim, synced once).
        #[arg(long, default_value_t = 100_000)]
        files: u64,
        /// Bytes of each generated file.
        #[arg(long, default_value_t = 256)]
        file_bytes: u64,
        /// Requests per second, per page.
        #[arg(long, default_value_t = 100)]
        rate: u32,
        /// Seconds of load per page.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// The deep page of the files list (reached by its cursor).
        #[arg(long, default_value_t = 250)]
        deep_page: u32,
    },
    /// A bare axum server answering a fixed JSON body: the baseline.
    BaselineServer,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    // The load generator keeps to one thread; the sync baseline (a bare
    // concurrent client) gets the default, as Folio's server does.
    if !matches!(
        cli.command,
        Command::Sync { .. } | Command::Rclone { .. } | Command::Scrape { .. }
    ) {
        builder.worker_threads(1);
    }
    let runtime = builder
        .enable_all()
        .build()
        .context("starting the runtime")?;
    match cli.command {
        Command::Api {
            rate,
            seconds,
            starts,
        } => runtime.block_on(api(rate, Duration::from_secs(seconds), starts)),
        Command::Sync {
            scenarios,
            small_files,
            files,
            file_bytes,
            big_mib,
            concurrency,
            rounds,
            transports,
        } => runtime.block_on(sync::run(sync::SyncArgs {
            scenarios,
            small_files,
            files,
            file_bytes,
            big_mib,
            concurrency,
            rounds,
            transports,
        })),
        Command::Rclone {
            small_files,
            files,
            file_bytes,
            rounds,
        } => runtime.block_on(rclone::run(rclone::RcloneArgs {
            small_files,
            files,
            file_bytes,
            rounds,
        })),
        Command::Scrape {
            rate,
            seconds,
            files,
            file_bytes,
            path,
        } => runtime.block_on(scrape::run(scrape::ScrapeArgs {
            rate,
            seconds,
            files,
            file_bytes,
            path,
        })),
        Command::Console {
            files,
            file_bytes,
            rate,
            seconds,
            deep_page,
        } => runtime.block_on(console::run(console::ConsoleArgs {
            files,
            file_bytes,
            rate,
            seconds,
            deep_page,
        })),
        Command::BaselineServer => runtime.block_on(process::baseline_server()),
    }
}

async fn api(rate: u32, duration: Duration, starts: u32) -> anyhow::Result<()> {
    println!(
        "# folio-bench api: rate {rate}/s for {}s, {starts} cold starts",
        duration.as_secs()
    );

    let folio_starts = process::time_cold_starts(process::Target::Folio, starts).await?;
    let baseline_starts = process::time_cold_starts(process::Target::Baseline, starts).await?;
    println!();
    println!("cold start to first 200 (ms)   median    min    max");
    print_starts("folio serve (empty data dir)", &folio_starts);
    print_starts("baseline: bare axum server", &baseline_starts);

    let folio = process::start(process::Target::Folio).await?;
    let (path, token) = process::prepare_library(&folio).await?;
    let folio_report = load::run(&folio.base_url, &path, Some(&token), rate, duration).await?;
    drop(folio);
    let baseline = process::start(process::Target::Baseline).await?;
    let baseline_report = load::run(&baseline.base_url, "/", None, rate, duration).await?;
    drop(baseline);

    println!();
    println!(
        "latency at {rate}/s (ms)              p50     p90     p99   p99.9     max   sent  errors"
    );
    folio_report.print("GET /api/libraries/{id} (SQLite)");
    baseline_report.print("baseline: bare axum GET /");
    Ok(())
}

fn print_starts(label: &str, samples: &[Duration]) {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let median = ms.get(ms.len() / 2).copied().unwrap_or_default();
    let min = ms.first().copied().unwrap_or_default();
    let max = ms.last().copied().unwrap_or_default();
    println!("{label:<30} {median:>7.1} {min:>6.1} {max:>6.1}");
}
