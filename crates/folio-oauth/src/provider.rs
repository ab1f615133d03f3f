//! What Folio knows about each provider's OAuth server and API: the real
//! default endpoints, the least read-only scope that still yields a
//! refresh token, and the extra authorize parameters.
//!
//! Integration types are `google-drive`, `onedrive`, `sharepoint` and
//! `dropbox`. OneDrive and SharePoint share Microsoft's endpoints (identity
//! platform v2 per tenant, Graph v1.0); a `onedrive` or `sharepoint`
//! library accepts either Microsoft integration type.

use std::fmt;
use std::str::FromStr;

use url::Url;

/// The `type` of an integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntegrationType {
    GoogleDrive,
    OneDrive,
    SharePoint,
    Dropbox,
}

/// Whose OAuth server and API an integration talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    Google,
    Microsoft,
    Dropbox,
}

impl IntegrationType {
    pub const ALL: [IntegrationType; 4] = [
        Self::GoogleDrive,
        Self::OneDrive,
        Self::SharePoint,
        Self::Dropbox,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::GoogleDrive => "google-drive",
            Self::OneDrive => "onedrive",
            Self::SharePoint => "sharepoint",
            Self::Dropbox => "dropbox",
        }
    }

    pub fn provider(self) -> Provider {
        match self {
            Self::GoogleDrive => Provider::Google,
            Self::OneDrive | Self::SharePoint => Provider::Microsoft,
            Self::Dropbox => Provider::Dropbox,
        }
    }

    /// Whether a library of `library_type` (its `type` string) can use an
    /// integration of this type: same provider, and not `local`.
    pub fn serves_library_type(self, library_type: &str) -> bool {
        library_type
            .parse::<IntegrationType>()
            .is_ok_and(|t| t.provider() == self.provider())
    }
}

impl fmt::Display for IntegrationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The unknown type, for a "400 type: ..." message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("type: must be one of google-drive, onedrive, sharepoint, dropbox; got '{0}'")]
pub struct UnknownType(pub String);

impl FromStr for IntegrationType {
    type Err = UnknownType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownType(s.to_owned()))
    }
}

/// The default Microsoft tenant: work, school and personal accounts.
pub const DEFAULT_TENANT: &str = "common";

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Self::Google => "Google",
            Self::Microsoft => "Microsoft",
            Self::Dropbox => "Dropbox",
        }
    }

    /// The real authorize endpoint (`tenant` only matters for Microsoft).
    pub fn default_auth_uri(self, tenant: &str) -> String {
        match self {
            Self::Google => "https://accounts.google.com/o/oauth2/v2/auth".to_owned(),
            Self::Microsoft => {
                format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize")
            }
            Self::Dropbox => "https://www.dropbox.com/oauth2/authorize".to_owned(),
        }
    }

    /// The real token endpoint.
    pub fn default_token_uri(self, tenant: &str) -> String {
        match self {
            Self::Google => "https://oauth2.googleapis.com/token".to_owned(),
            Self::Microsoft => {
                format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token")
            }
            Self::Dropbox => "https://api.dropboxapi.com/oauth2/token".to_owned(),
        }
    }

    /// The real API base: Drive lives at `BASE/drive/v3`, Graph at
    /// `BASE/v1.0`, Dropbox RPC at `BASE/2`.
    pub fn default_api_uri(self) -> &'static str {
        match self {
            Self::Google => "https://www.googleapis.com",
            Self::Microsoft => "https://graph.microsoft.com",
            Self::Dropbox => "https://api.dropboxapi.com",
        }
    }

    /// Dropbox's content host (downloads); the other providers serve bytes
    /// from the API base. An `apiUri` override replaces it too.
    pub fn default_content_uri(self) -> &'static str {
        match self {
            Self::Dropbox => "https://content.dropboxapi.com",
            other => other.default_api_uri(),
        }
    }

    /// The least scope that reads files and the account, with offline access.
    pub fn default_scope(self) -> &'static str {
        match self {
            Self::Google => "https://www.googleapis.com/auth/drive.readonly",
            Self::Microsoft => "offline_access Files.Read.All Sites.Read.All User.Read",
            Self::Dropbox => "files.metadata.read files.content.read account_info.read",
        }
    }

    /// Extra authorize parameters that make the provider issue a refresh
    /// token.
    pub fn offline_params(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Google => &[("access_type", "offline"), ("prompt", "consent")],
            Self::Microsoft => &[("response_mode", "query")],
            Self::Dropbox => &[("token_access_type", "offline")],
        }
    }

    /// Microsoft needs `offline_access` in the scope to issue a refresh token.
    pub fn ensure_offline_scope(self, scope: &str) -> String {
        if self == Self::Microsoft && !scope.split_whitespace().any(|s| s == "offline_access") {
            format!("offline_access {scope}")
        } else {
            scope.to_owned()
        }
    }
}

/// An integration's endpoints with the defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub provider: Provider,
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
        let provider = integration_type.provider();
        let tenant = match provider {
            Provider::Microsoft => Some(tenant.unwrap_or(DEFAULT_TENANT).to_owned()),
            _ => None,
        };
        let t = tenant.as_deref().unwrap_or(DEFAULT_TENANT);
        let auth = auth_uri.map_or_else(|| provider.default_auth_uri(t), str::to_owned);
        let token = token_uri.map_or_else(|| provider.default_token_uri(t), str::to_owned);
        let api = api_uri.unwrap_or(provider.default_api_uri());
        let content = api_uri.unwrap_or(provider.default_content_uri());
        let scope = scope.unwrap_or(provider.default_scope());
        Ok(Self {
            provider,
            auth_uri: parse_url("authUri", &auth)?,
            token_uri: parse_url("tokenUri", &token)?,
            api_uri: parse_url("apiUri", api)?,
            content_uri: parse_url("apiUri", content)?,
            scope: provider.ensure_offline_scope(scope),
            tenant,
        })
    }

    /// Where access is revoked: Google's `/revoke` next to its token
    /// endpoint, Dropbox's `/2/auth/token/revoke` on the API base.
    /// Microsoft has no per-grant revoke endpoint: `None`.
    pub fn revoke_uri(&self) -> Option<Url> {
        match self.provider {
            Provider::Google => {
                let mut url = self.token_uri.clone();
                let path = url.path().trim_end_matches("/token").to_owned();
                url.set_path(&format!("{path}/revoke"));
                url.set_query(None);
                Some(url)
            }
            Provider::Dropbox => Some(join(&self.api_uri, "/2/auth/token/revoke")),
            Provider::Microsoft => None,
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
    fn library_types_match_by_provider() {
        assert!(IntegrationType::OneDrive.serves_library_type("sharepoint"));
        assert!(IntegrationType::SharePoint.serves_library_type("onedrive"));
        assert!(!IntegrationType::Dropbox.serves_library_type("google-drive"));
        assert!(!IntegrationType::Dropbox.serves_library_type("local"));
    }
}
