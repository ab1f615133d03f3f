//! The providers Folio syncs from, and the shape of the OAuth facts each
//! one's profile states as data.
//!
//! [`ProviderKind`] is the one provider enum: the library and integration
//! `type` of every cloud library. Its string forms come from its `strum`
//! derives alone, and serde goes through them, so there is one encoding.
//! [`OAuthProfile`] is the type of a provider's OAuth facts; the values
//! live beside each connector (`folio-connectors`, `registry.rs`), where
//! the OAuth client reads them instead of matching on providers.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The providers a connector exists for. `local` is a library type but not
/// a provider (see [`crate::LibraryType`]).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[serde(try_from = "String", into = "&'static str")]
#[strum(
    serialize_all = "lowercase",
    parse_err_ty = UnknownProvider,
    parse_err_fn = unknown_provider
)]
pub enum ProviderKind {
    /// Google Drive (My Drive or a shared drive).
    #[strum(serialize = "google-drive")]
    GoogleDrive,
    /// OneDrive (personal or for Business), over Microsoft Graph.
    OneDrive,
    /// A SharePoint site's document library, over Microsoft Graph.
    SharePoint,
    /// Dropbox.
    Dropbox,
}

impl ProviderKind {
    /// All of them, in a fixed order (tests iterate over them).
    pub const ALL: &'static [ProviderKind] = <Self as strum::VariantArray>::VARIANTS;

    /// The library and integration `type` string.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A `type` that names no provider. Its message is the one the API answers
/// with (400 "type: ...").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "type: must be one of {list}; got '{0}'",
    list = names(ProviderKind::ALL.iter().map(|k| k.as_str()))
)]
pub struct UnknownProvider(pub String);

/// `a, b, c`: the accepted forms, listed from the enums themselves.
pub(crate) fn names<'a>(forms: impl Iterator<Item = &'a str>) -> String {
    forms.collect::<Vec<_>>().join(", ")
}

fn unknown_provider(s: &str) -> UnknownProvider {
    UnknownProvider(s.to_owned())
}

impl TryFrom<String> for ProviderKind {
    type Error = UnknownProvider;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// A provider's OAuth server and account API, as data: what the OAuth
/// client does differently per provider is read from here
/// (docs/providers.md names each fact's source).
#[derive(Debug, PartialEq, Eq)]
pub struct OAuthProfile {
    /// Whose server it is, for messages and logs (`Google`).
    pub name: &'static str,
    /// Its label in metrics and in cloudsim (`google`). Providers that share
    /// one OAuth server share the label (OneDrive and SharePoint), and an
    /// integration of either serves a library of either.
    pub label: &'static str,
    /// The real authorize endpoint; `{tenant}` stands for the tenant.
    pub authorize_uri: &'static str,
    /// The real token endpoint; `{tenant}` stands for the tenant.
    pub token_uri: &'static str,
    /// The real API base (Drive lives at `BASE/drive/v3`, Graph at
    /// `BASE/v1.0`, Dropbox RPC at `BASE/2`).
    pub api_uri: &'static str,
    /// Where downloads come from when not the API base (Dropbox's content
    /// host). An integration's `apiUri` replaces it too.
    pub content_uri: Option<&'static str>,
    /// The least scope that reads files and the account, offline.
    pub default_scope: &'static str,
    /// Extra authorize parameters that make the provider issue a refresh
    /// token.
    pub offline_params: &'static [(&'static str, &'static str)],
    /// A scope without which no refresh token comes; added to any scope an
    /// admin sets (Microsoft's `offline_access`).
    pub offline_scope: Option<&'static str>,
    /// The scope is sent on token requests too (Microsoft's refresh).
    pub scope_on_token_requests: bool,
    /// The default tenant, for a provider whose endpoints are per tenant;
    /// `None`: the provider has no tenants.
    pub default_tenant: Option<&'static str>,
    /// How a grant is revoked.
    pub revoke: RevokeStyle,
    /// Every refresh returns a new refresh token that replaces the old one.
    pub rotates_refresh_tokens: bool,
    /// How long a newly issued refresh token lives when the token answer
    /// does not say (`refresh_token_expires_in`); `None`: unknown.
    pub refresh_token_lifetime: Option<Duration>,
    /// Where the connected account is read.
    pub account: AccountEndpoint,
}

impl OAuthProfile {
    /// Whether `other` signs in at the same OAuth server.
    pub fn same_server(&self, other: &OAuthProfile) -> bool {
        self.label == other.label
    }
}

/// How a provider revokes a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeStyle {
    /// No per-grant revoke (Microsoft): disconnecting destroys the tokens.
    Unsupported,
    /// A form post of `token=` (the refresh token, else the access token)
    /// to the token endpoint's address less a trailing `/token`, plus
    /// `path` (Google's `/revoke` beside `/token`).
    FormBesideTokenUri { path: &'static str },
    /// A POST with the access token as bearer and a JSON `null` body, at
    /// `path` on the API base (Dropbox's `/2/auth/token/revoke`).
    BearerOnApi { path: &'static str },
}

/// How the account read is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountMethod {
    Get,
    /// A POST with a JSON `null` body (Dropbox RPC).
    PostNull,
}

/// Where the connected account is read, and where its fields sit in the
/// answer (JSON pointers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountEndpoint {
    pub method: AccountMethod,
    /// The path on the API base.
    pub path: &'static str,
    /// A query string, if any (`fields=user`).
    pub query: Option<&'static str>,
    /// The email: the first of these pointers that holds a string.
    pub email: &'static [&'static str],
    pub display_name: &'static str,
    /// The provider's stable account id (required).
    pub account_id: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_forms_round_trip_through_strum_and_serde() {
        let expected = ["google-drive", "onedrive", "sharepoint", "dropbox"];
        assert_eq!(ProviderKind::ALL.len(), expected.len());
        for (kind, text) in ProviderKind::ALL.iter().zip(expected) {
            assert_eq!(kind.as_str(), text);
            assert_eq!(kind.to_string(), text);
            assert_eq!(text.parse::<ProviderKind>(), Ok(*kind));
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<ProviderKind>(&json).unwrap(), *kind);
        }
        assert_eq!(
            UnknownProvider("x".into()).to_string(),
            "type: must be one of google-drive, onedrive, sharepoint, dropbox; got 'x'"
        );
        for bad in ["local", "gdrive", "Google-Drive", "OneDrive", ""] {
            let err = bad.parse::<ProviderKind>().unwrap_err();
            assert_eq!(err, UnknownProvider(bad.to_owned()));
            assert!(serde_json::from_str::<ProviderKind>(&format!("\"{bad}\"")).is_err());
        }
    }
}
