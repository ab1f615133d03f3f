//! Google Drive's entry in the registry: its OAuth facts and its
//! [`Capability`] (docs/providers.md, "Google Drive").

use std::sync::Arc;

use folio_domain::ProviderKind;
use folio_domain::provider::{AccountEndpoint, AccountMethod, OAuthProfile, RevokeStyle};

use super::GdriveBackend;
use crate::registry::ProviderProfile;
use crate::{
    AccessTokenSource, Capability, ChangeFeedKind, Connector, ConnectorConfig, ConnectorError,
    FeedScope, HashKind,
};

/// Google's OAuth server and the Drive account read.
pub static OAUTH: OAuthProfile = OAuthProfile {
    name: "Google",
    label: "google",
    authorize_uri: "https://accounts.google.com/o/oauth2/v2/auth",
    token_uri: "https://oauth2.googleapis.com/token",
    api_uri: "https://www.googleapis.com",
    content_uri: None,
    default_scope: "https://www.googleapis.com/auth/drive.readonly",
    // `prompt=consent`: a user who granted access before gets a refresh
    // token again only when the consent screen is shown.
    offline_params: &[("access_type", "offline"), ("prompt", "consent")],
    offline_scope: None,
    scope_on_token_requests: false,
    default_tenant: None,
    revoke: RevokeStyle::FormBesideTokenUri { path: "/revoke" },
    rotates_refresh_tokens: false,
    refresh_token_lifetime: None,
    account: AccountEndpoint {
        method: AccountMethod::Get,
        path: "/drive/v3/about",
        query: Some("fields=user"),
        email: &["/user/emailAddress"],
        display_name: "/user/displayName",
        account_id: "/user/permissionId",
    },
};

/// What Drive can do.
pub const CAPABILITY: Capability = Capability {
    change_feed: ChangeFeedKind::DrivePageToken,
    feed_scope: FeedScope::Drive,
    hash: HashKind::Md5,
    exports_native_docs: true,
    has_shortcuts: true,
    duplicate_names: true,
    case_insensitive_names: false,
    parent_ids: true,
    folder_delete_implies_children: true,
    // Google revokes at its OAuth host (`/revoke`), which the OAuth client
    // does; the connector itself has nothing to revoke.
    can_revoke: false,
};

/// Google Drive in the registry.
pub static PROFILE: ProviderProfile = ProviderProfile {
    kind: ProviderKind::GoogleDrive,
    oauth: &OAUTH,
    capability: CAPABILITY,
    connect,
};

fn connect(
    config: &ConnectorConfig,
    tokens: Arc<dyn AccessTokenSource>,
) -> Result<Box<dyn Connector>, ConnectorError> {
    Ok(Box::new(GdriveBackend::new(config, tokens)?))
}
