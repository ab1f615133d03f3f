//! [`ConnectorError`]: the one error vocabulary every provider's errors are
//! translated into (each provider once, in its `error.rs::parse_error`).
//! Retry logic looks only at [`ConnectorError::is_temporary`] and
//! [`ConnectorError::retry_after`].

use std::time::Duration;

/// What went wrong talking to a provider, in terms the sync engine acts on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectorError {
    /// The provider rejected the access token even after one refresh
    /// (HTTP 401 twice). Not temporary.
    #[error("the provider rejected the access token: {0}")]
    Unauthorized(String),
    /// The grant is gone (`invalid_grant`, revoked, or the token source says
    /// so): a user must reconnect. The API answers 422 "reconnect".
    #[error("the connection needs re-authorization: {0}")]
    NeedsReauthorization(String),
    /// The provider throttled us (429, Drive 403 `userRateLimitExceeded` /
    /// `rateLimitExceeded`, Dropbox `too_many_requests`). Temporary; wait
    /// `retry_after` when the provider said how long.
    #[error("rate limited by the provider{}: {message}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// The provider's `Retry-After` (seconds or HTTP date), if any.
        retry_after: Option<Duration>,
        /// What the provider said.
        message: String,
    },
    /// A transient failure: 5xx, a network error, a timeout. Temporary.
    #[error("temporary provider failure: {message}")]
    Temporary {
        /// What failed.
        message: String,
        /// A `Retry-After` sent with a 503, if any.
        retry_after: Option<Duration>,
    },
    /// The provider did not answer in time (a request timeout, HTTP 408 or
    /// 504). Temporary; after the retries the API answers 504.
    #[error("the provider timed out: {0}")]
    TimedOut(String),
    /// The change cursor was rejected (Graph 410 `resyncRequired`, Dropbox
    /// `reset`, Drive invalid page token): the engine must start a full
    /// listing (`list_changes(None)`) and reconcile. Not temporary.
    #[error("the change cursor was rejected by the provider: {0}")]
    CursorExpired(String),
    /// The item, folder, drive or site does not exist or is not visible.
    #[error("not found: {0}")]
    NotFound(String),
    /// This one file cannot be fetched (Drive `downloadQuotaExceeded`,
    /// `exportSizeLimitExceeded` after the exportLinks fallback,
    /// `cannotDownloadAbusiveFile`, `fileNotDownloadable`; Dropbox
    /// `restricted_content`, `unsupported_file`). Record it in the sync's
    /// `errors` and go on.
    #[error("this file cannot be downloaded: {reason}")]
    PerFile {
        /// Provider reason code and message.
        reason: String,
    },
    /// The downloaded bytes do not match the provider's hash. Retry the
    /// download, then report it per file.
    #[error("hash mismatch: expected {expected}, got {actual}")]
    HashMismatch {
        /// The provider's value.
        expected: String,
        /// What the bytes hashed to.
        actual: String,
    },
    /// Anything else the provider refused (bad request, forbidden, a
    /// malformed answer). Not temporary.
    #[error("provider error: {0}")]
    Permanent(String),
}

impl ConnectorError {
    /// True when the same request may succeed later: [`Self::RateLimited`]
    /// and [`Self::Temporary`]. The retry layer retries exactly these.
    pub fn is_temporary(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Temporary { .. } | Self::TimedOut(_)
        )
    }

    /// True when only a user can fix it by reconnecting
    /// ([`Self::NeedsReauthorization`], or [`Self::Unauthorized`] after the
    /// one refresh): stop the sync and answer 422 "reconnect".
    pub fn needs_reconnect(&self) -> bool {
        matches!(self, Self::NeedsReauthorization(_) | Self::Unauthorized(_))
    }

    /// How long the provider asked us to wait, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Temporary { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// A [`Self::Temporary`] without `Retry-After`.
    pub fn temporary(message: impl Into<String>) -> Self {
        Self::Temporary {
            message: message.into(),
            retry_after: None,
        }
    }

    /// Adds context in front of the message (keeps the kind).
    pub fn context(self, what: &str) -> Self {
        let pre = |m: String| format!("{what}: {m}");
        match self {
            Self::Unauthorized(m) => Self::Unauthorized(pre(m)),
            Self::NeedsReauthorization(m) => Self::NeedsReauthorization(pre(m)),
            Self::RateLimited {
                retry_after,
                message,
            } => Self::RateLimited {
                retry_after,
                message: pre(message),
            },
            Self::Temporary {
                message,
                retry_after,
            } => Self::Temporary {
                message: pre(message),
                retry_after,
            },
            Self::TimedOut(m) => Self::TimedOut(pre(m)),
            Self::CursorExpired(m) => Self::CursorExpired(pre(m)),
            Self::NotFound(m) => Self::NotFound(pre(m)),
            Self::PerFile { reason } => Self::PerFile {
                reason: pre(reason),
            },
            e @ Self::HashMismatch { .. } => e,
            Self::Permanent(m) => Self::Permanent(pre(m)),
        }
    }
}

impl From<reqwest::Error> for ConnectorError {
    /// Network errors, timeouts and broken bodies are temporary; a request
    /// that could not be built or decoded is permanent.
    fn from(e: reqwest::Error) -> Self {
        if e.is_builder() || e.is_decode() && !e.is_body() {
            Self::Permanent(format!("{e:#}"))
        } else if e.is_timeout() {
            Self::TimedOut(format!("{e}"))
        } else {
            Self::temporary(format!("{e}"))
        }
    }
}
