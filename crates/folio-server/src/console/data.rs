//! The console's one door to Folio's logic.
//!
//! Every page reads and changes things through [`Data`], and nowhere else.
//! Today most calls go to the JSON API in-process (a request handed to the
//! API router, never over the network) with the caller's session cookie, so
//! the console enforces exactly the API's rules: a library a stranger cannot
//! read is a 404 here too, a reader cannot sync. When the API's logic moves
//! into a service layer, this module is the only one that changes.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::Response;
use http_body_util::BodyExt;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

use crate::auth::{SESSION_COOKIE, hash_secret, new_password_hash};
use crate::state::AppState;

/// The console's handle on Folio: the API router (with its state) and the
/// application state.
#[derive(Clone)]
pub struct Data {
    api: Router,
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
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub id: Uuid,
    pub username: String,
    pub display_name: Option<String>,
    #[serde(rename = "admin")]
    pub is_admin: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Library {
    pub id: Uuid,
    pub natural_id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub library_type: String,
    pub owner_id: Uuid,
    #[serde(default)]
    pub source: Value,
    pub sync_schedule: Option<Schedule>,
}

/// What the viewer may do with a library beyond reading it.
#[derive(Debug, Clone, Copy)]
pub struct Allowed {
    pub sync: bool,
    pub write: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    pub interval_minutes: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    /// `active`, `needsReauthorization` or `revoked`.
    pub status: String,
    pub provider_account_id: String,
    pub integration_id: Uuid,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
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

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
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

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
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

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct File {
    pub path: String,
    pub size: i64,
    pub modified_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FilePage {
    pub items: Vec<File>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Share {
    pub user_id: Uuid,
    pub username: String,
    pub level: String,
}

#[derive(Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

/// The session cookie of the person a call is made for.
#[derive(Debug, Clone)]
pub struct Session(pub String);

impl Data {
    pub fn new(api: Router, state: AppState) -> Self {
        Self { api, state }
    }

    /// The application state (the set-up token lives there).
    pub fn app(&self) -> &AppState {
        &self.state
    }

    /// The redirect URI an integration registers with its provider.
    pub fn redirect_uri(&self) -> String {
        crate::routes::oauth::callback_url(&self.state)
    }

    /// Folio's public base URL.
    pub fn public_url(&self) -> &str {
        self.state.public_url()
    }

    // ---- requests to the API, in-process ----

    async fn send(
        &self,
        session: Option<&Session>,
        method: Method,
        uri: &str,
        content_type: Option<&str>,
        body: Body,
    ) -> DataResult<Response> {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(session) = session {
            request = request.header(header::COOKIE, format!("{SESSION_COOKIE}={}", session.0));
        }
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        let request = request
            .body(body)
            .map_err(|e| Failure::new(StatusCode::BAD_REQUEST, format!("bad request: {e}")))?;
        self.api
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
    }

    async fn call(
        &self,
        session: Option<&Session>,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> DataResult<(StatusCode, HeaderMap, Value)> {
        let (content_type, body) = match body {
            Some(value) => (Some("application/json"), Body::from(value.to_string())),
            None => (None, Body::empty()),
        };
        let response = self.send(session, method, uri, content_type, body).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| Failure::new(StatusCode::BAD_GATEWAY, e.to_string()))?
            .to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        if status.is_client_error() || status.is_server_error() {
            let message = value["message"]
                .as_str()
                .map_or_else(|| status.to_string(), str::to_owned);
            return Err(Failure::new(status, message));
        }
        Ok((status, headers, value))
    }

    async fn get<T: DeserializeOwned>(&self, session: &Session, uri: &str) -> DataResult<T> {
        let (_, _, value) = self.call(Some(session), Method::GET, uri, None).await?;
        decode(value)
    }

    async fn change(
        &self,
        session: &Session,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> DataResult<Value> {
        let (_, _, value) = self.call(Some(session), method, uri, body).await?;
        Ok(value)
    }

    // ---- people ----

    /// The person a session belongs to; `None` when it has ended.
    pub async fn me(&self, session: &Session) -> DataResult<Option<Me>> {
        match self.get(session, "/api/me").await {
            Ok(me) => Ok(Some(me)),
            Err(f) if f.status == StatusCode::UNAUTHORIZED => Ok(None),
            Err(f) => Err(f),
        }
    }

    /// Signs in; the `Set-Cookie` value of the new session.
    pub async fn login(&self, username: &str, password: &str) -> DataResult<String> {
        let body = json!({"username": username, "password": password});
        let (_, headers, _) = self
            .call(None, Method::POST, "/api/auth/login", Some(body))
            .await?;
        headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "no session cookie"))
    }

    /// Ends the session; the `Set-Cookie` value that clears it.
    pub async fn logout(&self, session: &Session) -> Option<String> {
        let response = self
            .send(
                Some(session),
                Method::POST,
                "/api/auth/logout",
                None,
                Body::empty(),
            )
            .await
            .ok()?;
        response
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Whether the admin account `username` exists and has no password.
    pub async fn admin_without_password(&self, username: &str) -> DataResult<Option<Uuid>> {
        let user = self
            .state
            .store
            .get_user_by_username(username)
            .await
            .map_err(store_failure)?;
        Ok(user
            .filter(|u| u.is_admin && u.password_hash.is_none())
            .map(|u| u.id))
    }

    /// Sets a user's password (the set-up page's one change).
    pub async fn set_password(&self, user_id: Uuid, password: &str) -> DataResult<()> {
        let hash = new_password_hash(password)
            .map_err(|e| Failure::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        self.state
            .store
            .set_password(user_id, Some(&hash))
            .await
            .map_err(store_failure)
    }

    // ---- libraries ----

    pub async fn libraries(&self, session: &Session) -> DataResult<Vec<Library>> {
        let list: Items<Library> = self.get(session, "/api/libraries").await?;
        Ok(list.items)
    }

    pub async fn library(&self, session: &Session, key: &str) -> DataResult<Library> {
        self.get(session, &format!("/api/libraries/{}", segment(key)))
            .await
    }

    pub async fn create_library(
        &self,
        session: &Session,
        name: &str,
        library_type: &str,
    ) -> DataResult<Library> {
        let body = json!({"name": name, "type": library_type});
        let value = self
            .change(session, Method::POST, "/api/libraries", Some(body))
            .await?;
        decode(value)
    }

    /// Number of files and their total size (the library must have been
    /// read through [`Data::library`] first: this does not check rights).
    pub async fn file_totals(&self, library: &Library) -> DataResult<(i64, i64)> {
        self.state
            .store
            .file_totals(library.id)
            .await
            .map_err(store_failure)
    }

    /// What `me` may do with a library it could read: the API's own rule
    /// (`folio_domain::Access`), so a reader is shown no Connect or Sync.
    pub async fn access(&self, me: &Me, library: &Library) -> DataResult<Allowed> {
        let is_owner = library.owner_id == me.id;
        let share = if is_owner || me.is_admin {
            None
        } else {
            self.state
                .store
                .share_level(library.id, me.id)
                .await
                .map_err(store_failure)?
                .and_then(|level| level.parse::<folio_domain::ShareLevel>().ok())
        };
        let access = folio_domain::Access::of(is_owner, me.is_admin, share);
        Ok(Allowed {
            sync: access.allows(folio_domain::Permission::Sync),
            write: access.allows(folio_domain::Permission::Write),
        })
    }

    pub async fn set_schedule(
        &self,
        session: &Session,
        key: &str,
        minutes: Option<u32>,
    ) -> DataResult<()> {
        let schedule = minutes.map(|m| json!({"intervalMinutes": m}));
        self.change(
            session,
            Method::PATCH,
            &format!("/api/libraries/{}", segment(key)),
            Some(json!({"syncSchedule": schedule})),
        )
        .await
        .map(drop)
    }

    pub async fn set_source(&self, session: &Session, key: &str, source: Value) -> DataResult<()> {
        self.change(
            session,
            Method::PATCH,
            &format!("/api/libraries/{}", segment(key)),
            Some(json!({"source": source})),
        )
        .await
        .map(drop)
    }

    // ---- integrations and connections ----

    pub async fn integrations(&self, session: &Session) -> DataResult<Vec<Integration>> {
        let list: Items<Integration> = self.get(session, "/api/integrations").await?;
        Ok(list.items)
    }

    pub async fn integration(&self, session: &Session, id: Uuid) -> DataResult<Integration> {
        self.get(session, &format!("/api/integrations/{id}")).await
    }

    pub async fn create_integration(&self, session: &Session, body: Value) -> DataResult<Uuid> {
        let value = self
            .change(session, Method::POST, "/api/integrations", Some(body))
            .await?;
        let created: Integration = decode(value)?;
        Ok(created.id)
    }

    pub async fn update_integration(
        &self,
        session: &Session,
        id: Uuid,
        body: Value,
    ) -> DataResult<()> {
        self.change(
            session,
            Method::PATCH,
            &format!("/api/integrations/{id}"),
            Some(body),
        )
        .await
        .map(drop)
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
        let uri = format!("/api/libraries/{}/integration", segment(key));
        match self.get(session, &uri).await {
            Ok(integration) => Ok(Some(integration)),
            Err(f) if f.status == StatusCode::CONFLICT || f.is_not_found() => {
                // 404 also means "no such library": tell them apart.
                self.library(session, key).await?;
                Ok(None)
            }
            Err(f) => Err(f),
        }
    }

    pub async fn choose_integration(
        &self,
        session: &Session,
        key: &str,
        integration_id: Uuid,
    ) -> DataResult<()> {
        self.change(
            session,
            Method::PUT,
            &format!("/api/libraries/{}/integration", segment(key)),
            Some(json!({"integrationId": integration_id})),
        )
        .await
        .map(drop)
    }

    pub async fn connection(&self, session: &Session, key: &str) -> DataResult<Option<Connection>> {
        let uri = format!("/api/libraries/{}/connection", segment(key));
        match self.get(session, &uri).await {
            Ok(connection) => Ok(Some(connection)),
            Err(f) if f.status == StatusCode::CONFLICT => Ok(None),
            Err(f) => Err(f),
        }
    }

    /// The connected account, read live from the provider.
    pub async fn account(&self, session: &Session, key: &str) -> DataResult<Account> {
        self.get(session, &format!("/api/libraries/{}/account", segment(key)))
            .await
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
        // (The serializer is not `Send`: it must not live across an await.)
        let query = {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("returnTo", return_to);
            if switch_account {
                query.append_pair("switchAccount", "true");
            }
            query.finish()
        };
        let uri = format!(
            "/api/libraries/{}/connection/authorize?{query}",
            segment(key),
        );
        let (_, headers, _) = self.call(Some(session), Method::GET, &uri, None).await?;
        headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| Failure::new(StatusCode::BAD_GATEWAY, "no consent page address"))
    }

    pub async fn disconnect(&self, session: &Session, key: &str) -> DataResult<()> {
        self.change(
            session,
            Method::DELETE,
            &format!("/api/libraries/{}/connection", segment(key)),
            None,
        )
        .await
        .map(drop)
    }

    /// The remote folders under `parent` (the root: `None`).
    pub async fn folders(
        &self,
        session: &Session,
        key: &str,
        parent: Option<&str>,
    ) -> DataResult<Vec<Folder>> {
        let mut uri = format!("/api/libraries/{}/connection/folders", segment(key));
        if let Some(parent) = parent {
            uri.push_str("?parent=");
            uri.push_str(&query_value(parent));
        }
        let list: Items<Folder> = self.get(session, &uri).await?;
        Ok(list.items)
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
        let progress_id = format!("console-{}", Uuid::new_v4());
        let data = self.clone();
        let session_for_run = session.clone();
        let uri = format!("/api/libraries/{}/_sync", segment(key));
        let body = json!({"purge": purge, "progress": progress_id});
        let id = progress_id.clone();
        tokio::spawn(async move {
            let outcome = data
                .change(&session_for_run, Method::POST, &uri, Some(body))
                .await;
            if let Err(failure) = outcome {
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

    /// A run's progress, `None` while no run carries the id.
    pub async fn progress(&self, session: &Session, id: &str) -> DataResult<Option<Progress>> {
        match self
            .get(session, &format!("/api/progress/{}", segment(id)))
            .await
        {
            Ok(progress) => Ok(Some(progress)),
            Err(f) if f.is_not_found() => Ok(None),
            Err(f) => Err(f),
        }
    }

    /// Why a console sync ended before its run began, if it did.
    pub fn sync_failure(&self, id: &str) -> Option<Failure> {
        early_failure(id)
    }

    pub async fn runs(&self, session: &Session, key: &str) -> DataResult<Vec<Run>> {
        let list: Items<Run> = self
            .get(session, &format!("/api/libraries/{}/syncs", segment(key)))
            .await?;
        Ok(list.items)
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
        let query = {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("prefix", prefix);
            query.append_pair("limit", &limit.to_string());
            if let Some(cursor) = cursor {
                query.append_pair("cursor", cursor);
            }
            query.finish()
        };
        self.get(
            session,
            &format!("/api/libraries/{}/files?{query}", segment(key)),
        )
        .await
    }

    /// A file's bytes as the API answers them (headers included), passed
    /// through as they stream.
    pub async fn download(
        &self,
        session: &Session,
        key: &str,
        path: &str,
        request_headers: &HeaderMap,
    ) -> DataResult<Response> {
        let uri = format!("/api/libraries/{}/files/{}", segment(key), file_path(path));
        let mut request = Request::builder()
            .method(Method::GET)
            .uri(uri)
            .header(header::COOKIE, format!("{SESSION_COOKIE}={}", session.0));
        for name in [header::RANGE, header::IF_NONE_MATCH] {
            if let Some(value) = request_headers.get(&name) {
                request = request.header(name, value);
            }
        }
        let request = request
            .body(Body::empty())
            .map_err(|e| Failure::new(StatusCode::BAD_REQUEST, e.to_string()))?;
        let response = self
            .api
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        if response.status().is_client_error() {
            return Err(Failure::new(response.status(), "the file cannot be read"));
        }
        Ok(response)
    }

    pub async fn upload(
        &self,
        session: &Session,
        key: &str,
        path: &str,
        bytes: bytes::Bytes,
    ) -> DataResult<()> {
        let uri = format!("/api/libraries/{}/files/{}", segment(key), file_path(path));
        let response = self
            .send(
                Some(session),
                Method::PUT,
                &uri,
                Some("application/octet-stream"),
                Body::from(bytes),
            )
            .await?;
        failure_of(response).await
    }

    pub async fn delete_file(&self, session: &Session, key: &str, path: &str) -> DataResult<()> {
        let uri = format!("/api/libraries/{}/files/{}", segment(key), file_path(path));
        self.change(session, Method::DELETE, &uri, None)
            .await
            .map(drop)
    }

    // ---- shares ----

    pub async fn shares(&self, session: &Session, key: &str) -> DataResult<Vec<Share>> {
        let list: Items<Share> = self
            .get(session, &format!("/api/libraries/{}/shares", segment(key)))
            .await?;
        Ok(list.items)
    }

    pub async fn share(
        &self,
        session: &Session,
        key: &str,
        user: &str,
        level: &str,
    ) -> DataResult<()> {
        self.change(
            session,
            Method::PUT,
            &format!("/api/libraries/{}/shares/{}", segment(key), segment(user)),
            Some(json!({"level": level})),
        )
        .await
        .map(drop)
    }

    pub async fn unshare(&self, session: &Session, key: &str, user: &str) -> DataResult<()> {
        self.change(
            session,
            Method::DELETE,
            &format!("/api/libraries/{}/shares/{}", segment(key), segment(user)),
            None,
        )
        .await
        .map(drop)
    }

    /// The session's stored form, for the forms' CSRF token.
    pub fn session_digest(session: &Session) -> String {
        hash_secret(&format!("folio-console-form:{}", session.0))
    }
}

fn decode<T: DeserializeOwned>(value: Value) -> DataResult<T> {
    serde_json::from_value(value).map_err(|e| {
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("unexpected answer: {e}"),
        )
    })
}

fn store_failure(err: folio_store::StoreError) -> Failure {
    tracing::error!(error = %err, "the console could not reach the store");
    Failure::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the database did not answer; try again",
    )
}

async fn failure_of(response: Response) -> DataResult<()> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let message = value["message"]
        .as_str()
        .map_or_else(|| status.to_string(), str::to_owned);
    Err(Failure::new(status, message))
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

/// A query value, percent-encoded.
fn query_value(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

/// A library path with each segment encoded and the slashes kept.
pub fn file_path(path: &str) -> String {
    path.split('/').map(segment).collect::<Vec<_>>().join("/")
}
