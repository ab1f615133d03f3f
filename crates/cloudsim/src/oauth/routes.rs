//! The authorize, token and revoke endpoints of the three providers.

use axum::Router;

use crate::AppState;

/// Google: `/o/oauth2/v2/auth`, `/token`, `/revoke`.
pub fn google_router() -> Router<AppState> {
    Router::new()
}

/// Microsoft: `/{tenant}/oauth2/v2.0/authorize`, `/{tenant}/oauth2/v2.0/token`.
pub fn microsoft_router() -> Router<AppState> {
    Router::new()
}

/// Dropbox: `/oauth2/authorize`, `/oauth2/token`, `/2/auth/token/revoke`.
pub fn dropbox_router() -> Router<AppState> {
    Router::new()
}
