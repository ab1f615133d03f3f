//! Microsoft Graph v1.0 for OneDrive and SharePoint (`WIRE.md`, Graph),
//! at `/v1.0/...`, plus the pre-authenticated `/download/{token}` URLs.
//!
//! Reading order: [`model`] (wire structs), [`error`] (Graph error bodies),
//! this file (the caller, drive references, the route table), [`items`]
//! (driveItem JSON, items, children, `/content`), [`delta`], [`download`],
//! [`sites`] (`/me`, drives, SharePoint sites).

pub mod delta;
pub mod download;
pub mod error;
pub mod items;
pub mod model;
pub mod render;
pub mod sites;

use axum::Router;
use axum::extract::Path;
use axum::routing::{any, get};
use http::{HeaderMap, StatusCode};

use crate::AppState;
use crate::oauth;
use crate::world::{AccountId, DriveId, Provider, World};
use error::GraphError;

/// The account a request acts for.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: AccountId,
}

/// Checks the bearer token (401 `InvalidAuthenticationToken`).
pub fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, GraphError> {
    let account = oauth::authenticate(state, Provider::Microsoft, oauth::bearer(headers))
        .map_err(GraphError::unauthenticated)?;
    Ok(Caller { account })
}

/// How a route names a drive.
#[derive(Debug, Clone, Copy)]
pub enum DriveRef<'a> {
    /// `/me/drive`.
    Me,
    /// `/drives/{driveId}`.
    Id(&'a str),
    /// `/sites/{siteId}/drive`.
    Site(&'a str),
}

/// The drive a reference names, if the caller may read it (404 otherwise).
pub fn resolve_drive(
    world: &World,
    caller: &Caller,
    drive: DriveRef<'_>,
) -> Result<DriveId, GraphError> {
    let id = match drive {
        DriveRef::Me => world.account(&caller.account).map(|a| a.drive_id.clone()),
        DriveRef::Id(id) => Some(id.to_string()),
        DriveRef::Site(site) => world.site(site).map(|s| s.drive_id.clone()),
    };
    id.filter(|id| world.can_access(&caller.account, id))
        .filter(|id| {
            world
                .drive(id)
                .is_some_and(|d| d.provider == Provider::Microsoft)
        })
        .ok_or_else(GraphError::item_not_found)
}

/// The Graph routes; `server.rs` counts and fault-wraps them.
pub fn router() -> Router<AppState> {
    use items::routes as it;
    Router::new()
        .route("/v1.0/me", get(sites::me))
        .route("/v1.0/users/{userId}", get(sites::user_by_id))
        .route("/v1.0/me/drive", get(sites::me_drive))
        .route(
            "/v1.0/users/me-token-to-replace/drive",
            get(sites::me_drive),
        )
        .route("/v1.0/me/drives", get(sites::me_drives))
        .route("/v1.0/me/drive/root", get(it::me_root))
        .route("/v1.0/me/drive/root/children", get(it::me_root_children))
        .route("/v1.0/me/drive/root/{function}", get(delta::routes::me))
        .route("/v1.0/me/drive/root:/{*path}", get(it::me_path))
        .route("/v1.0/me/drive/items/{itemId}", get(it::me_item))
        .route(
            "/v1.0/me/drive/items/{itemId}/children",
            get(it::me_children),
        )
        .route("/v1.0/me/drive/items/{itemId}/content", get(it::me_content))
        .route(
            "/v1.0/me/drive/items/{itemId}/{*rest}",
            get(delta::routes::me_item),
        )
        .route("/v1.0/drives/{driveId}", get(sites::drive))
        .route("/v1.0/drives/{driveId}/root", get(it::drive_root))
        .route(
            "/v1.0/drives/{driveId}/root/children",
            get(it::drive_root_children),
        )
        .route(
            "/v1.0/drives/{driveId}/root/{function}",
            get(delta::routes::drive_root),
        )
        .route("/v1.0/drives/{driveId}/root:/{*path}", get(it::drive_path))
        .route("/v1.0/drives/{driveId}/items/{itemId}", get(it::drive_item))
        .route(
            "/v1.0/drives/{driveId}/items/{itemId}/children",
            get(it::drive_children),
        )
        .route(
            "/v1.0/drives/{driveId}/items/{itemId}/content",
            get(it::drive_content),
        )
        .route(
            "/v1.0/drives/{driveId}/items/{itemId}/{*rest}",
            get(delta::routes::drive_item),
        )
        .route("/v1.0/sites", get(sites::search))
        .route("/v1.0/sites/{siteId}", get(sites::site))
        .route("/v1.0/sites/{siteId}/drives", get(sites::site_drives))
        .route("/v1.0/sites/{siteId}/drive", get(sites::site_drive))
        .route(
            "/v1.0/sites/{siteId}/drive/root/{function}",
            get(delta::routes::site),
        )
        .route(
            "/v1.0/sites/{siteId}/drive/root:/{*path}",
            get(it::site_path),
        )
        .route(
            "/v1.0/sites/{siteId}/drive/items/{itemId}",
            get(it::site_item),
        )
        .route(
            "/v1.0/sites/{siteId}/drive/items/{itemId}/children",
            get(it::site_children),
        )
        .route(
            "/v1.0/sites/{siteId}/drive/items/{itemId}/content",
            get(it::site_content),
        )
        .route(
            "/v1.0/sites/{siteId}/drive/items/{itemId}/{*rest}",
            get(delta::routes::site_item),
        )
        .route("/download/{token}", get(download::serve))
        .route("/v1.0/{*rest}", any(unknown_segment))
}

/// Any other `/v1.0/` path: Graph's 400 naming the first unknown segment.
async fn unknown_segment(Path(rest): Path<String>) -> GraphError {
    let segment = rest.split('/').find(|s| !s.is_empty()).unwrap_or_default();
    GraphError::new(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        format!("Resource not found for the segment '{segment}'."),
    )
}
