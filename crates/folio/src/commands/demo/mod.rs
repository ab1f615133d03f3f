//! `folio demo`: Folio on the embedded defaults in a fresh temporary data
//! folder (or `--data-dir`), beside an in-process cloudsim on loopback
//! seeded with a believable world ([`world`]), wired together
//! ([`setup`]): four integrations pointing at cloudsim and the libraries
//! `demo-google-drive`, `demo-onedrive`, `demo-sharepoint` and
//! `demo-dropbox`, each with its integration and no connection yet.
//! cloudsim shows its consent page, so connecting is what a person does at
//! the real provider.
//!
//! It prints three lines, in this order: `listening on http://HOST:PORT`
//! (Folio), `cloudsim: http://HOST:PORT` (the emulator and its `/_sim/`
//! control API) and `console: URL`, a one-time link that signs a browser
//! in as the admin (folio-server's `auth_once`). `--changes SECONDS` makes
//! the world change by itself ([`changes`]). Ctrl-C or SIGTERM stops
//! Folio, the emulator and the changes, and removes the temporary folder.

mod changes;
mod setup;
mod world;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, FromArgMatches};
use folio_server::auth_once;
use tokio_util::sync::CancellationToken;

use crate::cli::{DemoArgs, GlobalArgs, ServeArgs};
use crate::commands::serve::{ADMIN_TOKEN_FILE, ADMIN_USERNAME, Server, shutdown_signal};

/// How long the console link works.
const LINK_LIFETIME: chrono::Duration = chrono::Duration::hours(24);

pub async fn run(global: &GlobalArgs, args: &DemoArgs) -> anyhow::Result<()> {
    // Installed first: a Ctrl-C during the start still stops it all cleanly.
    let shutdown = shutdown_signal()?;
    let (data_dir, temporary) = data_dir(global)?;
    let sim = cloudsim::Sim::start(cloudsim::SimOptions {
        addr: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        ..cloudsim::SimOptions::default()
    })
    .await
    .context("starting the provider emulator")?;
    let demo = sim
        .state()
        .write(world::seed)
        .context("seeding the emulated world")?;
    sim.state().set_settings(cloudsim::Settings {
        auto_approve: false,
        ..sim.state().settings()
    });

    let server = Server::start(&data_dir, &serve_args(args.listen)?, None).await?;
    let state = server.state.clone();
    let folio_base = format!("http://{}", server.addr);
    let stop_serving = CancellationToken::new();
    let serving = tokio::spawn(server.serve_until(stop_serving.clone().cancelled_owned()));

    let wired = async {
        setup::register_clients(
            sim.state(),
            &folio_server::routes::oauth::callback_url(&state),
        );
        let api = setup::Api {
            http: reqwest::Client::new(),
            base: folio_base.clone(),
            token: admin_token(&data_dir)?,
        };
        setup::wire(&api, sim.base_url(), &demo).await?;
        console_link(&state).await
    };
    let link = match wired.await {
        Ok(link) => link,
        Err(err) => {
            stop_serving.cancel();
            let _ = serving.await;
            let _ = sim.shutdown().await;
            return Err(err);
        }
    };
    println!("listening on {folio_base}");
    println!("cloudsim: {}", sim.base_url());
    println!("console: {link}");
    std::io::stdout().flush()?;
    tracing::info!(
        data_dir = %data_dir.display(),
        temporary = temporary.is_some(),
        "folio demo is running; Ctrl-C stops it"
    );

    let stop_changes = CancellationToken::new();
    let changing = (args.changes > 0).then(|| {
        tokio::spawn(changes::run(
            sim.state().clone(),
            demo.clone(),
            Duration::from_secs(args.changes),
            stop_changes.clone(),
        ))
    });
    shutdown.await;
    stop_changes.cancel();
    if let Some(task) = changing {
        let _ = task.await;
    }
    stop_serving.cancel();
    let served = serving.await.context("the server task")?;
    sim.shutdown().await.context("stopping the emulator")?;
    served?;
    if let Some(dir) = temporary {
        dir.close().context("removing the temporary data folder")?;
    }
    Ok(())
}

/// `--data-dir` when given, else a new temporary folder, removed when the
/// returned guard is dropped (when [`run`] returns, however it returns).
fn data_dir(global: &GlobalArgs) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    if global.data_dir_given {
        std::fs::create_dir_all(&global.data_dir)
            .with_context(|| format!("creating {}", global.data_dir.display()))?;
        return Ok((global.data_dir.clone(), None));
    }
    let dir = tempfile::Builder::new()
        .prefix("folio-demo-")
        .tempdir()
        .context("creating a temporary data folder")?;
    Ok((dir.path().to_owned(), Some(dir)))
}

/// `folio serve`'s settings with their defaults, whatever `FOLIO_*`
/// variables say (the demo needs nothing configured and uses the embedded
/// defaults), plus what the demo needs: provider URLs on loopback, and a
/// scheduler that looks for due syncs every 2 seconds.
fn serve_args(listen: SocketAddr) -> anyhow::Result<ServeArgs> {
    let command = ServeArgs::augment_args(clap::Command::new("demo"))
        .mut_args(|arg| arg.env(None::<&'static str>));
    let matches = command
        .try_get_matches_from([
            "demo".to_owned(),
            "--listen".to_owned(),
            listen.to_string(),
            "--allow-private-provider-urls".to_owned(),
            "--schedule-tick-ms".to_owned(),
            "2000".to_owned(),
            "--shutdown-grace-secs".to_owned(),
            "5".to_owned(),
        ])
        .context("the demo's server settings")?;
    ServeArgs::from_arg_matches(&matches).context("the demo's server settings")
}

fn admin_token(data_dir: &std::path::Path) -> anyhow::Result<String> {
    let path = data_dir.join(ADMIN_TOKEN_FILE);
    let token = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading {} (the demo signs in as '{ADMIN_USERNAME}' with it)",
            path.display()
        )
    })?;
    Ok(token.trim().to_owned())
}

/// A one-time link signing a browser in as the admin.
async fn console_link(state: &folio_server::AppState) -> anyhow::Result<String> {
    let admin = state
        .store
        .get_user_by_username(ADMIN_USERNAME)
        .await?
        .with_context(|| format!("no user '{ADMIN_USERNAME}'"))?;
    let token = auth_once::issue(&state.store, admin.id, chrono::Utc::now() + LINK_LIFETIME)
        .await
        .map_err(|err| anyhow::anyhow!("making the console link: {err}"))?;
    Ok(auth_once::link(state, &token))
}
