//! The sync engine.
//!
//! Reading order: [`planner`] (pure: the known remote tree plus one page of
//! changes in, file actions out), then [`executor`] (one run: pages,
//! verified streamed downloads, each page committed with its cursor, mark
//! and sweep with the deletion cap), then [`run`] (one run under the
//! library's lease, with heartbeat, live progress and the run row), and
//! [`tokens`] (the OAuth token manager as a connector token source). The
//! HTTP routes and the scheduler are not written yet; the store side the
//! scheduler needs (compare-and-set schedule claims) is in
//! `folio_store::sync`.

pub mod executor;
pub mod planner;
pub mod run;
pub mod tokens;

#[cfg(test)]
mod planner_tests;
