//! The rate-limit layer: a governor limiter every call waits on. Per
//! process; with N replicas divide the quota by N or rely on 429 handling.

use std::num::NonZeroU32;

use async_trait::async_trait;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::{
    AccountInfo, ByteStream, Capability, ChangePage, Connector, ConnectorError, Cursor,
    RemoteFolder, RemoteItem, RemoteRoot,
};

/// Lets at most `per_second` calls through per second (bursts of that size).
pub struct RateLimit {
    inner: Box<dyn Connector>,
    limiter: DefaultDirectRateLimiter,
}

impl RateLimit {
    /// Wraps `inner`.
    pub fn new(inner: Box<dyn Connector>, per_second: NonZeroU32) -> Self {
        Self {
            inner,
            limiter: RateLimiter::direct(Quota::per_second(per_second)),
        }
    }
}

#[async_trait]
impl Connector for RateLimit {
    fn capability(&self) -> Capability {
        self.inner.capability()
    }
    async fn root(&self) -> Result<RemoteRoot, ConnectorError> {
        self.limiter.until_ready().await;
        self.inner.root().await
    }
    async fn start_cursor(&self) -> Result<Cursor, ConnectorError> {
        self.limiter.until_ready().await;
        self.inner.start_cursor().await
    }
    async fn list_changes(&self, cursor: Option<Cursor>) -> Result<ChangePage, ConnectorError> {
        self.limiter.until_ready().await;
        self.inner.list_changes(cursor).await
    }
    async fn download(&self, item: &RemoteItem) -> Result<ByteStream, ConnectorError> {
        self.limiter.until_ready().await;
        self.inner.download(item).await
    }
    async fn account(&self) -> Result<AccountInfo, ConnectorError> {
        self.limiter.until_ready().await;
        self.inner.account().await
    }
    async fn list_folders(
        &self,
        parent: Option<&str>,
    ) -> Result<Vec<RemoteFolder>, ConnectorError> {
        self.limiter.until_ready().await;
        self.inner.list_folders(parent).await
    }
    async fn revoke(&self) -> Result<bool, ConnectorError> {
        self.limiter.until_ready().await;
        self.inner.revoke().await
    }
}
