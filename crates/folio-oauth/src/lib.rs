//! OAuth2 for provider connections.
//!
//! Reading order: [`provider`] (an integration's endpoints, resolved from
//! its provider's profile: `folio_connectors::registry` holds each
//! provider's OAuth facts as data), [`urlcheck`] (which URLs an
//! admin may point Folio at), [`seal`] (secrets at rest), [`pkce`],
//! [`client`] (token endpoint, revoke, account; [`redact`] makes their
//! answers fit for logs), then [`tokens`]: the [`TokenManager`], the one
//! place that hands out access tokens, refreshes them (single-flight), and
//! runs the authorize/callback flow.
//!
//! Connectors get a token with [`TokenManager::access_token`] and, when the
//! API answers 401, call [`TokenManager::refresh_after_unauthorized`] once
//! with the token that was refused, then retry once.

pub mod client;
pub mod metrics;
pub mod pkce;
pub mod provider;
pub mod redact;
pub mod seal;
pub mod tokens;
pub mod urlcheck;

pub use client::{Account, ClientCredentials, OAuthError, OAuthHttp};
pub use folio_domain::ProviderKind;
pub use provider::{Endpoints, FieldError, IntegrationType};
pub use seal::{Aad, Keyring, SealError};
pub use secrecy::{ExposeSecret, SecretString};
pub use tokens::{AccessToken, AuthorizeRequest, Authorized, TokenError, TokenManager};
pub use urlcheck::UrlPolicy;
