//! The test database reached outside the store: to build one at an older
//! migration, and to write what the store itself never writes (old
//! encodings, values this version does not know).

use std::path::Path;
use std::str::FromStr;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, PgPool, SqlitePool};

use super::*;

/// Where a test's database lives: a SQLite file, or a PostgreSQL schema of
/// its own when FOLIO_TEST_DATABASE_URL is set.
pub enum Target {
    Sqlite(String),
    Postgres { url: String, schema: String },
}

impl Target {
    pub fn new(dir: &TempDir) -> Self {
        match std::env::var("FOLIO_TEST_DATABASE_URL")
            .ok()
            .filter(|v| !v.is_empty())
        {
            Some(url) => Self::Postgres {
                url,
                schema: format!("t_{}", Uuid::new_v4().simple()),
            },
            None => Self::Sqlite(format!("sqlite://{}", dir.path().join("t.db").display())),
        }
    }

    /// The store on it, migrations not run.
    pub async fn store(&self) -> Store {
        match self {
            Self::Sqlite(url) => Store::connect(url).await,
            Self::Postgres { url, schema } => Store::connect_postgres_schema(url, schema).await,
        }
        .expect("connect")
    }

    /// A pool of its own on it (creating the schema on PostgreSQL).
    pub async fn raw(&self) -> Raw {
        match self {
            Self::Sqlite(url) => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                    .unwrap()
                    .create_if_missing(true);
                Raw::Sqlite(SqlitePool::connect_with(options).await.unwrap())
            }
            Self::Postgres { url, schema } => {
                let options = PgConnectOptions::from_str(url).unwrap();
                let admin = PgPool::connect_with(options.clone()).await.unwrap();
                sqlx::query(AssertSqlSafe(format!(
                    "CREATE SCHEMA IF NOT EXISTS {schema}"
                )))
                .execute(&admin)
                .await
                .unwrap();
                admin.close().await;
                let pool = PgPoolOptions::new()
                    .max_connections(2)
                    .connect_with(options.options([("search_path", schema.as_str())]))
                    .await
                    .unwrap();
                Raw::Postgres(pool)
            }
        }
    }
}

pub enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Raw {
    /// Applies the backend's migrations up to and including `version`.
    pub async fn migrate_to(&self, version: i64) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        match self {
            Self::Sqlite(pool) => Migrator::new(dir.join("sqlite"))
                .await
                .unwrap()
                .run_to(version, pool)
                .await
                .unwrap(),
            Self::Postgres(pool) => Migrator::new(dir.join("postgres"))
                .await
                .unwrap()
                .run_to(version, pool)
                .await
                .unwrap(),
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Self::Sqlite(_))
    }

    /// Runs `sql`, with the current time bound to `$1` when it has one.
    pub async fn exec(&self, sql: &str) {
        let now = Utc::now();
        let with_now = sql.contains("$1");
        let done = match self {
            Self::Sqlite(pool) => {
                let query = sqlx::query(AssertSqlSafe(sql.to_owned()));
                let query = if with_now { query.bind(now) } else { query };
                query.execute(pool).await.map(drop)
            }
            Self::Postgres(pool) => {
                let query = sqlx::query(AssertSqlSafe(sql.to_owned()));
                let query = if with_now { query.bind(now) } else { query };
                query.execute(pool).await.map(drop)
            }
        };
        done.unwrap_or_else(|err| panic!("{sql}: {err}"));
    }

    /// A UUID as a literal of the backend (SQLite keeps the 16 bytes).
    pub fn uuid(&self, id: Uuid) -> String {
        match self {
            Self::Sqlite(_) => format!("X'{}'", id.simple()),
            Self::Postgres(_) => format!("'{id}'"),
        }
    }

    pub async fn close(&self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}
