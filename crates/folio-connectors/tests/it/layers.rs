//! The layers on a real backend against cloudsim: the governor rate limit
//! spaces calls out; a 429 with a long Retry-After is capped by the policy;
//! without the retry layer a 429 surfaces as RateLimited with its wait.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use folio_connectors::layers::{RateLimit, Retry, RetryPolicy};
use folio_connectors::{Connector, ConnectorError, ProviderKind, bare_connector};
use serde_json::json;

use crate::support::Fixture;

#[tokio::test]
async fn rate_limit_spaces_calls() {
    let fx = Fixture::new(ProviderKind::Dropbox).await;
    let backend = bare_connector(
        ProviderKind::Dropbox,
        &fx.config(),
        fx.account.tokens.clone(),
    )
    .expect("backend");
    let limited = RateLimit::new(backend, NonZeroU32::new(4).expect("4"));
    let t = Instant::now();
    for _ in 0..8 {
        limited.account().await.expect("account");
    }
    // A burst of 4, then one every 250 ms.
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn bare_backend_reports_rate_limits_with_the_wait() {
    let fx = Fixture::new(ProviderKind::OneDrive).await;
    let backend = bare_connector(
        ProviderKind::OneDrive,
        &fx.config(),
        fx.account.tokens.clone(),
    )
    .expect("backend");
    fx.fault(json!({"endpoint": "GET /v1.0/me", "kind": "rate_limit", "count": 1, "retryAfterSeconds": 41})).await;
    match backend.account().await {
        Err(e @ ConnectorError::RateLimited { .. }) => {
            assert_eq!(e.retry_after(), Some(Duration::from_secs(41)))
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
}

#[tokio::test]
async fn long_retry_after_is_capped_by_the_policy() {
    let fx = Fixture::new(ProviderKind::GoogleDrive).await;
    let backend = bare_connector(
        ProviderKind::GoogleDrive,
        &fx.config(),
        fx.account.tokens.clone(),
    )
    .expect("backend");
    let policy = RetryPolicy {
        max_retries: 2,
        max_throttled_retries: 2,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_retry_after: Duration::from_millis(300),
    };
    let retried = Retry::new(backend, policy);
    fx.fault(json!({"endpoint": "GET /drive/v3/about", "kind": "rate_limit", "count": 1, "retryAfterSeconds": 300}))
        .await;
    let t = Instant::now();
    retried
        .account()
        .await
        .expect("succeeds after the capped wait");
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(280) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}
