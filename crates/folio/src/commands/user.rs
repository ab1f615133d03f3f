//! `folio user set-password USER`: a password straight into the database,
//! for the first login and for recovery.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use folio_server::auth::new_password_hash;

use crate::cli::{GlobalArgs, SetPasswordArgs};
use crate::config;

pub async fn set_password(args: &GlobalArgs, set: &SetPasswordArgs) -> anyhow::Result<()> {
    let password = read_password()?;
    // Checked before the database is opened: a refused password changes
    // nothing anywhere.
    let hash = new_password_hash(&password).map_err(|err| anyhow::anyhow!("{err}"))?;
    let store = config::open_store(&args.data_dir, &set.database).await?;
    let Some(user) = store
        .get_user_by_username(&set.user)
        .await
        .context("looking up the user")?
    else {
        store.close().await;
        bail!("no user named '{}'", set.user);
    };
    let result = store
        .set_password(user.id, Some(&hash))
        .await
        .context("storing the password");
    store.close().await;
    result?;
    eprintln!(
        "password set for '{}'; their sessions have ended",
        user.username
    );
    Ok(())
}

/// The new password: asked twice without echo on a terminal, else the
/// first line of standard input (without its line ending).
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let term = console::Term::stderr();
        term.write_str("New password: ")?;
        let first = term.read_secure_line().context("reading the password")?;
        term.write_str("Again: ")?;
        let second = term.read_secure_line().context("reading the password")?;
        if first != second {
            bail!("the two passwords differ; nothing changed");
        }
        return Ok(first);
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        bail!("no password on standard input (give it on the first line)");
    }
    Ok(password.to_owned())
}
