//! One sync run under the library's lease: begins the run row (409-style
//! [`Started::Busy`] when another live run holds it, unless its holder is
//! proven dead: see [`crate::lease`]), keeps the lease and the progress on
//! the row fresh from a heartbeat task (progress at most every 250 ms while
//! it changes, the lease at least every quarter of its length), runs the
//! [`Executor`] (whose commits renew the lease too, and fail once another
//! run took the library over), and records the outcome (counts, errors,
//! held deletions or the failure) on the row. A run dropped half-way (its
//! request cancelled) is recorded as failed at once by a drop guard.

use std::sync::Arc;
use std::time::Duration;

use folio_blobs::BlobStore;
use folio_connectors::{Connector, ConnectorError};
use folio_domain::{RunPhase, RunStatus, RunTrigger};
use folio_store::Store;
use folio_store::sync::{BeginRun, NewSyncRun, RunOutcome, RunProgress, SyncRun};
use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

use crate::executor::{Executor, LeaseHold, SyncError, SyncOptions, SyncOutcome};
use crate::lease::is_provably_dead;

/// What to run.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub library_id: Uuid,
    /// The client's progress id; a fresh one when `None`.
    pub progress_id: Option<String>,
    pub trigger: RunTrigger,
    pub options: SyncOptions,
    /// Identifies this process as the lease holder.
    pub owner: String,
    /// How long the lease lasts without a heartbeat.
    pub lease: Duration,
    /// Where the library's connection is made again (`GET
    /// /api/libraries/{key}/connection/authorize`): a run the provider
    /// refuses for want of a usable grant is recorded with a message
    /// saying so, in the same write that finishes its row.
    pub reconnect_with: Option<String>,
}

/// How [`run_locked`] ended.
#[derive(Debug)]
pub enum Started {
    /// The run happened; its row is finished.
    Finished {
        run_id: Uuid,
        result: Result<SyncOutcome, SyncError>,
    },
    /// Another run of this library holds a live lease.
    Busy(Box<SyncRun>),
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2)
}

/// Runs one sync of `request.library_id` if no other live run holds the
/// library. `progress` receives live snapshots (the API broadcasts them).
pub async fn run_locked(
    store: &Store,
    blobs: &BlobStore,
    connector: Arc<dyn Connector>,
    request: RunRequest,
    progress: &watch::Sender<RunProgress>,
) -> Result<Started, SyncError> {
    let new = NewSyncRun {
        library_id: request.library_id,
        progress_id: request
            .progress_id
            .clone()
            .unwrap_or_else(|| Uuid::new_v4().to_string()),
        trigger_kind: request.trigger,
        lease_owner: request.owner.clone(),
        lease_until_ms: now_ms() + lease_ms(request.lease),
    };
    let run = match store.begin_sync_run(&new, now_ms()).await? {
        BeginRun::Busy(run) if is_provably_dead(&run.lease_owner) => {
            abandon_dead(store, &run).await?;
            match store.begin_sync_run(&new, now_ms()).await? {
                BeginRun::Busy(run) => return Ok(Started::Busy(Box::new(run))),
                BeginRun::Started(run) => run,
            }
        }
        BeginRun::Busy(run) => return Ok(Started::Busy(Box::new(run))),
        BeginRun::Started(run) => run,
    };
    progress.send_modify(|p| {
        *p = RunProgress {
            phase: RunPhase::Listing,
            ..RunProgress::default()
        }
    });
    let mut guard = RunGuard {
        heartbeat: spawn_heartbeat(store.clone(), run.id, &request, progress.subscribe()),
        store: store.clone(),
        run_id: run.id,
        finishing: false,
    };
    let executor = Executor {
        store,
        blobs,
        connector,
        library_id: request.library_id,
        options: request.options.clone(),
        progress: Some(progress),
        lease: Some(LeaseHold {
            run_id: run.id,
            owner: request.owner.clone(),
            lease: request.lease,
        }),
    };
    let result = executor.run().await;
    guard.finishing = true;
    guard.heartbeat.abort();
    // The last snapshot, so the finished row shows the final counts.
    let last = progress.borrow().clone();
    let lease_until = now_ms() + lease_ms(request.lease);
    store
        .renew_sync_run(run.id, &request.owner, &last, lease_until)
        .await?;
    let outcome = outcome_row(&result, request.reconnect_with.as_deref());
    store.finish_sync_run(run.id, &outcome).await?;
    Ok(Started::Finished {
        run_id: run.id,
        result,
    })
}

/// The message of a run whose process was proven dead.
pub const ABANDONED_DEAD: &str = "abandoned: the process running it is gone (it was killed or \
     crashed; the library was taken over without waiting for its lease)";

/// Marks a run failed whose holder is proven dead (see
/// [`crate::lease::is_provably_dead`]).
async fn abandon_dead(store: &Store, run: &SyncRun) -> Result<(), SyncError> {
    if store
        .abandon_sync_run(run.id, &run.lease_owner, ABANDONED_DEAD)
        .await?
    {
        tracing::info!(run = %run.id, library = %run.library_id, holder = %run.lease_owner, "took over a sync run whose process is gone");
    }
    Ok(())
}

/// Marks failed every running run whose process is proven dead (a server
/// restarted after a kill finds its previous instance's runs), so their
/// libraries, their progress followers and the storage sweep need not
/// wait for the leases to lapse. Returns how many it marked.
pub async fn recover_dead_runs(store: &Store) -> Result<usize, SyncError> {
    let mut recovered = 0;
    for run in store.running_sync_runs().await? {
        if is_provably_dead(&run.lease_owner) {
            abandon_dead(store, &run).await?;
            recovered += 1;
        }
    }
    Ok(recovered)
}

/// Stops the heartbeat however [`run_locked`] ends. When its future is
/// dropped before the executor returned (the HTTP request was cancelled
/// because its client went away, or the server is shutting down), it also
/// marks the run failed at once, so the library is not held until the
/// lease lapses and followers of its progress see the end.
struct RunGuard {
    heartbeat: tokio::task::JoinHandle<()>,
    store: Store,
    run_id: Uuid,
    /// The executor returned; `run_locked` records the outcome itself.
    finishing: bool,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        self.heartbeat.abort();
        if self.finishing {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (store, run_id) = (self.store.clone(), self.run_id);
        runtime.spawn(async move {
            let outcome = RunOutcome::failed(CANCELLED.to_owned());
            if let Err(err) = store.finish_sync_run(run_id, &outcome).await {
                tracing::warn!(%run_id, error = %err, "could not record a cancelled sync");
            }
        });
    }
}

/// The message of a run whose request was dropped.
pub const CANCELLED: &str =
    "cancelled: the request running the sync ended before it (client gone or server stopping)";

/// Progress reaches the run row at most this often while it changes, so
/// that followers polling the row (`GET /api/progress/{id}/events`, on any
/// replica) see it live without a write per downloaded file.
pub const PROGRESS_WRITE_INTERVAL: Duration = Duration::from_millis(250);

/// Writes the latest progress when it changes (at most every
/// [`PROGRESS_WRITE_INTERVAL`]) and renews the lease at least every
/// quarter of the lease, until aborted or the run is no longer this
/// owner's.
fn spawn_heartbeat(
    store: Store,
    run_id: Uuid,
    request: &RunRequest,
    mut progress: watch::Receiver<RunProgress>,
) -> tokio::task::JoinHandle<()> {
    let owner = request.owner.clone();
    let lease = request.lease;
    tokio::spawn(async move {
        let renew_every = (lease / 4).max(PROGRESS_WRITE_INTERVAL);
        loop {
            let snapshot = progress.borrow_and_update().clone();
            let written = Instant::now();
            let until = now_ms() + lease_ms(lease);
            match store.renew_sync_run(run_id, &owner, &snapshot, until).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(err) => tracing::warn!(%run_id, error = %err, "sync heartbeat failed"),
            }
            wait_for_change(&mut progress, written + renew_every).await;
            tokio::time::sleep_until(written + PROGRESS_WRITE_INTERVAL).await;
        }
    })
}

/// Returns when the progress changes or at `deadline`, whichever is first.
async fn wait_for_change(progress: &mut watch::Receiver<RunProgress>, deadline: Instant) {
    let changed = tokio::time::timeout_at(deadline, progress.changed()).await;
    if matches!(changed, Ok(Err(_))) {
        // The sender is gone: nothing will change any more; just keep the
        // lease until the run finishes.
        tokio::time::sleep_until(deadline).await;
    }
}

/// The finished row for a result.
fn outcome_row(
    result: &Result<SyncOutcome, SyncError>,
    reconnect_with: Option<&str>,
) -> RunOutcome {
    match result {
        Ok(outcome) => RunOutcome {
            status: if outcome.held.is_some() {
                RunStatus::Held
            } else {
                RunStatus::Done
            },
            synced_files: outcome.synced_files,
            added_files: outcome.added_files,
            updated_files: outcome.updated_files,
            deleted_files: outcome.deleted_files,
            moved_files: outcome.moved_files,
            failed_files: outcome.errors.len() as i64,
            errors: serde_json::to_string(&outcome.errors).unwrap_or_else(|_| "[]".to_owned()),
            message: outcome.held.clone(),
        },
        Err(err) => RunOutcome::failed(failure_message(err, reconnect_with)),
    }
}

/// The message of a failed run: the error, and for a provider that refused
/// the connection's grant, where to reconnect when that is known.
fn failure_message(err: &SyncError, reconnect_with: Option<&str>) -> String {
    match (err, reconnect_with) {
        (
            SyncError::Provider(
                e @ (ConnectorError::NeedsReauthorization(_) | ConnectorError::Unauthorized(_)),
            ),
            Some(route),
        ) => format!("the provider refused the connection ({e}); reconnect it with {route}"),
        _ => err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_grant_says_where_to_reconnect_when_that_is_known() {
        let route = "GET /api/libraries/docs/connection/authorize";
        let refused =
            SyncError::Provider(ConnectorError::NeedsReauthorization("invalid_grant".into()));
        let message = failure_message(&refused, Some(route));
        assert!(message.contains("reconnect it with"), "{message}");
        assert!(message.contains(route), "{message}");
        assert!(message.contains("invalid_grant"), "{message}");
        assert_eq!(failure_message(&refused, None), refused.to_string());
        let flaky = SyncError::Provider(ConnectorError::TimedOut("slow".into()));
        assert_eq!(failure_message(&flaky, Some(route)), flaky.to_string());
    }
}
