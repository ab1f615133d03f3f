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

use axum::extract::State;
use folio_app::sync::{self, SyncRequest};
use folio_domain::object::Object;
use folio_store::sync::SyncRun;
use folio_sync::executor::{FileError, PlannedChange, SyncOutcome};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sync_library))
        .routes(routes!(list_syncs))
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
    let request = SyncRequest {
        purge: body.purge,
        progress: body.progress,
        confirm_deletes: body.confirm_deletes,
        dry_run: body.dry_run,
    };
    let outcome = sync::run(&state, &user.0, &key, request).await?;
    Ok(axum::Json(outcome.into()))
}

fn error_body(e: FileError) -> SyncErrorBody {
    SyncErrorBody {
        path: e.path,
        remote_id: e.remote_id,
        message: e.message,
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
            trigger: r.trigger_kind.to_string(),
            status: r.status.to_string(),
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
    let runs = sync::history(&state, &user.0, &key, 100).await?;
    Ok(axum::Json(SyncRunList {
        items: runs.into_iter().map(SyncRunBody::from).collect(),
    }))
}
