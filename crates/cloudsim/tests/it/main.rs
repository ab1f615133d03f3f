//! cloudsim's integration tests in one binary (one link instead of one per
//! test file): the `core` over HTTP and each provider end to end. Run one
//! with `cargo test -p cloudsim --test it -- google::`.
//! `tests/memory.rs` stays a binary of its own (it says why).

mod core;
mod dropbox;
mod google;
mod google_support;
mod microsoft;
mod provider_support;
