//! `folio serve`: open the store and storage, make sure an admin exists,
//! and serve (the API, the sync scheduler and the storage sweep) until
//! SIGTERM or Ctrl-C.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use folio_server::auth::{TOKEN_PREFIX, hash_secret, new_secret};
use folio_server::gc::{self, GcConfig};
use folio_server::scheduler::{Scheduler, SchedulerConfig};
use folio_server::{AppState, Application, ServerConfig};
use folio_store::{NewUser, Store};
use folio_sync::executor::SyncOptions;

use crate::cli::{GlobalArgs, ServeArgs};
use crate::config;

pub const ADMIN_USERNAME: &str = "admin";
pub const ADMIN_TOKEN_FILE: &str = "admin.token";

pub async fn run(args: &GlobalArgs, serve: &ServeArgs) -> anyhow::Result<()> {
    let admin_token = config::inline_or_file(
        serve.admin_token.as_deref(),
        serve.admin_token_file.as_deref(),
        (
            "admin_token (--admin-token, FOLIO_ADMIN_TOKEN)",
            "admin_token_file (--admin-token-file, FOLIO_ADMIN_TOKEN_FILE)",
        ),
    )?;
    // Said by `serve` only: the demo turns it on for its own loopback emulator.
    if serve.allow_private_provider_urls {
        tracing::warn!(
            "FOLIO_ALLOW_PRIVATE_PROVIDER_URLS is on: integrations may point at internal addresses"
        );
    }
    let server = Server::start(&args.data_dir, serve, admin_token.as_deref()).await?;
    let shutdown = shutdown_signal()?;
    println!("listening on http://{}", server.addr);
    std::io::stdout().flush()?;
    tracing::info!(callback = %folio_server::routes::oauth::callback_url(&server.state), "OAuth redirect URI to register with providers");
    tracing::info!(
        addr = %server.addr,
        database = %config::redact(&config::configured_database_url(&args.data_dir, &serve.database)),
        data_dir = %args.data_dir.display(),
        sync_concurrency = serve.sync_concurrency,
        "folio is serving"
    );
    server.serve_until(shutdown).await
}

/// A Folio server that is bound and ready to serve: the store open (and
/// migrated), an admin made, the storage sweep and token keep-alive
/// running. `folio serve` and `folio demo` start one.
pub struct Server {
    pub state: AppState,
    pub addr: std::net::SocketAddr,
    app: Application,
    store: Store,
    grace: Duration,
}

impl Server {
    /// Opens the store and storage of `data_dir` per `serve`, makes sure an
    /// admin exists, and binds `serve.listen`.
    pub async fn start(
        data_dir: &Path,
        serve: &ServeArgs,
        admin_token: Option<&str>,
    ) -> anyhow::Result<Self> {
        let store = config::open_store(data_dir, &serve.database).await?;
        let blobs = config::open_blobs(data_dir, &serve.storage).await?;
        ensure_admin(&store, data_dir, admin_token).await?;
        // Runs a previous instance of this process left running (it was killed)
        // free their libraries now rather than when their leases lapse.
        match folio_sync::run::recover_dead_runs(&store).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                runs = n,
                "marked failed the sync runs of a process that is gone"
            ),
            Err(err) => {
                tracing::warn!(error = %err, "could not look for the runs of a process that is gone")
            }
        }
        let server_config = ServerConfig {
            max_upload_bytes: serve.max_upload_bytes,
            secure_cookies: serve.secure_cookies,
            public_url: serve.public_url.clone(),
            allow_private_provider_urls: serve.allow_private_provider_urls,
            allowed_return_origins: serve.allowed_return_origins.clone(),
            secret_keys: config::open_keyring(data_dir, &serve.keys)?,
            scheduler: scheduler_config(serve),
            sync: sync_options(serve),
            google_exports: serve.google_exports.clone(),
            metrics_token: serve.metrics_token.clone().filter(|t| !t.is_empty()),
            ..ServerConfig::default()
        };
        let state = AppState::new(store.clone(), blobs, server_config);
        gc::spawn(state.store.clone(), state.blobs.clone(), gc_config(serve));
        // Refresh grants unused for 30 days, checked every 6 hours: well inside
        // Google's 6-month and Microsoft's 90-day idle limits.
        state
            .tokens
            .spawn_keep_alive(Duration::from_secs(6 * 3600), chrono::Duration::days(30));
        let app = Application::build(state.clone(), serve.listen)
            .await
            .with_context(|| format!("listening on {}", serve.listen))?;
        let addr = app.local_addr()?;
        Ok(Self {
            state,
            addr,
            app,
            store,
            grace: Duration::from_secs(serve.shutdown_grace_secs),
        })
    }

    /// Serves HTTP and runs the scheduler until `shutdown` ends; requests
    /// in flight and scheduled syncs then get the grace period.
    pub async fn serve_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let scheduler = Scheduler::start(self.state);
        let stop_scheduling = scheduler.stop_token();
        let served = self
            .app
            .serve_until(
                async move {
                    shutdown.await;
                    stop_scheduling.cancel();
                },
                self.grace,
            )
            .await
            .context("serving HTTP");
        // Scheduled syncs got the same grace, counted from the signal.
        scheduler.shutdown().await;
        served?;
        self.store.close().await;
        tracing::info!("folio stopped");
        Ok(())
    }
}

/// The scheduler's settings from the `FOLIO_SCHEDULE_*` and
/// `FOLIO_RECONCILE_INTERVAL_MINUTES` variables.
fn scheduler_config(serve: &ServeArgs) -> SchedulerConfig {
    SchedulerConfig {
        tick: Duration::from_millis(serve.schedule_tick_ms),
        max_concurrent: serve.schedule_concurrency,
        reconcile_interval: (serve.reconcile_interval_minutes > 0)
            .then(|| Duration::from_secs(serve.reconcile_interval_minutes.saturating_mul(60))),
        shutdown_grace: Duration::from_secs(serve.shutdown_grace_secs),
    }
}

/// What every sync starts from, from `FOLIO_SYNC_CONCURRENCY` and
/// `FOLIO_RETRY_FAILED_MINUTES`.
fn sync_options(serve: &ServeArgs) -> SyncOptions {
    SyncOptions {
        download_concurrency: usize::try_from(serve.sync_concurrency).unwrap_or(8),
        retry_failed_after: Some(Duration::from_secs(
            serve.retry_failed_minutes.saturating_mul(60),
        )),
        ..SyncOptions::default()
    }
}

/// The storage sweep's settings from `FOLIO_STORAGE_SWEEP_MINUTES` and
/// `FOLIO_ORPHAN_GRACE_MINUTES`.
fn gc_config(serve: &ServeArgs) -> GcConfig {
    let minutes = |m: u64| Duration::from_secs(m.saturating_mul(60));
    GcConfig {
        grace: minutes(serve.orphan_grace_minutes),
        interval: (serve.storage_sweep_minutes > 0).then(|| minutes(serve.storage_sweep_minutes)),
    }
}

/// On an empty database, creates `admin` with a token: `FOLIO_ADMIN_TOKEN`
/// when given, else a new one written to `<data dir>/admin.token` (0600).
/// On later starts, a `FOLIO_ADMIN_TOKEN` the database does not know yet is
/// added to `admin`, so setting the variable always works.
async fn ensure_admin(
    store: &Store,
    data_dir: &Path,
    env_token: Option<&str>,
) -> anyhow::Result<()> {
    let token = env_token.map_or_else(|| new_secret(TOKEN_PREFIX), str::to_owned);
    let admin = NewUser {
        username: ADMIN_USERNAME.to_owned(),
        display_name: Some("Administrator".to_owned()),
        password_hash: None,
        is_admin: true,
    };
    let created = store
        .bootstrap_admin(admin, "admin", &hash_secret(&token))
        .await
        .context("creating the first admin")?;
    if created.is_some() {
        if env_token.is_none() {
            let path = data_dir.join(ADMIN_TOKEN_FILE);
            write_secret_file(&path, &token)?;
            tracing::info!(path = %path.display(), "created user 'admin'; its API token is in this file");
        } else {
            tracing::info!("created user 'admin' with the token from FOLIO_ADMIN_TOKEN");
        }
        return Ok(());
    }
    if let Some(token) = env_token {
        install_env_token(store, token).await?;
    }
    Ok(())
}

async fn install_env_token(store: &Store, token: &str) -> anyhow::Result<()> {
    let hash = hash_secret(token);
    if store.user_by_token_hash(&hash).await?.is_some() {
        return Ok(());
    }
    match store.get_user_by_username(ADMIN_USERNAME).await? {
        Some(admin) if admin.is_admin => {
            store
                .create_token(admin.id, "FOLIO_ADMIN_TOKEN", &hash)
                .await?;
            tracing::info!("added the token from FOLIO_ADMIN_TOKEN to user 'admin'");
        }
        _ => tracing::warn!(
            "FOLIO_ADMIN_TOKEN is set but there is no admin user named 'admin'; ignoring it"
        ),
    }
    Ok(())
}

fn write_secret_file(path: &Path, secret: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    writeln!(file, "{secret}").with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Installs the SIGTERM and Ctrl-C handlers now, before the server says it
/// listens, so a signal sent as soon as it does never meets the default
/// action (or an inherited "ignore"); the future ends at the first one.
pub fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        let mut interrupt = signal(SignalKind::interrupt()).context("listening for Ctrl-C")?;
        Ok(async move {
            tokio::select! {
                _ = terminate.recv() => {},
                _ = interrupt.recv() => {},
            }
            tracing::info!("shutting down: finishing requests in flight");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            if let Err(err) = tokio::signal::ctrl_c().await {
                tracing::error!(error = %err, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
            tracing::info!("shutting down: finishing requests in flight");
        })
    }
}
