//! `/api/libraries`: create, list, get, patch, delete, and shares.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use folio_app::libraries::{self, LibraryChanges, LibraryDraft};
use folio_app::shares;
use folio_domain::{LibrarySource, LibraryType, ShareLevel, SyncSchedule};
use folio_store::{Library, Share, User, UserShare};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_library, list_libraries))
        .routes(routes!(get_library, patch_library, delete_library))
        .routes(routes!(list_shares))
        .routes(routes!(put_share, delete_share))
}

/// A library as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LibraryBody {
    pub id: Uuid,
    pub natural_id: String,
    pub name: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub library_type: String,
    pub owner_id: Uuid,
    pub source: LibrarySource,
    pub sync_schedule: Option<SyncSchedule>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Library> for LibraryBody {
    fn from(library: Library) -> Self {
        Self {
            id: library.id,
            natural_id: library.natural_id,
            name: library.name,
            description: library.description,
            library_type: library.library_type.to_string(),
            owner_id: library.owner_id,
            source: library.source.0,
            sync_schedule: library.sync_schedule.map(|s| s.0),
            created_at: library.created_at,
            updated_at: library.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LibraryList {
    pub items: Vec<LibraryBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateLibrary {
    /// 1 to 200 characters (trimmed), no control characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    /// Defaults to a slug of `name`, made unique. Lowercase letters, digits
    /// and inner `-`, at most 64, never shaped like a UUID.
    #[schema(pattern = r"^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$")]
    pub natural_id: Option<String>,
    #[serde(rename = "type")]
    #[schema(value_type = LibraryType)]
    pub library_type: String,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    pub source: Option<LibrarySource>,
    pub sync_schedule: Option<SyncSchedule>,
}

/// Fields to change; absent fields stay as they are, `null` clears
/// `description` and `syncSchedule`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchLibrary {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: Option<String>,
    #[schema(pattern = r"^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$")]
    pub natural_id: Option<String>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
    pub source: Option<LibrarySource>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<SyncSchedule>)]
    pub sync_schedule: Option<Option<SyncSchedule>>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShareBody {
    pub library_id: Uuid,
    pub user_id: Uuid,
    /// The username of `userId`.
    pub username: String,
    /// `read`, `sync` or `write`.
    pub level: String,
    pub created_at: DateTime<Utc>,
}

impl ShareBody {
    fn new(share: Share, user: &User) -> Self {
        Self {
            library_id: share.library_id,
            user_id: share.user_id,
            username: user.username.clone(),
            level: share.level.to_string(),
            created_at: share.created_at,
        }
    }
}

impl From<UserShare> for ShareBody {
    fn from(share: UserShare) -> Self {
        Self {
            library_id: share.library_id,
            user_id: share.user_id,
            username: share.username,
            level: share.level.to_string(),
            created_at: share.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShareList {
    pub items: Vec<ShareBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutShare {
    #[schema(value_type = ShareLevel)]
    pub level: String,
}

/// Create a library owned by the caller.
#[utoipa::path(post, path = "/api/libraries", tag = "libraries", request_body = CreateLibrary,
    responses((status = 201, body = LibraryBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_library(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<CreateLibrary>,
) -> ApiResult<impl IntoResponse> {
    let draft = LibraryDraft {
        name: body.name,
        natural_id: body.natural_id,
        library_type: body.library_type,
        description: body.description,
        source: body.source,
        sync_schedule: body.sync_schedule,
    };
    let library = libraries::create(&state, &user.0, draft).await?;
    Ok((StatusCode::CREATED, axum::Json(LibraryBody::from(library))))
}

/// The libraries the caller can read.
#[utoipa::path(get, path = "/api/libraries", tag = "libraries",
    responses((status = 200, body = LibraryList), (status = 401, body = ErrorBody)))]
async fn list_libraries(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<axum::Json<LibraryList>> {
    let items = libraries::list(&state, &user.0).await?;
    Ok(axum::Json(LibraryList {
        items: items.into_iter().map(LibraryBody::from).collect(),
    }))
}

/// A library, by UUID or natural id.
#[utoipa::path(get, path = "/api/libraries/{id}", tag = "libraries",
    params(("id" = String, Path, description = "UUID or natural id")),
    responses((status = 200, body = LibraryBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_library(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<axum::Json<LibraryBody>> {
    let library = libraries::get(&state, &user.0, &key).await?;
    Ok(axum::Json(library.into()))
}

/// Change a library's name, natural id, description, source or schedule.
#[utoipa::path(patch, path = "/api/libraries/{id}", tag = "libraries", request_body = PatchLibrary,
    params(("id" = String, Path, description = "UUID or natural id")),
    responses((status = 200, body = LibraryBody), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn patch_library(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<PatchLibrary>,
) -> ApiResult<axum::Json<LibraryBody>> {
    let changes = LibraryChanges {
        name: body.name,
        natural_id: body.natural_id,
        description: body.description,
        source: body.source,
        sync_schedule: body.sync_schedule,
    };
    let updated = libraries::update(&state, &user.0, &key, changes).await?;
    Ok(axum::Json(updated.into()))
}

/// Delete a library with its files and the stored bytes no other file uses
/// (its sync history and schedule go with it: ON DELETE CASCADE).
#[utoipa::path(delete, path = "/api/libraries/{id}", tag = "libraries",
    params(("id" = String, Path, description = "UUID or natural id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_library(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<StatusCode> {
    libraries::delete(&state, &user.0, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who the library is shared with, with their usernames.
#[utoipa::path(get, path = "/api/libraries/{id}/shares", tag = "libraries",
    params(("id" = String, Path, description = "UUID or natural id")),
    responses((status = 200, body = ShareList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_shares(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<axum::Json<ShareList>> {
    let items = shares::list(&state, &user.0, &key).await?;
    Ok(axum::Json(ShareList {
        items: items.into_iter().map(ShareBody::from).collect(),
    }))
}

/// Share the library with a user at a level (`read`, `sync`, `write`).
#[utoipa::path(put, path = "/api/libraries/{id}/shares/{userId}", tag = "libraries", request_body = PutShare,
    params(("id" = String, Path, description = "UUID or natural id"), ("userId" = String, Path, description = "the user's UUID or username")),
    responses((status = 200, body = ShareBody), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn put_share(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((key, user_key)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<PutShare>,
) -> ApiResult<axum::Json<ShareBody>> {
    let (share, shared_with) = shares::put(&state, &user.0, &key, &user_key, &body.level).await?;
    Ok(axum::Json(ShareBody::new(share, &shared_with)))
}

/// Stop sharing the library with a user.
#[utoipa::path(delete, path = "/api/libraries/{id}/shares/{userId}", tag = "libraries",
    params(("id" = String, Path, description = "UUID or natural id"), ("userId" = String, Path, description = "the user's UUID or username")),
    responses((status = 204, description = "no longer shared"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_share(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((key, user_key)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    shares::delete(&state, &user.0, &key, &user_key).await?;
    Ok(StatusCode::NO_CONTENT)
}
