//! Dropbox API v2 wire structs (dropbox-api-spec: users.stone, files.stone,
//! auth.stone). Field names are the wire names; only what cloudsim serves.

use serde::{Deserialize, Serialize};

/// `users/get_current_account` result (`FullAccount`).
#[derive(Debug, Serialize)]
pub struct FullAccount {
    /// Exactly 40 characters (`dbid:...`).
    pub account_id: String,
    pub name: Name,
    pub email: String,
    pub email_verified: bool,
    pub disabled: bool,
    /// At least 2 characters.
    pub locale: String,
    pub referral_link: String,
    pub is_paired: bool,
    pub account_type: Tag,
    pub root_info: RootInfo,
    /// Exactly 2 characters.
    pub country: String,
}

/// `users.Name`: every field is required.
#[derive(Debug, Serialize)]
pub struct Name {
    pub given_name: String,
    pub surname: String,
    pub familiar_name: String,
    pub display_name: String,
    pub abbreviated_name: String,
}

/// A void union member: `{".tag": "basic"}`.
#[derive(Debug, Serialize)]
pub struct Tag {
    #[serde(rename = ".tag")]
    pub tag: &'static str,
}

/// `common.RootInfo` subtype `user`.
#[derive(Debug, Serialize)]
pub struct RootInfo {
    #[serde(rename = ".tag")]
    pub tag: &'static str,
    pub root_namespace_id: String,
    pub home_namespace_id: String,
}

/// `files.Metadata`: a closed struct tree tagged `file`, `folder` or `deleted`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = ".tag", rename_all = "lowercase")]
pub enum Metadata {
    File(FileMetadata),
    Folder(FolderMetadata),
    Deleted(DeletedMetadata),
}

/// `files.FileMetadata`.
#[derive(Debug, Clone, Serialize)]
pub struct FileMetadata {
    pub name: String,
    pub path_lower: String,
    pub path_display: String,
    /// `id:...`
    pub id: String,
    /// `%Y-%m-%dT%H:%M:%SZ`, no fraction.
    pub client_modified: String,
    pub server_modified: String,
    /// At least 9 lowercase hex digits.
    pub rev: String,
    pub size: u64,
    pub is_downloadable: bool,
    /// 64 lowercase hex digits.
    pub content_hash: String,
}

/// `files.FolderMetadata`.
#[derive(Debug, Clone, Serialize)]
pub struct FolderMetadata {
    pub name: String,
    pub path_lower: String,
    pub path_display: String,
    pub id: String,
}

/// `files.DeletedMetadata`.
#[derive(Debug, Clone, Serialize)]
pub struct DeletedMetadata {
    pub name: String,
    pub path_lower: String,
    pub path_display: String,
}

impl Metadata {
    /// `path_lower` of any entry.
    pub fn path_lower(&self) -> &str {
        match self {
            Metadata::File(m) => &m.path_lower,
            Metadata::Folder(m) => &m.path_lower,
            Metadata::Deleted(m) => &m.path_lower,
        }
    }
}

/// `files.ListFolderArg` (unknown fields are accepted and ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct ListFolderArg {
    pub path: String,
    #[serde(default)]
    pub recursive: bool,
    #[serde(default)]
    pub include_deleted: bool,
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `files.ListFolderContinueArg`.
#[derive(Debug, Clone, Deserialize)]
pub struct ListFolderContinueArg {
    pub cursor: String,
}

/// `files.ListFolderResult`.
#[derive(Debug, Serialize)]
pub struct ListFolderResult {
    pub entries: Vec<Metadata>,
    pub cursor: String,
    pub has_more: bool,
}

/// `files.ListFolderGetLatestCursorResult`.
#[derive(Debug, Serialize)]
pub struct LatestCursorResult {
    pub cursor: String,
}

/// `files.DownloadArg`.
#[derive(Debug, Clone, Deserialize)]
pub struct DownloadArg {
    pub path: String,
    #[serde(default)]
    pub rev: Option<String>,
}

/// `files.GetMetadataArg` (the `include_*` flags are accepted; cloudsim
/// has no media info, sharing or property groups to add).
#[derive(Debug, Clone, Deserialize)]
pub struct GetMetadataArg {
    pub path: String,
}

/// `users.SpaceUsage`.
#[derive(Debug, Serialize)]
pub struct SpaceUsage {
    pub used: u64,
    pub allocation: SpaceAllocation,
}

/// `users.SpaceAllocation` subtype `individual`.
#[derive(Debug, Serialize)]
pub struct SpaceAllocation {
    #[serde(rename = ".tag")]
    pub tag: &'static str,
    pub allocated: u64,
}
