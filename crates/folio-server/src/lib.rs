//! Folio's HTTP API.
//!
//! Reading order: [`app`] (the router, its layers, serving), [`state`],
//! [`error`] (the one error body), [`auth`] and [`extract`] ([`auth_once`]:
//! one-time login links, for `folio demo`), then
//! [`routes`], one module per resource, [`readiness`] (the checks behind
//! `/readyz`), [`openapi`], [`scheduler`]
//! (scheduled syncs and reconciles, started by `folio serve`), and [`gc`]
//! (the storage sweep, also started by `folio serve`).

pub mod app;
pub mod auth;
pub mod auth_once;
pub mod error;
pub mod extract;
pub mod gc;
pub mod metrics;
pub mod openapi;
mod process_metrics;
pub mod readiness;
pub mod routes;
pub mod scheduler;
pub mod state;

pub use app::{Application, router};
pub use state::{AppState, ServerConfig};
