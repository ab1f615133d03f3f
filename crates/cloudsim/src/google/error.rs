//! Google's error body: `{"error":{"code","message","errors":[{"domain",
//! "reason","message","locationType"?,"location"?}]}}`.
//! <https://developers.google.com/drive/api/guides/handle-errors>

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::json;

use crate::faults::json_body;
use crate::oauth::AuthFailure;
use crate::world::Provider;

/// One Google API error.
#[derive(Debug, Clone)]
pub struct GoogleError {
    pub status: StatusCode,
    pub domain: &'static str,
    pub reason: &'static str,
    pub message: String,
    /// (`locationType`, `location`)
    pub location: Option<(&'static str, String)>,
}

impl GoogleError {
    fn new(
        status: StatusCode,
        domain: &'static str,
        reason: &'static str,
        message: impl Into<String>,
    ) -> Self {
        GoogleError {
            status,
            domain,
            reason,
            message: message.into(),
            location: None,
        }
    }

    /// Adds `locationType`/`location`.
    pub fn at(mut self, location_type: &'static str, location: impl Into<String>) -> Self {
        self.location = Some((location_type, location.into()));
        self
    }

    /// Replaces the message.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// 400 badRequest / invalid parameter.
    pub fn bad_request(message: impl Into<String>) -> Self {
        GoogleError::new(StatusCode::BAD_REQUEST, "global", "badRequest", message)
    }

    /// 400 invalid value of `parameter`.
    pub fn invalid_parameter(parameter: &str, message: impl Into<String>) -> Self {
        GoogleError::new(StatusCode::BAD_REQUEST, "global", "invalid", message)
            .at("parameter", parameter)
    }

    /// 400 required parameter missing.
    pub fn required(parameter: &str) -> Self {
        GoogleError::new(
            StatusCode::BAD_REQUEST,
            "global",
            "required",
            format!("Required parameter: {parameter}"),
        )
        .at("parameter", parameter)
    }

    /// 401 authError "Invalid Credentials" (bad, expired or missing token).
    pub fn auth(failure: AuthFailure) -> Self {
        let (reason, message) = match failure {
            AuthFailure::Missing => ("required", "Login Required."),
            _ => ("authError", "Invalid Credentials"),
        };
        GoogleError::new(StatusCode::UNAUTHORIZED, "global", reason, message)
            .at("header", "Authorization")
    }

    /// 404 notFound "File not found: ID."
    pub fn file_not_found(id: &str) -> Self {
        GoogleError::new(
            StatusCode::NOT_FOUND,
            "global",
            "notFound",
            format!("File not found: {id}."),
        )
        .at("parameter", "fileId")
    }

    /// 404 for a shared drive.
    pub fn drive_not_found(id: &str) -> Self {
        GoogleError::new(
            StatusCode::NOT_FOUND,
            "global",
            "notFound",
            format!("Shared drive not found: {id}"),
        )
        .at("parameter", "driveId")
    }

    /// 404 for a path no API serves (Google answers unknown URLs with a 404).
    pub fn unknown_path(path: &str) -> Self {
        GoogleError::new(
            StatusCode::NOT_FOUND,
            "global",
            "notFound",
            format!("The requested URL {path} was not found on this server."),
        )
    }

    /// 403 fileNotDownloadable (alt=media on a Google-native file).
    pub fn not_downloadable() -> Self {
        GoogleError::new(
            StatusCode::FORBIDDEN,
            "global",
            "fileNotDownloadable",
            "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
        )
        .at("parameter", "alt")
    }

    /// 403 exportSizeLimitExceeded.
    pub fn export_too_large() -> Self {
        GoogleError::new(
            StatusCode::FORBIDDEN,
            "global",
            "exportSizeLimitExceeded",
            "This file is too large to be exported.",
        )
    }

    /// 403 for export of a binary file.
    pub fn export_not_supported() -> Self {
        GoogleError::new(
            StatusCode::FORBIDDEN,
            "global",
            "fileNotExportable",
            "Export only supports Docs Editors files.",
        )
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        let mut detail = json!({
            "domain": self.domain,
            "reason": self.reason,
            "message": self.message,
        });
        if let Some((t, l)) = &self.location {
            detail["locationType"] = json!(t);
            detail["location"] = json!(l);
        }
        json!({"error": {"code": self.status.as_u16(), "message": self.message, "errors": [detail]}})
    }
}

impl IntoResponse for GoogleError {
    fn into_response(self) -> Response {
        let mut response = json_body(Provider::Google, &self.body());
        *response.status_mut() = self.status;
        if self.status == StatusCode::UNAUTHORIZED
            && let Ok(v) = http::HeaderValue::from_str(
                "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"",
            )
        {
            response
                .headers_mut()
                .insert(http::header::WWW_AUTHENTICATE, v);
        }
        response
    }
}
