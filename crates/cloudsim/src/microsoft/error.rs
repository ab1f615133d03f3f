//! Graph error answers (`WIRE.md`, Graph):
//! `{"error":{"code","message","innerError":{"code"?,"date","request-id","client-request-id"}}}`.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use serde_json::json;

use crate::oauth::AuthFailure;

/// Graph's JSON content type.
pub const GRAPH_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// An error answer of a Graph route.
#[derive(Debug, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct GraphError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// A more specific code in `innerError.code`.
    pub inner: Option<&'static str>,
    /// `Location` header (410 resync).
    pub location: Option<String>,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        GraphError {
            status,
            code,
            message: message.into(),
            inner: None,
            location: None,
        }
    }

    /// 404 `itemNotFound`.
    pub fn item_not_found() -> Self {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "itemNotFound",
            "The resource could not be found.",
        )
    }

    /// 400 `invalidRequest`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        GraphError::new(StatusCode::BAD_REQUEST, "invalidRequest", message)
    }

    /// 401 `InvalidAuthenticationToken`.
    pub fn unauthenticated(failure: AuthFailure) -> Self {
        let message = match failure {
            AuthFailure::Missing => "Access token is empty.",
            AuthFailure::Invalid => "IDX14100: JWT is not well formed, there are no dots (.).",
            AuthFailure::Expired => "Lifetime validation failed, the token is expired.",
            AuthFailure::Revoked => "Access token has been revoked.",
        };
        GraphError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }

    /// 410 `resyncRequired`, with a fresh delta URL in `Location`.
    pub fn resync(location: String) -> Self {
        GraphError {
            status: StatusCode::GONE,
            code: "resyncRequired",
            message: "Resync required. Replace any local items with the server's version (including deletes) if you're sure that the service was up to date with your local changes when you last sync'd. Upload any local changes that the server doesn't know about.".into(),
            inner: Some("resyncChangesApplyDifferences"),
            location: Some(location),
        }
    }
}

/// A JSON answer with Graph's content type.
pub fn json_response(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => {
            let mut response = (status, body).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(GRAPH_JSON));
            response
        }
        Err(err) => {
            tracing::error!(error = %err, "serializing a Graph answer");
            GraphError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "generalException",
                "An internal error occurred.",
            )
            .into_response()
        }
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let request_id = uuid::Uuid::new_v4().to_string();
        let date = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut inner =
            json!({"date": date, "request-id": request_id, "client-request-id": request_id});
        if let Some(code) = self.inner {
            inner["code"] = json!(code);
        }
        let body =
            json!({"error": {"code": self.code, "message": self.message, "innerError": inner}});
        let mut response = json_response(self.status, &body);
        if let Some(location) = self.location
            && let Ok(value) = HeaderValue::from_str(&location)
        {
            response.headers_mut().insert(header::LOCATION, value);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\""),
            );
        }
        response
    }
}
