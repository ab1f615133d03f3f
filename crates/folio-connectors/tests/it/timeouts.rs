//! Timeouts: a provider that goes silent fails as
//! [`ConnectorError::TimedOut`] (which the API answers with 504) after the
//! retry layer tried again, for listings and downloads of every provider;
//! an HTTP 504 or 408 from the provider is the same kind. The connectors
//! get a client with a 200 ms read timeout and cloudsim a `latency` fault
//! of a second; the retries are counted by cloudsim.

use std::time::Duration;

use folio_connectors::{Connector, ConnectorError, ProviderKind, connector_for};
use serde_json::{Value, json};

use crate::support::{Fixture, drain, fast_retry, upserts};

/// Attempts the retry layer makes: the first and `fast_retry`'s retries.
const ATTEMPTS: u64 = 5;

/// The layered connector of `fx` with a client that waits at most 200 ms
/// for any byte of an answer.
fn impatient(fx: &Fixture) -> Box<dyn Connector> {
    let mut config = fx.config();
    config.http = reqwest::Client::builder()
        .read_timeout(Duration::from_millis(200))
        .build()
        .expect("client");
    connector_for(fx.kind, config, fx.account.tokens.clone()).expect("connector")
}

/// The counter key (and fault endpoint) of a provider's first listing page.
fn listing_key(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::GoogleDrive => "GET /drive/v3/files",
        ProviderKind::OneDrive | ProviderKind::SharePoint => {
            "GET /v1.0/drives/{driveId}/root/{function}"
        }
        ProviderKind::Dropbox => "POST /2/files/list_folder",
    }
}

fn download_key(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::GoogleDrive => "GET /drive/v3/files/{fileId}?alt=media",
        ProviderKind::OneDrive | ProviderKind::SharePoint => "GET /download/{token}",
        ProviderKind::Dropbox => "POST /2/files/download",
    }
}

async fn count(fx: &Fixture, key: &str) -> u64 {
    let counts: Value = fx.env.counts().await;
    counts[format!("{} {key}", fx.provider)]
        .as_u64()
        .unwrap_or(0)
}

fn assert_timed_out<T>(result: Result<T, ConnectorError>, what: &str) {
    match result {
        Err(ConnectorError::TimedOut(message)) => assert!(
            message.contains(&format!("gave up after {ATTEMPTS} attempts")),
            "{what}: {message}"
        ),
        Err(other) => panic!("{what}: expected TimedOut, got {other:?}"),
        Ok(_) => panic!("{what}: expected TimedOut, got a result"),
    }
}

async fn silent_provider_times_out(kind: ProviderKind) {
    let fx = Fixture::new(kind).await;
    fx.put("a.txt", b"alpha").await;
    let fast = fx.connector();
    let (changes, _, _) = drain(fast.as_ref(), None).await;
    let items = upserts(&changes);
    let item = items
        .iter()
        .find(|i| i.name == "a.txt")
        .expect("a.txt listed");
    let slow = impatient(&fx);

    fx.fault(json!({"endpoint": listing_key(kind), "kind": "latency", "latencyMs": 1000}))
        .await;
    let before = count(&fx, listing_key(kind)).await;
    assert_timed_out(slow.list_changes(None).await, &format!("{kind} listing"));
    assert_eq!(
        count(&fx, listing_key(kind)).await - before,
        ATTEMPTS,
        "{kind}: the listing was retried"
    );
    fx.env.clear_faults().await;

    fx.fault(json!({"endpoint": download_key(kind), "kind": "latency", "latencyMs": 1000}))
        .await;
    let before = count(&fx, download_key(kind)).await;
    assert_timed_out(slow.download(item).await, &format!("{kind} download"));
    assert_eq!(
        count(&fx, download_key(kind)).await - before,
        ATTEMPTS,
        "{kind}: the download was retried"
    );
    fx.env.clear_faults().await;

    // The same client gets through once the provider answers again.
    slow.list_changes(None)
        .await
        .expect("a prompt provider answers in time");
}

#[tokio::test]
async fn silent_drive_times_out_after_retries() {
    silent_provider_times_out(ProviderKind::GoogleDrive).await;
}

#[tokio::test]
async fn silent_onedrive_times_out_after_retries() {
    silent_provider_times_out(ProviderKind::OneDrive).await;
}

#[tokio::test]
async fn silent_dropbox_times_out_after_retries() {
    silent_provider_times_out(ProviderKind::Dropbox).await;
}

#[tokio::test]
async fn gateway_and_request_timeouts_from_the_provider_are_timeouts() {
    for (kind, status) in [
        (ProviderKind::GoogleDrive, 504),
        (ProviderKind::OneDrive, 504),
        (ProviderKind::Dropbox, 408),
    ] {
        let fx = Fixture::new(kind).await;
        fx.fault(json!({"endpoint": listing_key(kind), "kind": "server_error", "status": status}))
            .await;
        let connector = fx.connector();
        assert_timed_out(
            connector.list_changes(None).await,
            &format!("{kind} {status}"),
        );
        assert_eq!(
            count(&fx, listing_key(kind)).await,
            ATTEMPTS,
            "{kind}: {status} is retried"
        );
        // One retry is enough when the provider recovers.
        fx.env.clear_faults().await;
        fx.fault(json!({"endpoint": listing_key(kind), "kind": "server_error", "status": status, "count": 1}))
            .await;
        connector
            .list_changes(None)
            .await
            .expect("a single timeout is retried");
    }
}

#[test]
fn the_policy_used_here_retries_four_times() {
    assert_eq!(fast_retry().max_retries as u64, ATTEMPTS - 1);
}
