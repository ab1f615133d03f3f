//! folio-connectors' integration tests in one binary (one link instead of
//! one per test file), every connector against cloudsim in-process: the
//! `conformance` contract, each provider's specifics, the layers and the
//! timeouts. Run one with `cargo test -p folio-connectors --test it --
//! conformance::`. `tests/large.rs` stays a binary of its own (it says
//! why).

mod conformance;
mod dropbox;
mod gdrive;
mod layers;
mod msgraph;
mod support;
mod timeouts;
