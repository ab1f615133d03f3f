//! Dropbox API v2. Reading order: `model`, `error`, `core` (requests,
//! paths relative to the source, download), `lister` (`list_folder` /
//! `continue` paging), `backend` (the trait, thin).
//!
//! Dropbox addresses by path: items carry `path` (relative to the source
//! root) and no `parent_id`; deletes are [`crate::RemoteChange::DeletePath`]
//! (a deleted entry has no id). A move arrives as a delete at the old path
//! and an upsert (same `id`) at the new one.
//!
//! Docs: <https://www.dropbox.com/developers/documentation/http/documentation>.

mod backend;
mod core;
mod error;
mod lister;
mod model;
mod profile;

pub use backend::DropboxBackend;
pub(crate) use error::parse_error;
pub use profile::{CAPABILITY, OAUTH, PROFILE};
