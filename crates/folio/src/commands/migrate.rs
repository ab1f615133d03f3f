//! `folio migrate`: apply pending migrations and exit.

use crate::cli::{DatabaseArgs, GlobalArgs};
use crate::config;

pub async fn run(args: &GlobalArgs, database: &DatabaseArgs) -> anyhow::Result<()> {
    let store = config::open_store(&args.data_dir, database).await?;
    store.close().await;
    println!(
        "migrations applied to {}",
        config::redact(&config::configured_database_url(&args.data_dir, database))
    );
    Ok(())
}
