//! SharePoint document libraries: the shared [`crate::msgraph`] core with
//! `source` = `{siteId, driveId?, folderId?}` (default: the site's default
//! library). `list_folders(None)` with no site lists every library of every
//! site the user can see (`/sites?search=*`, `/sites/{id}/drives`).

mod backend;
mod profile;

pub use backend::SharePointBackend;
pub use profile::PROFILE;
