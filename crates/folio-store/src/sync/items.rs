//! The engine's remote item tree and change cursor, as stored.

use uuid::Uuid;

use crate::error::Result;
use crate::store::{BeginWrite, Store, on_db};
use crate::sync::rows::{CursorRow, RemoteItemRow};

const ITEM_COLUMNS: &str = "library_id, remote_id, parent_id, name, is_folder, path, size, \
                            remote_hash, version, content_hash, seen_listing, updated_at, \
                            path_lower, content_kind, fetch_failure, content_state";

impl Store {
    /// The item `remote_id` of a library, if known.
    pub async fn get_remote_item(
        &self,
        library_id: Uuid,
        remote_id: &str,
    ) -> Result<Option<RemoteItemRow>> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM remote_items WHERE library_id = $1 AND remote_id = $2"
        );
        let row = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(library_id)
                .bind(remote_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row)
    }

    /// Every known item of a library, by remote id (the engine's tree).
    pub async fn list_remote_items(&self, library_id: Uuid) -> Result<Vec<RemoteItemRow>> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM remote_items WHERE library_id = $1 ORDER BY remote_id"
        );
        let rows = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(library_id)
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Up to `limit` items of a library placed as files whose bytes were
    /// never stored (a refused download, a hash that never matched, a
    /// download that kept failing; see `fetch_failure`), in no promised
    /// order; items that have no content have no path, so they
    /// are not among them. Served by the partial index
    /// `remote_items_unfetched`: ordered by remote id, or with that index on
    /// `library_id` alone, SQLite walked the whole library instead (0.07 to
    /// 0.2 s at 100,000 items, on every sync).
    pub async fn unfetched_remote_files(
        &self,
        library_id: Uuid,
        limit: u32,
    ) -> Result<Vec<RemoteItemRow>> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM remote_items WHERE library_id = $1 \
             AND content_hash IS NULL AND path IS NOT NULL AND is_folder = FALSE LIMIT $2"
        );
        let rows = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(library_id)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// How many items of a library are files with a library path.
    pub async fn count_placed_remote_files(&self, library_id: Uuid) -> Result<i64> {
        let count = on_db!(self, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM remote_items WHERE library_id = $1 AND is_folder = FALSE AND path IS NOT NULL",
            )
            .bind(library_id)
            .fetch_one(pool)
            .await?
        });
        Ok(count)
    }

    /// The stored change cursor of a library.
    pub async fn get_sync_cursor(&self, library_id: Uuid) -> Result<Option<CursorRow>> {
        let row = on_db!(self, |pool| {
            sqlx::query_as(
                "SELECT cursor, complete, listing_id, updated_at FROM sync_cursors WHERE library_id = $1",
            )
            .bind(library_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    /// Forgets a library's item tree and cursor (purge), in one
    /// transaction. Files are not touched.
    pub async fn clear_sync_state(&self, library_id: Uuid) -> Result<()> {
        on_db!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM remote_items WHERE library_id = $1")
                .bind(library_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sync_cursors WHERE library_id = $1")
                .bind(library_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
