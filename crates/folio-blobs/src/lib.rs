//! Folio's file bytes: a content-addressed blob store over OpenDAL, in a local
//! directory (the embedded default) or an S3 bucket (several replicas).
//!
//! Reading order:
//!
//! 1. this file: the shared types [`ByteStream`] and [`StoredBlob`];
//! 2. [`config`], with [`BlobConfig`] and the storage URL formats;
//! 3. `store.rs`: [`BlobStore`] — open, get, size, stat, exists, delete,
//!    listing (streamed, with modification times, for garbage collection);
//! 4. `put.rs`: the streaming write (staging, hashing, size limit, promotion),
//!    and `pending.rs`, the batched writes of small unsynced puts;
//! 5. `key.rs`: hash validation and the key layout (`blobs/ab/<hash>` in
//!    a directory, `blobs/ab/cd/<hash>` in a bucket, `staging/<uuid>`),
//!    and `migrate.rs`, which moves a directory from the old two-level
//!    layout; `probe.rs`, the readiness probe under the reserved
//!    `probes/` prefix;
//! 6. `backend.rs`: how a config becomes an OpenDAL operator, and the layers;
//! 7. [`error`], with [`BlobError`].
//!
//! The behaviour suite in `tests/it/behaviour.rs` runs the same tests against
//! every backend.

mod backend;
pub mod config;
pub mod error;
mod key;
mod migrate;
mod pending;
mod probe;
mod put;
mod store;

pub use config::BlobConfig;
pub use error::BlobError;
pub use probe::{ProbeError, ProbeStep};
pub use store::{BlobInfo, BlobStore};

/// A stream of bytes in chunks, as bodies are passed in and read out.
pub type ByteStream = futures::stream::BoxStream<'static, std::io::Result<bytes::Bytes>>;

/// What [`BlobStore::put`] stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlob {
    /// Lowercase hex SHA-256 of the bytes: the blob's name.
    pub hash: String,
    /// Size of the blob in bytes.
    pub size: u64,
}
