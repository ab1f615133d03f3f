//! Browser sessions: signing in with a password, the session cookie that
//! carries the session, and ending it. The API's `POST /api/auth/login`,
//! the console's sign-in form and one-time login links all start sessions
//! here, so the cookie has one shape (`HttpOnly`, `SameSite=Lax`, `Secure`
//! with `FOLIO_SECURE_COOKIES`, living as long as the session).

use axum::http::HeaderValue;
use chrono::Utc;
use folio_store::User;
use uuid::Uuid;

use crate::auth::{SESSION_COOKIE, hash_secret, new_secret, verify_password};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The user `username` when `password` is theirs; the API's 401 otherwise
/// (the same words whether the user or the password was wrong).
pub async fn check_password(state: &AppState, username: &str, password: &str) -> ApiResult<User> {
    let user = folio_app::users::by_username(state, username).await?;
    user.filter(|u| {
        u.password_hash
            .as_deref()
            .is_some_and(|hash| verify_password(password, hash))
    })
    .ok_or_else(|| ApiError::Unauthorized("wrong username or password".to_owned()))
}

/// Starts a session for `user_id`; the `Set-Cookie` value that hands it
/// to the browser.
pub async fn start(state: &AppState, user_id: Uuid) -> ApiResult<HeaderValue> {
    let session = new_secret("");
    let ttl = state.config.session_ttl;
    let expires_at = Utc::now() + chrono::Duration::from_std(ttl).map_err(ApiError::internal)?;
    folio_app::users::start_session(state, user_id, &hash_secret(&session), expires_at).await?;
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        ttl.as_secs()
    ))
    .map_err(ApiError::internal)
}

/// Ends the session `session` (the cookie's value); whether it was still
/// there.
pub async fn end(state: &AppState, session: &str) -> ApiResult<bool> {
    Ok(folio_app::users::end_session(state, &hash_secret(session)).await?)
}

/// The `Set-Cookie` value that makes the browser forget its session.
pub fn cleared_cookie() -> HeaderValue {
    HeaderValue::from_static(concat!(
        "folio_session",
        "=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cleared_cookie_names_the_session_cookie() {
        let cleared = cleared_cookie();
        let value = cleared.to_str().expect("ascii");
        assert!(value.starts_with(&format!("{SESSION_COOKIE}=;")), "{value}");
        assert!(value.ends_with("Max-Age=0"), "{value}");
    }
}
