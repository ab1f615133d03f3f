//! An integration's endpoints, resolved from its provider's profile.
//!
//! Integration types are the provider kinds (`google-drive`, `onedrive`,
//! `sharepoint`, `dropbox`). What differs between providers (endpoints,
//! scopes, offline parameters, revoke, account read) is data in each
//! provider's [`OAuthProfile`], kept beside its connector and found through
//! `folio_connectors::registry`. OneDrive and SharePoint share Microsoft's
//! server (identity platform v2 per tenant, Graph v1.0); a `onedrive` or
//! `sharepoint` library accepts either Microsoft integration type.

use folio_connectors::registry;
use folio_domain::provider::{OAuthProfile, RevokeStyle};
use folio_domain::{LibraryType, ProviderKind};
use url::Url;

/// The `type` of an integration: a provider kind.
pub type IntegrationType = ProviderKind;

/// The unknown type, for a "400 type: ..." message.
pub type UnknownType = folio_domain::UnknownProvider;

/// The OAuth facts of an integration type.
pub fn oauth_profile(kind: ProviderKind) -> &'static OAuthProfile {
    registry::profile(kind).oauth
}

/// Whether a library of `library_type` can use an integration of
/// `integration`'s type: same OAuth server, and not `local`.
pub fn serves_library_type(integration: ProviderKind, library_type: LibraryType) -> bool {
    library_type
        .provider()
        .is_some_and(|kind| oauth_profile(kind).same_server(oauth_profile(integration)))
}

/// Whether integrations of `kind` have a tenant (Microsoft's).
pub fn has_tenant(kind: ProviderKind) -> bool {
    oauth_profile(kind).default_tenant.is_some()
}

/// `scope` with the profile's offline scope first when it lacks it
/// (Microsoft issues a refresh token only for `offline_access`).
fn with_offline_scope(oauth: &OAuthProfile, scope: &str) -> String {
    match oauth.offline_scope {
        Some(needed) if !scope.split_whitespace().any(|s| s == needed) => {
            format!("{needed} {scope}")
        }
        _ => scope.to_owned(),
    }
}

/// An integration's endpoints with the defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub kind: ProviderKind,
    /// The provider's OAuth facts.
    pub oauth: &'static OAuthProfile,
    pub auth_uri: Url,
    pub token_uri: Url,
    pub api_uri: Url,
    pub content_uri: Url,
    pub scope: String,
    pub tenant: Option<String>,
}

/// A URL field that failed to parse, naming the field.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: &'static str,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// Parses an absolute http(s) URL for `field`.
pub fn parse_url(field: &'static str, raw: &str) -> Result<Url, FieldError> {
    let url = Url::parse(raw).map_err(|e| FieldError::new(field, format!("not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(FieldError::new(field, "must be an http(s) URL with a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldError::new(field, "must not carry credentials"));
    }
    Ok(url)
}

impl Endpoints {
    /// Resolves the stored fields of an integration (`None`: default).
    pub fn resolve(
        integration_type: IntegrationType,
        auth_uri: Option<&str>,
        token_uri: Option<&str>,
        api_uri: Option<&str>,
        scope: Option<&str>,
        tenant: Option<&str>,
    ) -> Result<Self, FieldError> {
        let oauth = oauth_profile(integration_type);
        let tenant = oauth
            .default_tenant
            .map(|default| tenant.unwrap_or(default).to_owned());
        let per_tenant = |uri: &str| uri.replace("{tenant}", tenant.as_deref().unwrap_or(""));
        let auth = auth_uri.map_or_else(|| per_tenant(oauth.authorize_uri), str::to_owned);
        let token = token_uri.map_or_else(|| per_tenant(oauth.token_uri), str::to_owned);
        let api = api_uri.unwrap_or(oauth.api_uri);
        let content = api_uri.unwrap_or(oauth.content_uri.unwrap_or(oauth.api_uri));
        let scope = scope.unwrap_or(oauth.default_scope);
        Ok(Self {
            kind: integration_type,
            oauth,
            auth_uri: parse_url("authUri", &auth)?,
            token_uri: parse_url("tokenUri", &token)?,
            api_uri: parse_url("apiUri", api)?,
            content_uri: parse_url("apiUri", content)?,
            scope: with_offline_scope(oauth, scope),
            tenant,
        })
    }

    /// Where access is revoked (see [`RevokeStyle`]): Google's `/revoke`
    /// next to its token endpoint, Dropbox's `/2/auth/token/revoke` on the
    /// API base. Microsoft has no per-grant revoke endpoint: `None`.
    pub fn revoke_uri(&self) -> Option<Url> {
        match self.oauth.revoke {
            RevokeStyle::FormBesideTokenUri { path } => {
                let mut url = self.token_uri.clone();
                let base = url.path().trim_end_matches("/token").to_owned();
                url.set_path(&format!("{base}{path}"));
                url.set_query(None);
                Some(url)
            }
            RevokeStyle::BearerOnApi { path } => Some(join(&self.api_uri, path)),
            RevokeStyle::Unsupported => None,
        }
    }
}

/// `base` with `path` appended to its path (the base may have a prefix).
pub fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!("{}{}", base.path().trim_end_matches('/'), path);
    url.set_path(&joined);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_real_endpoints() {
        let e = Endpoints::resolve(
            IntegrationType::SharePoint,
            None,
            None,
            None,
            None,
            Some("contoso.com"),
        )
        .unwrap();
        assert_eq!(
            e.auth_uri.as_str(),
            "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/authorize"
        );
        assert_eq!(
            e.scope,
            "offline_access Files.Read.All Sites.Read.All User.Read"
        );
        assert!(e.revoke_uri().is_none());
        let g =
            Endpoints::resolve(IntegrationType::GoogleDrive, None, None, None, None, None).unwrap();
        assert_eq!(
            g.revoke_uri().unwrap().as_str(),
            "https://oauth2.googleapis.com/revoke"
        );
        let d = Endpoints::resolve(
            IntegrationType::Dropbox,
            None,
            None,
            Some("http://127.0.0.1:9/"),
            None,
            None,
        )
        .unwrap();
        assert_eq!(
            d.revoke_uri().unwrap().as_str(),
            "http://127.0.0.1:9/2/auth/token/revoke"
        );
        assert_eq!(d.content_uri.as_str(), "http://127.0.0.1:9/");
    }

    #[test]
    fn microsoft_scope_always_asks_for_offline_access() {
        let e = Endpoints::resolve(
            IntegrationType::OneDrive,
            None,
            None,
            None,
            Some("Files.Read"),
            None,
        )
        .unwrap();
        assert_eq!(e.scope, "offline_access Files.Read");
    }

    #[test]
    fn library_types_match_by_oauth_server() {
        use ProviderKind::*;
        assert!(serves_library_type(OneDrive, LibraryType::SharePoint));
        assert!(serves_library_type(SharePoint, LibraryType::OneDrive));
        assert!(serves_library_type(Dropbox, LibraryType::Dropbox));
        assert!(!serves_library_type(Dropbox, LibraryType::GoogleDrive));
        assert!(!serves_library_type(Dropbox, LibraryType::Local));
    }

    #[test]
    fn only_microsoft_has_tenants() {
        let with: Vec<_> = ProviderKind::ALL
            .iter()
            .copied()
            .filter(|&k| has_tenant(k))
            .collect();
        assert_eq!(with, [ProviderKind::OneDrive, ProviderKind::SharePoint]);
        let d =
            Endpoints::resolve(ProviderKind::Dropbox, None, None, None, None, Some("x")).unwrap();
        assert_eq!(d.tenant, None);
        assert_eq!(d.content_uri.as_str(), "https://content.dropboxapi.com/");
        assert_eq!(
            d.auth_uri.as_str(),
            "https://www.dropbox.com/oauth2/authorize"
        );
        let m = Endpoints::resolve(ProviderKind::OneDrive, None, None, None, None, None).unwrap();
        assert_eq!(m.tenant.as_deref(), Some("common"));
        assert_eq!(
            m.token_uri.as_str(),
            "https://login.microsoftonline.com/common/oauth2/v2.0/token"
        );
    }
}
