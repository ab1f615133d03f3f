//! Folio's metadata store, on SQLite (the embedded default) or PostgreSQL.
//!
//! Reading order: [`Store`] (connecting, migrating, the backend enum),
//! [`error`], then one module per aggregate: [`users`], [`libraries`],
//! [`files`], [`integrations`], [`connections`], then the sync engine's
//! [`sync`] (its batches in `batch`) and [`purge`]. Every query is written once, in the SQL subset both backends
//! accept (`$n` placeholders, `ON CONFLICT`, `RETURNING`), and runs on either
//! pool through the `on_db!` macro. Only connecting, locking and migrations
//! differ per backend. Write transactions on SQLite start with
//! `BEGIN IMMEDIATE` so concurrent writers queue instead of failing.

mod backend;
mod batch;
pub mod connections;
pub mod error;
pub mod files;
pub mod integrations;
pub mod libraries;
pub mod models;
pub mod purge;
mod sqlite_writer;
pub mod sync;
pub mod users;

pub use backend::{Backend, Store};
pub use error::StoreError;
pub use models::*;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
