//! `/api/libraries/{id}/connection` (show, disconnect, authorize) and
//! `/api/libraries/{id}/account`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use folio_app::connections::{self, ConnectRequest};
use folio_store::Connection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
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

/// The library's OAuth connection.
#[utoipa::path(get, path = "/api/libraries/{id}/connection", tag = "connections",
    params(("id" = String, Path, description = "UUID or natural id")),
    responses((status = 200, body = ConnectionBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn get_connection(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<axum::Json<ConnectionBody>> {
    Ok(axum::Json(
        connections::get(&state, &user.0, &key).await?.into(),
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
    connections::disconnect(&state, &user.0, &key).await?;
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
    let request = ConnectRequest {
        return_to: query.return_to,
        switch_account: query.switch_account.unwrap_or(false),
        login_hint: query.login_hint,
    };
    let url = connections::begin(&state, &user.0, &key, request).await?;
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
    let account = connections::account(&state, &user.0, &key).await?;
    Ok(axum::Json(AccountBody {
        email: account.email,
        display_name: account.display_name,
        account_id: account.account_id,
    }))
}
