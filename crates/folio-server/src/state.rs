//! What every handler can reach.

use std::sync::Arc;
use std::time::Duration;

use folio_blobs::BlobStore;
use folio_store::Store;

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
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: 1024 * 1024 * 1024,
            max_json_bytes: 1024 * 1024,
            session_ttl: Duration::from_secs(7 * 24 * 3600),
            secure_cookies: false,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub blobs: BlobStore,
    pub config: Arc<ServerConfig>,
}

impl AppState {
    pub fn new(store: Store, blobs: BlobStore, config: ServerConfig) -> Self {
        Self {
            store,
            blobs,
            config: Arc::new(config),
        }
    }
}
