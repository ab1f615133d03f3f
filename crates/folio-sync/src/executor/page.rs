//! One page's life: planned and its downloads launched while the page
//! before it still downloads ([`Executor::launch_page`]), then ended: its
//! downloads collected, its files' pending content settled, its
//! changes queued for a commit ([`Executor::end_page`]).

use folio_connectors::{RemoteChange, RemoteItem};
use folio_store::sync::CursorRow;
use futures::future::Either;
use tokio::time::Instant;
use uuid::Uuid;

use super::Executor;
use super::downloads::{Breaker, Downloads, Slots};
use super::fetch::{Download, DownloadFailure, Fetched, FileFailure};
use super::outcome::{FileError, SyncError};
use super::rows::rows_of;
use super::walk::{InFlight, Walk};
use folio_domain::RunPhase;

use crate::planner::{Content, FetchFailure, FileAction, Node, Plan, Tree, plan_page};

// While the page `seq` downloads a file, its node in the tree is
// `Content::Pending(seq)`. The next page is planned meanwhile and takes the
// file for stored: a rename or a folder move of it plans a move, which
// commits after its put, since commits keep page order (and is a no-op if
// the download failed). The download's end puts the stored hash in its
// place, or none. Never written to a row (see `batch.rs`).

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

/// Downloads ended since a page's last commit, as [`Executor::collect_round`]
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
    /// Plans a page and starts its downloads (they wait for a permit, after
    /// those of the page before). The tree takes the page's changes; the
    /// files it downloads are [`Content::Pending`] until they end.
    pub(super) async fn launch_page(
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
        let tree = self.loaded_tree(&mut walk.tree).await?;
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
        let (rows, items) = self.begin_page(tree, seq, &plan, changes, listing);
        Ok(InFlight {
            seq,
            plan,
            rows,
            cursor,
            downloads: self.spawn_downloads(items, &walk.slots),
        })
    }

    /// Launches the downloads of a page, each once a slot is free.
    pub(super) fn spawn_downloads(
        &self,
        items: Vec<(RemoteItem, String)>,
        slots: &Slots,
    ) -> Downloads {
        Downloads::spawn(
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
    pub(super) fn begin_page(
        &self,
        tree: &mut Tree,
        seq: u64,
        plan: &Plan,
        changes: &[RemoteChange],
        listing: Option<Uuid>,
    ) -> (Vec<Node>, Vec<(RemoteItem, String)>) {
        let rows = rows_of(tree, plan, changes, listing);
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
                p.phase = RunPhase::Downloading;
                p.total += items.len() as i64;
            });
        }
        for (item, _) in &items {
            tree.set_content(&item.id, Content::Pending(seq));
        }
        (rows, items)
    }

    /// Ends a page: waits for its downloads while the commit in flight and
    /// `work` (the listing of a page ahead) run, settles its files' content
    /// hashes (in the tree, in its rows and in those of the page launched
    /// after it), then queues its changes for a commit. A page that only
    /// adds files queues the downloads it finished whenever a commit is due
    /// by time, without its cursor. Returns `work`'s output.
    pub(super) async fn end_page<'s, T>(
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
            let collect = self.collect_round(&mut downloads, due, &mut walk.failing, &breaker);
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
                walk.pipeline.released.extend(downloads.cancel().await);
                return Err(err);
            }
            downloaded += round.fetched.len();
            self.settle_pending(walk, seq, &mut rows, &round.fetched);
            if round.finished || (round.stop.is_some() && !in_parts) {
                break round;
            }
            // Commit what this page fetched so far, without its cursor;
            // after a stop, it is all the page keeps.
            let fetched_rows = take_rows(&mut rows, &round.fetched);
            let chunk = self.batch_of(&plan, fetched_rows, &round.fetched, None, &mut walk.outcome);
            walk.pipeline
                .enqueue(chunk, |b| self.commit_batch(b))
                .await?;
            if let Some(stop) = round.stop {
                walk.pipeline.released.extend(downloads.cancel().await);
                return Err(stop);
            }
        };
        if let Some(stop) = round.stop.take() {
            // The page is not committed (its cursor does not move past
            // files never fetched): what it stored goes.
            walk.pipeline.released.extend(round.stored());
            walk.pipeline.released.extend(downloads.cancel().await);
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
        walk.pipeline
            .enqueue(batch, |b| self.commit_batch(b))
            .await?;
        Ok(work.as_mut().take_output().unwrap_or_else(|| {
            unreachable!("the page's downloads ended, and so did the work beside them")
        }))
    }

    /// Puts the stored hash (or none, with why) of each download that
    /// ended in place of its pending content on page `seq`: in the tree,
    /// in the page's rows and in the rows of the page launched after it.
    fn settle_pending(&self, walk: &mut Walk<'_>, seq: u64, rows: &mut [Node], fetched: &Fetched) {
        for node in rows.iter_mut() {
            if let Some(ended) = fetched.get(&node.id) {
                (node.content, node.fetch_failure) = ended_content(ended);
            }
        }
        if let Some(tree) = walk.tree.as_mut() {
            for (id, ended) in fetched {
                let (content, failure) = ended_content(ended);
                tree.settle_content(id, seq, content, failure);
            }
        }
        if let Some(later) = walk.in_flight.as_mut() {
            for node in &mut later.rows {
                if node.content == Content::Pending(seq)
                    && let Some(ended) = fetched.get(&node.id)
                {
                    (node.content, node.fetch_failure) = ended_content(ended);
                }
            }
        }
    }

    /// Waits for a page's downloads, counting them into the progress,
    /// until all ended, or `due` passed with some ended (a commit is due),
    /// or the sync must stop: a download says so (the connection needs a
    /// user, storage failed). Once `failing_in_a_row` downloads in a row
    /// failed for a passing reason (counted in `failing` across pages), it
    /// opens the `breaker`: the run's downloads not started yet are not
    /// tried.
    async fn collect_round(
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
                Err(DownloadFailure::Stop(err)) => {
                    round.stop = Some(err);
                    return round;
                }
                Err(DownloadFailure::File(failed)) => {
                    if let FileFailure::Temporary(err) = &failed {
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
pub(super) fn plan_errors(plan: &Plan) -> impl Iterator<Item = FileError> + '_ {
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

/// A node's content and failure once its download ended.
fn ended_content(ended: &Result<(String, i64), FileFailure>) -> (Content, Option<FetchFailure>) {
    match ended {
        Ok((hash, _)) => (Content::Stored(hash.clone()), None),
        Err(FileFailure::Temporary(_)) => (Content::Missing, Some(FetchFailure::Temporary)),
        Err(FileFailure::Refused(_)) => (Content::Missing, Some(FetchFailure::Refused)),
    }
}
