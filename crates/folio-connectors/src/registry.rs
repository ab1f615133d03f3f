//! The provider registry: one [`ProviderProfile`] per [`ProviderKind`],
//! each kept in its provider's folder beside its connector (`gdrive/`,
//! `onedrive/`, `sharepoint/`, `dropbox/`; OneDrive and SharePoint are two
//! entries over the Graph core in `msgraph/`).
//!
//! A profile is data: the provider's OAuth facts (which `folio-oauth`
//! reads instead of matching on providers), its [`Capability`] (which the
//! sync engine reads), and how to build its backend. Adding a provider is
//! one line in [`profile`] (docs/adding-a-provider.md).

use std::sync::Arc;

use folio_domain::ProviderKind;
use folio_domain::provider::OAuthProfile;

use crate::{AccessTokenSource, Capability, Connector, ConnectorConfig, ConnectorError};

/// Builds a provider's bare backend (no layers).
pub type Connect =
    fn(&ConnectorConfig, Arc<dyn AccessTokenSource>) -> Result<Box<dyn Connector>, ConnectorError>;

/// Everything Folio knows about one provider, as data.
#[derive(Debug)]
pub struct ProviderProfile {
    pub kind: ProviderKind,
    /// Its OAuth server and account read (shared by the providers of one
    /// OAuth server).
    pub oauth: &'static OAuthProfile,
    /// What its connector can do.
    pub capability: Capability,
    /// Builds its backend.
    pub connect: Connect,
}

/// The profile of `kind`: the registry, one line per provider. The match
/// is exhaustive, so a new [`ProviderKind`] does not build without its line.
pub fn profile(kind: ProviderKind) -> &'static ProviderProfile {
    match kind {
        ProviderKind::GoogleDrive => &crate::gdrive::PROFILE,
        ProviderKind::OneDrive => &crate::onedrive::PROFILE,
        ProviderKind::SharePoint => &crate::sharepoint::PROFILE,
        ProviderKind::Dropbox => &crate::dropbox::PROFILE,
    }
}

/// Every profile, in [`ProviderKind::ALL`]'s order.
pub fn profiles() -> impl Iterator<Item = &'static ProviderProfile> {
    ProviderKind::ALL.iter().map(|&kind| profile(kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_its_own_profile() {
        for p in profiles() {
            assert_eq!(profile(p.kind).kind, p.kind);
        }
        assert_eq!(profiles().count(), ProviderKind::ALL.len());
    }

    #[test]
    fn onedrive_and_sharepoint_share_microsofts_server_and_graphs_capability() {
        let onedrive = profile(ProviderKind::OneDrive);
        let sharepoint = profile(ProviderKind::SharePoint);
        assert!(onedrive.oauth.same_server(sharepoint.oauth));
        assert_eq!(onedrive.capability, sharepoint.capability);
        let google = profile(ProviderKind::GoogleDrive);
        let dropbox = profile(ProviderKind::Dropbox);
        assert!(!google.oauth.same_server(onedrive.oauth));
        assert!(!google.oauth.same_server(dropbox.oauth));
    }
}
