//! The values that cross the [`crate::Connector`] contract.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::hash::RemoteHash;

/// What part of the account a library mirrors: `{folderId?, driveId?,
/// siteId?, path?}` (docs/api.md, "Libraries"). Empty means the account's
/// root.
pub use folio_domain::LibrarySource as Source;

/// The providers a connector exists for: the one enum, from `folio-domain`.
pub use folio_domain::ProviderKind;

/// An opaque change cursor: store it as is, hand it back as is. Drive start
/// page token, Graph deltaLink, Dropbox cursor, or a connector's own
/// encoding of a full listing in progress.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(pub String);

impl Cursor {
    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One page of [`crate::Connector::list_changes`].
#[derive(Debug, Clone)]
pub struct ChangePage {
    /// The changes of this page, in feed order. Apply in order; an id may
    /// appear more than once (the last occurrence wins).
    pub changes: Vec<RemoteChange>,
    /// Where to go on from here.
    pub next: PageState,
}

/// Whether a listing has more pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageState {
    /// Call `list_changes(Some(cursor))` for the next page of this same
    /// listing. The cursor may be stored to resume after a crash, but the
    /// listing is complete (deletions may be inferred) only once `Done`.
    More(Cursor),
    /// The listing is complete. Store this cursor: it yields the changes
    /// made after (or during) the listing.
    Done(Cursor),
}

/// One change in a feed.
// Upserts dominate every feed, so boxing them would only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum RemoteChange {
    /// The item exists now with this state (created, edited, renamed,
    /// moved, restored). Trashed items are reported as [`Self::Delete`].
    Upsert(RemoteItem),
    /// The item with this id is gone (deleted, trashed, or no longer
    /// visible). For a folder, its subtree goes with it.
    Delete {
        /// The provider's item id.
        id: String,
    },
    /// Everything at this path (relative to the source root, lowercase,
    /// starting with `/`) and below it is gone. Only for connectors whose
    /// `Capability::parent_ids` is false (Dropbox deletes carry no id).
    DeletePath {
        /// The lowercase path below the source root, e.g. `/docs/a.txt`.
        path: String,
    },
}

/// A file or folder as the provider reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RemoteItem {
    /// The provider's stable item id (survives renames and moves).
    pub id: String,
    /// The parent folder's id; `None` when the provider addresses items by
    /// path (Dropbox) or the item is a drive root.
    pub parent_id: Option<String>,
    /// The path below the source root as the provider reports it (Dropbox
    /// `path_display` made relative, with `/` first); `None` where the
    /// provider gives none (Drive, Graph delta). Never use it as identity
    /// except where `Capability::parent_ids` is false.
    pub path: Option<String>,
    /// The raw name, exactly as the provider has it (may hold `/`, `..`,
    /// control characters: the engine makes it safe).
    pub name: String,
    /// A folder (children may follow).
    pub is_folder: bool,
    /// Size in bytes; `None` for folders, Google-native documents and
    /// shortcuts.
    pub size: Option<u64>,
    /// The provider's content hash, typed; `None` when it has none (native
    /// docs, folders, missing hashes).
    pub hash: Option<RemoteHash>,
    /// Last modification time (`modifiedTime`, `lastModifiedDateTime`,
    /// `server_modified`). Not a reliable change signal.
    pub modified: Option<DateTime<Utc>>,
    /// A value that changes when the content changes: Drive `version`
    /// (md5 when present is better), Graph `cTag` (else `eTag`), Dropbox
    /// `rev`. Compare with the stored one to skip a re-download.
    pub version: Option<String>,
    /// The provider's MIME type (Drive `mimeType`, Graph `file.mimeType`).
    pub mime_type: Option<String>,
    /// Set for Google-native documents: how the download will be exported.
    /// `None` with an `application/vnd.google-apps.*` type means the
    /// document cannot be exported (forms, sites): skip it.
    pub export: Option<ExportInfo>,
    /// Set for shortcuts: the target's id and MIME type.
    pub shortcut_target: Option<ShortcutTarget>,
}

impl RemoteItem {
    /// True when [`crate::Connector::download`] can fetch bytes for it:
    /// a file that is not a shortcut and, if native, has an export.
    pub fn is_downloadable(&self) -> bool {
        !self.is_folder
            && self.shortcut_target.is_none()
            && (self.export.is_some()
                || !self
                    .mime_type
                    .as_deref()
                    .is_some_and(|m| m.starts_with(crate::gdrive::GOOGLE_APPS_PREFIX)))
    }
}

/// How a Google-native document is exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportInfo {
    /// The MIME type it is exported to.
    pub mime_type: String,
    /// The file extension to append to the name (`docx`, without the dot).
    pub extension: String,
}

/// Where a shortcut points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortcutTarget {
    /// The target item's id (may be dangling, in another drive, or an
    /// ancestor: follow with care).
    pub id: String,
    /// The target's MIME type.
    pub mime_type: Option<String>,
}

/// The root of a library's source, resolved at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRoot {
    /// The root folder's item id: items whose parent chain reaches it are in
    /// the library (see `Capability::feed_scope`). For Dropbox, the id of
    /// the source folder (`""` for the account root).
    pub id: String,
    /// The drive it lives in (Drive shared drive id, Graph drive id), if any.
    pub drive_id: Option<String>,
    /// A human name for it.
    pub name: String,
}

/// A remote folder a user can pick as a library's source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteFolder {
    /// Its id (pass it as `parent` to list its subfolders).
    pub id: String,
    /// Its name.
    pub name: String,
    /// The library `source` that would sync exactly this folder.
    pub source: Source,
}

/// The connected identity, read live (`GET /api/libraries/{id}/account`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    /// The account's email, when the provider tells it.
    pub email: Option<String>,
    /// The display name.
    pub display_name: Option<String>,
    /// The provider's account id (Drive permissionId, Graph user id,
    /// Dropbox account_id).
    pub account_id: String,
}
