//! Folio's application services: the one place that decides what an
//! action does, called by the HTTP routes (`folio-server`), the scheduler,
//! the `folio` CLI and the web console alike. A caller extracts its input,
//! makes one service call and renders the answer; nothing here knows HTTP.
//!
//! Reading order: [`App`] (the context every service takes: store, blobs,
//! OAuth, pacers, configuration), [`AppError`] (the typed failure each
//! front end words its own way), then one module per concern:
//! [`access`] (a library with the caller's rights), [`libraries`],
//! [`shares`], [`users`], [`files`], [`integrations`], [`connections`]
//! (the OAuth connect flow), [`sync`] (a run under its lease, in the
//! foreground or the background, and the history), [`scheduler`]
//! (scheduled syncs and reconciles), [`gc`] (collecting unused bytes, the
//! storage sweep), [`pacers`] and [`metrics`].

pub mod access;
pub mod connections;
pub mod context;
pub mod error;
pub mod files;
pub mod gc;
pub mod integrations;
pub mod libraries;
pub mod metrics;
pub mod pacers;
pub mod scheduler;
pub mod shares;
pub mod sync;
pub mod users;

pub use context::{App, AppConfig};
pub use error::{AppError, AppResult};
