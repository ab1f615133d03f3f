//! Rows as the store returns them.

use chrono::{DateTime, Utc};
use folio_domain::{LibrarySource, SyncSchedule};
use sqlx::types::Json;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    pub password_hash: Option<String>,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: Option<String>,
    pub password_hash: Option<String>,
    pub is_admin: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Library {
    pub id: Uuid,
    pub natural_id: String,
    pub name: String,
    pub description: Option<String>,
    #[sqlx(rename = "type")]
    pub library_type: String,
    pub owner_id: Uuid,
    pub source: Json<LibrarySource>,
    pub sync_schedule: Option<Json<SyncSchedule>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewLibrary {
    pub natural_id: String,
    pub name: String,
    pub description: Option<String>,
    pub library_type: String,
    pub owner_id: Uuid,
    pub source: LibrarySource,
    pub sync_schedule: Option<SyncSchedule>,
}

/// A partial update; `None` leaves a field as it is. The nested options
/// distinguish "leave" (`None`) from "clear" (`Some(None)`).
#[derive(Debug, Clone, Default)]
pub struct LibraryPatch {
    pub natural_id: Option<String>,
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub source: Option<LibrarySource>,
    pub sync_schedule: Option<Option<SyncSchedule>>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Share {
    pub library_id: Uuid,
    pub user_id: Uuid,
    pub level: String,
    pub created_at: DateTime<Utc>,
}

/// A file of a library: metadata plus the hash of the blob holding its bytes.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FileRecord {
    pub library_id: Uuid,
    pub path: String,
    pub size: i64,
    pub content_type: String,
    /// Lowercase hex SHA-256 of the bytes: the blob's key.
    pub hash: String,
    pub modified_at: DateTime<Utc>,
    pub remote_id: Option<String>,
    pub synced_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
