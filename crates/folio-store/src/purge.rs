//! The staging area of an atomic purge.
//!
//! A purge syncs a library from scratch without touching what it serves:
//! its batches go to `purge_files` and `purge_items` ([`Space::Purge`]),
//! and once the new set is complete [`Store::finish_purge`] puts it in
//! place of the old files, item tree and cursor in one transaction. A purge
//! that fails, is cancelled or killed leaves the library as it was, with
//! staged rows that [`Store::clear_purge`] (the next purge, or a failed
//! one) or [`Store::drop_abandoned_purges`] (the storage sweep) remove.
//! Staged files count as users of their blobs (see `files.rs`), so the
//! sweep never takes bytes from under a purge in progress.
//!
//! [`Space::Purge`]: crate::sync::Space::Purge

use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::store::{BeginWrite, Store, on_db};
use crate::sync::rows::{CursorRow, Fence};

const FILE_COLUMNS: &str = "library_id, path, size, content_type, hash, modified_at, remote_id, \
                            synced_at, created_at, updated_at";
const ITEM_COLUMNS: &str = "library_id, remote_id, parent_id, name, is_folder, path, size, \
                            remote_hash, version, content_hash, seen_listing, updated_at, \
                            path_lower, content_kind, fetch_failure, content_state";

/// What [`Store::finish_purge`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeSwitch {
    /// Files the library holds now.
    pub files: i64,
    /// Old files whose path the new set does not have.
    pub removed: i64,
    /// Hashes the old files used and the new ones do not: candidates for
    /// [`Store::remove_blob_if_orphan`].
    pub released: Vec<String>,
}

impl Store {
    /// Drops a library's staged purge rows (a purge about to start, or one
    /// given up). Returns the hashes they used, for the caller to collect
    /// those no file uses.
    pub async fn clear_purge(&self, library_id: Uuid) -> Result<Vec<String>> {
        let hashes = on_db!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let hashes: Vec<String> =
                sqlx::query_scalar("DELETE FROM purge_files WHERE library_id = $1 RETURNING hash")
                    .bind(library_id)
                    .fetch_all(&mut *tx)
                    .await?;
            sqlx::query("DELETE FROM purge_items WHERE library_id = $1")
                .bind(library_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            hashes
        });
        Ok(distinct(hashes))
    }

    /// Puts a library's staged files and item tree in place of its live
    /// ones, with `cursor`, in one transaction; the staging area is empty
    /// afterwards. With a `fence`, nothing happens unless the run still
    /// holds the library (`StoreError::LeaseLost`).
    pub async fn finish_purge(
        &self,
        library_id: Uuid,
        cursor: &CursorRow,
        fence: Option<&Fence>,
    ) -> Result<PurgeSwitch> {
        let now = chrono::Utc::now();
        let copy_files = format!(
            "INSERT INTO files ({FILE_COLUMNS}) SELECT {FILE_COLUMNS} FROM purge_files WHERE library_id = $1"
        );
        let copy_items = format!(
            "INSERT INTO remote_items ({ITEM_COLUMNS}) SELECT {ITEM_COLUMNS} FROM purge_items WHERE library_id = $1"
        );
        let switch = on_db!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            if let Some(fence) = fence {
                let held = sqlx::query(crate::sync::commit::plan::FENCE_SQL)
                    .bind(fence.run_id)
                    .bind(&fence.owner)
                    .bind(fence.lease_until_ms)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if held == 0 {
                    return Err(StoreError::LeaseLost);
                }
            }
            let released: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT hash FROM files f WHERE f.library_id = $1 AND NOT EXISTS \
                 (SELECT 1 FROM purge_files p WHERE p.library_id = $1 AND p.hash = f.hash)",
            )
            .bind(library_id)
            .fetch_all(&mut *tx)
            .await?;
            let removed: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM files f WHERE f.library_id = $1 AND NOT EXISTS \
                 (SELECT 1 FROM purge_files p WHERE p.library_id = $1 AND p.path = f.path)",
            )
            .bind(library_id)
            .fetch_one(&mut *tx)
            .await?;
            for sql in [
                "DELETE FROM files WHERE library_id = $1",
                copy_files.as_str(),
                "DELETE FROM purge_files WHERE library_id = $1",
                "DELETE FROM remote_items WHERE library_id = $1",
                copy_items.as_str(),
                "DELETE FROM purge_items WHERE library_id = $1",
            ] {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(library_id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(crate::sync::commit::plan::CURSOR_SQL)
                .bind(library_id)
                .bind(&cursor.cursor)
                .bind(cursor.complete)
                .bind(cursor.listing_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let files: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM files WHERE library_id = $1")
                .bind(library_id)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            PurgeSwitch {
                files,
                removed,
                released,
            }
        });
        Ok(switch)
    }

    /// Drops the staged rows of every purge no live run holds any more (its
    /// process was killed, or its request cancelled): no running run of
    /// the library with a lease alive at `now_ms`. A run still marked
    /// running whose lease lapsed is marked failed in the same transaction,
    /// so that, should its process wake up, its fence refuses the switch
    /// instead of putting a partial set in place of the library's files.
    /// Returns the hashes the staged rows used; the storage sweep collects
    /// those no file uses.
    pub async fn drop_abandoned_purges(&self, now_ms: i64) -> Result<Vec<String>> {
        const LIVE: &str =
            "SELECT library_id FROM sync_runs WHERE status = 'running' AND lease_until_ms >= $1";
        const LAPSED: &str = "UPDATE sync_runs SET status = 'failed', finished_at = $2, \
             updated_at = $2, message = 'abandoned: its lease expired during a purge, whose \
             staged files were dropped' WHERE status = 'running' AND lease_until_ms < $1 \
             AND library_id IN (SELECT library_id FROM purge_files \
             UNION SELECT library_id FROM purge_items)";
        let drop_files =
            format!("DELETE FROM purge_files WHERE library_id NOT IN ({LIVE}) RETURNING hash");
        let drop_items = format!("DELETE FROM purge_items WHERE library_id NOT IN ({LIVE})");
        let now = chrono::Utc::now();
        let hashes = on_db!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(LAPSED)
                .bind(now_ms)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let hashes: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(drop_files))
                .bind(now_ms)
                .fetch_all(&mut *tx)
                .await?;
            sqlx::query(sqlx::AssertSqlSafe(drop_items))
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            hashes
        });
        Ok(distinct(hashes))
    }

    /// How many files a library has staged by a purge in progress.
    pub async fn count_purge_files(&self, library_id: Uuid) -> Result<i64> {
        let count = on_db!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM purge_files WHERE library_id = $1")
                .bind(library_id)
                .fetch_one(pool)
                .await?
        });
        Ok(count)
    }
}

fn distinct(mut hashes: Vec<String>) -> Vec<String> {
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}
