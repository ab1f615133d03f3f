//! Users, API tokens and login sessions. Tokens and session ids are stored
//! only as hashes; the caller hashes before asking.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::models::{ApiToken, NewUser, User};
use crate::store::{BeginWrite, Store, on_db};

/// A page of [`Store::list_users`].
#[derive(Debug, Clone)]
pub struct UserPage {
    pub items: Vec<User>,
    /// The last username of this page when more may follow.
    pub next_after: Option<String>,
}

const USER_COLUMNS: &str =
    "id, username, display_name, password_hash, is_admin, created_at, updated_at";

impl Store {
    pub async fn count_users(&self) -> Result<i64> {
        let count: i64 = on_db!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(pool)
                .await?
        });
        Ok(count)
    }

    pub async fn create_user(&self, new: NewUser) -> Result<User> {
        let now = Utc::now();
        let user = User {
            id: Uuid::now_v7(),
            username: new.username,
            display_name: new.display_name,
            password_hash: new.password_hash,
            is_admin: new.is_admin,
            created_at: now,
            updated_at: now,
        };
        on_db!(self, |pool| {
            sqlx::query(
                "INSERT INTO users (id, username, display_name, password_hash, is_admin, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(user.id)
            .bind(&user.username)
            .bind(&user.display_name)
            .bind(&user.password_hash)
            .bind(user.is_admin)
            .bind(user.created_at)
            .bind(user.updated_at)
            .execute(pool)
            .await?;
        });
        Ok(user)
    }

    /// Creates the first admin and its token in one transaction, only if the
    /// database has no user yet. Returns `None` when users already exist, so
    /// two replicas starting together bootstrap once.
    pub async fn bootstrap_admin(
        &self,
        new: NewUser,
        token_name: &str,
        token_hash: &str,
    ) -> Result<Option<User>> {
        let now = Utc::now();
        let user = User {
            id: Uuid::now_v7(),
            username: new.username,
            display_name: new.display_name,
            password_hash: new.password_hash,
            is_admin: true,
            created_at: now,
            updated_at: now,
        };
        let created = on_db!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(&mut *tx)
                .await?;
            if existing > 0 {
                false
            } else {
                sqlx::query(
                    "INSERT INTO users (id, username, display_name, password_hash, is_admin, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(user.id)
                .bind(&user.username)
                .bind(&user.display_name)
                .bind(&user.password_hash)
                .bind(true)
                .bind(now)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(Uuid::now_v7())
                .bind(user.id)
                .bind(token_name)
                .bind(token_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                true
            }
        });
        Ok(created.then_some(user))
    }

    pub async fn get_user(&self, id: Uuid) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let user: Option<User> = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        user.ok_or(StoreError::NotFound("user"))
    }

    pub async fn get_user_by_username(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        let user = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(username)
                .fetch_optional(pool)
                .await?
        });
        Ok(user)
    }

    /// Users in username order, starting after `after`, at most `limit`.
    pub async fn list_users(&self, after: Option<&str>, limit: u32) -> Result<UserPage> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE ($1 = FALSE OR username > $2) \
             ORDER BY username LIMIT $3"
        );
        let fetch = i64::from(limit) + 1;
        let mut items: Vec<User> = on_db!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(after.is_some())
                .bind(after.unwrap_or_default())
                .bind(fetch)
                .fetch_all(pool)
                .await?
        });
        let next_after = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|u| u.username.clone())
        } else {
            None
        };
        Ok(UserPage { items, next_after })
    }

    /// Sets (or clears, with `None`) a user's password hash and ends every
    /// session of the user in the same transaction: whoever logged in with
    /// the old password must log in again. API tokens stay valid.
    pub async fn set_password(&self, user_id: Uuid, password_hash: Option<&str>) -> Result<()> {
        on_db!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let updated =
                sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                    .bind(user_id)
                    .bind(password_hash)
                    .bind(Utc::now())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if updated == 0 {
                return Err(StoreError::NotFound("user"));
            }
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn create_token(
        &self,
        user_id: Uuid,
        name: &str,
        token_hash: &str,
    ) -> Result<ApiToken> {
        let token = ApiToken {
            id: Uuid::now_v7(),
            user_id,
            name: name.to_owned(),
            created_at: Utc::now(),
        };
        on_db!(self, |pool| {
            sqlx::query(
                "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token.id)
            .bind(token.user_id)
            .bind(&token.name)
            .bind(token_hash)
            .bind(token.created_at)
            .execute(pool)
            .await?;
        });
        Ok(token)
    }

    /// The user an API token (given as its hash) belongs to.
    pub async fn user_by_token_hash(&self, token_hash: &str) -> Result<Option<User>> {
        let user = on_db!(self, |pool| {
            sqlx::query_as(
                "SELECT u.id, u.username, u.display_name, u.password_hash, u.is_admin, u.created_at, u.updated_at \
                 FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
        });
        Ok(user)
    }

    pub async fn create_session(
        &self,
        user_id: Uuid,
        session_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        on_db!(self, |pool| {
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(session_hash)
            .bind(user_id)
            .bind(Utc::now())
            .bind(expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The user a live session (given as its hash) belongs to; expired
    /// sessions count as absent.
    pub async fn user_by_session_hash(&self, session_hash: &str) -> Result<Option<User>> {
        let row: Option<(DateTime<Utc>, Uuid)> = on_db!(self, |pool| {
            sqlx::query_as("SELECT expires_at, user_id FROM sessions WHERE token_hash = $1")
                .bind(session_hash)
                .fetch_optional(pool)
                .await?
        });
        match row {
            Some((expires_at, user_id)) if expires_at > Utc::now() => {
                Ok(Some(self.get_user(user_id).await?))
            }
            _ => Ok(None),
        }
    }

    /// Ends a session; false when no such session existed.
    pub async fn delete_session(&self, session_hash: &str) -> Result<bool> {
        let deleted = on_db!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(session_hash)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(deleted > 0)
    }
}
