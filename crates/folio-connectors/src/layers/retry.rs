//! The retry layer: backon's jittered exponential backoff, `Retry-After`
//! honoured (seconds or HTTP date, parsed by the backends), capped.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};

use crate::{
    AccountInfo, ByteStream, Capability, ChangePage, Connector, ConnectorError, Cursor,
    RemoteFolder, RemoteItem, RemoteRoot,
};

/// How the [`Retry`] layer retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 5).
    pub max_retries: usize,
    /// First backoff delay (default 500 ms), doubled each time, jittered.
    pub min_delay: Duration,
    /// Largest computed backoff delay (default 30 s).
    pub max_delay: Duration,
    /// Largest `Retry-After` honoured (default 5 minutes); longer waits are
    /// cut to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 5,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    fn backoff(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries)
    }
}

/// Retries temporary failures of the inner connector.
pub struct Retry {
    inner: Box<dyn Connector>,
    policy: RetryPolicy,
}

impl Retry {
    /// Wraps `inner`.
    pub fn new(inner: Box<dyn Connector>, policy: RetryPolicy) -> Self {
        Self { inner, policy }
    }

    async fn run<T, F, Fut>(&self, what: &'static str, op: F) -> Result<T, ConnectorError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ConnectorError>>,
    {
        let retries = AtomicUsize::new(0);
        let cap = self.policy.max_retry_after;
        let result = op
            .retry(self.policy.backoff())
            .sleep(tokio::time::sleep)
            .when(ConnectorError::is_temporary)
            // Retry-After replaces the computed delay, but never revives
            // an exhausted backoff (dur == None).
            .adjust(|e, dur| dur.map(|d| e.retry_after().map_or(d, |r| r.min(cap))))
            .notify(|e, wait| {
                retries.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(call = what, error = %e, wait_ms = wait.as_millis() as u64, "retrying");
            })
            .await;
        result.map_err(|e| {
            let n = retries.load(Ordering::Relaxed);
            if e.is_temporary() && n > 0 {
                e.context(&format!("{what}: gave up after {} attempts", n + 1))
            } else {
                e
            }
        })
    }
}

#[async_trait]
impl Connector for Retry {
    fn capability(&self) -> Capability {
        self.inner.capability()
    }
    async fn root(&self) -> Result<RemoteRoot, ConnectorError> {
        self.run("root", || self.inner.root()).await
    }
    async fn start_cursor(&self) -> Result<Cursor, ConnectorError> {
        self.run("start_cursor", || self.inner.start_cursor()).await
    }
    async fn list_changes(&self, cursor: Option<Cursor>) -> Result<ChangePage, ConnectorError> {
        self.run("list_changes", || self.inner.list_changes(cursor.clone()))
            .await
    }
    async fn download(&self, item: &RemoteItem) -> Result<ByteStream, ConnectorError> {
        self.run("download", || self.inner.download(item)).await
    }
    async fn account(&self) -> Result<AccountInfo, ConnectorError> {
        self.run("account", || self.inner.account()).await
    }
    async fn list_folders(
        &self,
        parent: Option<&str>,
    ) -> Result<Vec<RemoteFolder>, ConnectorError> {
        self.run("list_folders", || self.inner.list_folders(parent))
            .await
    }
    async fn revoke(&self) -> Result<bool, ConnectorError> {
        self.run("revoke", || self.inner.revoke()).await
    }
}
