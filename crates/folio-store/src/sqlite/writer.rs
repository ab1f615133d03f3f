//! [`SqliteWriter`]: the SQLite side of [`Store::apply_sync_batch`],
//! written through rusqlite's cached prepared statements instead of sqlx.
//!
//! Why a second driver for one function: a sync commits three rows a file
//! (blob, file, item), and sqlx's handling of the bound values (encoding
//! each into an `Arc`, SQLite's copy of it, clearing and freeing them) cost
//! more instructions than SQLite's own writing: about 115 k a file against
//! SQLite's 54 k (callgrind, `examples/commit_cost.rs`). Here each row is
//! one execution of a statement prepared once per connection, with its
//! values bound in place; a file that is new is a plain `INSERT` (no
//! upsert, so SQLite keeps no statement journal for it), tried before any
//! lookup.
//!
//! The writer has one connection of its own to the same database file,
//! opened on first use with the pool's settings. Values are stored as sqlx
//! stores them, so the pool reads them back unchanged: UUIDs as 16-byte
//! blobs, times as RFC 3339 text (`SecondsFormat::AutoSi`), booleans as
//! 0 or 1. Its transaction takes the write lock up front (`BEGIN
//! IMMEDIATE`), as the pool's writing transactions do, and waits for it
//! as long as they do ([`BUSY_TIMEOUT`]).
//!
//! [`Store::apply_sync_batch`]: crate::Store::apply_sync_batch
//! [`BUSY_TIMEOUT`]: crate::sqlite::settings::BUSY_TIMEOUT

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{CachedStatement, Connection, OptionalExtension, params};

use crate::error::{Result, StoreError};
use crate::models::FileRecord;
use crate::sqlite::settings::{BUSY_TIMEOUT, PRAGMAS};
use crate::sync::commit::plan::{CURSOR_SQL, FENCE_SQL, MOVING_PREFIX, Writes};
use crate::sync::rows::{RemoteItemRow, Space};

/// The writer's page cache, in KiB (SQLite's negative `cache_size`).
const WRITER_CACHE_SIZE: &str = "-8192";

/// The writer of sync batches for one SQLite database file.
pub(crate) struct SqliteWriter {
    path: PathBuf,
    /// `None` until first used, and after a commit was abandoned midway
    /// (its connection is dropped with it, which rolls it back).
    connection: Arc<tokio::sync::Mutex<Option<Connection>>>,
}

impl SqliteWriter {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            connection: Arc::new(tokio::sync::Mutex::new(None)),
        }
    }

    /// Writes `writes` in one transaction, asks `blobs_still_stored`
    /// about the put files' hashes before committing (holding the write
    /// lock), and returns the hashes files stopped pointing at, starting
    /// with `released`.
    pub(crate) async fn apply<F, Fut>(
        &self,
        writes: Writes,
        released: Vec<String>,
        blobs_still_stored: F,
    ) -> Result<Vec<String>>
    where
        F: FnOnce(Vec<String>) -> Fut,
        Fut: Future<Output = std::result::Result<bool, String>>,
    {
        let mut slot = self.connection.clone().lock_owned().await;
        let connection = match slot.take() {
            Some(connection) => connection,
            None => open(&self.path)?,
        };
        let hashes = writes.put_hashes();
        let (connection, written) = blocking(move || {
            let written = begin_and_write(&connection, &writes, released);
            (connection, written)
        })
        .await?;
        let released = match written {
            Ok(released) => released,
            Err(err) => {
                *slot = finish(connection, "ROLLBACK").await.ok();
                return Err(err);
            }
        };
        let verdict = blobs_still_stored(hashes).await;
        match verdict {
            Ok(true) => {
                *slot = Some(finish(connection, "COMMIT").await?);
                Ok(released)
            }
            Ok(false) => {
                *slot = finish(connection, "ROLLBACK").await.ok();
                Err(StoreError::BlobVanished(
                    "one of the files of this page".to_owned(),
                ))
            }
            Err(err) => {
                *slot = finish(connection, "ROLLBACK").await.ok();
                Err(StoreError::Blob(err))
            }
        }
    }
}

/// Runs `work` on the blocking pool (SQLite calls block).
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| StoreError::Writer(format!("the SQLite writer's task failed: {err}")))
}

/// Ends the open transaction with `sql` (`COMMIT` or `ROLLBACK`) and
/// gives the connection back.
async fn finish(connection: Connection, sql: &'static str) -> Result<Connection> {
    blocking(move || connection.execute_batch(sql).map(|()| connection))
        .await?
        .map_err(writer_error)
}

fn open(path: &std::path::Path) -> Result<Connection> {
    let connection = Connection::open(path).map_err(writer_error)?;
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .map_err(writer_error)?;
    connection
        .execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        )
        .map_err(writer_error)?;
    // 8 MiB instead of SQLite's 2: a first sync inserts at random places
    // in the hash- and id-keyed indexes, and a smaller cache spilled pages
    // to the WAL mid-transaction and read them back (a third of the
    // writes and most reads, `examples/commit_cost.rs` under strace). One
    // connection only: the pool's keep the default, for memory.
    connection
        .pragma_update(None, "cache_size", WRITER_CACHE_SIZE)
        .map_err(writer_error)?;
    for (name, value) in PRAGMAS {
        connection
            .pragma_update(None, name, value)
            .map_err(writer_error)?;
    }
    Ok(connection)
}

fn writer_error(err: rusqlite::Error) -> StoreError {
    match &err {
        rusqlite::Error::SqliteFailure(code, _)
            if code.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || code.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            StoreError::Conflict("a record with these values")
        }
        _ => StoreError::Writer(err.to_string()),
    }
}

/// Times as sqlx stores them in SQLite.
fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// Opens the transaction, checks the fence and writes everything; on an
/// error the caller rolls back.
fn begin_and_write(
    connection: &Connection,
    writes: &Writes,
    mut released: Vec<String>,
) -> Result<Vec<String>> {
    connection
        .execute_batch("BEGIN IMMEDIATE")
        .map_err(writer_error)?;
    if let Some(fence) = &writes.batch.fence {
        let held = connection
            .prepare_cached(&numbered(FENCE_SQL))
            .and_then(|mut renew| {
                renew.execute(params![
                    fence.run_id.as_bytes().as_slice(),
                    fence.owner,
                    fence.lease_until_ms
                ])
            })
            .map_err(writer_error)?;
        if held == 0 {
            return Err(StoreError::LeaseLost);
        }
    }
    write(connection, writes, &mut released).map_err(writer_error)?;
    Ok(released)
}

/// sqlx's `$n` placeholders as rusqlite's `?n`.
fn numbered(sql: &str) -> String {
    sql.replace('$', "?")
}

/// The statements of one [`Space`], its table names filled in.
struct Statements {
    delete_file: String,
    park: String,
    place: String,
    insert_file: String,
    update_file: String,
    file_hash: String,
    delete_item: String,
    insert_item: String,
    update_item: String,
}

impl Statements {
    fn of(space: Space) -> Self {
        let (files, items) = (space.files(), space.items());
        Self {
            delete_file: format!(
                "DELETE FROM {files} WHERE library_id = ?1 AND path = ?2 RETURNING hash"
            ),
            park: format!(
                "UPDATE {files} SET path = ?1 || path, updated_at = ?2 WHERE library_id = ?3 AND path = ?4"
            ),
            place: format!("UPDATE {files} SET path = ?1 WHERE library_id = ?2 AND path = ?3"),
            insert_file: INSERT_FILE.replace("{files}", files),
            update_file: UPDATE_FILE.replace("{files}", files),
            file_hash: format!("SELECT hash FROM {files} WHERE library_id = ?1 AND path = ?2"),
            delete_item: format!("DELETE FROM {items} WHERE library_id = ?1 AND remote_id = ?2"),
            insert_item: INSERT_ITEM.replace("{items}", items),
            update_item: UPDATE_ITEM.replace("{items}", items),
        }
    }

    fn of_space(space: Space) -> &'static Self {
        static LIVE: LazyLock<Statements> = LazyLock::new(|| Statements::of(Space::Live));
        static PURGE: LazyLock<Statements> = LazyLock::new(|| Statements::of(Space::Purge));
        match space {
            Space::Live => &LIVE,
            Space::Purge => &PURGE,
        }
    }
}

/// The batch's rows, in the order of [`crate::sync::rows::SyncBatch`]'s fields.
fn write(
    connection: &Connection,
    writes: &Writes,
    released: &mut Vec<String>,
) -> rusqlite::Result<()> {
    let batch = &writes.batch;
    let sql = Statements::of_space(batch.space);
    let lib = batch.library_id.as_bytes().as_slice();
    let now = time(Utc::now());
    let mut delete_file = connection.prepare_cached(&sql.delete_file)?;
    for path in &batch.file_deletes {
        let hash: Option<String> = delete_file
            .query_row(params![lib, path], |row| row.get(0))
            .optional()?;
        released.extend(hash);
    }
    let mut park = connection.prepare_cached(&sql.park)?;
    for &i in &writes.moves {
        let (from, _) = &batch.file_moves[i];
        park.execute(params![MOVING_PREFIX, now, lib, from])?;
    }
    let mut place = connection.prepare_cached(&sql.place)?;
    for &i in &writes.moves {
        let (from, to) = &batch.file_moves[i];
        place.execute(params![to, lib, format!("{MOVING_PREFIX}{from}")])?;
    }
    let mut rows = PerFile::prepare(connection, sql)?;
    for &i in &writes.puts {
        rows.put(lib, &batch.file_puts[i], &now, released)?;
    }
    let mut delete_item = connection.prepare_cached(&sql.delete_item)?;
    for id in &batch.item_deletes {
        delete_item.execute(params![lib, id])?;
    }
    for &i in &writes.items {
        rows.upsert_item(lib, &batch.item_upserts[i], &now)?;
    }
    if let (Some(cursor), Space::Live) = (&batch.cursor, batch.space) {
        connection
            .prepare_cached(&numbered(CURSOR_SQL))?
            .execute(params![
                lib,
                cursor.cursor,
                cursor.complete,
                cursor
                    .listing_id
                    .as_ref()
                    .map(|id| id.as_bytes().as_slice()),
                now
            ])?;
    }
    Ok(())
}

const INSERT_BLOB: &str = "INSERT INTO blobs (hash, size, created_at) VALUES (?1, ?2, ?3) \
     ON CONFLICT (hash) DO NOTHING";

/// A file's insert and update share one parameter list; the update leaves
/// `created_at` as it was (?9 is bound and unused: SQLite numbers
/// parameters up to the highest, ?10).
const INSERT_FILE: &str = "INSERT INTO {files} (library_id, path, size, content_type, hash, \
     modified_at, remote_id, synced_at, created_at, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
const UPDATE_FILE: &str = "UPDATE {files} SET size = ?3, content_type = ?4, hash = ?5, \
     modified_at = ?6, remote_id = ?7, synced_at = ?8, updated_at = ?10 \
     WHERE library_id = ?1 AND path = ?2";

const INSERT_ITEM: &str = "INSERT INTO {items} (library_id, remote_id, parent_id, name, \
     is_folder, path, size, remote_hash, version, content_hash, seen_listing, updated_at, \
     path_lower, content_kind, fetch_failure, content_state) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";
const UPDATE_ITEM: &str = "UPDATE {items} SET parent_id = ?3, name = ?4, is_folder = ?5, \
     path = ?6, size = ?7, remote_hash = ?8, version = ?9, content_hash = ?10, \
     seen_listing = ?11, updated_at = ?12, path_lower = ?13, content_kind = ?14, \
     fetch_failure = ?15, content_state = ?16 WHERE library_id = ?1 AND remote_id = ?2";

/// The statements run for every file, taken from the connection's cache
/// once per batch rather than once per row.
///
/// A file or an item is inserted first, and updated only when the insert
/// hits a taken key and a row with its key exists: a first sync, where
/// every row is new, spares a lookup per row (a failed insert is undone by
/// SQLite alone; the transaction goes on). Without such a row, the
/// insert's error stands, and the update checks the unique indexes anew.
struct PerFile<'c> {
    connection: &'c Connection,
    sql: &'static Statements,
    insert_blob: CachedStatement<'c>,
    insert_file: CachedStatement<'c>,
    insert_item: CachedStatement<'c>,
    times: TimeTexts,
}

impl<'c> PerFile<'c> {
    fn prepare(connection: &'c Connection, sql: &'static Statements) -> rusqlite::Result<Self> {
        Ok(Self {
            connection,
            sql,
            insert_blob: connection.prepare_cached(INSERT_BLOB)?,
            insert_file: connection.prepare_cached(&sql.insert_file)?,
            insert_item: connection.prepare_cached(&sql.insert_item)?,
            times: TimeTexts::default(),
        })
    }

    /// One file: its blob row, then its file row; an update releases the
    /// bytes the path held before.
    fn put(
        &mut self,
        lib: &[u8],
        record: &FileRecord,
        now: &str,
        released: &mut Vec<String>,
    ) -> rusqlite::Result<()> {
        self.insert_blob
            .execute(params![record.hash, record.size, now])?;
        let values = params![
            lib,
            record.path,
            record.size,
            record.content_type,
            record.hash,
            self.times.text(record.modified_at),
            record.remote_id,
            record.synced_at.map(|at| self.times.text(at)),
            self.times.text(record.created_at),
            self.times.text(record.updated_at)
        ];
        let taken = match self.insert_file.execute(values) {
            Err(err) if is_unique_conflict(&err) => err,
            inserted => return inserted.map(drop),
        };
        let previous: String = self
            .connection
            .prepare_cached(&self.sql.file_hash)?
            .query_row(params![lib, record.path], |row| row.get(0))
            .optional()?
            .ok_or(taken)?;
        self.connection
            .prepare_cached(&self.sql.update_file)?
            .execute(values)?;
        if previous != record.hash {
            released.push(previous);
        }
        Ok(())
    }

    /// One item row: an insert, or an update when the item has a row.
    fn upsert_item(&mut self, lib: &[u8], item: &RemoteItemRow, now: &str) -> rusqlite::Result<()> {
        let listing = item
            .seen_listing
            .as_ref()
            .map(|id| id.as_bytes().as_slice());
        let values = params![
            lib,
            item.remote_id,
            item.parent_id,
            item.name,
            item.is_folder,
            item.path,
            item.size,
            item.remote_hash_text(),
            item.version,
            item.content_hash,
            listing,
            now,
            item.path_lower,
            item.content_kind_text(),
            item.fetch_failure_text(),
            item.content_state.as_str()
        ];
        let taken = match self.insert_item.execute(values) {
            Err(err) if is_unique_conflict(&err) => err,
            inserted => return inserted.map(drop),
        };
        match self
            .connection
            .prepare_cached(&self.sql.update_item)?
            .execute(values)?
        {
            0 => Err(taken),
            _ => Ok(()),
        }
    }
}

/// A primary key or unique index refused the row. SQLite names the first
/// index it checks, and it checks the unique indexes created last first:
/// a file already at its path is reported by `files_remote_id`.
fn is_unique_conflict(err: &rusqlite::Error) -> bool {
    matches!(err, rusqlite::Error::SqliteFailure(code, _)
        if code.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            || code.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

/// Times as text, the last one kept: a record's synced, created and
/// updated times are one instant, and a page's records often share it.
#[derive(Default)]
struct TimeTexts {
    last: Option<(DateTime<Utc>, String)>,
}

impl TimeTexts {
    fn text(&mut self, at: DateTime<Utc>) -> String {
        match &self.last {
            Some((last, text)) if *last == at => text.clone(),
            _ => {
                let text = time(at);
                self.last = Some((at, text.clone()));
                text
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection as _;

    /// The pool compares and orders these columns as stored text and
    /// blobs, so the writer must store exactly what sqlx binds.
    #[tokio::test]
    async fn times_and_ids_are_stored_as_sqlx_stores_them() {
        let mut sqlx = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .expect("connect");
        let at = Utc::now();
        let id = uuid::Uuid::now_v7();
        let (text, blob): (String, Vec<u8>) = sqlx::query_as("SELECT ?1, ?2")
            .bind(at)
            .bind(id)
            .fetch_one(&mut sqlx)
            .await
            .expect("select");
        assert_eq!(time(at), text);
        assert_eq!(id.as_bytes().as_slice(), blob.as_slice());
    }
}
