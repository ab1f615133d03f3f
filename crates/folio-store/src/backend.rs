//! Connecting to SQLite or PostgreSQL and running the migrations.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool, Transaction};

use crate::sqlite_writer::{BUSY_TIMEOUT, PRAGMAS, SqliteWriter};
use crate::{Result, StoreError};

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The metadata store. Cheap to clone: it holds a connection pool (and on
/// SQLite the writer of sync batches, `sqlite_writer::SqliteWriter`).
#[derive(Clone)]
pub struct Store {
    pub(crate) db: Db,
    pub(crate) sqlite_writer: Option<Arc<SqliteWriter>>,
}

/// Runs the same body on whichever pool the store holds. The body is
/// compiled once per backend, so the same SQL text serves both.
macro_rules! on_db {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.db {
            $crate::backend::Db::Sqlite($pool) => $body,
            $crate::backend::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_db;

/// Starts a transaction that may write. On SQLite it takes the write lock
/// up front (`BEGIN IMMEDIATE`): a deferred transaction that upgrades later
/// fails at once with "database is locked" under contention.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl Future<Output = sqlx::Result<Transaction<'static, Self::Db>>> + Send;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> sqlx::Result<Transaction<'static, sqlx::Sqlite>> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> sqlx::Result<Transaction<'static, sqlx::Postgres>> {
        self.begin().await
    }
}

/// The row-lock suffix for "lock what you read until commit": PostgreSQL
/// needs `FOR UPDATE`; SQLite already holds the whole-database write lock.
pub(crate) trait LockClause {
    const FOR_UPDATE: &'static str;
}
impl LockClause for SqlitePool {
    const FOR_UPDATE: &'static str = "";
}
impl LockClause for PgPool {
    const FOR_UPDATE: &'static str = " FOR UPDATE";
}

impl Store {
    /// Connects to `url` (`sqlite://PATH` or `postgres://...`). SQLite files
    /// are created when missing and run in WAL mode.
    pub async fn connect(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Self::connect_sqlite(url).await
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Self::connect_postgres(PgConnectOptions::from_str(url)?).await
        } else {
            Err(StoreError::Config(format!(
                "database URL must start with sqlite:// or postgres://, got '{}'",
                url.split(':').next().unwrap_or_default()
            )))
        }
    }

    /// Connects to PostgreSQL with every table living in `schema`, which is
    /// created if needed. Tests use this to give each test its own schema.
    pub async fn connect_postgres_schema(url: &str, schema: &str) -> Result<Self> {
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
        Self::connect_postgres(options.options([("search_path", schema)])).await
    }

    async fn connect_sqlite(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        // The same settings as the writer of sync batches (why each: see
        // `PRAGMAS`).
        let options = PRAGMAS.into_iter().fold(options, |options, (name, value)| {
            options.pragma(name, value)
        });
        // The writer opens the database by its file name, so an in-memory
        // database (the pool's own, shared between its connections) has
        // none: its sync batches go through sqlx like PostgreSQL's.
        let sqlite_writer = (!is_in_memory(url))
            .then(|| Arc::new(SqliteWriter::new(options.get_filename().to_path_buf())));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Self {
            db: Db::Sqlite(pool),
            sqlite_writer,
        })
    }

    async fn connect_postgres(options: PgConnectOptions) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self {
            db: Db::Postgres(pool),
            sqlite_writer: None,
        })
    }

    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies every migration not yet applied. Safe to run on every start
    /// and from several replicas (sqlx takes a lock).
    pub async fn migrate(&self) -> Result<()> {
        match &self.db {
            Db::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Names of the tables and their columns, sorted; the schema-parity test
    /// compares the two backends with it.
    pub async fn schema_columns(&self) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, String)> = match &self.db {
            Db::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%' \
                     ORDER BY 1, 2",
                )
                .fetch_all(pool)
                .await?
            }
            Db::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT table_name::text, column_name::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%' \
                     ORDER BY 1, 2",
                )
                .fetch_all(pool)
                .await?
            }
        };
        Ok(rows)
    }

    /// A cheap query, for readiness checks: a round trip to PostgreSQL; on
    /// SQLite a read of the schema page, so the file itself is read (a bare
    /// `SELECT 1` never touches it).
    pub async fn ping(&self) -> Result<()> {
        match &self.db {
            Db::Sqlite(pool) => {
                sqlx::query("SELECT count(*) FROM sqlite_master")
                    .execute(pool)
                    .await?;
            }
            Db::Postgres(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
            }
        }
        Ok(())
    }

    pub async fn close(&self) {
        on_db!(self, |pool| pool.close().await)
    }
}

/// Whether a SQLite URL names an in-memory database, as sqlx reads it:
/// the database `:memory:`, or the parameter `mode=memory`.
fn is_in_memory(url: &str) -> bool {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|param| param == "mode=memory")
}

#[cfg(test)]
mod tests {
    use super::is_in_memory;

    #[test]
    fn in_memory_urls_are_told_from_files() {
        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://?mode=memory",
            "sqlite://folio.db?cache=shared&mode=memory",
        ] {
            assert!(is_in_memory(url), "{url}");
        }
        for url in [
            "sqlite://data/folio.db",
            "sqlite:memory.db",
            "sqlite://data/folio.db?mode=rwc",
        ] {
            assert!(!is_in_memory(url), "{url}");
        }
    }
}
