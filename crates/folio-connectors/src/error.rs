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

    /// True when the provider asked us to slow down: [`Self::RateLimited`],
    /// or a [`Self::Temporary`] failure that came with `Retry-After` (a
    /// 503 from a throttling service). The pacer slows the connection down
    /// on these, and the retry layer gives them a budget of their own.
    pub fn is_throttle(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. }
                | Self::Temporary {
                    retry_after: Some(_),
                    ..
                }
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
    /// that could not be built or decoded is permanent. The message names
    /// the address the request went to and the whole cause (see
    /// [`describe_request_error`]).
    fn from(e: reqwest::Error) -> Self {
        let message = describe_request_error(e.url(), &e);
        if e.is_builder() || e.is_decode() && !e.is_body() {
            Self::Permanent(message)
        } else if e.is_timeout() {
            Self::TimedOut(message)
        } else {
            Self::temporary(message)
        }
    }
}

/// A request error in words that say what failed: the origin the request
/// went to (never its path or query, which may hold a pre-authenticated
/// download token) and every cause in the error's source chain, where the
/// real reason is (`Connection refused`, a DNS failure, `invalid peer
/// certificate: UnknownIssuer`).
pub fn describe_request_error(url: Option<&url::Url>, e: &dyn std::error::Error) -> String {
    let chain = cause_chain(e);
    match url {
        Some(url) => format!("{}: {chain}", url.origin().ascii_serialization()),
        None => chain,
    }
}

/// An error and its sources, joined by `: `; a source whose text the
/// message before it already holds is left out. reqwest's own text for a
/// request is dropped of its URL (`for url (...)`), which may hold a
/// token, at every level of the chain (a reqwest error may sit under a
/// storage or an anyhow error): the callers say where instead.
pub fn cause_chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![without_url(&e.to_string())];
    let mut source = e.source();
    while let Some(cause) = source {
        let text = without_url(&cause.to_string());
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

fn without_url(text: &str) -> String {
    match text.find(" for url (") {
        Some(at) => text[..at].to_owned(),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);
    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    #[test]
    fn the_cause_chain_names_every_cause_once_and_no_url() {
        let refused = Layer(
            "error sending request for url (http://h:1/drive/v3/files?pageToken=x)",
            Some(Box::new(Layer(
                "client error (Connect)",
                Some(Box::new(Layer(
                    "tcp connect error",
                    Some(Box::new(Layer("Connection refused (os error 111)", None))),
                ))),
            ))),
        );
        assert_eq!(
            cause_chain(&refused),
            "error sending request: client error (Connect): tcp connect error: Connection refused (os error 111)"
        );
        let url = url::Url::parse("http://127.0.0.1:1/download/secret-token?x=1").unwrap();
        let said = describe_request_error(Some(&url), &refused);
        assert!(
            said.starts_with("http://127.0.0.1:1: error sending request"),
            "{said}"
        );
        assert!(
            !said.contains("secret-token") && !said.contains("pageToken"),
            "{said}"
        );
        let repeated = Layer(
            "tls: UnknownIssuer",
            Some(Box::new(Layer("UnknownIssuer", None))),
        );
        assert_eq!(cause_chain(&repeated), "tls: UnknownIssuer");
        let nested = Layer(
            "storing the download",
            Some(Box::new(Layer(
                "error decoding response body for url (https://h/download?tempauth=secret-token)",
                None,
            ))),
        );
        assert_eq!(
            cause_chain(&nested),
            "storing the download: error decoding response body"
        );
    }
}
