//! Drive v3 wire structs (docs/providers.md, "Google Drive"). int64 values
//! are JSON strings.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// The file fields every listing asks for.
pub const FILE_FIELDS: &str = "id,name,mimeType,parents,md5Checksum,size,modifiedTime,version,trashed,shortcutDetails,driveId";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct File {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub mime_type: Option<String>,
    #[serde(default)]
    pub parents: Vec<String>,
    pub md5_checksum: Option<String>,
    pub size: Option<String>,
    pub modified_time: Option<DateTime<Utc>>,
    pub version: Option<String>,
    #[serde(default)]
    pub trashed: bool,
    pub shortcut_details: Option<ShortcutDetails>,
    pub drive_id: Option<String>,
    #[serde(default)]
    pub export_links: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShortcutDetails {
    pub target_id: String,
    pub target_mime_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileList {
    pub next_page_token: Option<String>,
    #[serde(default)]
    pub incomplete_search: bool,
    #[serde(default)]
    pub files: Vec<File>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeList {
    pub next_page_token: Option<String>,
    pub new_start_page_token: Option<String>,
    #[serde(default)]
    pub changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub change_type: Option<String>,
    #[serde(default)]
    pub removed: bool,
    pub file_id: Option<String>,
    pub file: Option<File>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartPageToken {
    pub start_page_token: String,
}

#[derive(Debug, Deserialize)]
pub struct About {
    pub user: User,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub display_name: Option<String>,
    pub email_address: Option<String>,
    pub permission_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedDrive {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriveList {
    #[serde(default)]
    pub drives: Vec<SharedDrive>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub errors: Vec<ErrorItem>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorItem {
    #[serde(default)]
    pub reason: String,
    pub location: Option<String>,
}
