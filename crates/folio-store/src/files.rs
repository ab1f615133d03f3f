//! A library's files and the blob rows they point at.
//!
//! The bytes live in blob storage under their SHA-256; a `blobs` row exists
//! for every blob some file uses. Three operations touch storage while holding
//! the database write lock, so a blob can never be deleted under a file that
//! was just committed to point at it:
//! - [`Store::put_file`] inserts the blob row and the file row, then asks the
//!   caller to confirm the blob is still in storage before committing;
//! - [`Store::remove_blob_if_orphan`] checks that no file uses a blob and
//!   deletes it from storage before dropping its row;
//! - [`Store::remove_unrecorded_blob`] claims a blob no row names and
//!   deletes it from storage (the storage sweep's orphan files).

use std::collections::HashSet;
use std::future::Future;

use chrono::Utc;
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::models::FileRecord;
use crate::store::{BeginWrite, LockClause, Store, on_db};

const FILE_COLUMNS: &str = "library_id, path, size, content_type, hash, modified_at, remote_id, \
                            synced_at, created_at, updated_at";

/// One page of a file listing.
#[derive(Debug, Clone)]
pub struct FilePage {
    pub items: Vec<FileRecord>,
    /// The last path of this page when more may follow.
    pub next_after: Option<String>,
}

impl Store {
    /// Files of a library in byte-wise path order, starting after `after`,
    /// restricted to paths that start with `prefix`.
    pub async fn list_files(
        &self,
        library_id: Uuid,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<FilePage> {
        // Every path with the prefix sorts between `prefix` and `prefix` + the
        // highest code point, byte-wise (PostgreSQL column is COLLATE "C").
        let upper = format!("{prefix}\u{10FFFF}");
        let lower = after.map_or_else(|| prefix.to_owned(), str::to_owned);
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE library_id = $1 AND path >= $2 AND path < $3 \
             AND ($4 = FALSE OR path > $2) ORDER BY path LIMIT $5"
        );
        let fetch = i64::from(limit) + 1;
        let mut items: Vec<FileRecord> = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(library_id)
                .bind(&lower)
                .bind(&upper)
                .bind(after.is_some())
                .bind(fetch)
                .fetch_all(pool)
                .await?
        });
        let next_after = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|f| f.path.clone())
        } else {
            None
        };
        Ok(FilePage { items, next_after })
    }

    pub async fn get_file(&self, library_id: Uuid, path: &str) -> Result<Option<FileRecord>> {
        let sql = format!("SELECT {FILE_COLUMNS} FROM files WHERE library_id = $1 AND path = $2");
        let file = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(library_id)
                .bind(path)
                .fetch_optional(pool)
                .await?
        });
        Ok(file)
    }

    pub async fn count_files(&self, library_id: Uuid) -> Result<i64> {
        let count = on_db!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM files WHERE library_id = $1")
                .bind(library_id)
                .fetch_one(pool)
                .await?
        });
        Ok(count)
    }

    /// How many files the library holds and their total size in bytes (the
    /// console's library list shows both).
    pub async fn file_totals(&self, library_id: Uuid) -> Result<(i64, i64)> {
        let totals: (i64, i64) = on_db!(self, |pool| {
            sqlx::query_as(
                "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files WHERE library_id = $1",
            )
            .bind(library_id)
            .fetch_one(pool)
            .await?
        });
        Ok(totals)
    }

    /// Creates or replaces the file at `record.path`, pointing at the blob
    /// `record.hash`. `blob_still_stored` runs inside the transaction, after
    /// both rows are written: it must say whether the blob is in storage.
    /// If it is not, nothing is written and `BlobVanished` is returned.
    /// Returns the hash the path pointed at before, if it changed.
    pub async fn put_file<F, Fut>(
        &self,
        record: &FileRecord,
        blob_still_stored: F,
    ) -> Result<Option<String>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<bool, String>>,
    {
        let now = Utc::now();
        let previous = on_db!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO blobs (hash, size, created_at) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING",
            )
            .bind(&record.hash)
            .bind(record.size)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let previous: Option<String> =
                sqlx::query_scalar("SELECT hash FROM files WHERE library_id = $1 AND path = $2")
                    .bind(record.library_id)
                    .bind(&record.path)
                    .fetch_optional(&mut *tx)
                    .await?;
            sqlx::query(
                "INSERT INTO files (library_id, path, size, content_type, hash, modified_at, remote_id, synced_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (library_id, path) DO UPDATE SET size = excluded.size, \
                 content_type = excluded.content_type, hash = excluded.hash, modified_at = excluded.modified_at, \
                 remote_id = excluded.remote_id, synced_at = excluded.synced_at, updated_at = excluded.updated_at",
            )
            .bind(record.library_id)
            .bind(&record.path)
            .bind(record.size)
            .bind(&record.content_type)
            .bind(&record.hash)
            .bind(record.modified_at)
            .bind(&record.remote_id)
            .bind(record.synced_at)
            .bind(record.created_at)
            .bind(record.updated_at)
            .execute(&mut *tx)
            .await?;
            if !blob_still_stored().await.map_err(StoreError::Blob)? {
                return Err(StoreError::BlobVanished(record.hash.clone()));
            }
            tx.commit().await?;
            previous
        });
        Ok(previous.filter(|old| *old != record.hash))
    }

    /// Deletes the file at `path`; returns the hash it pointed at, or `None`
    /// when there was no such file.
    pub async fn delete_file(&self, library_id: Uuid, path: &str) -> Result<Option<String>> {
        let hash = on_db!(self, |pool| {
            sqlx::query_scalar(
                "DELETE FROM files WHERE library_id = $1 AND path = $2 RETURNING hash",
            )
            .bind(library_id)
            .bind(path)
            .fetch_optional(pool)
            .await?
        });
        Ok(hash)
    }

    /// Deletes the blob `hash` if no file uses it: checks under the write
    /// lock, runs `delete_from_storage`, then drops the row, all before
    /// committing. Returns whether the blob was deleted. A blob in storage
    /// with no row at all (a failed write) is deleted too.
    pub async fn remove_blob_if_orphan<F, Fut>(
        &self,
        hash: &str,
        delete_from_storage: F,
    ) -> Result<bool>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<(), String>>,
    {
        let deleted = on_db!(self, |pool| {
            let lock = format!(
                "SELECT hash FROM blobs WHERE hash = $1{}",
                lock_clause(pool)
            );
            let mut tx = pool.begin_write().await?;
            // Claim the hash with a row when it has none: on PostgreSQL a
            // FOR UPDATE on a missing row locks nothing, and a commit
            // adopting this hash meanwhile would lose its blob. With the
            // row held, such a commit waits for us, then finds the blob
            // gone (BlobVanished) or finds it in use.
            sqlx::query(
                "INSERT INTO blobs (hash, size, created_at) VALUES ($1, 0, $2) ON CONFLICT (hash) DO NOTHING",
            )
            .bind(hash)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await?;
            let _row: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(lock))
                .bind(hash)
                .fetch_optional(&mut *tx)
                .await?;
            // A purge's staged files use blobs too (see `sync::purge`).
            let in_use: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM files WHERE hash = $1) \
                 OR EXISTS (SELECT 1 FROM purge_files WHERE hash = $1)",
            )
            .bind(hash)
            .fetch_one(&mut *tx)
            .await?;
            if in_use {
                false
            } else {
                delete_from_storage().await.map_err(StoreError::Blob)?;
                sqlx::query("DELETE FROM blobs WHERE hash = $1")
                    .bind(hash)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                true
            }
        });
        Ok(deleted)
    }

    /// Hashes of blob rows no file uses, nor any purge's staged file (left
    /// by a crash between deleting files and collecting their blobs, or by
    /// a purge given up).
    pub async fn orphan_blob_hashes(&self, limit: u32) -> Result<Vec<String>> {
        let hashes = on_db!(self, |pool| {
            sqlx::query_scalar(
                "SELECT hash FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.hash = b.hash) \
                 AND NOT EXISTS (SELECT 1 FROM purge_files p WHERE p.hash = b.hash) \
                 ORDER BY hash LIMIT $1",
            )
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        Ok(hashes)
    }

    /// Whether any blob row exists for `hash`.
    pub async fn blob_row_exists(&self, hash: &str) -> Result<bool> {
        let exists = on_db!(self, |pool| {
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM blobs WHERE hash = $1)")
                .bind(hash)
                .fetch_one(pool)
                .await?
        });
        Ok(exists)
    }
}

fn lock_clause<P: LockClause>(_pool: &P) -> &'static str {
    P::FOR_UPDATE
}

/// Blob files that no blob row names: bytes a process stored for files it
/// never committed (killed mid-sync, or the remote changed before the page
/// could commit). The storage sweep in `folio-server` collects them.
impl Store {
    /// Which of `hashes` have a blob row. Any number of hashes; queried a
    /// few hundred at a time.
    pub async fn recorded_blob_hashes(&self, hashes: &[String]) -> Result<HashSet<String>> {
        const PER_QUERY: usize = 500;
        let mut recorded = HashSet::new();
        for chunk in hashes.chunks(PER_QUERY) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT hash FROM blobs WHERE hash IN ({})",
                placeholders.join(", ")
            );
            let found: Vec<String> = on_db!(self, |pool| {
                let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()));
                for hash in chunk {
                    query = query.bind(hash);
                }
                query.fetch_all(pool).await?
            });
            recorded.extend(found);
        }
        Ok(recorded)
    }

    /// Deletes the stored blob `hash` if no blob row names it, and so no
    /// file uses it (`files.hash` references `blobs`). Returns whether
    /// `delete_from_storage` ran and said it deleted the blob (it may decide
    /// not to, e.g. when the blob turns out to have been written again).
    ///
    /// Safe against a commit adopting the same hash at the same moment:
    /// inside a write transaction the hash is claimed with a blob row of our
    /// own, which is never committed. A commit (`put_file`,
    /// `apply_sync_batch`) inserts the blob row first and checks that the
    /// blob is still stored last, before its own commit, so either
    /// - the commit's row came first: the claim waits for the commit
    ///   (PostgreSQL: the unique key; SQLite: the database write lock), then
    ///   finds the row and deletes nothing; or
    /// - the claim came first: the commit waits until the claim is rolled
    ///   back, finds the blob gone and fails with `BlobVanished` instead of
    ///   pointing a file at missing bytes.
    pub async fn remove_unrecorded_blob<F, Fut>(
        &self,
        hash: &str,
        delete_from_storage: F,
    ) -> Result<bool>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = std::result::Result<bool, String>>,
    {
        let deleted = on_db!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let claimed = sqlx::query(
                "INSERT INTO blobs (hash, size, created_at) VALUES ($1, 0, $2) ON CONFLICT (hash) DO NOTHING",
            )
            .bind(hash)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            let deleted = if claimed {
                delete_from_storage().await.map_err(StoreError::Blob)?
            } else {
                false
            };
            tx.rollback().await?;
            deleted
        });
        Ok(deleted)
    }
}
