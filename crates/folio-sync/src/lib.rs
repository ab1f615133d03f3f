//! The sync engine.
//!
//! Reading order: [`planner`] (pure: the known remote tree plus one page of
//! changes in, file actions out). The executor (downloads, verification,
//! committing a page with its cursor through `folio_store::sync`), the
//! progress broadcast and the scheduler are not written yet; the store side
//! they need (item tree, cursors, runs with leases, schedule claims) is in
//! `folio_store::sync`.

pub mod planner;

#[cfg(test)]
mod planner_tests;
