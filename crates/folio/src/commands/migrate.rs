//! `folio migrate`: apply pending migrations and exit.

use crate::cli::GlobalArgs;
use crate::config;

pub async fn run(args: &GlobalArgs) -> anyhow::Result<()> {
    let store = config::open_store(args).await?;
    store.close().await;
    println!(
        "migrations applied to {}",
        config::redact(&config::database_url(args))
    );
    Ok(())
}
