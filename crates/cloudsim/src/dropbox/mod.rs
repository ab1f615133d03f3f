//! Dropbox API v2 (`WIRE.md`, Dropbox): every route is `POST /2/...`
//! on one host standing in for `api`, `content` and `notify`.
//!
//! Reading order: [`model`] (wire structs), [`error`] (the 400/401/409
//! answers), [`rpc`] (auth and argument decoding), [`metadata`] (items as
//! entries), then the routes: [`account`], [`list_folder`],
//! [`get_metadata`], [`download`].

pub mod account;
pub mod download;
pub mod error;
pub mod get_metadata;
pub mod list_folder;
pub mod metadata;
pub mod model;
pub mod rpc;

use axum::Router;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use http::{StatusCode, header};

use crate::AppState;

/// The Dropbox API routes; `server.rs` counts and fault-wraps them.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/2/users/get_current_account",
            post(account::get_current_account),
        )
        .route("/2/users/get_space_usage", post(account::get_space_usage))
        .route("/2/auth/token/revoke", post(account::revoke))
        .route("/2/files/get_metadata", post(get_metadata::get_metadata))
        .route("/2/files/list_folder", post(list_folder::list_folder))
        .route(
            "/2/files/list_folder/continue",
            post(list_folder::list_folder_continue),
        )
        .route(
            "/2/files/list_folder/get_latest_cursor",
            post(list_folder::get_latest_cursor),
        )
        .route("/2/files/list_folder/longpoll", post(list_folder::longpoll))
        .route("/2/files/download", post(download::download))
        .route("/2/{*route}", any(unknown))
}

/// Any other `/2/` path: 404 in plain text naming the unknown function.
async fn unknown(Path(route): Path<String>) -> Response {
    not_found(&format!("\"{route}\""))
}

/// Dropbox's 404: plain text `Unknown API function: <what>`, with a
/// request id. Also the answer to any unknown path on Dropbox's host names.
pub fn not_found(what: &str) -> Response {
    let mut response = (
        StatusCode::NOT_FOUND,
        format!("Unknown API function: {what}"),
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    error::insert_request_id(response.headers_mut());
    response
}

/// Dropbox's host names (all served by this one origin).
pub const HOSTS: &[&str] = &[
    "www.dropbox.com",
    "api.dropbox.com",
    "api.dropboxapi.com",
    "content.dropboxapi.com",
    "notify.dropboxapi.com",
];

/// True when a request's `Host` (port ignored) is one of Dropbox's.
pub fn is_dropbox_host(headers: &http::HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    HOSTS.iter().any(|h| h.eq_ignore_ascii_case(name))
}
