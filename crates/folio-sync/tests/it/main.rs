//! folio-sync's integration tests in one binary (one link instead of one
//! per test file): the engine against cloudsim in-process through the
//! connectors, on a real store and blob storage. Run one with
//! `cargo test -p folio-sync --test it -- limits::`.

mod engine;
mod limits;
mod pipeline;
mod reconcile;
mod scope;
mod support;
