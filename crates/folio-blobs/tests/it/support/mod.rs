//! What the behaviour suite needs: a store per backend and test, and
//! generated bodies. `tests/it` and `tests/memory.rs` each use a part of it.
#![allow(dead_code)]

use std::io::Write as _;

use bytes::Bytes;
use folio_blobs::{BlobConfig, BlobStore, ByteStream};
use futures::{StreamExt, TryStreamExt, stream};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// The environment variable that turns the S3 suite on.
pub const S3_URL_VAR: &str = "FOLIO_TEST_S3_URL";

/// Which backend a harness runs on; tests gate backend-specific checks on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Fs,
    S3,
}

/// A fresh, empty store for one test.
pub struct Harness {
    pub store: BlobStore,
    pub backend: Backend,
    config: BlobConfig,
    _dir: Option<TempDir>,
}

impl Harness {
    /// A store in a new temporary directory (under a missing subfolder, so
    /// that `open` has to create it).
    pub async fn fs() -> Harness {
        let dir = tempfile::tempdir().expect("create a temp dir");
        let config = BlobConfig::Fs {
            root: dir.path().join("nested/blobs"),
        };
        let store = BlobStore::open(&config).await.expect("open the Fs store");
        Harness {
            store,
            backend: Backend::Fs,
            config,
            _dir: Some(dir),
        }
    }

    /// A store under a random prefix of the bucket named by
    /// `FOLIO_TEST_S3_URL`, or `None` (and a loud line on stderr) when the
    /// variable is not set.
    pub async fn s3(test: &str) -> Option<Harness> {
        let Some(url) = std::env::var(S3_URL_VAR).ok().filter(|v| !v.is_empty()) else {
            say_s3_not_run(test);
            return None;
        };
        let config = with_unique_prefix(
            BlobConfig::parse_url(&url).expect("parse FOLIO_TEST_S3_URL"),
            test,
        );
        let store = BlobStore::open(&config).await.expect("open the S3 store");
        Some(Harness {
            store,
            backend: Backend::S3,
            config,
            _dir: None,
        })
    }

    /// Writes `bytes` at `key` of the store's storage directly, bypassing
    /// the store: what a process killed half-way may leave behind.
    pub async fn write_raw(&self, key: &str, bytes: &'static [u8]) {
        raw_operator(&self.config)
            .write(key, bytes)
            .await
            .expect("write to the storage directly");
    }
}

impl Harness {
    /// Where the store keeps the blob `hash` (the layouts docs/conventions.md and
    /// `src/key.rs` describe): `blobs/ab/<hash>` in a directory,
    /// `blobs/ab/cd/<hash>` in a bucket.
    pub fn blob_key(&self, hash: &str) -> String {
        match self.backend {
            Backend::Fs => format!("blobs/{}/{hash}", &hash[..2]),
            Backend::S3 => format!("blobs/{}/{}/{hash}", &hash[..2], &hash[2..4]),
        }
    }
}

/// A plain OpenDAL operator on the same storage as `config`.
fn raw_operator(config: &BlobConfig) -> opendal::Operator {
    let built = match config {
        BlobConfig::Fs { root } => {
            opendal::Operator::new(opendal::services::Fs::default().root(&root.to_string_lossy()))
        }
        BlobConfig::S3 {
            endpoint,
            bucket,
            region,
            prefix,
            access_key_id,
            secret_access_key,
        } => {
            let mut builder = opendal::services::S3::default()
                .bucket(bucket)
                .region(region)
                .root(&format!("/{prefix}"));
            if let Some(endpoint) = endpoint {
                builder = builder.endpoint(endpoint);
            }
            if let (Some(key), Some(secret)) = (access_key_id, secret_access_key) {
                builder = builder.access_key_id(key).secret_access_key(secret);
            }
            opendal::Operator::new(builder)
        }
    };
    built.expect("build a raw operator")
}

/// Says loudly that an S3 test did not run. Written to stderr directly so
/// that libtest's output capture cannot hide it.
pub fn say_s3_not_run(test: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "S3 suite NOT RUN: set {S3_URL_VAR} (skipped s3::{test}; see .ci/s3-server.sh)"
    );
}

fn with_unique_prefix(config: BlobConfig, test: &str) -> BlobConfig {
    match config {
        BlobConfig::S3 {
            endpoint,
            bucket,
            region,
            prefix,
            access_key_id,
            secret_access_key,
        } => BlobConfig::S3 {
            endpoint,
            bucket,
            region,
            prefix: format!("{prefix}/folio-blobs-test/{test}-{}", uuid::Uuid::new_v4())
                .trim_start_matches('/')
                .to_owned(),
            access_key_id,
            secret_access_key,
        },
        other => panic!("{S3_URL_VAR} must be an s3:// URL, got {other:?}"),
    }
}

/// A body made of the given chunks.
pub fn body_of(chunks: &[&[u8]]) -> ByteStream {
    let chunks: Vec<std::io::Result<Bytes>> = chunks
        .iter()
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    stream::iter(chunks).boxed()
}

/// A generated body of `total` pseudo-random bytes in chunks of `chunk`
/// bytes, produced lazily (never held in memory as a whole).
pub fn generated_body(seed: u64, total: usize, chunk: usize) -> ByteStream {
    stream::iter(chunk_lengths(total, chunk).enumerate())
        .map(move |(i, len)| Ok(Bytes::from(generated_chunk(seed, i, len))))
        .boxed()
}

/// The hash of what `generated_body` yields, computed the same lazy way.
pub fn generated_hash(seed: u64, total: usize, chunk: usize) -> String {
    let mut hasher = Sha256::new();
    for (i, len) in chunk_lengths(total, chunk).enumerate() {
        hasher.update(generated_chunk(seed, i, len));
    }
    hex::encode(hasher.finalize())
}

fn chunk_lengths(total: usize, chunk: usize) -> impl Iterator<Item = usize> {
    (0..total)
        .step_by(chunk)
        .map(move |start| chunk.min(total - start))
}

fn generated_chunk(seed: u64, index: usize, len: usize) -> Vec<u8> {
    // xorshift64*: cheap, deterministic, and not compressible by accident.
    let mut state = seed ^ (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// Reads a whole stream into memory (small blobs only).
pub async fn read_all(stream: ByteStream) -> Vec<u8> {
    let chunks: Vec<Bytes> = stream.try_collect().await.expect("read the blob stream");
    chunks.concat()
}

/// Hashes a stream chunk by chunk; returns the hash and the byte count.
pub async fn hash_stream(mut stream: ByteStream) -> (String, u64) {
    let mut hasher = Sha256::new();
    let mut size = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("read the blob stream");
        size += chunk.len() as u64;
        hasher.update(&chunk);
    }
    (hex::encode(hasher.finalize()), size)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
