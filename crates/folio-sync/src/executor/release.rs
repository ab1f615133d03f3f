//! Release of blobs: bytes that commits (and failed downloads) let go of
//! are removed once no file uses them.

use super::Executor;
use super::outcome::SyncError;
use super::walk::Walk;

impl Executor<'_> {
    /// Removes the bytes released so far, once no download runs (one may
    /// be storing the same bytes) and everything before is committed.
    pub(super) async fn drain_and_delete_released<'s>(
        &'s self,
        walk: &mut Walk<'s>,
    ) -> Result<(), SyncError> {
        self.end_in_flight(walk).await?;
        walk.pipeline.commit_all(|b| self.commit_batch(b)).await?;
        self.delete_released_blobs(&std::mem::take(&mut walk.pipeline.released))
            .await
    }

    /// Removes blobs no file uses any more, once every unsynced put so far
    /// is written: bytes a page stored but never committed may still be
    /// queued (see `BlobStore::finish_unsynced`), and would land after
    /// their removal.
    pub(super) async fn delete_released_blobs(&self, hashes: &[String]) -> Result<(), SyncError> {
        if !hashes.is_empty() {
            self.blobs.finish_unsynced().await?;
        }
        self.delete_orphan_blobs(hashes).await
    }

    /// Removes blobs no file uses any more.
    pub(super) async fn delete_orphan_blobs(&self, hashes: &[String]) -> Result<(), SyncError> {
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
