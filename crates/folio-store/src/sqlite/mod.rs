//! SQLite: connecting (WAL mode, the shared settings of [`settings`]) and
//! the writer of sync batches ([`writer`]).

pub(crate) mod settings;
pub(crate) mod writer;

use std::str::FromStr;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::error::Result;
use settings::{BUSY_TIMEOUT, PRAGMAS};
use writer::SqliteWriter;

/// Opens the pool of `url`, creating the file when missing, and the
/// writer of sync batches for it (none for an in-memory database).
pub(crate) async fn connect(url: &str) -> Result<(SqlitePool, Option<SqliteWriter>)> {
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
    let writer =
        (!is_in_memory(url)).then(|| SqliteWriter::new(options.get_filename().to_path_buf()));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    Ok((pool, writer))
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
