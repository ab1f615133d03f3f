//! Microsoft Graph v1.0 wire structs (driveItem, drive, user, site,
//! collections, delta pages, errors). Only what cloudsim serves; absent
//! facets are left out of the JSON, as Graph does.

use serde::Serialize;
use serde_json::Value;

/// `identitySet` with only a user.
#[derive(Debug, Clone, Serialize)]
pub struct IdentitySet {
    pub user: Identity,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub id: String,
}

/// `itemReference`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemReference {
    pub drive_id: String,
    pub drive_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Percent-encoded, `/drive/root:/Folder` (not returned by delta).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hashes {
    /// Base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quick_xor_hash: Option<String>,
    /// Uppercase hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256_hash: Option<String>,
    /// Uppercase hex; personal drives only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha1_hash: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileFacet {
    pub mime_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashes: Option<Hashes>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FolderFacet {
    pub child_count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeletedFacet {
    pub state: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileSystemInfo {
    pub created_date_time: String,
    pub last_modified_date_time: String,
}

/// `driveItem`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriveItem {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "eTag")]
    pub e_tag: String,
    #[serde(rename = "cTag", skip_serializing_if = "Option::is_none")]
    pub c_tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    pub created_date_time: String,
    pub last_modified_date_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<IdentitySet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified_by: Option<IdentitySet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_reference: Option<ItemReference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_system_info: Option<FileSystemInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<FileFacet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder: Option<FolderFacet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<DeletedFacet>,
    #[serde(
        rename = "@microsoft.graph.downloadUrl",
        skip_serializing_if = "Option::is_none"
    )]
    pub download_url: Option<String>,
}

/// `drive.quota`.
#[derive(Debug, Clone, Serialize)]
pub struct Quota {
    pub deleted: u64,
    pub remaining: u64,
    pub state: &'static str,
    pub total: u64,
    pub used: u64,
}

/// `drive`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drive {
    pub id: String,
    pub drive_type: &'static str,
    pub name: String,
    pub description: String,
    pub web_url: String,
    pub created_date_time: String,
    pub last_modified_date_time: String,
    pub created_by: IdentitySet,
    pub owner: IdentitySet,
    pub quota: Quota,
}

/// `user` with Graph's default property set.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(rename = "@odata.context")]
    pub context: String,
    pub business_phones: Vec<String>,
    pub display_name: String,
    pub given_name: String,
    pub job_title: Option<String>,
    pub mail: String,
    pub mobile_phone: Option<String>,
    pub office_location: Option<String>,
    pub preferred_language: String,
    pub surname: String,
    pub user_principal_name: String,
    pub id: String,
}

/// `site`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Site {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub created_date_time: String,
    pub last_modified_date_time: String,
    pub web_url: String,
    pub site_collection: SiteCollection,
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteCollection {
    pub hostname: String,
}

/// A collection page: `{"@odata.context", "value", "@odata.nextLink"?}`.
#[derive(Debug, Serialize)]
pub struct Collection<T: Serialize> {
    #[serde(rename = "@odata.context")]
    pub context: String,
    pub value: Vec<T>,
    #[serde(rename = "@odata.nextLink", skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

/// A delta page: `nextLink` while more pages remain, `deltaLink` on the last.
#[derive(Debug, Serialize)]
pub struct DeltaPage {
    #[serde(rename = "@odata.context")]
    pub context: String,
    pub value: Vec<DriveItem>,
    #[serde(rename = "@odata.nextLink", skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink", skip_serializing_if = "Option::is_none")]
    pub delta_link: Option<String>,
}
