//! The console: web pages served by `folio serve` itself, on the API's
//! origin, for a person with only a browser.
//!
//! Pages are askama templates (`folio-server/templates/`), compiled into
//! the binary and checked at build time; one small script
//! (`assets/console.js`) adds live progress and copy buttons, and every
//! form works without it. Reading order: [`data`] (the one door to Folio's
//! logic), [`security`] (CSRF, headers), [`page`] (what every page shares),
//! [`notices`] (the sentences shown after an action), then one module per page: [`session`] (sign in, set-up, sign out),
//! [`libraries`], [`library`] (its forms: [`library_forms`]), [`folders`], [`files`], [`integrations`],
//! [`callback`] (the OAuth callback's failures as pages), [`assets`].

pub mod assets;
pub mod callback;
pub mod data;
pub mod files;
pub mod folders;
pub mod integrations;
pub mod libraries;
pub mod library;
pub mod library_forms;
pub mod notices;
pub mod page;
pub mod security;
pub mod session;

use axum::Router;
use axum::routing::{get, post};

pub use data::Data;

/// Every console route, with its state.
pub fn router(data: Data, upload_limit: usize) -> Router {
    Router::new()
        .route("/", get(libraries::list).post(libraries::create))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/setup", get(session::setup_page).post(session::setup))
        .route("/libraries/{id}", get(library::show))
        .route(
            "/libraries/{id}/integration",
            post(library_forms::choose_integration),
        )
        .route("/libraries/{id}/connect", post(library_forms::connect))
        .route(
            "/libraries/{id}/disconnect",
            get(library_forms::confirm_disconnect).post(library_forms::disconnect),
        )
        .route("/libraries/{id}/sync", post(library_forms::sync_now))
        .route(
            "/libraries/{id}/purge",
            get(library_forms::confirm_purge).post(library_forms::purge),
        )
        .route("/libraries/{id}/schedule", post(library_forms::schedule))
        .route("/libraries/{id}/shares", post(library_forms::share))
        .route(
            "/libraries/{id}/shares/remove",
            post(library_forms::unshare),
        )
        .route(
            "/libraries/{id}/folders",
            get(folders::browse).post(folders::choose),
        )
        .route("/libraries/{id}/files", get(files::list))
        .route(
            "/libraries/{id}/upload",
            post(files::upload).layer(axum::extract::DefaultBodyLimit::max(upload_limit)),
        )
        .route("/libraries/{id}/delete", post(files::delete))
        .route("/libraries/{id}/download/{*path}", get(files::download))
        .route(
            "/integrations",
            get(integrations::list).post(integrations::create),
        )
        .route("/integrations/new", get(integrations::new_form))
        .route(
            "/integrations/{id}",
            get(integrations::edit_form).post(integrations::update),
        )
        .route("/console/assets/{name}", get(assets::serve))
        .with_state(data)
}
