//! Schedule claims: one scheduled run per due time across replicas
//! ([`Store::claim_sync_schedule`], compare-and-set), and keeping the
//! schedule rows in step with the libraries' `sync_schedule` column.
//!
//! Due times are Unix milliseconds in BIGINT columns, so both backends
//! order them the same way.

use uuid::Uuid;

use crate::error::Result;
use crate::store::{Store, on_db};

/// A library's schedule state.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScheduleRow {
    pub library_id: Uuid,
    pub next_run_ms: i64,
    pub next_reconcile_ms: i64,
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
