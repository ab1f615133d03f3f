//! [`Store::apply_sync_batch`]: one page of sync changes and its cursor in
//! one transaction.
//!
//! On SQLite the batch goes to the store's [`SqliteWriter`] (rusqlite,
//! statements prepared once and run once per row: see its module for
//! why). On PostgreSQL each kind of change is written here with a few
//! multi-row sqlx statements ([`ROWS_PER_STATEMENT`] rows each) instead of
//! one statement per row. Their SQL is the subset both backends accept
//! (`IN (...)` lists, multi-row `VALUES`, `UPDATE ... FROM (VALUES ...)`,
//! whose columns both name `column1`, `column2`), so it also serves a
//! SQLite store without a writer: an in-memory database, which the writer
//! cannot open by name.
//!
//! [`SqliteWriter`]: crate::sqlite_writer::SqliteWriter

use std::future::Future;

use chrono::Utc;
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use sqlx::{Database, Pool, QueryBuilder};

use crate::backend::{BeginWrite, on_db};
use crate::sqlite_writer::Writes;
use crate::sync::{RemoteItemRow, Space, SyncBatch};
use crate::{FileRecord, Result, Store, StoreError};

/// Rows per multi-row statement: at 14 columns well under both backends'
/// limits on bound parameters (SQLite 32,766, PostgreSQL 65,535).
const ROWS_PER_STATEMENT: usize = 500;

/// Prefix of the temporary names file moves pass through (a control
/// character, so no library path can have it).
pub(crate) const MOVING_PREFIX: &str = "\u{1}moving/";

/// A query builder for `pool`'s database (the pool only names the type).
fn builder<DB: Database>(_pool: &Pool<DB>, sql: &str) -> QueryBuilder<DB>
where
    DB::Arguments: Default,
{
    QueryBuilder::new(sql)
}

/// Appends `(v1, v2, ...)`, each value bound (never an empty list: the
/// callers pass chunks of at least one).
fn push_list<'t, DB: Database, T>(q: &mut QueryBuilder<DB>, values: impl IntoIterator<Item = T>)
where
    T: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    q.push("(");
    let mut list = q.separated(", ");
    for value in values {
        list.push_bind(value);
    }
    q.push(")");
}

impl Store {
    /// Commits one page: the fence (the run's lease, see
    /// [`crate::sync::Fence`]), file deletes, file moves, file puts (blob rows first),
    /// item deletes, item upserts, then the cursor, into the batch's
    /// [`Space`] (a purge's staging area stores no cursor). Before commit,
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
        let (puts, released) = last_put_per_path(&batch.file_puts);
        let moves = first_move_per_source(&batch.file_moves);
        let items = last_upsert_per_item(&batch.item_upserts);
        if let Some(writer) = &self.sqlite_writer {
            let writes = Writes {
                batch,
                puts,
                moves,
                items,
            };
            return writer.apply(writes, released, blobs_still_stored).await;
        }
        let puts: Vec<&FileRecord> = puts.iter().map(|&i| &batch.file_puts[i]).collect();
        let moves: Vec<(&str, &str)> = moves
            .iter()
            .map(|&i| {
                let (from, to) = &batch.file_moves[i];
                (from.as_str(), to.as_str())
            })
            .collect();
        let items: Vec<&RemoteItemRow> = items.iter().map(|&i| &batch.item_upserts[i]).collect();
        let mut released = released;
        let now = Utc::now();
        let lib = batch.library_id;
        let (files, remote_items) = (batch.space.files(), batch.space.items());
        let released = on_db!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            if let Some(fence) = &batch.fence {
                let held = sqlx::query(FENCE_SQL)
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
            for paths in batch.file_deletes.chunks(ROWS_PER_STATEMENT) {
                let mut q = builder(pool, &format!("DELETE FROM {files} WHERE library_id = "));
                q.push_bind(lib).push(" AND path IN ");
                push_list(&mut q, paths);
                q.push(" RETURNING hash");
                let hashes: Vec<String> = q.build_query_scalar().fetch_all(&mut *tx).await?;
                released.extend(hashes);
            }
            for chunk in moves.chunks(ROWS_PER_STATEMENT) {
                let mut q = builder(pool, &format!("UPDATE {files} SET path = "));
                q.push_bind(MOVING_PREFIX)
                    .push(" || path, updated_at = ")
                    .push_bind(now)
                    .push(" WHERE library_id = ")
                    .push_bind(lib)
                    .push(" AND path IN ");
                push_list(&mut q, chunk.iter().map(|(from, _)| *from));
                q.build().execute(&mut *tx).await?;
            }
            for chunk in moves.chunks(ROWS_PER_STATEMENT) {
                let mut q = builder(pool, &format!("UPDATE {files} SET path = v.column2 FROM ("));
                q.push_values(chunk, |mut row, (from, to)| {
                    row.push_bind(format!("{MOVING_PREFIX}{from}"))
                        .push_bind(*to);
                });
                q.push(format!(") AS v WHERE {files}.library_id = "))
                    .push_bind(lib)
                    .push(format!(" AND {files}.path = v.column1"));
                q.build().execute(&mut *tx).await?;
            }
            for chunk in puts.chunks(ROWS_PER_STATEMENT) {
                let mut q = builder(pool, "INSERT INTO blobs (hash, size, created_at) ");
                let mut hashes = HashSet::new();
                let blobs = chunk.iter().filter(|r| hashes.insert(r.hash.as_str()));
                q.push_values(blobs, |mut row, record| {
                    row.push_bind(&record.hash)
                        .push_bind(record.size)
                        .push_bind(now);
                });
                q.push(" ON CONFLICT (hash) DO NOTHING");
                q.build().execute(&mut *tx).await?;

                let mut q = builder(
                    pool,
                    &format!("SELECT path, hash FROM {files} WHERE library_id = "),
                );
                q.push_bind(lib).push(" AND path IN ");
                push_list(&mut q, chunk.iter().map(|r| &r.path));
                let previous: Vec<(String, String)> =
                    q.build_query_as().fetch_all(&mut *tx).await?;
                let new_hash: HashMap<&str, &str> = chunk
                    .iter()
                    .map(|r| (r.path.as_str(), r.hash.as_str()))
                    .collect();
                released.extend(
                    previous
                        .into_iter()
                        .filter(|(path, old)| new_hash.get(path.as_str()) != Some(&old.as_str()))
                        .map(|(_, old)| old),
                );

                let mut q = builder(
                    pool,
                    &format!(
                        "INSERT INTO {files} (library_id, path, size, content_type, hash, modified_at, \
                         remote_id, synced_at, created_at, updated_at) "
                    ),
                );
                q.push_values(chunk, |mut row, record| {
                    row.push_bind(lib)
                        .push_bind(&record.path)
                        .push_bind(record.size)
                        .push_bind(&record.content_type)
                        .push_bind(&record.hash)
                        .push_bind(record.modified_at)
                        .push_bind(&record.remote_id)
                        .push_bind(record.synced_at)
                        .push_bind(record.created_at)
                        .push_bind(record.updated_at);
                });
                q.push(
                    " ON CONFLICT (library_id, path) DO UPDATE SET size = excluded.size, \
                     content_type = excluded.content_type, hash = excluded.hash, \
                     modified_at = excluded.modified_at, remote_id = excluded.remote_id, \
                     synced_at = excluded.synced_at, updated_at = excluded.updated_at",
                );
                q.build().execute(&mut *tx).await?;
            }
            for ids in batch.item_deletes.chunks(ROWS_PER_STATEMENT) {
                let mut q = builder(
                    pool,
                    &format!("DELETE FROM {remote_items} WHERE library_id = "),
                );
                q.push_bind(lib).push(" AND remote_id IN ");
                push_list(&mut q, ids);
                q.build().execute(&mut *tx).await?;
            }
            for chunk in items.chunks(ROWS_PER_STATEMENT) {
                let mut q = builder(
                    pool,
                    &format!(
                        "INSERT INTO {remote_items} (library_id, remote_id, parent_id, name, \
                         is_folder, path, size, remote_hash, version, content_hash, seen_listing, \
                         updated_at, path_lower, content_kind, fetch_failure) "
                    ),
                );
                q.push_values(chunk, |mut row, item| {
                    row.push_bind(lib)
                        .push_bind(&item.remote_id)
                        .push_bind(&item.parent_id)
                        .push_bind(&item.name)
                        .push_bind(item.is_folder)
                        .push_bind(&item.path)
                        .push_bind(item.size)
                        .push_bind(&item.remote_hash)
                        .push_bind(&item.version)
                        .push_bind(&item.content_hash)
                        .push_bind(item.seen_listing)
                        .push_bind(now)
                        .push_bind(&item.path_lower)
                        .push_bind(&item.content_kind)
                        .push_bind(&item.fetch_failure);
                });
                q.push(
                    " ON CONFLICT (library_id, remote_id) DO UPDATE SET \
                     parent_id = excluded.parent_id, name = excluded.name, \
                     is_folder = excluded.is_folder, path = excluded.path, size = excluded.size, \
                     remote_hash = excluded.remote_hash, version = excluded.version, \
                     content_hash = excluded.content_hash, seen_listing = excluded.seen_listing, \
                     updated_at = excluded.updated_at, path_lower = excluded.path_lower, \
                     content_kind = excluded.content_kind, fetch_failure = excluded.fetch_failure",
                );
                q.build().execute(&mut *tx).await?;
            }
            if let (Some(cursor), Space::Live) = (&batch.cursor, batch.space) {
                sqlx::query(CURSOR_SQL)
                    .bind(lib)
                    .bind(&cursor.cursor)
                    .bind(cursor.complete)
                    .bind(cursor.listing_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            let hashes = puts.iter().map(|f| f.hash.clone()).collect();
            if !blobs_still_stored(hashes).await.map_err(StoreError::Blob)? {
                return Err(StoreError::BlobVanished(
                    "one of the files of this page".to_owned(),
                ));
            }
            tx.commit().await?;
            released
        });
        Ok(released)
    }
}

/// Renews a run's lease inside a batch's transaction, if the run still
/// holds it ([`crate::sync::Fence`]): `$1` run id, `$2` owner, `$3` the lease's new end.
pub(crate) const FENCE_SQL: &str = "UPDATE sync_runs SET lease_until_ms = $3 \
     WHERE id = $1 AND lease_owner = $2 AND status = 'running'";

/// Stores a library's change cursor: `$1` library id, `$2` cursor, `$3`
/// complete, `$4` listing id, `$5` when.
pub(crate) const CURSOR_SQL: &str = "INSERT INTO sync_cursors \
     (library_id, cursor, complete, listing_id, updated_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (library_id) DO UPDATE SET \
     cursor = excluded.cursor, complete = excluded.complete, \
     listing_id = excluded.listing_id, updated_at = excluded.updated_at";

/// The puts to write, the last one per path (their indexes, in the order
/// of those last ones), and the hashes of the earlier puts they override:
/// their bytes were stored for nothing, so they are release candidates
/// like replaced bytes.
fn last_put_per_path(puts: &[FileRecord]) -> (Vec<usize>, Vec<String>) {
    let mut last: HashMap<&str, usize> = HashMap::with_capacity(puts.len());
    for (index, put) in puts.iter().enumerate() {
        last.insert(put.path.as_str(), index);
    }
    let mut kept = Vec::with_capacity(last.len());
    let mut overridden = Vec::new();
    for (index, put) in puts.iter().enumerate() {
        let winner = &puts[last[put.path.as_str()]];
        if last[put.path.as_str()] == index {
            kept.push(index);
        } else if put.hash != winner.hash {
            overridden.push(put.hash.clone());
        }
    }
    (kept, overridden)
}

/// The moves to make (their indexes), the first one per source path (one
/// at a time, a second move of the same source finds nothing left to
/// move).
fn first_move_per_source(moves: &[(String, String)]) -> Vec<usize> {
    let mut seen = HashSet::with_capacity(moves.len());
    (0..moves.len())
        .filter(|&index| seen.insert(moves[index].0.as_str()))
        .collect()
}

/// The item rows to write (their indexes), the last one per remote id.
fn last_upsert_per_item(items: &[RemoteItemRow]) -> Vec<usize> {
    let mut last: HashMap<&str, usize> = HashMap::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        last.insert(item.remote_id.as_str(), index);
    }
    (0..items.len())
        .filter(|&index| last[items[index].remote_id.as_str()] == index)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(path: &str, hash: &str) -> FileRecord {
        let now = Utc::now();
        FileRecord {
            library_id: uuid::Uuid::nil(),
            path: path.into(),
            size: 1,
            content_type: "text/plain".into(),
            hash: hash.into(),
            modified_at: now,
            remote_id: None,
            synced_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn the_last_put_of_a_path_wins_and_the_earlier_bytes_are_released() {
        let puts = [put("a", "1"), put("b", "2"), put("a", "3"), put("a", "3")];
        let (kept, overridden) = last_put_per_path(&puts);
        let kept: Vec<(&str, &str)> = kept
            .iter()
            .map(|&i| (puts[i].path.as_str(), puts[i].hash.as_str()))
            .collect();
        assert_eq!(kept, [("b", "2"), ("a", "3")]);
        assert_eq!(overridden, ["1"]);
    }

    #[test]
    fn a_second_move_of_one_source_is_dropped() {
        let moves = [
            ("a".to_owned(), "b".to_owned()),
            ("a".to_owned(), "c".to_owned()),
            ("b".to_owned(), "a".to_owned()),
        ];
        assert_eq!(first_move_per_source(&moves), [0, 2]);
    }
}
