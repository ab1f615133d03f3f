//! The walk over listing pages: where a run starts (the stored cursor or
//! a full listing), the loop that lists, launches and ends page after page,
//! and what a run carries from page to page ([`Walk`]).

use std::sync::Arc;

use folio_connectors::{ChangePage, ConnectorError, Cursor, PageState};
use folio_store::sync::CursorRow;
use uuid::Uuid;

use super::Executor;
use super::downloads::{Downloads, Slots};
use super::outcome::{SyncError, SyncOutcome};
use super::pipeline::Pipeline;
use super::rows::cursor_row;
use crate::planner::{Node, Plan, Tree};

/// Where a full listing stands.
pub(super) struct Listing {
    pub(super) id: Uuid,
}

/// A listing page fetched ahead, while the page before it downloaded.
type Prefetched = Option<Result<ChangePage, ConnectorError>>;

/// Released hashes are removed once this many have gathered (draining the
/// pipeline for it), and in any case at the end of the run.
const RELEASE_AT: usize = 1000;

/// What a run carries from page to page.
pub(super) struct Walk<'s> {
    /// The library's tree, loaded when a page first has changes: a re-sync
    /// with no remote change reads nothing of the library's (possibly
    /// large) tree.
    pub(super) tree: Option<Tree>,
    pub(super) outcome: SyncOutcome,
    pub(super) pipeline: Pipeline<'s>,
    /// The page planned whose downloads run while the page before it
    /// ends; only an error leaves one when the walk stops.
    pub(super) in_flight: Option<InFlight>,
    /// Downloads running at once, across pages (`download_concurrency`),
    /// and whose turn it is to launch them.
    pub(super) slots: Slots,
    /// The number of the last page launched.
    pub(super) launched: u64,
    /// Downloads that failed in a row, after their retries, for a passing
    /// reason (see [`super::SyncOptions::failing_in_a_row`]).
    pub(super) failing: usize,
}

/// A page planned, its downloads running as tasks.
pub(super) struct InFlight {
    pub(super) seq: u64,
    pub(super) plan: Plan,
    /// The item rows the page writes, as the tree held them once the page
    /// was planned (the next page is planned before this one ends), with
    /// the listing's mark; its downloads' hashes are filled in as they end.
    pub(super) rows: Vec<Node>,
    pub(super) cursor: Option<CursorRow>,
    pub(super) downloads: Downloads,
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
            self.delete_orphan_blobs(&leftovers).await?;
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
            let abandoned = page.downloads.cancel().await;
            walk.pipeline.released.extend(abandoned);
        }
        // Whatever stopped the pages, the pages gathered or committing
        // meanwhile are kept (if they commit), like every page before them;
        // after a failed commit nothing was left gathered.
        let settled = walk.pipeline.commit_all(|b| self.commit_batch(b)).await;
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
        self.delete_released_blobs(&walk.pipeline.released).await?;
        paged?;
        settled?;
        let mut outcome = walk.outcome;
        outcome.synced_files = self.store.count_files(self.library_id).await?;
        Ok(outcome)
    }

    /// Where a run starts: the stored cursor, or a new full listing.
    pub(super) async fn starting_point(
        &self,
    ) -> Result<(Option<Cursor>, Option<Listing>), SyncError> {
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
                self.drain_and_delete_released(walk).await?;
            }
            let page = match prefetched.take() {
                Some(page) => page,
                None => {
                    self.report(|p| p.phase = folio_domain::RunPhase::Listing);
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
            let launched = self
                .launch_page(walk, &changes, listing_id, page_cursor)
                .await?;
            let previous = walk.in_flight.replace(launched);
            let prefetch = async {
                match &next {
                    PageState::More(c) => Some(self.connector.list_changes(Some(c.clone())).await),
                    PageState::Done(_) => None,
                }
            };
            prefetched = match previous {
                Some(page) => self.end_page(walk, page, prefetch).await?,
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

    /// Ends the page downloading, if any.
    pub(super) async fn end_in_flight<'s>(&'s self, walk: &mut Walk<'s>) -> Result<(), SyncError> {
        match walk.in_flight.take() {
            Some(page) => self.end_page(walk, page, async {}).await,
            None => Ok(()),
        }
    }
}
