//! One file's download: streamed into blob storage, verified against the
//! provider's hash, and what its end is ([`Download`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use foldhash::HashMap;
use folio_blobs::BlobStore;
use folio_connectors::{Connector, ConnectorError, HashKindExt, RemoteItem};
use futures::{StreamExt, TryStreamExt};

use super::outcome::SyncError;

/// Streams one file into blob storage, verifying the provider hash; a
/// mismatch is retried (`hash_retries` times), then reported, and so is a
/// body that breaks off (the retry layer only sees the request). A file
/// that keeps failing is a per-file failure; only a connection needing a
/// user, or storage failing, stops the sync.
pub(super) async fn fetch_file(
    connector: Arc<dyn Connector>,
    blobs: BlobStore,
    item: RemoteItem,
    hash_retries: u32,
) -> Download {
    let mut discarded = Vec::new();
    let mut last = FileFailure::Refused(String::new());
    for _ in 0..=hash_retries {
        let stream = match connector.download(&item).await {
            Ok(stream) => stream,
            Err(err) => {
                return Download {
                    result: Err(DownloadFailure::of(err)),
                    discarded,
                };
            }
        };
        // Set when the provider's body fails, to tell a cut connection
        // (the file's problem) from storage failing (ours).
        let body_broke = Arc::new(AtomicBool::new(false));
        let flag = body_broke.clone();
        let body = stream
            .map_err(move |e| {
                flag.store(true, Ordering::Relaxed);
                std::io::Error::other(e)
            })
            .boxed();
        let mut verifier = item.hash.as_ref().map(|h| h.kind.verifier());
        let stored = blobs
            .put_observed_unsynced(body, None, &mut |chunk| {
                if let Some(v) = verifier.as_mut() {
                    v.update(chunk);
                }
            })
            .await;
        let stored = match stored {
            Ok(stored) => stored,
            Err(e) if body_broke.load(Ordering::Relaxed) => {
                last = FileFailure::Temporary(ConnectorError::temporary(format!(
                    "the download broke off: {}",
                    folio_connectors::cause_chain(&e)
                )));
                continue;
            }
            Err(e) => {
                return Download {
                    result: Err(DownloadFailure::Stop(SyncError::Blobs(e))),
                    discarded,
                };
            }
        };
        let size = i64::try_from(stored.size).unwrap_or(i64::MAX);
        let checked = match (item.hash.as_ref(), verifier) {
            (Some(expected), Some(v)) => {
                let computed = v.finish();
                (!expected.matches(&computed)).then(|| {
                    format!(
                        "the downloaded bytes do not match the provider's hash (expected {}, got {computed})",
                        expected.value
                    )
                })
            }
            _ => None,
        };
        match checked {
            None => {
                return Download {
                    result: Ok((stored.hash, size)),
                    discarded,
                };
            }
            Some(mismatch) => {
                last = FileFailure::Refused(mismatch);
                discarded.push(stored.hash);
            }
        }
    }
    Download {
        result: Err(DownloadFailure::File(last)),
        discarded,
    }
}

/// Each downloaded item's stored hash and size, or why it failed, by id.
pub(super) type Fetched = HashMap<String, Result<(String, i64), FileFailure>>;

/// One file's download, and the bytes it stored then let go of (copies
/// that failed the hash check).
pub(super) struct Download {
    pub(super) result: Result<(String, i64), DownloadFailure>,
    pub(super) discarded: Vec<String>,
}

/// Why one download ended without bytes.
#[derive(Debug)]
pub(super) enum DownloadFailure {
    /// The file failed: reported in `errors`, the sync goes on.
    File(FileFailure),
    /// The sync cannot go on: the connection needs a user, or storage
    /// failed.
    Stop(SyncError),
}

impl DownloadFailure {
    pub(super) fn of(err: ConnectorError) -> Self {
        if err.needs_reconnect() {
            Self::Stop(SyncError::Provider(err))
        } else if err.is_temporary() {
            Self::File(FileFailure::Temporary(err))
        } else {
            Self::File(FileFailure::Refused(err.to_string()))
        }
    }
}

/// Why one file has no bytes after its download.
#[derive(Debug)]
pub(super) enum FileFailure {
    /// Refused by the provider, gone, or its bytes never matched the hash:
    /// tried again once the retry interval is over.
    Refused(String),
    /// The provider kept failing on it (5xx, 429, a timeout, a cut
    /// connection) through its retries: tried again by the next sync.
    Temporary(ConnectorError),
}

impl std::fmt::Display for FileFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused(message) => f.write_str(message),
            Self::Temporary(err) => write!(f, "{err}"),
        }
    }
}
