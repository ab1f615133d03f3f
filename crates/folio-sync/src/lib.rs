//! The sync engine.
//!
//! Reading order: [`planner`] (pure: the known remote tree plus one page of
//! changes in, file actions out), then [`executor`] (one run: pages,
//! verified streamed downloads, pages committed with their cursor, mark
//! and sweep with the deletion cap), then [`run`] (one run under the
//! library's lease, with heartbeat, live progress and the run row), and
//! [`tokens`] (the OAuth token manager as a connector token source). The
//! services that start runs live in `folio-app` (`sync.rs`, the scheduler
//! that runs scheduled and reconcile syncs in `scheduler.rs`, the storage
//! sweep in `gc.rs`); the HTTP routes in `folio-server` (`routes/sync.rs`,
//! `routes/progress.rs` with the Server-Sent Events stream).

pub mod executor;
pub mod lease;
pub mod nodes;
pub mod planner;
pub mod run;
pub mod tokens;

#[cfg(test)]
mod planner_tests;
