//! `GET /metrics`: Folio's counters in the Prometheus text format.
//!
//! The metrics are process-wide statics, one set per process (as
//! Prometheus scrapes a process), rather than a registry handle passed
//! through the state: the provider and token counters live in
//! `folio-connectors` and `folio-oauth`, whose objects are built per sync
//! and per request far from any server state. Each crate owns its own
//! families and registers them in the one [`Registry`] built here.
//!
//! Labels are closed sets or templates: a library's type, a sync's
//! trigger and status, a provider, an HTTP method, a route template and a
//! status code. Never a library's name or natural id, a path, an email or
//! a token.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use folio_sync::executor::SyncError;
use folio_sync::run::Started;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

type Labels = Vec<(&'static str, String)>;
type HistogramFamily = Family<Labels, Histogram, fn() -> Histogram>;

/// The route label of a request no route matched.
pub const UNMATCHED_ROUTE: &str = "unmatched";

struct ServerMetrics {
    sync_runs: Family<Labels, Counter>,
    sync_files: Family<Labels, Counter>,
    sync_bytes: Family<Labels, Counter>,
    sync_duration: HistogramFamily,
    syncs_running: Gauge,
    http_requests: Family<Labels, Counter>,
    http_duration: HistogramFamily,
}

/// Sync durations: 0.1 s to about 3.6 hours.
fn sync_duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.1, 2.0, 18))
}

/// Request durations: 1 ms to about 33 s.
fn http_duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

static METRICS: LazyLock<ServerMetrics> = LazyLock::new(|| ServerMetrics {
    sync_runs: Family::default(),
    sync_files: Family::default(),
    sync_bytes: Family::default(),
    sync_duration: Family::new_with_constructor(sync_duration_histogram),
    syncs_running: Gauge::default(),
    http_requests: Family::default(),
    http_duration: Family::new_with_constructor(http_duration_histogram),
});

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    let mut registry = Registry::default();
    let m = &*METRICS;
    registry.register(
        "folio_sync_runs",
        "Finished sync runs, by library type, trigger and status",
        m.sync_runs.clone(),
    );
    registry.register(
        "folio_sync_files",
        "Files a sync changed, by library type and change (added, updated, deleted, moved, failed)",
        m.sync_files.clone(),
    );
    registry.register(
        "folio_sync_bytes",
        "Bytes downloaded by syncs, by library type",
        m.sync_bytes.clone(),
    );
    registry.register(
        "folio_sync_duration_seconds",
        "How long sync runs took, by library type",
        m.sync_duration.clone(),
    );
    registry.register(
        "folio_syncs_running",
        "Sync runs in progress in this process",
        m.syncs_running.clone(),
    );
    registry.register(
        "folio_http_requests",
        "HTTP requests answered, by method, route template and status",
        m.http_requests.clone(),
    );
    registry.register(
        "folio_http_request_duration_seconds",
        "How long HTTP requests took until their answer's head, by method and route template",
        m.http_duration.clone(),
    );
    folio_connectors::metrics::register(&mut registry);
    folio_oauth::metrics::register(&mut registry);
    crate::process_metrics::register(&mut registry);
    registry
});

/// Counts a sync run as running until dropped (a cancelled request drops
/// it too).
pub(crate) struct RunningSync(());

impl RunningSync {
    pub(crate) fn start() -> Self {
        METRICS.syncs_running.inc();
        Self(())
    }
}

impl Drop for RunningSync {
    fn drop(&mut self) {
        METRICS.syncs_running.dec();
    }
}

/// Records a sync run of a `library_type` library that ended with
/// `result` after `took`, having downloaded `bytes`. A run that found its
/// library busy did not run and is not counted; a dry run changed no
/// files.
pub(crate) fn record_sync(
    library_type: &str,
    trigger: &str,
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
        Some(o) if o.held.is_some() => "held",
        Some(_) => "done",
        None => "failed",
    };
    let kind = || ("type", library_type.to_owned());
    let m = &*METRICS;
    m.sync_runs
        .get_or_create(&vec![
            kind(),
            ("trigger", trigger.to_owned()),
            ("status", status.to_owned()),
        ])
        .inc();
    m.sync_duration
        .get_or_create(&vec![kind()])
        .observe(took.as_secs_f64());
    m.sync_bytes
        .get_or_create(&vec![kind()])
        .inc_by(u64::try_from(bytes).unwrap_or(0));
    let Some(outcome) = outcome.filter(|_| trigger != "dry-run") else {
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
            m.sync_files
                .get_or_create(&vec![kind(), ("change", change.to_owned())])
                .inc_by(u64::try_from(count).unwrap_or(0));
        }
    }
}

/// Records a scheduled run that could not start (no usable connection):
/// a failed run, as its row in the library's `syncs` says.
pub(crate) fn record_sync_not_run(library_type: &str, trigger: &str) {
    METRICS
        .sync_runs
        .get_or_create(&vec![
            ("type", library_type.to_owned()),
            ("trigger", trigger.to_owned()),
            ("status", "failed".to_owned()),
        ])
        .inc();
}

/// Middleware: counts and times every request by its route template
/// (`MatchedPath`), never by the path asked for.
pub(crate) async fn track_http(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned();
    let method = method_label(request.method()).to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let took = started.elapsed().as_secs_f64();
    let m = &*METRICS;
    m.http_requests
        .get_or_create(&vec![
            ("method", method.clone()),
            ("route", route.clone()),
            ("status", response.status().as_str().to_owned()),
        ])
        .inc();
    m.http_duration
        .get_or_create(&vec![("method", method), ("route", route)])
        .observe(took);
    response
}

/// `GET /metrics`: open, or with `Authorization: Bearer <metrics token>`
/// when one is configured (no other credential works).
pub(crate) async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.config.metrics_token
        && !bearer_matches(&headers, expected)
    {
        return ApiError::Unauthorized(
            "the metrics need 'Authorization: Bearer' with the metrics token".to_owned(),
        )
        .into_response();
    }
    let mut text = String::with_capacity(16 * 1024);
    if let Err(err) = encode(&mut text, &REGISTRY) {
        return ApiError::Internal(anyhow::anyhow!("could not encode the metrics: {err}"))
            .into_response();
    }
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// The method as a label from a closed set: a client may send any token
/// as a method, and each new label value would be a series kept forever.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The scheme is read as the API reads it (case-insensitive).
fn bearer_matches(headers: &HeaderMap, expected: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::auth::bearer_token)
    else {
        return false;
    };
    given.as_bytes().ct_eq(expected.as_bytes()).into()
}
