//! Connections: a library's OAuth tokens (sealed) and the bookkeeping that
//! makes refreshes single-flight across replicas.
//!
//! A refresh is a lease on the row: [`Store::begin_refresh`] claims it with
//! a compare-and-set on `version` (under a row lock on PostgreSQL, the
//! write lock on SQLite), the caller talks to the provider without holding
//! any database lock, and [`Store::finish_refresh`] writes the new tokens
//! only if nobody else changed the row meanwhile. A replica that finds a
//! live lease waits for `version` to move instead of refreshing too.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::Result;
use crate::models::{Connection, SealedTokens, SealedValue};
use crate::store::{BeginWrite, LockClause, Store, on_db};

pub(crate) const CONNECTION_COLUMNS: &str = "id, library_id, integration_id, owner_id, \
    provider_account_id, access_token_sealed, refresh_token_sealed, token_expires_at, \
    refresh_token_expires_at, status, version, refresh_lease_until, last_authorized_at, \
    last_refreshed_at, created_at, updated_at";

/// The connection statuses.
pub mod status {
    pub const ACTIVE: &str = "active";
    pub const NEEDS_REAUTHORIZATION: &str = "needsReauthorization";
    pub const REVOKED: &str = "revoked";
}

impl Store {
    pub async fn connection(&self, id: Uuid) -> Result<Option<Connection>> {
        let sql = format!("SELECT {CONNECTION_COLUMNS} FROM connections WHERE id = $1");
        let row = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row)
    }

    pub async fn connection_for_library(&self, library_id: Uuid) -> Result<Option<Connection>> {
        let sql = format!("SELECT {CONNECTION_COLUMNS} FROM connections WHERE library_id = $1");
        let row = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(library_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row)
    }

    /// Creates the connection, or replaces every field of the one with the
    /// same id (a reconnect). `version` is bumped past any stored value, so
    /// a refresh that started before the reconnect cannot overwrite it.
    pub async fn put_connection(&self, c: &Connection) -> Result<Connection> {
        let sql = format!(
            "INSERT INTO connections ({CONNECTION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (id) DO UPDATE SET integration_id = excluded.integration_id, \
             owner_id = excluded.owner_id, provider_account_id = excluded.provider_account_id, \
             access_token_sealed = excluded.access_token_sealed, \
             refresh_token_sealed = excluded.refresh_token_sealed, \
             token_expires_at = excluded.token_expires_at, \
             refresh_token_expires_at = excluded.refresh_token_expires_at, \
             status = excluded.status, version = connections.version + 1, \
             refresh_lease_until = NULL, last_authorized_at = excluded.last_authorized_at, \
             last_refreshed_at = excluded.last_refreshed_at, updated_at = excluded.updated_at \
             RETURNING {CONNECTION_COLUMNS}"
        );
        let row = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(c.id)
                .bind(c.library_id)
                .bind(c.integration_id)
                .bind(c.owner_id)
                .bind(&c.provider_account_id)
                .bind(&c.access_token_sealed)
                .bind(&c.refresh_token_sealed)
                .bind(c.token_expires_at)
                .bind(c.refresh_token_expires_at)
                .bind(&c.status)
                .bind(c.version)
                .bind(c.refresh_lease_until)
                .bind(c.last_authorized_at)
                .bind(c.last_refreshed_at)
                .bind(c.created_at)
                .bind(c.updated_at)
                .fetch_one(pool)
                .await?
        });
        Ok(row)
    }

    /// Deletes a connection (its tokens with it); `false` when there was none.
    pub async fn delete_connection(&self, id: Uuid) -> Result<bool> {
        let deleted = on_db!(self, |pool| {
            sqlx::query("DELETE FROM connections WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(deleted > 0)
    }

    /// Claims the right to refresh: succeeds (returning the claimed version)
    /// only if the row still has `seen_version` and no live lease. The
    /// lease lasts until `lease_until`, so a crashed refresher does not
    /// block the connection for ever.
    pub async fn begin_refresh(
        &self,
        id: Uuid,
        seen_version: i64,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let claimed = on_db!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let lock = lock_clause(pool);
            let sql =
                format!("SELECT version, refresh_lease_until FROM connections WHERE id = $1{lock}");
            let row: Option<(i64, Option<DateTime<Utc>>)> =
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match row {
                Some((version, lease))
                    if version == seen_version && lease.is_none_or(|l| l < now) =>
                {
                    sqlx::query(
                        "UPDATE connections SET refresh_lease_until = $2, version = version + 1 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(lease_until)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Some(version + 1)
                }
                _ => None,
            }
        });
        Ok(claimed)
    }

    /// Stores refreshed tokens and ends the lease, if the row is still at
    /// `claimed_version`; `false` means someone else changed it (a
    /// reconnect, a disconnect) and nothing was written.
    pub async fn finish_refresh(
        &self,
        id: Uuid,
        claimed_version: i64,
        tokens: &SealedTokens,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let updated = on_db!(self, |pool| {
            sqlx::query(
                "UPDATE connections SET access_token_sealed = $3, \
                 refresh_token_sealed = COALESCE($4, refresh_token_sealed), token_expires_at = $5, \
                 refresh_token_expires_at = COALESCE($6, refresh_token_expires_at), \
                 last_refreshed_at = $7, updated_at = $7, refresh_lease_until = NULL, \
                 status = 'active', version = version + 1 WHERE id = $1 AND version = $2",
            )
            .bind(id)
            .bind(claimed_version)
            .bind(&tokens.access_token_sealed)
            .bind(&tokens.refresh_token_sealed)
            .bind(tokens.token_expires_at)
            .bind(tokens.refresh_token_expires_at)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated == 1)
    }

    /// Ends a lease without new tokens (the refresh failed for a reason
    /// that leaves the grant alive, e.g. the provider was unreachable).
    pub async fn abandon_refresh(&self, id: Uuid, claimed_version: i64) -> Result<()> {
        on_db!(self, |pool| {
            sqlx::query(
                "UPDATE connections SET refresh_lease_until = NULL, version = version + 1 \
                 WHERE id = $1 AND version = $2",
            )
            .bind(id)
            .bind(claimed_version)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Sets a connection's status (ending any lease); `false` if it is gone.
    pub async fn set_connection_status(&self, id: Uuid, status: &str) -> Result<bool> {
        let updated = on_db!(self, |pool| {
            sqlx::query(
                "UPDATE connections SET status = $2, refresh_lease_until = NULL, \
                 version = version + 1, updated_at = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(status)
            .bind(Utc::now())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated == 1)
    }

    /// Active connections whose grant was last used (authorized or
    /// refreshed) before `cutoff`: the keep-alive refreshes them.
    pub async fn connections_idle_since(&self, cutoff: DateTime<Utc>) -> Result<Vec<Uuid>> {
        let rows: Vec<(Uuid, DateTime<Utc>, Option<DateTime<Utc>>)> = on_db!(self, |pool| {
            sqlx::query_as(
                "SELECT id, last_authorized_at, last_refreshed_at FROM connections WHERE status = 'active'",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .filter(|(_, authorized, refreshed)| refreshed.unwrap_or(*authorized) < cutoff)
            .map(|(id, _, _)| id)
            .collect())
    }

    /// Every sealed value in the store, for key rotation.
    pub async fn sealed_values(&self) -> Result<Vec<SealedValue>> {
        let mut values = Vec::new();
        let secrets: Vec<(Uuid, String)> = on_db!(self, |pool| {
            sqlx::query_as("SELECT id, client_secret_sealed FROM integrations")
                .fetch_all(pool)
                .await?
        });
        for (id, value) in secrets {
            values.push(sealed(
                "integrations",
                id.to_string(),
                "client_secret",
                value,
            ));
        }
        let tokens: Vec<(Uuid, String, Option<String>)> = on_db!(self, |pool| {
            sqlx::query_as("SELECT id, access_token_sealed, refresh_token_sealed FROM connections")
                .fetch_all(pool)
                .await?
        });
        for (id, access, refresh) in tokens {
            values.push(sealed(
                "connections",
                id.to_string(),
                "access_token",
                access,
            ));
            if let Some(refresh) = refresh {
                values.push(sealed(
                    "connections",
                    id.to_string(),
                    "refresh_token",
                    refresh,
                ));
            }
        }
        let states: Vec<(String, String)> = on_db!(self, |pool| {
            sqlx::query_as("SELECT state_hash, pkce_verifier_sealed FROM oauth_states")
                .fetch_all(pool)
                .await?
        });
        for (hash, value) in states {
            values.push(sealed("oauth_states", hash, "pkce_verifier", value));
        }
        Ok(values)
    }

    /// Replaces one sealed value if it still holds `old.value` (a refresh
    /// may have replaced it meanwhile; then `false` and nothing changes).
    pub async fn replace_sealed_value(&self, old: &SealedValue, new_value: &str) -> Result<bool> {
        let (sql, key_is_uuid) = match (old.table, old.column) {
            ("integrations", "client_secret") => (
                "UPDATE integrations SET client_secret_sealed = $3 WHERE id = $1 AND client_secret_sealed = $2",
                true,
            ),
            ("connections", "access_token") => (
                "UPDATE connections SET access_token_sealed = $3 WHERE id = $1 AND access_token_sealed = $2",
                true,
            ),
            ("connections", "refresh_token") => (
                "UPDATE connections SET refresh_token_sealed = $3 WHERE id = $1 AND refresh_token_sealed = $2",
                true,
            ),
            ("oauth_states", "pkce_verifier") => (
                "UPDATE oauth_states SET pkce_verifier_sealed = $3 WHERE state_hash = $1 AND pkce_verifier_sealed = $2",
                false,
            ),
            _ => {
                return Err(crate::error::StoreError::Config(format!(
                    "unknown sealed column {}.{}",
                    old.table, old.column
                )));
            }
        };
        let uuid_key = if key_is_uuid {
            Some(Uuid::parse_str(&old.row).map_err(|e| {
                crate::error::StoreError::Config(format!("sealed row key '{}': {e}", old.row))
            })?)
        } else {
            None
        };
        let updated = on_db!(self, |pool| {
            let query = sqlx::query(sql);
            let query = match uuid_key {
                Some(id) => query.bind(id),
                None => query.bind(old.row.clone()),
            };
            query
                .bind(&old.value)
                .bind(new_value)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(updated == 1)
    }
}

fn sealed(table: &'static str, row: String, column: &'static str, value: String) -> SealedValue {
    SealedValue {
        table,
        row,
        column,
        value,
    }
}

fn lock_clause<P: LockClause>(_pool: &P) -> &'static str {
    P::FOR_UPDATE
}
