//! The sync engine's state: remote item trees, change cursors, sync runs
//! (history, progress and the one-at-a-time lease) and schedule claims.
//!
//! Reading order: [`SyncBatch`] and [`Store::apply_sync_batch`] (one page of
//! changes and its cursor, committed together), the remote item and cursor
//! reads, [`Store::begin_sync_run`] (the lease), progress and finishing,
//! then schedules ([`Store::claim_sync_schedule`], compare-and-set).
//!
//! Times that are compared in SQL (leases, schedules) are Unix milliseconds
//! in BIGINT columns, so both backends order them the same way.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::backend::{BeginWrite, on_db};
use crate::{FileRecord, Result, Store, StoreError};

/// One provider item of a library's source, keyed by its provider id.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RemoteItemRow {
    pub library_id: Uuid,
    pub remote_id: String,
    pub parent_id: Option<String>,
    /// The raw provider name.
    pub name: String,
    pub is_folder: bool,
    /// The library path it maps to; `None` while outside the source or not
    /// placed (skipped, failed).
    pub path: Option<String>,
    pub size: Option<i64>,
    /// The provider's hash, as `kind:value`.
    pub remote_hash: Option<String>,
    pub version: Option<String>,
    /// SHA-256 of the stored blob, for a synced file.
    pub content_hash: Option<String>,
    /// The full listing that last saw the item (mark and sweep).
    pub seen_listing: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
    /// Lowercase path below the source root, for path-addressed providers.
    pub path_lower: Option<String>,
    /// `file`, `none` (shortcuts, documents without export) or `export:EXT`.
    pub content_kind: Option<String>,
    /// Why a placed file has no bytes: [`FETCH_TEMPORARY`] or
    /// [`FETCH_REFUSED`]; `None` for a fetched file (and for rows older
    /// than the column).
    pub fetch_failure: Option<String>,
}

/// [`RemoteItemRow::fetch_failure`] of a file the provider kept failing on
/// (5xx, 429, timeouts, a cut connection): the next sync tries it again.
pub const FETCH_TEMPORARY: &str = "temporary";
/// [`RemoteItemRow::fetch_failure`] of a file the provider refused, or
/// whose bytes never matched its hash: tried again once the retry interval
/// is over.
pub const FETCH_REFUSED: &str = "refused";

/// Where a [`SyncBatch`] is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Space {
    /// The library's files and item tree.
    #[default]
    Live,
    /// The staging area of a purge in progress (`purge_files`,
    /// `purge_items`), switched in by [`Store::finish_purge`]. A batch's
    /// cursor is not stored there: a purge does not resume.
    Purge,
}

impl Space {
    /// The table of its files.
    pub(crate) fn files(self) -> &'static str {
        match self {
            Self::Live => "files",
            Self::Purge => "purge_files",
        }
    }

    /// The table of its item tree.
    pub(crate) fn items(self) -> &'static str {
        match self {
            Self::Live => "remote_items",
            Self::Purge => "purge_items",
        }
    }
}

/// The run a batch is committed for. Its commit renews the run's lease in
/// the same transaction, and writes nothing (`StoreError::LeaseLost`) when
/// the run no longer holds the library: a process paused past its lease,
/// whose library another process took over, cannot write over that
/// process's work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub run_id: Uuid,
    pub owner: String,
    /// The lease's new end (Unix ms).
    pub lease_until_ms: i64,
}

/// Where a library's change feed stands.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CursorRow {
    pub cursor: String,
    /// False while a full listing is in progress (the cursor resumes it).
    pub complete: bool,
    /// The full listing in progress or last completed.
    pub listing_id: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

/// Everything one page of changes writes. [`Store::apply_sync_batch`]
/// commits it in one transaction, in the order of the fields.
#[derive(Debug, Clone, Default)]
pub struct SyncBatch {
    pub library_id: Uuid,
    /// Library paths whose files leave the library.
    pub file_deletes: Vec<String>,
    /// Files that keep their bytes under a new path: `(from, to)`. Applied
    /// through temporary names, so swaps and chains are fine.
    pub file_moves: Vec<(String, String)>,
    /// Files created or replaced (their blobs are already in storage).
    pub file_puts: Vec<FileRecord>,
    /// Provider ids whose item rows go.
    pub item_deletes: Vec<String>,
    /// Item rows created or replaced.
    pub item_upserts: Vec<RemoteItemRow>,
    /// The cursor to store with these changes (`None` keeps the old one).
    pub cursor: Option<CursorRow>,
    /// Live files or a purge's staging area.
    pub space: Space,
    /// The run committing it, if any (see [`Fence`]).
    pub fence: Option<Fence>,
}

impl SyncBatch {
    /// Rows it writes (with the cursor), to size a commit by.
    pub fn rows(&self) -> usize {
        self.file_deletes.len()
            + self.file_moves.len()
            + self.file_puts.len()
            + self.item_deletes.len()
            + self.item_upserts.len()
            + usize::from(self.cursor.is_some())
    }

    /// True when `later` only adds or replaces rows (no delete, no move):
    /// then committing [`SyncBatch::absorb`]'s result equals committing
    /// this batch and then `later`, because puts and upserts already apply
    /// last one wins, after every delete and move of the batch.
    pub fn can_absorb(&self, later: &SyncBatch) -> bool {
        self.library_id == later.library_id
            && self.space == later.space
            && later.file_deletes.is_empty()
            && later.file_moves.is_empty()
            && later.item_deletes.is_empty()
    }

    /// Appends `later`'s puts and upserts, and takes its cursor if it has
    /// one. Only meaningful when [`SyncBatch::can_absorb`] says so.
    pub fn absorb(&mut self, later: SyncBatch) {
        debug_assert!(self.can_absorb(&later));
        self.file_puts.extend(later.file_puts);
        self.item_upserts.extend(later.item_upserts);
        if later.cursor.is_some() {
            self.cursor = later.cursor;
        }
    }
}

/// A sync run: history entry, progress record and lease.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SyncRun {
    pub id: Uuid,
    pub library_id: Uuid,
    pub progress_id: String,
    /// `manual`, `schedule` or `reconcile`.
    pub trigger_kind: String,
    /// `running`, `done`, `failed` or `held` (deletions waiting for a
    /// confirmation).
    pub status: String,
    /// `listing`, `downloading`, `deleting` or `done`.
    pub phase: String,
    pub done: i64,
    pub total: i64,
    pub bytes: i64,
    pub current_file: Option<String>,
    pub synced_files: i64,
    pub added_files: i64,
    pub updated_files: i64,
    pub deleted_files: i64,
    /// JSON array of `{path, remoteId, message}`.
    pub errors: String,
    pub message: Option<String>,
    pub lease_owner: String,
    pub lease_until_ms: i64,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Files moved or renamed (same bytes, new path).
    pub moved_files: i64,
    /// Files that could not be fetched (the `errors` of downloads).
    pub failed_files: i64,
    /// True once the listing is complete: `total` is then final.
    pub total_known: bool,
}

/// What [`Store::begin_sync_run`] needs.
#[derive(Debug, Clone)]
pub struct NewSyncRun {
    pub library_id: Uuid,
    pub progress_id: String,
    pub trigger_kind: String,
    /// Who holds the lease (a process-unique string).
    pub lease_owner: String,
    /// The lease lasts until this instant (Unix ms); renew it before then.
    pub lease_until_ms: i64,
}

/// The answer of [`Store::begin_sync_run`].
#[derive(Debug, Clone, PartialEq)]
pub enum BeginRun {
    /// The new run; its caller holds the lease.
    Started(SyncRun),
    /// Another run of the library holds a live lease.
    Busy(SyncRun),
}

/// A progress snapshot written by the heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunProgress {
    pub phase: String,
    /// Downloads ended (fetched or failed).
    pub done: i64,
    /// Downloads planned so far; final once `total_known`.
    pub total: i64,
    /// False while the listing runs (more downloads may be planned).
    pub total_known: bool,
    pub bytes: i64,
    /// The library path of the file downloaded last: with several
    /// downloads running at once, the one that just ended is the one to
    /// show.
    pub current_file: Option<String>,
    /// What the run changed so far (committed or about to be).
    pub added: i64,
    pub updated: i64,
    pub deleted: i64,
    pub moved: i64,
    pub failed: i64,
}

/// How a run ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunOutcome {
    pub status: String,
    pub synced_files: i64,
    pub added_files: i64,
    pub updated_files: i64,
    pub deleted_files: i64,
    pub moved_files: i64,
    pub failed_files: i64,
    /// JSON array of `{path, remoteId, message}`.
    pub errors: String,
    pub message: Option<String>,
}

/// A library's schedule state.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScheduleRow {
    pub library_id: Uuid,
    pub next_run_ms: i64,
    pub next_reconcile_ms: i64,
}

const ITEM_COLUMNS: &str = "library_id, remote_id, parent_id, name, is_folder, path, size, \
                            remote_hash, version, content_hash, seen_listing, updated_at, \
                            path_lower, content_kind, fetch_failure";
const RUN_COLUMNS: &str = "id, library_id, progress_id, trigger_kind, status, phase, done, total, \
                           bytes, current_file, synced_files, added_files, updated_files, \
                           deleted_files, errors, message, lease_owner, lease_until_ms, \
                           started_at, updated_at, finished_at, moved_files, failed_files, \
                           total_known";

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

impl Store {
    /// Starts a run of `new.library_id` unless another one holds a live
    /// lease (`now_ms` <= its `lease_until_ms`): then returns that one as
    /// [`BeginRun::Busy`]. A running run whose lease lapsed (its process
    /// died) is marked failed and replaced. A partial unique index allows
    /// one running run per library, so two replicas racing here cannot both
    /// start.
    pub async fn begin_sync_run(&self, new: &NewSyncRun, now_ms: i64) -> Result<BeginRun> {
        match self.try_begin_sync_run(new, now_ms).await {
            Err(StoreError::Conflict(_)) => match self.running_sync_run(new.library_id).await? {
                Some(run) => Ok(BeginRun::Busy(run)),
                None => Err(StoreError::Conflict("a running sync of this library")),
            },
            other => other,
        }
    }

    async fn try_begin_sync_run(&self, new: &NewSyncRun, now_ms: i64) -> Result<BeginRun> {
        let now = Utc::now();
        let id = Uuid::new_v4();
        let running_sql = format!(
            "SELECT {RUN_COLUMNS} FROM sync_runs WHERE library_id = $1 AND status = 'running'"
        );
        let started_sql = format!("SELECT {RUN_COLUMNS} FROM sync_runs WHERE id = $1");
        let answer = on_db!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let running: Option<SyncRun> = sqlx::query_as(sqlx::AssertSqlSafe(running_sql))
                .bind(new.library_id)
                .fetch_optional(&mut *tx)
                .await?;
            match running {
                Some(run) if run.lease_until_ms >= now_ms => BeginRun::Busy(run),
                stale => {
                    if let Some(run) = stale {
                        // Only while the lease is still lapsed: a heartbeat
                        // or commit that renewed it meanwhile (PostgreSQL
                        // re-reads the row once its lock is free) wins.
                        let taken = sqlx::query(
                            "UPDATE sync_runs SET status = 'failed', finished_at = $2, updated_at = $2, \
                             message = 'abandoned: the process running it stopped (its lease expired)' \
                             WHERE id = $1 AND status = 'running' AND lease_until_ms < $3",
                        )
                        .bind(run.id)
                        .bind(now)
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                        if taken == 0 {
                            tx.rollback().await?;
                            return Err(StoreError::Conflict("a running sync of this library"));
                        }
                    }
                    sqlx::query(
                        "INSERT INTO sync_runs (id, library_id, progress_id, trigger_kind, status, phase, \
                         done, total, bytes, synced_files, added_files, updated_files, deleted_files, \
                         errors, lease_owner, lease_until_ms, started_at, updated_at) \
                         VALUES ($1, $2, $3, $4, 'running', 'listing', 0, 0, 0, 0, 0, 0, 0, '[]', $5, $6, $7, $7)",
                    )
                    .bind(id)
                    .bind(new.library_id)
                    .bind(&new.progress_id)
                    .bind(&new.trigger_kind)
                    .bind(&new.lease_owner)
                    .bind(new.lease_until_ms)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    let run: SyncRun = sqlx::query_as(sqlx::AssertSqlSafe(started_sql))
                        .bind(id)
                        .fetch_one(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    BeginRun::Started(run)
                }
            }
        });
        Ok(answer)
    }

    /// Writes progress and extends the lease of a running run held by
    /// `owner`. Returns false when the run is no longer this owner's
    /// (taken over after a lapse, or finished): the caller must stop.
    pub async fn renew_sync_run(
        &self,
        run_id: Uuid,
        owner: &str,
        progress: &RunProgress,
        lease_until_ms: i64,
    ) -> Result<bool> {
        let now = Utc::now();
        let updated = on_db!(self, |pool| {
            sqlx::query(
                "UPDATE sync_runs SET phase = $3, done = $4, total = $5, bytes = $6, current_file = $7, \
                 lease_until_ms = $8, updated_at = $9, total_known = $10, added_files = $11, \
                 updated_files = $12, deleted_files = $13, moved_files = $14, failed_files = $15 \
                 WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
            )
            .bind(run_id)
            .bind(owner)
            .bind(&progress.phase)
            .bind(progress.done)
            .bind(progress.total)
            .bind(progress.bytes)
            .bind(&progress.current_file)
            .bind(lease_until_ms)
            .bind(now)
            .bind(progress.total_known)
            .bind(progress.added)
            .bind(progress.updated)
            .bind(progress.deleted)
            .bind(progress.moved)
            .bind(progress.failed)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated == 1)
    }

    /// Records how a run ended and releases its lease.
    pub async fn finish_sync_run(&self, run_id: Uuid, outcome: &RunOutcome) -> Result<()> {
        let now = Utc::now();
        let updated = on_db!(self, |pool| {
            sqlx::query(
                "UPDATE sync_runs SET status = $2, phase = 'done', current_file = NULL, synced_files = $3, \
                 added_files = $4, updated_files = $5, deleted_files = $6, errors = $7, message = $8, \
                 finished_at = $9, updated_at = $9, moved_files = $10, failed_files = $11 WHERE id = $1",
            )
            .bind(run_id)
            .bind(&outcome.status)
            .bind(outcome.synced_files)
            .bind(outcome.added_files)
            .bind(outcome.updated_files)
            .bind(outcome.deleted_files)
            .bind(&outcome.errors)
            .bind(&outcome.message)
            .bind(now)
            .bind(outcome.moved_files)
            .bind(outcome.failed_files)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if updated == 0 {
            return Err(StoreError::NotFound("sync run"));
        }
        Ok(())
    }

    /// Records a run that never started work (a scheduled sync without a
    /// usable connection): one finished row with `status` and `message`.
    pub async fn record_sync_run(
        &self,
        library_id: Uuid,
        trigger_kind: &str,
        status: &str,
        message: &str,
    ) -> Result<SyncRun> {
        let now = Utc::now();
        let id = Uuid::new_v4();
        let sql = format!("SELECT {RUN_COLUMNS} FROM sync_runs WHERE id = $1");
        let run = on_db!(self, |pool| {
            sqlx::query(
                "INSERT INTO sync_runs (id, library_id, progress_id, trigger_kind, status, phase, \
                 done, total, bytes, synced_files, added_files, updated_files, deleted_files, \
                 errors, message, lease_owner, lease_until_ms, started_at, updated_at, finished_at) \
                 VALUES ($1, $2, $3, $4, $5, 'done', 0, 0, 0, 0, 0, 0, 0, '[]', $6, '', 0, $7, $7, $7)",
            )
            .bind(id)
            .bind(library_id)
            .bind(id.to_string())
            .bind(trigger_kind)
            .bind(status)
            .bind(message)
            .bind(now)
            .execute(pool)
            .await?;
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_one(pool)
                .await?
        });
        Ok(run)
    }

    /// Marks a running run failed with `message`, if `owner` still holds
    /// it: for a run whose process is proven dead (see `folio_sync::run`),
    /// so its library need not wait for the lease to lapse. False when the
    /// run had ended or was taken over meanwhile.
    pub async fn abandon_sync_run(&self, run_id: Uuid, owner: &str, message: &str) -> Result<bool> {
        let now = Utc::now();
        let updated = on_db!(self, |pool| {
            sqlx::query(
                "UPDATE sync_runs SET status = 'failed', current_file = NULL, finished_at = $3, \
                 updated_at = $3, message = $4 WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
            )
            .bind(run_id)
            .bind(owner)
            .bind(now)
            .bind(message)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated == 1)
    }

    /// Every running run, of every library (live lease or not).
    pub async fn running_sync_runs(&self) -> Result<Vec<SyncRun>> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM sync_runs WHERE status = 'running'");
        let runs = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await?
        });
        Ok(runs)
    }

    /// The running run of a library, if any (live lease or not).
    pub async fn running_sync_run(&self, library_id: Uuid) -> Result<Option<SyncRun>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM sync_runs WHERE library_id = $1 AND status = 'running'"
        );
        let run = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(library_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(run)
    }

    /// The newest run that carries `progress_id`.
    pub async fn sync_run_by_progress(&self, progress_id: &str) -> Result<Option<SyncRun>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM sync_runs WHERE progress_id = $1 ORDER BY started_at DESC LIMIT 1"
        );
        let run = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(progress_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(run)
    }

    /// A library's runs, newest first.
    pub async fn list_sync_runs(&self, library_id: Uuid, limit: u32) -> Result<Vec<SyncRun>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM sync_runs WHERE library_id = $1 ORDER BY started_at DESC LIMIT $2"
        );
        let runs = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(library_id)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        Ok(runs)
    }
}

impl Store {
    /// Creates or replaces a library's schedule state.
    pub async fn put_sync_schedule(&self, row: &ScheduleRow) -> Result<()> {
        on_db!(self, |pool| {
            sqlx::query(
                "INSERT INTO sync_schedules (library_id, next_run_ms, next_reconcile_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (library_id) DO UPDATE SET next_run_ms = excluded.next_run_ms, \
                 next_reconcile_ms = excluded.next_reconcile_ms",
            )
            .bind(row.library_id)
            .bind(row.next_run_ms)
            .bind(row.next_reconcile_ms)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Drops a library's schedule state (its schedule was removed).
    pub async fn delete_sync_schedule(&self, library_id: Uuid) -> Result<()> {
        on_db!(self, |pool| {
            sqlx::query("DELETE FROM sync_schedules WHERE library_id = $1")
                .bind(library_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// A library's schedule state.
    pub async fn get_sync_schedule(&self, library_id: Uuid) -> Result<Option<ScheduleRow>> {
        let row = on_db!(self, |pool| {
            sqlx::query_as(
                "SELECT library_id, next_run_ms, next_reconcile_ms FROM sync_schedules WHERE library_id = $1",
            )
            .bind(library_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    /// Schedules due at `now_ms`, earliest first.
    pub async fn due_sync_schedules(&self, now_ms: i64, limit: u32) -> Result<Vec<ScheduleRow>> {
        let rows = on_db!(self, |pool| {
            sqlx::query_as(
                "SELECT library_id, next_run_ms, next_reconcile_ms FROM sync_schedules \
                 WHERE next_run_ms <= $1 ORDER BY next_run_ms LIMIT $2",
            )
            .bind(now_ms)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// Claims one tick of a schedule: moves `next_run_ms` from `expected`
    /// to `next` only if no other replica moved it first. True means this
    /// caller owns the tick and runs the sync.
    pub async fn claim_sync_schedule(
        &self,
        library_id: Uuid,
        expected: i64,
        next: i64,
    ) -> Result<bool> {
        let updated = on_db!(self, |pool| {
            sqlx::query(
                "UPDATE sync_schedules SET next_run_ms = $3 WHERE library_id = $1 AND next_run_ms = $2",
            )
            .bind(library_id)
            .bind(expected)
            .bind(next)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated == 1)
    }
}

/// Keeping `sync_schedules` in step with the libraries' `sync_schedule`
/// column, and the reconcile clock. The scheduler runs the first two every
/// tick, so rows lost between a library write and its schedule write (a
/// crash, an older replica, a restored database) are repaired without
/// anyone noticing.
impl Store {
    /// Adds a schedule row, due at `next_run_ms`, for every library that
    /// has a `sync_schedule` but no row. A row that appears meanwhile (a
    /// route wrote it) is kept. Returns how many rows were added.
    pub async fn insert_missing_sync_schedules(
        &self,
        next_run_ms: i64,
        next_reconcile_ms: i64,
    ) -> Result<u64> {
        let added = on_db!(self, |pool| {
            sqlx::query(
                "INSERT INTO sync_schedules (library_id, next_run_ms, next_reconcile_ms) \
                 SELECT l.id, $1, $2 FROM libraries l WHERE l.sync_schedule IS NOT NULL \
                 AND NOT EXISTS (SELECT 1 FROM sync_schedules s WHERE s.library_id = l.id) \
                 ON CONFLICT (library_id) DO NOTHING",
            )
            .bind(next_run_ms)
            .bind(next_reconcile_ms)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(added)
    }

    /// Drops the schedule rows of libraries that no longer have a
    /// `sync_schedule`. Returns how many rows went.
    pub async fn delete_unscheduled_sync_schedules(&self) -> Result<u64> {
        let deleted = on_db!(self, |pool| {
            sqlx::query(
                "DELETE FROM sync_schedules WHERE library_id IN \
                 (SELECT id FROM libraries WHERE sync_schedule IS NULL)",
            )
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(deleted)
    }

    /// Sets when a library's next reconcile is due (after one succeeded).
    /// False when the library has no schedule row (any more).
    pub async fn set_next_reconcile(
        &self,
        library_id: Uuid,
        next_reconcile_ms: i64,
    ) -> Result<bool> {
        let updated = on_db!(self, |pool| {
            sqlx::query("UPDATE sync_schedules SET next_reconcile_ms = $2 WHERE library_id = $1")
                .bind(library_id)
                .bind(next_reconcile_ms)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(updated == 1)
    }
}
