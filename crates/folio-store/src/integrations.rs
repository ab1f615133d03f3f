//! Integrations (OAuth clients), the integration a library uses, and the
//! pending authorizations (`oauth_states`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::models::{Integration, OAuthState};
use crate::store::{BeginWrite, Store, on_db};

const INTEGRATION_COLUMNS: &str = "id, type, name, client_id, client_secret_sealed, auth_uri, \
                                   token_uri, scope, api_uri, tenant, created_at, updated_at";

const STATE_COLUMNS: &str = "state_hash, user_id, library_id, integration_id, pkce_verifier_sealed, \
                             redirect_uri, return_to, switch_account, created_at, expires_at";

impl Store {
    /// Inserts an integration whose id the caller chose (the sealed secret
    /// is bound to it).
    pub async fn create_integration(&self, integration: &Integration) -> Result<()> {
        on_db!(self, |pool| {
            sqlx::query(
                "INSERT INTO integrations (id, type, name, client_id, client_secret_sealed, auth_uri, \
                 token_uri, scope, api_uri, tenant, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(integration.id)
            .bind(integration.integration_type.as_str())
            .bind(&integration.name)
            .bind(&integration.client_id)
            .bind(&integration.client_secret_sealed)
            .bind(&integration.auth_uri)
            .bind(&integration.token_uri)
            .bind(&integration.scope)
            .bind(&integration.api_uri)
            .bind(&integration.tenant)
            .bind(integration.created_at)
            .bind(integration.updated_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn integration(&self, id: Uuid) -> Result<Option<Integration>> {
        let sql = format!("SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE id = $1");
        let row = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row)
    }

    /// Every integration, oldest first.
    pub async fn list_integrations(&self) -> Result<Vec<Integration>> {
        let sql = format!("SELECT {INTEGRATION_COLUMNS} FROM integrations ORDER BY created_at, id");
        let rows = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Writes every field of `integration` (looked up by id) and bumps
    /// `updated_at` to the value given.
    pub async fn update_integration(&self, integration: &Integration) -> Result<()> {
        let updated = on_db!(self, |pool| {
            sqlx::query(
                "UPDATE integrations SET name = $2, client_id = $3, client_secret_sealed = $4, \
                 auth_uri = $5, token_uri = $6, scope = $7, api_uri = $8, tenant = $9, updated_at = $10 \
                 WHERE id = $1",
            )
            .bind(integration.id)
            .bind(&integration.name)
            .bind(&integration.client_id)
            .bind(&integration.client_secret_sealed)
            .bind(&integration.auth_uri)
            .bind(&integration.token_uri)
            .bind(&integration.scope)
            .bind(&integration.api_uri)
            .bind(&integration.tenant)
            .bind(integration.updated_at)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if updated == 0 {
            return Err(StoreError::NotFound("integration"));
        }
        Ok(())
    }

    /// Deletes an integration no library and no connection uses; one in use
    /// is a `Conflict`.
    pub async fn delete_integration(&self, id: Uuid) -> Result<()> {
        on_db!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let used: i64 = sqlx::query_scalar(
                "SELECT (SELECT COUNT(*) FROM library_integrations WHERE integration_id = $1) \
                 + (SELECT COUNT(*) FROM connections WHERE integration_id = $1)",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            if used > 0 {
                return Err(StoreError::Conflict("a library using this integration"));
            }
            let deleted = sqlx::query("DELETE FROM integrations WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if deleted == 0 {
                return Err(StoreError::NotFound("integration"));
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The integration a library uses, if one was set.
    pub async fn library_integration(&self, library_id: Uuid) -> Result<Option<Integration>> {
        let sql = format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE id = \
             (SELECT integration_id FROM library_integrations WHERE library_id = $1)"
        );
        let row = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(library_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row)
    }

    /// Sets the integration a library uses. When it changes, the library's
    /// connection (made with another client) is deleted in the same
    /// transaction and returned, so the caller can revoke its tokens.
    pub async fn set_library_integration(
        &self,
        library_id: Uuid,
        integration_id: Uuid,
    ) -> Result<Option<crate::models::Connection>> {
        let select = format!(
            "SELECT {} FROM connections WHERE library_id = $1 AND integration_id <> $2",
            crate::connections::CONNECTION_COLUMNS
        );
        let dropped = on_db!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let dropped: Option<crate::models::Connection> =
                sqlx::query_as(sqlx::AssertSqlSafe(select))
                    .bind(library_id)
                    .bind(integration_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(old) = &dropped {
                sqlx::query("DELETE FROM connections WHERE id = $1")
                    .bind(old.id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO library_integrations (library_id, integration_id, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (library_id) DO UPDATE SET integration_id = excluded.integration_id",
            )
            .bind(library_id)
            .bind(integration_id)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            dropped
        });
        Ok(dropped)
    }

    /// Records a pending authorization.
    pub async fn put_oauth_state(&self, state: &OAuthState) -> Result<()> {
        on_db!(self, |pool| {
            sqlx::query(
                "INSERT INTO oauth_states (state_hash, user_id, library_id, integration_id, \
                 pkce_verifier_sealed, redirect_uri, return_to, switch_account, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&state.state_hash)
            .bind(state.user_id)
            .bind(state.library_id)
            .bind(state.integration_id)
            .bind(&state.pkce_verifier_sealed)
            .bind(&state.redirect_uri)
            .bind(&state.return_to)
            .bind(state.switch_account)
            .bind(state.created_at)
            .bind(state.expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Takes a pending authorization out of the store: it can be taken only
    /// once, by whichever caller deletes it first. The caller checks
    /// `expires_at`.
    pub async fn take_oauth_state(&self, state_hash: &str) -> Result<Option<OAuthState>> {
        let sql =
            format!("DELETE FROM oauth_states WHERE state_hash = $1 RETURNING {STATE_COLUMNS}");
        let row = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(state_hash)
                .fetch_optional(pool)
                .await?
        });
        Ok(row)
    }

    /// Deletes pending authorizations that expired before `now`; returns
    /// how many. (Compared in Rust: SQLite keeps times as text.)
    pub async fn delete_expired_oauth_states(&self, now: DateTime<Utc>) -> Result<u64> {
        let rows: Vec<(String, DateTime<Utc>)> = on_db!(self, |pool| {
            sqlx::query_as("SELECT state_hash, expires_at FROM oauth_states")
                .fetch_all(pool)
                .await?
        });
        let mut deleted = 0;
        for (hash, expires_at) in rows.into_iter().filter(|(_, e)| *e < now) {
            deleted += on_db!(self, |pool| {
                sqlx::query("DELETE FROM oauth_states WHERE state_hash = $1 AND expires_at = $2")
                    .bind(hash)
                    .bind(expires_at)
                    .execute(pool)
                    .await?
                    .rows_affected()
            });
        }
        Ok(deleted)
    }
}
