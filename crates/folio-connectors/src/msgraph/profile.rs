//! What OneDrive and SharePoint share: Microsoft's OAuth facts (identity
//! platform v2, per tenant) and the Graph drives' [`Capability`]
//! (docs/providers.md). Their registry entries are in `onedrive/` and
//! `sharepoint/`.

use std::time::Duration;

use folio_domain::provider::{AccountEndpoint, AccountMethod, OAuthProfile, RevokeStyle};

use crate::{Capability, ChangeFeedKind, FeedScope, HashKind};

/// Microsoft's identity platform and the Graph account read.
pub static OAUTH: OAuthProfile = OAuthProfile {
    name: "Microsoft",
    label: "microsoft",
    authorize_uri: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
    token_uri: "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
    api_uri: "https://graph.microsoft.com",
    content_uri: None,
    default_scope: "offline_access Files.Read.All Sites.Read.All User.Read",
    offline_params: &[("response_mode", "query")],
    offline_scope: Some("offline_access"),
    scope_on_token_requests: true,
    // Work, school and personal accounts.
    default_tenant: Some("common"),
    // No per-app revoke: `revokeSignInSessions` would end every session
    // of the user, in every application.
    revoke: RevokeStyle::Unsupported,
    rotates_refresh_tokens: true,
    refresh_token_lifetime: Some(Duration::from_secs(90 * 24 * 60 * 60)),
    account: AccountEndpoint {
        method: AccountMethod::Get,
        path: "/v1.0/me",
        query: None,
        email: &["/mail", "/userPrincipalName"],
        display_name: "/displayName",
        account_id: "/id",
    },
};

/// What a Graph drive can do.
pub const CAPABILITY: Capability = Capability {
    change_feed: ChangeFeedKind::GraphDelta,
    feed_scope: FeedScope::Drive,
    hash: HashKind::QuickXorHash,
    exports_native_docs: false,
    has_shortcuts: false,
    duplicate_names: false,
    case_insensitive_names: true,
    parent_ids: true,
    folder_delete_implies_children: true,
    // Microsoft has no per-grant revoke; the OAuth layer destroys the tokens.
    can_revoke: false,
};
