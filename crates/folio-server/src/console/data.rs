//! The console's one door to Folio's logic.
//!
//! Every page reads and changes things through [`Data`], and nowhere else.
//! Each call resolves the person's session to their user and makes the
//! same application-service call (`folio_app`) the JSON API's route makes,
//! so the console enforces exactly the API's rules: a library a stranger
//! cannot read is a 404 here too, a reader cannot sync. Failures are
//! worded as the API words them (its status and message).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use folio_app::AppError;
use folio_app::files::Upload;
use folio_app::integrations::{IntegrationChanges, IntegrationDraft};
use folio_app::libraries::{LibraryChanges, LibraryDraft};
use folio_app::sync::SyncRequest;
use folio_domain::{LibrarySource, Permission, RunStatus, SyncSchedule};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::{
    AuthUser, SESSION_COOKIE, hash_secret, new_password_hash, new_secret, verify_password,
};
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::routes::integrations::{CreateIntegration, IntegrationBody, PatchIntegration};
use crate::routes::paging::{decode_cursor, encode_cursor, page_limit};
use crate::state::AppState;

/// The console's handle on Folio: the application state, which derefs to
/// the services' context (`folio_app::App`).
#[derive(Clone)]
pub struct Data {
    state: AppState,
}

/// A failed call: the API's status and its message, which says what to fix.
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: StatusCode,
    pub message: String,
}

impl Failure {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status == StatusCode::NOT_FOUND
    }
}

pub type DataResult<T> = Result<T, Failure>;

/// The signed-in person.
#[derive(Debug, Clone)]
pub struct Me {
    pub id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    pub is_admin: bool,
    /// The user the services are called for.
    user: folio_store::User,
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
    record: folio_store::Library,
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

/// The session cookie of the person a call is made for.
#[derive(Debug, Clone)]
pub struct Session(pub String);

impl Data {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    /// The application state (the set-up token lives there).
    pub fn app(&self) -> &AppState {
        &self.state
    }

    /// The redirect URI an integration registers with its provider.
    pub fn redirect_uri(&self) -> String {
        folio_app::connections::callback_url(&self.state)
    }

    /// Folio's public base URL.
    pub fn public_url(&self) -> &str {
        self.state.public_url()
    }

    /// The user a session belongs to, or the API's 401 when it has ended.
    async fn user(&self, session: &Session) -> DataResult<folio_store::User> {
        folio_app::users::session_user(&self.state, &hash_secret(&session.0))
            .await
            .map_err(failure)?
            .ok_or_else(|| {
                Failure::new(
                    StatusCode::UNAUTHORIZED,
                    "the session has expired; log in again",
                )
            })
    }

    // ---- people ----

    /// The person a session belongs to; `None` when it has ended.
    pub async fn me(&self, session: &Session) -> DataResult<Option<Me>> {
        match self.user(session).await {
            Ok(user) => Ok(Some(Me::from(user))),
            Err(f) if f.status == StatusCode::UNAUTHORIZED => Ok(None),
            Err(f) => Err(f),
        }
    }

    /// Signs in; the `Set-Cookie` value of the new session (the cookie the
    /// API's `POST /api/auth/login` sets).
    pub async fn login(&self, username: &str, password: &str) -> DataResult<String> {
        let user = folio_app::users::by_username(&self.state, username)
            .await
            .map_err(failure)?;
        let verified = user.filter(|u| {
            u.password_hash
                .as_deref()
                .is_some_and(|hash| verify_password(password, hash))
        });
        let Some(user) = verified else {
            return Err(Failure::new(
                StatusCode::UNAUTHORIZED,
                "wrong username or password",
            ));
        };
        let session = new_secret("");
        let ttl = self.state.config.session_ttl;
        let expires_at = chrono::Duration::from_std(ttl)
            .map(|ttl| chrono::Utc::now() + ttl)
            .map_err(|e| failure(AppError::internal(e)))?;
        folio_app::users::start_session(&self.state, user.id, &hash_secret(&session), expires_at)
            .await
            .map_err(failure)?;
        let secure = if self.state.config.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        Ok(format!(
            "{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            ttl.as_secs()
        ))
    }

    /// Ends the session; the `Set-Cookie` value that clears it (`None`
    /// when it had already ended).
    pub async fn logout(&self, session: &Session) -> Option<String> {
        let ended = folio_app::users::end_session(&self.state, &hash_secret(&session.0))
            .await
            .map_err(failure)
            .ok()?;
        ended.then(|| format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"))
    }

    /// Whether the admin account `username` exists and has no password.
    pub async fn admin_without_password(&self, username: &str) -> DataResult<Option<Uuid>> {
        folio_app::users::admin_without_password(&self.state, username)
            .await
            .map_err(failure)
    }

    /// Sets a user's password (the set-up page's one change).
    pub async fn set_password(&self, user_id: Uuid, password: &str) -> DataResult<()> {
        let hash = new_password_hash(password)
            .map_err(|e| Failure::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        folio_app::users::set_password_hash(&self.state, user_id, Some(&hash))
            .await
            .map_err(failure)
    }

    // ---- libraries ----

    pub async fn libraries(&self, session: &Session) -> DataResult<Vec<Library>> {
        let user = self.user(session).await?;
        let list = folio_app::libraries::list(&self.state, &user)
            .await
            .map_err(failure)?;
        Ok(list.into_iter().map(Library::from).collect())
    }

    pub async fn library(&self, session: &Session, key: &str) -> DataResult<Library> {
        let user = self.user(session).await?;
        folio_app::libraries::get(&self.state, &user, key)
            .await
            .map(Library::from)
            .map_err(failure)
    }

    pub async fn create_library(
        &self,
        session: &Session,
        name: &str,
        library_type: &str,
    ) -> DataResult<Library> {
        let user = self.user(session).await?;
        let draft = LibraryDraft {
            name: name.to_owned(),
            library_type: library_type.to_owned(),
            ..LibraryDraft::default()
        };
        folio_app::libraries::create(&self.state, &user, draft)
            .await
            .map(Library::from)
            .map_err(failure)
    }

    /// Number of files and their total size (the library must have been
    /// read through [`Data::library`] first: this does not check rights).
    pub async fn file_totals(&self, library: &Library) -> DataResult<(i64, i64)> {
        folio_app::libraries::file_totals(&self.state, &library.record)
            .await
            .map_err(failure)
    }

    /// What `me` may do with a library it could read: the services' own
    /// rule, so a reader is shown no Connect or Sync.
    pub async fn access(&self, me: &Me, library: &Library) -> DataResult<Allowed> {
        let access = folio_app::access::access_to(&self.state, &me.user, &library.record)
            .await
            .map_err(failure)?;
        Ok(Allowed {
            sync: access.allows(Permission::Sync),
            write: access.allows(Permission::Write),
        })
    }

    pub async fn set_schedule(
        &self,
        session: &Session,
        key: &str,
        minutes: Option<u32>,
    ) -> DataResult<()> {
        let schedule = minutes.map(|interval_minutes| SyncSchedule { interval_minutes });
        let changes = LibraryChanges {
            sync_schedule: Some(schedule),
            ..LibraryChanges::default()
        };
        self.update_library(session, key, changes).await
    }

    pub async fn set_source(&self, session: &Session, key: &str, source: Value) -> DataResult<()> {
        let source: LibrarySource = serde_json::from_value(source)
            .map_err(|e| Failure::new(StatusCode::BAD_REQUEST, format!("source: {e}")))?;
        let changes = LibraryChanges {
            source: Some(source),
            ..LibraryChanges::default()
        };
        self.update_library(session, key, changes).await
    }

    async fn update_library(
        &self,
        session: &Session,
        key: &str,
        changes: LibraryChanges,
    ) -> DataResult<()> {
        let user = self.user(session).await?;
        folio_app::libraries::update(&self.state, &user, key, changes)
            .await
            .map(drop)
            .map_err(failure)
    }

    // ---- integrations and connections ----

    pub async fn integrations(&self, session: &Session) -> DataResult<Vec<Integration>> {
        let user = self.user(session).await?;
        let list = folio_app::integrations::list(&self.state, &user)
            .await
            .map_err(failure)?;
        list.into_iter()
            .map(|i| integration_view(i, None))
            .collect()
    }

    pub async fn integration(&self, session: &Session, id: Uuid) -> DataResult<Integration> {
        let user = self.user(session).await?;
        let integration = folio_app::integrations::get(&self.state, &user, id)
            .await
            .map_err(failure)?;
        integration_view(integration, None)
    }

    /// Registers an integration from the form's fields (the API's
    /// `POST /api/integrations` body).
    pub async fn create_integration(&self, session: &Session, body: Value) -> DataResult<Uuid> {
        let user = self.user(session).await?;
        let body: CreateIntegration = form_body(body)?;
        let draft = IntegrationDraft {
            integration_type: body.integration_type,
            name: body.name,
            client_id: body.client_id,
            client_secret: body.client_secret,
            auth_uri: body.auth_uri,
            token_uri: body.token_uri,
            scope: body.scope,
            api_uri: body.api_uri,
            tenant: body.tenant,
        };
        folio_app::integrations::create(&self.state, &user, draft)
            .await
            .map(|i| i.id)
            .map_err(failure)
    }

    /// Changes an integration from the form's fields (the API's
    /// `PATCH /api/integrations/{id}` body).
    pub async fn update_integration(
        &self,
        session: &Session,
        id: Uuid,
        body: Value,
    ) -> DataResult<()> {
        let user = self.user(session).await?;
        let body: PatchIntegration = form_body(body)?;
        let changes = IntegrationChanges {
            integration_type: body.integration_type,
            name: body.name,
            client_id: body.client_id,
            client_secret: body.client_secret,
            auth_uri: body.auth_uri,
            token_uri: body.token_uri,
            scope: body.scope,
            api_uri: body.api_uri,
            tenant: body.tenant,
        };
        folio_app::integrations::update(&self.state, &user, id, changes)
            .await
            .map(drop)
            .map_err(failure)
    }

    /// The provider's real addresses and least scopes for a type.
    pub fn provider_defaults(integration_type: &str) -> ProviderDefaults {
        let Ok(kind) = integration_type.parse::<folio_oauth::IntegrationType>() else {
            return ProviderDefaults::default();
        };
        match folio_oauth::Endpoints::resolve(kind, None, None, None, None, None) {
            Ok(e) => ProviderDefaults {
                auth_uri: e.auth_uri.to_string(),
                token_uri: e.token_uri.to_string(),
                api_uri: e.api_uri.to_string(),
                scope: e.scope,
                tenant: e.tenant,
            },
            Err(_) => ProviderDefaults::default(),
        }
    }

    /// The library's integration, if it has one.
    pub async fn library_integration(
        &self,
        session: &Session,
        key: &str,
    ) -> DataResult<Option<Integration>> {
        let user = self.user(session).await?;
        match folio_app::integrations::of_library(&self.state, &user, key).await {
            Ok((integration, library_id)) => {
                integration_view(integration, Some(library_id)).map(Some)
            }
            Err(err) => {
                let f = failure(err);
                if f.status == StatusCode::CONFLICT || f.is_not_found() {
                    // Not found also means "no such library": tell them apart.
                    self.library(session, key).await?;
                    Ok(None)
                } else {
                    Err(f)
                }
            }
        }
    }

    pub async fn choose_integration(
        &self,
        session: &Session,
        key: &str,
        integration_id: Uuid,
    ) -> DataResult<()> {
        let user = self.user(session).await?;
        folio_app::integrations::set_for_library(&self.state, &user, key, Some(integration_id))
            .await
            .map(drop)
            .map_err(failure)
    }

    pub async fn connection(&self, session: &Session, key: &str) -> DataResult<Option<Connection>> {
        let user = self.user(session).await?;
        match folio_app::connections::get(&self.state, &user, key).await {
            Ok(c) => Ok(Some(Connection {
                status: c.status,
                provider_account_id: c.provider_account_id,
                integration_id: c.integration_id,
            })),
            Err(err) => {
                let f = failure(err);
                if f.status == StatusCode::CONFLICT {
                    Ok(None)
                } else {
                    Err(f)
                }
            }
        }
    }

    /// The connected account, read live from the provider.
    pub async fn account(&self, session: &Session, key: &str) -> DataResult<Account> {
        let user = self.user(session).await?;
        let account = folio_app::connections::account(&self.state, &user, key)
            .await
            .map_err(failure)?;
        Ok(Account {
            email: account.email,
            display_name: account.display_name,
            account_id: account.account_id,
        })
    }

    /// The provider's consent page to send the browser to; the flow comes
    /// back to `return_to` (a path on Folio).
    pub async fn authorize_url(
        &self,
        session: &Session,
        key: &str,
        return_to: &str,
        switch_account: bool,
    ) -> DataResult<String> {
        let user = self.user(session).await?;
        let request = folio_app::connections::ConnectRequest {
            return_to: Some(return_to.to_owned()),
            switch_account,
            login_hint: None,
        };
        folio_app::connections::begin(&self.state, &user, key, request)
            .await
            .map(|url| url.to_string())
            .map_err(failure)
    }

    pub async fn disconnect(&self, session: &Session, key: &str) -> DataResult<()> {
        let user = self.user(session).await?;
        folio_app::connections::disconnect(&self.state, &user, key)
            .await
            .map(drop)
            .map_err(failure)
    }

    /// The remote folders under `parent` (the root: `None`).
    pub async fn folders(
        &self,
        session: &Session,
        key: &str,
        parent: Option<&str>,
    ) -> DataResult<Vec<Folder>> {
        let user = self.user(session).await?;
        let folders = folio_app::sync::folders(&self.state, &user, key, parent)
            .await
            .map_err(failure)?;
        Ok(folders
            .into_iter()
            .map(|f| Folder {
                id: f.id,
                name: f.name,
                source: serde_json::to_value(&f.source).unwrap_or(Value::Null),
            })
            .collect())
    }

    // ---- syncs ----

    /// Starts a sync in the background; its progress id once the run is
    /// under way (or the reason it could not start).
    pub async fn start_sync(
        &self,
        session: &Session,
        key: &str,
        purge: bool,
    ) -> DataResult<String> {
        let user = self.user(session).await?;
        let progress_id = format!("console-{}", Uuid::new_v4());
        let request = SyncRequest {
            purge,
            progress: Some(progress_id.clone()),
            ..SyncRequest::default()
        };
        // The whole run, as the API's `_sync` makes it, so that a library
        // another run holds says so rather than ending silently.
        let state = self.state.clone();
        let key = key.to_owned();
        let id = progress_id.clone();
        tokio::spawn(async move {
            if let Err(err) = folio_app::sync::run(&state, &user, &key, request).await {
                let failure = failure(err);
                tracing::info!(progress = %id, message = %failure.message, "a console sync failed");
                finished_with_failure(&id, failure);
            }
        });
        // Wait until the run exists (the page then follows it) or failed
        // before it began (the page then says why).
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(failure) = early_failure(&progress_id) {
                return Err(failure);
            }
            if self.progress(session, &progress_id).await?.is_some() {
                return Ok(progress_id);
            }
            if Instant::now() > deadline {
                return Ok(progress_id);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A run's progress, `None` while no run the viewer may read carries
    /// the id.
    pub async fn progress(&self, session: &Session, id: &str) -> DataResult<Option<Progress>> {
        let user = self.user(session).await?;
        let run = folio_app::sync::progress(&self.state, &user, id)
            .await
            .map_err(failure)?;
        Ok(run.map(|run| Progress {
            status: folio_app::sync::reported_status(&run).to_string(),
            total_known: run.total_known || run.status != RunStatus::Running,
            id: run.progress_id,
            phase: run.phase.to_string(),
            done: run.done,
            total: run.total,
            bytes: run.bytes,
            current: run.current_file,
            added: run.added_files,
            updated: run.updated_files,
            deleted: run.deleted_files,
            failed: run.failed_files,
        }))
    }

    /// Why a console sync ended before its run began, if it did.
    pub fn sync_failure(&self, id: &str) -> Option<Failure> {
        early_failure(id)
    }

    /// The library's latest runs, newest first (as many as the API lists).
    pub async fn runs(&self, session: &Session, key: &str) -> DataResult<Vec<Run>> {
        let user = self.user(session).await?;
        let runs = folio_app::sync::history(&self.state, &user, key, 100)
            .await
            .map_err(failure)?;
        runs.into_iter()
            .map(|run| as_view(crate::routes::sync::SyncRunBody::from(run)))
            .collect()
    }

    // ---- files ----

    pub async fn files(
        &self,
        session: &Session,
        key: &str,
        prefix: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> DataResult<FilePage> {
        let user = self.user(session).await?;
        let limit = page_limit(Some(limit)).map_err(api_failure)?;
        let after = cursor.map(decode_cursor).transpose().map_err(api_failure)?;
        let page = folio_app::files::list(&self.state, &user, key, prefix, after.as_deref(), limit)
            .await
            .map_err(failure)?;
        Ok(FilePage {
            items: page
                .items
                .into_iter()
                .map(|f| File {
                    path: f.path,
                    size: f.size,
                    modified_at: f.modified_at,
                })
                .collect(),
            next: page.next_after.as_deref().map(encode_cursor),
        })
    }

    /// A file's bytes as the API answers them (`Range` and `If-None-Match`
    /// honoured, headers included), streamed.
    pub async fn download(
        &self,
        session: &Session,
        key: &str,
        path: &str,
        request_headers: &HeaderMap,
    ) -> DataResult<Response> {
        let user = self.user(session).await?;
        let mut headers = HeaderMap::new();
        for name in [axum::http::header::RANGE, axum::http::header::IF_NONE_MATCH] {
            if let Some(value) = request_headers.get(&name) {
                headers.insert(name, value.clone());
            }
        }
        crate::routes::files::download_file(
            State(self.state.clone()),
            AuthUser(user),
            ApiPath((key.to_owned(), path.to_owned())),
            headers,
        )
        .await
        .map_err(|e| Failure::new(e.status(), "the file cannot be read"))
    }

    pub async fn upload(
        &self,
        session: &Session,
        key: &str,
        path: &str,
        bytes: bytes::Bytes,
    ) -> DataResult<()> {
        let user = self.user(session).await?;
        let upload = Upload {
            raw_path: path.to_owned(),
            declared_length: u64::try_from(bytes.len()).ok(),
            content_type: None,
            bytes: Box::pin(futures::stream::once(async move {
                Ok::<_, std::io::Error>(bytes)
            })),
        };
        folio_app::files::upload(&self.state, &user, key, upload)
            .await
            .map(drop)
            .map_err(failure)
    }

    pub async fn delete_file(&self, session: &Session, key: &str, path: &str) -> DataResult<()> {
        let user = self.user(session).await?;
        folio_app::files::delete(&self.state, &user, key, path)
            .await
            .map_err(failure)
    }

    // ---- shares ----

    pub async fn shares(&self, session: &Session, key: &str) -> DataResult<Vec<Share>> {
        let user = self.user(session).await?;
        let shares = folio_app::shares::list(&self.state, &user, key)
            .await
            .map_err(failure)?;
        Ok(shares
            .into_iter()
            .map(|s| Share {
                user_id: s.user_id,
                username: s.username,
                level: s.level.to_string(),
            })
            .collect())
    }

    pub async fn share(
        &self,
        session: &Session,
        key: &str,
        user: &str,
        level: &str,
    ) -> DataResult<()> {
        let caller = self.user(session).await?;
        folio_app::shares::put(&self.state, &caller, key, user, level)
            .await
            .map(drop)
            .map_err(failure)
    }

    pub async fn unshare(&self, session: &Session, key: &str, user: &str) -> DataResult<()> {
        let caller = self.user(session).await?;
        folio_app::shares::delete(&self.state, &caller, key, user)
            .await
            .map_err(failure)
    }

    /// The session's stored form, for the forms' CSRF token.
    pub fn session_digest(session: &Session) -> String {
        hash_secret(&format!("folio-console-form:{}", session.0))
    }
}

/// A service's failure with the API's status and message for it.
fn failure(err: AppError) -> Failure {
    api_failure(ApiError::from(err))
}

fn api_failure(err: ApiError) -> Failure {
    if let ApiError::Internal(e) = &err {
        tracing::error!(error = format!("{e:#}"), "a console call failed");
    }
    Failure::new(err.status(), err.to_string())
}

/// An integration as the API shows it: the endpoints it really uses (its
/// own or its provider's), never the secret.
fn integration_view(
    integration: folio_store::Integration,
    library_id: Option<Uuid>,
) -> DataResult<Integration> {
    as_view(IntegrationBody::new(integration, library_id))
}

/// The console's view of one of the API's answers, read from the answer
/// as the API would serialize it (one wording of runs and integrations).
fn as_view<T: DeserializeOwned>(body: impl serde::Serialize) -> DataResult<T> {
    serde_json::to_value(body)
        .and_then(serde_json::from_value)
        .map_err(|e| failure(AppError::internal(e)))
}

/// A form's fields as the API's request body type.
fn form_body<T: DeserializeOwned>(body: Value) -> DataResult<T> {
    serde_json::from_value(body)
        .map_err(|e| Failure::new(StatusCode::BAD_REQUEST, format!("invalid form: {e}")))
}

/// Console syncs that ended before their run began, by progress id (kept a
/// few minutes, so the page that started one can say why).
fn early_failures() -> &'static Mutex<HashMap<String, (Instant, Failure)>> {
    static FAILURES: OnceLock<Mutex<HashMap<String, (Instant, Failure)>>> = OnceLock::new();
    FAILURES.get_or_init(Mutex::default)
}

fn finished_with_failure(id: &str, failure: Failure) {
    let mut failures = early_failures().lock().unwrap_or_else(|p| p.into_inner());
    failures.retain(|_, (at, _)| at.elapsed() < Duration::from_secs(600));
    failures.insert(id.to_owned(), (Instant::now(), failure));
}

fn early_failure(id: &str) -> Option<Failure> {
    let failures = early_failures().lock().unwrap_or_else(|p| p.into_inner());
    failures.get(id).map(|(_, f)| f.clone())
}

/// One path segment, percent-encoded.
pub fn segment(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A library path with each segment encoded and the slashes kept.
pub fn file_path(path: &str) -> String {
    path.split('/').map(segment).collect::<Vec<_>>().join("/")
}
