//! [`Store::apply_sync_batch`]: one page of sync changes and its cursor in
//! one transaction.
//!
//! The batch is first reduced to what it writes ([`plan::Writes`]), then
//! written by one of two paths behind one seam, [`Store::apply_sync_batch`]'s
//! choice below:
//!
//! - [`multirow`]: a few multi-row sqlx statements per kind of change, in
//!   the SQL subset both backends accept. PostgreSQL's path, and that of a
//!   SQLite store without a writer (an in-memory database, which rusqlite
//!   cannot open by name, or a store told [`Store::commit_through_sqlx`]).
//! - the SQLite writer (`crate::sqlite::writer`): rusqlite statements
//!   prepared once and run once per row, for SQLite files (see its module
//!   for why a second driver).
//!
//! Both take the same [`plan::Writes`], renew the run's lease first, and
//! ask whether the put files' blobs are still stored before committing.
//! The store's sync tests run every batch on both paths.

mod multirow;
pub(crate) mod plan;

use std::future::Future;

use crate::error::Result;
use crate::store::Store;
use crate::sync::SyncBatch;
use plan::Writes;

impl Store {
    /// Commits one page: the fence (the run's lease, see
    /// [`crate::sync::Fence`]), file deletes, file moves, file puts (blob rows first),
    /// item deletes, item upserts, then the cursor, into the batch's
    /// [`crate::sync::Space`] (a purge's staging area stores no cursor). Before commit,
    /// `blobs_still_stored` is asked whether the put files' blobs are in
    /// storage (under the write lock, so an orphan sweep cannot race); if
    /// not, nothing is written and `BlobVanished` is returned. Returns the
    /// hashes that files stopped pointing at (candidates for
    /// [`Store::remove_blob_if_orphan`]).
    ///
    /// Rows are applied as if one at a time in order: of two puts of one
    /// path (or two upserts of one item) the last wins, and the bytes of
    /// the first are among the returned hashes; moves go through temporary
    /// names, so swaps and chains are fine.
    pub async fn apply_sync_batch<F, Fut>(
        &self,
        batch: SyncBatch,
        blobs_still_stored: F,
    ) -> Result<Vec<String>>
    where
        F: FnOnce(Vec<String>) -> Fut,
        Fut: Future<Output = std::result::Result<bool, String>>,
    {
        let (writes, released) = Writes::of(batch);
        match &self.sqlite_writer {
            Some(writer) => writer.apply(writes, released, blobs_still_stored).await,
            None => multirow::apply(self, writes, released, blobs_still_stored).await,
        }
    }
}
