//! Streaming, content-addressed writes.
//!
//! A put streams the body into `staging/<uuid>` while hashing it, then moves
//! the staged object to `blobs/ab/cd/<hash>`. The move is a rename where the
//! backend can rename (Fs: atomic), else a copy then a delete (S3: CopyObject
//! is atomic). So a blob key only ever names a whole blob, and on any failure
//! the staging object is removed before the error is returned. One
//! exception, for a sync's small files on Fs: a key that does not exist yet
//! is written in place, without staging (`pending.rs`, `write_gathered`); until the put
//! returns it may name part of a blob, and a crash can leave it so, but no
//! file row ever names it then (see `pending.rs`, `write_gathered`).
//!
//! Durability: [`BlobStore::put`] returns once the blob is on stable storage
//! (OpenDAL's Fs writer fsyncs every file). A caller storing many blobs
//! before one database commit (the sync engine, a page at a time) uses
//! [`BlobStore::put_observed_unsynced`] and then one
//! [`BlobStore::sync_written`] before its commit: on Fs the staging file is
//! written without an fsync and the whole filesystem is flushed once with
//! `syncfs(2)` (one journal commit for the page instead of one per file,
//! the same idea as git's batched fsync); a small body is even queued and
//! written in a batch with others (`pending.rs`), so until
//! [`BlobStore::finish_unsynced`] (which `sync_written` runs first) it may
//! not be readable. On S3 a completed upload is durable already and both
//! behave as `put`.
//!
//! Bytes that are already stored are moved over the existing blob all the
//! same (the same bytes replace the same bytes; the in-place write stages
//! them too when the key exists), so a blob's modification time is always
//! that of its latest put. Garbage collection relies on it:
//! a blob that no file uses yet is spared while it is younger than the grace
//! period, and a put that reuses an old orphan makes it young again.

use std::path::Path;

use bytes::Bytes;
use futures::StreamExt;
use opendal::options::WriteOptions;
use opendal::{ErrorKind, Writer};
use sha2::{Digest, Sha256};

use crate::error::BackendContext;
use crate::key::{Layout, new_staging_key};
use crate::pending::{Gathered, move_into_place};
use crate::{BlobError, BlobStore, ByteStream, StoredBlob};

/// When a put's bytes reach stable storage.
#[derive(Clone, Copy)]
enum Durability {
    /// Before the put returns.
    EachPut,
    /// At the next [`BlobStore::sync_written`] (Fs; S3 is durable at once).
    Deferred,
}

/// How many chunks (S3 multipart parts) may upload at once. A chunk is the
/// service's minimum part size (5 MiB on S3); Fs writes straight through.
const CONCURRENT_CHUNKS: usize = 2;

impl BlobStore {
    /// Stores the bytes of `body` and returns their hash and size.
    ///
    /// The body is streamed: memory stays bounded by a few chunks whatever
    /// the size. The blob becomes visible under its hash only once whole.
    /// Storing bytes that are already stored succeeds and keeps one copy, also
    /// when several puts of the same bytes race.
    ///
    /// # Errors
    ///
    /// - [`BlobError::TooLarge`] as soon as more than `max_bytes` arrive;
    /// - [`BlobError::Body`] when `body` yields an error;
    /// - [`BlobError::Backend`] when storage fails.
    ///
    /// On every error nothing is left behind: no blob, no staging object.
    pub async fn put(
        &self,
        body: ByteStream,
        max_bytes: Option<u64>,
    ) -> Result<StoredBlob, BlobError> {
        self.put_observed(body, max_bytes, &mut |_| {}).await
    }

    /// Like [`BlobStore::put`], and also calls `observe` with every chunk of
    /// the body, in order, before the chunk is stored. The sync engine uses it
    /// to check a provider's own hash (md5, quickXorHash...) in the same pass.
    /// A chunk past `max_bytes` is not observed.
    ///
    /// # Errors
    ///
    /// As [`BlobStore::put`].
    pub async fn put_observed(
        &self,
        body: ByteStream,
        max_bytes: Option<u64>,
        observe: &mut (dyn FnMut(&[u8]) + Send),
    ) -> Result<StoredBlob, BlobError> {
        self.put_staged(body, max_bytes, observe, Durability::EachPut)
            .await
    }

    /// Like [`BlobStore::put_observed`], but on Fs the bytes may still sit in
    /// the page cache when it returns: call [`BlobStore::sync_written`]
    /// before committing anything that points at the blob.
    ///
    /// # Errors
    ///
    /// As [`BlobStore::put`].
    pub async fn put_observed_unsynced(
        &self,
        body: ByteStream,
        max_bytes: Option<u64>,
        observe: &mut (dyn FnMut(&[u8]) + Send),
    ) -> Result<StoredBlob, BlobError> {
        self.put_staged(body, max_bytes, observe, Durability::Deferred)
            .await
    }

    /// Stages `body`, then promotes it; on any error the staging object is
    /// removed.
    async fn put_staged(
        &self,
        body: ByteStream,
        max_bytes: Option<u64>,
        observe: &mut (dyn FnMut(&[u8]) + Send),
        durability: Durability,
    ) -> Result<StoredBlob, BlobError> {
        let staging = new_staging_key();
        let result = async {
            if let (Some(root), Durability::Deferred) = (&self.inner.fs_root, durability) {
                return self
                    .put_file_unsynced(root, &staging, body, max_bytes, observe)
                    .await;
            }
            let blob = self.stage(&staging, body, max_bytes, observe).await?;
            self.promote(&staging, &blob).await?;
            Ok(blob)
        }
        .await;
        if result.is_err() {
            self.discard_staging(&staging).await;
        }
        result
    }

    /// Makes every blob written so far durable: on Fs the small unsynced
    /// puts still queued are written ([`BlobStore::finish_unsynced`]), then
    /// one `syncfs(2)` flushes the store's filesystem (elsewhere than
    /// Linux, `sync(2)`); nothing to do on S3.
    ///
    /// # Errors
    ///
    /// [`BlobError::Backend`] when a queued write failed or the filesystem
    /// reports a write error.
    pub async fn sync_written(&self) -> Result<(), BlobError> {
        let Some(root) = self.inner.fs_root.clone() else {
            return Ok(());
        };
        self.finish_unsynced().await?;
        let action = || format!("flush the blob directory {}", root.display());
        tokio::task::spawn_blocking({
            let root = root.clone();
            move || sync_filesystem(&root)
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r)
        .backend(action)
    }

    /// Writes the small unsynced puts still queued (see `pending.rs`) and
    /// waits for those being written, without flushing them to stable
    /// storage: afterwards every blob an unsynced put returned can be read
    /// (or deleted for good). Nothing to do on S3.
    ///
    /// # Errors
    ///
    /// [`BlobError::Backend`] with the first write that failed.
    pub async fn finish_unsynced(&self) -> Result<(), BlobError> {
        let Some(root) = self.inner.fs_root.as_ref() else {
            return Ok(());
        };
        self.inner
            .pending
            .drain()
            .await
            .backend(|| format!("write queued blobs under {}", root.display()))
    }

    /// The Fs put without fsync: streams `body` into the staging file
    /// `staging` under `root`, hashing and counting, then moves it to its
    /// blob key; a small body is gathered in memory and queued for a batch
    /// write instead (see `pending.rs`), so it may not be readable before
    /// [`BlobStore::finish_unsynced`]. The caller removes the staging file
    /// on failure.
    async fn put_file_unsynced(
        &self,
        root: &Path,
        staging: &str,
        mut body: ByteStream,
        max_bytes: Option<u64>,
        observe: &mut (dyn FnMut(&[u8]) + Send),
    ) -> Result<StoredBlob, BlobError> {
        use tokio::io::AsyncWriteExt;
        let staging_path = root.join(staging);
        let action = || format!("write {}", staging_path.display());
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut gathered: Vec<Bytes> = Vec::new();
        let mut gathered_len = 0;
        let mut file: Option<tokio::io::BufWriter<tokio::fs::File>> = None;
        while let Some(chunk) = body.next().await {
            let chunk = next_chunk(chunk, &mut size, max_bytes)?;
            observe(&chunk);
            hasher.update(&chunk);
            if file.is_none() && gathered_len + chunk.len() <= GATHERED_BODY_MAX {
                gathered_len += chunk.len();
                gathered.push(chunk);
                continue;
            }
            let out = match file.as_mut() {
                Some(out) => out,
                None => {
                    let out = create_file(&staging_path).await.backend(action)?;
                    // Each write of tokio's File is a blocking-pool hop: a
                    // large body in the provider's chunks of a few KiB
                    // made hundreds of thousands.
                    let mut out = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, out);
                    for part in gathered.drain(..) {
                        out.write_all(&part).await.backend(action)?;
                    }
                    file.insert(out)
                }
            };
            out.write_all(&chunk).await.backend(action)?;
        }
        let blob = StoredBlob {
            hash: hex::encode(hasher.finalize()),
            size,
        };
        let key = Layout::OneLevel.key(&blob.hash)?;
        let target = root.join(&key);
        let moved = || format!("move {staging} to {key}");
        match file {
            Some(mut out) => {
                // Writes out the buffer, and waits for the last write tokio's
                // File finishes in the background.
                out.flush().await.backend(action)?;
                drop(out);
                tokio::task::spawn_blocking(move || move_into_place(&staging_path, &target))
                    .await
                    .map_err(std::io::Error::other)
                    .and_then(|r| r)
                    .backend(moved)?;
            }
            None => {
                let queued = Gathered {
                    staging: staging_path,
                    target,
                    parts: gathered,
                };
                self.inner.pending.add(queued).await.backend(moved)?;
            }
        }
        Ok(blob)
    }

    /// Writes `body` to `staging`, hashing and counting it on the way. On
    /// failure the unfinished upload is aborted.
    async fn stage(
        &self,
        staging: &str,
        body: ByteStream,
        max_bytes: Option<u64>,
        observe: &mut (dyn FnMut(&[u8]) + Send),
    ) -> Result<StoredBlob, BlobError> {
        let mut writer = self.staging_writer(staging).await?;
        let written = async {
            let blob = copy_body(&mut writer, staging, body, max_bytes, observe).await?;
            writer
                .close()
                .await
                .backend(|| format!("finish writing {staging}"))?;
            Ok(blob)
        }
        .await;
        if written.is_err() {
            abort_writer(&mut writer, staging).await;
        }
        written
    }

    async fn staging_writer(&self, staging: &str) -> Result<Writer, BlobError> {
        let options = WriteOptions {
            concurrent: CONCURRENT_CHUNKS,
            ..WriteOptions::default()
        };
        self.op()
            .writer_options(staging, options)
            .await
            .backend(|| format!("start writing {staging}"))
    }

    /// Makes the staged bytes visible as `blob`, replacing the blob if it is
    /// already stored (which refreshes its modification time, see the
    /// module docs).
    async fn promote(&self, staging: &str, blob: &StoredBlob) -> Result<(), BlobError> {
        let key = self.key(&blob.hash)?;
        if self.op().info().capability().rename {
            return self
                .op()
                .rename(staging, &key)
                .await
                .backend(|| format!("move {staging} to {key}"));
        }
        self.op()
            .copy(staging, &key)
            .await
            .backend(|| format!("copy {staging} to {key}"))?;
        self.op()
            .delete(staging)
            .await
            .backend(|| format!("delete {staging}"))
    }

    /// Best-effort removal of a failed upload's staging object.
    async fn discard_staging(&self, staging: &str) {
        if let Err(e) = self.op().delete(staging).await {
            tracing::warn!(staging, error = %e, "could not remove staging after a failed put; remove_stale_staging will");
        }
    }
}

/// Bodies up to this size are gathered in memory and queued for a batch
/// write (`pending.rs`) instead of streaming through a staging file with a
/// blocking-pool hop per file operation (create, each write, flush,
/// rename): for a sync of many small files those hops were most of the
/// storage's cost.
const GATHERED_BODY_MAX: usize = 256 * 1024;

/// What a larger unsynced body is written to its staging file in.
const WRITE_BUFFER: usize = 1024 * 1024;

/// Creates `path`, and its directory when missing.
async fn create_file(path: &Path) -> std::io::Result<tokio::fs::File> {
    match tokio::fs::File::create(path).await {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                tokio::fs::create_dir_all(dir).await?;
            }
            tokio::fs::File::create(path).await
        }
        other => other,
    }
}

#[cfg(target_os = "linux")]
fn sync_filesystem(root: &std::path::Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let dir = std::fs::File::open(root)?;
    // SAFETY: `dir` is an open descriptor for the duration of the call.
    if unsafe { libc::syncfs(dir.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn sync_filesystem(_root: &std::path::Path) -> std::io::Result<()> {
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
    Ok(())
}

/// Streams `body` into `writer`, chunk by chunk, hashing and counting.
async fn copy_body(
    writer: &mut Writer,
    staging: &str,
    mut body: ByteStream,
    max_bytes: Option<u64>,
    observe: &mut (dyn FnMut(&[u8]) + Send),
) -> Result<StoredBlob, BlobError> {
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk = next_chunk(chunk, &mut size, max_bytes)?;
        observe(&chunk);
        hasher.update(&chunk);
        writer
            .write(chunk)
            .await
            .backend(|| format!("write {staging}"))?;
    }
    Ok(StoredBlob {
        hash: hex::encode(hasher.finalize()),
        size,
    })
}

/// Checks one body chunk against the size limit and counts it.
fn next_chunk(
    chunk: std::io::Result<Bytes>,
    size: &mut u64,
    max_bytes: Option<u64>,
) -> Result<Bytes, BlobError> {
    let chunk = chunk.map_err(BlobError::Body)?;
    *size += chunk.len() as u64;
    match max_bytes {
        Some(limit) if *size > limit => Err(BlobError::TooLarge { limit }),
        _ => Ok(chunk),
    }
}

/// Aborts an unfinished write (cancels an S3 multipart upload). Fs cannot
/// abort; its staging file is deleted by the caller.
async fn abort_writer(writer: &mut Writer, staging: &str) {
    match writer.abort().await {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::Unsupported => {}
        Err(e) => tracing::warn!(staging, error = %e, "could not abort the staging upload"),
    }
}
