//! The sync engine.
//!
//! Reading order: [`planner`] (pure: the known remote tree plus one page of
//! changes in, file actions out), then [`executor`] (one run: pages,
//! verified streamed downloads, each page committed with its cursor, mark
//! and sweep with the deletion cap). The HTTP routes, progress broadcast and
//! scheduler are not written yet; the store side they need (runs with
//! leases, schedule claims) is in `folio_store::sync`.

pub mod executor;
pub mod planner;

#[cfg(test)]
mod planner_tests;
