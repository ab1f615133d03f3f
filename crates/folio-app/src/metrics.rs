//! The sync metrics: runs by library type, trigger and status, the files
//! and bytes they changed, how long they took, how many are running.
//! Process-wide statics like the connectors' and the token counters, as
//! Prometheus scrapes a process; the server registers them with
//! [`register`]. Labels are closed sets: a library's type, a trigger, a
//! status, a change.

use std::sync::LazyLock;
use std::time::Duration;

use folio_domain::{LibraryType, RunStatus, RunTrigger};
use folio_sync::executor::SyncError;
use folio_sync::run::Started;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;
type HistogramFamily = Family<Labels, Histogram, fn() -> Histogram>;

struct SyncMetrics {
    runs: Family<Labels, Counter>,
    files: Family<Labels, Counter>,
    bytes: Family<Labels, Counter>,
    duration: HistogramFamily,
    running: Gauge,
}

/// Sync durations: 0.1 s to about 3.6 hours.
fn sync_duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.1, 2.0, 18))
}

static METRICS: LazyLock<SyncMetrics> = LazyLock::new(|| SyncMetrics {
    runs: Family::default(),
    files: Family::default(),
    bytes: Family::default(),
    duration: Family::new_with_constructor(sync_duration_histogram),
    running: Gauge::default(),
});

/// Adds the sync families to `registry`.
pub fn register(registry: &mut Registry) {
    let m = &*METRICS;
    registry.register(
        "folio_sync_runs",
        "Finished sync runs, by library type, trigger and status",
        m.runs.clone(),
    );
    registry.register(
        "folio_sync_files",
        "Files a sync changed, by library type and change (added, updated, deleted, moved, failed)",
        m.files.clone(),
    );
    registry.register(
        "folio_sync_bytes",
        "Bytes downloaded by syncs, by library type",
        m.bytes.clone(),
    );
    registry.register(
        "folio_sync_duration_seconds",
        "How long sync runs took, by library type",
        m.duration.clone(),
    );
    registry.register(
        "folio_syncs_running",
        "Sync runs in progress in this process",
        m.running.clone(),
    );
}

/// Counts a sync run as running until dropped (a cancelled request drops
/// it too).
pub(crate) struct RunningSync(());

impl RunningSync {
    pub(crate) fn start() -> Self {
        METRICS.running.inc();
        Self(())
    }
}

impl Drop for RunningSync {
    fn drop(&mut self) {
        METRICS.running.dec();
    }
}

/// Records a sync run of a `library_type` library that ended with
/// `result` after `took`, having downloaded `bytes`. A run that found its
/// library busy did not run and is not counted; a dry run changed no
/// files.
pub(crate) fn record_sync(
    library_type: LibraryType,
    trigger: RunTrigger,
    result: &Result<Started, SyncError>,
    bytes: i64,
    took: Duration,
) {
    let outcome = match result {
        Ok(Started::Busy(_)) => return,
        Ok(Started::Finished { result, .. }) => result.as_ref().ok(),
        Err(_) => None,
    };
    let status = match outcome {
        Some(o) if o.held.is_some() => RunStatus::Held,
        Some(_) => RunStatus::Done,
        None => RunStatus::Failed,
    };
    let kind = || ("type", library_type.as_str().to_owned());
    let m = &*METRICS;
    m.runs
        .get_or_create(&vec![
            kind(),
            ("trigger", trigger.as_str().to_owned()),
            ("status", status.as_str().to_owned()),
        ])
        .inc();
    m.duration
        .get_or_create(&vec![kind()])
        .observe(took.as_secs_f64());
    m.bytes
        .get_or_create(&vec![kind()])
        .inc_by(u64::try_from(bytes).unwrap_or(0));
    let Some(outcome) = outcome.filter(|_| trigger != RunTrigger::DryRun) else {
        return;
    };
    let changes = [
        ("added", outcome.added_files),
        ("updated", outcome.updated_files),
        ("deleted", outcome.deleted_files),
        ("moved", outcome.moved_files),
        ("failed", outcome.errors.len() as i64),
    ];
    for (change, count) in changes {
        if count > 0 {
            m.files
                .get_or_create(&vec![kind(), ("change", change.to_owned())])
                .inc_by(u64::try_from(count).unwrap_or(0));
        }
    }
}

/// Records a scheduled run that could not start (no usable connection):
/// a failed run, as its row in the library's `syncs` says.
pub(crate) fn record_sync_not_run(library_type: LibraryType, trigger: RunTrigger) {
    METRICS
        .runs
        .get_or_create(&vec![
            ("type", library_type.as_str().to_owned()),
            ("trigger", trigger.as_str().to_owned()),
            ("status", RunStatus::Failed.as_str().to_owned()),
        ])
        .inc();
}
