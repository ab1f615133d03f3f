//! What the console's pages are given: the services' answers in the
//! shapes the templates read.

use folio_domain::SyncSchedule;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

/// The signed-in person.
#[derive(Debug, Clone)]
pub struct Me {
    pub id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    pub is_admin: bool,
    /// The user the services are called for.
    pub(super) user: folio_store::User,
}

impl From<folio_store::User> for Me {
    fn from(user: folio_store::User) -> Self {
        Self {
            id: user.id,
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            is_admin: user.is_admin,
            user,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Library {
    pub id: Uuid,
    pub natural_id: String,
    pub name: String,
    pub library_type: String,
    pub owner_id: Uuid,
    pub source: Value,
    pub sync_schedule: Option<Schedule>,
    /// The stored library, read with the viewer's rights.
    pub(super) record: folio_store::Library,
}

impl From<folio_store::Library> for Library {
    fn from(record: folio_store::Library) -> Self {
        Self {
            id: record.id,
            natural_id: record.natural_id.clone(),
            name: record.name.clone(),
            library_type: record.library_type.to_string(),
            owner_id: record.owner_id,
            source: serde_json::to_value(&record.source.0).unwrap_or(Value::Null),
            sync_schedule: record.sync_schedule.as_ref().map(|s| Schedule::from(s.0)),
            record,
        }
    }
}

/// What the viewer may do with a library beyond reading it.
#[derive(Debug, Clone, Copy)]
pub struct Allowed {
    pub sync: bool,
    pub write: bool,
}

#[derive(Debug, Clone)]
pub struct Schedule {
    pub interval_minutes: u32,
}

impl From<SyncSchedule> for Schedule {
    fn from(schedule: SyncSchedule) -> Self {
        Self {
            interval_minutes: schedule.interval_minutes,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Connection {
    /// `active`, `needsReauthorization` or `revoked`.
    pub status: String,
    pub provider_account_id: String,
    pub integration_id: Uuid,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub account_id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    pub id: Uuid,
    pub name: String,
    #[serde(rename = "type")]
    pub integration_type: String,
    pub client_id: String,
    pub auth_uri: String,
    pub token_uri: String,
    pub scope: String,
    pub api_uri: String,
    pub tenant: Option<String>,
}

/// What an integration form starts from for a provider type.
#[derive(Debug, Clone, Default)]
pub struct ProviderDefaults {
    pub auth_uri: String,
    pub token_uri: String,
    pub api_uri: String,
    pub scope: String,
    pub tenant: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Folder {
    pub id: String,
    pub name: String,
    pub source: Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub trigger: String,
    pub status: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    pub added_files: i64,
    pub updated_files: i64,
    pub deleted_files: i64,
    pub moved_files: i64,
    #[serde(default)]
    pub errors: Vec<RunError>,
    pub message: Option<String>,
    pub progress_id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunError {
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Progress {
    pub id: String,
    pub status: String,
    pub phase: String,
    pub done: i64,
    pub total: i64,
    pub total_known: bool,
    pub bytes: i64,
    pub current: Option<String>,
    pub added: i64,
    pub updated: i64,
    pub deleted: i64,
    pub failed: i64,
}

#[derive(Debug, Clone)]
pub struct File {
    pub path: String,
    pub size: i64,
    pub modified_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone)]
pub struct FilePage {
    pub items: Vec<File>,
    pub next: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Share {
    pub user_id: Uuid,
    pub username: String,
    pub level: String,
}
