//! The `folio` binary's integration tests in one test binary (one link
//! instead of one per test file); each module runs the real `folio` as a
//! child process. Run one with `cargo test -p folio --test it -- crash::`.

mod backup;
mod cli;
mod config_file;
mod crash;
mod demo;
mod sync_cli;
