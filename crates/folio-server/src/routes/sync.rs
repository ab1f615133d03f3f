//! `POST /api/libraries/{id}/_sync` and `GET /api/libraries/{id}/syncs`: a
//! sync runs inside the request (the request stays open until it ends)
//! under the library's lease; its run row holds the live progress that any
//! client can read by progress id (see [`super::progress`]).
//!
//! Answers: 200 with the result whenever the sync learned what to sync,
//! per-file failures in `errors`; 409 while another run holds the library,
//! for a library without connection, and for a `local` library (nothing to
//! sync from); 422 when the provider refused the connection or the source
//! is gone; 502/504 when the listing itself kept failing (what was fetched
//! before is kept). A dry run (`"dryRun": true`) answers the same shape with
//! the planned changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::State;
use folio_connectors::layers::Pacer;
use folio_connectors::{Connector, ConnectorConfig, ConnectorError, ProviderKind, connector_for};
use folio_domain::Permission;
use folio_domain::object::Object;
use folio_store::StoreError;
use folio_store::sync::{RunProgress, SyncRun};
use folio_sync::executor::{FileError, PlannedChange, SyncError, SyncOptions, SyncOutcome};
use folio_sync::run::{RunRequest, Started, run_locked};
use folio_sync::tokens::ConnectionTokens;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::metrics::{RunningSync, record_sync};
use crate::routes::libraries::load_library;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sync_library))
        .routes(routes!(list_syncs))
}

/// How long a run's lease lasts without being renewed (manual and
/// scheduled runs alike). The heartbeat renews it every quarter of that
/// and every commit renews it too, so another replica takes over a dead
/// run's library within this long; a restarted process takes over its own
/// previous instance's runs at once (see `folio_sync::lease`).
pub const LEASE: Duration = Duration::from_secs(8);

/// This process, as the holder of its runs' leases.
fn lease_owner() -> &'static str {
    folio_sync::lease::this_process()
}

/// The pace of each connection (see `folio_connectors::layers::Pacer`),
/// kept across its syncs: a provider that throttled one sync is not hit at
/// full speed by the next. One small value per connection ever synced by
/// this process.
fn pacer_of(connection_id: Uuid) -> Arc<Pacer> {
    static PACERS: OnceLock<Mutex<HashMap<Uuid, Arc<Pacer>>>> = OnceLock::new();
    let mut pacers = PACERS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    pacers.entry(connection_id).or_default().clone()
}

/// `POST /_sync` body; every field optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncRequestBody {
    /// Delete every file of the library first and sync from scratch.
    #[serde(default)]
    pub purge: bool,
    /// A progress id of the client's choosing, readable at
    /// `/api/progress/{id}` while the sync runs.
    pub progress: Option<String>,
    /// Let a full listing delete more than half of the library.
    #[serde(default)]
    pub confirm_deletes: bool,
    /// Answer what the sync would add, update, move and delete, without
    /// downloading anything or changing any file, cursor or storage.
    #[serde(default)]
    pub dry_run: bool,
}

/// One per-file failure.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncErrorBody {
    pub path: String,
    pub remote_id: String,
    pub message: String,
}

/// What a sync did, or in a dry run would do.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncResultBody {
    /// Files the library holds from the source after the sync (a dry run:
    /// would hold).
    pub synced_files: i64,
    pub added_files: i64,
    pub updated_files: i64,
    pub deleted_files: i64,
    /// Files moved or renamed, their bytes unchanged.
    pub moved_files: i64,
    /// Per-file failures that did not stop the rest.
    pub errors: Vec<SyncErrorBody>,
    /// Set when a full listing's deletions were held back, saying why and
    /// how to go on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletions_held: Option<String>,
    /// `true` on a dry run's answer (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// A dry run's planned changes, in the order a sync would make them:
    /// the first 1,000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<PlannedChangeBody>>,
    /// A dry run's number of planned changes in all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes_total: Option<usize>,
}

/// One change a dry run plans.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlannedChangeBody {
    /// `add`, `update`, `move` or `delete`.
    pub action: String,
    /// The library path it ends at (for a delete, the path removed).
    pub path: String,
    /// The path a moved (or moved and changed) file leaves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_path: Option<String>,
    pub remote_id: String,
    /// The provider's size of a file to download, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

impl From<PlannedChange> for PlannedChangeBody {
    fn from(c: PlannedChange) -> Self {
        Self {
            action: c.action.to_owned(),
            path: c.path,
            previous_path: c.previous_path,
            remote_id: c.remote_id,
            size: c.size,
        }
    }
}

impl From<SyncOutcome> for SyncResultBody {
    fn from(outcome: SyncOutcome) -> Self {
        let (dry_run, changes, changes_total) = match outcome.plan {
            Some(plan) => (
                Some(true),
                Some(plan.changes.into_iter().map(Into::into).collect()),
                Some(plan.total),
            ),
            None => (None, None, None),
        };
        Self {
            synced_files: outcome.synced_files,
            added_files: outcome.added_files,
            updated_files: outcome.updated_files,
            deleted_files: outcome.deleted_files,
            moved_files: outcome.moved_files,
            errors: outcome.errors.into_iter().map(error_body).collect(),
            deletions_held: outcome.held,
            dry_run,
            changes,
            changes_total,
        }
    }
}

/// Syncs the library from its connected drive (or, with `dryRun`, says
/// what a sync would change).
#[utoipa::path(post, path = "/api/libraries/{id}/_sync", tag = "sync",
    params(("id" = String, Path, description = "UUID or natural id")),
    request_body(content = Option<SyncRequestBody>, description = "optional; every field optional"),
    responses((status = 200, body = SyncResultBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 502, body = ErrorBody),
        (status = 504, body = ErrorBody)))]
async fn sync_library(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(key): ApiPath<String>,
    raw: axum::body::Bytes,
) -> ApiResult<axum::Json<SyncResultBody>> {
    let body: SyncRequestBody = if raw.iter().all(u8::is_ascii_whitespace) {
        SyncRequestBody::default()
    } else {
        serde_json::from_slice::<Object<SyncRequestBody>>(&raw)
            .map(|body| body.0)
            .map_err(|e| ApiError::BadRequest(format!("invalid sync request body: {e}")))?
    };
    let library = load_library(&state, &user, &key, Permission::Sync).await?;
    if library.library_type == "local" {
        return Err(ApiError::Conflict(format!(
            "library '{key}' is a local library: it has no provider to sync from (its files come from uploads)"
        )));
    }
    let connector = library_connector(&state, &library, &key).await?;
    let api_uri = state
        .store
        .library_integration(library.id)
        .await?
        .and_then(|i| i.api_uri);
    let options = SyncOptions {
        purge: body.purge,
        confirm_deletes: body.confirm_deletes,
        dry_run: body.dry_run,
        ..state.config.sync.clone()
    };
    let trigger = if body.dry_run { "dry-run" } else { "manual" };
    let started = run_under_lease(
        &state,
        connector,
        &library,
        trigger,
        body.progress.clone(),
        options,
        None,
    )
    .await
    .map_err(|e| sync_error(e, api_uri.as_deref()))?;
    match started {
        Started::Busy(run) => Err(ApiError::Conflict(format!(
            "a sync of library '{key}' is already running; follow it at /api/progress/{}",
            run.progress_id
        ))),
        Started::Finished { result, .. } => {
            let outcome = result.map_err(|e| sync_error(e, api_uri.as_deref()))?;
            Ok(axum::Json(outcome.into()))
        }
    }
}

/// Runs one sync of `library_id` under the library's lease, held by this
/// process, with live progress kept in the run row: what a `_sync` request
/// and a scheduled tick both do. [`Started::Busy`] when another run holds
/// the library.
pub(crate) async fn run_under_lease(
    state: &AppState,
    connector: Arc<dyn Connector>,
    library: &folio_store::Library,
    trigger: &str,
    progress_id: Option<String>,
    options: SyncOptions,
    reconnect_with: Option<String>,
) -> Result<Started, SyncError> {
    let request = RunRequest {
        library_id: library.id,
        progress_id,
        trigger: trigger.to_owned(),
        options,
        owner: lease_owner().to_owned(),
        lease: LEASE,
        reconnect_with,
    };
    let (progress, _) = tokio::sync::watch::channel(RunProgress::default());
    let running = RunningSync::start();
    let started = Instant::now();
    let result = run_locked(&state.store, &state.blobs, connector, request, &progress).await;
    drop(running);
    let bytes = progress.borrow().bytes;
    record_sync(
        &library.library_type,
        trigger,
        &result,
        bytes,
        started.elapsed(),
    );
    result
}

fn error_body(e: FileError) -> SyncErrorBody {
    SyncErrorBody {
        path: e.path,
        remote_id: e.remote_id,
        message: e.message,
    }
}

/// A connector for the library's provider, using its connection's tokens:
/// 409 without a connection or integration, 422 when the connection needs
/// re-authorization.
pub(crate) async fn library_connector(
    state: &AppState,
    library: &folio_store::Library,
    key: &str,
) -> ApiResult<Arc<dyn folio_connectors::Connector>> {
    let connection = state.store.connection_for_library(library.id).await?.ok_or_else(|| {
        ApiError::Conflict(format!(
            "library '{key}' has no connection yet; connect it with GET /api/libraries/{key}/connection/authorize"
        ))
    })?;
    if connection.status != "active" {
        return Err(ApiError::Unprocessable(format!(
            "the connection of library '{key}' is {}; reconnect it with GET /api/libraries/{key}/connection/authorize",
            connection.status
        )));
    }
    let integration = state
        .store
        .integration(connection.integration_id)
        .await?
        .ok_or_else(|| ApiError::Conflict(format!("library '{key}' has no integration")))?;
    let kind: ProviderKind =
        library
            .library_type
            .parse()
            .map_err(|e: folio_domain::UnknownProvider| {
                ApiError::Conflict(format!("library '{key}' cannot sync: {e}"))
            })?;
    let mut config =
        ConnectorConfig::with_http(library.source.0.clone(), state.provider_http.clone());
    config.export_formats = state.config.google_exports.clone();
    if let Some(api) = &integration.api_uri {
        config.api_base = Some(
            url::Url::parse(api)
                .map_err(|e| ApiError::internal(anyhow::anyhow!("integration apiUri: {e}")))?,
        );
    }
    config.pacer = Some(pacer_of(connection.id));
    let tokens = ConnectionTokens::new(state.tokens.clone(), connection.id);
    let connector = connector_for(kind, config, Arc::new(tokens)).map_err(provider_error)?;
    Ok(Arc::from(connector))
}

/// A sync's failure as the API answers it; `api_uri` is the integration's
/// `apiUri`, named when the provider's API could not be reached or said
/// something is missing (a wrong `apiUri` looks like that).
fn sync_error(err: SyncError, api_uri: Option<&str>) -> ApiError {
    match err {
        SyncError::Provider(e) => with_api_uri(provider_error(e.clone()), &e, api_uri),
        SyncError::Store(StoreError::LeaseLost) => ApiError::Conflict(
            "another run took this library over while the sync ran (its lease lapsed); \
             what it committed before is kept: sync again"
                .to_owned(),
        ),
        other => ApiError::internal(anyhow::anyhow!(other)),
    }
}

/// Adds to the answer where the provider's API address comes from, when
/// the failure is one a wrong address gives (unreachable, nothing there).
fn with_api_uri(answer: ApiError, err: &ConnectorError, api_uri: Option<&str>) -> ApiError {
    let addressing = matches!(
        err,
        ConnectorError::NotFound(_)
            | ConnectorError::Temporary { .. }
            | ConnectorError::TimedOut(_)
    );
    if !addressing {
        return answer;
    }
    let from = match api_uri {
        Some(uri) => format!(" (the provider's API address is the integration's apiUri, {uri})"),
        None => {
            " (the provider's API is at its real address: the integration has no apiUri)".to_owned()
        }
    };
    match answer {
        ApiError::Unprocessable(m) => ApiError::Unprocessable(format!("{m}{from}")),
        ApiError::BadGateway(m) => ApiError::BadGateway(format!("{m}{from}")),
        ApiError::GatewayTimeout(m) => ApiError::GatewayTimeout(format!("{m}{from}")),
        other => other,
    }
}

/// Provider failures: the user must act (422), the provider failed after
/// retries (502), or it kept timing out (504).
pub(crate) fn provider_error(err: ConnectorError) -> ApiError {
    match &err {
        ConnectorError::NeedsReauthorization(_) | ConnectorError::Unauthorized(_) => {
            ApiError::Unprocessable(format!(
                "the provider refused the connection ({err}); reconnect the library"
            ))
        }
        ConnectorError::NotFound(_) => ApiError::Unprocessable(format!(
            "the provider found nothing there ({err}): the library's source is gone (pick another \
             source), or the provider's address is wrong"
        )),
        ConnectorError::TimedOut(_) => ApiError::GatewayTimeout(format!(
            "the provider did not answer in time, even after retries: {err}"
        )),
        ConnectorError::RateLimited { .. } | ConnectorError::Temporary { .. } => {
            ApiError::BadGateway(format!("the provider kept failing after retries: {err}"))
        }
        _ => ApiError::BadGateway(format!("the provider failed: {err}")),
    }
}

/// One run in a library's history (docs/api.md, "Syncs").
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncRunBody {
    pub id: Uuid,
    /// `manual`, `schedule`, `reconcile` or `dry-run`.
    pub trigger: String,
    /// `running`, `done`, `held` or `failed`.
    pub status: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    pub synced_files: i64,
    pub added_files: i64,
    pub updated_files: i64,
    pub deleted_files: i64,
    /// Files moved or renamed, their bytes unchanged.
    pub moved_files: i64,
    #[schema(value_type = Vec<Object>)]
    pub errors: serde_json::Value,
    pub message: Option<String>,
    pub progress_id: String,
}

impl From<SyncRun> for SyncRunBody {
    fn from(r: SyncRun) -> Self {
        Self {
            id: r.id,
            trigger: r.trigger_kind,
            status: r.status,
            started_at: r.started_at,
            finished_at: r.finished_at,
            synced_files: r.synced_files,
            added_files: r.added_files,
            updated_files: r.updated_files,
            deleted_files: r.deleted_files,
            moved_files: r.moved_files,
            errors: serde_json::from_str(&r.errors).unwrap_or_else(|_| serde_json::json!([])),
            message: r.message,
            progress_id: r.progress_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyncRunList {
    pub items: Vec<SyncRunBody>,
}

/// A library's sync runs, newest first (the last 100).
#[utoipa::path(get, path = "/api/libraries/{id}/syncs", tag = "sync",
    params(("id" = String, Path, description = "UUID or natural id")),
    responses((status = 200, body = SyncRunList), (status = 404, body = ErrorBody)))]
async fn list_syncs(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<axum::Json<SyncRunList>> {
    let library = load_library(&state, &user, &key, Permission::Read).await?;
    let runs = state.store.list_sync_runs(library.id, 100).await?;
    Ok(axum::Json(SyncRunList {
        items: runs.into_iter().map(SyncRunBody::from).collect(),
    }))
}

#[cfg(test)]
mod provider_error_tests {
    use axum::http::StatusCode;
    use folio_connectors::ConnectorError;

    use super::provider_error;

    #[test]
    fn provider_failures_map_to_their_status() {
        let status = |err| provider_error(err).status();
        assert_eq!(
            status(ConnectorError::TimedOut(
                "list_changes: gave up after 6 attempts".into()
            )),
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(
            status(ConnectorError::temporary("503 backendError")),
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            status(ConnectorError::RateLimited {
                retry_after: None,
                message: "429".into()
            }),
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            status(ConnectorError::NeedsReauthorization("invalid_grant".into())),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
}
