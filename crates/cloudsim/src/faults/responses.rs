//! The answers of faults in each provider's shape: rate limits, server
//! errors, per-file refusals, and the JSON body with the provider's exact
//! content type that the rest of cloudsim answers with too.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};

use super::{FaultKind, FaultSpec};
use crate::world::Provider;

/// The response of a rate-limit or server-error fault, in `provider`'s shape.
pub fn fault_response(provider: Provider, spec: &FaultSpec) -> Response {
    let retry_after = spec.retry_after_seconds.unwrap_or(1);
    if spec.kind == FaultKind::FileError {
        let (status, body) = file_error_body(provider, spec.reason.as_deref());
        let mut response = json_body(provider, &body);
        *response.status_mut() = status;
        return response;
    }
    let (status, body) = match (spec.kind, provider) {
        (FaultKind::RateLimit, Provider::Google) if spec.status == Some(403) => (
            StatusCode::FORBIDDEN,
            serde_json::json!({"error": {"code": 403, "message": "User Rate Limit Exceeded",
                "errors": [{"domain": "usageLimits", "reason": "userRateLimitExceeded", "message": "User Rate Limit Exceeded"}]}}),
        ),
        (FaultKind::RateLimit, Provider::Google) => (
            StatusCode::TOO_MANY_REQUESTS,
            serde_json::json!({"error": {"code": 429, "message": "Rate Limit Exceeded",
                "errors": [{"domain": "usageLimits", "reason": "rateLimitExceeded", "message": "Rate Limit Exceeded"}]}}),
        ),
        (FaultKind::RateLimit, Provider::Microsoft) => (
            StatusCode::TOO_MANY_REQUESTS,
            serde_json::json!({"error": {"code": "activityLimitReached", "message": "The request has been throttled",
                "innerError": {"code": "throttledRequest", "innerError": {"code": "quota"},
                    "date": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "request-id": uuid::Uuid::new_v4().to_string()}}}),
        ),
        (FaultKind::RateLimit, Provider::Dropbox) => (
            StatusCode::TOO_MANY_REQUESTS,
            serde_json::json!({"error_summary": "too_many_requests/..",
                "error": {"reason": {".tag": "too_many_requests"}, "retry_after": retry_after}}),
        ),
        (_, provider) => {
            let status = spec
                .status
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            (status, server_error_body(provider, status))
        }
    };
    let mut response = (status, json_body(provider, &body)).into_response();
    if spec.kind == FaultKind::RateLimit {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from(retry_after));
    }
    response
}

/// Providers whose per-file refusals `file_error` emulates.
pub fn file_error_supported(provider: Provider) -> bool {
    matches!(provider, Provider::Google | Provider::Dropbox)
}

/// A provider's refusal of one file, with its real reason and message.
fn file_error_body(provider: Provider, reason: Option<&str>) -> (StatusCode, serde_json::Value) {
    match provider {
        Provider::Dropbox => {
            let reason = reason.unwrap_or("restricted_content");
            let error = match reason {
                "unsupported_file" => serde_json::json!({".tag": reason}),
                _ => serde_json::json!({".tag": "path", "path": {".tag": reason}}),
            };
            let summary = match reason {
                "unsupported_file" => format!("{reason}/.."),
                _ => format!("path/{reason}/.."),
            };
            (
                StatusCode::CONFLICT,
                serde_json::json!({"error_summary": summary, "error": error}),
            )
        }
        _ => {
            let reason = reason.unwrap_or("downloadQuotaExceeded");
            let message = match reason {
                "downloadQuotaExceeded" => "The download quota for this file has been exceeded.",
                "cannotDownloadAbusiveFile" => {
                    "This file has been identified as malware or spam and cannot be downloaded."
                }
                "exportSizeLimitExceeded" => "This file is too large to be exported.",
                _ => "The user does not have sufficient permissions for this file.",
            };
            (
                StatusCode::FORBIDDEN,
                serde_json::json!({"error": {"code": 403, "message": message,
                    "errors": [{"domain": "global", "reason": reason, "message": message}]}}),
            )
        }
    }
}

fn server_error_body(provider: Provider, status: StatusCode) -> serde_json::Value {
    let code = status.as_u16();
    match provider {
        Provider::Google => serde_json::json!({"error": {"code": code, "message": "Backend Error",
            "errors": [{"domain": "global", "reason": "backendError", "message": "Backend Error"}]}}),
        Provider::Microsoft => serde_json::json!({"error": {"code": "serviceNotAvailable",
            "message": "The service is not available. Try the request again after a delay.",
            "innerError": {"date": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "request-id": uuid::Uuid::new_v4().to_string()}}}),
        Provider::Dropbox => serde_json::json!({"error_summary": "internal_error/...",
            "error": {".tag": "internal_error"}}),
    }
}

/// A JSON body with the provider's exact content type (Dropbox wants plain
/// `application/json`; Google and Graph add a charset).
pub fn json_body(provider: Provider, value: &serde_json::Value) -> Response {
    let content_type = match provider {
        Provider::Dropbox => "application/json",
        _ => "application/json; charset=UTF-8",
    };
    // to_vec writes straight to a buffer; Display (to_string) goes through
    // fmt's adapter and was a tenth of cloudsim's time in large listings.
    match serde_json::to_vec(value) {
        Ok(body) => ([(http::header::CONTENT_TYPE, content_type)], body).into_response(),
        Err(e) => (
            http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("cloudsim could not encode its answer: {e}"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_errors_carry_the_providers_reason() {
        let (status, body) = file_error_body(Provider::Google, Some("cannotDownloadAbusiveFile"));
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(
            body["error"]["errors"][0]["reason"],
            "cannotDownloadAbusiveFile"
        );
        let (status, body) = file_error_body(Provider::Dropbox, None);
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["path"][".tag"], "restricted_content");
    }
}
