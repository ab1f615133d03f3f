//! The in-memory world every provider API reads: accounts, drives (personal
//! drives, Google shared drives, SharePoint document libraries), sites and
//! items, plus one change log per drive.
//!
//! Reading order: [`Provider`], [`Account`], [`Drive`], [`Item`], then the
//! mutation methods of [`World`] (each records a change), then the change
//! feed ([`World::changes_since`]).
//!
//! Files: this one holds the types; [`ids`] makes ids in each provider's
//! style, `reads.rs` looks things up, `drives.rs` adds accounts, drives and
//! sites, `items.rs` changes items (each change recorded), `generate.rs`
//! makes large generated trees and `feed.rs` reads the change log.
//!
//! Change log: the world keeps one global, monotonically increasing sequence
//! number. Every mutation of an item appends `(seq, item id)` to the log of
//! the item's drive and stores `seq` in `item.change_seq`. A feed position is
//! just a sequence number; a feed from position `p` lists every item whose
//! latest change is after `p`, once, in sequence order, with its current
//! state (which is what Drive changes, Graph delta and Dropbox cursors all
//! report). Deleted items stay in the map as tombstones (`deleted = true`)
//! so the feed can report them.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::content::{Blobs, Content, ContentSource};

/// Id of an account (Google permission id, Microsoft user GUID, Dropbox `dbid:`).
pub type AccountId = String;
/// Id of a drive (Google: the drive's root folder id; Graph: `b!...`; Dropbox: namespace id).
pub type DriveId = String;
/// Id of an item (file or folder).
pub type ItemId = String;
/// Id of a SharePoint site (`host,guid,guid`).
pub type SiteId = String;

/// Google folder mime type.
pub const GOOGLE_FOLDER: &str = "application/vnd.google-apps.folder";
/// Google shortcut mime type.
pub const GOOGLE_SHORTCUT: &str = "application/vnd.google-apps.shortcut";

/// The emulated providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Google,
    Microsoft,
    Dropbox,
}

impl Provider {
    /// All providers.
    pub const ALL: [Provider; 3] = [Provider::Google, Provider::Microsoft, Provider::Dropbox];

    /// The lowercase name used in the control API and counter keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Google => "google",
            Provider::Microsoft => "microsoft",
            Provider::Dropbox => "dropbox",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Provider {
    type Err = WorldError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "google" => Ok(Provider::Google),
            "microsoft" => Ok(Provider::Microsoft),
            "dropbox" => Ok(Provider::Dropbox),
            other => Err(WorldError::BadRequest(format!(
                "unknown provider '{other}' (google, microsoft or dropbox)"
            ))),
        }
    }
}

/// Errors of world operations; the control API maps them to 400/404/409.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WorldError {
    /// 404: no such account, drive, item or path.
    #[error("{0}")]
    NotFound(String),
    /// 400: the request cannot be applied (bad path, wrong provider...).
    #[error("{0}")]
    BadRequest(String),
    /// 409: the name is taken where the provider forbids duplicates.
    #[error("{0}")]
    Conflict(String),
}

/// A user of one provider.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub id: AccountId,
    pub provider: Provider,
    pub email: String,
    pub display_name: String,
    /// The account's own drive (My Drive, OneDrive, Dropbox home).
    pub drive_id: DriveId,
    pub created: DateTime<Utc>,
}

/// What kind of drive a drive is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum DriveKind {
    /// An account's own drive.
    Personal { owner: AccountId },
    /// A Google shared drive.
    SharedDrive,
    /// The document library of a SharePoint site.
    SharePoint { site_id: SiteId },
}

/// One change-log entry: item `item_id` changed at `seq`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChangeEntry {
    pub seq: u64,
    pub item_id: ItemId,
    pub time: DateTime<Utc>,
    /// For a rename or move: the item's path before it (as [`World::path_of`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
}

/// A drive: a root folder, its tree, and its change log.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Drive {
    pub id: DriveId,
    pub provider: Provider,
    pub kind: DriveKind,
    pub name: String,
    /// Accounts that can see the drive (the owner for personal drives).
    pub members: Vec<AccountId>,
    /// The root folder item.
    pub root_id: ItemId,
    pub created: DateTime<Utc>,
    /// Feed positions below this are rejected ([`CursorError::Expired`]);
    /// raised by [`World::invalidate_cursors`].
    pub cursor_floor: u64,
    /// Change log, in increasing `seq` order.
    pub changes: Vec<ChangeEntry>,
    /// A Microsoft account's OneDrive is a personal (consumer) one: Graph
    /// `driveType` `personal`, `sha1Hash` instead of `sha256Hash`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub onedrive_personal: bool,
}

/// A SharePoint site with its default document library.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Site {
    pub id: SiteId,
    pub name: String,
    pub drive_id: DriveId,
    pub members: Vec<AccountId>,
    pub created: DateTime<Utc>,
}

/// What an item is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ItemKind {
    Folder,
    /// A file with bytes; Google-native documents are files whose mime type
    /// starts with `application/vnd.google-apps.` (see [`Item::is_google_native`]).
    File,
    /// A Google shortcut to another item.
    Shortcut {
        target_id: ItemId,
        target_mime_type: String,
    },
}

/// A file or folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub id: ItemId,
    pub drive_id: DriveId,
    /// None only for a drive's root folder.
    pub parent_id: Option<ItemId>,
    /// Not unique within a folder where the provider allows duplicates.
    pub name: String,
    pub kind: ItemKind,
    pub mime_type: String,
    pub content: Content,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    /// Bumped on every change (metadata or content): Drive `version`, Graph `eTag`.
    pub version: u64,
    /// Bumped when the bytes change: Graph `cTag`, Dropbox `rev`.
    pub content_version: u64,
    pub trashed: bool,
    /// Trashed by itself, not only as part of a trashed folder (Drive `explicitlyTrashed`).
    #[serde(default)]
    pub explicitly_trashed: bool,
    /// When it was trashed.
    #[serde(default)]
    pub trashed_time: Option<DateTime<Utc>>,
    /// Tombstone: deleted for good; kept so change feeds can report it.
    pub deleted: bool,
    /// Sequence number of the latest change.
    pub change_seq: u64,
    /// Sequence number of when it was placed in its current folder: the
    /// children order, kept across restarts.
    #[serde(default)]
    pub placed: u64,
    /// Hash cache, by algorithm name (`md5`, `sha256`, `quickXor`, `dropbox`...),
    /// cleared when the content changes. Fill it with [`crate::AppState::hash`].
    #[serde(default)]
    pub hashes: BTreeMap<String, String>,
}

impl Item {
    /// True for folders (including drive roots).
    pub fn is_folder(&self) -> bool {
        self.kind == ItemKind::Folder
    }

    /// True for a file with bytes (not folder, not shortcut).
    pub fn is_file(&self) -> bool {
        self.kind == ItemKind::File
    }

    /// True for Google Docs, Sheets, Slides, Drawings, Forms...: they have
    /// no downloadable bytes, only exports.
    pub fn is_google_native(&self) -> bool {
        self.is_file() && self.mime_type.starts_with("application/vnd.google-apps.")
    }

    /// Visible: neither trashed nor deleted.
    pub fn is_live(&self) -> bool {
        !self.trashed && !self.deleted
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.content.len()
    }
}

/// A feed position was too old (Graph 410 resyncRequired, Dropbox reset).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("cursor {0} is older than the drive's oldest valid position")]
    Expired(u64),
}

/// One page of a change feed.
#[derive(Debug, Clone)]
pub struct ChangePage {
    /// Changed items, once each, in sequence order, with the seq of their
    /// latest change. Look their current state up with [`World::item`].
    pub entries: Vec<ChangeEntry>,
    /// True when more entries follow after `next`.
    pub more: bool,
    /// The position to continue from: the last entry's seq while `more`,
    /// the world's current seq otherwise.
    pub next: u64,
}

/// Options of [`World::put_path`].
#[derive(Debug, Clone, Default)]
pub struct PutOptions {
    /// Mime type; by default derived from the name's extension.
    pub mime_type: Option<String>,
    /// Give the last segment this raw name (may hold `/` where the provider allows).
    pub name: Option<String>,
    /// Add a second item of the same name instead of overwriting.
    pub duplicate: bool,
}

/// Result of [`World::generate`].
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Generated {
    pub root_id: ItemId,
    pub files: u64,
    pub folders: u64,
    pub bytes: u64,
}

/// The whole emulated state. Serialized as the `--state` snapshot; blob bytes
/// live in [`Blobs`] (files under the state dir), generated bytes nowhere.
#[derive(Debug, Serialize, Deserialize)]
pub struct World {
    pub accounts: BTreeMap<AccountId, Account>,
    pub drives: BTreeMap<DriveId, Drive>,
    pub sites: BTreeMap<SiteId, Site>,
    pub items: HashMap<ItemId, Item>,
    /// Global change sequence; the last seq handed out.
    pub seq: u64,
    /// Counter for ids.
    next_id: u64,
    /// Random salt mixed into ids so two worlds do not share ids.
    salt: u64,
    /// Children of each folder in creation order (derived; rebuilt on load).
    #[serde(skip)]
    children: HashMap<ItemId, Vec<ItemId>>,
    /// Uploaded bytes (persisted as files, not in the snapshot).
    #[serde(skip)]
    pub blobs: Blobs,
}

impl Default for World {
    fn default() -> Self {
        World::new(Blobs::default())
    }
}

mod drives;
mod feed;
mod generate;
pub mod ids;
mod items;
mod reads;
#[cfg(test)]
mod tests;

pub use ids::IdKind;
use ids::mix;

/// A guess of the mime type from a file name's extension.
pub fn mime_from_name(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("txt") => "text/plain",
        Some("md") => "text/markdown",
        Some("html" | "htm") => "text/html",
        Some("csv") => "text/csv",
        Some("json") => "application/json",
        Some("pdf") => "application/pdf",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("pptx") => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}

/// Splits a control-API path into its non-empty segments.
pub fn split_path(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// The mime type (or marker) of folders for `provider`.
pub fn folder_mime(provider: Provider) -> &'static str {
    match provider {
        Provider::Google => GOOGLE_FOLDER,
        _ => "folder",
    }
}

impl World {
    /// An empty world using `blobs` for uploaded bytes.
    pub fn new(blobs: Blobs) -> Self {
        World {
            accounts: BTreeMap::new(),
            drives: BTreeMap::new(),
            sites: BTreeMap::new(),
            items: HashMap::new(),
            seq: 0,
            next_id: 1,
            salt: rand::random(),
            children: HashMap::new(),
            blobs,
        }
    }

    /// Rebuilds derived indexes after deserializing; call once after load.
    pub fn after_load(&mut self, blobs: Blobs) {
        self.blobs = blobs;
        self.children.clear();
        let mut items: Vec<&Item> = self.items.values().filter(|i| !i.deleted).collect();
        items.sort_by_key(|i| (i.placed, i.created, i.id.clone()));
        for item in items {
            if let Some(parent) = &item.parent_id {
                self.children
                    .entry(parent.clone())
                    .or_default()
                    .push(item.id.clone());
            }
        }
    }
}
