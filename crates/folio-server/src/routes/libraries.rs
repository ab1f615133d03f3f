//! `/api/libraries`: create, list, get, patch, delete, and shares.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use folio_domain::{
    Access, LibrarySource, LibraryType, NaturalId, Permission, ShareLevel, SyncSchedule,
};
use folio_store::{Library, LibraryPatch, NewLibrary, Share, User, UserShare};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
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
            library_type: library.library_type,
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
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
    pub source: Option<LibrarySource>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<SyncSchedule>)]
    pub sync_schedule: Option<Option<SyncSchedule>>,
}

/// Tells "field absent" (`None`, via `#[serde(default)]`) from "field is
/// null" (`Some(None)`).
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
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
            level: share.level,
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
            level: share.level,
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

/// Loads the library `key` (UUID or natural id) for `user`, requiring
/// `needed`. A library the caller cannot read is "not found" (404); one
/// they can read but not change is "forbidden" (403).
pub async fn load_library(
    state: &AppState,
    user: &AuthUser,
    key: &str,
    needed: Permission,
) -> ApiResult<Library> {
    let library = state
        .store
        .find_library(key)
        .await?
        .ok_or_else(|| ApiError::library_not_found(key))?;
    let share = if library.owner_id == user.0.id || user.0.is_admin {
        None
    } else {
        state
            .store
            .share_level(library.id, user.0.id)
            .await?
            .and_then(|level| level.parse::<ShareLevel>().ok())
    };
    let access = Access::of(library.owner_id == user.0.id, user.0.is_admin, share);
    if !access.can_read() {
        return Err(ApiError::library_not_found(key));
    }
    if !access.allows(needed) {
        let what = match needed {
            Permission::Read => "library:read",
            Permission::Sync => "library:sync",
            Permission::Write => "library:write",
        };
        return Err(ApiError::Forbidden(format!(
            "this needs the {what} permission on library '{key}'"
        )));
    }
    Ok(library)
}

fn parse_name(name: &str) -> ApiResult<String> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 200 {
        return Err(ApiError::BadRequest(
            "name: must be 1 to 200 characters".into(),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "name: must not contain control characters".into(),
        ));
    }
    Ok(trimmed.to_owned())
}

fn parse_description(description: Option<String>) -> ApiResult<Option<String>> {
    match description {
        Some(d) if d.chars().count() > 2000 => Err(ApiError::BadRequest(
            "description: must be at most 2000 characters".into(),
        )),
        other => Ok(other),
    }
}

/// Picks a free natural id derived from `name`: `docs`, `docs-2`, `docs-3`...
async fn free_natural_id(state: &AppState, name: &str) -> ApiResult<String> {
    let base = NaturalId::slugify(name).map_or_else(|| "library".to_owned(), String::from);
    for n in 1..1000 {
        let candidate = if n == 1 {
            base.clone()
        } else {
            let suffix = format!("-{n}");
            let keep = base.len().min(64 - suffix.len());
            format!("{}{suffix}", base[..keep].trim_end_matches('-'))
        };
        if state
            .store
            .library_by_natural_id(&candidate)
            .await?
            .is_none()
        {
            return Ok(candidate);
        }
    }
    Err(ApiError::Conflict(format!(
        "no free naturalId derived from '{base}'; give one"
    )))
}

/// Create a library owned by the caller.
#[utoipa::path(post, path = "/api/libraries", tag = "libraries", request_body = CreateLibrary,
    responses((status = 201, body = LibraryBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_library(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<CreateLibrary>,
) -> ApiResult<impl IntoResponse> {
    let name = parse_name(&body.name)?;
    let library_type: LibraryType = body.library_type.parse()?;
    let description = parse_description(body.description)?;
    let source = body.source.unwrap_or_default();
    source.validate()?;
    if let Some(schedule) = &body.sync_schedule {
        schedule.validate()?;
    }
    let natural_id = match body.natural_id {
        Some(raw) => NaturalId::parse(&raw)?.to_string(),
        None => free_natural_id(&state, &name).await?,
    };
    let library = state
        .store
        .create_library(NewLibrary {
            natural_id,
            name,
            description,
            library_type: library_type.as_str().to_owned(),
            owner_id: user.0.id,
            source,
            sync_schedule: body.sync_schedule,
        })
        .await?;
    if let Some(schedule) = body.sync_schedule {
        crate::scheduler::follow_schedule(&state, library.id, None, Some(schedule)).await;
    }
    Ok((StatusCode::CREATED, axum::Json(LibraryBody::from(library))))
}

/// The libraries the caller can read.
#[utoipa::path(get, path = "/api/libraries", tag = "libraries",
    responses((status = 200, body = LibraryList), (status = 401, body = ErrorBody)))]
async fn list_libraries(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<axum::Json<LibraryList>> {
    let libraries = state
        .store
        .list_libraries_for(user.0.id, user.0.is_admin)
        .await?;
    Ok(axum::Json(LibraryList {
        items: libraries.into_iter().map(LibraryBody::from).collect(),
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
    let library = load_library(&state, &user, &key, Permission::Read).await?;
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
    let library = load_library(&state, &user, &key, Permission::Write).await?;
    let schedule_given = body.sync_schedule.is_some();
    let patch = LibraryPatch {
        natural_id: body
            .natural_id
            .map(|raw| NaturalId::parse(&raw).map(String::from))
            .transpose()?,
        name: body.name.as_deref().map(parse_name).transpose()?,
        description: body.description.map(parse_description).transpose()?,
        source: body.source.map(|s| s.validate().map(|()| s)).transpose()?,
        sync_schedule: body
            .sync_schedule
            .map(|s| s.map(|s| s.validate().map(|()| s)).transpose())
            .transpose()?,
    };
    let updated = state.store.update_library(library.id, patch).await?;
    if schedule_given {
        let before = library.sync_schedule.map(|s| s.0);
        let after = updated.sync_schedule.as_ref().map(|s| s.0);
        crate::scheduler::follow_schedule(&state, library.id, before, after).await;
    }
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
    let library = load_library(&state, &user, &key, Permission::Write).await?;
    let hashes = state.store.delete_library(library.id).await?;
    crate::routes::files::collect_blobs(&state, hashes).await;
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
    let library = load_library(&state, &user, &key, Permission::Write).await?;
    let shares = state.store.list_shares(library.id).await?;
    Ok(axum::Json(ShareList {
        items: shares.into_iter().map(ShareBody::from).collect(),
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
    let library = load_library(&state, &user, &key, Permission::Write).await?;
    let level: ShareLevel = body.level.parse()?;
    let shared_with = crate::routes::users::require_user(&state, &user_key).await?;
    let share = state
        .store
        .put_share(library.id, shared_with.id, level.as_str())
        .await?;
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
    let library = load_library(&state, &user, &key, Permission::Write).await?;
    let shared_with = crate::routes::users::require_user(&state, &user_key).await?;
    if state.store.delete_share(library.id, shared_with.id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!(
            "library '{key}' is not shared with user '{user_key}'"
        )))
    }
}
