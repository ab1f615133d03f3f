//! `/api/auth` (login, logout), `/api/users` and `/api/me`.
//!
//! A user in a path (`/api/users/{id}`, a library's `shares/{userId}`) is
//! its UUID or its username: usernames never look like a UUID, so the two
//! cannot be confused.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use folio_domain::Username;
use folio_store::{NewUser, User};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{
    AuthUser, TOKEN_PREFIX, hash_secret, new_password_hash, new_secret, session_cookie,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::routes::paging::{decode_cursor, encode_cursor, page_limit};
use crate::sessions;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(create_user, list_users))
        .routes(routes!(get_user))
        .routes(routes!(create_token))
}

/// A user as the API shows it (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserBody {
    pub id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    pub admin: bool,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserBody {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            username: user.username,
            display_name: user.display_name,
            admin: user.is_admin,
            created_at: user.created_at,
        }
    }
}

/// A page of users, in username order.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<UserBody>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUser {
    /// 1 to 64 ASCII letters, digits, `.`, `_`, `-` and `@`, never shaped
    /// like a UUID.
    #[schema(pattern = r"^[A-Za-z0-9._@-]{1,64}$")]
    pub username: String,
    /// At least 8 characters. Needed only to log in with a session; API
    /// tokens work without one.
    #[schema(min_length = 8)]
    pub password: Option<String>,
    pub display_name: Option<String>,
    #[serde(default)]
    pub admin: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// 1 to 200 characters (trimmed).
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
}

/// A new API token. `token` is shown this once; only its hash is kept.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenBody {
    pub id: Uuid,
    pub name: String,
    pub token: String,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub username: String,
    pub password: String,
}

/// Log in with a password; sets an HttpOnly, SameSite session cookie.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = Login, security(()),
    responses((status = 200, body = UserBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Login>,
) -> ApiResult<impl IntoResponse> {
    let user = sessions::check_password(&state, &body.username, &body.password).await?;
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, sessions::start(&state, user.id).await?);
    Ok((headers, axum::Json(UserBody::from(user))))
}

/// End the current session and clear its cookie.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
) -> ApiResult<impl IntoResponse> {
    let Some(session) = session_cookie(&parts) else {
        return Err(ApiError::Unauthorized(
            "no session to log out of".to_owned(),
        ));
    };
    if !sessions::end(&state, &session).await? {
        return Err(ApiError::Unauthorized(
            "the session has expired or was already logged out".to_owned(),
        ));
    }
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, sessions::cleared_cookie());
    Ok((StatusCode::NO_CONTENT, headers))
}

/// The caller.
#[utoipa::path(get, path = "/api/me", tag = "auth",
    responses((status = 200, body = UserBody), (status = 401, body = ErrorBody)))]
async fn me(user: AuthUser) -> axum::Json<UserBody> {
    axum::Json(user.0.into())
}

/// Create a user (admins only).
#[utoipa::path(post, path = "/api/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = UserBody), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiJson(body): ApiJson<CreateUser>,
) -> ApiResult<impl IntoResponse> {
    caller.require_admin()?;
    let username = Username::parse(&body.username)?;
    let password_hash = body
        .password
        .as_deref()
        .map(new_password_hash)
        .transpose()?;
    let user = state
        .store
        .create_user(NewUser {
            username: username.to_string(),
            display_name: body.display_name,
            password_hash,
            is_admin: body.admin,
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(UserBody::from(user))))
}

/// Every user, a page at a time in username order (admins only).
#[utoipa::path(get, path = "/api/users", tag = "users", params(UserListQuery),
    responses((status = 200, body = UserList), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiQuery(query): ApiQuery<UserListQuery>,
) -> ApiResult<axum::Json<UserList>> {
    caller.require_admin()?;
    let limit = page_limit(query.limit)?;
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let page = state.store.list_users(after.as_deref(), limit).await?;
    Ok(axum::Json(UserList {
        items: page.items.into_iter().map(UserBody::from).collect(),
        next: page.next_after.as_deref().map(encode_cursor),
    }))
}

/// One user, by UUID or username (admins only).
#[utoipa::path(get, path = "/api/users/{id}", tag = "users",
    params(("id" = String, Path, description = "the user's UUID or username")),
    responses((status = 200, body = UserBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_user(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<axum::Json<UserBody>> {
    caller.require_admin()?;
    let user = folio_app::users::require_user(&state, &key).await?;
    Ok(axum::Json(user.into()))
}

/// Create an API token for a user (admins only). The token is in this
/// response and nowhere else.
#[utoipa::path(post, path = "/api/users/{id}/tokens", tag = "users", request_body = CreateToken,
    params(("id" = String, Path, description = "the user's UUID or username")),
    responses((status = 201, body = TokenBody), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn create_token(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<CreateToken>,
) -> ApiResult<impl IntoResponse> {
    caller.require_admin()?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::BadRequest(
            "name: must be 1 to 200 characters".into(),
        ));
    }
    let user = folio_app::users::require_user(&state, &key).await?;
    let secret = new_secret(TOKEN_PREFIX);
    let token = state
        .store
        .create_token(user.id, name, &hash_secret(&secret))
        .await?;
    let body = TokenBody {
        id: token.id,
        name: token.name,
        token: secret,
        user_id: token.user_id,
        created_at: token.created_at,
    };
    Ok((StatusCode::CREATED, axum::Json(body)))
}
