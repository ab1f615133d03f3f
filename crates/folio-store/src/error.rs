//! The store's one error type.

use crate::decode::UnknownValue;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What can go wrong in the store. The API maps `NotFound` to 404,
/// `Conflict` to 409 or 400 (it names what collided), everything else to 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique constraint said no; the string names the constraint's meaning.
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// The blob a new file row points at vanished between writing it and
    /// committing (a concurrent delete removed the last copy). Nothing was
    /// written; the caller may retry with the bytes.
    #[error("the stored bytes for {0} were removed concurrently; nothing was written, retry")]
    BlobVanished(String),
    /// A sync run's commit found that its run no longer holds the
    /// library's lease (another process took the library over after the
    /// lease lapsed): nothing was written, the run must stop.
    #[error("this sync run lost the library's lease to another run; nothing was written")]
    LeaseLost,
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error")]
    Database(#[source] sqlx::Error),
    /// A stored value this version does not know (`decode`): a newer
    /// version or a hand edit wrote it. Never dropped: the read fails.
    #[error("{table}.{column} holds '{value}', which this version cannot read: {reason}")]
    Decode {
        table: &'static str,
        column: String,
        value: String,
        reason: String,
    },
    #[error("blob storage error during a store transaction: {0}")]
    Blob(String),
    /// The SQLite writer of sync batches failed (see `sqlite_writer`).
    #[error("database error: {0}")]
    Writer(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => StoreError::NotFound("row"),
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(constraint_meaning(db.message(), db.constraint()))
            }
            sqlx::Error::ColumnDecode { index, source } => {
                match source.downcast_ref::<UnknownValue>() {
                    Some(unknown) => StoreError::Decode {
                        table: unknown.table,
                        column: index.trim_matches('"').to_owned(),
                        value: unknown.value.clone(),
                        reason: unknown.reason.clone(),
                    },
                    None => StoreError::Database(err),
                }
            }
            _ => StoreError::Database(err),
        }
    }
}

/// Names a unique violation in the user's words, from the constraint name
/// (PostgreSQL) or the message (SQLite: "UNIQUE constraint failed: t.col").
fn constraint_meaning(message: &str, constraint: Option<&str>) -> &'static str {
    let text = constraint.unwrap_or(message);
    if text.contains("natural_id") {
        "a library with this naturalId"
    } else if text.contains("username") {
        "a user with this username"
    } else if text.contains("token_hash") {
        "a token with this value"
    } else if text.contains("connections") {
        "a connection for this library"
    } else if text.contains("libraries") {
        "a library with this id"
    } else {
        "a record with these values"
    }
}

impl StoreError {
    /// A decode error of a scalar query named by its column (sqlx names
    /// the column of a scalar by its index).
    pub(crate) fn in_column(self, column: &str) -> Self {
        match self {
            Self::Decode {
                table,
                value,
                reason,
                ..
            } => Self::Decode {
                table,
                column: column.to_owned(),
                value,
                reason,
            },
            other => other,
        }
    }
}
