//! Folio's metadata store, on SQLite (the embedded default) or PostgreSQL.
//!
//! Reading order: [`Store`] (`store`: the pool, connecting, migrating),
//! [`error`], [`decode`] (the domain's enums read from text columns),
//! [`models`], then one module per aggregate: [`users`],
//! [`libraries`], [`files`], [`integrations`], [`connections`], then the
//! sync engine's [`sync`] (items, runs, schedules, and the commit of a
//! page in `sync::commit`) and [`purge`]. Every query is written once, in
//! the SQL subset both backends accept (`$n` placeholders, `ON CONFLICT`,
//! `RETURNING`), and runs on either pool through the `on_db!` macro. Only
//! connecting (`sqlite`, `postgres`), locking, migrations and the SQLite
//! writer of sync batches (`sqlite::writer`) differ per backend. Write
//! transactions on SQLite start with `BEGIN IMMEDIATE` so concurrent
//! writers queue instead of failing.
//!
//! Modules name what they use by its own module (`crate::store::Store`,
//! not the re-export at the root), and their `use crate::...` graph has no
//! cycle: `decode`, `error` and `models` at the bottom, then `sync::rows` and
//! `sync::commit::plan`, the SQLite writer, `store`, and the modules of
//! queries on top.

pub mod connections;
pub mod decode;
pub mod error;
pub mod files;
pub mod integrations;
pub mod libraries;
pub mod models;
mod postgres;
pub mod purge;
mod sqlite;
mod store;
pub mod sync;
pub mod users;

pub use error::{Result, StoreError};
pub use models::*;
pub use store::{Backend, Store};
