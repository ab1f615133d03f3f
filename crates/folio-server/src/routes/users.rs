//! `/api/auth` (login, logout), `/api/users` and `/api/me`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use folio_domain::Username;
use folio_store::{NewUser, StoreError, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{
    AuthUser, SESSION_COOKIE, TOKEN_PREFIX, hash_password, hash_secret, new_secret, session_cookie,
    verify_password,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(create_user))
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUser {
    pub username: String,
    /// Needed only to log in with a session; API tokens work without one.
    pub password: Option<String>,
    pub display_name: Option<String>,
    #[serde(default)]
    pub admin: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
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

const MIN_PASSWORD_CHARS: usize = 8;

/// The user `id`, or a 404 naming it.
pub async fn require_user(state: &AppState, id: Uuid) -> ApiResult<User> {
    match state.store.get_user(id).await {
        Ok(user) => Ok(user),
        Err(StoreError::NotFound(_)) => Err(ApiError::NotFound(format!("user '{id}' not found"))),
        Err(other) => Err(other.into()),
    }
}

/// Log in with a password; sets an HttpOnly, SameSite session cookie.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = Login,
    responses((status = 200, body = UserBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Login>,
) -> ApiResult<impl IntoResponse> {
    let user = state.store.get_user_by_username(&body.username).await?;
    let verified = user.filter(|u| {
        u.password_hash
            .as_deref()
            .is_some_and(|hash| verify_password(&body.password, hash))
    });
    let Some(user) = verified else {
        return Err(ApiError::Unauthorized(
            "wrong username or password".to_owned(),
        ));
    };
    let session = new_secret("");
    let ttl = state.config.session_ttl;
    let expires_at = Utc::now() + chrono::Duration::from_std(ttl).map_err(ApiError::internal)?;
    state
        .store
        .create_session(user.id, &hash_secret(&session), expires_at)
        .await?;
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        ttl.as_secs()
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(ApiError::internal)?,
    );
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
    state.store.delete_session(&hash_secret(&session)).await?;
    let cookie = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(ApiError::internal)?,
    );
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
    let password_hash = match body.password.as_deref() {
        Some(p) if p.chars().count() < MIN_PASSWORD_CHARS => {
            return Err(ApiError::BadRequest(format!(
                "password: must be at least {MIN_PASSWORD_CHARS} characters"
            )));
        }
        Some(p) => Some(hash_password(p)?),
        None => None,
    };
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

/// Create an API token for a user (admins only). The token is in this
/// response and nowhere else.
#[utoipa::path(post, path = "/api/users/{id}/tokens", tag = "users", request_body = CreateToken,
    params(("id" = Uuid, Path)),
    responses((status = 201, body = TokenBody), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn create_token(
    State(state): State<AppState>,
    caller: AuthUser,
    ApiPath(user_id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CreateToken>,
) -> ApiResult<impl IntoResponse> {
    caller.require_admin()?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::BadRequest(
            "name: must be 1 to 200 characters".into(),
        ));
    }
    require_user(&state, user_id).await?;
    let secret = new_secret(TOKEN_PREFIX);
    let token = state
        .store
        .create_token(user_id, name, &hash_secret(&secret))
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
