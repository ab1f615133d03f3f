//! The sync scheduler: syncs every library that has a `syncSchedule` on
//! time, once per tick across all replicas, and makes a library's first
//! scheduled run after each reconcile interval a reconcile (a full listing
//! compared by remote id and hash, catching what a change feed missed).
//!
//! Reading order: [`SchedulerConfig`], [`Scheduler::start`] (the loop),
//! `Ticker::tick` (one step: keep the schedule rows in step, claim what is
//! due, spawn the runs), `run_scheduled` (one run, and how its failures are
//! recorded), then [`schedule_changed`] (what the library service calls).
//!
//! Coordination goes through the database only. A replica runs a tick of a
//! library after winning [`folio_store::Store::claim_sync_schedule`], a
//! compare-and-set on `next_run_ms`, so with several replicas on one
//! database exactly one runs each tick. The next run is `now + interval`
//! from the claim, so ticks missed while every replica was down are not
//! piled up. The sync itself still takes the library's lease, so a
//! scheduled run never overlaps a manual one: a busy library is skipped
//! quietly until its next tick.
//!
//! Schedule rows (`sync_schedules`) follow the libraries' `syncSchedule`:
//! the library service writes them at once (a new or changed schedule is due
//! at the next tick, a removed one drops its row, deleting a library
//! cascades), and every tick the scheduler also adds the rows missing for
//! scheduled libraries, drops those of unscheduled ones, and re-reads the
//! library before it runs. So a change made on another replica, or a row
//! lost to a crash between the two writes, never leaves a library
//! unscheduled, nor syncing without a schedule.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use folio_domain::{RunStatus, RunTrigger, SyncSchedule};
use folio_store::sync::ScheduleRow;
use folio_store::{Library, StoreError};
use folio_sync::executor::SyncOptions;
use folio_sync::run::Started;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::sync::{RunSpec, library_connector, run_under_lease};
use crate::{App, AppError};

/// How the scheduler of one replica behaves.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// How often due schedules are looked for. Schedules are in minutes, so
    /// a few seconds is plenty; tests use milliseconds.
    pub tick: Duration,
    /// Scheduled syncs this replica runs at once; 0 runs none (an API-only
    /// replica). Due schedules beyond this wait for a later tick or for
    /// another replica.
    pub max_concurrent: usize,
    /// After this long, a library's next scheduled run is a reconcile;
    /// `None` never reconciles.
    pub reconcile_interval: Option<Duration>,
    /// On shutdown, how long running scheduled syncs may take to finish
    /// before they are stopped (their lease then lapses and the next run
    /// takes over; nothing is half-written).
    pub shutdown_grace: Duration,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(15),
            max_concurrent: 2,
            reconcile_interval: Some(Duration::from_secs(24 * 3600)),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Due schedules read per tick, per free run slot: a few spare for the
/// ones another replica claims first.
const DUE_PER_SLOT: usize = 4;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

fn interval_ms(schedule: SyncSchedule) -> i64 {
    i64::from(schedule.interval_minutes) * 60_000
}

/// When a schedule row made at `now` is first due for a reconcile. With
/// reconciles off the value is never read; `now` then makes turning them
/// on reconcile soon.
fn first_reconcile_ms(config: &SchedulerConfig, now: i64) -> i64 {
    now + config.reconcile_interval.map_or(0, duration_ms)
}

/// Local libraries get their files from uploads: a schedule on one has
/// nothing to run.
fn is_provider_library(library: &Library) -> bool {
    library.library_type.is_provider()
}

/// A running scheduler; dropping it stops the ticking too.
pub struct Scheduler {
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Scheduler {
    /// Starts ticking on the current runtime with `app.config.scheduler`.
    pub fn start(app: impl Into<App>) -> Self {
        let stop = CancellationToken::new();
        let task = tokio::spawn(run_loop(app.into(), stop.clone()));
        Self {
            stop,
            task: Some(task),
        }
    }

    /// Cancelling this token stops the ticking and starts the shutdown
    /// grace (for a caller that learns of shutdown elsewhere).
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Stops ticking, lets running scheduled syncs finish within the
    /// grace, stops the rest, and returns when all is done.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take()
            && let Err(err) = task.await
        {
            tracing::error!(error = %err, "the scheduler task failed");
        }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn run_loop(app: App, stop: CancellationToken) {
    let config = app.config.scheduler.clone();
    if config.max_concurrent == 0 {
        tracing::info!("scheduled syncs are off on this replica (concurrency 0)");
        return;
    }
    let mut ticker = Ticker {
        permits: Arc::new(Semaphore::new(config.max_concurrent)),
        runs: JoinSet::new(),
        backlog: false,
        config,
        app,
    };
    let mut interval = tokio::time::interval(ticker.config.tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let wake = tokio::select! {
            () = stop.cancelled() => break,
            _ = interval.tick() => Wake::Tick,
            Some(done) = ticker.runs.join_next(), if !ticker.runs.is_empty() => Wake::RunEnded(done),
        };
        if let Wake::RunEnded(Err(err)) = &wake {
            tracing::error!(error = %err, "a scheduled sync task failed");
        }
        // A freed slot is used at once while schedules are waiting for one.
        if matches!(wake, Wake::RunEnded(_)) && !ticker.backlog {
            continue;
        }
        if let Err(err) = ticker.tick().await {
            tracing::warn!(error = format!("{err:#}"), "scheduler tick failed");
        }
    }
    ticker.drain().await;
}

/// Why the loop woke up.
enum Wake {
    Tick,
    RunEnded(Result<(), tokio::task::JoinError>),
}

/// One replica's scheduler state between ticks.
struct Ticker {
    app: App,
    config: SchedulerConfig,
    /// One per scheduled sync running on this replica.
    permits: Arc<Semaphore>,
    runs: JoinSet<()>,
    /// The last tick left due schedules for want of a free slot.
    backlog: bool,
}

/// A claimed tick: what to run.
struct Job {
    library: Library,
    reconcile: bool,
}

impl Ticker {
    /// One step: keep the schedule rows in step with the libraries, then
    /// claim and start as many due schedules as there are free slots.
    async fn tick(&mut self) -> anyhow::Result<()> {
        let now = now_ms();
        self.keep_rows_in_step(now).await?;
        let free = self.permits.available_permits();
        self.backlog = free == 0;
        if free == 0 {
            return Ok(());
        }
        let limit = free * DUE_PER_SLOT;
        let due = self
            .app
            .store
            .due_sync_schedules(now, u32::try_from(limit).unwrap_or(u32::MAX))
            .await
            .context("reading due schedules")?;
        self.backlog = due.len() >= limit;
        for row in due {
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                self.backlog = true;
                break;
            };
            match self.claim(&row, now).await {
                Ok(Some(job)) => {
                    let app = self.app.clone();
                    let config = self.config.clone();
                    self.runs.spawn(run_scheduled(app, config, job, permit));
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(library = %row.library_id, error = format!("{err:#}"), "claiming a scheduled sync failed")
                }
            }
        }
        Ok(())
    }

    /// Adds the rows missing for scheduled libraries (due now) and drops
    /// the rows of libraries whose schedule is gone.
    async fn keep_rows_in_step(&self, now: i64) -> anyhow::Result<()> {
        let store = &self.app.store;
        let added = store
            .insert_missing_sync_schedules(now, first_reconcile_ms(&self.config, now))
            .await
            .context("adding missing schedule rows")?;
        let dropped = store
            .delete_unscheduled_sync_schedules()
            .await
            .context("dropping stale schedule rows")?;
        if added + dropped > 0 {
            tracing::info!(
                added,
                dropped,
                "schedule rows brought in step with the libraries"
            );
        }
        Ok(())
    }

    /// Claims this tick of `row` for this replica. `None`: another replica
    /// won it, or the library no longer has a schedule (its row goes).
    async fn claim(&self, row: &ScheduleRow, now: i64) -> anyhow::Result<Option<Job>> {
        let store = &self.app.store;
        let library = store
            .library_by_id(row.library_id)
            .await
            .context("reading the library")?;
        let Some((library, schedule)) =
            library.and_then(|l| l.sync_schedule.map(|s| s.0).map(|s| (l, s)))
        else {
            store
                .delete_sync_schedule(row.library_id)
                .await
                .context("dropping a schedule row without schedule")?;
            return Ok(None);
        };
        let next = now + interval_ms(schedule);
        if !store
            .claim_sync_schedule(row.library_id, row.next_run_ms, next)
            .await
            .context("claiming the tick")?
        {
            tracing::debug!(library = %library.natural_id, "another replica claimed this tick");
            return Ok(None);
        }
        if !is_provider_library(&library) {
            tracing::debug!(library = %library.natural_id, "a local library has nothing to sync; tick skipped");
            return Ok(None);
        }
        let reconcile = self.config.reconcile_interval.is_some() && row.next_reconcile_ms <= now;
        Ok(Some(Job { library, reconcile }))
    }

    /// Waits for the running syncs up to the grace, then stops the rest.
    async fn drain(mut self) {
        if self.runs.is_empty() {
            return;
        }
        tracing::info!(
            running = self.runs.len(),
            "waiting for scheduled syncs to finish"
        );
        let all_done = async { while self.runs.join_next().await.is_some() {} };
        if tokio::time::timeout(self.config.shutdown_grace, all_done)
            .await
            .is_err()
        {
            tracing::warn!(
                running = self.runs.len(),
                "scheduled syncs still running after the grace period; stopping them (their leases lapse and the next run takes over)"
            );
            self.runs.abort_all();
            while self.runs.join_next().await.is_some() {}
        }
    }
}

/// Runs one claimed tick and records what became of it: a connection
/// problem is a failed run saying how to reconnect; a busy library is
/// skipped; a sync that fails is finished as failed by `run_locked`.
async fn run_scheduled(app: App, config: SchedulerConfig, job: Job, _permit: OwnedSemaphorePermit) {
    let Job { library, reconcile } = job;
    let key = library.natural_id.clone();
    let trigger = if reconcile {
        RunTrigger::Reconcile
    } else {
        RunTrigger::Schedule
    };
    let connector = match library_connector(&app, &library, &key).await {
        Ok(connector) => connector,
        Err(err) => {
            record_not_run(&app, &library, &not_run_reason(&err, &key)).await;
            return;
        }
    };
    let options = SyncOptions {
        full_listing: reconcile,
        ..app.config.sync.clone()
    };
    // The run's row then says where to reconnect when the provider refuses
    // the grant: nobody is there to read a 422.
    let spec = RunSpec {
        trigger,
        progress_id: None,
        options,
        reconnect_with: Some(crate::connections::authorize_route(&key)),
    };
    let started = run_under_lease(&app, connector, &library, spec).await;
    match started {
        Err(err) => {
            tracing::warn!(library = %key, %trigger, error = %err, "a scheduled sync could not run");
        }
        Ok(Started::Busy(run)) => {
            tracing::debug!(library = %key, %trigger, running = %run.progress_id, "library busy; scheduled sync skipped");
        }
        Ok(Started::Finished {
            result: Ok(outcome),
            ..
        }) => {
            tracing::info!(library = %key, %trigger, added = outcome.added_files, updated = outcome.updated_files,
                deleted = outcome.deleted_files, errors = outcome.errors.len(), "scheduled sync done");
            if reconcile {
                reconciled(&app, &config, library.id).await;
            }
        }
        Ok(Started::Finished {
            result: Err(err), ..
        }) => {
            tracing::warn!(library = %key, %trigger, error = %err, "scheduled sync failed");
        }
    }
}

/// Why a scheduled run could not start, as its row says it: with the
/// route that fixes a missing or lapsed connection (nobody is there to
/// read an error).
fn not_run_reason(err: &AppError, key: &str) -> String {
    match err {
        AppError::NoConnection { .. } => format!(
            "{err}; connect it with {}",
            crate::connections::authorize_route(key)
        ),
        AppError::ConnectionInactive { .. } => format!(
            "{err}; reconnect it with {}",
            crate::connections::authorize_route(key)
        ),
        other => other.to_string(),
    }
}

/// Records a scheduled run that could not start (no connection, one that
/// needs re-authorization), visible in `GET /api/libraries/{id}/syncs`.
async fn record_not_run(app: &App, library: &Library, reason: &str) {
    let message = format!("scheduled sync not run: {reason}");
    tracing::warn!(library = %library.natural_id, %message);
    crate::metrics::record_sync_not_run(library.library_type, RunTrigger::Schedule);
    if let Err(err) = app
        .store
        .record_sync_run(
            library.id,
            RunTrigger::Schedule,
            RunStatus::Failed,
            &message,
        )
        .await
    {
        tracing::warn!(library = %library.natural_id, error = %err, "recording a scheduled sync that did not run failed");
    }
}

/// Moves the reconcile clock on after a reconcile that completed; one that
/// failed or was skipped leaves it due, so the next scheduled run retries.
async fn reconciled(app: &App, config: &SchedulerConfig, library_id: Uuid) {
    let next = first_reconcile_ms(config, now_ms());
    if let Err(err) = app.store.set_next_reconcile(library_id, next).await {
        tracing::warn!(library = %library_id, error = %err, "could not move the reconcile clock on");
    }
}

/// Keeps a library's schedule row in step after a route changed its
/// `syncSchedule` from `before` to `after`: a new or changed schedule is
/// due at the next tick (keeping its reconcile clock), a removed one drops
/// the row, an unchanged one keeps its row.
pub async fn schedule_changed(
    app: &App,
    library_id: Uuid,
    before: Option<SyncSchedule>,
    after: Option<SyncSchedule>,
) -> Result<(), StoreError> {
    let store = &app.store;
    let Some(after) = after else {
        return store.delete_sync_schedule(library_id).await;
    };
    let existing = store.get_sync_schedule(library_id).await?;
    if before == Some(after) && existing.is_some() {
        return Ok(());
    }
    let now = now_ms();
    let next_reconcile_ms = existing.map_or_else(
        || first_reconcile_ms(&app.config.scheduler, now),
        |row| row.next_reconcile_ms,
    );
    store
        .put_sync_schedule(&ScheduleRow {
            library_id,
            next_run_ms: now,
            next_reconcile_ms,
        })
        .await
}

/// [`schedule_changed`] for a service that has already written the library:
/// a failure is logged, not returned (the next tick repairs the row).
pub async fn follow_schedule(
    app: &App,
    library_id: Uuid,
    before: Option<SyncSchedule>,
    after: Option<SyncSchedule>,
) {
    if let Err(err) = schedule_changed(app, library_id, before, after).await {
        tracing::warn!(library = %library_id, error = %err, "could not update the schedule row; the scheduler's next tick repairs it");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconcile_clock_starts_one_interval_out_or_now_when_off() {
        let on = SchedulerConfig::default();
        assert_eq!(first_reconcile_ms(&on, 1_000), 1_000 + 86_400_000);
        let off = SchedulerConfig {
            reconcile_interval: None,
            ..SchedulerConfig::default()
        };
        assert_eq!(first_reconcile_ms(&off, 1_000), 1_000);
        assert_eq!(
            interval_ms(SyncSchedule {
                interval_minutes: 2
            }),
            120_000
        );
    }
}
