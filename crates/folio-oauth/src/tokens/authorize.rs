//! The authorize/callback flow, where tokens are born: a single-use
//! `state` with a sealed PKCE verifier, then the code exchange, the
//! account check and the connection row.

use std::time::Duration;

use chrono::Utc;
use folio_store::connections::status;
use folio_store::{Connection, Integration, OAuthState};
use secrecy::ExposeSecret;
use url::Url;
use uuid::Uuid;

use super::{TokenError, TokenManager, aad};
use crate::client::{Account, Grant, authorize_url};
use crate::pkce;

/// How long a pending authorization (`state`) lives.
pub const STATE_TTL: Duration = Duration::from_secs(600);

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

impl TokenManager {
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
                provider: endpoints.oauth.name,
                expected: old.provider_account_id.clone(),
                got: account
                    .email
                    .clone()
                    .unwrap_or_else(|| account.account_id.clone()),
            });
        }
        let now = Utc::now();
        let id = existing.as_ref().map_or_else(Uuid::now_v7, |c| c.id);
        let tokens = self.sealed_tokens(id, endpoints.oauth, &response, now)?;
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
        tracing::info!(library = %pending.library_id, connection = %connection.id, provider = endpoints.oauth.name, "library connected");
        Ok(Authorized {
            connection,
            account,
            library_id: pending.library_id,
            return_to: pending.return_to,
        })
    }
}
