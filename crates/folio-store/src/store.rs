//! [`Store`]: the pool of one backend, the `on_db!` macro that runs one
//! body on either, connecting (the backends' own parts in `sqlite` and
//! `postgres`) and running the migrations.

use std::sync::Arc;

use sqlx::{PgPool, SqlitePool, Transaction};

use crate::error::{Result, StoreError};
use crate::sqlite::writer::SqliteWriter;
use crate::{postgres, sqlite};

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
/// SQLite the writer of sync batches, `sqlite::writer::SqliteWriter`).
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
            $crate::store::Db::Sqlite($pool) => $body,
            $crate::store::Db::Postgres($pool) => $body,
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
            let (pool, writer) = sqlite::connect(url).await?;
            Ok(Self {
                db: Db::Sqlite(pool),
                sqlite_writer: writer.map(Arc::new),
            })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::on_postgres(postgres::connect(url).await?))
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
        Ok(Self::on_postgres(
            postgres::connect_in_schema(url, schema).await?,
        ))
    }

    fn on_postgres(pool: PgPool) -> Self {
        Self {
            db: Db::Postgres(pool),
            sqlite_writer: None,
        }
    }

    /// The same store, committing sync batches through sqlx on SQLite too
    /// (the path PostgreSQL and in-memory databases take) instead of the
    /// SQLite writer: the store's tests run every batch on both paths.
    pub fn commit_through_sqlx(self) -> Self {
        Self {
            sqlite_writer: None,
            ..self
        }
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
