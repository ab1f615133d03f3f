//! `folio token create --user NAME`: a token straight from the database,
//! for bootstrapping and recovery.

use anyhow::{Context, bail};
use folio_server::auth::{TOKEN_PREFIX, hash_secret, new_secret};

use crate::cli::{GlobalArgs, TokenCreateArgs};
use crate::config;

pub async fn create(args: &GlobalArgs, create: &TokenCreateArgs) -> anyhow::Result<()> {
    let store = config::open_store(&args.data_dir, &create.database).await?;
    let Some(user) = store
        .get_user_by_username(&create.user)
        .await
        .context("looking up the user")?
    else {
        bail!("no user named '{}'", create.user);
    };
    let secret = new_secret(TOKEN_PREFIX);
    store
        .create_token(user.id, &create.name, &hash_secret(&secret))
        .await
        .context("storing the token")?;
    store.close().await;
    println!("{secret}");
    Ok(())
}
