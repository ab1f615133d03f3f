//! What the modules of this binary share: a fresh store per test.

use std::io::Write;

use folio_store::Store;
use tempfile::TempDir;
use uuid::Uuid;

/// FOLIO_TEST_DATABASE_URL, when set and not empty.
pub fn postgres_url() -> Option<String> {
    std::env::var("FOLIO_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

/// A migrated store: on PostgreSQL (in a schema of its own) when
/// FOLIO_TEST_DATABASE_URL is set, else on SQLite in `dir`.
pub async fn fresh_store(dir: &TempDir) -> Store {
    let store = match postgres_url() {
        Some(url) => {
            Store::connect_postgres_schema(&url, &format!("t_{}", Uuid::new_v4().simple()))
                .await
                .expect("connect to PostgreSQL")
        }
        None => {
            static NOTE: std::sync::Once = std::sync::Once::new();
            NOTE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "folio-store tests: SQLite only. PostgreSQL suite NOT RUN: set FOLIO_TEST_DATABASE_URL"
                );
            });
            Store::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
                .await
                .expect("connect to SQLite")
        }
    };
    store.migrate().await.expect("migrate");
    store
}
