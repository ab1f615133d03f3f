//! One axum router on one port, plain HTTP or TLS, and the in-process
//! API for tests ([`Sim::start`]).
//!
//! Router hook: each provider module exports `pub fn router() -> Router<AppState>`
//! with its API routes; [`router`] merges them with the provider's OAuth
//! routes, wraps each provider's routes in [`faults::track`] (request
//! counters + faults, keyed by provider), nests the control API under
//! `/_sim`, and answers unknown paths like the provider the path looks like.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::Request;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum_server::accept::NoDelayAcceptor;
use axum_server::tls_rustls::RustlsAcceptor;
use http::StatusCode;

use crate::faults::{self, Track, json_body};
use crate::world::Provider;
use crate::{AppState, control, dropbox, google, microsoft, oauth, persist, tls};

/// How to serve TLS.
#[derive(Debug, Clone)]
pub enum TlsOptions {
    /// Use this certificate chain and key (PEM files).
    Files { cert: PathBuf, key: PathBuf },
    /// Generate (or reuse) a CA and certificate in this directory.
    Generate { dir: PathBuf },
}

/// Options of [`Sim::start`] and `cloudsim serve`.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    /// Address to bind; port 0 picks a free one. Default 127.0.0.1:0.
    pub addr: Option<SocketAddr>,
    /// Persist the world here and load it on start.
    pub state_dir: Option<PathBuf>,
    /// Serve HTTPS.
    pub tls: Option<TlsOptions>,
}

/// The whole router for `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(tracked(
            &state,
            Provider::Google,
            google::router().merge(oauth::google_router()),
        ))
        .merge(tracked(
            &state,
            Provider::Microsoft,
            microsoft::router().merge(oauth::microsoft_router()),
        ))
        .merge(tracked(
            &state,
            Provider::Dropbox,
            dropbox::router().merge(oauth::dropbox_router()),
        ))
        .method_not_allowed_fallback(wrong_method)
        .nest("/_sim", control::router())
        .fallback(unknown_path)
        .with_state(state)
}

/// Wraps one provider's routes in the counting/fault middleware.
fn tracked(state: &AppState, provider: Provider, routes: Router<AppState>) -> Router<AppState> {
    routes.layer(from_fn_with_state(
        Track {
            app: state.clone(),
            provider,
        },
        faults::track,
    ))
}

/// Unknown paths answer like the provider they belong to: Dropbox's 404
/// for any path asked of a Dropbox host name; else by the path: Graph
/// under `/v1.0`, Dropbox under `/2/`, Google otherwise.
async fn unknown_path(req: Request) -> Response {
    let path = req.uri().path().to_string();
    if dropbox::is_dropbox_host(req.headers()) {
        return dropbox::not_found(&path);
    }
    if path.starts_with("/v1.0/") || path == "/v1.0" {
        let segment = path
            .trim_start_matches("/v1.0/")
            .split('/')
            .next()
            .unwrap_or("");
        let body = serde_json::json!({"error": {"code": "BadRequest",
            "message": format!("Resource not found for the segment '{segment}'."),
            "innerError": {"date": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "request-id": uuid::Uuid::new_v4().to_string()}}});
        let mut r = json_body(Provider::Microsoft, &body);
        *r.status_mut() = StatusCode::BAD_REQUEST;
        return r;
    }
    if let Some(function) = path.strip_prefix("/2/") {
        return dropbox::not_found(&format!("\"{function}\""));
    }
    crate::google::error::GoogleError::unknown_path(&path).into_response()
}

/// A known path with a method it does not serve: 405 with the body the
/// provider would give for an unknown path.
async fn wrong_method(req: Request) -> Response {
    let mut response = unknown_path(req).await;
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
}

/// Starts cloudsim servers.
pub struct Sim;

/// A running cloudsim. Dropping it leaves the server running until the
/// runtime ends; call [`SimHandle::shutdown`] to stop it and flush state.
pub struct SimHandle {
    base_url: String,
    addr: SocketAddr,
    state: AppState,
    control: axum_server::Control,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    flusher: Option<tokio::task::JoinHandle<()>>,
    tls: Option<tls::TlsFiles>,
}

impl Sim {
    /// Binds (before returning, so the URL is usable at once) and serves.
    pub async fn start(options: SimOptions) -> anyhow::Result<SimHandle> {
        let tls_files = match &options.tls {
            None => None,
            Some(TlsOptions::Files { cert, key }) => Some(tls::TlsFiles {
                ca: cert.clone(),
                cert: cert.clone(),
                key: key.clone(),
            }),
            Some(TlsOptions::Generate { dir }) => Some(tls::generate(dir)?),
        };
        let state = match &options.state_dir {
            Some(dir) => persist::load(dir, tls_files.is_some())
                .with_context(|| format!("loading state from {dir:?}"))?,
            None => AppState::from_parts(
                Default::default(),
                Default::default(),
                Default::default(),
                None,
                tls_files.is_some(),
            ),
        };
        let addr = options
            .addr
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener =
            std::net::TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
        listener
            .set_nonblocking(true)
            .context("making the listener non-blocking")?;
        let local = listener.local_addr().context("reading the bound address")?;
        let app = router(state.clone()).into_make_service();
        let control = axum_server::Control::new();
        let server = match &tls_files {
            None => {
                let server = axum_server::from_tcp(listener)
                    .context("serving the listener")?
                    .acceptor(NoDelayAcceptor::new())
                    .handle(axum_server::Handle::with_control(control.clone()));
                tokio::spawn(server.serve(app))
            }
            Some(files) => {
                let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
                let config =
                    axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.cert, &files.key)
                        .await
                        .with_context(|| format!("loading {:?} and {:?}", files.cert, files.key))?;
                // Without TCP_NODELAY, Nagle holds the second TLS record of a
                // response until the client's delayed ACK (about 40 ms).
                let server = axum_server::from_tcp(listener)
                    .context("serving the listener")?
                    .acceptor(RustlsAcceptor::new(config).acceptor(NoDelayAcceptor::new()))
                    .handle(axum_server::Handle::with_control(control.clone()));
                tokio::spawn(server.serve(app))
            }
        };
        let flusher = state
            .state_dir()
            .is_some()
            .then(|| tokio::spawn(persist::flush_loop(state.clone())));
        let scheme = if tls_files.is_some() { "https" } else { "http" };
        Ok(SimHandle {
            base_url: format!("{scheme}://{local}"),
            addr: local,
            state,
            control,
            server,
            flusher,
            tls: tls_files,
        })
    }
}

impl SimHandle {
    /// `http://127.0.0.1:PORT` (or `https://`), no trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (to inspect or change the world directly in tests).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The CA certificate to trust, when serving TLS with generated files.
    pub fn ca_file(&self) -> Option<&PathBuf> {
        self.tls.as_ref().map(|t| &t.ca)
    }

    /// Waits until the server stops by itself (e.g. never, for `serve`).
    pub async fn wait(&mut self) -> anyhow::Result<()> {
        (&mut self.server)
            .await
            .context("server task")?
            .context("serving")?;
        Ok(())
    }

    /// Stops accepting, lets requests in flight finish (up to 2 s), and
    /// writes the state snapshot.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.control.graceful_shutdown(Some(Duration::from_secs(2)));
        if let Some(f) = &self.flusher {
            f.abort();
        }
        let _ = self.server.await;
        let state = self.state.clone();
        tokio::task::spawn_blocking(move || persist::flush(&state))
            .await
            .context("snapshot task")??;
        Ok(())
    }
}
