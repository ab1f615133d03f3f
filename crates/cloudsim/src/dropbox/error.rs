//! Dropbox's error answers (`WIRE.md`, Dropbox): 400 plain text, 401 JSON
//! AuthError, 409 JSON route error, all JSON with `Content-Type` exactly
//! `application/json`.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use crate::oauth::AuthFailure;

/// An error answer of a Dropbox route.
#[derive(Debug, thiserror::Error)]
pub enum DbxError {
    /// 400, plain text: `Error in call to API function "<route>": <message>`.
    #[error("bad input to {route}: {message}")]
    BadInput {
        route: &'static str,
        message: String,
    },
    /// 401 `{"error_summary", "error": AuthError}`.
    #[error("unauthorized: {0}")]
    Auth(AuthFailure),
    /// 409 route error: `summary` is the tag path, `error` the tagged union.
    #[error("route error {summary}")]
    Route { summary: String, error: Value },
    /// 500 with an opaque body; the cause is logged.
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl DbxError {
    pub fn bad_input(route: &'static str, message: impl Into<String>) -> Self {
        DbxError::BadInput {
            route,
            message: message.into(),
        }
    }

    /// `{".tag":"path","path":{".tag":<lookup>}}`, e.g. `path/not_found/`.
    pub fn path_lookup(lookup: &str) -> Self {
        DbxError::Route {
            summary: format!("path/{lookup}/"),
            error: json!({".tag": "path", "path": {".tag": lookup}}),
        }
    }

    /// `ListFolderContinueError.reset`: the cursor cannot be served.
    pub fn reset() -> Self {
        DbxError::Route {
            summary: "reset/".into(),
            error: json!({".tag": "reset"}),
        }
    }
}

/// A JSON answer with Dropbox's exact content type and a request id.
pub fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    insert_request_id(headers);
    response
}

/// Adds `X-Dropbox-Request-Id`.
pub fn insert_request_id(headers: &mut http::HeaderMap) {
    let id = format!("{:032x}", rand::random::<u128>());
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert("x-dropbox-request-id", value);
    }
}

fn auth_tag(failure: AuthFailure) -> &'static str {
    match failure {
        AuthFailure::Expired => "expired_access_token",
        AuthFailure::Missing | AuthFailure::Invalid | AuthFailure::Revoked => {
            "invalid_access_token"
        }
    }
}

impl IntoResponse for DbxError {
    fn into_response(self) -> Response {
        match self {
            DbxError::BadInput { route, message } => {
                let text = format!("Error in call to API function \"{route}\": {message}");
                let mut response = (StatusCode::BAD_REQUEST, text).into_response();
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                insert_request_id(response.headers_mut());
                response
            }
            DbxError::Auth(failure) => {
                let tag = auth_tag(failure);
                let body = json!({"error_summary": format!("{tag}/.."), "error": {".tag": tag}});
                json_response(StatusCode::UNAUTHORIZED, body.to_string())
            }
            DbxError::Route { summary, error } => {
                let body = json!({"error_summary": format!("{summary}.."), "error": error});
                json_response(StatusCode::CONFLICT, body.to_string())
            }
            DbxError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "dropbox handler failed");
                let body = json!({"error_summary": "internal_error/...", "error": {".tag": "internal_error"}});
                json_response(StatusCode::INTERNAL_SERVER_ERROR, body.to_string())
            }
        }
    }
}
