//! folio-server's integration tests in one binary: one link of the whole
//! stack instead of one per test file. Each module was a test binary of
//! its own; run one with `cargo test -p folio-server --test it -- NAME::`
//! (e.g. `browser::`). `support` holds what several of them share.
//!
//! `tests/metrics.rs` stays a binary of its own (it says why).

mod api;
mod browser;
mod connections;
mod console;
mod gc;
mod health;
mod progress;
mod schedule;
mod support;
mod sync;
