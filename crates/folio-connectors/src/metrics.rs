//! The provider metrics: every HTTP request a backend sends, by provider
//! and outcome, and the throttled answers among them.
//!
//! They are process-wide (one set of counters however many connectors
//! exist) because a connector is built per sync and per request; the
//! server registers them once with [`register`].

use std::sync::LazyLock;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use reqwest::{Response, StatusCode};

type Labels = Vec<(&'static str, &'static str)>;

struct ProviderMetrics {
    requests: Family<Labels, Counter>,
    throttled: Family<Labels, Counter>,
}

static METRICS: LazyLock<ProviderMetrics> = LazyLock::new(|| ProviderMetrics {
    requests: Family::default(),
    throttled: Family::default(),
});

/// Adds `folio_provider_requests_total` and `folio_provider_throttled_total`
/// to `registry`.
pub fn register(registry: &mut Registry) {
    registry.register(
        "folio_provider_requests",
        "HTTP requests sent to a provider, by outcome (2xx, 3xx, 4xx, 5xx, or error for no answer)",
        METRICS.requests.clone(),
    );
    registry.register(
        "folio_provider_throttled",
        "Provider answers asking us to slow down (429 and 503)",
        METRICS.throttled.clone(),
    );
}

/// Counts one request to `provider` (`google`, `microsoft` or `dropbox`)
/// by what came back.
pub(crate) fn record(provider: &'static str, sent: &Result<Response, reqwest::Error>) {
    let outcome = match sent {
        Ok(resp) => status_class(resp.status()),
        Err(_) => "error",
    };
    METRICS
        .requests
        .get_or_create(&vec![("provider", provider), ("outcome", outcome)])
        .inc();
    if let Ok(resp) = sent
        && matches!(
            resp.status(),
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
        )
    {
        METRICS
            .throttled
            .get_or_create(&vec![("provider", provider)])
            .inc();
    }
}

fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "error",
    }
}
