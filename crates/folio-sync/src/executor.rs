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
//! a pending marker in the tree (see [`pending_hash`]), and the rows it
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

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use foldhash::{HashMap, HashMapExt};

use folio_blobs::BlobStore;
use folio_connectors::{
    ChangePage, Connector, ConnectorError, Cursor, PageState, RemoteChange, RemoteItem,
};
use folio_store::sync::{
    CursorRow, FETCH_REFUSED, FETCH_TEMPORARY, Fence, RemoteItemRow, RunProgress, Space, SyncBatch,
};
use folio_store::{FileRecord, Store};
use futures::future::{BoxFuture, Either};
use futures::{StreamExt, TryStreamExt};
use tokio::time::Instant;
use uuid::Uuid;

use crate::planner::{FetchFailure, FileAction, Node, Plan, Tree, TreeRules, plan_page};

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
    /// [`SyncBatch::can_absorb`]).
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

/// A per-file failure that did not stop the sync.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileError {
    pub path: String,
    pub remote_id: String,
    pub message: String,
}

/// What a sync did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncOutcome {
    pub synced_files: i64,
    pub added_files: i64,
    pub updated_files: i64,
    pub deleted_files: i64,
    /// Files moved or renamed with their bytes unchanged.
    pub moved_files: i64,
    pub errors: Vec<FileError>,
    /// Set when a full listing's deletions were held back, saying why.
    pub held: Option<String>,
    /// A dry run's planned changes.
    pub plan: Option<DryRunPlan>,
}

/// What a dry run found to do: the first [`DRY_RUN_LISTED`] changes in the
/// order a sync would make them, and how many there are in all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DryRunPlan {
    pub changes: Vec<PlannedChange>,
    pub total: usize,
}

/// Planned changes a dry run lists at most.
pub const DRY_RUN_LISTED: usize = 1000;

/// One change a dry run found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedChange {
    /// `add`, `update`, `move` or `delete`.
    pub action: &'static str,
    /// The library path it ends at (for a delete: the path removed).
    pub path: String,
    /// The path a moved (or moved and changed) file leaves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_path: Option<String>,
    pub remote_id: String,
    /// The provider's size of a file to download, when it gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

/// Why a sync stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("provider: {0}")]
    Provider(#[from] ConnectorError),
    #[error("store: {0}")]
    Store(#[from] folio_store::StoreError),
    #[error("blob storage: {0}")]
    Blobs(#[from] folio_blobs::BlobError),
}

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
    /// Shared with the download tasks (see [`Downloads`]).
    pub connector: Arc<dyn Connector>,
    pub library_id: Uuid,
    pub options: SyncOptions,
    /// Where live progress goes (phase, done/total, bytes, current file).
    pub progress: Option<&'a tokio::sync::watch::Sender<RunProgress>>,
    /// The run's lease, renewed and checked by every commit; `None` for a
    /// sync outside a run (tests).
    pub lease: Option<LeaseHold>,
}

/// Where a full listing stands.
struct Listing {
    id: Uuid,
}

/// A commit of one or more pages, running while later pages download; it
/// yields the hashes the pages' files stopped using.
type Commit<'a> = BoxFuture<'a, Result<Vec<String>, SyncError>>;

/// What is in flight between pages: the commit running (one at a time, so
/// commits happen in page order), the pages downloaded but not yet
/// committing (gathered into one batch while each only adds rows, see
/// [`SyncBatch::can_absorb`]), and the hashes that commits (and failed
/// downloads) let go of. Those are removed from storage only when no
/// download is waiting for its commit: such a download may hold the same
/// bytes, which no file points at yet.
///
/// Commits are started through a function (the executor's commit), so
/// the pipeline's bookkeeping can be tested on its own.
struct Pipeline<'a> {
    committing: Option<Commit<'a>>,
    gathered: Option<SyncBatch>,
    released: Vec<String>,
    /// Rows gathered before they are committed ([`SyncOptions::commit_rows`]).
    commit_rows: usize,
    /// What is gathered is committed once this long has passed since the
    /// last commit started ([`SyncOptions::commit_interval`]); `None`: by
    /// size only.
    commit_interval: Option<Duration>,
    last_commit: Instant,
}

impl<'s> Pipeline<'s> {
    fn new(commit_rows: usize) -> Self {
        Self {
            committing: None,
            gathered: None,
            released: Vec::new(),
            commit_rows,
            commit_interval: None,
            last_commit: Instant::now(),
        }
    }

    fn with_commit_interval(mut self, interval: Duration) -> Self {
        self.commit_interval = Some(interval);
        self
    }

    /// When the next commit is due by time, if commits are timed.
    fn commit_due_at(&self) -> Option<Instant> {
        self.commit_interval.map(|i| self.last_commit + i)
    }

    fn commit_is_due(&self) -> bool {
        self.commit_due_at().is_some_and(|at| at <= Instant::now())
    }

    /// Commits everything: waits for the commit in flight, then commits
    /// what is gathered.
    async fn settle(&mut self, commit: impl Fn(SyncBatch) -> Commit<'s>) -> Result<(), SyncError> {
        self.settle_in_flight().await?;
        if let Some(batch) = self.gathered.take() {
            self.last_commit = Instant::now();
            self.committing = Some(commit(batch));
            self.settle_in_flight().await?;
        }
        Ok(())
    }

    /// Waits for the commit in flight, if any.
    async fn settle_in_flight(&mut self) -> Result<(), SyncError> {
        match self.committing.take() {
            Some(commit) => {
                let committed = commit.await;
                self.committed(committed)
            }
            None => Ok(()),
        }
    }

    /// Takes in a commit's outcome. After a failed commit, the pages
    /// gathered since are dropped, their bytes released: committing them
    /// would move the cursor past the pages that failed.
    fn committed(&mut self, committed: Result<Vec<String>, SyncError>) -> Result<(), SyncError> {
        match committed {
            Ok(released) => {
                self.released.extend(released);
                Ok(())
            }
            Err(err) => {
                if let Some(batch) = self.gathered.take() {
                    self.abandon(batch);
                }
                Err(err)
            }
        }
    }

    /// Runs `work` while driving the commit in flight. A commit that
    /// outlasts `work` stays in flight (a commit of several pages may take
    /// longer than one page's downloads); one that ended gives its outcome.
    async fn alongside<T>(&mut self, work: impl Future<Output = T>) -> (Result<(), SyncError>, T) {
        let Some(commit) = self.committing.take() else {
            return (Ok(()), work.await);
        };
        let work = std::pin::pin!(work);
        match futures::future::select(commit, work).await {
            Either::Left((committed, work)) => {
                let settled = self.committed(committed);
                (settled, work.await)
            }
            Either::Right((output, commit)) => {
                self.committing = Some(commit);
                (Ok(()), output)
            }
        }
    }

    /// Queues a page's batch: gathered with the pages before it when it
    /// only adds rows, committed once `commit_rows` rows are gathered or a
    /// commit is due by time.
    async fn enqueue(
        &mut self,
        batch: SyncBatch,
        commit: impl Fn(SyncBatch) -> Commit<'s>,
    ) -> Result<(), SyncError> {
        let batch = match self.gathered.take() {
            None => batch,
            Some(mut gathered) if gathered.can_absorb(&batch) => {
                gathered.absorb(batch);
                gathered
            }
            Some(gathered) => {
                if let Err(err) = self.start(gathered, &commit).await {
                    self.abandon(batch);
                    return Err(err);
                }
                batch
            }
        };
        if batch.rows() >= self.commit_rows || self.commit_is_due() {
            self.start(batch, &commit).await
        } else {
            self.gathered = Some(batch);
            Ok(())
        }
    }

    /// Starts committing `batch` once the commit in flight has ended.
    async fn start(
        &mut self,
        batch: SyncBatch,
        commit: &impl Fn(SyncBatch) -> Commit<'s>,
    ) -> Result<(), SyncError> {
        if let Err(err) = self.settle_in_flight().await {
            self.abandon(batch);
            return Err(err);
        }
        self.last_commit = Instant::now();
        self.committing = Some(commit(batch));
        Ok(())
    }

    /// Releases the bytes of a batch that will not be committed.
    fn abandon(&mut self, batch: SyncBatch) {
        self.released
            .extend(batch.file_puts.into_iter().map(|file| file.hash));
    }
}

/// Files whose download failed on their own tried again per run, at most.
const RETRIES_AT_MOST: u32 = 1000;

/// A listing page fetched ahead, while the page before it downloaded.
type Prefetched = Option<Result<ChangePage, ConnectorError>>;

/// Released hashes are removed once this many have gathered (draining the
/// pipeline for it), and in any case at the end of the run.
const RELEASE_AT: usize = 1000;

/// What a run carries from page to page.
struct Walk<'s> {
    /// The library's tree, loaded when a page first has changes: a re-sync
    /// with no remote change reads nothing of the library's (possibly
    /// large) tree.
    tree: Option<Tree>,
    outcome: SyncOutcome,
    pipeline: Pipeline<'s>,
    /// The page planned whose downloads run while the page before it
    /// ends; only an error leaves one when the walk stops.
    in_flight: Option<InFlight>,
    /// Downloads running at once, across pages (`download_concurrency`),
    /// and whose turn it is to launch them.
    slots: Slots,
    /// The number of the last page launched.
    launched: u64,
    /// Downloads that failed in a row, after their retries, for a passing
    /// reason (see [`SyncOptions::failing_in_a_row`]).
    failing: usize,
}

/// A page planned, its downloads running as tasks.
struct InFlight {
    seq: u64,
    plan: Plan,
    /// The item rows the page writes, as the tree held them once the page
    /// was planned (the next page is planned before this one ends), with
    /// the listing's mark; its downloads' hashes are filled in as they end.
    rows: Vec<Node>,
    cursor: Option<CursorRow>,
    downloads: Downloads,
}

/// The content hash a file's node carries in the tree while the page `seq`
/// downloads it. The next page is planned meanwhile and takes the file for
/// stored: a rename or a folder move of it plans a move, which commits
/// after its put, since commits keep page order (and is a no-op if the
/// download failed). The download's end puts the stored hash in its place,
/// or none. Never stored: it starts with a control character, no hash does.
fn pending_hash(seq: u64) -> String {
    format!("\u{0}downloading in page {seq}")
}

fn is_pending(hash: &str) -> bool {
    hash.starts_with('\u{0}')
}

/// True when a page only adds or replaces files in place: no move, no
/// delete, no item removed, no file changing path. The downloads such a
/// page finished can be committed before the rest, without its cursor:
/// each put lands on a path no other file of the library is leaving.
fn only_adds(plan: &Plan) -> bool {
    plan.removed_ids.is_empty()
        && plan.actions.iter().all(|action| match action {
            FileAction::Download { path, replaces, .. } => {
                replaces.as_ref().is_none_or(|old| old == path)
            }
            FileAction::Move { .. } | FileAction::Delete { .. } => false,
        })
}

/// Downloads ended since a page's last commit, as [`Executor::collect`]
/// gathers them.
#[derive(Default)]
struct Round {
    fetched: Fetched,
    /// Copies stored then let go of (they failed the hash check).
    discarded: Vec<String>,
    /// Why the sync must stop, if it must.
    stop: Option<SyncError>,
    /// Every download of the page has ended.
    finished: bool,
}

impl Round {
    /// The hashes its fetched files stored, for release when the round is
    /// not committed.
    fn stored(&self) -> impl Iterator<Item = String> + '_ {
        self.fetched
            .values()
            .filter_map(|r| r.as_ref().ok().map(|(hash, _)| hash.clone()))
    }
}

impl Executor<'_> {
    /// Runs the sync to its end (a dry run: see [`Executor::dry_run`]).
    pub async fn run(&self) -> Result<SyncOutcome, SyncError> {
        if self.options.dry_run {
            return self.dry_run().await;
        }
        // What an earlier purge of the library left staged (it was killed
        // or cancelled) goes: this run holds the library now.
        let leftovers = self.store.clear_purge(self.library_id).await?;
        if !leftovers.is_empty() {
            self.release(&leftovers).await?;
        }
        let mut pipeline = Pipeline::new(self.options.commit_rows.max(1));
        if !self.options.commit_interval.is_zero() {
            pipeline = pipeline.with_commit_interval(self.options.commit_interval);
        }
        let mut walk = Walk {
            tree: None,
            outcome: SyncOutcome::default(),
            pipeline,
            in_flight: None,
            slots: Slots {
                permits: Arc::new(tokio::sync::Semaphore::new(
                    self.options.download_concurrency.max(1),
                )),
                turn: Arc::new(tokio::sync::Mutex::new(())),
                breaker: Arc::default(),
            },
            launched: 0,
            failing: 0,
        };
        let paged = self.pages(&mut walk).await;
        if let Some(page) = walk.in_flight.take() {
            // Nothing of a page left running is committed (the pages
            // before it stopped): what it stored goes.
            let abandoned = abandon(page.downloads).await;
            walk.pipeline.released.extend(abandoned);
        }
        // Whatever stopped the pages, the pages gathered or committing
        // meanwhile are kept (if they commit), like every page before them;
        // after a failed commit nothing was left gathered.
        let settled = walk.pipeline.settle(|b| self.commit(b)).await;
        let lease_lost = [paged.as_ref().err(), settled.as_ref().err()]
            .into_iter()
            .flatten()
            .any(|e| matches!(e, SyncError::Store(folio_store::StoreError::LeaseLost)));
        // A purge that failed leaves the library as it was. Not when its
        // lease was lost: the staging then belongs to the run that holds
        // the library now.
        if self.options.purge && (paged.is_err() || settled.is_err()) && !lease_lost {
            let staged = self.store.clear_purge(self.library_id).await?;
            walk.pipeline.released.extend(staged);
        }
        self.release_written(&walk.pipeline.released).await?;
        paged?;
        settled?;
        let mut outcome = walk.outcome;
        outcome.synced_files = self.store.count_files(self.library_id).await?;
        Ok(outcome)
    }

    /// Where a run starts: the stored cursor, or a new full listing.
    async fn starting_point(&self) -> Result<(Option<Cursor>, Option<Listing>), SyncError> {
        let stored = if self.options.full_listing || self.options.purge {
            None
        } else {
            self.store.get_sync_cursor(self.library_id).await?
        };
        Ok(match stored {
            Some(row) if row.complete && !row.cursor.is_empty() => (Some(Cursor(row.cursor)), None),
            // An interrupted full listing starts over (new listing, fresh
            // start token) instead of resuming from its page token: page
            // tokens can be positional, so items deleted or moved since
            // would shift unchanged ones past the token, lost for good (the
            // change feed never reports them). Files already stored are not
            // downloaded again. tests/it/crash.rs in crates/folio shows it.
            _ => (None, Some(Listing { id: Uuid::new_v4() })),
        })
    }

    /// Lists, plans, downloads and commits page after page, then sweeps
    /// after a full listing. Each page is planned and its downloads start
    /// while the page before it still downloads; that page then ends (its
    /// changes queued for a commit) while this one downloads, so downloads
    /// never wait for the bookkeeping between pages.
    async fn pages<'s>(&'s self, walk: &mut Walk<'s>) -> Result<(), SyncError> {
        let (mut cursor, mut listing) = self.starting_point().await?;
        let mut prefetched: Prefetched = None;
        loop {
            if walk.pipeline.released.len() >= RELEASE_AT {
                self.release_now(walk).await?;
            }
            let page = match prefetched.take() {
                Some(page) => page,
                None => {
                    self.report(|p| p.phase = "listing".into());
                    self.connector.list_changes(cursor.clone()).await
                }
            };
            let page = match page {
                Ok(page) => page,
                Err(ConnectorError::CursorExpired(_)) if cursor.is_some() => {
                    tracing::info!(library = %self.library_id, "cursor rejected: full listing");
                    cursor = None;
                    listing = Some(Listing { id: Uuid::new_v4() });
                    continue;
                }
                Err(err) => {
                    // The page downloading is whole: it is kept, like
                    // every page before it.
                    self.end_in_flight(walk).await?;
                    return Err(err.into());
                }
            };
            let ChangePage { changes, next } = page;
            let listing_id = listing.as_ref().map(|l| l.id);
            let (cursor_row, done) = match &next {
                PageState::More(c) => (cursor_row(c, false, listing_id), false),
                PageState::Done(c) => (cursor_row(c, true, listing_id), true),
            };
            // A full listing's final cursor is stored with its sweep (or
            // its purge's switch); a purge's pages store none.
            let page_cursor = if done && listing.is_some() || self.options.purge {
                None
            } else {
                Some(cursor_row)
            };
            let launched = self.launch(walk, &changes, listing_id, page_cursor).await?;
            let previous = walk.in_flight.replace(launched);
            let prefetch = async {
                match &next {
                    PageState::More(c) => Some(self.connector.list_changes(Some(c.clone())).await),
                    PageState::Done(_) => None,
                }
            };
            prefetched = match previous {
                Some(page) => self.end(walk, page, prefetch).await?,
                None => {
                    let (settled, listed) = walk.pipeline.alongside(prefetch).await;
                    settled?;
                    listed
                }
            };
            match next {
                PageState::More(c) => cursor = Some(c),
                PageState::Done(c) => {
                    match listing.take() {
                        Some(done_listing) => {
                            self.report(|p| p.total_known = true);
                            self.end_in_flight(walk).await?;
                            if self.options.purge {
                                self.switch_purge(walk, done_listing, c).await?;
                            } else {
                                self.sweep(walk, done_listing, c).await?;
                            }
                        }
                        // A full listing has just tried every file.
                        None => {
                            let due = self.due_retries(&mut walk.tree).await?;
                            self.report(|p| {
                                p.total += due.len() as i64;
                                p.total_known = true;
                            });
                            self.end_in_flight(walk).await?;
                            self.retry_unfetched(walk, due).await?;
                        }
                    }
                    return Ok(());
                }
            }
        }
    }

    /// Removes the bytes released so far, once no download runs (one may
    /// be storing the same bytes) and everything before is committed.
    async fn release_now<'s>(&'s self, walk: &mut Walk<'s>) -> Result<(), SyncError> {
        self.end_in_flight(walk).await?;
        walk.pipeline.settle(|b| self.commit(b)).await?;
        self.release_written(&std::mem::take(&mut walk.pipeline.released))
            .await
    }

    /// Ends the page downloading, if any.
    async fn end_in_flight<'s>(&'s self, walk: &mut Walk<'s>) -> Result<(), SyncError> {
        match walk.in_flight.take() {
            Some(page) => self.end(walk, page, async {}).await,
            None => Ok(()),
        }
    }

    /// The end of a purge's complete listing: everything staged is
    /// committed, then switched in place of the library's files, item tree
    /// and cursor in one transaction.
    async fn switch_purge<'s>(
        &'s self,
        walk: &mut Walk<'s>,
        listing: Listing,
        cursor: Cursor,
    ) -> Result<(), SyncError> {
        self.report(|p| p.phase = "switching".into());
        walk.pipeline.settle(|b| self.commit(b)).await?;
        let fence = self.lease.as_ref().map(LeaseHold::fence);
        let done = cursor_row(&cursor, true, Some(listing.id));
        let switch = self
            .store
            .finish_purge(self.library_id, &done, fence.as_ref())
            .await?;
        tracing::info!(
            library = %self.library_id,
            files = switch.files,
            removed = switch.removed,
            "purge switched in"
        );
        walk.outcome.deleted_files += switch.removed;
        walk.pipeline.released.extend(switch.released);
        self.report_counts(&walk.outcome);
        Ok(())
    }

    /// The library's known tree, loaded from the store on first use; a
    /// purge starts from an empty one.
    async fn loaded<'s>(&self, slot: &'s mut Option<Tree>) -> Result<&'s mut Tree, SyncError> {
        let tree = match slot.take() {
            Some(tree) => tree,
            None => {
                let root = self.connector.root().await?;
                let rules = TreeRules::of(&self.connector.capability());
                if self.options.purge && !self.options.dry_run {
                    Tree::new(root.id, rules, [])
                } else {
                    self.load_tree(root.id, rules).await?
                }
            }
        };
        Ok(slot.insert(tree))
    }

    async fn load_tree(&self, root_id: String, rules: TreeRules) -> Result<Tree, SyncError> {
        let rows = self.store.list_remote_items(self.library_id).await?;
        let stored = if self.options.full_listing || self.options.purge {
            Some(self.stored_files().await?)
        } else {
            None
        };
        let nodes = rows.into_iter().map(node_of).map(|mut node| {
            if let Some(stored) = &stored {
                forget_unstored_content(&mut node, stored);
            }
            node
        });
        Ok(Tree::new(root_id, rules, nodes))
    }

    /// The hash of every file of the library, by path.
    async fn stored_files(&self) -> Result<HashMap<String, String>, SyncError> {
        let mut stored: HashMap<String, String> = HashMap::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .store
                .list_files(self.library_id, "", after.as_deref(), 1000)
                .await?;
            stored.extend(page.items.into_iter().map(|f| (f.path, f.hash)));
            match page.next_after {
                Some(next) => after = Some(next),
                None => return Ok(stored),
            }
        }
    }

    /// Plans a page and starts its downloads (they wait for a permit, after
    /// those of the page before). The tree takes the page's changes; the
    /// files it downloads carry [`pending_hash`] until they end.
    async fn launch(
        &self,
        walk: &mut Walk<'_>,
        changes: &[RemoteChange],
        listing: Option<Uuid>,
        cursor: Option<CursorRow>,
    ) -> Result<InFlight, SyncError> {
        walk.launched += 1;
        let seq = walk.launched;
        if changes.is_empty() {
            return Ok(InFlight {
                seq,
                plan: Plan::default(),
                rows: Vec::new(),
                cursor,
                downloads: Downloads::none(),
            });
        }
        let tree = self.loaded(&mut walk.tree).await?;
        let started = std::time::Instant::now();
        let plan = plan_page(tree, changes);
        walk.outcome.errors.extend(plan_errors(&plan));
        tracing::debug!(
            library = %self.library_id,
            page = seq,
            changes = changes.len(),
            downloads = plan.downloads(),
            plan_ms = started.elapsed().as_millis() as u64,
            "page planned"
        );
        let (rows, items) = self.start(tree, seq, &plan, changes, listing);
        Ok(InFlight {
            seq,
            plan,
            rows,
            cursor,
            downloads: self.download(items, &walk.slots),
        })
    }

    /// Launches the downloads of a page, each once a slot is free.
    fn download(&self, items: Vec<(RemoteItem, String)>, slots: &Slots) -> Downloads {
        Downloads::launch(
            items,
            slots,
            self.connector.clone(),
            self.blobs.clone(),
            self.options.hash_retries,
        )
    }

    /// Starts a planned page on the tree it was planned on: takes its rows
    /// (marking what its listing saw) and marks its downloads pending.
    /// Returns the rows and the items to download with their paths.
    fn start(
        &self,
        tree: &mut Tree,
        seq: u64,
        plan: &Plan,
        changes: &[RemoteChange],
        listing: Option<Uuid>,
    ) -> (Vec<Node>, Vec<(RemoteItem, String)>) {
        let rows = rows_of(tree, plan, changes, listing);
        let pending = pending_hash(seq);
        let items: Vec<(RemoteItem, String)> = plan
            .actions
            .iter()
            .filter_map(|a| match a {
                FileAction::Download { item, path, .. } => {
                    Some((item.as_ref().clone(), path.clone()))
                }
                _ => None,
            })
            .collect();
        if !items.is_empty() {
            self.report(|p| {
                p.phase = "downloading".into();
                p.total += items.len() as i64;
            });
        }
        for (item, _) in &items {
            tree.set_content_hash(&item.id, pending.clone());
        }
        (rows, items)
    }

    /// Ends a page: waits for its downloads while the commit in flight and
    /// `work` (the listing of a page ahead) run, settles its files' content
    /// hashes (in the tree, in its rows and in those of the page launched
    /// after it), then queues its changes for a commit. A page that only
    /// adds files queues the downloads it finished whenever a commit is due
    /// by time, without its cursor. Returns `work`'s output.
    async fn end<'s, T>(
        &'s self,
        walk: &mut Walk<'s>,
        page: InFlight,
        work: impl Future<Output = T>,
    ) -> Result<T, SyncError> {
        let InFlight {
            seq,
            plan,
            mut rows,
            cursor,
            mut downloads,
        } = page;
        let started = std::time::Instant::now();
        let in_parts = only_adds(&plan);
        let work = futures::future::maybe_done(work);
        let mut work = std::pin::pin!(work);
        let mut downloaded = 0usize;
        let mut round = loop {
            let due = if in_parts {
                walk.pipeline.commit_due_at()
            } else {
                None
            };
            let breaker = walk.slots.breaker.clone();
            let collect = self.collect(&mut downloads, due, &mut walk.failing, &breaker);
            let (settled, round) = walk
                .pipeline
                .alongside(beside(collect, work.as_mut()))
                .await;
            walk.pipeline
                .released
                .extend(round.discarded.iter().cloned());
            if let Err(err) = settled {
                // An earlier commit failed: nothing after it may commit.
                walk.pipeline.released.extend(round.stored());
                walk.pipeline.released.extend(abandon(downloads).await);
                return Err(err);
            }
            downloaded += round.fetched.len();
            self.settle(walk, seq, &mut rows, &round.fetched);
            if round.finished || (round.stop.is_some() && !in_parts) {
                break round;
            }
            // Commit what this page fetched so far, without its cursor;
            // after a stop, it is all the page keeps.
            let fetched_rows = take_rows(&mut rows, &round.fetched);
            let chunk = self.batch_of(&plan, fetched_rows, &round.fetched, None, &mut walk.outcome);
            walk.pipeline.enqueue(chunk, |b| self.commit(b)).await?;
            if let Some(stop) = round.stop {
                walk.pipeline.released.extend(abandon(downloads).await);
                return Err(stop);
            }
        };
        if let Some(stop) = round.stop.take() {
            // The page is not committed (its cursor does not move past
            // files never fetched): what it stored goes.
            walk.pipeline.released.extend(round.stored());
            walk.pipeline.released.extend(abandon(downloads).await);
            return Err(stop);
        }
        // The listing ahead may still run: it ends beside the commit.
        let (settled, ()) = walk.pipeline.alongside(work.as_mut()).await;
        if let Err(err) = settled {
            walk.pipeline.released.extend(round.stored());
            return Err(err);
        }
        tracing::debug!(
            library = %self.library_id,
            page = seq,
            downloads = downloaded,
            download_ms = started.elapsed().as_millis() as u64,
            "page downloaded"
        );
        let batch = self.batch_of(&plan, rows, &round.fetched, cursor, &mut walk.outcome);
        walk.pipeline.enqueue(batch, |b| self.commit(b)).await?;
        Ok(work.as_mut().take_output().unwrap_or_else(|| {
            unreachable!("the page's downloads ended, and so did the work beside them")
        }))
    }

    /// Puts the stored hash (or none, with why) of each download that
    /// ended in place of page `seq`'s pending marker: in the tree, in the
    /// page's rows and in the rows of the page launched after it.
    fn settle(&self, walk: &mut Walk<'_>, seq: u64, rows: &mut [Node], fetched: &Fetched) {
        let pending = pending_hash(seq);
        for node in rows.iter_mut() {
            if let Some(ended) = fetched.get(&node.id) {
                (node.content_hash, node.fetch_failure) = settled(ended);
            }
        }
        if let Some(tree) = walk.tree.as_mut() {
            for (id, ended) in fetched {
                let (hash, failure) = settled(ended);
                tree.settle_content_hash(id, &pending, hash, failure);
            }
        }
        if let Some(later) = walk.in_flight.as_mut() {
            for node in &mut later.rows {
                if node.content_hash.as_deref() == Some(pending.as_str())
                    && let Some(ended) = fetched.get(&node.id)
                {
                    (node.content_hash, node.fetch_failure) = settled(ended);
                }
            }
        }
    }

    /// The files whose download failed on their own that an incremental
    /// sync tries again now: every one that failed for a passing reason
    /// ([`FETCH_TEMPORARY`]), and those refused (or whose hash never
    /// matched) once their last try is `retry_failed_after` old: the change
    /// feed reports such a file again only when it changes, and a refusal
    /// such as Drive's `downloadQuotaExceeded` lifts by itself. Files a page
    /// still downloading fetches anyway are left out.
    async fn due_retries(&self, tree: &mut Option<Tree>) -> Result<Vec<String>, SyncError> {
        let tried_before = self.options.retry_failed_after.map(|after| {
            chrono::Utc::now() - chrono::Duration::from_std(after).unwrap_or(chrono::Duration::MAX)
        });
        let due: Vec<String> = self
            .store
            .unfetched_remote_files(self.library_id, RETRIES_AT_MOST)
            .await?
            .into_iter()
            .filter(|row| {
                row.fetch_failure.as_deref() == Some(FETCH_TEMPORARY)
                    || tried_before.is_some_and(|before| row.updated_at <= before)
            })
            .map(|row| row.remote_id)
            .collect();
        if due.is_empty() {
            return Ok(due);
        }
        let tree = self.loaded(tree).await?;
        Ok(due
            .into_iter()
            .filter(|id| {
                tree.nodes()
                    .get(id)
                    .is_some_and(|n| n.content_hash.is_none() && n.path.is_some())
            })
            .collect())
    }

    /// Tries again the files [`Executor::due_retries`] found; a file that
    /// fails again is reported again. Committed before it returns; the
    /// cursor stays.
    async fn retry_unfetched<'s>(
        &'s self,
        walk: &mut Walk<'s>,
        due: Vec<String>,
    ) -> Result<(), SyncError> {
        if due.is_empty() {
            return Ok(());
        }
        walk.launched += 1;
        let seq = walk.launched;
        let tree = self.loaded(&mut walk.tree).await?;
        let plan = Plan {
            actions: due
                .iter()
                .filter_map(|id| {
                    let node = tree.nodes().get(id)?;
                    // A page since may have fetched it after all.
                    if node.content_hash.is_some() {
                        return None;
                    }
                    Some(FileAction::Download {
                        item: Box::new(node.as_remote_item()),
                        path: node.path.clone()?,
                        replaces: None,
                    })
                })
                .collect(),
            ..Plan::default()
        };
        let (rows, items) = self.start(tree, seq, &plan, &[], None);
        let page = InFlight {
            seq,
            plan,
            rows,
            cursor: None,
            downloads: self.download(items, &walk.slots),
        };
        self.end(walk, page, async {}).await?;
        walk.pipeline.settle(|b| self.commit(b)).await
    }

    /// What a page (or the part of it in `fetched`) writes once
    /// downloaded, counted into the walk's outcome; `rows` are its item
    /// rows, their content hashes settled.
    fn batch_of(
        &self,
        plan: &Plan,
        rows: Vec<Node>,
        fetched: &Fetched,
        cursor: Option<CursorRow>,
        outcome: &mut SyncOutcome,
    ) -> SyncBatch {
        let mut batch = SyncBatch {
            library_id: self.library_id,
            item_deletes: plan.removed_ids.clone(),
            cursor,
            ..SyncBatch::default()
        };
        let now = chrono::Utc::now();
        for action in &plan.actions {
            match action {
                FileAction::Delete { path, .. } => {
                    batch.file_deletes.push(path.clone());
                    outcome.deleted_files += 1;
                }
                FileAction::Move { from, to, .. } => {
                    batch.file_moves.push((from.clone(), to.clone()));
                    outcome.moved_files += 1;
                }
                FileAction::Download {
                    item,
                    path,
                    replaces,
                } => {
                    match fetched.get(&item.id) {
                        Some(Ok((hash, size))) => {
                            if let Some(old) = replaces.as_ref().filter(|old| *old != path) {
                                batch.file_deletes.push(old.clone());
                            }
                            batch.file_puts.push(file_record(
                                self.library_id,
                                item,
                                path,
                                hash,
                                *size,
                                now,
                            ));
                            if replaces.is_some() {
                                outcome.updated_files += 1;
                            } else {
                                outcome.added_files += 1;
                            }
                        }
                        Some(Err(failed)) => {
                            // The node's row no longer points at bytes: the
                            // file it replaced goes (the next sync fetches
                            // it again).
                            if let Some(old) = replaces {
                                batch.file_deletes.push(old.clone());
                            }
                            outcome.errors.push(FileError {
                                path: path.clone(),
                                remote_id: item.id.clone(),
                                message: failed.to_string(),
                            });
                        }
                        None => {}
                    }
                }
            }
        }
        batch.item_upserts = rows
            .into_iter()
            .map(|mut node| {
                // The page before settled its markers in these rows when it
                // ended; a marker stored would pass a missing file for one.
                let pending = node.content_hash.as_deref().is_some_and(is_pending);
                debug_assert!(!pending, "a pending marker reached a row: {}", node.id);
                if pending {
                    node.content_hash = None;
                }
                row_of(self.library_id, node)
            })
            .collect();
        self.report_counts(outcome);
        batch
    }

    /// Commits `batch`: first the flush of the blobs it points at (they
    /// were written unsynced), then its transaction, into the purge's
    /// staging area for a purge, renewing and checking the run's lease.
    fn commit(&self, mut batch: SyncBatch) -> Commit<'_> {
        if self.options.purge {
            batch.space = Space::Purge;
        }
        batch.fence = self.lease.as_ref().map(LeaseHold::fence);
        Box::pin(async move {
            let started = std::time::Instant::now();
            if !batch.file_puts.is_empty() {
                self.blobs.sync_written().await?;
            }
            let flushed = started.elapsed();
            let blobs = self.blobs;
            let (files, items) = (batch.file_puts.len(), batch.item_upserts.len());
            let released = self
                .store
                .apply_sync_batch(batch, |hashes| all_stored(blobs, hashes))
                .await?;
            tracing::debug!(
                library = %self.library_id,
                files,
                items,
                flush_ms = flushed.as_millis() as u64,
                commit_ms = (started.elapsed() - flushed).as_millis() as u64,
                "page committed"
            );
            Ok(released)
        })
    }

    /// Deletes what a complete listing did not see, unless that is too much.
    /// When it saw everything, its final cursor joins the pages gathered
    /// (one commit instead of two at the end of a first sync).
    async fn sweep<'s>(
        &'s self,
        walk: &mut Walk<'s>,
        listing: Listing,
        cursor: Cursor,
    ) -> Result<(), SyncError> {
        self.report(|p| p.phase = "deleting".into());
        let gone = unseen(self.loaded(&mut walk.tree).await?, listing.id);
        let done = cursor_row(&cursor, true, Some(listing.id));
        if gone.is_empty() {
            let batch = SyncBatch {
                library_id: self.library_id,
                cursor: Some(done),
                ..SyncBatch::default()
            };
            return walk.pipeline.enqueue(batch, |b| self.commit(b)).await;
        }
        // The share deleted is of the files stored, the listing's included.
        walk.pipeline.settle(|b| self.commit(b)).await?;
        let files_before = self.store.count_files(self.library_id).await?;
        if let Some(why) = self.deletions_held(walk.tree.as_ref(), &gone, files_before) {
            walk.outcome.held = Some(why);
            // No complete cursor: the next sync lists again.
            let empty = cursor_row(&Cursor(String::new()), false, None);
            return self.apply(walk, &[], Some(empty)).await;
        }
        self.apply(walk, &gone, Some(done)).await
    }

    /// Why a full listing's deletions of `gone` must wait for a
    /// confirmation: they would remove more than `max_delete_share` of the
    /// `files_before` files, and neither `confirm_deletes` nor a purge
    /// allows that.
    fn deletions_held(
        &self,
        tree: Option<&Tree>,
        gone: &[RemoteChange],
        files_before: i64,
    ) -> Option<String> {
        if self.options.confirm_deletes || self.options.purge {
            return None;
        }
        let mut trial = tree?.clone();
        let would_delete = plan_page(&mut trial, gone)
            .actions
            .iter()
            .filter(|a| matches!(a, FileAction::Delete { .. }))
            .count();
        let too_many = files_before > 0
            && (would_delete as f64) > self.options.max_delete_share * files_before as f64;
        too_many.then(|| {
            format!(
                "a full listing would delete {would_delete} of {files_before} files; nothing was deleted: \
                 sync again with {{\"confirmDeletes\": true}} or {{\"purge\": true}}"
            )
        })
    }

    /// One page on its own, with nothing else downloading, committed before
    /// it returns.
    async fn apply<'s>(
        &'s self,
        walk: &mut Walk<'s>,
        changes: &[RemoteChange],
        cursor: Option<CursorRow>,
    ) -> Result<(), SyncError> {
        let page = self.launch(walk, changes, None, cursor).await?;
        self.end(walk, page, async {}).await?;
        walk.pipeline.settle(|b| self.commit(b)).await
    }

    /// Waits for a page's downloads, counting them into the progress,
    /// until all ended, or `due` passed with some ended (a commit is due),
    /// or the sync must stop: a download says so (the connection needs a
    /// user, storage failed). Once `failing_in_a_row` downloads in a row
    /// failed for a passing reason (counted in `failing` across pages), it
    /// opens the `breaker`: the run's downloads not started yet are not
    /// tried.
    async fn collect(
        &self,
        downloads: &mut Downloads,
        due: Option<Instant>,
        failing: &mut usize,
        breaker: &Breaker,
    ) -> Round {
        let mut round = Round::default();
        while !downloads.waiting.is_empty() {
            let next = match due {
                Some(due) if !round.fetched.is_empty() => {
                    match tokio::time::timeout_at(due, downloads.next()).await {
                        Ok(next) => next,
                        Err(_) => return round,
                    }
                }
                _ => downloads.next().await,
            };
            let (id, path, download) = next;
            let Download { result, discarded } = download;
            round.discarded.extend(discarded);
            self.report(|p| {
                p.done += 1;
                p.current_file = Some(path);
                if let Ok((_, size)) = &result {
                    p.bytes += size;
                }
            });
            let ended = match result {
                Ok(stored) => {
                    *failing = 0;
                    Ok(stored)
                }
                Err(Failure::Stop(err)) => {
                    round.stop = Some(err);
                    return round;
                }
                Err(Failure::File(failed)) => {
                    if let Failed::Temporary(err) = &failed {
                        *failing += 1;
                        if *failing >= self.options.failing_in_a_row.max(1) {
                            breaker.open(format!(
                                "{failing} downloads in a row failed after their retries, the last with: {err}"
                            ));
                        }
                    }
                    Err(failed)
                }
            };
            round.fetched.insert(id, ended);
            if round.stop.is_some() {
                return round;
            }
            if due.is_some_and(|due| due <= Instant::now()) {
                return round;
            }
        }
        round.finished = true;
        round
    }

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

    /// Removes blobs no file uses any more, once every unsynced put so far
    /// is written: bytes a page stored but never committed may still be
    /// queued (see `BlobStore::finish_unsynced`), and would land after
    /// their removal.
    async fn release_written(&self, hashes: &[String]) -> Result<(), SyncError> {
        if !hashes.is_empty() {
            self.blobs.finish_unsynced().await?;
        }
        self.release(hashes).await
    }

    /// Removes blobs no file uses any more.
    async fn release(&self, hashes: &[String]) -> Result<(), SyncError> {
        for hash in hashes {
            let blobs = self.blobs;
            self.store
                .remove_blob_if_orphan(hash, || async move {
                    blobs.delete(hash).await.map_err(|e| e.to_string())
                })
                .await?;
        }
        Ok(())
    }
}

/// Drives `main` to its end while polling `side` (a listing page fetched
/// ahead) as long as it runs; `side` keeps its output once done.
async fn beside<T, W: Future>(
    main: impl Future<Output = T>,
    side: std::pin::Pin<&mut futures::future::MaybeDone<W>>,
) -> T {
    let main = std::pin::pin!(main);
    match futures::future::select(main, side).await {
        Either::Left((output, _)) => output,
        Either::Right(((), main)) => main.await,
    }
}

/// The per-file errors of names that cannot become paths.
fn plan_errors(plan: &Plan) -> impl Iterator<Item = FileError> + '_ {
    plan.errors.iter().map(|e| FileError {
        path: e.name.clone(),
        remote_id: e.remote_id.clone(),
        message: e.message.clone(),
    })
}

/// Moves out of `rows` those of the items in `fetched`.
fn take_rows(rows: &mut Vec<Node>, fetched: &Fetched) -> Vec<Node> {
    let (taken, kept): (Vec<Node>, Vec<Node>) = std::mem::take(rows)
        .into_iter()
        .partition(|node| fetched.contains_key(&node.id));
    *rows = kept;
    taken
}

/// A node's content hash and failure once its download ended.
fn settled(ended: &Result<(String, i64), Failed>) -> (Option<String>, Option<FetchFailure>) {
    match ended {
        Ok((hash, _)) => (Some(hash.clone()), None),
        Err(Failed::Temporary(_)) => (None, Some(FetchFailure::Temporary)),
        Err(Failed::Refused(_)) => (None, Some(FetchFailure::Refused)),
    }
}

/// Streams one file into blob storage, verifying the provider hash; a
/// mismatch is retried (`hash_retries` times), then reported, and so is a
/// body that breaks off (the retry layer only sees the request). A file
/// that keeps failing is a per-file failure; only a connection needing a
/// user, or storage failing, stops the sync.
async fn download(
    connector: Arc<dyn Connector>,
    blobs: BlobStore,
    item: RemoteItem,
    hash_retries: u32,
) -> Download {
    let mut discarded = Vec::new();
    let mut last = Failed::Refused(String::new());
    for _ in 0..=hash_retries {
        let stream = match connector.download(&item).await {
            Ok(stream) => stream,
            Err(err) => {
                return Download {
                    result: Err(Failure::of(err)),
                    discarded,
                };
            }
        };
        // Set when the provider's body fails, to tell a cut connection
        // (the file's problem) from storage failing (ours).
        let body_broke = Arc::new(AtomicBool::new(false));
        let flag = body_broke.clone();
        let body = stream
            .map_err(move |e| {
                flag.store(true, Ordering::Relaxed);
                std::io::Error::other(e)
            })
            .boxed();
        let mut verifier = item.hash.as_ref().map(|h| h.kind.verifier());
        let stored = blobs
            .put_observed_unsynced(body, None, &mut |chunk| {
                if let Some(v) = verifier.as_mut() {
                    v.update(chunk);
                }
            })
            .await;
        let stored = match stored {
            Ok(stored) => stored,
            Err(e) if body_broke.load(Ordering::Relaxed) => {
                last = Failed::Temporary(ConnectorError::temporary(format!(
                    "the download broke off: {}",
                    folio_connectors::cause_chain(&e)
                )));
                continue;
            }
            Err(e) => {
                return Download {
                    result: Err(Failure::Stop(SyncError::Blobs(e))),
                    discarded,
                };
            }
        };
        let size = i64::try_from(stored.size).unwrap_or(i64::MAX);
        let checked = match (item.hash.as_ref(), verifier) {
            (Some(expected), Some(v)) => {
                let computed = v.finish();
                (!expected.matches(&computed)).then(|| {
                    format!(
                        "the downloaded bytes do not match the provider's hash (expected {}, got {computed})",
                        expected.value
                    )
                })
            }
            _ => None,
        };
        match checked {
            None => {
                return Download {
                    result: Ok((stored.hash, size)),
                    discarded,
                };
            }
            Some(mismatch) => {
                last = Failed::Refused(mismatch);
                discarded.push(stored.hash);
            }
        }
    }
    Download {
        result: Err(Failure::File(last)),
        discarded,
    }
}

/// Each downloaded item's stored hash and size, or why it failed, by id.
type Fetched = HashMap<String, Result<(String, i64), Failed>>;

/// One file's download, and the bytes it stored then let go of (copies
/// that failed the hash check).
struct Download {
    result: Result<(String, i64), Failure>,
    discarded: Vec<String>,
}

/// Why one download ended without bytes.
#[derive(Debug)]
enum Failure {
    /// The file failed: reported in `errors`, the sync goes on.
    File(Failed),
    /// The sync cannot go on: the connection needs a user, or storage
    /// failed.
    Stop(SyncError),
}

impl Failure {
    fn of(err: ConnectorError) -> Self {
        if err.needs_reconnect() {
            Self::Stop(SyncError::Provider(err))
        } else if err.is_temporary() {
            Self::File(Failed::Temporary(err))
        } else {
            Self::File(Failed::Refused(err.to_string()))
        }
    }
}

/// Why one file has no bytes after its download.
#[derive(Debug)]
enum Failed {
    /// Refused by the provider, gone, or its bytes never matched the hash:
    /// tried again once the retry interval is over.
    Refused(String),
    /// The provider kept failing on it (5xx, 429, a timeout, a cut
    /// connection) through its retries: tried again by the next sync.
    Temporary(ConnectorError),
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused(message) => f.write_str(message),
            Self::Temporary(err) => write!(f, "{err}"),
        }
    }
}

/// The run's download slots: `download_concurrency` permits, and the turn
/// to launch downloads, which a page takes after the page before it has
/// launched all of its own (pages download in order, overlapping only
/// where one ends and the next begins).
struct Slots {
    permits: Arc<tokio::sync::Semaphore>,
    turn: Arc<tokio::sync::Mutex<()>>,
    /// Opened once [`SyncOptions::failing_in_a_row`] downloads in a row
    /// failed: the provider as a whole is failing, and the run's downloads
    /// not started yet are not tried (each a per-file error, tried again
    /// by the next sync) instead of each spending its retries.
    breaker: Arc<Breaker>,
}

/// See [`Slots::breaker`]: why downloads are no longer tried, once open.
#[derive(Default)]
struct Breaker {
    open: std::sync::OnceLock<String>,
}

impl Breaker {
    fn open(&self, why: String) {
        if self.open.set(why).is_ok() {
            tracing::warn!(why = %self.open.get().map_or("", String::as_str), "downloads stopped for this sync");
        }
    }

    /// The end of a download not tried because the breaker is open.
    fn skipped(&self) -> Option<Download> {
        let why = self.open.get()?;
        Some(Download {
            result: Err(Failure::File(Failed::Temporary(ConnectorError::temporary(
                format!("not tried in this sync: {why}"),
            )))),
            discarded: Vec::new(),
        })
    }
}

/// A page's downloads. One task per page launches them, each as a task of
/// its own once a permit is free (so downloads, their bodies' hashing and
/// their storage, spread over the runtime's threads instead of all running
/// in the sync's one task beside its planning and bookkeeping; and only
/// the downloads running have a task, whatever the page's size). Their
/// ends come back through a channel. Dropped, it aborts the launcher,
/// whose tasks go with it.
struct Downloads {
    launcher: Option<tokio::task::JoinHandle<()>>,
    ended: tokio::sync::mpsc::UnboundedReceiver<(String, Download)>,
    /// The downloads not yet ended: library paths by id.
    waiting: HashMap<String, String>,
}

impl Downloads {
    /// A page that downloads nothing.
    fn none() -> Self {
        let (_, ended) = tokio::sync::mpsc::unbounded_channel();
        Self {
            launcher: None,
            ended,
            waiting: HashMap::new(),
        }
    }

    fn launch(
        items: Vec<(RemoteItem, String)>,
        slots: &Slots,
        connector: Arc<dyn Connector>,
        blobs: BlobStore,
        hash_retries: u32,
    ) -> Self {
        let mut downloads = Self::none();
        if items.is_empty() {
            return downloads;
        }
        for (item, path) in &items {
            downloads.waiting.insert(item.id.clone(), path.clone());
        }
        let (sender, ended) = tokio::sync::mpsc::unbounded_channel();
        downloads.ended = ended;
        let (permits, turn) = (slots.permits.clone(), slots.turn.clone());
        let breaker = slots.breaker.clone();
        downloads.launcher = Some(tokio::spawn(async move {
            let my_turn = turn.lock_owned().await;
            let mut running = tokio::task::JoinSet::new();
            for (item, _) in items {
                if let Some(skipped) = breaker.skipped() {
                    drop(sender.send((item.id.clone(), skipped)));
                    continue;
                }
                // The semaphore is never closed: a permit always comes.
                let permit = permits.clone().acquire_owned().await;
                let (connector, blobs) = (connector.clone(), blobs.clone());
                running.spawn(async move {
                    let _permit = permit;
                    let id = item.id.clone();
                    (id, download(connector, blobs, item, hash_retries).await)
                });
                while let Some(joined) = running.try_join_next() {
                    pass_on(joined, &sender);
                }
            }
            drop(my_turn);
            while let Some(joined) = running.join_next().await {
                pass_on(joined, &sender);
            }
        }));
        downloads
    }

    /// The next download to end: its id, its file's path and its end. A
    /// launcher gone before all ended was cancelled (the runtime shuts
    /// down): each download left fails as a temporary failure of its file.
    /// Cancel-safe while it waits for an end.
    async fn next(&mut self) -> (String, String, Download) {
        if let Some((id, download)) = self.ended.recv().await {
            let path = self.waiting.remove(&id).unwrap_or_default();
            return (id, path, download);
        }
        if let Some(launcher) = self.launcher.take()
            && let Err(e) = launcher.await
            && e.is_panic()
        {
            // A bug, as before downloads were tasks: it reaches the caller.
            std::panic::resume_unwind(e.into_panic());
        }
        let id = self.waiting.keys().next().cloned().unwrap_or_default();
        let path = self.waiting.remove(&id).unwrap_or_default();
        let cancelled = Download {
            result: Err(Failure::Stop(SyncError::Provider(
                ConnectorError::temporary(format!(
                    "the download of '{path}' was cancelled: the server is shutting down"
                )),
            ))),
            discarded: Vec::new(),
        };
        (id, path, cancelled)
    }
}

/// Hands a download's end to the page; a download that panicked panics
/// the launcher, which the page's [`Downloads::next`] passes on.
fn pass_on(
    joined: Result<(String, Download), tokio::task::JoinError>,
    sender: &tokio::sync::mpsc::UnboundedSender<(String, Download)>,
) {
    match joined {
        // The page stopped waiting (it failed): nobody needs the end.
        Ok(ended) => drop(sender.send(ended)),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only the launcher's abort (or the runtime) cancels a download.
        Err(_) => {}
    }
}

impl Drop for Downloads {
    fn drop(&mut self) {
        if let Some(launcher) = &self.launcher {
            launcher.abort();
        }
    }
}

/// Stops downloads that no commit will take, returning the hashes of what
/// they stored (those that ended before they were stopped): bytes to
/// release.
async fn abandon(mut downloads: Downloads) -> Vec<String> {
    if let Some(launcher) = downloads.launcher.take() {
        launcher.abort();
        // Its end closes the channel; a panic was a bug of a download
        // whose page is given up anyway.
        let _ = launcher.await;
    }
    let mut stored = Vec::new();
    while let Ok((_, download)) = downloads.ended.try_recv() {
        stored.extend(download.result.ok().map(|(hash, _)| hash));
        stored.extend(download.discarded);
    }
    stored
}

/// The item rows a planned page writes, as the tree holds them now: the
/// nodes it changed, those its listing saw (marked seen first) and the
/// files it downloads (a row records when a file was last tried).
fn rows_of(
    tree: &mut Tree,
    plan: &Plan,
    changes: &[RemoteChange],
    listing: Option<Uuid>,
) -> Vec<Node> {
    let mut touched: foldhash::HashSet<&str> = plan.changed.iter().map(|n| n.id.as_str()).collect();
    if let Some(listing) = listing {
        for change in changes {
            if let RemoteChange::Upsert(item) = change
                && tree.mark_seen(&item.id, listing)
            {
                touched.insert(&item.id);
            }
        }
    }
    let nodes = tree.nodes();
    for action in &plan.actions {
        if let FileAction::Download { item, .. } = action
            && nodes.contains_key(&item.id)
        {
            touched.insert(&item.id);
        }
    }
    touched
        .into_iter()
        .filter_map(|id| nodes.get(id).cloned())
        .collect()
}

/// Deletions of the items the full listing `listing` did not see, by
/// remote id. The tree holds every stored item row, with the marks the
/// listing's pages set, committed or not, so nothing needs reading back
/// from the store.
fn unseen(tree: &Tree, listing: Uuid) -> Vec<RemoteChange> {
    let mut ids: Vec<&String> = tree
        .nodes()
        .values()
        .filter(|node| node.seen_listing != Some(listing))
        .map(|node| &node.id)
        .collect();
    ids.sort_unstable();
    ids.into_iter()
        .map(|id| RemoteChange::Delete { id: id.clone() })
        .collect()
}

/// True when every blob is in storage (duplicates checked once).
async fn all_stored(blobs: &BlobStore, mut hashes: Vec<String>) -> Result<bool, String> {
    hashes.sort_unstable();
    hashes.dedup();
    blobs.all_stored(&hashes).await.map_err(|e| e.to_string())
}

fn cursor_row(cursor: &Cursor, complete: bool, listing_id: Option<Uuid>) -> CursorRow {
    CursorRow {
        cursor: cursor.0.clone(),
        complete,
        listing_id,
        updated_at: chrono::Utc::now(),
    }
}

fn file_record(
    library_id: Uuid,
    item: &RemoteItem,
    path: &str,
    hash: &str,
    size: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> FileRecord {
    let content_type = item
        .export
        .as_ref()
        .map(|e| e.mime_type.clone())
        .or_else(|| item.mime_type.clone())
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    FileRecord {
        library_id,
        path: path.to_owned(),
        size,
        content_type,
        hash: hash.to_owned(),
        modified_at: item.modified.unwrap_or(now),
        remote_id: Some(item.id.clone()),
        synced_at: Some(now),
        created_at: now,
        updated_at: now,
    }
}

/// The planner's node for a stored row.
fn node_of(row: RemoteItemRow) -> Node {
    let kind = row.content_kind.as_deref().unwrap_or("file");
    let export_extension = kind.strip_prefix("export:").map(str::to_owned);
    Node {
        id: row.remote_id,
        parent_id: row.parent_id,
        path_lower: row.path_lower,
        name: row.name,
        is_folder: row.is_folder,
        has_content: kind != "none",
        export_extension,
        size: row.size,
        remote_hash: row.remote_hash,
        version: row.version,
        content_hash: row.content_hash,
        path: row.path,
        seen_listing: row.seen_listing,
        fetch_failure: match row.fetch_failure.as_deref() {
            Some(FETCH_TEMPORARY) => Some(FetchFailure::Temporary),
            Some(_) => Some(FetchFailure::Refused),
            None => None,
        },
    }
}

/// For a reconcile: a file node whose library file is missing, or holds
/// other bytes than the node records, forgets its content hash, so the
/// listing downloads it again (the change feed never would).
fn forget_unstored_content(node: &mut Node, stored: &HashMap<String, String>) {
    let is_file = !node.is_folder && node.has_content;
    if let Some(path) = node.path.as_ref()
        && is_file
        && stored.get(path) != node.content_hash.as_ref()
    {
        node.content_hash = None;
    }
}

/// The row stored for a node.
fn row_of(library_id: Uuid, node: Node) -> RemoteItemRow {
    let content_kind = match (&node.export_extension, node.has_content) {
        (_, false) => "none".to_owned(),
        (Some(ext), true) => format!("export:{ext}"),
        (None, true) => "file".to_owned(),
    };
    RemoteItemRow {
        library_id,
        remote_id: node.id,
        parent_id: node.parent_id,
        name: node.name,
        is_folder: node.is_folder,
        path: node.path,
        size: node.size,
        remote_hash: node.remote_hash,
        version: node.version,
        content_hash: node.content_hash,
        seen_listing: node.seen_listing,
        updated_at: chrono::Utc::now(),
        path_lower: node.path_lower,
        content_kind: Some(content_kind),
        fetch_failure: node.fetch_failure.map(|failure| {
            match failure {
                FetchFailure::Temporary => FETCH_TEMPORARY,
                FetchFailure::Refused => FETCH_REFUSED,
            }
            .to_owned()
        }),
    }
}

#[path = "dry_run.rs"]
mod dry_run;

#[cfg(test)]
#[path = "executor_pipeline_tests.rs"]
mod pipeline_tests;
