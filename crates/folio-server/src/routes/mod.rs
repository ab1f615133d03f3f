//! One router per module; [`api_router`] merges them.

pub mod connections;
pub mod files;
pub mod folders;
pub mod health;
pub mod integrations;
pub mod libraries;
pub mod oauth;
pub mod paging;
pub mod progress;
pub mod sync;
pub mod users;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Every `/api` route, with the OpenAPI paths collected from their
/// `#[utoipa::path]` attributes.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(health::router())
        .merge(users::router())
        .merge(libraries::router())
        .merge(files::router())
        .merge(integrations::router())
        .merge(connections::router())
        .merge(oauth::router())
        .merge(sync::router())
        .merge(progress::router())
        .merge(folders::router())
}
