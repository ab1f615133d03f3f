//! The HTTP API, over real HTTP on 127.0.0.1, against a real store (SQLite,
//! or PostgreSQL with FOLIO_TEST_DATABASE_URL) and real local blob storage.

mod auth;
mod errors;
mod files;
mod libraries;
mod names;
mod users;

pub use crate::support::{DELETE, GET, PATCH, POST, PUT, assert_error};
