//! One Connector trait with a Capability value, and one folder per provider (gdrive, onedrive, sharepoint, dropbox). Filled by the sync issue.
