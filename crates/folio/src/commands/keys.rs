//! `folio keys rotate`: re-seal every stored secret under a new key
//! without stopping the servers (see folio-oauth's `seal` module for how
//! keys are kept).

use anyhow::Context;
use folio_oauth::{TokenManager, UrlPolicy};

use crate::cli::{GlobalArgs, RotateArgs};
use crate::config;

pub async fn rotate(args: &GlobalArgs, rotate: &RotateArgs) -> anyhow::Result<()> {
    let store = config::open_store(&args.data_dir, &rotate.database).await?;
    let keys = config::open_keyring(&args.data_dir, &rotate.keys)?;
    if keys.is_file_backed() {
        let id = keys
            .add_key_to_file()
            .context("adding a new key to the key file")?;
        tracing::info!(
            key_id = id,
            "added a new key; running servers pick it up when they meet it"
        );
    } else {
        tracing::info!(
            key_id = keys.current_key_id(),
            "re-sealing under the highest key id of FOLIO_SECRET_KEY"
        );
    }
    let manager = TokenManager::new(store.clone(), keys.clone(), UrlPolicy::default())
        .context("building the OAuth client")?;
    let (resealed, kept) = manager
        .reseal_all()
        .await
        .context("re-sealing stored secrets")?;
    println!(
        "re-sealed {resealed} values under key {} ({kept} already used it); older keys are no longer needed once every replica knows key {}",
        keys.current_key_id(),
        keys.current_key_id()
    );
    store.close().await;
    Ok(())
}
