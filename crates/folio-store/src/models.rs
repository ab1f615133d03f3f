//! Rows as the store returns them.

use chrono::{DateTime, Utc};
use folio_domain::{LibrarySource, LibraryType, ProviderKind, ShareLevel, SyncSchedule};
use sqlx::types::Json;
use uuid::Uuid;

use crate::decode::{Integrations, Libraries, Shares, Text};

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
    #[sqlx(rename = "type", try_from = "Text<Libraries, LibraryType>")]
    pub library_type: LibraryType,
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
    pub library_type: LibraryType,
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
    #[sqlx(try_from = "Text<Shares, ShareLevel>")]
    pub level: ShareLevel,
    pub created_at: DateTime<Utc>,
}

/// A share with the username of the user it names, for listings.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserShare {
    pub library_id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    #[sqlx(try_from = "Text<Shares, ShareLevel>")]
    pub level: ShareLevel,
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

/// An OAuth client registered with a provider. URL and scope fields are what
/// the admin entered (`None`: the provider's default, resolved by
/// folio-oauth). The client secret is only ever held sealed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Integration {
    pub id: Uuid,
    #[sqlx(rename = "type", try_from = "Text<Integrations, ProviderKind>")]
    pub integration_type: ProviderKind,
    pub name: String,
    pub client_id: String,
    pub client_secret_sealed: String,
    pub auth_uri: Option<String>,
    pub token_uri: Option<String>,
    pub scope: Option<String>,
    pub api_uri: Option<String>,
    pub tenant: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A pending authorization: the server-side half of an OAuth `state`
/// (only its SHA-256 is stored), single use, expiring.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OAuthState {
    pub state_hash: String,
    pub user_id: Uuid,
    pub library_id: Uuid,
    pub integration_id: Uuid,
    pub pkce_verifier_sealed: String,
    pub redirect_uri: String,
    pub return_to: Option<String>,
    pub switch_account: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// A library's OAuth connection. Tokens are sealed; `version` grows on
/// every change and guards refreshes (compare-and-set), and
/// `refresh_lease_until` marks a refresh in progress on some replica.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Connection {
    pub id: Uuid,
    pub library_id: Uuid,
    pub integration_id: Uuid,
    pub owner_id: Uuid,
    pub provider_account_id: String,
    pub access_token_sealed: String,
    pub refresh_token_sealed: Option<String>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    /// `active`, `needsReauthorization` or `revoked`.
    pub status: String,
    pub version: i64,
    pub refresh_lease_until: Option<DateTime<Utc>>,
    pub last_authorized_at: DateTime<Utc>,
    pub last_refreshed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Fresh tokens from a token endpoint, sealed, for [`Store::store_refreshed_tokens`]
/// and [`Store::put_connection`].
#[derive(Debug, Clone)]
pub struct SealedTokens {
    pub access_token_sealed: String,
    /// `None` keeps the stored refresh token (providers that do not rotate).
    pub refresh_token_sealed: Option<String>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
}

/// One sealed column value, for key rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    pub table: &'static str,
    /// The row's key as text (a UUID, or a state hash).
    pub row: String,
    pub column: &'static str,
    pub value: String,
}
