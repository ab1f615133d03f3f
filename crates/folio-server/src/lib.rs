//! Folio's HTTP API.
//!
//! Reading order: [`app`] (the router, its layers, serving), [`state`],
//! [`error`] (the one error body), [`auth`] and [`extract`], then
//! [`routes`], one module per resource, [`readiness`] (the checks behind
//! `/readyz`), [`openapi`], [`scheduler`]
//! (scheduled syncs and reconciles, started by `folio serve`), and [`gc`]
//! (the storage sweep, also started by `folio serve`). [`console`] is the
//! web console: pages on the API's origin for people with a browser.

pub mod app;
pub mod auth;
pub mod console;
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
