//! Liveness and readiness, for load balancers and orchestrators; no
//! authentication.
//!
//! - `GET /healthz`: the process serves HTTP. No I/O: a liveness probe must
//!   not fail (and get the process restarted) because the database is slow.
//! - `GET /readyz`: the database answers and the storage takes a probe
//!   object (see [`crate::readiness`]); 503 otherwise, so traffic goes
//!   elsewhere until it recovers.
//! - `GET /api/health`: the same as `/readyz`, kept for existing clients.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::readiness::ReadinessReport;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(api_health))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Liveness {
    /// Always `ok`.
    pub status: &'static str,
}

/// Liveness: 200 while the process serves HTTP; touches nothing else.
#[utoipa::path(get, path = "/healthz", tag = "health", security(()),
    responses((status = 200, body = Liveness)))]
async fn healthz() -> Json<Liveness> {
    Json(Liveness { status: "ok" })
}

/// Readiness: 200 when the database answers a query and the storage
/// stores, returns and deletes a probe object, each within 2 s; else 503
/// with the failing check's reason. Cached for a second.
#[utoipa::path(get, path = "/readyz", tag = "health", security(()),
    responses((status = 200, body = ReadinessReport), (status = 503, body = ReadinessReport)))]
async fn readyz(State(state): State<AppState>) -> Response {
    readiness_response(&state).await
}

/// The same as `/readyz`.
#[utoipa::path(get, path = "/api/health", tag = "health", security(()),
    responses((status = 200, body = ReadinessReport), (status = 503, body = ReadinessReport)))]
async fn api_health(State(state): State<AppState>) -> Response {
    readiness_response(&state).await
}

async fn readiness_response(state: &AppState) -> Response {
    let report = state.readiness.report().await;
    let status = if report.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report)).into_response()
}
