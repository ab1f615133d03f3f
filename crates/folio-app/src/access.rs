//! A library with the caller's rights: every service that acts on a
//! library starts here.

use folio_domain::{Access, Permission};
use folio_store::{Library, User};

use crate::{App, AppError, AppResult};

/// Loads the library `key` (UUID or natural id) for `caller`, requiring
/// `needed`. A library the caller cannot read is "not found"; one they can
/// read but not change is "forbidden".
pub async fn load_library(
    app: &App,
    caller: &User,
    key: &str,
    needed: Permission,
) -> AppResult<Library> {
    let library = app
        .store
        .find_library(key)
        .await?
        .ok_or_else(|| AppError::library_not_found(key))?;
    let access = access_to(app, caller, &library).await?;
    if !access.can_read() {
        return Err(AppError::library_not_found(key));
    }
    if !access.allows(needed) {
        let what = match needed {
            Permission::Read => "library:read",
            Permission::Sync => "library:sync",
            Permission::Write => "library:write",
        };
        return Err(AppError::Forbidden(format!(
            "this needs the {what} permission on library '{key}'"
        )));
    }
    Ok(library)
}

/// What `caller` may do with `library`: owner, admin or share level. A
/// front end showing a library asks this to offer only the actions the
/// services would allow (no Sync button for a reader).
pub async fn access_to(app: &App, caller: &User, library: &Library) -> AppResult<Access> {
    let owner = library.owner_id == caller.id;
    let share = if owner || caller.is_admin {
        None
    } else {
        app.store.share_level(library.id, caller.id).await?
    };
    Ok(Access::of(owner, caller.is_admin, share))
}

/// Refuses a caller who is not an admin.
pub fn require_admin(caller: &User) -> AppResult<()> {
    if caller.is_admin {
        Ok(())
    } else {
        Err(AppError::Forbidden("this needs an admin".to_owned()))
    }
}
