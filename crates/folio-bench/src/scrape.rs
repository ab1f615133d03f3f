//! The cost of a metrics scrape: `GET /metrics` latency at a fixed rate on
//! an idle Folio, then during a large Drive sync from cloudsim (the sync
//! adds to the counters the scrape encodes, and competes for the CPU).

use std::time::Duration;

use anyhow::Context;

use crate::folio::Folio;
use crate::load;
use crate::sim::{Sim, Transport};

pub struct ScrapeArgs {
    pub rate: u32,
    pub seconds: u64,
    pub files: u64,
    pub file_bytes: u64,
    /// What is requested: `/metrics`, or another open route to compare.
    pub path: String,
}

pub async fn run(args: ScrapeArgs) -> anyhow::Result<()> {
    println!(
        "# folio-bench scrape: GET {} at {}/s for {}s, idle then during a sync of {} files of {} bytes",
        args.path, args.rate, args.seconds, args.files, args.file_bytes
    );
    let sim = Sim::start(Transport::Http).await?;
    sim.generate("bench", args.files, args.file_bytes, 2)
        .await?;
    let token = sim.baseline_access_token().await?;
    sim.warm_md5s(&token).await?;
    let folio = Folio::start_connected(&sim).await?;
    let duration = Duration::from_secs(args.seconds);

    let idle = load::run(folio.base_url(), &args.path, None, args.rate, duration).await?;
    let scraping_during_sync = async {
        // Let the listing start and downloads get going first.
        tokio::time::sleep(Duration::from_secs(2)).await;
        load::run(folio.base_url(), &args.path, None, args.rate, duration).await
    };
    let (sync, busy) = tokio::join!(folio.sync(), scraping_during_sync);
    let sync = sync.context("the sync")?;
    let busy = busy?;
    let size = folio.metrics_size().await?;

    println!();
    println!(
        "latency at {}/s (ms)              p50     p90     p99   p99.9     max   sent  errors",
        args.rate
    );
    idle.print(&format!("GET {}, idle", args.path));
    busy.print(&format!("GET {}, during the sync", args.path));
    println!();
    println!(
        "the sync took {:.1} s (it outlasted the scrapes: {}); the last scrape was {size} bytes",
        sync.elapsed.as_secs_f64(),
        sync.elapsed > duration + Duration::from_secs(2)
    );
    println!("sync answer: {}", sync.result);
    Ok(())
}
