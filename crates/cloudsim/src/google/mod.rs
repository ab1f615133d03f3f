//! Google Drive v3 at `/drive/v3/...` (`WIRE.md`, Drive).
//!
//! Reading order: [`error`] (Google's error body), [`fields`] (partial
//! responses), [`model`] (File/Change/Drive JSON), [`query`] (the `q`
//! search language), this file (the caller
//! and which drives a request may see), [`files`] (about, files.list,
//! files.get, alt=media, export), [`changes`] (start page token,
//! changes.list, drives.list).

pub mod changes;
pub mod error;
pub mod fields;
pub mod files;
pub mod model;
pub mod query;

use std::collections::HashMap;

use axum::Router;
use axum::routing::get;
use http::HeaderMap;

use crate::AppState;
use crate::oauth;
use crate::world::{AccountId, DriveId, DriveKind, Provider, World};
use error::GoogleError;

/// The Drive v3 routes, plus the `exportLinks` target.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/drive/v3/about", get(files::about))
        .route("/drive/v3/files", get(files::list))
        .route("/drive/v3/files/{fileId}", get(files::get))
        .route("/drive/v3/files/{fileId}/export", get(files::export))
        .route(
            "/drive/v3/changes/startPageToken",
            get(changes::start_page_token),
        )
        .route("/drive/v3/changes", get(changes::list))
        .route("/drive/v3/drives", get(changes::drives_list))
        .route("/drive/v3/drives/{driveId}", get(changes::drives_get))
        .route(
            "/feeds/download/{kind}/export/Export",
            get(files::export_link),
        )
}

/// Query parameters, raw.
pub type Params = HashMap<String, String>;

/// The account a request acts for (401 authError otherwise).
pub fn caller(state: &AppState, headers: &HeaderMap) -> Result<AccountId, GoogleError> {
    oauth::authenticate(state, Provider::Google, oauth::bearer(headers)).map_err(GoogleError::auth)
}

/// A boolean query parameter (`true`/`false`, default false).
pub fn flag(p: &Params, name: &str) -> Result<bool, GoogleError> {
    match p.get(name).map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(GoogleError::invalid_parameter(
            name,
            format!("Invalid value '{other}'. Expected true or false."),
        )),
    }
}

/// The caller's My Drive id.
pub fn my_drive(world: &World, account: &str) -> Option<DriveId> {
    world.account(account).map(|a| a.drive_id.clone())
}

/// Shared drives the caller is a member of.
pub fn shared_drives(world: &World, account: &str) -> Vec<DriveId> {
    world
        .drives_of(account)
        .into_iter()
        .filter(|d| d.provider == Provider::Google && d.kind == DriveKind::SharedDrive)
        .map(|d| d.id.clone())
        .collect()
}

/// True when the caller may see items of `drive` with these flags: its own
/// drive always; a shared drive it is a member of only with `supportsAllDrives`.
pub fn visible_drive(world: &World, account: &str, drive: &str, supports_all: bool) -> bool {
    match world.drive(drive) {
        Some(d) if d.provider == Provider::Google && world.can_access(account, drive) => {
            d.kind != DriveKind::SharedDrive || supports_all
        }
        _ => false,
    }
}

/// Resolves `root` to the caller's My Drive root id.
pub fn resolve_file_id(world: &World, account: &str, id: &str) -> String {
    if id == "root" {
        my_drive(world, account)
            .and_then(|d| world.drive(&d).map(|d| d.root_id.clone()))
            .unwrap_or_default()
    } else {
        id.to_string()
    }
}

/// Parses a `pageSize` (schema range 1..=1000), capped at the configured maximum.
pub fn page_size(p: &Params, default: u32, max: u32) -> Result<usize, GoogleError> {
    let Some(raw) = p.get("pageSize") else {
        return Ok(default.min(max) as usize);
    };
    match raw.parse::<u32>() {
        Ok(n) if (1..=1000).contains(&n) => Ok(n.min(max) as usize),
        _ => Err(GoogleError::invalid_parameter(
            "pageSize",
            format!("Invalid value '{raw}'. Values must be within the range: [1, 1000]"),
        )),
    }
}
