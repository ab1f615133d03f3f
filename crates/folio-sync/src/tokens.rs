//! [`ConnectionTokens`]: the connectors' [`AccessTokenSource`] over the
//! OAuth token manager for one library's connection (refresh ahead of
//! expiry, single flight and rotation are the manager's).

use async_trait::async_trait;
use folio_connectors::{AccessTokenSource, ConnectorError};
use folio_oauth::{ExposeSecret, SecretString, TokenError, TokenManager};
use uuid::Uuid;

/// Tokens of the connection `connection_id`, for a connector.
#[derive(Clone)]
pub struct ConnectionTokens {
    pub manager: TokenManager,
    pub connection_id: Uuid,
}

#[async_trait]
impl AccessTokenSource for ConnectionTokens {
    async fn access_token(&self) -> Result<String, ConnectorError> {
        let token = self
            .manager
            .access_token(self.connection_id)
            .await
            .map_err(connector_error)?;
        Ok(token.token.expose_secret().to_owned())
    }

    async fn refresh_after_unauthorized(&self, rejected: &str) -> Result<String, ConnectorError> {
        let rejected = SecretString::from(rejected.to_owned());
        let token = self
            .manager
            .refresh_after_unauthorized(self.connection_id, &rejected)
            .await
            .map_err(connector_error)?;
        Ok(token.token.expose_secret().to_owned())
    }
}

/// A token failure in the connectors' words: a dead or revoked grant needs
/// the user (422 upstream); a temporary provider failure is retried.
pub fn connector_error(err: TokenError) -> ConnectorError {
    match &err {
        TokenError::NeedsReauthorization { .. } | TokenError::Revoked | TokenError::NotFound => {
            ConnectorError::NeedsReauthorization(err.to_string())
        }
        TokenError::Provider(inner) if inner.is_temporary() => {
            ConnectorError::temporary(err.to_string())
        }
        _ => ConnectorError::Permanent(err.to_string()),
    }
}
