//! Sync runs: history entry, progress record and the one-at-a-time lease
//! of a library ([`Store::begin_sync_run`]).
//!
//! The lease's times are Unix milliseconds in BIGINT columns, so both
//! backends compare them the same way.

use chrono::{DateTime, Utc};
use folio_domain::{RunPhase, RunStatus, RunTrigger};
use uuid::Uuid;

use crate::decode::{SyncRuns, Text};
use crate::error::{Result, StoreError};
use crate::store::{BeginWrite, Store, on_db};

/// A sync run: history entry, progress record and lease.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SyncRun {
    pub id: Uuid,
    pub library_id: Uuid,
    pub progress_id: String,
    #[sqlx(try_from = "Text<SyncRuns, RunTrigger>")]
    pub trigger_kind: RunTrigger,
    #[sqlx(try_from = "Text<SyncRuns, RunStatus>")]
    pub status: RunStatus,
    #[sqlx(try_from = "Text<SyncRuns, RunPhase>")]
    pub phase: RunPhase,
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
    pub trigger_kind: RunTrigger,
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
    pub phase: RunPhase,
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    pub status: RunStatus,
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

impl RunOutcome {
    /// A run that failed with `message`, having changed nothing.
    pub fn failed(message: String) -> Self {
        Self {
            status: RunStatus::Failed,
            synced_files: 0,
            added_files: 0,
            updated_files: 0,
            deleted_files: 0,
            moved_files: 0,
            failed_files: 0,
            errors: "[]".to_owned(),
            message: Some(message),
        }
    }
}

const RUN_COLUMNS: &str = "id, library_id, progress_id, trigger_kind, status, phase, done, total, \
                           bytes, current_file, synced_files, added_files, updated_files, \
                           deleted_files, errors, message, lease_owner, lease_until_ms, \
                           started_at, updated_at, finished_at, moved_files, failed_files, \
                           total_known";

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
                    .bind(new.trigger_kind.as_str())
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
            .bind(progress.phase.as_str())
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
            .bind(outcome.status.as_str())
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
        trigger_kind: RunTrigger,
        status: RunStatus,
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
            .bind(trigger_kind.as_str())
            .bind(status.as_str())
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
