//! `POST /api/libraries/{id}/_sync` and `GET /api/libraries/{id}/syncs`: a
//! sync runs inside the request (the request stays open until it ends)
//! under the library's lease; its run row holds the live progress that any
//! client can read by progress id (see [`super::progress`]).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::State;
use folio_connectors::{Connector, ConnectorConfig, ConnectorError, ProviderKind, connector_for};
use folio_domain::Permission;
use folio_store::sync::{RunProgress, SyncRun};
use folio_sync::executor::{FileError, SyncError, SyncOptions};
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
use crate::routes::libraries::load_library;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sync_library))
        .routes(routes!(list_syncs))
}

/// How long a run's lease lasts without a heartbeat (manual and scheduled
/// runs alike).
const LEASE: Duration = Duration::from_secs(30);

/// This process, as the holder of its runs' leases.
fn lease_owner() -> &'static str {
    static OWNER: OnceLock<String> = OnceLock::new();
    OWNER.get_or_init(|| format!("folio-{}", Uuid::new_v4()))
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
}

/// One per-file failure.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncErrorBody {
    pub path: String,
    pub remote_id: String,
    pub message: String,
}

/// What a sync did (docs/api.md, "Syncs").
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncResultBody {
    pub synced_files: i64,
    pub added_files: i64,
    pub updated_files: i64,
    pub deleted_files: i64,
    pub errors: Vec<SyncErrorBody>,
    /// Set when a full listing's deletions were held back, saying why and
    /// how to go on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletions_held: Option<String>,
}

/// Syncs the library from its connected drive.
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
        serde_json::from_slice(&raw)
            .map_err(|e| ApiError::BadRequest(format!("invalid sync request body: {e}")))?
    };
    let library = load_library(&state, &user, &key, Permission::Sync).await?;
    let connector = library_connector(&state, &library, &key).await?;
    let options = SyncOptions {
        purge: body.purge,
        confirm_deletes: body.confirm_deletes,
        ..state.config.sync.clone()
    };
    let started = run_under_lease(
        &state,
        connector,
        library.id,
        "manual",
        body.progress.clone(),
        options,
        None,
    )
    .await
    .map_err(sync_error)?;
    match started {
        Started::Busy(run) => Err(ApiError::Conflict(format!(
            "a sync of library '{key}' is already running; follow it at /api/progress/{}",
            run.progress_id
        ))),
        Started::Finished { result, .. } => {
            let outcome = result.map_err(sync_error)?;
            Ok(axum::Json(SyncResultBody {
                synced_files: outcome.synced_files,
                added_files: outcome.added_files,
                updated_files: outcome.updated_files,
                deleted_files: outcome.deleted_files,
                errors: outcome.errors.into_iter().map(error_body).collect(),
                deletions_held: outcome.held,
            }))
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
    library_id: Uuid,
    trigger: &str,
    progress_id: Option<String>,
    options: SyncOptions,
    reconnect_with: Option<String>,
) -> Result<Started, SyncError> {
    let request = RunRequest {
        library_id,
        progress_id,
        trigger: trigger.to_owned(),
        options,
        owner: lease_owner().to_owned(),
        lease: LEASE,
        reconnect_with,
    };
    let (progress, _) = tokio::sync::watch::channel(RunProgress::default());
    run_locked(&state.store, &state.blobs, connector, request, &progress).await
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
    let kind: ProviderKind = library
        .library_type
        .parse()
        .map_err(|e: String| ApiError::Conflict(format!("library '{key}' cannot sync: {e}")))?;
    let mut config =
        ConnectorConfig::with_http(library.source.0.clone(), state.provider_http.clone());
    config.export_formats = state.config.google_exports.clone();
    if let Some(api) = &integration.api_uri {
        config.api_base = Some(
            url::Url::parse(api)
                .map_err(|e| ApiError::internal(anyhow::anyhow!("integration apiUri: {e}")))?,
        );
    }
    let tokens = ConnectionTokens::new(state.tokens.clone(), connection.id);
    let connector = connector_for(kind, config, Arc::new(tokens)).map_err(provider_error)?;
    Ok(Arc::from(connector))
}

fn sync_error(err: SyncError) -> ApiError {
    match err {
        SyncError::Provider(e) => provider_error(e),
        other => ApiError::internal(anyhow::anyhow!(other)),
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
            "the library's source is gone at the provider ({err}); pick another source"
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
    /// `manual`, `schedule` or `reconcile`.
    pub trigger: String,
    /// `running`, `done`, `held` or `failed`.
    pub status: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    pub synced_files: i64,
    pub added_files: i64,
    pub updated_files: i64,
    pub deleted_files: i64,
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
