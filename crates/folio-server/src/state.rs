//! What every handler can reach.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use folio_blobs::BlobStore;
use folio_connectors::ExportFormats;
use folio_oauth::{Keyring, TokenManager, UrlPolicy};
use folio_store::Store;
use folio_sync::executor::SyncOptions;

use crate::readiness::Readiness;
use crate::scheduler::SchedulerConfig;

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
    /// Scheduled syncs and reconciles (see [`crate::scheduler`]).
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

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub blobs: BlobStore,
    pub config: Arc<ServerConfig>,
    /// Access tokens, refreshes and the OAuth flows (folio-oauth).
    pub tokens: TokenManager,
    /// `config.public_url`, or the bound address once known.
    pub public_url: Arc<OnceLock<String>>,
    /// The client every sync's connector talks to the provider with.
    pub provider_http: reqwest::Client,
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
        let policy = UrlPolicy {
            allow_private: config.allow_private_provider_urls,
        };
        let tokens = TokenManager::new(store.clone(), config.secret_keys.clone(), policy)
            .expect("an HTTP client for OAuth servers");
        let public_url = Arc::new(OnceLock::new());
        if let Some(url) = &config.public_url {
            let _ = public_url.set(url.trim_end_matches('/').to_owned());
        }
        let readiness = Arc::new(Readiness::new(store.clone(), blobs.clone()));
        Self {
            store,
            blobs,
            readiness,
            config: Arc::new(config),
            tokens,
            public_url,
            provider_http: folio_connectors::provider_http_client(),
            setup_token: Arc::default(),
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
