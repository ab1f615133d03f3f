//! What every handler can reach: the application context
//! ([`folio_app::App`], which every service call takes) and what only the
//! HTTP layer needs.

use std::sync::Arc;
use std::time::Duration;

use folio_app::scheduler::SchedulerConfig;
use folio_app::{App, AppConfig};
use folio_blobs::BlobStore;
use folio_connectors::ExportFormats;
use folio_oauth::Keyring;
use folio_store::Store;
use folio_sync::executor::SyncOptions;

use crate::readiness::Readiness;

/// Settings of the HTTP layer, filled from the binary's configuration.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest accepted file upload, in bytes.
    pub max_upload_bytes: u64,
    /// Largest accepted JSON body, in bytes.
    pub max_json_bytes: usize,
    /// How long a login session lasts.
    pub session_ttl: Duration,
    /// Set the `Secure` attribute on session cookies (serve behind HTTPS).
    pub secure_cookies: bool,
    /// The base URL browsers and providers reach Folio at; the OAuth
    /// redirect URI is `<public_url>/api/oauth/callback`. `None`:
    /// `http://<bound address>`.
    pub public_url: Option<String>,
    /// Let integrations point at loopback/private addresses (the emulator).
    pub allow_private_provider_urls: bool,
    /// Origins (`https://host[:port]`) besides Folio's own that a connect
    /// flow may return to.
    pub allowed_return_origins: Vec<String>,
    /// Keys sealing client secrets and tokens at rest.
    pub secret_keys: Keyring,
    /// Scheduled syncs and reconciles (see [`folio_app::scheduler`]).
    pub scheduler: SchedulerConfig,
    /// What every sync run starts from (download concurrency, when failed
    /// files are tried again); each run sets its own purge, confirmation
    /// and full listing.
    pub sync: SyncOptions,
    /// What Google-native documents are exported to.
    pub google_exports: ExportFormats,
    /// When set, `GET /metrics` needs `Authorization: Bearer` with it.
    pub metrics_token: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: 1024 * 1024 * 1024,
            max_json_bytes: 1024 * 1024,
            session_ttl: Duration::from_secs(7 * 24 * 3600),
            secure_cookies: false,
            public_url: None,
            allow_private_provider_urls: false,
            allowed_return_origins: Vec::new(),
            secret_keys: Keyring::ephemeral(),
            scheduler: SchedulerConfig::default(),
            sync: SyncOptions::default(),
            google_exports: ExportFormats::default(),
            metrics_token: None,
        }
    }
}

impl ServerConfig {
    /// The part of these settings the application services read.
    fn app_config(&self) -> AppConfig {
        AppConfig {
            max_upload_bytes: self.max_upload_bytes,
            public_url: self.public_url.clone(),
            allow_private_provider_urls: self.allow_private_provider_urls,
            allowed_return_origins: self.allowed_return_origins.clone(),
            secret_keys: self.secret_keys.clone(),
            scheduler: self.scheduler.clone(),
            sync: self.sync.clone(),
            google_exports: self.google_exports.clone(),
        }
    }
}

/// The handlers' state: the application context (reached through `Deref`:
/// `state.store`, `state.tokens`...) and the HTTP layer's own settings.
#[derive(Clone)]
pub struct AppState {
    /// What every service call takes.
    pub app: App,
    /// The HTTP layer's settings (the services read `app.config`).
    pub config: Arc<ServerConfig>,
    /// The checks behind `/readyz`, with their cached result.
    pub readiness: Arc<Readiness>,
    /// The one-time token of the console's set-up link, while the admin
    /// has no password (see `console::session`).
    pub setup_token: Arc<std::sync::Mutex<Option<String>>>,
}

impl AppState {
    /// # Panics
    /// When no HTTP client can be built (no TLS backend), as
    /// `reqwest::Client::new` would.
    pub fn new(store: Store, blobs: BlobStore, config: ServerConfig) -> Self {
        let readiness = Arc::new(Readiness::new(store.clone(), blobs.clone()));
        Self {
            app: App::new(store, blobs, config.app_config()),
            config: Arc::new(config),
            readiness,
            setup_token: Arc::default(),
        }
    }
}

impl std::ops::Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.app
    }
}

/// The scheduler (and any other service runner) takes the context.
impl From<AppState> for App {
    fn from(state: AppState) -> App {
        state.app
    }
}
