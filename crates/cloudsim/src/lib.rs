//! A wire-faithful emulator of Google Drive, OneDrive, SharePoint and Dropbox.
//!
//! Reading order: [`world`] (the state every API reads and the change log),
//! [`content`] (bytes, generated content, Range), [`listing_rows`] (the
//! one cache of sorted enumerations the listing APIs share), [`oauth`] (the three
//! providers' OAuth servers and [`oauth::authenticate`]), [`faults`] (fault
//! injection and request counters, applied by one middleware), [`control`]
//! (the `/_sim/` API), [`server`] (the router, TLS, [`Sim`] for tests), then
//! the provider APIs: [`google`], [`microsoft`], [`dropbox`].
//!
//! See `ARCHITECTURE.md` next to `Cargo.toml` for how an API module reads
//! state, records changes, counts requests and applies faults.

pub mod content;
pub mod control;
pub mod dropbox;
pub mod faults;
pub mod google;
pub mod hashes;
pub mod listing_rows;
pub mod microsoft;
pub mod oauth;
mod persist;
pub mod server;
pub mod tls;
pub mod world;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::HeaderMap;
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

pub use server::{Sim, SimHandle, SimOptions};
pub use world::Provider;

use content::ContentSource;
use world::World;

/// Behaviour switches, read and changed with `GET`/`PATCH /_sim/settings`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// Authorize endpoints approve at once (true) or show a consent page with an Allow button.
    pub auto_approve: bool,
    /// Microsoft: a refresh token stops working once it has been used.
    pub strict_rotation: bool,
    /// Access-token lifetime per provider, in seconds.
    pub access_token_lifetime_seconds: BTreeMap<Provider, u64>,
    /// Authorization codes live this long, in seconds.
    pub code_lifetime_seconds: u64,
    /// Drive `files.list`/`changes.list` largest `pageSize` (the schema says 1000;
    /// a 2026 description says 100: set 100 to emulate that).
    pub google_max_page_size: u32,
    /// Drive `files.export` limit in bytes (10 MB).
    pub google_export_limit_bytes: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            auto_approve: true,
            strict_rotation: true,
            access_token_lifetime_seconds: BTreeMap::from([
                (Provider::Google, 3599),
                (Provider::Microsoft, 4493),
                (Provider::Dropbox, 14400),
            ]),
            code_lifetime_seconds: 600,
            google_max_page_size: 1000,
            google_export_limit_bytes: 10 * 1024 * 1024,
        }
    }
}

impl Settings {
    /// Access-token lifetime of `provider` in seconds.
    pub fn token_lifetime(&self, provider: Provider) -> u64 {
        self.access_token_lifetime_seconds
            .get(&provider)
            .copied()
            .unwrap_or(3600)
    }
}

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The shared state behind [`AppState`].
pub struct Shared {
    world: RwLock<World>,
    /// OAuth clients, codes and tokens of all providers.
    pub oauth: Mutex<oauth::OAuthState>,
    /// Active faults.
    pub faults: Mutex<faults::Faults>,
    /// Per-endpoint request counters.
    pub counters: faults::Counters,
    /// Rows of recent first enumerations (Graph delta, Dropbox list_folder).
    pub listing_rows: listing_rows::ListingRows,
    /// Signs and checks Graph's pre-authenticated download URLs.
    pub download_urls: microsoft::download::DownloadUrls,
    settings: RwLock<Settings>,
    dirty: AtomicBool,
    state_dir: Option<PathBuf>,
    /// Held while a snapshot of this state is written (see
    /// [`persist::flush`]).
    pub(crate) flushing: Mutex<()>,
    scheme: &'static str,
}

impl AppState {
    /// A state from its parts (see [`persist`] for loading a state dir).
    pub(crate) fn from_parts(
        world: World,
        oauth: oauth::OAuthState,
        settings: Settings,
        state_dir: Option<PathBuf>,
        tls: bool,
    ) -> Self {
        AppState(Arc::new(Shared {
            world: RwLock::new(world),
            oauth: Mutex::new(oauth),
            faults: Mutex::new(faults::Faults::default()),
            counters: faults::Counters::default(),
            listing_rows: listing_rows::ListingRows::default(),
            download_urls: microsoft::download::DownloadUrls::default(),
            settings: RwLock::new(settings),
            dirty: AtomicBool::new(false),
            state_dir,
            flushing: Mutex::new(()),
            scheme: if tls { "https" } else { "http" },
        }))
    }

    /// An empty in-memory state (no persistence, plain HTTP).
    pub fn in_memory() -> Self {
        AppState::from_parts(
            World::default(),
            oauth::OAuthState::default(),
            Settings::default(),
            None,
            false,
        )
    }

    /// The shared parts.
    pub fn shared(&self) -> &Shared {
        &self.0
    }

    /// Runs `f` with read access to the world. Keep `f` short: it holds a lock.
    pub fn read<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        f(&self.0.world.read())
    }

    /// Runs `f` with write access to the world and marks the state for the
    /// next snapshot. Mutations must go through [`World`]'s methods so they
    /// record changes.
    pub fn write<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let r = f(&mut self.0.world.write());
        self.mark_dirty();
        r
    }

    /// Marks the state as changed (for OAuth and settings changes).
    pub fn mark_dirty(&self) {
        self.0.dirty.store(true, Ordering::Release);
    }

    pub(crate) fn take_dirty(&self) -> bool {
        self.0.dirty.swap(false, Ordering::AcqRel)
    }

    pub(crate) fn world_lock(&self) -> &RwLock<World> {
        &self.0.world
    }

    pub(crate) fn state_dir(&self) -> Option<&PathBuf> {
        self.0.state_dir.as_ref()
    }

    /// A copy of the current settings.
    pub fn settings(&self) -> Settings {
        self.0.settings.read().clone()
    }

    /// Replaces the settings.
    pub fn set_settings(&self, settings: Settings) {
        *self.0.settings.write() = settings;
        self.mark_dirty();
    }

    pub(crate) fn settings_lock(&self) -> &RwLock<Settings> {
        &self.0.settings
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        self.0.scheme
    }

    /// The base URL a client used to reach us (`scheme://Host`), for absolute
    /// links (Graph nextLink/downloadUrl, Drive exportLinks).
    pub fn base_url(&self, headers: &HeaderMap) -> String {
        let host = headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        format!("{}://{}", self.0.scheme, host)
    }

    /// The hash `algo` of each of `item_ids` that exists, from the items'
    /// caches or computed over their bytes by `compute` and cached. The
    /// missing ones are computed together, in one blocking task off the
    /// async threads, and cached under one write lock: a page of 1,000
    /// files costs one hand-off, not 1,000.
    pub async fn hashes(
        &self,
        item_ids: &[String],
        algo: &str,
        compute: fn(&ContentSource) -> String,
    ) -> HashMap<String, String> {
        let mut known = HashMap::new();
        let mut missing = Vec::new();
        self.read(|w| {
            for item in item_ids.iter().filter_map(|id| w.item(id)) {
                match item.hashes.get(algo) {
                    Some(h) => {
                        known.insert(item.id.clone(), h.clone());
                    }
                    None => missing.push((item.id.clone(), w.source(item), item.content_version)),
                }
            }
        });
        if missing.is_empty() {
            return known;
        }
        let Ok(computed) = tokio::task::spawn_blocking(move || {
            missing
                .into_iter()
                .map(|(id, source, version)| (id, compute(&source), version))
                .collect::<Vec<_>>()
        })
        .await
        else {
            return known;
        };
        // Cache entries, not changes: no snapshot is forced for them.
        let mut world = self.0.world.write();
        for (id, hash, version) in computed {
            if let Some(item) = world.items.get_mut(&id)
                && item.content_version == version
            {
                item.hashes.insert(algo.to_string(), hash.clone());
            }
            known.insert(id, hash);
        }
        known
    }
}
