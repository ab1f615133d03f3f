//! A run's downloads: the slots they share (concurrency, the turn of a
//! page, the breaker), and a page's downloads as tasks ([`Downloads`]).

use std::sync::Arc;

use foldhash::{HashMap, HashMapExt};
use folio_blobs::BlobStore;
use folio_connectors::{Connector, ConnectorError, RemoteItem};

use super::fetch::{Download, DownloadFailure, FileFailure, fetch_file};
use super::outcome::SyncError;

/// The run's download slots: `download_concurrency` permits, and the turn
/// to launch downloads, which a page takes after the page before it has
/// launched all of its own (pages download in order, overlapping only
/// where one ends and the next begins).
pub(super) struct Slots {
    pub(super) permits: Arc<tokio::sync::Semaphore>,
    pub(super) turn: Arc<tokio::sync::Mutex<()>>,
    /// Opened once [`super::SyncOptions::failing_in_a_row`] downloads in a row
    /// failed: the provider as a whole is failing, and the run's downloads
    /// not started yet are not tried (each a per-file error, tried again
    /// by the next sync) instead of each spending its retries.
    pub(super) breaker: Arc<Breaker>,
}

/// See [`Slots::breaker`]: why downloads are no longer tried, once open.
#[derive(Default)]
pub(super) struct Breaker {
    open: std::sync::OnceLock<String>,
}

impl Breaker {
    pub(super) fn open(&self, why: String) {
        if self.open.set(why).is_ok() {
            tracing::warn!(why = %self.open.get().map_or("", String::as_str), "downloads stopped for this sync");
        }
    }

    /// The end of a download not tried because the breaker is open.
    fn skipped(&self) -> Option<Download> {
        let why = self.open.get()?;
        Some(Download {
            result: Err(DownloadFailure::File(FileFailure::Temporary(
                ConnectorError::temporary(format!("not tried in this sync: {why}")),
            ))),
            discarded: Vec::new(),
        })
    }
}

/// A page's downloads. One task per page launches them, each as a task of
/// its own once a permit is free (so downloads, their bodies' hashing and
/// their storage, spread over the runtime's threads instead of all running
/// in the sync's one task beside its planning and bookkeeping; and only
/// the downloads running have a task, whatever the page's size). Their
/// ends come back through a channel. Dropped, it aborts the launcher,
/// whose tasks go with it.
pub(super) struct Downloads {
    launcher: Option<tokio::task::JoinHandle<()>>,
    ended: tokio::sync::mpsc::UnboundedReceiver<(String, Download)>,
    /// The downloads not yet ended: library paths by id.
    pub(super) waiting: HashMap<String, String>,
}

impl Downloads {
    /// A page that downloads nothing.
    pub(super) fn none() -> Self {
        let (_, ended) = tokio::sync::mpsc::unbounded_channel();
        Self {
            launcher: None,
            ended,
            waiting: HashMap::new(),
        }
    }

    pub(super) fn spawn(
        items: Vec<(RemoteItem, String)>,
        slots: &Slots,
        connector: Arc<dyn Connector>,
        blobs: BlobStore,
        hash_retries: u32,
    ) -> Self {
        let mut downloads = Self::none();
        if items.is_empty() {
            return downloads;
        }
        for (item, path) in &items {
            downloads.waiting.insert(item.id.clone(), path.clone());
        }
        let (sender, ended) = tokio::sync::mpsc::unbounded_channel();
        downloads.ended = ended;
        let (permits, turn) = (slots.permits.clone(), slots.turn.clone());
        let breaker = slots.breaker.clone();
        downloads.launcher = Some(tokio::spawn(async move {
            let my_turn = turn.lock_owned().await;
            let mut running = tokio::task::JoinSet::new();
            for (item, _) in items {
                if let Some(skipped) = breaker.skipped() {
                    drop(sender.send((item.id.clone(), skipped)));
                    continue;
                }
                // The semaphore is never closed: a permit always comes.
                let permit = permits.clone().acquire_owned().await;
                let (connector, blobs) = (connector.clone(), blobs.clone());
                running.spawn(async move {
                    let _permit = permit;
                    let id = item.id.clone();
                    (id, fetch_file(connector, blobs, item, hash_retries).await)
                });
                while let Some(joined) = running.try_join_next() {
                    pass_on(joined, &sender);
                }
            }
            drop(my_turn);
            while let Some(joined) = running.join_next().await {
                pass_on(joined, &sender);
            }
        }));
        downloads
    }

    /// The next download to end: its id, its file's path and its end. A
    /// launcher gone before all ended was cancelled (the runtime shuts
    /// down): each download left fails as a temporary failure of its file.
    /// Cancel-safe while it waits for an end.
    pub(super) async fn next(&mut self) -> (String, String, Download) {
        if let Some((id, download)) = self.ended.recv().await {
            let path = self.waiting.remove(&id).unwrap_or_default();
            return (id, path, download);
        }
        if let Some(launcher) = self.launcher.take()
            && let Err(e) = launcher.await
            && e.is_panic()
        {
            // A bug, as before downloads were tasks: it reaches the caller.
            std::panic::resume_unwind(e.into_panic());
        }
        let id = self.waiting.keys().next().cloned().unwrap_or_default();
        let path = self.waiting.remove(&id).unwrap_or_default();
        let cancelled = Download {
            result: Err(DownloadFailure::Stop(SyncError::Provider(
                ConnectorError::temporary(format!(
                    "the download of '{path}' was cancelled: the server is shutting down"
                )),
            ))),
            discarded: Vec::new(),
        };
        (id, path, cancelled)
    }

    /// Stops downloads that no commit will take, returning the hashes of what
    /// they stored (those that ended before they were stopped): bytes to
    /// release.
    pub(super) async fn cancel(mut self) -> Vec<String> {
        if let Some(launcher) = self.launcher.take() {
            launcher.abort();
            // Its end closes the channel; a panic was a bug of a download
            // whose page is given up anyway.
            let _ = launcher.await;
        }
        let mut stored = Vec::new();
        while let Ok((_, download)) = self.ended.try_recv() {
            stored.extend(download.result.ok().map(|(hash, _)| hash));
            stored.extend(download.discarded);
        }
        stored
    }
}

/// Hands a download's end to the page; a download that panicked panics
/// the launcher, which the page's [`Downloads::next`] passes on.
fn pass_on(
    joined: Result<(String, Download), tokio::task::JoinError>,
    sender: &tokio::sync::mpsc::UnboundedSender<(String, Download)>,
) {
    match joined {
        // The page stopped waiting (it failed): nobody needs the end.
        Ok(ended) => drop(sender.send(ended)),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only the launcher's abort (or the runtime) cancels a download.
        Err(_) => {}
    }
}

impl Drop for Downloads {
    fn drop(&mut self) {
        if let Some(launcher) = &self.launcher {
            launcher.abort();
        }
    }
}
