//! The SharePoint [`crate::Connector`]: a [`GraphBackend`] of flavor SharePoint.

use std::sync::Arc;

use crate::msgraph::{GraphBackend, GraphFlavor};
use crate::{AccessTokenSource, ConnectorConfig, ConnectorError};

/// SharePoint is Graph with the drive taken from the site.
pub struct SharePointBackend;

impl SharePointBackend {
    /// Builds the Graph connector for SharePoint.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        config: &ConnectorConfig,
        tokens: Arc<dyn AccessTokenSource>,
    ) -> Result<GraphBackend, ConnectorError> {
        GraphBackend::new(GraphFlavor::SharePoint, config, tokens)
    }
}
