//! Google Drive v3. Reading order: `model` (wire structs), `error`
//! (`parse_error`), `core` (requests and item mapping), `lister` (full
//! listing and `changes.list` paging with the cursor), `backend` (the
//! trait, thin).
//!
//! Docs: <https://developers.google.com/drive/api/reference/rest/v3>.

mod backend;
mod core;
mod error;
mod lister;
mod model;
mod profile;

pub use backend::GdriveBackend;
pub(crate) use error::parse_error;
pub use profile::{CAPABILITY, OAUTH, PROFILE};

/// The prefix of every Google-native MIME type.
pub const GOOGLE_APPS_PREFIX: &str = "application/vnd.google-apps.";
/// A Drive folder.
pub const FOLDER_MIME: &str = "application/vnd.google-apps.folder";
/// A Drive shortcut.
pub const SHORTCUT_MIME: &str = "application/vnd.google-apps.shortcut";
