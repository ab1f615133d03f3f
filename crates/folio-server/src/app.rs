//! Building the HTTP application and serving it.
//!
//! [`Application::build`] binds the listener before anything runs, so a
//! caller (the binary, a test) knows the port at once, even with port 0.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::console;
use crate::error::error_response;
use crate::openapi::ApiDoc;
use crate::routes::api_router;
use crate::state::AppState;

/// The router with every route, the OpenAPI document, the console and the
/// layers.
pub fn router(state: AppState) -> Router {
    let (router, mut spec) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api_router())
        .split_for_parts();
    crate::openapi::complete(&mut spec);
    let spec_json = spec.to_pretty_json().unwrap_or_else(|e| {
        tracing::error!(error = %e, "could not render the OpenAPI document");
        "{}".to_owned()
    });
    let json_limit = state.config.max_json_bytes;
    let upload_limit = usize::try_from(state.config.max_upload_bytes).unwrap_or(usize::MAX);
    let api = router
        .route(
            "/api/openapi.json",
            axum::routing::get(move || async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    spec_json,
                )
            }),
        )
        .route("/metrics", axum::routing::get(crate::metrics::metrics))
        .route(
            crate::auth_once::PATH,
            axum::routing::get(crate::auth_once::login_once),
        )
        .with_state(state.clone());
    // The console calls the application services itself (see
    // `console::data`).
    let console = console::router(console::Data::new(state.clone()), upload_limit);
    api.merge(console)
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(console::callback::callback_pages))
        .layer(axum::middleware::from_fn_with_state(
            state,
            console::security::refuse_cross_site,
        ))
        .layer(axum::middleware::from_fn(console::security::security_headers))
        // After the routes, so that it sees each request's route template.
        .layer(axum::middleware::from_fn(crate::metrics::track_http))
        .layer(DefaultBodyLimit::max(json_limit))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            tracing::info_span!("http", method = %request.method(), path = %request.uri().path(), request_id = id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// An unknown path: the API's JSON 404, or the console's not-found page
/// for a browser asking for a page.
async fn unknown_route(headers: axum::http::HeaderMap, uri: axum::http::Uri) -> Response {
    let wants_page = !uri.path().starts_with("/api/")
        && headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
    if wants_page {
        return console::page::not_found(console::page::Chrome::anonymous("Not found"));
    }
    error_response(
        StatusCode::NOT_FOUND,
        format!("no route for '{}'", uri.path()),
    )
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method {method} is not allowed on '{}'", uri.path()),
    )
    .into_response()
}

/// A bound, not yet serving, HTTP application.
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    pub async fn build(state: AppState, listen: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        state.bound_to(listener.local_addr()?);
        console::session::announce_setup(&state).await;
        Ok(Self {
            listener,
            router: router(state),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then stops accepting and lets the
    /// requests in flight finish (at most `grace`).
    pub async fn serve_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
        grace: Duration,
    ) -> std::io::Result<()> {
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        // Small writes (SSE progress events, short JSON answers) must not
        // wait for the peer's delayed ACK.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::warn!(%error, "could not set TCP_NODELAY");
            }
        });
        let serve = axum::serve(listener, self.router).with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stopped_tx.send(());
        });
        let server = tokio::spawn(async move { serve.await });
        let deadline = async {
            let _ = stopped_rx.await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            result = server => result.map_err(std::io::Error::other)?,
            () = deadline => {
                tracing::warn!(grace_secs = grace.as_secs(), "requests still running after the grace period; stopping anyway");
                Ok(())
            }
        }
    }
}
