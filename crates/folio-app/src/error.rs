//! [`AppError`]: how a service fails, by kind. Each front end words it:
//! `folio-server` maps every variant to an HTTP status and message (adding
//! the routes to follow), the CLI and the console their own way. Messages
//! here say what is wrong and never name an API route.

use folio_domain::ParseError;
use folio_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is malformed; the message names the field.
    #[error("{0}")]
    Invalid(String),
    /// A known caller who may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// Unknown, or a library the caller may not see.
    #[error("{0}")]
    NotFound(String),
    /// Conflicts with the current state (a name taken, a sync running).
    #[error("{0}")]
    Conflict(String),
    /// A body larger than allowed.
    #[error("{0}")]
    TooLarge(String),
    /// The library has no connection yet: connect it first.
    #[error("library '{library}' has no connection yet")]
    NoConnection { library: String },
    /// The library has no integration yet: an admin sets one first.
    #[error("library '{library}' has no integration yet")]
    NoIntegration { library: String },
    /// The library's connection is not active (`status`): reconnect it.
    #[error("the connection of library '{library}' is {status}")]
    ConnectionInactive { library: String, status: String },
    /// Another run holds the library; `progress_id` follows it.
    #[error("a sync of library '{library}' is already running")]
    SyncRunning {
        library: String,
        progress_id: String,
    },
    /// The provider refused the connection's grant: reconnect the library.
    #[error("{message}")]
    NeedsReauthorization { library: String, message: String },
    /// An authorization link (OAuth `state`) that is unknown, used or
    /// expired: start connecting again.
    #[error("{0}")]
    StaleAuthorization(String),
    /// The provider (or its OAuth server) refused; someone must act.
    #[error("{0}")]
    Refused(String),
    /// The provider failed or answered something unusable, after retries.
    #[error("{0}")]
    ProviderFailed(String),
    /// The provider did not answer in time, even after retries.
    #[error("{0}")]
    ProviderTimedOut(String),
    /// A transient condition; trying again may succeed.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unreachable dependency; details go to the log only.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    pub fn library_not_found(key: &str) -> Self {
        Self::NotFound(format!("library '{key}' not found"))
    }
}

impl From<ParseError> for AppError {
    fn from(err: ParseError) -> Self {
        Self::Invalid(err.to_string())
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => Self::NotFound(format!("{what} not found")),
            StoreError::Conflict(what) => Self::Conflict(format!("{what} already exists")),
            StoreError::BlobVanished(_) => Self::Unavailable(err.to_string()),
            other => Self::internal(other),
        }
    }
}

impl From<folio_blobs::BlobError> for AppError {
    fn from(err: folio_blobs::BlobError) -> Self {
        match err {
            folio_blobs::BlobError::TooLarge { limit } => Self::TooLarge(format!(
                "the body is larger than the limit of {limit} bytes"
            )),
            folio_blobs::BlobError::NotFound(hash) => {
                Self::internal(anyhow::anyhow!("blob {hash} is missing from storage"))
            }
            other => Self::internal(other),
        }
    }
}
