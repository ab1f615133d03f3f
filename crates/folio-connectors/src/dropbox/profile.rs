//! Dropbox's entry in the registry: its OAuth facts and its
//! [`Capability`] (docs/providers.md, "Dropbox").

use std::sync::Arc;

use folio_domain::ProviderKind;
use folio_domain::provider::{AccountEndpoint, AccountMethod, OAuthProfile, RevokeStyle};

use super::DropboxBackend;
use crate::registry::ProviderProfile;
use crate::{
    AccessTokenSource, Capability, ChangeFeedKind, Connector, ConnectorConfig, ConnectorError,
    FeedScope, HashKind,
};

/// Dropbox's OAuth server and account read.
pub static OAUTH: OAuthProfile = OAuthProfile {
    name: "Dropbox",
    label: "dropbox",
    authorize_uri: "https://www.dropbox.com/oauth2/authorize",
    token_uri: "https://api.dropboxapi.com/oauth2/token",
    api_uri: "https://api.dropboxapi.com",
    content_uri: Some("https://content.dropboxapi.com"),
    default_scope: "files.metadata.read files.content.read account_info.read",
    offline_params: &[("token_access_type", "offline")],
    offline_scope: None,
    scope_on_token_requests: false,
    default_tenant: None,
    // Revoking the access token also disables the refresh token it came
    // from.
    revoke: RevokeStyle::BearerOnApi {
        path: "/2/auth/token/revoke",
    },
    rotates_refresh_tokens: false,
    refresh_token_lifetime: None,
    account: AccountEndpoint {
        method: AccountMethod::PostNull,
        path: "/2/users/get_current_account",
        query: None,
        email: &["/email"],
        display_name: "/name/display_name",
        account_id: "/account_id",
    },
};

/// What Dropbox can do: items are addressed by path.
pub const CAPABILITY: Capability = Capability {
    change_feed: ChangeFeedKind::DropboxCursor,
    feed_scope: FeedScope::Subtree,
    hash: HashKind::DropboxContentHash,
    exports_native_docs: false,
    has_shortcuts: false,
    duplicate_names: false,
    case_insensitive_names: true,
    parent_ids: false,
    folder_delete_implies_children: true,
    can_revoke: true,
};

/// Dropbox in the registry.
pub static PROFILE: ProviderProfile = ProviderProfile {
    kind: ProviderKind::Dropbox,
    oauth: &OAUTH,
    capability: CAPABILITY,
    connect,
};

fn connect(
    config: &ConnectorConfig,
    tokens: Arc<dyn AccessTokenSource>,
) -> Result<Box<dyn Connector>, ConnectorError> {
    Ok(Box::new(DropboxBackend::new(config, tokens)?))
}
