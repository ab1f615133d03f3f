//! The [`Connector`] for Dropbox: thin, over [`DropboxCore`].

use std::sync::Arc;

use async_trait::async_trait;

use super::core::DropboxCore;
use crate::{
    AccessTokenSource, AccountInfo, ByteStream, Capability, ChangePage, Connector, ConnectorConfig,
    ConnectorError, Cursor, RemoteFolder, RemoteItem, RemoteRoot,
};

/// Dropbox: the account root or a folder path.
pub struct DropboxBackend {
    core: DropboxCore,
}

impl DropboxBackend {
    /// Builds it; no I/O until the first call.
    pub fn new(
        config: &ConnectorConfig,
        tokens: Arc<dyn AccessTokenSource>,
    ) -> Result<Self, ConnectorError> {
        Ok(Self {
            core: DropboxCore::new(config, tokens)?,
        })
    }
}

#[async_trait]
impl Connector for DropboxBackend {
    fn capability(&self) -> Capability {
        super::CAPABILITY
    }
    async fn root(&self) -> Result<RemoteRoot, ConnectorError> {
        self.core.check_root().await
    }
    async fn start_cursor(&self) -> Result<Cursor, ConnectorError> {
        self.core.start_cursor().await
    }
    async fn list_changes(&self, cursor: Option<Cursor>) -> Result<ChangePage, ConnectorError> {
        self.core.list_changes(cursor).await
    }
    async fn download(&self, item: &RemoteItem) -> Result<ByteStream, ConnectorError> {
        self.core.download(item).await
    }
    async fn account(&self) -> Result<AccountInfo, ConnectorError> {
        self.core.account().await
    }
    async fn list_folders(
        &self,
        parent: Option<&str>,
    ) -> Result<Vec<RemoteFolder>, ConnectorError> {
        self.core.list_folders(parent).await
    }
    async fn revoke(&self) -> Result<bool, ConnectorError> {
        self.core.revoke().await
    }
}
