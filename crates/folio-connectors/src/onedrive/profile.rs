//! OneDrive's entry in the registry: Microsoft's OAuth facts and the Graph
//! drives' [`Capability`](crate::Capability), from [`crate::msgraph`].

use std::sync::Arc;

use folio_domain::ProviderKind;

use super::OneDriveBackend;
use crate::registry::ProviderProfile;
use crate::{AccessTokenSource, Connector, ConnectorConfig, ConnectorError, msgraph};

/// OneDrive in the registry.
pub static PROFILE: ProviderProfile = ProviderProfile {
    kind: ProviderKind::OneDrive,
    oauth: &msgraph::OAUTH,
    capability: msgraph::CAPABILITY,
    connect,
};

fn connect(
    config: &ConnectorConfig,
    tokens: Arc<dyn AccessTokenSource>,
) -> Result<Box<dyn Connector>, ConnectorError> {
    Ok(Box::new(OneDriveBackend::new(config, tokens)?))
}
