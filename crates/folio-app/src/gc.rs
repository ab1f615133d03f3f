//! Garbage collection of blob storage: bytes that no file uses any more, or
//! never came to use. A service that drops files collects their bytes at
//! once with [`collect_unused`]; `folio serve` runs [`spawn`] (a sweep at
//! start, then one every interval) for what that missed; tests call
//! [`sweep`] directly.
//!
//! A sweep first drops the staged files of purges no live run holds (see
//! `folio_store::purge`), then collects three kinds of leftovers, in this
//! order:
//!
//! 1. **Blob rows no file uses** (files deleted, then a crash before their
//!    blobs were collected): removed with their bytes at once, through
//!    [`Store::remove_blob_if_orphan`]. A blob row is written in the same
//!    transaction as the file that uses it, so an unused committed row is
//!    never a commit in progress: no grace period is needed.
//! 2. **Staging objects** not written for the grace period: uploads cut off
//!    by a kill ([`BlobStore::remove_stale_staging`]). A live upload writes
//!    its staging object as the bytes arrive, so it stays young.
//! 3. **Blob files no blob row names**, last written longer ago than the
//!    grace period: bytes a killed or failed sync stored for a page it never
//!    committed (useless once the remote file changes). The storage is
//!    listed as a stream ([`BlobStore::list_blobs`]), a page at a time, and
//!    the database asked which hashes of the page it knows.
//!
//! Why the grace period: a sync stores a page's blobs first and commits the
//! page (its blob rows and file rows) once every download of the page is
//! done, so a blob waits for its row at most as long as its page's downloads
//! take. The grace period (default 6 hours) must exceed that, and also the
//! longest single upload. A put of bytes that are already stored writes them
//! again, so the period counts from the blob's latest put.
//!
//! Why a commit cannot lose a blob to the sweep: each blob file is deleted
//! through [`Store::remove_unrecorded_blob`], which claims the hash under the
//! database's write lock, and, holding the claim,
//! [`BlobStore::delete_if_written_before`] reads the blob's age again. A
//! commit (`Store::apply_sync_batch`, `Store::put_file`) inserts its blob
//! rows first and checks that their blobs are still stored last, under the
//! same lock, before committing: either the sweep waits and then finds the
//! row, or the commit waits and then fails with `BlobVanished` (the sync
//! reports the page failed and the next sync downloads it again) instead of
//! pointing a file at missing bytes.
//!
//! What a sync downloads again while the sweep runs (bytes equal to an old
//! orphan's) is kept on Fs: the sweep moves the blob aside atomically before
//! reading its age and puts it back if a put just rewrote it. S3 cannot move
//! atomically: a put of the same bytes landing between the sweep's age
//! check and its delete is lost, and the commit that would adopt it fails
//! with `BlobVanished` as above (a rare, retried failure, never a file
//! without bytes).
//!
//! Several replicas may sweep the same storage at once: every deletion goes
//! through those checks.

use std::time::{Duration, SystemTime};

use anyhow::Context;
use folio_blobs::{BlobInfo, BlobStore};
use folio_store::Store;
use futures::TryStreamExt;
use tokio::task::JoinHandle;

use crate::App;

/// The default for how long a blob no file uses is left alone.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(6 * 3600);

/// Blobs listed per database question during the blob file step.
const LISTING_PAGE: usize = 500;
/// Unused blob rows fetched per round during the blob row step.
const ROWS_PER_ROUND: u32 = 500;

/// Deletes each blob no file uses any more. Failures are logged, not
/// returned: the caller's change is already committed, and the next sweep
/// collects what is left.
pub async fn collect_unused(app: &App, hashes: Vec<String>) {
    for hash in hashes {
        if let Err(err) = remove_unused_row(&app.store, &app.blobs, &hash).await {
            tracing::warn!(
                hash,
                error = format!("{err:#}"),
                "could not collect an unused blob; the next sweep will"
            );
        }
    }
}

/// When [`spawn`] sweeps, and what it spares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GcConfig {
    /// Blobs not in any row and staging objects younger than this are kept.
    pub grace: Duration,
    /// Time between two sweeps after the one at start; `None` sweeps once.
    pub interval: Option<Duration>,
}

impl Default for GcConfig {
    fn default() -> Self {
        GcConfig {
            grace: DEFAULT_GRACE,
            interval: Some(Duration::from_secs(3600)),
        }
    }
}

/// What one sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// Blob rows no file used, removed with their bytes.
    pub unused_rows: u64,
    /// Staging objects older than the grace period.
    pub stale_staging: u64,
    /// Blob files no row named, older than the grace period.
    pub orphan_blobs: u64,
    /// Blobs found in storage.
    pub listed_blobs: u64,
    /// Blobs the sweep failed to remove (logged; the next sweep retries).
    pub failed: u64,
}

/// Starts sweeping in the background: once now, then every
/// `config.interval`. A failed sweep is logged and does not stop the next.
pub fn spawn(store: Store, blobs: BlobStore, config: GcConfig) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            sweep_and_log(&store, &blobs, config.grace).await;
            let Some(interval) = config.interval else {
                return;
            };
            tokio::time::sleep(interval).await;
        }
    })
}

async fn sweep_and_log(store: &Store, blobs: &BlobStore, grace: Duration) {
    let started = std::time::Instant::now();
    match sweep(store, blobs, grace).await {
        Ok(report) => tracing::info!(
            unused_rows = report.unused_rows,
            stale_staging = report.stale_staging,
            orphan_blobs = report.orphan_blobs,
            listed_blobs = report.listed_blobs,
            failed = report.failed,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "storage sweep finished"
        ),
        Err(err) => tracing::warn!(error = format!("{err:#}"), "storage sweep failed"),
    }
}

/// Sweeps once (see the module docs): unused blob rows, then staging
/// objects and blob files no row names that were last written more than
/// `grace` ago.
///
/// # Errors
///
/// When the database or the storage listing fails; what was removed until
/// then stays removed. A single blob that cannot be removed is only counted
/// in [`SweepReport::failed`] and logged.
pub async fn sweep(
    store: &Store,
    blobs: &BlobStore,
    grace: Duration,
) -> anyhow::Result<SweepReport> {
    let mut report = SweepReport::default();
    // Purges no live run holds any more (killed, cancelled) leave staged
    // files: dropped first, so the blobs only they used are collected next.
    let now_ms = chrono::Utc::now().timestamp_millis();
    store
        .drop_abandoned_purges(now_ms)
        .await
        .context("dropping abandoned purges")?;
    collect_unused_rows(store, blobs, &mut report).await?;
    report.stale_staging = blobs
        .remove_stale_staging(grace)
        .await
        .context("removing stale staging")?;
    collect_orphan_blobs(store, blobs, cutoff(grace), &mut report).await?;
    Ok(report)
}

/// The modification time before which a blob or upload is old enough.
fn cutoff(grace: Duration) -> SystemTime {
    SystemTime::now()
        .checked_sub(grace)
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Removes blob rows no file uses, with their bytes, a round at a time, until
/// none is left or a round removes nothing (every one left failed).
async fn collect_unused_rows(
    store: &Store,
    blobs: &BlobStore,
    report: &mut SweepReport,
) -> anyhow::Result<()> {
    loop {
        let hashes = store
            .orphan_blob_hashes(ROWS_PER_ROUND)
            .await
            .context("listing blob rows no file uses")?;
        let mut removed = 0;
        for hash in &hashes {
            match remove_unused_row(store, blobs, hash).await {
                Ok(true) => removed += 1,
                Ok(false) => {}
                Err(err) => {
                    report.failed += 1;
                    tracing::warn!(
                        hash,
                        error = format!("{err:#}"),
                        "could not collect an unused blob"
                    );
                }
            }
        }
        report.unused_rows += removed;
        if removed == 0 || hashes.len() < ROWS_PER_ROUND as usize {
            return Ok(());
        }
    }
}

async fn remove_unused_row(store: &Store, blobs: &BlobStore, hash: &str) -> anyhow::Result<bool> {
    let target = hash.to_owned();
    let removed = store
        .remove_blob_if_orphan(hash, || async move {
            blobs.delete(&target).await.map_err(|e| e.to_string())
        })
        .await?;
    Ok(removed)
}

/// Removes the blob files no row names that are older than `cutoff`,
/// listing storage a page at a time.
async fn collect_orphan_blobs(
    store: &Store,
    blobs: &BlobStore,
    cutoff: SystemTime,
    report: &mut SweepReport,
) -> anyhow::Result<()> {
    let mut pages = blobs.list_blobs().try_chunks(LISTING_PAGE);
    while let Some(page) = pages
        .try_next()
        .await
        .map_err(|e| e.1)
        .context("listing blob storage")?
    {
        report.listed_blobs += page.len() as u64;
        let old: Vec<String> = page
            .into_iter()
            .filter(|blob| written_before(blob, cutoff))
            .map(|blob| blob.hash)
            .collect();
        if old.is_empty() {
            continue;
        }
        let recorded = store
            .recorded_blob_hashes(&old)
            .await
            .context("looking up blob rows")?;
        for hash in old.iter().filter(|hash| !recorded.contains(*hash)) {
            match remove_orphan_blob(store, blobs, hash, cutoff).await {
                Ok(true) => report.orphan_blobs += 1,
                Ok(false) => {}
                Err(err) => {
                    report.failed += 1;
                    tracing::warn!(
                        hash,
                        error = format!("{err:#}"),
                        "could not remove an orphan blob"
                    );
                }
            }
        }
    }
    Ok(())
}

/// Deletes `hash` if, under the database's write lock, no row names it and
/// it is still older than `cutoff` (a put may have written it again since
/// it was listed).
async fn remove_orphan_blob(
    store: &Store,
    blobs: &BlobStore,
    hash: &str,
    cutoff: SystemTime,
) -> anyhow::Result<bool> {
    let target = hash.to_owned();
    let removed = store
        .remove_unrecorded_blob(hash, || async move {
            blobs
                .delete_if_written_before(&target, cutoff)
                .await
                .map_err(|e| e.to_string())
        })
        .await?;
    if removed {
        tracing::debug!(hash, "removed a blob no file uses");
    }
    Ok(removed)
}

/// True if the blob was last written before `cutoff`. A blob whose backend
/// gives no time is kept: its age cannot be told.
fn written_before(blob: &BlobInfo, cutoff: SystemTime) -> bool {
    blob.modified.is_some_and(|modified| modified <= cutoff)
}
