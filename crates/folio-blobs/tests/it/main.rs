//! folio-blobs' integration tests in one binary (one link instead of one
//! per test file): the `behaviour` suite on every backend and `open`.
//! Run one with `cargo test -p folio-blobs --test it -- behaviour::`.
//! `tests/memory.rs` stays a binary of its own (it says why).

mod behaviour;
mod open;
mod support;
