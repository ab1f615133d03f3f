//! The executor: runs one sync of one library as a loop of bounded steps
//! (docs/sync.md): fetch a page of changes, plan it, download what the plan
//! needs (bounded concurrency, streamed into blob storage, verified against
//! the provider hash), then commit the page's file and item changes together
//! with the cursor in one transaction.
//!
//! The steps overlap: while a page downloads, the commit of earlier pages
//! (its flush to stable storage, then its transaction) and the listing of
//! the next page run too, and the next page is planned and its downloads
//! queued behind this page's, so downloads flow from page to page while a
//! page's bookkeeping runs. Until a page ends, the files it downloads carry
//! [`Content::Pending`](crate::planner::Content) in the tree (see `page.rs`), and the rows it
//! writes are those the tree held when it was planned. Consecutive pages
//! that only add or replace rows are gathered into one commit of a few
//! thousand rows ([`SyncOptions::commit_rows`]), which spares SQLite
//! rewriting the same index pages for every page.
//! Commits still happen one after another, in page order, so the cursor
//! never moves past a page that is not stored, and none follows a failed
//! one; bytes that commits release are removed from storage only when no
//! download is waiting for its commit (the same bytes may be among them).
//!
//! Work is also committed by time: what is gathered is committed once
//! [`SyncOptions::commit_interval`] has passed since the last commit, and a
//! page that only adds or replaces files commits the downloads it finished
//! so far at that interval too, without its cursor (the next sync reads
//! the page again and finds those files stored). So a sync that fails, is
//! cancelled or killed keeps what it verified up to a few seconds before.
//!
//! One file that keeps failing does not fail the sync: a download that
//! still fails after its retries (5xx, 429, timeouts, cut connections, a
//! hash never matching) becomes a per-file error, like a refusal, and the
//! next syncs try it again. The sync stops only when it cannot go on: the
//! listing fails, the connection needs a user, or storage fails. Once
//! [`SyncOptions::failing_in_a_row`] downloads in a row failed (the
//! provider as a whole is failing), the run's remaining downloads are not
//! tried: each is a per-file error, and the next sync tries them again.
//!
//! A full listing (first sync, purge, cursor rejected) marks every item it
//! sees; only once it is complete are the unseen items deleted (mark and
//! sweep), and not at all when that would remove more than half of a
//! non-empty library without `confirm_deletes`: the run is then held, and
//! the next sync lists again.
//!
//! A purge lists from scratch into a staging area (`Space::Purge`) while
//! the library keeps its files, and switches the new set in with one
//! transaction once the listing is complete (see `folio_store::purge`).
//! A dry run ([`SyncOptions::dry_run`]) lists and plans only (see
//! [`Executor::dry_run`]).
//!
//! Reading order, one concern a file: [`options`] and [`outcome`] (what a
//! run is asked and what it reports), [`walk`] (the run: where it starts,
//! the loop over listing pages), [`page`] (one page: planned, its
//! downloads launched, then ended and queued for a commit), [`fetch`] (one
//! file's verified download) and [`downloads`] (a page's downloads as
//! tasks, the slots and the breaker they share), [`batch`] (a page's rows
//! as one `SyncBatch`, and its commit), [`pipeline`] (commits in page
//! order while later pages download), [`sweep`] (the end of a full
//! listing: deletions, held or not, or a purge's switch), [`retries`]
//! (unfetched files tried again), [`release`] (bytes no file uses
//! removed), [`rows`] (the tree loaded from the store, and the
//! conversions between rows and nodes), and [`dry_run`].

mod batch;
mod downloads;
mod dry_run;
mod fetch;
mod options;
mod outcome;
mod page;
mod pipeline;
mod release;
mod retries;
mod rows;
mod sweep;
mod walk;

use std::sync::Arc;
use std::time::Duration;

use folio_blobs::BlobStore;
use folio_connectors::Connector;
use folio_store::Store;
use folio_store::sync::{Fence, RunProgress};
use uuid::Uuid;

pub use options::SyncOptions;
pub use outcome::{DRY_RUN_LISTED, DryRunPlan, FileError, PlannedChange, SyncError, SyncOutcome};

/// The lease a run holds on its library: every commit renews it and fails
/// when another run took the library over (see `folio_store::sync::Fence`).
#[derive(Debug, Clone)]
pub struct LeaseHold {
    pub run_id: Uuid,
    pub owner: String,
    pub lease: Duration,
}

impl LeaseHold {
    fn fence(&self) -> Fence {
        let lease = i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX / 2);
        Fence {
            run_id: self.run_id,
            owner: self.owner.clone(),
            lease_until_ms: chrono::Utc::now().timestamp_millis() + lease,
        }
    }
}

/// Everything a run needs.
pub struct Executor<'a> {
    pub store: &'a Store,
    pub blobs: &'a BlobStore,
    /// Shared with the download tasks (see [`downloads::Downloads`]).
    pub connector: Arc<dyn Connector>,
    pub library_id: Uuid,
    pub options: SyncOptions,
    /// Where live progress goes (phase, done/total, bytes, current file).
    pub progress: Option<&'a tokio::sync::watch::Sender<RunProgress>>,
    /// The run's lease, renewed and checked by every commit; `None` for a
    /// sync outside a run (tests).
    pub lease: Option<LeaseHold>,
}

impl Executor<'_> {
    /// Updates the live progress, if anyone watches.
    fn report(&self, change: impl FnOnce(&mut RunProgress)) {
        if let Some(progress) = self.progress {
            progress.send_modify(change);
        }
    }

    /// Copies the counts so far into the live progress.
    fn report_counts(&self, outcome: &SyncOutcome) {
        self.report(|p| {
            p.added = outcome.added_files;
            p.updated = outcome.updated_files;
            p.deleted = outcome.deleted_files;
            p.moved = outcome.moved_files;
            p.failed = outcome.errors.len() as i64;
        });
    }
}

#[cfg(test)]
mod pipeline_tests;
