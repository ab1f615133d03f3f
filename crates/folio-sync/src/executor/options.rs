//! How a sync runs: [`SyncOptions`].

use std::time::Duration;

/// How a sync runs.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Drop every file and all sync state first, then list from scratch.
    pub purge: bool,
    /// Reconcile: list everything from scratch even with a usable cursor,
    /// compare by remote id and hash (downloading only what differs) and
    /// delete what is gone, catching what a change feed missed.
    pub full_listing: bool,
    /// Allow a full listing to delete more than `max_delete_share`.
    pub confirm_deletes: bool,
    /// Downloads in flight at once.
    pub download_concurrency: usize,
    /// Extra attempts after a download whose bytes do not match the hash,
    /// or whose body broke off after it started.
    pub hash_retries: u32,
    /// Largest share of a non-empty library a full listing may delete
    /// without confirmation.
    pub max_delete_share: f64,
    /// A file whose download failed on its own (refused, hash never
    /// matching) is tried again by an incremental sync once its last try
    /// is this old; `None`: only when the provider reports it changed, or
    /// by a full listing. Default one hour.
    pub retry_failed_after: Option<std::time::Duration>,
    /// Rows (files, items, moves, deletes) gathered from consecutive pages
    /// before they are committed together; default 8,000, about four pages
    /// of a full listing. A commit rewrites every index page it touches,
    /// and the ids and hashes the indexes are keyed by are random, so a
    /// page of a thousand files touches most of them: one commit per page
    /// made SQLite rewrite the same pages again and again (and flush the
    /// blob storage once per page). A crash loses at most these pages'
    /// progress: the next sync fetches their files again. A page that
    /// deletes or moves starts a batch of its own (see
    /// [`folio_store::sync::SyncBatch::can_absorb`]).
    pub commit_rows: usize,
    /// Work is committed at least this often (default 3 s): what is
    /// gathered, and the downloads a page that only adds files finished so
    /// far. A sync stopped in any way keeps what it verified before its
    /// last commit.
    pub commit_interval: Duration,
    /// Downloads failing in a row, after their retries, after which the
    /// provider is taken to be failing as a whole (default 16): the run's
    /// downloads not started yet are not tried, each reported as a
    /// per-file error and tried again by the next sync.
    pub failing_in_a_row: usize,
    /// List and plan only: report what a sync would add, update, move and
    /// delete, downloading nothing and changing no file, cursor or storage.
    pub dry_run: bool,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            purge: false,
            full_listing: false,
            confirm_deletes: false,
            download_concurrency: 8,
            hash_retries: 2,
            max_delete_share: 0.5,
            retry_failed_after: Some(std::time::Duration::from_secs(3600)),
            commit_rows: 8_000,
            commit_interval: Duration::from_secs(3),
            failing_in_a_row: 16,
            dry_run: false,
        }
    }
}
