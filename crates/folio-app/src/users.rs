//! Users: finding one by UUID or username, creating one, API tokens.
//! (Passwords and secrets are hashed by the caller's front end, which owns
//! how they are made; this module stores what it is given.)

use chrono::{DateTime, Utc};
use folio_store::{NewUser, StoreError, User};
use uuid::Uuid;

use crate::{App, AppError, AppResult};

/// The user `key` names (its UUID or its username), or "not found" naming
/// it. Usernames never look like a UUID, so the two cannot be confused.
pub async fn require_user(app: &App, key: &str) -> AppResult<User> {
    let not_found = || AppError::NotFound(format!("user '{key}' not found"));
    match Uuid::parse_str(key) {
        Ok(id) => match app.store.get_user(id).await {
            Ok(user) => Ok(user),
            Err(StoreError::NotFound(_)) => Err(not_found()),
            Err(other) => Err(other.into()),
        },
        Err(_) => app
            .store
            .get_user_by_username(key)
            .await?
            .ok_or_else(not_found),
    }
}

/// Creates a user (admins only); `user.username` must already be checked.
pub async fn create_user(app: &App, caller: &User, user: NewUser) -> AppResult<User> {
    crate::access::require_admin(caller)?;
    Ok(app.store.create_user(user).await?)
}

/// The user called `username`, if there is one (signing in looks here
/// before checking the password).
pub async fn by_username(app: &App, username: &str) -> AppResult<Option<User>> {
    Ok(app.store.get_user_by_username(username).await?)
}

/// Opens a login session for `user_id` until `expires_at`; the store
/// keeps only `session_hash`, the hash of the id the browser holds.
pub async fn start_session(
    app: &App,
    user_id: Uuid,
    session_hash: &str,
    expires_at: DateTime<Utc>,
) -> AppResult<()> {
    app.store
        .create_session(user_id, session_hash, expires_at)
        .await?;
    Ok(())
}

/// The user of the unexpired session whose id hashes to `session_hash`.
pub async fn session_user(app: &App, session_hash: &str) -> AppResult<Option<User>> {
    Ok(app.store.user_by_session_hash(session_hash).await?)
}

/// Ends the session whose id hashes to `session_hash`; answers whether
/// it was open.
pub async fn end_session(app: &App, session_hash: &str) -> AppResult<bool> {
    Ok(app.store.delete_session(session_hash).await?)
}

/// The id of the admin `username` while it has no password yet (a fresh
/// install, before its set-up page is used); `None` otherwise.
pub async fn admin_without_password(app: &App, username: &str) -> AppResult<Option<Uuid>> {
    Ok(by_username(app, username)
        .await?
        .filter(|u| u.is_admin && u.password_hash.is_none())
        .map(|u| u.id))
}

/// Sets (or, with `None`, removes) a user's password hash.
pub async fn set_password_hash(
    app: &App,
    user_id: Uuid,
    password_hash: Option<&str>,
) -> AppResult<()> {
    Ok(app.store.set_password(user_id, password_hash).await?)
}
