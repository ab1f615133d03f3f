//! PostgreSQL: connecting, optionally with every table in one schema.

use std::str::FromStr;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::error::{Result, StoreError};

/// Opens the pool of `url`.
pub(crate) async fn connect(url: &str) -> Result<PgPool> {
    connect_with(PgConnectOptions::from_str(url)?).await
}

/// Opens a pool of `url` whose tables live in `schema`, which is created
/// if needed.
pub(crate) async fn connect_in_schema(url: &str, schema: &str) -> Result<PgPool> {
    let valid = !schema.is_empty()
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !valid {
        return Err(StoreError::Config(format!(
            "invalid schema name '{schema}'"
        )));
    }
    let options = PgConnectOptions::from_str(url)?;
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await?;
    let create = format!("CREATE SCHEMA IF NOT EXISTS {schema}");
    sqlx::query(sqlx::AssertSqlSafe(create))
        .execute(&admin)
        .await?;
    admin.close().await;
    connect_with(options.options([("search_path", schema)])).await
}

async fn connect_with(options: PgConnectOptions) -> Result<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await?;
    Ok(pool)
}
