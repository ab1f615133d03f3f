//! Sharing a library with other users at a level (`read`, `sync`,
//! `write`); only who may write the library may see and change its shares.

use folio_domain::{Permission, ShareLevel};
use folio_store::{Share, User, UserShare};

use crate::access::load_library;
use crate::users::require_user;
use crate::{App, AppError, AppResult};

/// Who the library is shared with, with their usernames.
pub async fn list(app: &App, caller: &User, key: &str) -> AppResult<Vec<UserShare>> {
    let library = load_library(app, caller, key, Permission::Write).await?;
    Ok(app.store.list_shares(library.id).await?)
}

/// Shares the library with the user `user_key` (UUID or username) at
/// `level`; answers the share and the user it names.
pub async fn put(
    app: &App,
    caller: &User,
    key: &str,
    user_key: &str,
    level: &str,
) -> AppResult<(Share, User)> {
    let library = load_library(app, caller, key, Permission::Write).await?;
    let level: ShareLevel = level.parse()?;
    let shared_with = require_user(app, user_key).await?;
    let share = app
        .store
        .put_share(library.id, shared_with.id, level)
        .await?;
    Ok((share, shared_with))
}

/// Stops sharing the library with the user `user_key`.
pub async fn delete(app: &App, caller: &User, key: &str, user_key: &str) -> AppResult<()> {
    let library = load_library(app, caller, key, Permission::Write).await?;
    let shared_with = require_user(app, user_key).await?;
    if app.store.delete_share(library.id, shared_with.id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound(format!(
            "library '{key}' is not shared with user '{user_key}'"
        )))
    }
}
