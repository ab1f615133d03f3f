//! The sqlx commit path: each kind of change written with a few multi-row
//! statements ([`ROWS_PER_STATEMENT`] rows each) instead of one statement
//! per row. Their SQL is the subset both backends accept (`IN (...)`
//! lists, multi-row `VALUES`, `UPDATE ... FROM (VALUES ...)`, whose
//! columns both name `column1`, `column2`).

use std::future::Future;

use chrono::Utc;
use foldhash::{HashMap, HashSet, HashSetExt};
use sqlx::{Database, Pool, QueryBuilder};

use crate::error::{Result, StoreError};
use crate::models::FileRecord;
use crate::store::{BeginWrite, Store, on_db};
use crate::sync::commit::plan::{CURSOR_SQL, FENCE_SQL, MOVING_PREFIX, Writes};
use crate::sync::rows::{RemoteItemRow, Space};

/// Rows per multi-row statement: at 16 columns well under both backends'
/// limits on bound parameters (SQLite 32,766, PostgreSQL 65,535).
const ROWS_PER_STATEMENT: usize = 500;

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

/// Writes `writes` in one transaction on `store`'s pool (see
/// [`Store::apply_sync_batch`]), starting the released hashes with
/// `released`.
pub(super) async fn apply<F, Fut>(
    store: &Store,
    writes: Writes,
    mut released: Vec<String>,
    blobs_still_stored: F,
) -> Result<Vec<String>>
where
    F: FnOnce(Vec<String>) -> Fut,
    Fut: Future<Output = std::result::Result<bool, String>>,
{
    let puts: Vec<&FileRecord> = writes.puts().collect();
    let moves: Vec<(&str, &str)> = writes.moves().collect();
    let items: Vec<&RemoteItemRow> = writes.items().collect();
    let batch = &writes.batch;
    let now = Utc::now();
    let lib = batch.library_id;
    let (files, remote_items) = (batch.space.files(), batch.space.items());
    let released = on_db!(store, |pool| {
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
            let previous: Vec<(String, String)> = q.build_query_as().fetch_all(&mut *tx).await?;
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
                     updated_at, path_lower, content_kind, fetch_failure, content_state) "
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
                    .push_bind(item.remote_hash_text())
                    .push_bind(&item.version)
                    .push_bind(&item.content_hash)
                    .push_bind(item.seen_listing)
                    .push_bind(now)
                    .push_bind(&item.path_lower)
                    .push_bind(item.content_kind_text())
                    .push_bind(item.fetch_failure_text())
                    .push_bind(item.content_state.as_str());
            });
            q.push(
                " ON CONFLICT (library_id, remote_id) DO UPDATE SET \
                 parent_id = excluded.parent_id, name = excluded.name, \
                 is_folder = excluded.is_folder, path = excluded.path, size = excluded.size, \
                 remote_hash = excluded.remote_hash, version = excluded.version, \
                 content_hash = excluded.content_hash, seen_listing = excluded.seen_listing, \
                 updated_at = excluded.updated_at, path_lower = excluded.path_lower, \
                 content_kind = excluded.content_kind, fetch_failure = excluded.fetch_failure, \
                 content_state = excluded.content_state",
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
