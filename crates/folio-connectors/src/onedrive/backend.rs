//! The OneDrive [`crate::Connector`]: a [`GraphBackend`] of flavor OneDrive.

use std::sync::Arc;

use crate::msgraph::{GraphBackend, GraphFlavor};
use crate::{AccessTokenSource, ConnectorConfig, ConnectorError};

/// OneDrive is Graph with the drive taken from `/me/drive` by default.
pub struct OneDriveBackend;

impl OneDriveBackend {
    /// Builds the Graph connector for OneDrive.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        config: &ConnectorConfig,
        tokens: Arc<dyn AccessTokenSource>,
    ) -> Result<GraphBackend, ConnectorError> {
        GraphBackend::new(GraphFlavor::OneDrive, config, tokens)
    }
}
