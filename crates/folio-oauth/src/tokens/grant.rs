//! Using and ending a grant: the live account read (refreshing once on a
//! 401), and disconnecting (revoking where the provider's profile says it
//! can, then destroying the tokens).

use folio_store::Connection;
use folio_store::connections::status;
use uuid::Uuid;

use super::{TokenError, TokenManager};
use crate::client::{Account, OAuthError};

impl TokenManager {
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
                let provider = self
                    .integration_of(connection)
                    .await
                    .map_or("the provider", |(e, _)| e.oauth.name);
                tracing::info!(connection = %connection.id, "{provider} has no per-app revoke endpoint: the tokens are destroyed, the user stays signed in elsewhere (consent can be removed in the account portal)");
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
}
