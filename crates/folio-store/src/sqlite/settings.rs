//! The connection settings the pool and the writer of sync batches share.

use std::time::Duration;

/// How long a transaction waits for SQLite's write lock (as the pool does).
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connection settings of the pool and the writer, beside WAL mode,
/// `synchronous = NORMAL` and foreign keys.
///
/// - `temp_store`: a multi-row upsert inside a transaction keeps a
///   statement journal (the pages it changed, to undo it alone); by
///   default SQLite writes it to a temporary file on disk. It holds one
///   statement's pages and is gone when the statement ends.
/// - `wal_autocheckpoint`: checkpoint (copy the WAL into the database
///   file, then fsync it) once the WAL holds 10,000 pages (40 MiB) instead
///   of SQLite's 1,000: a sync's commits rewrite the same index pages again
///   and again, and each checkpoint copied them anew and waited for the
///   disk inside a commit.
/// - `journal_size_limit`: a WAL file grown past 64 MiB (one huge
///   transaction) is cut back after its checkpoint.
pub(crate) const PRAGMAS: [(&str, &str); 3] = [
    ("temp_store", "MEMORY"),
    ("wal_autocheckpoint", "10000"),
    ("journal_size_limit", "67108864"),
];
