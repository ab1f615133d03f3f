//! One-time login links: `GET /login/once?token=T` signs a browser in as
//! the user the token was made for, once, then redirects to `/`.
//!
//! `folio demo` makes one at start and prints it, so a person opens the
//! console without a password. A token is a session row whose stored hash
//! is of `login-once;T`, not of `T`: a browser can never present it as a
//! session cookie (a cookie value cannot hold `;`), so the token works only
//! here. Visiting deletes the row (single use, across replicas too) and
//! starts a normal session; a second visit is a 401.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{hash_secret, new_secret};
use crate::error::{ApiError, ApiResult};
use crate::sessions;
use crate::state::AppState;

/// The route of the link.
pub const PATH: &str = "/login/once";

/// What a one-time token is stored as.
fn stored_hash(token: &str) -> String {
    hash_secret(&format!("login-once;{token}"))
}

/// Makes a one-time login token for `user`, valid until `expires_at`.
/// The link is `<public URL>/login/once?token=<token>`.
///
/// # Errors
///
/// The store's, when the row cannot be written.
pub async fn issue(
    store: &folio_store::Store,
    user: Uuid,
    expires_at: DateTime<Utc>,
) -> ApiResult<String> {
    let token = new_secret("once_");
    store
        .create_session(user, &stored_hash(&token), expires_at)
        .await?;
    Ok(token)
}

/// The link for `token` on this server.
pub fn link(state: &AppState, token: &str) -> String {
    format!(
        "{}{PATH}?token={token}",
        state.public_url().trim_end_matches('/')
    )
}

#[derive(Debug, Deserialize)]
pub struct OnceQuery {
    token: String,
}

/// `GET /login/once?token=`: spends the token, sets the session cookie and
/// redirects to `/`. An unknown, spent or expired token is a 401.
pub async fn login_once(
    State(state): State<AppState>,
    Query(query): Query<OnceQuery>,
) -> ApiResult<impl IntoResponse> {
    let refused =
        || ApiError::Unauthorized("this login link was used already or has expired".into());
    let hash = stored_hash(&query.token);
    let user = state
        .store
        .user_by_session_hash(&hash)
        .await?
        .ok_or_else(refused)?;
    // Whoever deletes the row is the one visit that counts.
    if !state.store.delete_session(&hash).await? {
        return Err(refused());
    }
    let mut headers = HeaderMap::new();
    headers.insert(header::SET_COOKIE, sessions::start(&state, user.id).await?);
    Ok((headers, Redirect::to("/")))
}
