//! Folio's HTTP API.
//!
//! The HTTP layer only: a route extracts its input and the caller, makes
//! one call into the application services (`folio-app`) and renders the
//! answer; every service failure becomes the one error body in [`error`].
//!
//! Reading order: [`app`] (the router, its layers, serving), [`state`]
//! (the application context plus the HTTP settings), [`error`] (the one
//! error body, and how each service failure is worded), [`auth`] and
//! [`extract`], [`sessions`] (signing in, the session cookie; [`auth_once`]:
//! one-time login links, for `folio demo`),
//! then [`routes`], one module per resource, [`readiness`] (the checks
//! behind `/readyz`), [`openapi`] and [`metrics`]. The scheduler and the
//! storage sweep, started by `folio serve`, are `folio-app`'s
//! ([`scheduler`], [`gc`]; re-exported here). [`console`] is the web
//! console: pages on the API's origin for people with a browser.

pub mod app;
pub mod auth;
pub mod auth_once;
pub mod console;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod openapi;
mod process_metrics;
pub mod readiness;
pub mod routes;
pub mod sessions;
pub mod state;

pub use app::{Application, router};
pub use folio_app::{gc, scheduler};
pub use state::{AppState, ServerConfig};
