//! The in-memory world every provider API reads: accounts, drives (personal
//! drives, Google shared drives, SharePoint document libraries), sites and
//! items, plus one change log per drive.
//!
//! Reading order: [`Provider`], [`Account`], [`Drive`], [`Item`], then the
//! mutation methods of [`World`] (each records a change), then the change
//! feed ([`World::changes_since`]).
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

const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const UPPER_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Encodes `n` in `alphabet` (least significant digit first), padded to `width`.
fn encode(mut n: u64, alphabet: &[u8], width: usize) -> String {
    let base = alphabet.len() as u64;
    let mut out = String::with_capacity(width);
    for _ in 0..width {
        out.push(alphabet[(n % base) as usize] as char);
        n /= base;
    }
    out
}

fn mix(z: u64) -> u64 {
    let mut z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Kinds of ids [`World::new_id`] makes, in each provider's style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Account,
    Drive,
    Item,
    Site,
}

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

    /// A fresh id in `provider`'s style. Unique within this world.
    pub fn new_id(&mut self, provider: Provider, kind: IdKind) -> String {
        let n = self.next_id;
        self.next_id += 1;
        let noise = mix(self.salt ^ n);
        let noise2 = mix(noise);
        match (provider, kind) {
            (Provider::Google, IdKind::Account) => {
                format!("{}{n:07}", 10_000_000_000_000 + noise % 90_000_000_000_000)
            }
            (Provider::Google, _) => format!(
                "1{}{}{}",
                encode(noise, ID_ALPHABET, 10),
                encode(n, ID_ALPHABET, 6),
                encode(noise2, ID_ALPHABET, 10)
            ),
            (Provider::Microsoft, IdKind::Account) => uuid_from(n, noise),
            (Provider::Microsoft, IdKind::Drive) => format!(
                "b!{}{}",
                encode(noise, ID_ALPHABET, 10),
                encode(n, ID_ALPHABET, 8)
            ),
            (Provider::Microsoft, IdKind::Site) => format!(
                "contoso.sharepoint.com,{},{}",
                uuid_from(n, noise),
                uuid_from(n, noise2)
            ),
            (Provider::Microsoft, IdKind::Item) => format!(
                "01{}{}{}",
                encode(noise, UPPER_ALPHABET, 12),
                encode(n, UPPER_ALPHABET, 8),
                encode(noise2, UPPER_ALPHABET, 12)
            ),
            (Provider::Dropbox, IdKind::Account) => format!(
                "dbid:AA{}{}{}",
                encode(noise, ID_ALPHABET, 10),
                encode(n, ID_ALPHABET, 6),
                encode(noise2, ID_ALPHABET, 17)
            ),
            (Provider::Dropbox, IdKind::Drive) => format!("{}", 1_000_000 + n),
            (Provider::Dropbox, _) => format!(
                "id:{}{}{}",
                encode(noise, ID_ALPHABET, 10),
                encode(n, ID_ALPHABET, 6),
                encode(noise2, ID_ALPHABET, 6)
            ),
        }
    }

    // ----- reads -------------------------------------------------------

    /// The item with `id`, tombstones included.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.get(id)
    }

    /// The live (not deleted) children of folder `id`, trashed ones included,
    /// in creation order.
    pub fn children(&self, id: &str) -> &[ItemId] {
        self.children.get(id).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The drive with `id`.
    pub fn drive(&self, id: &str) -> Option<&Drive> {
        self.drives.get(id)
    }

    /// The account with `id`.
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.get(id)
    }

    /// The site with `id`.
    pub fn site(&self, id: &str) -> Option<&Site> {
        self.sites.get(id)
    }

    /// Accounts of `provider`, oldest first (the first is the default).
    pub fn accounts_of(&self, provider: Provider) -> Vec<&Account> {
        let mut v: Vec<&Account> = self
            .accounts
            .values()
            .filter(|a| a.provider == provider)
            .collect();
        v.sort_by_key(|a| (a.created, a.id.clone()));
        v
    }

    /// The account of `provider` with this email (case-insensitive).
    pub fn account_by_email(&self, provider: Provider, email: &str) -> Option<&Account> {
        self.accounts
            .values()
            .find(|a| a.provider == provider && a.email.eq_ignore_ascii_case(email))
    }

    /// Drives `account` may read: its own and those it is a member of.
    pub fn drives_of(&self, account: &str) -> Vec<&Drive> {
        self.drives
            .values()
            .filter(|d| d.members.iter().any(|m| m == account))
            .collect()
    }

    /// True when `account` may read `drive`.
    pub fn can_access(&self, account: &str, drive: &str) -> bool {
        self.drives
            .get(drive)
            .is_some_and(|d| d.members.iter().any(|m| m == account))
    }

    /// Resolves a control-API drive reference: an account id (its own
    /// drive), a drive id, or a site id (its library), of `provider`.
    pub fn resolve_drive(
        &self,
        provider: Provider,
        reference: &str,
    ) -> Result<DriveId, WorldError> {
        let id = if let Some(account) = self.accounts.get(reference) {
            Some(account.drive_id.clone())
        } else if self.drives.contains_key(reference) {
            Some(reference.to_string())
        } else {
            self.sites.get(reference).map(|s| s.drive_id.clone())
        };
        match id.and_then(|id| self.drives.get(&id)) {
            Some(d) if d.provider == provider => Ok(d.id.clone()),
            Some(_) => Err(WorldError::BadRequest(format!(
                "drive '{reference}' does not belong to {provider}"
            ))),
            None => Err(WorldError::NotFound(format!("no drive '{reference}'"))),
        }
    }

    /// The first live child of `parent` named `name`.
    /// Names compare exactly on Google Drive and case-insensitively on
    /// OneDrive/SharePoint and Dropbox.
    pub fn same_name(provider: Provider, a: &str, b: &str) -> bool {
        match provider {
            Provider::Google => a == b,
            _ => a == b || a.to_lowercase() == b.to_lowercase(),
        }
    }

    /// Checks a name against the provider's rules: Drive takes any
    /// non-empty name (`/`, `..` included); OneDrive/SharePoint refuse
    /// `" * : < > ? / \ |`, `.`, `..` and a trailing dot or space; Dropbox
    /// refuses `/`, `.`, `..` and a trailing space.
    pub fn check_name(provider: Provider, name: &str) -> Result<(), WorldError> {
        let bad = match provider {
            Provider::Google => name.is_empty(),
            Provider::Microsoft => {
                name.is_empty()
                    || name == "."
                    || name == ".."
                    || name.ends_with('.')
                    || name.ends_with(' ')
                    || name.contains(['"', '*', ':', '<', '>', '?', '/', '\\', '|'])
            }
            Provider::Dropbox => {
                name.is_empty()
                    || name == "."
                    || name == ".."
                    || name.ends_with(' ')
                    || name.contains('/')
            }
        };
        if bad {
            return Err(WorldError::BadRequest(format!(
                "'{name}' is not a valid {provider} item name"
            )));
        }
        Ok(())
    }

    fn provider_of_item(&self, id: &str) -> Provider {
        self.items
            .get(id)
            .and_then(|i| self.drives.get(&i.drive_id))
            .map(|d| d.provider)
            .unwrap_or(Provider::Google)
    }

    /// The first live, untrashed child of `parent` named `name` (see [`World::same_name`]).
    pub fn child_named(&self, parent: &str, name: &str) -> Option<&Item> {
        let provider = self.provider_of_item(parent);
        self.children(parent)
            .iter()
            .filter_map(|id| self.items.get(id))
            .find(|i| !i.trashed && World::same_name(provider, &i.name, name))
    }

    /// The item at `path` (segments separated by `/`) below the drive root.
    /// An empty path is the root. Dropbox-style case-insensitive matching
    /// is applied for Dropbox drives.
    pub fn resolve_path(&self, drive: &str, path: &str) -> Option<&Item> {
        let drive = self.drives.get(drive)?;
        let mut current = self.items.get(&drive.root_id)?;
        for segment in split_path(path) {
            current = self.child_named(&current.id, segment)?;
        }
        Some(current)
    }

    /// The `/`-joined names from the drive root to `id` (root is `""`,
    /// a child of root is `/name`).
    pub fn path_of(&self, id: &str) -> String {
        let mut names = Vec::new();
        let mut current = self.items.get(id);
        while let Some(item) = current {
            let Some(parent) = &item.parent_id else { break };
            names.push(item.name.as_str());
            current = self.items.get(parent);
        }
        names.reverse();
        let mut out = String::new();
        for n in names {
            out.push('/');
            out.push_str(n);
        }
        out
    }

    /// A handle on the bytes of `item`, usable without the world lock.
    pub fn source(&self, item: &Item) -> ContentSource {
        self.blobs.source(&item.content)
    }

    /// True when `id` is `ancestor` or lies below it.
    pub fn is_within(&self, id: &str, ancestor: &str) -> bool {
        let mut current = Some(id.to_string());
        while let Some(c) = current {
            if c == ancestor {
                return true;
            }
            current = self.items.get(&c).and_then(|i| i.parent_id.clone());
        }
        false
    }

    // ----- accounts, drives, sites ------------------------------------

    /// Adds an account with its own drive. Returns (account id, drive id).
    pub fn add_account(
        &mut self,
        provider: Provider,
        email: &str,
        display_name: &str,
    ) -> Result<(AccountId, DriveId), WorldError> {
        if self.account_by_email(provider, email).is_some() {
            return Err(WorldError::Conflict(format!(
                "{provider} account '{email}' exists"
            )));
        }
        let account_id = self.new_id(provider, IdKind::Account);
        let drive_id = self.add_drive(
            provider,
            DriveKind::Personal {
                owner: account_id.clone(),
            },
            if provider == Provider::Microsoft {
                "OneDrive"
            } else {
                "My Drive"
            },
            vec![account_id.clone()],
        );
        self.accounts.insert(
            account_id.clone(),
            Account {
                id: account_id.clone(),
                provider,
                email: email.to_string(),
                display_name: display_name.to_string(),
                drive_id: drive_id.clone(),
                created: Utc::now(),
            },
        );
        Ok((account_id, drive_id))
    }

    /// Adds a drive with an empty root folder. For Google the drive id is the
    /// root folder's id, as in Drive.
    fn add_drive(
        &mut self,
        provider: Provider,
        kind: DriveKind,
        name: &str,
        members: Vec<AccountId>,
    ) -> DriveId {
        let root_id = self.new_id(provider, IdKind::Item);
        let drive_id = if provider == Provider::Google {
            root_id.clone()
        } else {
            self.new_id(provider, IdKind::Drive)
        };
        let now = Utc::now();
        let folder_mime = folder_mime(provider);
        self.items.insert(
            root_id.clone(),
            Item {
                id: root_id.clone(),
                drive_id: drive_id.clone(),
                parent_id: None,
                name: if provider == Provider::Google {
                    name.to_string()
                } else {
                    "root".to_string()
                },
                kind: ItemKind::Folder,
                mime_type: folder_mime.to_string(),
                content: Content::Empty,
                created: now,
                modified: now,
                version: 1,
                content_version: 1,
                trashed: false,
                explicitly_trashed: false,
                trashed_time: None,
                deleted: false,
                change_seq: 0,
                placed: 0,
                hashes: BTreeMap::new(),
            },
        );
        self.drives.insert(
            drive_id.clone(),
            Drive {
                id: drive_id.clone(),
                provider,
                kind,
                name: name.to_string(),
                members,
                root_id,
                created: now,
                cursor_floor: 0,
                changes: Vec::new(),
                onedrive_personal: false,
            },
        );
        drive_id
    }

    /// Makes a Microsoft account's own drive a personal (consumer)
    /// OneDrive. Only at creation: the control API's `driveType`.
    pub fn make_onedrive_personal(&mut self, drive: &str) -> Result<(), WorldError> {
        match self.drives.get_mut(drive) {
            Some(d)
                if d.provider == Provider::Microsoft
                    && matches!(d.kind, DriveKind::Personal { .. }) =>
            {
                d.onedrive_personal = true;
                Ok(())
            }
            _ => Err(WorldError::BadRequest(format!(
                "'{drive}' is not a Microsoft account's own drive"
            ))),
        }
    }

    fn check_members(&self, provider: Provider, members: &[AccountId]) -> Result<(), WorldError> {
        for m in members {
            match self.accounts.get(m) {
                Some(a) if a.provider == provider => {}
                _ => {
                    return Err(WorldError::BadRequest(format!(
                        "member '{m}' is not a {provider} account"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Adds a Google shared drive visible to `members`.
    pub fn add_shared_drive(
        &mut self,
        name: &str,
        members: Vec<AccountId>,
    ) -> Result<DriveId, WorldError> {
        self.check_members(Provider::Google, &members)?;
        Ok(self.add_drive(Provider::Google, DriveKind::SharedDrive, name, members))
    }

    /// Adds a SharePoint site with one document library visible to `members`.
    /// Returns (site id, drive id).
    pub fn add_site(
        &mut self,
        name: &str,
        members: Vec<AccountId>,
    ) -> Result<(SiteId, DriveId), WorldError> {
        self.check_members(Provider::Microsoft, &members)?;
        let site_id = self.new_id(Provider::Microsoft, IdKind::Site);
        let drive_id = self.add_drive(
            Provider::Microsoft,
            DriveKind::SharePoint {
                site_id: site_id.clone(),
            },
            "Documents",
            members.clone(),
        );
        self.sites.insert(
            site_id.clone(),
            Site {
                id: site_id.clone(),
                name: name.to_string(),
                drive_id: drive_id.clone(),
                members,
                created: Utc::now(),
            },
        );
        Ok((site_id, drive_id))
    }

    /// Rejects all feed positions of `drive` taken before now (Graph
    /// 410 resyncRequired, Dropbox `reset`).
    pub fn invalidate_cursors(&mut self, drive: &str) -> Result<(), WorldError> {
        // A new position, so cursors taken from now on differ from all older ones.
        self.seq += 1;
        let seq = self.seq;
        let d = self
            .drives
            .get_mut(drive)
            .ok_or_else(|| WorldError::NotFound(format!("no drive '{drive}'")))?;
        d.cursor_floor = seq;
        Ok(())
    }

    // ----- item mutations (each records a change) ---------------------

    /// Appends a change for `id` to its drive's log.
    fn record(&mut self, id: &str) {
        self.record_move(id, None);
    }

    /// Appends a change for `id`, noting its path before a move.
    fn record_move(&mut self, id: &str, moved_from: Option<String>) {
        self.seq += 1;
        let seq = self.seq;
        let now = Utc::now();
        let Some(item) = self.items.get_mut(id) else {
            return;
        };
        item.change_seq = seq;
        let drive_id = item.drive_id.clone();
        if let Some(drive) = self.drives.get_mut(&drive_id) {
            drive.changes.push(ChangeEntry {
                seq,
                item_id: id.to_string(),
                time: now,
                moved_from,
            });
        }
    }

    fn live_folder(&self, id: &str) -> Result<&Item, WorldError> {
        match self.items.get(id) {
            Some(i) if i.is_folder() && !i.deleted => Ok(i),
            Some(_) => Err(WorldError::BadRequest(format!("'{id}' is not a folder"))),
            None => Err(WorldError::NotFound(format!("no folder '{id}'"))),
        }
    }

    /// Creates an item under `parent` and records the change.
    pub fn create_item(
        &mut self,
        parent: &str,
        name: &str,
        kind: ItemKind,
        mime_type: &str,
        content: Content,
    ) -> Result<ItemId, WorldError> {
        let drive_id = self.live_folder(parent)?.drive_id.clone();
        let provider = self.drive_provider(&drive_id)?;
        World::check_name(provider, name)?;
        if provider != Provider::Google && self.child_named(parent, name).is_some() {
            return Err(WorldError::Conflict(format!(
                "{provider} does not allow a second item named '{name}' in one folder"
            )));
        }
        self.insert_item(parent, &drive_id, provider, name, kind, mime_type, content)
    }

    /// Creates an item without the duplicate-name check (for `generate`).
    #[allow(clippy::too_many_arguments)]
    fn insert_item(
        &mut self,
        parent: &str,
        drive_id: &str,
        provider: Provider,
        name: &str,
        kind: ItemKind,
        mime_type: &str,
        content: Content,
    ) -> Result<ItemId, WorldError> {
        let drive_id = drive_id.to_string();
        let id = self.new_id(provider, IdKind::Item);
        let now = Utc::now();
        self.items.insert(
            id.clone(),
            Item {
                id: id.clone(),
                drive_id,
                parent_id: Some(parent.to_string()),
                name: name.to_string(),
                kind,
                mime_type: mime_type.to_string(),
                content,
                created: now,
                modified: now,
                version: 1,
                content_version: 1,
                trashed: false,
                explicitly_trashed: false,
                trashed_time: None,
                deleted: false,
                change_seq: 0,
                placed: 0,
                hashes: BTreeMap::new(),
            },
        );
        self.children
            .entry(parent.to_string())
            .or_default()
            .push(id.clone());
        self.record(&id);
        self.set_placed(&id);
        Ok(id)
    }

    fn set_placed(&mut self, id: &str) {
        if let Some(item) = self.items.get_mut(id) {
            item.placed = item.change_seq;
        }
    }

    fn drive_provider(&self, drive: &str) -> Result<Provider, WorldError> {
        self.drives
            .get(drive)
            .map(|d| d.provider)
            .ok_or_else(|| WorldError::NotFound(format!("no drive '{drive}'")))
    }

    /// Creates a folder under `parent`.
    pub fn create_folder(&mut self, parent: &str, name: &str) -> Result<ItemId, WorldError> {
        let drive = self.live_folder(parent)?.drive_id.clone();
        let mime = folder_mime(self.drive_provider(&drive)?);
        self.create_item(parent, name, ItemKind::Folder, mime, Content::Empty)
    }

    /// The folder at `segments` below the drive root, creating missing ones.
    pub fn ensure_folders(&mut self, drive: &str, segments: &[&str]) -> Result<ItemId, WorldError> {
        let mut current = self
            .drives
            .get(drive)
            .ok_or_else(|| WorldError::NotFound(format!("no drive '{drive}'")))?
            .root_id
            .clone();
        for segment in segments {
            let existing = self
                .child_named(&current, segment)
                .map(|i| (i.id.clone(), i.is_folder()));
            current = match existing {
                Some((id, true)) => id,
                Some((_, false)) => {
                    return Err(WorldError::Conflict(format!(
                        "'{segment}' exists and is not a folder"
                    )));
                }
                None => self.create_folder(&current, segment)?,
            };
        }
        Ok(current)
    }

    /// Writes a file at `path` (parents made as needed): overwrites the
    /// first item of that name, or creates one (always with `duplicate`).
    pub fn put_path(
        &mut self,
        drive: &str,
        path: &str,
        bytes: Bytes,
        options: PutOptions,
    ) -> Result<ItemId, WorldError> {
        let segments = split_path(path);
        let Some((last, parents)) = segments.split_last() else {
            return Err(WorldError::BadRequest("the path names no file".into()));
        };
        let name = options.name.clone().unwrap_or_else(|| (*last).to_string());
        let provider = self.drive_provider(drive)?;
        if options.mime_type.as_deref() == Some(folder_mime(provider)) {
            let parent = self.ensure_folders(drive, parents)?;
            return match self.child_named(&parent, &name) {
                Some(i) if i.is_folder() && !options.duplicate => Ok(i.id.clone()),
                _ => self.create_folder(&parent, &name),
            };
        }
        if options.duplicate && provider != Provider::Google {
            return Err(WorldError::Conflict(format!(
                "{provider} does not allow duplicate names"
            )));
        }
        let parent = self.ensure_folders(drive, parents)?;
        let content = self
            .blobs
            .put(bytes)
            .map_err(|e| WorldError::BadRequest(format!("storing bytes: {e:#}")))?;
        let existing = self
            .child_named(&parent, &name)
            .map(|i| (i.id.clone(), i.is_folder()));
        match existing {
            Some((_, true)) if !options.duplicate => {
                Err(WorldError::Conflict(format!("'{name}' is a folder")))
            }
            Some((id, false)) if !options.duplicate => {
                self.set_content(&id, content, options.mime_type.as_deref())?;
                Ok(id)
            }
            _ => {
                let mime = options
                    .mime_type
                    .clone()
                    .unwrap_or_else(|| mime_from_name(&name).to_string());
                self.create_item(&parent, &name, ItemKind::File, &mime, content)
            }
        }
    }

    /// Replaces the bytes of file `id` (and its mime type if given).
    pub fn set_content(
        &mut self,
        id: &str,
        content: Content,
        mime_type: Option<&str>,
    ) -> Result<(), WorldError> {
        let item = self.live_item_mut(id)?;
        if item.is_folder() {
            return Err(WorldError::BadRequest(format!("'{id}' is a folder")));
        }
        item.content = content;
        if let Some(m) = mime_type {
            item.mime_type = m.to_string();
        }
        item.hashes.clear();
        item.version += 1;
        item.content_version += 1;
        item.modified = Utc::now();
        self.record(id);
        Ok(())
    }

    fn live_item_mut(&mut self, id: &str) -> Result<&mut Item, WorldError> {
        match self.items.get_mut(id) {
            Some(i) if !i.deleted => Ok(i),
            _ => Err(WorldError::NotFound(format!("no item '{id}'"))),
        }
    }

    /// Adds a Google shortcut named `name` in `parent` pointing at `target`.
    pub fn create_shortcut(
        &mut self,
        parent: &str,
        name: &str,
        target: &str,
    ) -> Result<ItemId, WorldError> {
        let target_mime = self
            .items
            .get(target)
            .filter(|i| !i.deleted)
            .map(|i| i.mime_type.clone())
            .ok_or_else(|| WorldError::NotFound(format!("no shortcut target '{target}'")))?;
        self.create_item(
            parent,
            name,
            ItemKind::Shortcut {
                target_id: target.to_string(),
                target_mime_type: target_mime,
            },
            GOOGLE_SHORTCUT,
            Content::Empty,
        )
    }

    /// Renames and/or moves `id` to `new_parent` (same drive) as `new_name`.
    pub fn move_item(
        &mut self,
        id: &str,
        new_parent: &str,
        new_name: &str,
    ) -> Result<(), WorldError> {
        let parent_drive = self.live_folder(new_parent)?.drive_id.clone();
        let item = self.live_item_mut(id)?;
        if item.parent_id.is_none() {
            return Err(WorldError::BadRequest("the root cannot be moved".into()));
        }
        if item.drive_id != parent_drive {
            return Err(WorldError::BadRequest(
                "moves across drives are not supported".into(),
            ));
        }
        if self.is_within(new_parent, id) {
            return Err(WorldError::BadRequest(
                "a folder cannot move into itself".into(),
            ));
        }
        let provider = self.provider_of_item(id);
        World::check_name(provider, new_name)?;
        if provider != Provider::Google
            && self
                .child_named(new_parent, new_name)
                .is_some_and(|other| other.id != id)
        {
            return Err(WorldError::Conflict(format!(
                "'{new_name}' exists in the target folder"
            )));
        }
        let from = self.path_of(id);
        let item = self.live_item_mut(id)?;
        let old_parent = item.parent_id.replace(new_parent.to_string());
        item.name = new_name.to_string();
        item.version += 1;
        item.modified = Utc::now();
        if let Some(old) = old_parent
            && let Some(list) = self.children.get_mut(&old)
        {
            list.retain(|c| c != id);
        }
        self.children
            .entry(new_parent.to_string())
            .or_default()
            .push(id.to_string());
        self.record_move(id, Some(from));
        self.set_placed(id);
        Ok(())
    }

    /// Moves the item at path `from` to path `to` (parents made as needed).
    pub fn move_path(&mut self, drive: &str, from: &str, to: &str) -> Result<ItemId, WorldError> {
        let id = self
            .resolve_path(drive, from)
            .filter(|i| i.parent_id.is_some())
            .map(|i| i.id.clone())
            .ok_or_else(|| WorldError::NotFound(format!("no item at '{from}'")))?;
        let segments = split_path(to);
        let Some((last, parents)) = segments.split_last() else {
            return Err(WorldError::BadRequest("'to' names no item".into()));
        };
        let parent = self.ensure_folders(drive, parents)?;
        self.move_item(&id, &parent, last)?;
        Ok(id)
    }

    /// Ids of `id` and everything below it, parents first.
    pub fn subtree(&self, id: &str) -> Vec<ItemId> {
        let mut out = vec![id.to_string()];
        let mut i = 0;
        while i < out.len() {
            let kids = self.children(&out[i]).to_vec();
            out.extend(kids);
            i += 1;
        }
        out
    }

    /// Trashes (or restores) `id` and everything below it.
    pub fn set_trashed(&mut self, id: &str, trashed: bool) -> Result<(), WorldError> {
        if self.live_item_mut(id)?.parent_id.is_none() {
            return Err(WorldError::BadRequest("the root cannot be trashed".into()));
        }
        let now = Utc::now();
        for sub in self.subtree(id) {
            if let Some(item) = self.items.get_mut(&sub) {
                item.trashed = trashed;
                item.explicitly_trashed = trashed && sub == id;
                item.trashed_time = trashed.then_some(now);
                item.version += 1;
            }
            self.record(&sub);
        }
        Ok(())
    }

    /// Deletes `id` and everything below it for good (tombstones remain
    /// for the change feeds).
    pub fn delete_item(&mut self, id: &str) -> Result<(), WorldError> {
        let parent = self
            .live_item_mut(id)?
            .parent_id
            .clone()
            .ok_or_else(|| WorldError::BadRequest("the root cannot be deleted".into()))?;
        let subtree = self.subtree(id);
        for sub in subtree.iter().rev() {
            if let Some(item) = self.items.get_mut(sub) {
                item.deleted = true;
                item.version += 1;
            }
            self.children.remove(sub);
            self.record(sub);
        }
        if let Some(list) = self.children.get_mut(&parent) {
            list.retain(|c| c != id);
        }
        Ok(())
    }

    /// Deletes the item at `path` (folders recursively).
    pub fn delete_path(&mut self, drive: &str, path: &str) -> Result<ItemId, WorldError> {
        let id = self
            .resolve_path(drive, path)
            .filter(|i| i.parent_id.is_some())
            .map(|i| i.id.clone())
            .ok_or_else(|| WorldError::NotFound(format!("no item at '{path}'")))?;
        self.delete_item(&id)?;
        Ok(id)
    }

    /// Makes `files` generated files of `bytes` bytes each under folder
    /// `root` (a path, made as needed), spread over folders `depth` deep.
    /// Folders get about `files^(1/(depth+1))` children each.
    pub fn generate(
        &mut self,
        drive: &str,
        root: &str,
        files: u64,
        bytes: u64,
        depth: u32,
    ) -> Result<Generated, WorldError> {
        let root_id = self.ensure_folders(drive, &split_path(root))?;
        let provider = self.drive_provider(drive)?;
        let fanout = ((files as f64).powf(1.0 / f64::from(depth + 1)).ceil() as u64).max(1);
        let leaves = fanout.pow(depth).max(1);
        let mut folders: HashMap<u64, ItemId> = HashMap::new();
        let mut made_folders = 0u64;
        let salt = mix(self.salt ^ self.next_id);
        for n in 0..files {
            let leaf = if depth == 0 { 0 } else { n % leaves };
            let parent = match folders.get(&leaf) {
                Some(p) => p.clone(),
                None => {
                    let mut parent = root_id.clone();
                    let mut rest = leaf;
                    for level in 0..depth {
                        let digit = rest % fanout;
                        rest /= fanout;
                        let name = format!("dir-{level}-{digit:04}");
                        let existing = self
                            .child_named(&parent, &name)
                            .filter(|i| i.is_folder())
                            .map(|i| i.id.clone());
                        parent = match existing {
                            Some(id) => id,
                            None => {
                                made_folders += 1;
                                self.create_folder(&parent, &name)?
                            }
                        };
                    }
                    folders.insert(leaf, parent.clone());
                    parent
                }
            };
            let content = if bytes == 0 {
                Content::Empty
            } else {
                Content::Generated {
                    seed: mix(salt ^ n),
                    len: bytes,
                }
            };
            let name = format!("file-{n:07}.bin");
            // Names are unique by construction: skip the per-file duplicate scan.
            self.insert_item(
                &parent,
                drive,
                provider,
                &name,
                ItemKind::File,
                "application/octet-stream",
                content,
            )?;
        }
        Ok(Generated {
            root_id,
            files,
            folders: made_folders,
            bytes: files * bytes,
        })
    }

    // ----- change feeds -------------------------------------------------

    /// The current global position: a feed started now sees only later changes.
    pub fn current_seq(&self) -> u64 {
        self.seq
    }

    /// Up to `limit` items of `drives` changed after position `after`,
    /// each once (its latest change), in sequence order.
    /// Errors with [`CursorError::Expired`] when `after` is below a drive's floor.
    pub fn changes_since(
        &self,
        drives: &[DriveId],
        after: u64,
        limit: usize,
    ) -> Result<ChangePage, CursorError> {
        let mut entries: Vec<ChangeEntry> = Vec::new();
        for drive_id in drives {
            let Some(drive) = self.drives.get(drive_id) else {
                continue;
            };
            if after < drive.cursor_floor {
                return Err(CursorError::Expired(after));
            }
            let start = drive.changes.partition_point(|c| c.seq <= after);
            let mut taken = 0;
            for entry in &drive.changes[start..] {
                let latest = self
                    .items
                    .get(&entry.item_id)
                    .is_some_and(|i| i.change_seq == entry.seq);
                if latest {
                    entries.push(entry.clone());
                    taken += 1;
                    if taken > limit {
                        break;
                    }
                }
            }
        }
        entries.sort_by_key(|e| e.seq);
        let more = entries.len() > limit;
        entries.truncate(limit);
        let next = match (more, entries.last()) {
            (true, Some(last)) => last.seq,
            _ => self.seq,
        };
        Ok(ChangePage {
            entries,
            more,
            next,
        })
    }
}

/// The mime type (or marker) of folders for `provider`.
pub fn folder_mime(provider: Provider) -> &'static str {
    match provider {
        Provider::Google => GOOGLE_FOLDER,
        _ => "folder",
    }
}

fn uuid_from(a: u64, b: u64) -> String {
    uuid::Uuid::from_u64_pair(mix(a) ^ b, b).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world_with_account() -> (World, DriveId) {
        let mut w = World::default();
        let (_, drive) = w.add_account(Provider::Google, "a@x.test", "A").unwrap();
        (w, drive)
    }

    #[test]
    fn feed_reports_latest_state_once() {
        let (mut w, d) = world_with_account();
        let start = w.current_seq();
        let a = w
            .put_path(
                &d,
                "a/x.txt",
                Bytes::from_static(b"1"),
                PutOptions::default(),
            )
            .unwrap();
        w.put_path(
            &d,
            "a/x.txt",
            Bytes::from_static(b"2"),
            PutOptions::default(),
        )
        .unwrap();
        let page = w
            .changes_since(std::slice::from_ref(&d), start, 10)
            .unwrap();
        let ids: Vec<_> = page.entries.iter().map(|e| e.item_id.clone()).collect();
        assert_eq!(ids.len(), 2, "folder a and file x, once each");
        assert_eq!(ids[1], a);
        assert!(!page.more);
        let paged = w.changes_since(std::slice::from_ref(&d), start, 1).unwrap();
        assert!(paged.more);
        let rest = w
            .changes_since(std::slice::from_ref(&d), paged.next, 1)
            .unwrap();
        assert_eq!(rest.entries[0].item_id, a);
    }

    #[test]
    fn delete_moves_and_paths() {
        let (mut w, d) = world_with_account();
        w.put_path(
            &d,
            "a/b/c.txt",
            Bytes::from_static(b"x"),
            PutOptions::default(),
        )
        .unwrap();
        let id = w.move_path(&d, "a/b/c.txt", "z/c2.txt").unwrap();
        assert_eq!(w.path_of(&id), "/z/c2.txt");
        w.delete_path(&d, "a").unwrap();
        assert!(w.resolve_path(&d, "a/b").is_none());
        assert!(w.item(&id).is_some_and(|i| !i.deleted));
    }

    #[test]
    fn name_rules_per_provider() {
        let mut w = World::default();
        let (_, d) = w.add_account(Provider::Dropbox, "d@x.test", "D").unwrap();
        let a = w
            .put_path(
                &d,
                "Dir/A.txt",
                Bytes::from_static(b"1"),
                PutOptions::default(),
            )
            .unwrap();
        let b = w
            .put_path(
                &d,
                "dir/a.TXT",
                Bytes::from_static(b"2"),
                PutOptions::default(),
            )
            .unwrap();
        assert_eq!(a, b, "Dropbox names are case-insensitive");
        let dup = PutOptions {
            duplicate: true,
            ..PutOptions::default()
        };
        assert!(matches!(
            w.put_path(&d, "dir/a.txt", Bytes::new(), dup.clone()),
            Err(WorldError::Conflict(_))
        ));
        w.put_path(&d, "b.txt", Bytes::new(), PutOptions::default())
            .unwrap();
        assert!(matches!(
            w.move_path(&d, "b.txt", "DIR/A.txt"),
            Err(WorldError::Conflict(_))
        ));

        assert!(matches!(
            w.put_path(&d, "dir/..", Bytes::new(), PutOptions::default()),
            Err(WorldError::BadRequest(_))
        ));

        let (_, g) = w.add_account(Provider::Google, "g@x.test", "G").unwrap();
        let odd = PutOptions {
            name: Some("../a/b:c".into()),
            ..PutOptions::default()
        };
        w.put_path(&g, "dir/x", Bytes::new(), odd).unwrap();
        let x = w
            .put_path(&g, "x", Bytes::from_static(b"1"), PutOptions::default())
            .unwrap();
        let y = w.put_path(&g, "x", Bytes::new(), dup).unwrap();
        assert_ne!(x, y, "Drive allows duplicate names");
        assert!(
            w.resolve_path(&g, "X").is_none(),
            "Drive names are case-sensitive"
        );
    }

    #[test]
    fn put_with_the_folder_type_makes_a_folder() {
        let (mut w, d) = world_with_account();
        let options = PutOptions {
            mime_type: Some(GOOGLE_FOLDER.into()),
            ..PutOptions::default()
        };
        let id = w
            .put_path(&d, "a/b", Bytes::new(), options.clone())
            .unwrap();
        assert!(w.item(&id).unwrap().is_folder());
        assert_eq!(w.put_path(&d, "a/b", Bytes::new(), options).unwrap(), id);
    }

    #[test]
    fn children_order_survives_a_reload() {
        let (mut w, d) = world_with_account();
        for name in ["b", "a", "c"] {
            w.put_path(
                &d,
                &format!("f/{name}"),
                Bytes::new(),
                PutOptions::default(),
            )
            .unwrap();
        }
        w.move_path(&d, "f/b", "f/b2").unwrap();
        let folder = w.resolve_path(&d, "f").unwrap().id.clone();
        let before = w.children(&folder).to_vec();
        let json = serde_json::to_string(&w).unwrap();
        let mut loaded: World = serde_json::from_str(&json).unwrap();
        loaded.after_load(Blobs::default());
        assert_eq!(loaded.children(&folder), &before[..]);
    }

    #[test]
    fn generate_spreads_files() {
        let (mut w, d) = world_with_account();
        let g = w.generate(&d, "gen", 1000, 10, 2).unwrap();
        assert_eq!(g.files, 1000);
        let count = w
            .subtree(&g.root_id)
            .iter()
            .filter(|id| w.item(id).is_some_and(Item::is_file))
            .count();
        assert_eq!(count, 1000);
    }

    #[test]
    fn ids_are_unique_and_shaped() {
        let mut w = World::default();
        let a = w.new_id(Provider::Dropbox, IdKind::Account);
        assert_eq!(a.len(), 40);
        let g1 = w.new_id(Provider::Google, IdKind::Item);
        let g2 = w.new_id(Provider::Google, IdKind::Item);
        assert_ne!(g1, g2);
    }
}
