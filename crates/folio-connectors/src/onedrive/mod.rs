//! OneDrive (personal and for Business): the shared [`crate::msgraph`] core
//! with `source` = `{driveId?, folderId?}` (default `/me/drive`, its root).
//! Delta runs at the drive root; a folder source is filtered by ancestry
//! by the engine (`FeedScope::Drive`).

mod backend;
mod profile;

pub use backend::OneDriveBackend;
pub use profile::PROFILE;
