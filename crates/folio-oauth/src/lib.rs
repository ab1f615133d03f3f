//! OAuth2 for provider connections.
//!
//! Reading order: [`provider`] (each provider's real endpoints, scopes and
//! offline parameters; integration types), [`urlcheck`] (which URLs an
//! admin may point Folio at), [`seal`] (secrets at rest), [`pkce`],
//! [`client`] (token endpoint, revoke, account), then [`tokens`]: the
//! [`TokenManager`], the one place that hands out access tokens, refreshes
//! them (single-flight), and runs the authorize/callback flow.
//!
//! Connectors get a token with [`TokenManager::access_token`] and, when the
//! API answers 401, call [`TokenManager::refresh_after_unauthorized`] once
//! with the token that was refused, then retry once.

pub mod client;
pub mod metrics;
pub mod pkce;
pub mod provider;
pub mod seal;
pub mod tokens;
pub mod urlcheck;

pub use client::{Account, ClientCredentials, OAuthError, OAuthHttp};
pub use provider::{Endpoints, FieldError, IntegrationType, Provider};
pub use seal::{Aad, Keyring, SealError};
pub use secrecy::{ExposeSecret, SecretString};
pub use tokens::{AccessToken, AuthorizeRequest, Authorized, TokenError, TokenManager};
pub use urlcheck::UrlPolicy;
