//! The authorize, token and revoke endpoints of the three providers.
//!
//! Authorize: the client and its exact `redirect_uri` are checked first (a
//! mismatch shows an error page, never a redirect); then the account is
//! `login_hint` (email or account id) or the provider's first account.
//! With auto-approve (default) the browser is redirected at once with
//! `code` and `state`; otherwise a consent page with an account chooser
//! and Allow/Deny buttons posts back to the same path.
//!
//! The routers are here; the flows in [`authorize`] (the browser's side:
//! checks, consent page, redirect with a code) and [`token`] (the client's
//! side: codes and refresh tokens redeemed, tokens revoked, each provider's
//! error bodies).

mod authorize;
mod token;

use std::collections::HashMap;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;
use authorize::{
    dropbox_authorize, dropbox_authorize_post, google_authorize, google_authorize_post,
    microsoft_authorize, microsoft_authorize_post,
};
use token::{dropbox_token, google_revoke, google_token, microsoft_token};

/// Google: `/o/oauth2/v2/auth`, `/token`, `/revoke`.
pub fn google_router() -> Router<AppState> {
    Router::new()
        .route(
            "/o/oauth2/v2/auth",
            get(google_authorize).post(google_authorize_post),
        )
        .route("/token", post(google_token))
        .route("/revoke", post(google_revoke))
}

/// Microsoft: `/{tenant}/oauth2/v2.0/authorize`, `/{tenant}/oauth2/v2.0/token`.
pub fn microsoft_router() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(microsoft_authorize).post(microsoft_authorize_post),
        )
        .route("/{tenant}/oauth2/v2.0/token", post(microsoft_token))
}

/// Dropbox: `/oauth2/authorize`, `/oauth2/token`, and the same under
/// `/1/` (the older paths, which Dropbox still serves and rclone 1.60
/// uses). `/2/auth/token/revoke` lives in the Dropbox API module and calls
/// [`super::OAuthState::revoke`].
pub fn dropbox_router() -> Router<AppState> {
    let authorize_route = || get(dropbox_authorize).post(dropbox_authorize_post);
    Router::new()
        .route("/oauth2/authorize", authorize_route())
        .route("/oauth2/token", post(dropbox_token))
        .route("/1/oauth2/authorize", authorize_route())
        .route("/1/oauth2/token", post(dropbox_token))
}

/// A request's query or form parameters.
type Params = HashMap<String, String>;
