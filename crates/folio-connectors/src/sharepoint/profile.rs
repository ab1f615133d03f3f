//! SharePoint's entry in the registry: Microsoft's OAuth facts and the Graph
//! drives' [`Capability`](crate::Capability), from [`crate::msgraph`].

use std::sync::Arc;

use folio_domain::ProviderKind;

use super::SharePointBackend;
use crate::registry::ProviderProfile;
use crate::{AccessTokenSource, Connector, ConnectorConfig, ConnectorError, msgraph};

/// SharePoint in the registry.
pub static PROFILE: ProviderProfile = ProviderProfile {
    kind: ProviderKind::SharePoint,
    oauth: &msgraph::OAUTH,
    capability: msgraph::CAPABILITY,
    connect,
};

fn connect(
    config: &ConnectorConfig,
    tokens: Arc<dyn AccessTokenSource>,
) -> Result<Box<dyn Connector>, ConnectorError> {
    Ok(Box::new(SharePointBackend::new(config, tokens)?))
}
