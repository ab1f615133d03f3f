//! The [`Connector`] over Graph, for OneDrive and SharePoint alike.

use std::sync::Arc;

use async_trait::async_trait;

use super::core::GraphCore;
use crate::{
    AccessTokenSource, AccountInfo, ByteStream, Capability, ChangePage, Connector, ConnectorConfig,
    ConnectorError, Cursor, RemoteFolder, RemoteItem, RemoteRoot,
};

/// Which product a Graph connector serves: how `source` picks the drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphFlavor {
    /// `driveId`, else `/me/drive`.
    OneDrive,
    /// `driveId`, else the `siteId`'s default library (`siteId` required).
    SharePoint,
}

/// A Graph drive connector.
pub struct GraphBackend {
    core: GraphCore,
}

impl GraphBackend {
    /// Builds it; no I/O until the first call.
    pub fn new(
        flavor: GraphFlavor,
        config: &ConnectorConfig,
        tokens: Arc<dyn AccessTokenSource>,
    ) -> Result<Self, ConnectorError> {
        Ok(Self {
            core: GraphCore::new(flavor, config, tokens)?,
        })
    }
}

#[async_trait]
impl Connector for GraphBackend {
    fn capability(&self) -> Capability {
        super::CAPABILITY
    }
    async fn root(&self) -> Result<RemoteRoot, ConnectorError> {
        self.core.root().await
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
        // Microsoft has no per-grant revoke; the OAuth layer destroys the tokens.
        Ok(false)
    }
}
