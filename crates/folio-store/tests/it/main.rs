//! folio-store's integration tests in one binary (one link instead of one
//! per test file): `store` (the store's contract) and `sync` (the sync
//! tables'), on SQLite always and on PostgreSQL when
//! FOLIO_TEST_DATABASE_URL is set. Run one with
//! `cargo test -p folio-store --test it -- sync::`.

mod store;
mod support;
mod sync;
