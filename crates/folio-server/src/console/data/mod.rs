//! The console's one door to Folio's logic.
//!
//! Every page reads and changes things through [`Data`], and nowhere else.
//! Each call resolves the person's session to their user and makes the
//! same application-service call (`folio_app`) the JSON API's route makes,
//! so the console enforces exactly the API's rules: a library a stranger
//! cannot read is a 404 here too, a reader cannot sync. Failures are
//! worded as the API words them (its status and message).
//!
//! One module per concern, each adding its calls to [`Data`]: [`people`]
//! (signing in and out), [`libraries`] (with shares), [`connections`]
//! (integrations, connecting, the provider's folders), [`syncs`],
//! [`files`]; [`views`] holds what the calls answer.

mod connections;
mod files;
mod libraries;
mod people;
mod syncs;
mod views;

use axum::http::StatusCode;
use folio_app::AppError;
use serde::de::DeserializeOwned;

use crate::auth::hash_secret;
use crate::error::ApiError;
use crate::state::AppState;

pub use views::{
    Account, Allowed, Connection, File, FilePage, Folder, Integration, Library, Me, Progress,
    ProviderDefaults, Run, RunError, Schedule, Share,
};

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

/// The console's view of one of the API's answers, read from the answer
/// as the API would serialize it (one wording of runs and integrations).
fn as_view<T: DeserializeOwned>(body: impl serde::Serialize) -> DataResult<T> {
    serde_json::to_value(body)
        .and_then(serde_json::from_value)
        .map_err(|e| failure(AppError::internal(e)))
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
