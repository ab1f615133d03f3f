//! The retry layer: each call is retried on its own, with backon's
//! jittered exponential backoff, honouring the provider's `Retry-After`
//! (seconds or HTTP date, parsed by the backends; capped).
//!
//! Throttled answers ([`ConnectorError::is_throttle`]) and other temporary
//! failures (5xx, network errors, timeouts) have budgets of their own: a
//! provider that asks us to slow down, and says for how long, is not
//! failing, so waiting it out does not spend the retries a failing request
//! has. The pacer below this layer slows the whole connection down
//! meanwhile (see `pacer`).

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use backon::{BackoffBuilder, ExponentialBuilder};

use crate::{
    AccountInfo, ByteStream, Capability, ChangePage, Connector, ConnectorError, Cursor,
    RemoteFolder, RemoteItem, RemoteRoot,
};

/// How the [`Retry`] layer retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after failures (5xx, network errors, timeouts) (default 5).
    pub max_retries: usize,
    /// Retries after throttled answers (429, rate-limit errors, a 503 with
    /// `Retry-After`) (default 10, rclone's low-level retries).
    pub max_throttled_retries: usize,
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
            max_throttled_retries: 10,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    fn backoff(&self, times: usize) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(times)
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

    async fn run<T, F, Fut>(&self, what: &'static str, mut op: F) -> Result<T, ConnectorError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ConnectorError>>,
    {
        let mut failures = self.policy.backoff(self.policy.max_retries).build();
        let mut throttles = self
            .policy
            .backoff(self.policy.max_throttled_retries)
            .build();
        let mut attempts = 1usize;
        loop {
            let err = match op().await {
                Ok(value) => return Ok(value),
                Err(err) if !err.is_temporary() => return Err(err),
                Err(err) => err,
            };
            let backoff = if err.is_throttle() {
                throttles.next()
            } else {
                failures.next()
            };
            let Some(backoff) = backoff else {
                return Err(if attempts > 1 {
                    err.context(&format!("{what}: gave up after {attempts} attempts"))
                } else {
                    err
                });
            };
            let wait = err
                .retry_after()
                .map_or(backoff, |r| r.min(self.policy.max_retry_after));
            tracing::warn!(call = what, error = %err, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
            attempts += 1;
        }
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
