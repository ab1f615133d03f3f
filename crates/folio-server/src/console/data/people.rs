//! Signing in and out, and the set-up page's password.

use axum::http::{HeaderValue, StatusCode};
use uuid::Uuid;

use super::{Data, DataResult, Failure, Me, Session, api_failure, failure};
use crate::auth::new_password_hash;
use crate::sessions;

impl Data {
    /// The person a session belongs to; `None` when it has ended.
    pub async fn me(&self, session: &Session) -> DataResult<Option<Me>> {
        match self.user(session).await {
            Ok(user) => Ok(Some(Me::from(user))),
            Err(f) if f.status == StatusCode::UNAUTHORIZED => Ok(None),
            Err(f) => Err(f),
        }
    }

    /// Signs in; the `Set-Cookie` value of the new session (the cookie the
    /// API's `POST /api/auth/login` sets).
    pub async fn login(&self, username: &str, password: &str) -> DataResult<HeaderValue> {
        let user = sessions::check_password(&self.state, username, password)
            .await
            .map_err(api_failure)?;
        sessions::start(&self.state, user.id)
            .await
            .map_err(api_failure)
    }

    /// Ends the session; the `Set-Cookie` value that clears it (`None`
    /// when it had already ended).
    pub async fn logout(&self, session: &Session) -> Option<HeaderValue> {
        let ended = sessions::end(&self.state, &session.0)
            .await
            .map_err(api_failure)
            .ok()?;
        ended.then(sessions::cleared_cookie)
    }

    /// Whether the admin account `username` exists and has no password.
    pub async fn admin_without_password(&self, username: &str) -> DataResult<Option<Uuid>> {
        folio_app::users::admin_without_password(&self.state, username)
            .await
            .map_err(failure)
    }

    /// Sets a user's password (the set-up page's one change).
    pub async fn set_password(&self, user_id: Uuid, password: &str) -> DataResult<()> {
        let hash = new_password_hash(password)
            .map_err(|e| Failure::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        folio_app::users::set_password_hash(&self.state, user_id, Some(&hash))
            .await
            .map_err(failure)
    }
}
