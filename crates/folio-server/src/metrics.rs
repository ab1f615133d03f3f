//! `GET /metrics`: Folio's counters in the Prometheus text format.
//!
//! The metrics are process-wide statics, one set per process (as
//! Prometheus scrapes a process), rather than a registry handle passed
//! through the state: the sync, provider and token counters live in
//! `folio-app`, `folio-connectors` and `folio-oauth`, whose objects are
//! built per sync and per request far from any server state. Each crate
//! owns its own families and registers them in the one [`Registry`] built
//! here; this module owns the HTTP ones.
//!
//! Labels are closed sets or templates: a library's type, a sync's
//! trigger and status, a provider, an HTTP method, a route template and a
//! status code. Never a library's name or natural id, a path, an email or
//! a token.

use std::sync::LazyLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

type Labels = Vec<(&'static str, String)>;
type HistogramFamily = Family<Labels, Histogram, fn() -> Histogram>;

/// The route label of a request no route matched.
pub const UNMATCHED_ROUTE: &str = "unmatched";

struct HttpMetrics {
    requests: Family<Labels, Counter>,
    duration: HistogramFamily,
}

/// Request durations: 1 ms to about 33 s.
fn http_duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

static METRICS: LazyLock<HttpMetrics> = LazyLock::new(|| HttpMetrics {
    requests: Family::default(),
    duration: Family::new_with_constructor(http_duration_histogram),
});

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    let mut registry = Registry::default();
    let m = &*METRICS;
    folio_app::metrics::register(&mut registry);
    registry.register(
        "folio_http_requests",
        "HTTP requests answered, by method, route template and status",
        m.requests.clone(),
    );
    registry.register(
        "folio_http_request_duration_seconds",
        "How long HTTP requests took until their answer's head, by method and route template",
        m.duration.clone(),
    );
    folio_connectors::metrics::register(&mut registry);
    folio_oauth::metrics::register(&mut registry);
    crate::process_metrics::register(&mut registry);
    registry
});

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
    m.requests
        .get_or_create(&vec![
            ("method", method.clone()),
            ("route", route.clone()),
            ("status", response.status().as_str().to_owned()),
        ])
        .inc();
    m.duration
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
