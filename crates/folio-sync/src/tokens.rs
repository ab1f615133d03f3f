//! [`ConnectionTokens`]: the connectors' [`AccessTokenSource`] over the
//! OAuth token manager for one library's connection (refresh ahead of
//! expiry, single flight and rotation are the manager's).
//!
//! One value serves one sync, and keeps the access token it last got while
//! the token has more than [`REUSE_MARGIN`] to live: without it every
//! download of a large sync read the connection from the database twice.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use folio_connectors::{AccessTokenSource, ConnectorError};
use folio_oauth::{AccessToken, ExposeSecret, SecretString, TokenError, TokenManager};
use uuid::Uuid;

/// A kept token is used only while it has longer than this to live, the
/// same margin the token manager refreshes ahead of expiry by.
pub const REUSE_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// Tokens of one connection, for a connector.
#[derive(Clone)]
pub struct ConnectionTokens {
    manager: TokenManager,
    connection_id: Uuid,
    kept: Arc<Mutex<Option<Kept>>>,
}

#[derive(Clone)]
struct Kept {
    token: String,
    expires_at: DateTime<Utc>,
}

impl ConnectionTokens {
    pub fn new(manager: TokenManager, connection_id: Uuid) -> Self {
        Self {
            manager,
            connection_id,
            kept: Arc::default(),
        }
    }

    fn kept_token(&self) -> Option<String> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.as_ref()
            .filter(|k| k.expires_at - Utc::now() > REUSE_MARGIN)
            .map(|k| k.token.clone())
    }

    /// Keeps `token` for reuse when its expiry is known; returns it.
    fn keep(&self, token: &AccessToken) -> String {
        let value = token.token.expose_secret().to_owned();
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        *kept = token.expires_at.map(|expires_at| Kept {
            token: value.clone(),
            expires_at,
        });
        value
    }
}

#[async_trait]
impl AccessTokenSource for ConnectionTokens {
    async fn access_token(&self) -> Result<String, ConnectorError> {
        if let Some(token) = self.kept_token() {
            return Ok(token);
        }
        let token = self
            .manager
            .access_token(self.connection_id)
            .await
            .map_err(connector_error)?;
        Ok(self.keep(&token))
    }

    async fn refresh_after_unauthorized(&self, rejected: &str) -> Result<String, ConnectorError> {
        let rejected = SecretString::from(rejected.to_owned());
        let token = self
            .manager
            .refresh_after_unauthorized(self.connection_id, &rejected)
            .await
            .map_err(connector_error)?;
        Ok(self.keep(&token))
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
