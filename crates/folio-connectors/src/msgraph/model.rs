//! Graph wire structs (docs/providers.md, "Microsoft Graph").

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriveItem {
    pub id: String,
    pub name: Option<String>,
    pub size: Option<u64>,
    pub e_tag: Option<String>,
    pub c_tag: Option<String>,
    pub last_modified_date_time: Option<DateTime<Utc>>,
    pub parent_reference: Option<ItemReference>,
    pub file: Option<FileFacet>,
    pub folder: Option<Value>,
    pub deleted: Option<Value>,
    pub root: Option<Value>,
    pub package: Option<Value>,
    #[serde(rename = "@microsoft.graph.downloadUrl")]
    pub download_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemReference {
    pub id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileFacet {
    pub mime_type: Option<String>,
    pub hashes: Option<Hashes>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hashes {
    pub quick_xor_hash: Option<String>,
    pub sha256_hash: Option<String>,
}

/// A delta or children page.
#[derive(Debug, Deserialize)]
pub struct ItemPage {
    #[serde(default)]
    pub value: Vec<DriveItem>,
    #[serde(rename = "@odata.nextLink")]
    pub next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink")]
    pub delta_link: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Drive {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct Drives {
    #[serde(default)]
    pub value: Vec<Drive>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Site {
    pub id: String,
    pub name: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Sites {
    #[serde(default)]
    pub value: Vec<Site>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub display_name: Option<String>,
    pub mail: Option<String>,
    pub user_principal_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    pub error: GraphError,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphError {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(alias = "innererror")]
    pub inner_error: Option<Box<GraphError>>,
}

impl GraphError {
    /// The top code and every nested inner code.
    pub fn codes(&self) -> Vec<&str> {
        let mut out = vec![self.code.as_str()];
        let mut cur = self.inner_error.as_deref();
        while let Some(e) = cur {
            out.push(e.code.as_str());
            cur = e.inner_error.as_deref();
        }
        out
    }
}
