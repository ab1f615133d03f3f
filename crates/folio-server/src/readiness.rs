//! Readiness: does the database answer a query, and does the storage take,
//! give back and delete a probe object, each within [`CHECK_TIMEOUT`].
//!
//! `/readyz` may be scraped every second by several load balancers at once,
//! so a result is kept for [`CACHE_FOR`] and concurrent requests share one
//! check: the first takes the lock and checks, the others wait for it and
//! read its result. The answer goes to anyone (no authentication), so a
//! failing check is one fixed sentence; the error itself, which may name a
//! host, a path or a bucket, goes to the log, once per change of state.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use folio_blobs::{BlobStore, ProbeStep};
use folio_store::Store;
use serde::Serialize;
use tokio::sync::Mutex;
use utoipa::ToSchema;

/// How long each check may take before it counts as failed.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a result is served before the next request checks again.
pub const CACHE_FOR: Duration = Duration::from_secs(1);

/// What a passing check says.
pub const OK: &str = "ok";

/// The body of `/readyz` (and `/api/health`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReadinessReport {
    /// `ready` or `unready`.
    pub status: &'static str,
    pub checks: ReadinessChecks,
}

/// Each check: `ok`, or a sentence saying what failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReadinessChecks {
    pub database: String,
    pub storage: String,
}

impl ReadinessReport {
    pub fn is_ready(&self) -> bool {
        self.status == "ready"
    }
}

/// The checks and their cached result.
pub struct Readiness {
    store: Store,
    blobs: BlobStore,
    last: Mutex<Option<(Instant, ReadinessReport)>>,
    /// What the previous check found, to log changes only.
    was_ready: AtomicBool,
    /// Checks run since start.
    checks_run: AtomicU64,
}

impl Readiness {
    pub fn new(store: Store, blobs: BlobStore) -> Self {
        Self {
            store,
            blobs,
            last: Mutex::new(None),
            was_ready: AtomicBool::new(true),
            checks_run: AtomicU64::new(0),
        }
    }

    /// How many checks ran since start (requests served from the cache
    /// or sharing a check in progress are not counted).
    pub fn checks_run(&self) -> u64 {
        self.checks_run.load(Ordering::Relaxed)
    }

    /// The latest result if younger than [`CACHE_FOR`], else a new one.
    pub async fn report(&self) -> ReadinessReport {
        let mut last = self.last.lock().await;
        if let Some((at, report)) = last.as_ref()
            && at.elapsed() < CACHE_FOR
        {
            return report.clone();
        }
        let report = self.check().await;
        *last = Some((Instant::now(), report.clone()));
        report
    }

    async fn check(&self) -> ReadinessReport {
        self.checks_run.fetch_add(1, Ordering::Relaxed);
        let (database, storage) = tokio::join!(self.check_database(), self.check_storage());
        let ready = database == OK && storage == OK;
        let report = ReadinessReport {
            status: if ready { "ready" } else { "unready" },
            checks: ReadinessChecks { database, storage },
        };
        if self.was_ready.swap(ready, Ordering::Relaxed) != ready {
            if ready {
                tracing::info!("ready again: the database and the storage answer");
            } else {
                tracing::warn!(database = %report.checks.database, storage = %report.checks.storage, "not ready");
            }
        }
        report
    }

    async fn check_database(&self) -> String {
        match tokio::time::timeout(CHECK_TIMEOUT, self.store.ping()).await {
            Ok(Ok(())) => OK.to_owned(),
            Ok(Err(error)) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "readiness: the database check failed"
                );
                "the database did not answer a query".to_owned()
            }
            Err(_) => format!(
                "the database did not answer a query within {} s",
                CHECK_TIMEOUT.as_secs()
            ),
        }
    }

    async fn check_storage(&self) -> String {
        match tokio::time::timeout(CHECK_TIMEOUT, self.blobs.probe()).await {
            Ok(Ok(())) => OK.to_owned(),
            Ok(Err(error)) => {
                tracing::warn!(%error, "readiness: the storage check failed");
                match error.step {
                    ProbeStep::Write => "the storage refused to store a probe object",
                    ProbeStep::Read => "the storage did not give a probe object back intact",
                    ProbeStep::Delete => "the storage refused to delete a probe object",
                }
                .to_owned()
            }
            Err(_) => format!(
                "the storage did not store, return and delete a probe object within {} s",
                CHECK_TIMEOUT.as_secs()
            ),
        }
    }
}
