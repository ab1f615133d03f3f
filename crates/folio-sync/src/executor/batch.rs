//! Batching: what a page writes once downloaded, as one [`SyncBatch`], and
//! its commit (the blobs' flush, then one transaction).

use folio_blobs::BlobStore;
use folio_store::sync::{CursorRow, Space, SyncBatch};

use super::fetch::Fetched;
use super::outcome::{FileError, SyncOutcome};
use super::pipeline::Commit;
use super::rows::{file_record, row_of};
use super::{Executor, LeaseHold};
use crate::planner::{Content, FileAction, Node, Plan};

impl Executor<'_> {
    /// What a page (or the part of it in `fetched`) writes once
    /// downloaded, counted into the walk's outcome; `rows` are its item
    /// rows, their content hashes settled.
    pub(super) fn batch_of(
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
                // The page before settled its pending content in these rows
                // when it ended; a pending row would stand for no bytes.
                let pending = matches!(node.content, Content::Pending(_));
                debug_assert!(!pending, "a pending download reached a row: {}", node.id);
                if pending {
                    node.content = Content::Missing;
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
    pub(super) fn commit_batch(&self, mut batch: SyncBatch) -> Commit<'_> {
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
}

/// True when every blob is in storage (duplicates checked once).
async fn all_stored(blobs: &BlobStore, mut hashes: Vec<String>) -> Result<bool, String> {
    hashes.sort_unstable();
    hashes.dedup();
    blobs.all_stored(&hashes).await.map_err(|e| e.to_string())
}
