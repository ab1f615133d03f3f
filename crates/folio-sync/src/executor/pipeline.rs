//! The commit pipeline: pages' batches gathered and committed one after
//! another, in page order, while later pages download.

use std::time::Duration;

use folio_store::sync::SyncBatch;
use futures::future::{BoxFuture, Either};
use tokio::time::Instant;

use super::outcome::SyncError;

/// A commit of one or more pages, running while later pages download; it
/// yields the hashes the pages' files stopped using.
pub(super) type Commit<'a> = BoxFuture<'a, Result<Vec<String>, SyncError>>;

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
pub(super) struct Pipeline<'a> {
    pub(super) committing: Option<Commit<'a>>,
    pub(super) gathered: Option<SyncBatch>,
    pub(super) released: Vec<String>,
    /// Rows gathered before they are committed ([`super::SyncOptions::commit_rows`]).
    commit_rows: usize,
    /// What is gathered is committed once this long has passed since the
    /// last commit started ([`super::SyncOptions::commit_interval`]); `None`: by
    /// size only.
    commit_interval: Option<Duration>,
    last_commit: Instant,
}

impl<'s> Pipeline<'s> {
    pub(super) fn new(commit_rows: usize) -> Self {
        Self {
            committing: None,
            gathered: None,
            released: Vec::new(),
            commit_rows,
            commit_interval: None,
            last_commit: Instant::now(),
        }
    }

    pub(super) fn with_commit_interval(mut self, interval: Duration) -> Self {
        self.commit_interval = Some(interval);
        self
    }

    /// When the next commit is due by time, if commits are timed.
    pub(super) fn commit_due_at(&self) -> Option<Instant> {
        self.commit_interval.map(|i| self.last_commit + i)
    }

    fn commit_is_due(&self) -> bool {
        self.commit_due_at().is_some_and(|at| at <= Instant::now())
    }

    /// Commits everything: waits for the commit in flight, then commits
    /// what is gathered.
    pub(super) async fn commit_all(
        &mut self,
        commit: impl Fn(SyncBatch) -> Commit<'s>,
    ) -> Result<(), SyncError> {
        self.finish_in_flight().await?;
        if let Some(batch) = self.gathered.take() {
            self.last_commit = Instant::now();
            self.committing = Some(commit(batch));
            self.finish_in_flight().await?;
        }
        Ok(())
    }

    /// Waits for the commit in flight, if any.
    async fn finish_in_flight(&mut self) -> Result<(), SyncError> {
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
                    self.release_batch(batch);
                }
                Err(err)
            }
        }
    }

    /// Runs `work` while driving the commit in flight. A commit that
    /// outlasts `work` stays in flight (a commit of several pages may take
    /// longer than one page's downloads); one that ended gives its outcome.
    pub(super) async fn alongside<T>(
        &mut self,
        work: impl Future<Output = T>,
    ) -> (Result<(), SyncError>, T) {
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
    pub(super) async fn enqueue(
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
                if let Err(err) = self.start_commit(gathered, &commit).await {
                    self.release_batch(batch);
                    return Err(err);
                }
                batch
            }
        };
        if batch.rows() >= self.commit_rows || self.commit_is_due() {
            self.start_commit(batch, &commit).await
        } else {
            self.gathered = Some(batch);
            Ok(())
        }
    }

    /// Starts committing `batch` once the commit in flight has ended.
    async fn start_commit(
        &mut self,
        batch: SyncBatch,
        commit: &impl Fn(SyncBatch) -> Commit<'s>,
    ) -> Result<(), SyncError> {
        if let Err(err) = self.finish_in_flight().await {
            self.release_batch(batch);
            return Err(err);
        }
        self.last_commit = Instant::now();
        self.committing = Some(commit(batch));
        Ok(())
    }

    /// Releases the bytes of a batch that will not be committed.
    fn release_batch(&mut self, batch: SyncBatch) {
        self.released
            .extend(batch.file_puts.into_iter().map(|file| file.hash));
    }
}
