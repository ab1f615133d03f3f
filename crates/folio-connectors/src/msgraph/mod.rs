//! Microsoft Graph v1.0 drives, shared by `onedrive` and `sharepoint`
//! (they differ only in how the source picks the drive). Reading order:
//! `model`, `error`, `core` (drive and root resolution, items, download),
//! `lister` (delta paging), then `backend` (the trait, parameterised by
//! [`GraphFlavor`]).
//!
//! Docs: <https://learn.microsoft.com/graph/api/driveitem-delta>.

mod backend;
mod core;
mod error;
mod lister;
mod model;
mod profile;

pub use backend::{GraphBackend, GraphFlavor};
pub(crate) use error::parse_error;
pub use profile::{CAPABILITY, OAUTH};
