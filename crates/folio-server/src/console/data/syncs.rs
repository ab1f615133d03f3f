//! Syncs started from the console, their progress and the history.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use folio_app::sync::SyncRequest;
use folio_domain::RunStatus;
use uuid::Uuid;

use super::{Data, DataResult, Failure, Progress, Run, Session, as_view, failure};

impl Data {
    /// Starts a sync in the background; its progress id once the run is
    /// under way (or the reason it could not start).
    pub async fn start_sync(
        &self,
        session: &Session,
        key: &str,
        purge: bool,
    ) -> DataResult<String> {
        let user = self.user(session).await?;
        let progress_id = format!("console-{}", Uuid::new_v4());
        let request = SyncRequest {
            purge,
            progress: Some(progress_id.clone()),
            ..SyncRequest::default()
        };
        // The whole run, as the API's `_sync` makes it, so that a library
        // another run holds says so rather than ending silently.
        let state = self.state.clone();
        let key = key.to_owned();
        let id = progress_id.clone();
        tokio::spawn(async move {
            if let Err(err) = folio_app::sync::run(&state, &user, &key, request).await {
                let failure = failure(err);
                tracing::info!(progress = %id, message = %failure.message, "a console sync failed");
                finished_with_failure(&id, failure);
            }
        });
        // Wait until the run exists (the page then follows it) or failed
        // before it began (the page then says why).
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(failure) = early_failure(&progress_id) {
                return Err(failure);
            }
            if self.progress(session, &progress_id).await?.is_some() {
                return Ok(progress_id);
            }
            if Instant::now() > deadline {
                return Ok(progress_id);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A run's progress, `None` while no run the viewer may read carries
    /// the id.
    pub async fn progress(&self, session: &Session, id: &str) -> DataResult<Option<Progress>> {
        let user = self.user(session).await?;
        let run = folio_app::sync::progress(&self.state, &user, id)
            .await
            .map_err(failure)?;
        Ok(run.map(|run| Progress {
            status: folio_app::sync::reported_status(&run).to_string(),
            total_known: run.total_known || run.status != RunStatus::Running,
            id: run.progress_id,
            phase: run.phase.to_string(),
            done: run.done,
            total: run.total,
            bytes: run.bytes,
            current: run.current_file,
            added: run.added_files,
            updated: run.updated_files,
            deleted: run.deleted_files,
            failed: run.failed_files,
        }))
    }

    /// Why a console sync ended before its run began, if it did.
    pub fn sync_failure(&self, id: &str) -> Option<Failure> {
        early_failure(id)
    }

    /// The library's latest runs, newest first (as many as the API lists).
    pub async fn runs(&self, session: &Session, key: &str) -> DataResult<Vec<Run>> {
        let user = self.user(session).await?;
        let runs = folio_app::sync::history(&self.state, &user, key, 100)
            .await
            .map_err(failure)?;
        runs.into_iter()
            .map(|run| as_view(crate::routes::sync::SyncRunBody::from(run)))
            .collect()
    }
}

/// Console syncs that ended before their run began, by progress id (kept a
/// few minutes, so the page that started one can say why).
fn early_failures() -> &'static Mutex<HashMap<String, (Instant, Failure)>> {
    static FAILURES: OnceLock<Mutex<HashMap<String, (Instant, Failure)>>> = OnceLock::new();
    FAILURES.get_or_init(Mutex::default)
}

fn finished_with_failure(id: &str, failure: Failure) {
    let mut failures = early_failures().lock().unwrap_or_else(|p| p.into_inner());
    failures.retain(|_, (at, _)| at.elapsed() < Duration::from_secs(600));
    failures.insert(id.to_owned(), (Instant::now(), failure));
}

fn early_failure(id: &str) -> Option<Failure> {
    let failures = early_failures().lock().unwrap_or_else(|p| p.into_inner());
    failures.get(id).map(|(_, f)| f.clone())
}
