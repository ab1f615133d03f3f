//! [`Capability`]: what a provider can do, as data the engine and the tests
//! read (never `if provider == ...`).

use serde::{Deserialize, Serialize};

use crate::hash::HashKind;

/// Which change API a connector uses for `list_changes(Some(cursor))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeFeedKind {
    /// Drive `changes.list` from a start page token (taken before the full
    /// listing). Reports the whole drive (My Drive or one shared drive).
    DrivePageToken,
    /// Graph `root/delta` with the deltaLink. Reports the whole drive.
    GraphDelta,
    /// Dropbox `list_folder/continue` with the cursor. Reports the source
    /// path's subtree, addressed by path.
    DropboxCursor,
}

/// What the whole feed covers, so the engine knows whether to filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FeedScope {
    /// Only items below the source root are reported.
    Subtree,
    /// Items of the whole drive are reported: the engine keeps those whose
    /// parent chain reaches [`crate::RemoteRoot::id`] and treats the others
    /// as outside the source (an item moved out is a delete for the library).
    Drive,
}

/// What a provider can do. Constant per connector and source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Capability {
    /// The change API behind `list_changes`.
    pub change_feed: ChangeFeedKind,
    /// Whether the feed is limited to the source or covers the whole drive.
    pub feed_scope: FeedScope,
    /// The content hash the provider reports on files (`RemoteItem::hash`).
    pub hash: HashKind,
    /// Google-native documents exist and are exported ([`crate::ExportInfo`]).
    pub exports_native_docs: bool,
    /// Shortcuts exist (`RemoteItem::shortcut_target`).
    pub has_shortcuts: bool,
    /// Two items of one name may share a folder (Drive): the engine must
    /// give them stable, distinct local names.
    pub duplicate_names: bool,
    /// Names compare case-insensitively (Graph, Dropbox).
    pub case_insensitive_names: bool,
    /// Items carry `parent_id`. When false (Dropbox) items carry `path`
    /// instead and deletes come as [`crate::RemoteChange::DeletePath`].
    pub parent_ids: bool,
    /// A delete of a folder is reported for the folder alone: its children
    /// are implied (Dropbox `deleted`, Drive `removed` for a folder, Graph
    /// sometimes). The engine removes the subtree.
    pub folder_delete_implies_children: bool,
    /// The provider can revoke a grant (Google, Dropbox; not Microsoft).
    pub can_revoke: bool,
}
