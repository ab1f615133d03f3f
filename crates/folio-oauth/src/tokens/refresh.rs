//! Handing out access tokens and refreshing them: single-flight per
//! connection (a mutex in the process, a lease on the row across
//! replicas), after a 401, and for idle grants (keep-alive).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use folio_domain::provider::OAuthProfile;
use folio_store::connections::status;
use folio_store::{Connection, SealedTokens};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use super::{AccessToken, TokenError, TokenManager};
use crate::client::{ClientCredentials, Grant, OAuthError, TokenResponse};
use crate::metrics::{RefreshResult, record_refresh};
use crate::provider::Endpoints;
use crate::seal::SealError;

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

impl TokenManager {
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
                    .map_or("provider", |(e, _)| e.oauth.name);
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
        record_refresh(endpoints.oauth, result);
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
                provider: endpoints.oauth.name,
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
                tracing::warn!(connection = %connection.id, provider = endpoints.oauth.name, "refresh token refused (invalid_grant); the connection needs re-authorization");
                store
                    .set_connection_status(connection.id, status::NEEDS_REAUTHORIZATION)
                    .await?;
                return Err(TokenError::NeedsReauthorization {
                    provider: endpoints.oauth.name,
                });
            }
            Err(other) => {
                store.abandon_refresh(connection.id, claimed).await?;
                return Err(other.into());
            }
        };
        let now = Utc::now();
        let tokens = self.sealed_tokens(connection.id, endpoints.oauth, &response, now)?;
        if !store
            .finish_refresh(connection.id, claimed, &tokens, now)
            .await?
        {
            tracing::warn!(connection = %connection.id, "connection changed during a refresh; the refreshed token was dropped");
            return Ok(None);
        }
        let rotated = response.refresh_token.is_some();
        if endpoints.oauth.rotates_refresh_tokens && !rotated {
            tracing::warn!(connection = %connection.id, provider = endpoints.oauth.name, "the provider rotates refresh tokens but sent none; the stored one stays");
        }
        tracing::info!(connection = %connection.id, provider = endpoints.oauth.name, rotated, "refreshed the access token");
        Ok(Some(AccessToken {
            connection_id: connection.id,
            token: response.access_token,
            expires_at: tokens.token_expires_at,
            endpoints: endpoints.clone(),
        }))
    }

    pub(super) fn sealed_tokens(
        &self,
        connection_id: Uuid,
        oauth: &OAuthProfile,
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
            refresh_token_expires_at: refresh_expiry(oauth, response, now),
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
}

/// When the refresh token expires, if known: the token response's
/// `refresh_token_expires_in`, else the profile's fixed lifetime for a
/// newly issued one (Microsoft's 90 days); Google and Dropbox give none
/// (null).
fn refresh_expiry(
    oauth: &OAuthProfile,
    response: &TokenResponse,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if let Some(seconds) = response.refresh_token_expires_in {
        return Some(now + chrono::Duration::seconds(seconds));
    }
    let lifetime = oauth.refresh_token_lifetime?;
    let lifetime = chrono::Duration::from_std(lifetime).ok()?;
    response.refresh_token.is_some().then(|| now + lifetime)
}
