//! `GET /api/progress/{id}` and `GET /api/progress/{id}/events`: the live
//! progress of a sync, read from its run row in the store (so a client on
//! one replica follows a sync running on another), as one JSON snapshot or
//! as Server-Sent Events.
//!
//! The event stream polls the row every [`POLL_EVERY`] and sends an
//! `event: progress` whose `data` is the same JSON as `GET
//! /api/progress/{id}` whenever it changes, with keep-alive comments in
//! between; it ends after sending the final state (`done` or `failed`).
//!
//! Subscribing before the sync has created its run is expected (a client
//! opens the stream, then sends `POST /_sync` with the same progress id):
//! the request waits up to `?wait=SECONDS` (default and maximum 30) for a
//! run the caller may read before answering, then streams it, or answers
//! 404 if none appeared. The answer is a real HTTP 404 (not an error event
//! in a 200 stream) so that `curl -f` fails and a browser `EventSource`
//! stops instead of reconnecting; a run that exists but whose library the
//! caller cannot read is treated exactly like an unknown one.
//!
//! A running run whose lease lapsed (the process running it died) reads as
//! `failed`, so a follower is not left waiting on it forever.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use folio_domain::RunStatus;
use folio_store::sync::SyncRun;
use futures::Stream;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_progress))
        .routes(routes!(progress_events))
}

/// How often the event stream reads the run row.
pub const POLL_EVERY: Duration = Duration::from_millis(250);

/// The longest (and default) wait for a run to appear.
pub const MAX_WAIT_SECS: u64 = 30;

/// How often a keep-alive comment goes out while nothing changes.
const KEEP_ALIVE_EVERY: Duration = Duration::from_secs(10);

/// How long the stream rides out store errors before giving up.
const STORE_ERROR_GRACE: Duration = Duration::from_secs(5);

/// Live progress of a sync (docs/api.md, "Progress").
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProgressBody {
    pub id: String,
    /// `running`, `done` or `failed` (`held` counts as done; a running run
    /// whose process died counts as failed).
    pub status: String,
    /// `listing`, `downloading`, `deleting` or `done`.
    pub phase: String,
    /// Downloads ended (fetched or failed).
    pub done: i64,
    /// Downloads planned so far: final once `totalKnown`.
    pub total: i64,
    /// False while the listing may still plan more downloads (a client
    /// shows `total` as counting); true once it is final.
    pub total_known: bool,
    pub bytes: i64,
    /// The library path of the file that ended last.
    pub current: Option<String>,
    /// What the run changed so far: files added, updated, deleted, moved
    /// (or renamed) and failed.
    pub added: i64,
    pub updated: i64,
    pub deleted: i64,
    pub moved: i64,
    pub failed: i64,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl ProgressBody {
    fn of(run: SyncRun) -> Self {
        let status = folio_app::sync::reported_status(&run).to_string();
        Self {
            id: run.progress_id,
            status,
            phase: run.phase.to_string(),
            done: run.done,
            total: run.total,
            total_known: run.total_known || run.status != RunStatus::Running,
            bytes: run.bytes,
            current: run.current_file,
            added: run.added_files,
            updated: run.updated_files,
            deleted: run.deleted_files,
            moved: run.moved_files,
            failed: run.failed_files,
            started_at: run.started_at,
            updated_at: run.updated_at,
        }
    }

    fn is_final(&self) -> bool {
        self.status != "running"
    }

    /// Equal but for `updatedAt`, which every heartbeat moves.
    fn same_progress(&self, other: &Self) -> bool {
        Self {
            updated_at: other.updated_at,
            ..self.clone()
        } == *other
    }
}

fn progress_not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("progress '{id}' not found"))
}

/// The newest run carrying `id` if the caller may read its library.
async fn readable_run(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<Option<SyncRun>> {
    Ok(folio_app::sync::progress(state, &user.0, id).await?)
}

/// The progress of the newest sync carrying this progress id, for a caller
/// who may read its library.
#[utoipa::path(get, path = "/api/progress/{id}", tag = "sync",
    params(("id" = String, Path, description = "the progress id")),
    responses((status = 200, body = ProgressBody), (status = 404, body = ErrorBody)))]
async fn get_progress(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<axum::Json<ProgressBody>> {
    let run = readable_run(&state, &user, &id)
        .await?
        .ok_or_else(|| progress_not_found(&id))?;
    Ok(axum::Json(ProgressBody::of(run)))
}

/// `GET /events` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Seconds to wait for the run to appear before answering 404 (0 to 30,
    /// default 30).
    pub wait: Option<u64>,
}

/// The progress of a sync as Server-Sent Events: `event: progress` with
/// the `GET /api/progress/{id}` JSON whenever it changes, ending after the
/// final state. Waits up to `wait` seconds for the run to appear.
#[utoipa::path(get, path = "/api/progress/{id}/events", tag = "sync",
    params(("id" = String, Path, description = "the progress id"), EventsQuery),
    responses((status = 200, content_type = "text/event-stream", body = ProgressBody,
            description = "`event: progress` events, each carrying a ProgressBody"),
        (status = 404, body = ErrorBody)))]
async fn progress_events(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let wait = Duration::from_secs(query.wait.unwrap_or(MAX_WAIT_SECS).min(MAX_WAIT_SECS));
    let run = wait_for_run(&state, &user, &id, wait)
        .await?
        .ok_or_else(|| progress_not_found(&id))?;
    let follow = Follow {
        state,
        user,
        id,
        library_id: run.library_id,
        next: Some(ProgressBody::of(run)),
        last: None,
        finished: false,
    };
    let events = futures::stream::unfold(follow, |mut follow| async move {
        let event = follow.next_event().await?;
        Some((Ok(event), follow))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE_EVERY)))
}

/// Polls until a run the caller may read carries `id`, for at most `wait`.
async fn wait_for_run(
    state: &AppState,
    user: &AuthUser,
    id: &str,
    wait: Duration,
) -> ApiResult<Option<SyncRun>> {
    let deadline = Instant::now() + wait;
    loop {
        if let Some(run) = readable_run(state, user, id).await? {
            return Ok(Some(run));
        }
        if Instant::now() + POLL_EVERY > deadline {
            return Ok(None);
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// The state of one event stream.
struct Follow {
    state: AppState,
    user: AuthUser,
    id: String,
    /// The library the caller was found allowed to read.
    library_id: Uuid,
    /// A snapshot read but not yet looked at.
    next: Option<ProgressBody>,
    /// The last snapshot sent.
    last: Option<ProgressBody>,
    finished: bool,
}

impl Follow {
    /// The next event to send, waiting for a change; `None` ends the
    /// stream (after the final state, or an error event).
    async fn next_event(&mut self) -> Option<Event> {
        if self.finished {
            return None;
        }
        loop {
            let snapshot = match self.next.take() {
                Some(snapshot) => snapshot,
                None => match self.poll().await {
                    Ok(snapshot) => snapshot,
                    Err(err) => {
                        self.finished = true;
                        return Some(error_event(&err));
                    }
                },
            };
            if self
                .last
                .as_ref()
                .is_some_and(|l| l.same_progress(&snapshot))
            {
                continue;
            }
            self.finished = snapshot.is_final();
            let event = progress_event(&snapshot);
            self.last = Some(snapshot);
            return Some(event);
        }
    }

    /// The run's state after the next tick, riding out store errors for a
    /// while.
    async fn poll(&mut self) -> ApiResult<ProgressBody> {
        let mut failing_since: Option<Instant> = None;
        loop {
            tokio::time::sleep(POLL_EVERY).await;
            match self.read().await {
                Ok(snapshot) => return Ok(snapshot),
                Err(ApiError::Internal(err))
                    if failing_since.is_none_or(|t| t.elapsed() < STORE_ERROR_GRACE) =>
                {
                    tracing::warn!(progress = %self.id, error = format!("{err:#}"), "progress poll failed");
                    failing_since.get_or_insert_with(Instant::now);
                }
                Err(other) => return Err(other),
            }
        }
    }

    async fn read(&mut self) -> ApiResult<ProgressBody> {
        let mut run = self
            .state
            .store
            .sync_run_by_progress(&self.id)
            .await?
            .ok_or_else(|| progress_not_found(&self.id))?;
        if run.library_id != self.library_id {
            // The id was reused by a run of another library: check again.
            run = readable_run(&self.state, &self.user, &self.id)
                .await?
                .ok_or_else(|| progress_not_found(&self.id))?;
            self.library_id = run.library_id;
        }
        Ok(ProgressBody::of(run))
    }
}

fn progress_event(body: &ProgressBody) -> Event {
    Event::default()
        .event("progress")
        .json_data(body)
        .unwrap_or_else(|_| Event::default().event("progress").data("{}"))
}

/// An `event: error` carrying the API's error body, ending the stream.
fn error_event(err: &ApiError) -> Event {
    let status = err.status();
    if let ApiError::Internal(cause) = err {
        tracing::error!(error = format!("{cause:#}"), "progress stream failed");
    }
    let body = ErrorBody {
        status_code: status.as_u16(),
        error: status.canonical_reason().unwrap_or("Error").to_owned(),
        message: err.to_string(),
    };
    Event::default()
        .event("error")
        .json_data(&body)
        .unwrap_or_else(|_| Event::default().event("error").data("{}"))
}
