//! Dropbox wire structs (docs/providers.md, "Dropbox").

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A `list_folder` entry: a closed union on `.tag`.
#[derive(Debug, Deserialize)]
#[serde(tag = ".tag", rename_all = "snake_case")]
pub enum Metadata {
    File(FileMetadata),
    Folder(FolderMetadata),
    Deleted(DeletedMetadata),
}

#[derive(Debug, Deserialize)]
pub struct FileMetadata {
    pub id: String,
    pub name: String,
    pub path_lower: Option<String>,
    pub path_display: Option<String>,
    pub server_modified: Option<DateTime<Utc>>,
    pub rev: Option<String>,
    pub size: u64,
    pub content_hash: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct FolderMetadata {
    pub id: String,
    pub name: String,
    pub path_lower: Option<String>,
    pub path_display: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct DeletedMetadata {
    pub path_lower: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ListFolderResult {
    #[serde(default)]
    pub entries: Vec<Metadata>,
    pub cursor: String,
    #[serde(default)]
    pub has_more: bool,
}

#[derive(Debug, Serialize)]
pub struct ListFolderArg<'a> {
    pub path: &'a str,
    pub recursive: bool,
    pub include_deleted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct CursorArg<'a> {
    pub cursor: &'a str,
}

#[derive(Debug, Deserialize)]
pub struct LatestCursor {
    pub cursor: String,
}

#[derive(Debug, Deserialize)]
pub struct FullAccount {
    pub account_id: String,
    pub name: Name,
    pub email: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Name {
    pub display_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub error_summary: String,
    #[serde(default)]
    pub error: Value,
}
