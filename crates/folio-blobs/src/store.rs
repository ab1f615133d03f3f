//! [`BlobStore`]: the content-addressed store over one OpenDAL operator.
//! Writes live in `put.rs`; this file holds opening, reading, listing and
//! deleting.

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use opendal::{Entry, EntryMode, ErrorKind, Metadata, Operator};

use crate::backend::build_operator;
use crate::config::BlobConfig;
use crate::error::BackendContext;
use crate::key::{BLOBS_DIR, Layout, STAGING_DIR, new_staging_key};
use crate::pending::PendingWrites;
use crate::{BlobError, ByteStream};

/// Content-addressed file bytes in a local directory or an S3 bucket.
///
/// A blob is named by the lowercase hex SHA-256 of its bytes. Blobs are
/// immutable: a blob is visible only once whole, and writing the same bytes
/// twice stores them once. Cloning is cheap and clones share the backend.
#[derive(Clone, Debug)]
pub struct BlobStore {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) op: Operator,
    /// The directory of an Fs store, for the writes that skip OpenDAL's
    /// per-file fsync (`put.rs`, [`BlobStore::put_observed_unsynced`]).
    pub(crate) fs_root: Option<std::path::PathBuf>,
    /// How blob keys fan out: one level in a local directory, two in
    /// object storage.
    pub(crate) layout: Layout,
    /// Small unsynced puts not written yet (Fs).
    pub(crate) pending: PendingWrites,
}

/// Lookups in flight at once in [`BlobStore::all_stored`] on object
/// storage.
pub const ALL_STORED_AT_ONCE: usize = 16;

/// A stored blob as storage describes it: what garbage collection needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobInfo {
    /// The blob's hash (its name).
    pub hash: String,
    /// Size of the blob in bytes.
    pub size: u64,
    /// When the blob was last written: the end of its latest put (a put of
    /// bytes already stored writes them again, see `put.rs`). `None` only if
    /// the backend does not say; Fs (file mtime) and S3 (`LastModified`)
    /// both do.
    pub modified: Option<SystemTime>,
}

impl BlobStore {
    /// Opens the store described by `config`. An Fs store's directory is
    /// created if missing. One listing request checks that the storage
    /// answers, so a wrong bucket, endpoint or credentials fail here, at
    /// start-up, rather than on the first upload.
    ///
    /// # Errors
    ///
    /// [`BlobError::Config`] for an unusable configuration, and
    /// [`BlobError::Backend`] when the directory cannot be created or the
    /// storage cannot be listed.
    pub async fn open(config: &BlobConfig) -> Result<Self, BlobError> {
        let op = build_operator(config)?;
        check_reachable(&op, &config.location()).await?;
        let (fs_root, layout) = match config {
            BlobConfig::Fs { root } => {
                migrate_to_one_level(root).await?;
                (Some(root.clone()), Layout::OneLevel)
            }
            BlobConfig::S3 { .. } => (None, Layout::TwoLevels),
        };
        tracing::debug!(?config, "blob store opened");
        Ok(BlobStore {
            inner: Arc::new(Inner {
                op,
                fs_root,
                layout,
                pending: PendingWrites::default(),
            }),
        })
    }

    /// The storage key of the blob `hash`, or `InvalidHash`.
    pub(crate) fn key(&self, hash: &str) -> Result<String, BlobError> {
        self.inner.layout.key(hash)
    }

    pub(crate) fn op(&self) -> &Operator {
        &self.inner.op
    }

    /// Streams the blob `hash`, or the part of it in `range` (end exclusive;
    /// an end past the blob's end is cut to it). The bytes are read as the
    /// stream is polled, never all at once.
    ///
    /// # Errors
    ///
    /// [`BlobError::InvalidHash`], [`BlobError::NotFound`],
    /// [`BlobError::InvalidRange`] when the range starts past the end of the
    /// blob or ends before it starts, [`BlobError::Backend`]. A failure in
    /// the middle of the stream is an `io::Error` item.
    pub async fn get(
        &self,
        hash: &str,
        range: Option<Range<u64>>,
    ) -> Result<ByteStream, BlobError> {
        let key = self.key(hash)?;
        let size = self
            .size(hash)
            .await?
            .ok_or_else(|| BlobError::NotFound(hash.to_owned()))?;
        let range = clamp_range(hash, range, size)?;
        let reader = self
            .op()
            .reader(&key)
            .await
            .backend(|| format!("open {key} for reading"))?;
        let stream = reader
            .into_bytes_stream(range)
            .await
            .backend(|| format!("start reading {key}"))?;
        Ok(stream.boxed())
    }

    /// Returns the size in bytes of the blob `hash`, or `None` if it is absent.
    ///
    /// # Errors
    ///
    /// [`BlobError::InvalidHash`], [`BlobError::Backend`].
    pub async fn size(&self, hash: &str) -> Result<Option<u64>, BlobError> {
        let key = self.key(hash)?;
        match self.op().stat(&key).await {
            Ok(meta) => Ok(Some(meta.content_length())),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(source) => Err(BlobError::Backend {
                action: format!("stat {key}"),
                source,
            }),
        }
    }

    /// Describes the blob `hash` (size, modification time), or returns
    /// `None` if it is absent.
    ///
    /// # Errors
    ///
    /// [`BlobError::InvalidHash`], [`BlobError::Backend`].
    pub async fn stat(&self, hash: &str) -> Result<Option<BlobInfo>, BlobError> {
        let key = self.key(hash)?;
        match self.op().stat(&key).await {
            Ok(meta) => Ok(Some(blob_info(hash.to_owned(), &meta))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(source) => Err(BlobError::Backend {
                action: format!("stat {key}"),
                source,
            }),
        }
    }

    /// True if the blob `hash` is stored.
    ///
    /// # Errors
    ///
    /// [`BlobError::InvalidHash`], [`BlobError::Backend`].
    pub async fn exists(&self, hash: &str) -> Result<bool, BlobError> {
        Ok(self.size(hash).await?.is_some())
    }

    /// True if every one of the blobs `hashes` is stored. On Fs the files
    /// are looked up in one call on the blocking pool (a sync checks a
    /// page of a thousand blobs before each commit); elsewhere
    /// [`ALL_STORED_AT_ONCE`] lookups run at once.
    ///
    /// # Errors
    ///
    /// [`BlobError::InvalidHash`], [`BlobError::Backend`].
    pub async fn all_stored(&self, hashes: &[String]) -> Result<bool, BlobError> {
        let keys = hashes
            .iter()
            .map(|hash| self.key(hash))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(root) = self.inner.fs_root.clone() {
            let count = keys.len();
            let action = || format!("look up {count} blobs in {}", root.display());
            let root_for_lookup = root.clone();
            let lookup = move || -> std::io::Result<bool> {
                for key in &keys {
                    match std::fs::metadata(root_for_lookup.join(key)) {
                        Ok(meta) if meta.is_file() => {}
                        Ok(_) => return Ok(false),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
                        Err(e) => return Err(e),
                    }
                }
                Ok(true)
            };
            return tokio::task::spawn_blocking(lookup)
                .await
                .map_err(std::io::Error::other)
                .and_then(|r| r)
                .backend(action);
        }
        let lookups: Vec<_> = hashes.iter().map(|hash| self.exists(hash)).collect();
        let mut found = stream::iter(lookups).buffer_unordered(ALL_STORED_AT_ONCE);
        while let Some(exists) = found.next().await {
            if !exists? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Deletes the blob `hash`. Deleting an absent blob succeeds.
    ///
    /// # Errors
    ///
    /// [`BlobError::InvalidHash`], [`BlobError::Backend`].
    pub async fn delete(&self, hash: &str) -> Result<(), BlobError> {
        let key = self.key(hash)?;
        self.op()
            .delete(&key)
            .await
            .backend(|| format!("delete {key}"))
    }

    /// Deletes the blob `hash` if it was last written before `cutoff`;
    /// returns whether it did. Garbage collection uses it for blobs no file
    /// uses, which a put of the same bytes may write again at any moment:
    ///
    /// - where the backend can rename (Fs), the blob is first moved aside
    ///   atomically (into `staging/`, so a crash leaves only a staging
    ///   object), its age read there, and it is put back if it is young: a
    ///   put that lands at the same moment is never lost;
    /// - elsewhere (S3) the age is read, then the blob deleted: a put of the
    ///   same bytes landing between the two is lost, and the caller must
    ///   make that harmless (the storage sweep holds the database's claim on
    ///   the hash, so a commit adopting the blob fails with `BlobVanished`
    ///   rather than point a file at nothing).
    ///
    /// # Errors
    ///
    /// [`BlobError::InvalidHash`], [`BlobError::Backend`].
    pub async fn delete_if_written_before(
        &self,
        hash: &str,
        cutoff: SystemTime,
    ) -> Result<bool, BlobError> {
        let key = self.key(hash)?;
        if self.op().info().capability().rename {
            return self.move_aside_if_written_before(&key, cutoff).await;
        }
        let old = self
            .stat(hash)
            .await?
            .is_some_and(|blob| blob.modified.is_some_and(|t| t <= cutoff));
        if old {
            self.op()
                .delete(&key)
                .await
                .backend(|| format!("delete {key}"))?;
        }
        Ok(old)
    }

    /// [`BlobStore::delete_if_written_before`] on a backend that renames
    /// atomically.
    async fn move_aside_if_written_before(
        &self,
        key: &str,
        cutoff: SystemTime,
    ) -> Result<bool, BlobError> {
        let aside = new_staging_key();
        match self.op().rename(key, &aside).await {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
            Err(source) => {
                return Err(BlobError::Backend {
                    action: format!("move {key} aside to {aside}"),
                    source,
                });
            }
        }
        let meta = self
            .op()
            .stat(&aside)
            .await
            .backend(|| format!("stat {aside}"))?;
        if meta
            .last_modified()
            .is_some_and(|t| SystemTime::from(t) <= cutoff)
        {
            self.op()
                .delete(&aside)
                .await
                .backend(|| format!("delete {aside}"))?;
            return Ok(true);
        }
        // Young: a put wrote it since it was listed. Put it back (over any
        // newer copy of the same bytes).
        self.op()
            .rename(&aside, key)
            .await
            .backend(|| format!("move {aside} back to {key}"))?;
        Ok(false)
    }

    /// Lists the hashes of every stored blob, sorted. Reads the whole
    /// listing; meant for garbage collection and orphan checks.
    ///
    /// # Errors
    ///
    /// [`BlobError::Backend`].
    pub async fn list_hashes(&self) -> Result<Vec<String>, BlobError> {
        let mut hashes: Vec<String> = self
            .list_files(BLOBS_DIR)
            .await?
            .iter()
            .filter_map(|(key, _)| self.inner.layout.hash_of(key).map(str::to_owned))
            .collect();
        hashes.sort_unstable();
        Ok(hashes)
    }

    /// Streams every stored blob with its size and modification time, in
    /// no promised order, as the backend lists them: S3 asks for a page of
    /// up to 1,000 keys at a time, Fs reads one directory entry at a time, so
    /// memory does not grow with the number of blobs (unlike
    /// [`BlobStore::list_hashes`]). Objects under `blobs/` that are not
    /// well-formed blob keys are skipped. A blob written or deleted while the
    /// listing runs may or may not be listed.
    ///
    /// # Errors
    ///
    /// Items of [`BlobError::Backend`] when the listing fails; the stream
    /// ends after one.
    pub fn list_blobs(&self) -> BoxStream<'static, Result<BlobInfo, BlobError>> {
        let op = self.op().clone();
        let layout = self.inner.layout;
        let listing = async move {
            match op.lister_with(BLOBS_DIR).recursive(true).await {
                Ok(lister) => Ok(lister
                    .map_err(|source| BlobError::Backend {
                        action: format!("list {BLOBS_DIR}"),
                        source,
                    })
                    .try_filter_map(move |entry| {
                        futures::future::ready(Ok(listed_blob(layout, entry)))
                    })
                    .boxed()),
                Err(e) if e.kind() == ErrorKind::NotFound => Ok(stream::empty().boxed()),
                Err(source) => Err(BlobError::Backend {
                    action: format!("list {BLOBS_DIR}"),
                    source,
                }),
            }
        };
        stream::once(listing).try_flatten().boxed()
    }

    /// Deletes the staging objects (uploads that never became blobs, e.g.
    /// after a crash) last modified more than `older_than` ago, and returns
    /// how many it deleted. `Duration::ZERO` removes all staging, including
    /// uploads in progress: use it only when no `put` is running.
    ///
    /// On S3, multipart uploads abandoned by a crash are not objects and are
    /// not seen here; a bucket lifecycle rule
    /// (`AbortIncompleteMultipartUpload`) cleans them up.
    ///
    /// # Errors
    ///
    /// [`BlobError::Backend`].
    pub async fn remove_stale_staging(&self, older_than: Duration) -> Result<u64, BlobError> {
        let cutoff = SystemTime::now()
            .checked_sub(older_than)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut removed = 0;
        for (key, meta) in self.list_files(STAGING_DIR).await? {
            if self.modified_before(&key, meta, cutoff).await? {
                self.op()
                    .delete(&key)
                    .await
                    .backend(|| format!("delete stale {key}"))?;
                removed += 1;
            }
        }
        if removed > 0 {
            tracing::info!(removed, "removed stale blob staging");
        }
        Ok(removed)
    }

    /// True if `key` was last modified before `cutoff`, or has vanished.
    async fn modified_before(
        &self,
        key: &str,
        meta: Metadata,
        cutoff: SystemTime,
    ) -> Result<bool, BlobError> {
        let meta = match meta.last_modified() {
            Some(_) => meta,
            None => match self.op().stat(key).await {
                Ok(meta) => meta,
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
                Err(source) => {
                    return Err(BlobError::Backend {
                        action: format!("stat {key}"),
                        source,
                    });
                }
            },
        };
        // Without a modification time we cannot tell; only remove it on ZERO.
        Ok(meta
            .last_modified()
            .map_or(cutoff >= SystemTime::now(), |t| {
                SystemTime::from(t) <= cutoff
            }))
    }

    /// Lists every file under `dir`, recursively, with its metadata. A
    /// missing directory lists as empty.
    async fn list_files(&self, dir: &str) -> Result<Vec<(String, Metadata)>, BlobError> {
        let lister = match self.op().lister_with(dir).recursive(true).await {
            Ok(lister) => lister,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(BlobError::Backend {
                    action: format!("list {dir}"),
                    source,
                });
            }
        };
        lister
            .try_filter(|entry| futures::future::ready(entry.metadata().mode() == EntryMode::FILE))
            .map_ok(|entry| entry.into_parts())
            .try_collect()
            .await
            .backend(|| format!("list {dir}"))
    }
}

/// The blob a listing entry holds, if it is one: a file under a well-formed
/// blob key.
fn listed_blob(layout: Layout, entry: Entry) -> Option<BlobInfo> {
    let (key, meta) = entry.into_parts();
    if meta.mode() != EntryMode::FILE {
        return None;
    }
    let hash = layout.hash_of(&key)?.to_owned();
    Some(blob_info(hash, &meta))
}

fn blob_info(hash: String, meta: &Metadata) -> BlobInfo {
    BlobInfo {
        hash,
        size: meta.content_length(),
        modified: meta.last_modified().map(SystemTime::from),
    }
}

/// Moves a local store written in the two-level layout to the one-level
/// one (once; see `migrate.rs`).
async fn migrate_to_one_level(root: &std::path::Path) -> Result<(), BlobError> {
    let root = root.to_path_buf();
    let action = || {
        format!(
            "move the blobs of {} to the one-level layout",
            root.display()
        )
    };
    let moving = root.clone();
    tokio::task::spawn_blocking(move || crate::migrate::to_one_level(&moving))
        .await
        .map_err(std::io::Error::other)
        .and_then(|r| r)
        .map(|_| ())
        .backend(action)
}

/// Lists one entry of the root: any error (missing bucket, refused
/// credentials, unreachable endpoint) is returned. Unlike `Operator::check`,
/// a missing bucket is not taken for an empty one.
async fn check_reachable(op: &Operator, location: &str) -> Result<(), BlobError> {
    let action = || format!("list {location} (check the location and the credentials)");
    let mut lister = op.lister_with("/").limit(1).await.backend(action)?;
    match lister.next().await {
        Some(Err(source)) => Err(BlobError::Backend {
            action: action(),
            source,
        }),
        _ => Ok(()),
    }
}

/// Checks `range` against the blob's `size` and cuts its end to `size`.
fn clamp_range(hash: &str, range: Option<Range<u64>>, size: u64) -> Result<Range<u64>, BlobError> {
    let Some(range) = range else {
        return Ok(0..size);
    };
    if range.start > range.end || range.start > size {
        return Err(BlobError::InvalidRange {
            hash: hash.to_owned(),
            range,
            size,
        });
    }
    Ok(range.start..range.end.min(size))
}
