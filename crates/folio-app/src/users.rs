//! Users: finding one by UUID or username, creating one, API tokens.
//! (Passwords and secrets are hashed by the caller's front end, which owns
//! how they are made; this module stores what it is given.)

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
