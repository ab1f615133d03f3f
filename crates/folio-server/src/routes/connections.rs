//! `/api/libraries/{id}/connection` (show, disconnect, authorize) and
//! `/api/libraries/{id}/account`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use folio_domain::Permission;
use folio_oauth::{AuthorizeRequest, OAuthError, TokenError};
use folio_store::{Connection, Library};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::routes::libraries::load_library;
use crate::routes::oauth::{allowed_return_to, callback_url};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_connection, delete_connection))
        .routes(routes!(authorize))
        .routes(routes!(get_account))
}

/// A library's OAuth connection. Tokens are never shown.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionBody {
    pub id: Uuid,
    /// The user who authorized it.
    pub owner_id: Uuid,
    pub integration_id: Uuid,
    pub token_expires_at: Option<DateTime<Utc>>,
    /// Null when the provider gives no expiry (Google, Dropbox).
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    pub last_authorized_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// `active`, `needsReauthorization` or `revoked`.
    pub status: String,
    pub library_id: Uuid,
    /// The provider account the connection was made with.
    pub provider_account_id: String,
    pub last_refreshed_at: Option<DateTime<Utc>>,
}

impl From<Connection> for ConnectionBody {
    fn from(c: Connection) -> Self {
        Self {
            id: c.id,
            owner_id: c.owner_id,
            integration_id: c.integration_id,
            token_expires_at: c.token_expires_at,
            refresh_token_expires_at: c.refresh_token_expires_at,
            last_authorized_at: c.last_authorized_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
            status: c.status,
            library_id: c.library_id,
            provider_account_id: c.provider_account_id,
            last_refreshed_at: c.last_refreshed_at,
        }
    }
}

/// The connected identity, read live from the provider.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountBody {
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub account_id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeQuery {
    /// Where the browser goes after the callback: Folio's own origin or one
    /// of FOLIO_ALLOWED_RETURN_ORIGINS.
    pub return_to: Option<String>,
    /// Allow reconnecting as a different provider account.
    pub switch_account: Option<bool>,
    /// Passed to the provider as `login_hint` (which account to sign in as).
    pub login_hint: Option<String>,
}

/// 409 for a library that has no connection yet: the one status and the
/// one message for that condition, on every route that needs one (showing,
/// deleting or using the connection, reading the account, syncing).
pub fn no_connection(key: &str) -> ApiError {
    ApiError::Conflict(format!(
        "library '{key}' has no connection yet; connect it with GET /api/libraries/{key}/connection/authorize"
    ))
}

/// 409 for a library that has no integration yet, likewise the same on
/// every route.
pub fn no_integration(key: &str) -> ApiError {
    ApiError::Conflict(format!(
        "library '{key}' has no integration yet; set one with PUT /api/libraries/{key}/integration"
    ))
}

/// Maps the token lifecycle's errors to the API's, for library `key`.
pub fn token_error(err: TokenError, key: &str) -> ApiError {
    let reconnect = format!("/api/libraries/{key}/connection/authorize");
    match err {
        TokenError::NotFound => no_connection(key),
        TokenError::NeedsReauthorization { .. } | TokenError::Revoked => ApiError::Unprocessable(
            err.to_string()
                .replace("/api/libraries/{id}/connection/authorize", &reconnect),
        ),
        TokenError::InvalidState => ApiError::BadRequest(format!("state: {err}").replace(
            "/api/libraries/{id}/connection/authorize",
            "the library's connection/authorize route",
        )),
        TokenError::DifferentAccount { .. } | TokenError::IntegrationChanged => {
            ApiError::Conflict(err.to_string())
        }
        TokenError::Integration(field) => ApiError::BadRequest(field.to_string()),
        TokenError::Busy => ApiError::Unavailable(err.to_string()),
        TokenError::Provider(e) => provider_error(e),
        TokenError::Store(e) => e.into(),
        TokenError::Seal(e) => ApiError::internal(e),
    }
}

fn provider_error(err: OAuthError) -> ApiError {
    match err {
        OAuthError::InvalidGrant(_) => ApiError::Unprocessable(format!(
            "{err}; nothing was stored, start the connection again"
        )),
        OAuthError::InvalidClient(_) => ApiError::Unprocessable(format!(
            "{err}; an admin must fix the integration's clientId/clientSecret"
        )),
        OAuthError::Provider { status, .. } if status < 500 && status != 429 => {
            ApiError::Unprocessable(err.to_string())
        }
        other => ApiError::BadGateway(other.to_string()),
    }
}

async fn connection_of(state: &AppState, library: &Library, key: &str) -> ApiResult<Connection> {
    state
        .store
        .connection_for_library(library.id)
        .await?
        .ok_or_else(|| no_connection(key))
}

/// The library's OAuth connection.
#[utoipa::path(get, path = "/api/libraries/{id}/connection", tag = "connections",
    params(("id" = String, Path, description = "UUID or natural id")),
    responses((status = 200, body = ConnectionBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn get_connection(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<axum::Json<ConnectionBody>> {
    let library = load_library(&state, &user, &key, Permission::Read).await?;
    Ok(axum::Json(
        connection_of(&state, &library, &key).await?.into(),
    ))
}

/// Disconnect: revoke at the provider (Google, Dropbox; Microsoft has no
/// per-app revoke), then destroy the tokens. 204 even when the provider
/// cannot be reached (logged).
#[utoipa::path(delete, path = "/api/libraries/{id}/connection", tag = "connections",
    params(("id" = String, Path, description = "UUID or natural id")),
    responses((status = 204, description = "revoked and destroyed"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete_connection(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let library = load_library(&state, &user, &key, Permission::Write).await?;
    let connection = connection_of(&state, &library, &key).await?;
    let revoked = state
        .tokens
        .disconnect(&connection)
        .await
        .map_err(|e| token_error(e, &key))?;
    tracing::info!(library = %library.id, revoked_at_provider = revoked, "library disconnected; tokens destroyed");
    Ok(StatusCode::NO_CONTENT)
}

/// Start connecting: 302 to the provider's consent page (authorization
/// code + PKCE S256 + a single-use state that expires in 10 minutes).
#[utoipa::path(get, path = "/api/libraries/{id}/connection/authorize", tag = "connections",
    params(("id" = String, Path, description = "UUID or natural id"), AuthorizeQuery),
    responses((status = 302, description = "to the provider"), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn authorize(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(key): ApiPath<String>,
    ApiQuery(query): ApiQuery<AuthorizeQuery>,
) -> ApiResult<Response> {
    let library = load_library(&state, &user, &key, Permission::Write).await?;
    let integration = state
        .store
        .library_integration(library.id)
        .await?
        .ok_or_else(|| no_integration(&key))?;
    let return_to = query
        .return_to
        .map(|raw| {
            allowed_return_to(&state, &raw).ok_or_else(|| {
                ApiError::BadRequest(
                    "returnTo: must be on Folio's own origin or one of FOLIO_ALLOWED_RETURN_ORIGINS".into(),
                )
            })
        })
        .transpose()?;
    let url = state
        .tokens
        .begin_authorization(
            &integration,
            AuthorizeRequest {
                library_id: library.id,
                user_id: user.0.id,
                redirect_uri: &callback_url(&state),
                return_to,
                switch_account: query.switch_account.unwrap_or(false),
                login_hint: query
                    .login_hint
                    .as_deref()
                    .filter(|h| !h.is_empty() && h.len() <= 320),
            },
        )
        .await
        .map_err(|e| token_error(e, &key))?;
    Ok((
        StatusCode::FOUND,
        [
            (header::LOCATION, url.to_string()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response())
}

/// The connected account (`email`, `displayName`, `accountId`), read live
/// from the provider (Drive `about`, Graph `/me`, Dropbox
/// `get_current_account`).
#[utoipa::path(get, path = "/api/libraries/{id}/account", tag = "connections",
    params(("id" = String, Path, description = "UUID or natural id")),
    responses((status = 200, body = AccountBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
async fn get_account(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<axum::Json<AccountBody>> {
    let library = load_library(&state, &user, &key, Permission::Read).await?;
    let connection = connection_of(&state, &library, &key).await?;
    let account = state
        .tokens
        .account(connection.id)
        .await
        .map_err(|e| token_error(e, &key))?;
    Ok(axum::Json(AccountBody {
        email: account.email,
        display_name: account.display_name,
        account_id: account.account_id,
    }))
}
