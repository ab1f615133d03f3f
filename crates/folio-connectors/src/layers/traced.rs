//! The tracing layer: one span per call, the outcome logged once.

use async_trait::async_trait;
use tracing::Instrument;

use crate::{
    AccountInfo, ByteStream, Capability, ChangePage, Connector, ConnectorError, Cursor,
    ProviderKind, RemoteFolder, RemoteItem, RemoteRoot,
};

/// Wraps every call in a `connector` span and logs failures.
pub struct Traced {
    inner: Box<dyn Connector>,
    provider: ProviderKind,
}

impl Traced {
    /// Wraps `inner`.
    pub fn new(inner: Box<dyn Connector>, provider: ProviderKind) -> Self {
        Self { inner, provider }
    }

    async fn run<T>(
        &self,
        call: &'static str,
        fut: impl Future<Output = Result<T, ConnectorError>>,
    ) -> Result<T, ConnectorError> {
        let span = tracing::debug_span!("connector", provider = %self.provider, call);
        let result = fut.instrument(span).await;
        if let Err(e) = &result {
            tracing::debug!(provider = %self.provider, call, error = %e, "connector call failed");
        }
        result
    }
}

#[async_trait]
impl Connector for Traced {
    fn capability(&self) -> Capability {
        self.inner.capability()
    }
    async fn root(&self) -> Result<RemoteRoot, ConnectorError> {
        self.run("root", self.inner.root()).await
    }
    async fn start_cursor(&self) -> Result<Cursor, ConnectorError> {
        self.run("start_cursor", self.inner.start_cursor()).await
    }
    async fn list_changes(&self, cursor: Option<Cursor>) -> Result<ChangePage, ConnectorError> {
        self.run("list_changes", self.inner.list_changes(cursor))
            .await
    }
    async fn download(&self, item: &RemoteItem) -> Result<ByteStream, ConnectorError> {
        self.run("download", self.inner.download(item)).await
    }
    async fn account(&self) -> Result<AccountInfo, ConnectorError> {
        self.run("account", self.inner.account()).await
    }
    async fn list_folders(
        &self,
        parent: Option<&str>,
    ) -> Result<Vec<RemoteFolder>, ConnectorError> {
        self.run("list_folders", self.inner.list_folders(parent))
            .await
    }
    async fn revoke(&self) -> Result<bool, ConnectorError> {
        self.run("revoke", self.inner.revoke()).await
    }
}
