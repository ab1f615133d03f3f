//! [`App`]: what every service reaches, built once per process and cloned
//! cheaply (every field is a handle).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use folio_blobs::BlobStore;
use folio_connectors::ExportFormats;
use folio_oauth::{Keyring, TokenManager, UrlPolicy};
use folio_store::Store;
use folio_sync::executor::SyncOptions;

use crate::pacers::Pacers;
use crate::scheduler::SchedulerConfig;

/// The application's settings, filled from the binary's configuration.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Largest accepted file upload, in bytes.
    pub max_upload_bytes: u64,
    /// The base URL browsers and providers reach Folio at (the OAuth
    /// redirect URI is `<public_url>/api/oauth/callback`). `None`:
    /// `http://<bound address>`, once [`App::bound_to`] is called.
    pub public_url: Option<String>,
    /// Let integrations point at loopback/private addresses (the emulator).
    pub allow_private_provider_urls: bool,
    /// Origins (`https://host[:port]`) besides Folio's own that a connect
    /// flow may return to.
    pub allowed_return_origins: Vec<String>,
    /// Keys sealing client secrets and tokens at rest.
    pub secret_keys: Keyring,
    /// Scheduled syncs and reconciles (see [`crate::scheduler`]).
    pub scheduler: SchedulerConfig,
    /// What every sync run starts from (download concurrency, when failed
    /// files are tried again); each run sets its own purge, confirmation
    /// and full listing.
    pub sync: SyncOptions,
    /// What Google-native documents are exported to.
    pub google_exports: ExportFormats,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: 1024 * 1024 * 1024,
            public_url: None,
            allow_private_provider_urls: false,
            allowed_return_origins: Vec::new(),
            secret_keys: Keyring::ephemeral(),
            scheduler: SchedulerConfig::default(),
            sync: SyncOptions::default(),
            google_exports: ExportFormats::default(),
        }
    }
}

/// The application context every service takes.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub blobs: BlobStore,
    pub config: Arc<AppConfig>,
    /// Access tokens, refreshes and the OAuth flows (folio-oauth).
    pub tokens: TokenManager,
    /// The client every sync's connector talks to the provider with.
    pub provider_http: reqwest::Client,
    /// The pace of each connection, kept across its syncs.
    pub pacers: Pacers,
    /// `config.public_url`, or the bound address once known.
    public_url: Arc<OnceLock<String>>,
}

impl App {
    /// # Panics
    /// When no HTTP client can be built (no TLS backend), as
    /// `reqwest::Client::new` would.
    pub fn new(store: Store, blobs: BlobStore, config: AppConfig) -> Self {
        let policy = UrlPolicy {
            allow_private: config.allow_private_provider_urls,
        };
        let tokens = TokenManager::new(store.clone(), config.secret_keys.clone(), policy)
            .expect("an HTTP client for OAuth servers");
        let public_url = Arc::new(OnceLock::new());
        if let Some(url) = &config.public_url {
            let _ = public_url.set(url.trim_end_matches('/').to_owned());
        }
        Self {
            store,
            blobs,
            config: Arc::new(config),
            tokens,
            provider_http: folio_connectors::provider_http_client(),
            pacers: Pacers::default(),
            public_url,
        }
    }

    /// Fills the public URL from the bound address unless configured.
    pub fn bound_to(&self, addr: SocketAddr) {
        let _ = self.public_url.set(format!("http://{addr}"));
    }

    /// The public base URL (no trailing slash).
    pub fn public_url(&self) -> &str {
        self.public_url
            .get()
            .map_or("http://127.0.0.1", String::as_str)
    }
}
