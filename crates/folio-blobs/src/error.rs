//! The one error type of the crate, and the single place where OpenDAL errors
//! are translated into it.

use std::ops::Range;

/// Everything that can go wrong while storing or reading blobs.
#[derive(thiserror::Error, Debug)]
pub enum BlobError {
    /// No blob is stored under this hash.
    #[error("blob {0} not found")]
    NotFound(String),

    /// The body carried more than `limit` bytes; nothing was stored.
    #[error("blob is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit the caller passed to `put`.
        limit: u64,
    },

    /// The string is not a blob hash (64 lowercase hex characters).
    #[error("invalid blob hash {0:?}: expected 64 lowercase hex characters")]
    InvalidHash(String),

    /// A range read asked for a range that starts past the end of the blob
    /// or ends before it starts.
    #[error("invalid range {}..{} for blob {hash} of {size} bytes", range.start, range.end)]
    InvalidRange {
        /// The blob that was read.
        hash: String,
        /// The range the caller asked for.
        range: Range<u64>,
        /// The blob's size in bytes.
        size: u64,
    },

    /// The storage configuration is unusable; the message says what to fix.
    #[error("invalid blob storage configuration: {0}")]
    Config(String),

    /// The caller's body stream failed while it was being stored; nothing was
    /// stored.
    #[error("reading the blob body failed")]
    Body(#[source] std::io::Error),

    /// The storage backend failed while doing `action`.
    #[error("blob storage failed to {action}")]
    Backend {
        /// What the store was doing, with the key involved.
        action: String,
        /// The backend's error.
        #[source]
        source: opendal::Error,
    },
}

impl BlobError {
    /// True when retrying the same call may succeed (a network error, a 5xx, a
    /// rate limit from the backend, or a failing body stream).
    pub fn is_temporary(&self) -> bool {
        match self {
            BlobError::Backend { source, .. } => source.is_temporary(),
            BlobError::Body(_) => true,
            _ => false,
        }
    }
}

/// Adds context to an OpenDAL result: `op.stat(&key).await.backend(|| ...)`.
pub(crate) trait BackendContext<T> {
    fn backend(self, action: impl FnOnce() -> String) -> Result<T, BlobError>;
}

impl<T> BackendContext<T> for opendal::Result<T> {
    fn backend(self, action: impl FnOnce() -> String) -> Result<T, BlobError> {
        self.map_err(|source| BlobError::Backend {
            action: action(),
            source,
        })
    }
}

impl<T> BackendContext<T> for std::io::Result<T> {
    /// Local-file I/O done beside OpenDAL (the Fs fast path) reported like
    /// the backend's own failures.
    fn backend(self, action: impl FnOnce() -> String) -> Result<T, BlobError> {
        self.map_err(|e| BlobError::Backend {
            action: action(),
            source: opendal::Error::new(opendal::ErrorKind::Unexpected, e.to_string())
                .set_source(e),
        })
    }
}
