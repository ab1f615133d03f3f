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

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use folio_store::connections::status;
use folio_store::{Connection, Integration, OAuthState, SealedTokens, Store, StoreError};
use secrecy::{ExposeSecret, SecretString};
use url::Url;
use uuid::Uuid;

use crate::client::{
    Account, ClientCredentials, Grant, OAuthError, OAuthHttp, TokenResponse, authorize_url,
};
use crate::metrics::{RefreshResult, record_refresh};
use crate::pkce;
use crate::provider::{Endpoints, FieldError, IntegrationType, Provider};
use crate::seal::{Aad, Keyring, SealError};
use crate::urlcheck::UrlPolicy;

/// How long a pending authorization (`state`) lives.
pub const STATE_TTL: Duration = Duration::from_secs(600);

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
        "the library is connected to {provider} account '{expected}', but you signed in as '{got}'; sign in as '{expected}', or start again with ?switchAccount=true to switch accounts (the library will then mirror the other account)"
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

/// Who starts an authorization, for which library, and where it ends.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest<'a> {
    pub library_id: Uuid,
    /// The authorizing user: the connection's owner.
    pub user_id: Uuid,
    /// Folio's callback URL, registered with the provider.
    pub redirect_uri: &'a str,
    /// An already-checked URL to send the browser to afterwards.
    pub return_to: Option<String>,
    /// Allow the connection to change provider account.
    pub switch_account: bool,
    /// Passed on as `login_hint`.
    pub login_hint: Option<&'a str>,
}

/// What a completed authorization made.
#[derive(Debug)]
pub struct Authorized {
    pub connection: Connection,
    pub account: Account,
    pub library_id: Uuid,
    pub return_to: Option<String>,
}

/// When to refresh.
#[derive(Clone, Copy)]
enum Need<'a> {
    /// Only if the token expires within the margin.
    Expiring,
    /// If the stored token is still the one the API refused.
    Rejected(&'a SecretString),
    /// If the grant was last used before this time (keep-alive).
    IdleSince(DateTime<Utc>),
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
        let itype: IntegrationType = integration
            .integration_type
            .parse()
            .map_err(|e: crate::provider::UnknownType| FieldError::new("type", e.to_string()))?;
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

    async fn integration_of(
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

    fn open_token(
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

    fn seal_token(
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

    /// A valid access token for the connection, refreshed first when it
    /// expires within the margin.
    ///
    /// Errors: [`TokenError::NeedsReauthorization`] (tell the user to
    /// reconnect), [`TokenError::Revoked`], [`TokenError::Provider`] (the
    /// refresh failed; temporary or not), [`TokenError::NotFound`].
    pub async fn access_token(&self, connection_id: Uuid) -> Result<AccessToken, TokenError> {
        self.obtain(connection_id, Need::Expiring).await
    }

    /// Call when the API answered 401 to `rejected`: refreshes once (unless
    /// another caller already replaced that token) and returns the token to
    /// retry with. Retry once; a second 401 is an error, not a loop.
    pub async fn refresh_after_unauthorized(
        &self,
        connection_id: Uuid,
        rejected: &SecretString,
    ) -> Result<AccessToken, TokenError> {
        self.obtain(connection_id, Need::Rejected(rejected)).await
    }

    fn lock_for(&self, id: Uuid) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = match self.inner.locks.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if locks.len() > 10_000 {
            locks.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        locks.entry(id).or_default().clone()
    }

    fn needs_refresh(
        &self,
        connection: &Connection,
        current: &SecretString,
        need: Need<'_>,
    ) -> bool {
        match need {
            Need::Expiring => connection
                .token_expires_at
                .is_some_and(|at| at <= Utc::now() + self.inner.margin),
            Need::Rejected(rejected) => current.expose_secret() == rejected.expose_secret(),
            Need::IdleSince(cutoff) => {
                connection
                    .last_refreshed_at
                    .unwrap_or(connection.last_authorized_at)
                    < cutoff
            }
        }
    }

    async fn load_usable(
        &self,
        connection_id: Uuid,
    ) -> Result<(Connection, SecretString), TokenError> {
        let connection = self
            .inner
            .store
            .connection(connection_id)
            .await?
            .ok_or(TokenError::NotFound)?;
        match connection.status.as_str() {
            status::ACTIVE => {}
            status::REVOKED => return Err(TokenError::Revoked),
            _ => {
                let provider = self
                    .integration_of(&connection)
                    .await
                    .map_or("provider", |(e, _)| e.provider.name());
                return Err(TokenError::NeedsReauthorization { provider });
            }
        }
        let current =
            self.open_token(&connection, "access_token", &connection.access_token_sealed)?;
        Ok((connection, current))
    }

    async fn obtain(&self, connection_id: Uuid, need: Need<'_>) -> Result<AccessToken, TokenError> {
        // Fast path: no lock when the stored token will do.
        let (connection, current) = self.load_usable(connection_id).await?;
        if !self.needs_refresh(&connection, &current, need) {
            let (endpoints, _) = self.integration_of(&connection).await?;
            return Ok(AccessToken {
                connection_id,
                token: current,
                expires_at: connection.token_expires_at,
                endpoints,
            });
        }
        let lock = self.lock_for(connection_id);
        let _guard = lock.lock().await;
        let deadline = tokio::time::Instant::now()
            + self.inner.lease.to_std().unwrap_or(Duration::from_secs(60));
        loop {
            let (connection, current) = self.load_usable(connection_id).await?;
            let (endpoints, credentials) = self.integration_of(&connection).await?;
            if !self.needs_refresh(&connection, &current, need) {
                return Ok(AccessToken {
                    connection_id,
                    token: current,
                    expires_at: connection.token_expires_at,
                    endpoints,
                });
            }
            let now = Utc::now();
            let claimed = self
                .inner
                .store
                .begin_refresh(
                    connection_id,
                    connection.version,
                    now,
                    now + self.inner.lease,
                )
                .await?;
            let Some(claimed) = claimed else {
                // Another replica is refreshing: wait for the row to move.
                if tokio::time::Instant::now() > deadline {
                    return Err(TokenError::Busy);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            match self
                .refresh(&connection, claimed, &endpoints, &credentials)
                .await?
            {
                Some(token) => return Ok(token),
                None => continue, // the row changed under us (a reconnect): look again
            }
        }
    }

    /// Redeems the refresh token under a claimed lease and stores the
    /// result. `Ok(None)`: the row changed meanwhile; nothing was stored.
    /// Each call counts once in `folio_token_refreshes_total`.
    async fn refresh(
        &self,
        connection: &Connection,
        claimed: i64,
        endpoints: &Endpoints,
        credentials: &ClientCredentials,
    ) -> Result<Option<AccessToken>, TokenError> {
        let refreshed = self
            .redeem_refresh_token(connection, claimed, endpoints, credentials)
            .await;
        let result = match &refreshed {
            Ok(_) => RefreshResult::Ok,
            Err(TokenError::NeedsReauthorization { .. }) => RefreshResult::Reauthorize,
            Err(_) => RefreshResult::Failed,
        };
        record_refresh(endpoints.provider, result);
        refreshed
    }

    async fn redeem_refresh_token(
        &self,
        connection: &Connection,
        claimed: i64,
        endpoints: &Endpoints,
        credentials: &ClientCredentials,
    ) -> Result<Option<AccessToken>, TokenError> {
        let store = &self.inner.store;
        let Some(sealed_refresh) = &connection.refresh_token_sealed else {
            store
                .set_connection_status(connection.id, status::NEEDS_REAUTHORIZATION)
                .await?;
            return Err(TokenError::NeedsReauthorization {
                provider: endpoints.provider.name(),
            });
        };
        let refresh_token = self.open_token(connection, "refresh_token", sealed_refresh)?;
        let answer = self
            .inner
            .http
            .token(endpoints, credentials, Grant::RefreshToken(&refresh_token))
            .await;
        let response = match answer {
            Ok(response) => response,
            Err(OAuthError::InvalidGrant(_)) => {
                tracing::warn!(connection = %connection.id, provider = endpoints.provider.name(), "refresh token refused (invalid_grant); the connection needs re-authorization");
                store
                    .set_connection_status(connection.id, status::NEEDS_REAUTHORIZATION)
                    .await?;
                return Err(TokenError::NeedsReauthorization {
                    provider: endpoints.provider.name(),
                });
            }
            Err(other) => {
                store.abandon_refresh(connection.id, claimed).await?;
                return Err(other.into());
            }
        };
        let now = Utc::now();
        let tokens = self.sealed_tokens(connection.id, endpoints.provider, &response, now)?;
        if !store
            .finish_refresh(connection.id, claimed, &tokens, now)
            .await?
        {
            tracing::warn!(connection = %connection.id, "connection changed during a refresh; the refreshed token was dropped");
            return Ok(None);
        }
        tracing::info!(connection = %connection.id, provider = endpoints.provider.name(), rotated = response.refresh_token.is_some(), "refreshed the access token");
        Ok(Some(AccessToken {
            connection_id: connection.id,
            token: response.access_token,
            expires_at: tokens.token_expires_at,
            endpoints: endpoints.clone(),
        }))
    }

    fn sealed_tokens(
        &self,
        connection_id: Uuid,
        provider: Provider,
        response: &TokenResponse,
        now: DateTime<Utc>,
    ) -> Result<SealedTokens, SealError> {
        let refresh_token_sealed = response
            .refresh_token
            .as_ref()
            .map(|t| self.seal_token(connection_id, "refresh_token", t))
            .transpose()?;
        Ok(SealedTokens {
            access_token_sealed: self.seal_token(
                connection_id,
                "access_token",
                &response.access_token,
            )?,
            token_expires_at: response
                .expires_in
                .map(|s| now + chrono::Duration::seconds(s)),
            refresh_token_expires_at: refresh_expiry(provider, response, now),
            refresh_token_sealed,
        })
    }

    /// Refreshes every active connection whose grant was last used more
    /// than `idle_for` ago, so providers do not expire idle refresh tokens
    /// (Google: 6 months unused; Microsoft: 90 days). Also drops expired
    /// pending authorizations. Returns how many were refreshed.
    pub async fn keep_alive_pass(&self, idle_for: chrono::Duration) -> Result<usize, TokenError> {
        let now = Utc::now();
        self.inner.store.delete_expired_oauth_states(now).await?;
        let cutoff = now - idle_for;
        let mut refreshed = 0;
        for id in self.inner.store.connections_idle_since(cutoff).await? {
            match self.obtain(id, Need::IdleSince(cutoff)).await {
                Ok(_) => refreshed += 1,
                Err(err) => {
                    tracing::warn!(connection = %id, error = %err, "keep-alive refresh failed")
                }
            }
        }
        Ok(refreshed)
    }

    /// Runs [`Self::keep_alive_pass`] every `every`, for ever.
    pub fn spawn_keep_alive(
        &self,
        every: Duration,
        idle_for: chrono::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let manager = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            loop {
                ticker.tick().await;
                match manager.keep_alive_pass(idle_for).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(count = n, "keep-alive refreshed idle connections"),
                    Err(err) => tracing::warn!(error = %err, "keep-alive pass failed"),
                }
            }
        })
    }

    /// Starts an authorization: stores a single-use `state` (hashed) bound
    /// to the user, library and integration with a sealed PKCE verifier,
    /// and returns the provider URL to send the browser to.
    pub async fn begin_authorization(
        &self,
        integration: &Integration,
        request: AuthorizeRequest<'_>,
    ) -> Result<Url, TokenError> {
        let AuthorizeRequest {
            library_id,
            user_id,
            redirect_uri,
            return_to,
            switch_account,
            login_hint,
        } = request;
        let (_, endpoints, credentials) = self.integration_parts(integration)?;
        self.check_urls(&endpoints).await?;
        let state = pkce::new_state();
        let verifier = pkce::new_verifier();
        let state_hash = pkce::hash_state(state.expose_secret());
        let now = Utc::now();
        let record = OAuthState {
            pkce_verifier_sealed: self.inner.keys.seal(
                aad("oauth_states", &state_hash, "pkce_verifier"),
                verifier.expose_secret(),
            )?,
            state_hash,
            user_id,
            library_id,
            integration_id: integration.id,
            redirect_uri: redirect_uri.to_owned(),
            return_to,
            switch_account,
            created_at: now,
            expires_at: now
                + chrono::Duration::from_std(STATE_TTL)
                    .unwrap_or_else(|_| chrono::Duration::minutes(10)),
        };
        self.inner.store.put_oauth_state(&record).await?;
        Ok(authorize_url(
            &endpoints,
            &credentials.client_id,
            redirect_uri,
            state.expose_secret(),
            &pkce::challenge(&verifier),
            login_hint,
        ))
    }

    /// Spends a `state` without a code (the provider answered with an
    /// error): it cannot be used again. Returns it if it was valid.
    pub async fn abandon_authorization(
        &self,
        state: &str,
    ) -> Result<Option<OAuthState>, TokenError> {
        let taken = self
            .inner
            .store
            .take_oauth_state(&pkce::hash_state(state))
            .await?;
        Ok(taken.filter(|s| s.expires_at > Utc::now()))
    }

    /// Finishes an authorization: spends the `state`, exchanges the code
    /// (with the PKCE verifier), reads the account, checks it is the one
    /// the library was connected with (unless `switchAccount`), and stores
    /// the connection. Nothing is stored on any error.
    pub async fn complete_authorization(
        &self,
        state: &str,
        code: &str,
    ) -> Result<Authorized, TokenError> {
        let pending = self
            .abandon_authorization(state)
            .await?
            .ok_or(TokenError::InvalidState)?;
        let store = &self.inner.store;
        let integration = store
            .library_integration(pending.library_id)
            .await?
            .filter(|i| i.id == pending.integration_id)
            .ok_or(TokenError::IntegrationChanged)?;
        let (_, endpoints, credentials) = self.integration_parts(&integration)?;
        self.check_urls(&endpoints).await?;
        let verifier = self.inner.keys.open(
            aad("oauth_states", &pending.state_hash, "pkce_verifier"),
            &pending.pkce_verifier_sealed,
        )?;
        let grant = Grant::AuthorizationCode {
            code,
            redirect_uri: &pending.redirect_uri,
            code_verifier: &verifier,
        };
        let response = self
            .inner
            .http
            .token(&endpoints, &credentials, grant)
            .await?;
        let account = self
            .inner
            .http
            .account(&endpoints, &response.access_token)
            .await?;
        let existing = store.connection_for_library(pending.library_id).await?;
        if let Some(old) = &existing
            && old.provider_account_id != account.account_id
            && !pending.switch_account
        {
            return Err(TokenError::DifferentAccount {
                provider: endpoints.provider.name(),
                expected: old.provider_account_id.clone(),
                got: account
                    .email
                    .clone()
                    .unwrap_or_else(|| account.account_id.clone()),
            });
        }
        let now = Utc::now();
        let id = existing.as_ref().map_or_else(Uuid::now_v7, |c| c.id);
        let tokens = self.sealed_tokens(id, endpoints.provider, &response, now)?;
        let connection = Connection {
            id,
            library_id: pending.library_id,
            integration_id: integration.id,
            owner_id: pending.user_id,
            provider_account_id: account.account_id.clone(),
            access_token_sealed: tokens.access_token_sealed,
            refresh_token_sealed: tokens.refresh_token_sealed,
            token_expires_at: tokens.token_expires_at,
            refresh_token_expires_at: tokens.refresh_token_expires_at,
            status: status::ACTIVE.to_owned(),
            version: existing.as_ref().map_or(0, |c| c.version),
            refresh_lease_until: None,
            last_authorized_at: now,
            last_refreshed_at: None,
            created_at: existing.as_ref().map_or(now, |c| c.created_at),
            updated_at: now,
        };
        let connection = store.put_connection(&connection).await?;
        tracing::info!(library = %pending.library_id, connection = %connection.id, provider = endpoints.provider.name(), "library connected");
        Ok(Authorized {
            connection,
            account,
            library_id: pending.library_id,
            return_to: pending.return_to,
        })
    }

    /// Reads the connected account live, refreshing once on a 401.
    pub async fn account(&self, connection_id: Uuid) -> Result<Account, TokenError> {
        let token = self.access_token(connection_id).await?;
        match self
            .inner
            .http
            .account(&token.endpoints, &token.token)
            .await
        {
            Err(OAuthError::Unauthorized) => {
                let retry = self
                    .refresh_after_unauthorized(connection_id, &token.token)
                    .await?;
                Ok(self
                    .inner
                    .http
                    .account(&retry.endpoints, &retry.token)
                    .await?)
            }
            other => Ok(other?),
        }
    }

    /// Disconnects: revokes at the provider where it can (best effort,
    /// logged), then deletes the connection and its tokens. Returns
    /// whether the provider confirmed the revocation.
    pub async fn disconnect(&self, connection: &Connection) -> Result<bool, TokenError> {
        let revoked = match self.revoke(connection).await {
            Ok(true) => true,
            Ok(false) => {
                tracing::info!(connection = %connection.id, "Microsoft has no per-app revoke endpoint: the tokens are destroyed, the user stays signed in elsewhere (consent can be removed in the account portal)");
                false
            }
            Err(err) => {
                tracing::warn!(connection = %connection.id, error = %err, "could not revoke at the provider; destroying the tokens anyway");
                false
            }
        };
        self.inner.store.delete_connection(connection.id).await?;
        Ok(revoked)
    }

    async fn revoke(&self, connection: &Connection) -> Result<bool, TokenError> {
        let (endpoints, _) = self.integration_of(connection).await?;
        if endpoints.revoke_uri().is_none() {
            return Ok(false);
        }
        self.inner
            .policy
            .check_resolved("tokenUri", &endpoints.token_uri)
            .await?;
        let access =
            self.open_token(connection, "access_token", &connection.access_token_sealed)?;
        let refresh = connection
            .refresh_token_sealed
            .as_deref()
            .map(|s| self.open_token(connection, "refresh_token", s))
            .transpose()?;
        match self
            .inner
            .http
            .revoke(&endpoints, &access, refresh.as_ref())
            .await
        {
            // Dropbox revokes by bearer token: an expired one needs a refresh first.
            Err(OAuthError::Unauthorized) if connection.status == status::ACTIVE => {
                let fresh = self
                    .refresh_after_unauthorized(connection.id, &access)
                    .await?;
                Ok(self
                    .inner
                    .http
                    .revoke(&endpoints, &fresh.token, None)
                    .await?)
            }
            other => Ok(other?),
        }
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

/// When the refresh token expires, if known: the token response's
/// `refresh_token_expires_in`, else Microsoft's fixed 90-day lifetime for a
/// newly issued one; Google and Dropbox give none (null).
fn refresh_expiry(
    provider: Provider,
    response: &TokenResponse,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if let Some(seconds) = response.refresh_token_expires_in {
        return Some(now + chrono::Duration::seconds(seconds));
    }
    (provider == Provider::Microsoft && response.refresh_token.is_some())
        .then(|| now + chrono::Duration::days(90))
}
