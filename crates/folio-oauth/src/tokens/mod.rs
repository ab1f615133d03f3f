//! The token lifecycle, in one place.
//!
//! [`TokenManager::access_token`] returns a token that is valid for at
//! least the refresh margin, refreshing first when needed. Refreshes are
//! single-flight per connection: callers in one process queue on a
//! per-connection mutex, and replicas sharing the database claim a lease on
//! the row with a compare-and-set on its version (see
//! `folio_store::connections`), so a rotating refresh token is redeemed
//! exactly once. A rotated refresh token is stored (in the same write as
//! the new access token) before the new access token is handed out.
//! `invalid_grant` marks the connection `needsReauthorization`; every later
//! use fails with [`TokenError::NeedsReauthorization`] until the library is
//! connected again.
//!
//! The authorize/callback flow ([`TokenManager::begin_authorization`],
//! [`TokenManager::complete_authorization`]) lives here too, because it is
//! where tokens are born.
//!
//! One [`TokenManager`], its work split by concern: this file holds the
//! manager, its errors and the sealing of secrets; [`refresh`] hands out
//! and refreshes access tokens (single-flight, keep-alive); [`authorize`]
//! runs the authorize/callback flow; [`grant`] reads the account and ends
//! a grant (disconnect, revoke).

mod authorize;
mod grant;
mod refresh;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use folio_store::{Connection, Integration, Store, StoreError};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

pub use authorize::{AuthorizeRequest, Authorized, STATE_TTL};

use crate::client::{ClientCredentials, OAuthError, OAuthHttp};
use crate::provider::{Endpoints, FieldError, IntegrationType};
use crate::seal::{Aad, Keyring, SealError};
use crate::urlcheck::UrlPolicy;

/// A valid access token and where to use it. `Debug` redacts the token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub connection_id: Uuid,
    pub token: SecretString,
    pub expires_at: Option<DateTime<Utc>>,
    pub endpoints: Endpoints,
}

/// Why no token (or no connection) could be had.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no such connection")]
    NotFound,
    /// The grant is dead (`invalid_grant`, or no refresh token): 422.
    #[error(
        "the {provider} connection needs to be re-authorized: the provider refused the stored grant; reconnect the library"
    )]
    NeedsReauthorization { provider: &'static str },
    #[error("the connection was revoked; connect the library again")]
    Revoked,
    /// The provider refused or failed (see [`OAuthError::is_temporary`]).
    #[error(transparent)]
    Provider(#[from] OAuthError),
    /// An admin-entered URL is unsafe or malformed.
    #[error("the integration is misconfigured: {0}")]
    Integration(#[from] FieldError),
    /// The `state` is unknown, already used, or expired: 400. (The caller
    /// says where to start again: the route is its own.)
    #[error(
        "this authorization link is unknown, already used or expired (links live 10 minutes); start again"
    )]
    InvalidState,
    /// Reconnected as another provider account without `switchAccount`: 409.
    #[error(
        "the library is connected to {provider} account '{expected}', but you signed in as '{got}'; sign in as '{expected}', or start again with ?switchAccount=true to switch accounts, then sync with purge so the library holds that account's files and none of the old one's"
    )]
    DifferentAccount {
        provider: &'static str,
        expected: String,
        got: String,
    },
    /// The library's integration changed or vanished during the flow: 409.
    #[error("the library's integration changed while authorizing; start again")]
    IntegrationChanged,
    /// Another replica holds the refresh lease and did not finish in time.
    #[error("another server is refreshing this connection's token; try again")]
    Busy,
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("sealed secret: {0}")]
    Seal(#[from] SealError),
}

struct Inner {
    store: Store,
    keys: Keyring,
    http: OAuthHttp,
    policy: UrlPolicy,
    margin: chrono::Duration,
    lease: chrono::Duration,
    locks: Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>,
}

/// Hands out valid access tokens and runs the OAuth flows. Cheap to clone.
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("keys", &self.inner.keys)
            .field("policy", &self.inner.policy)
            .finish()
    }
}

fn aad<'a>(table: &'a str, row: &'a str, column: &'a str) -> Aad<'a> {
    Aad { table, row, column }
}

impl TokenManager {
    /// A manager refreshing tokens 5 minutes before they expire.
    pub fn new(store: Store, keys: Keyring, policy: UrlPolicy) -> Result<Self, OAuthError> {
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                keys,
                http: OAuthHttp::new(Duration::from_secs(30), policy)?,
                policy,
                margin: chrono::Duration::minutes(5),
                lease: chrono::Duration::seconds(60),
                locks: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn keys(&self) -> &Keyring {
        &self.inner.keys
    }

    pub fn http(&self) -> &OAuthHttp {
        &self.inner.http
    }

    pub fn policy(&self) -> UrlPolicy {
        self.inner.policy
    }

    /// Seals an integration's client secret for its row.
    pub fn seal_client_secret(
        &self,
        integration_id: Uuid,
        secret: &SecretString,
    ) -> Result<String, SealError> {
        let row = integration_id.to_string();
        self.inner.keys.seal(
            aad("integrations", &row, "client_secret"),
            secret.expose_secret(),
        )
    }

    /// An integration's type, resolved endpoints and credentials.
    pub fn integration_parts(
        &self,
        integration: &Integration,
    ) -> Result<(IntegrationType, Endpoints, ClientCredentials), TokenError> {
        let itype: IntegrationType = integration.integration_type;
        let endpoints = Endpoints::resolve(
            itype,
            integration.auth_uri.as_deref(),
            integration.token_uri.as_deref(),
            integration.api_uri.as_deref(),
            integration.scope.as_deref(),
            integration.tenant.as_deref(),
        )?;
        let row = integration.id.to_string();
        let secret = self.inner.keys.open(
            aad("integrations", &row, "client_secret"),
            &integration.client_secret_sealed,
        )?;
        let credentials = ClientCredentials {
            client_id: integration.client_id.clone(),
            client_secret: secret,
        };
        Ok((itype, endpoints, credentials))
    }

    /// Checks every URL of the integration, resolving hosts.
    pub async fn check_urls(&self, endpoints: &Endpoints) -> Result<(), FieldError> {
        let policy = self.inner.policy;
        policy
            .check_resolved("authUri", &endpoints.auth_uri)
            .await?;
        policy
            .check_resolved("tokenUri", &endpoints.token_uri)
            .await?;
        policy.check_resolved("apiUri", &endpoints.api_uri).await
    }

    pub(super) async fn integration_of(
        &self,
        connection: &Connection,
    ) -> Result<(Endpoints, ClientCredentials), TokenError> {
        let integration = self
            .inner
            .store
            .integration(connection.integration_id)
            .await?
            .ok_or(TokenError::IntegrationChanged)?;
        let (_, endpoints, credentials) = self.integration_parts(&integration)?;
        Ok((endpoints, credentials))
    }

    pub(super) fn open_token(
        &self,
        connection: &Connection,
        column: &str,
        sealed: &str,
    ) -> Result<SecretString, SealError> {
        let row = connection.id.to_string();
        self.inner
            .keys
            .open(aad("connections", &row, column), sealed)
    }

    pub(super) fn seal_token(
        &self,
        connection_id: Uuid,
        column: &str,
        token: &SecretString,
    ) -> Result<String, SealError> {
        let row = connection_id.to_string();
        self.inner
            .keys
            .seal(aad("connections", &row, column), token.expose_secret())
    }

    /// Re-seals every stored secret under the keyring's current key, with
    /// a compare-and-set per value (a refresh racing with rotation wins
    /// and already wrote under the current key). Returns (re-sealed,
    /// already current).
    pub async fn reseal_all(&self) -> Result<(usize, usize), TokenError> {
        let current = self.inner.keys.current_key_id();
        let (mut resealed, mut kept) = (0, 0);
        for value in self.inner.store.sealed_values().await? {
            if Keyring::key_id_of(&value.value) == Some(current) {
                kept += 1;
                continue;
            }
            let place = aad(value.table, &value.row, value.column);
            let plain = self.inner.keys.open(place, &value.value)?;
            let sealed = self.inner.keys.seal(place, plain.expose_secret())?;
            if self
                .inner
                .store
                .replace_sealed_value(&value, &sealed)
                .await?
            {
                resealed += 1;
            }
        }
        Ok((resealed, kept))
    }
}
