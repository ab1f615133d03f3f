//! Drive error bodies into [`ConnectorError`]: 403s are classified by
//! reason (docs/providers.md, "Google Drive").

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::model::ErrorBody;
use crate::ConnectorError;
use crate::http::{by_status, parse_retry_after};

/// Reasons that only concern the one file.
const PER_FILE: [&str; 5] = [
    "downloadQuotaExceeded",
    "exportSizeLimitExceeded",
    "cannotDownloadAbusiveFile",
    "fileNotDownloadable",
    "cannotExportFile",
];
/// Reasons that are rate limits, whatever the status.
const RATE_LIMITS: [&str; 3] = [
    "userRateLimitExceeded",
    "rateLimitExceeded",
    "sharingRateLimitExceeded",
];

/// Classifies one Drive error answer.
pub(crate) fn parse_error(status: StatusCode, headers: &HeaderMap, body: &str) -> ConnectorError {
    let Ok(parsed) = serde_json::from_str::<ErrorBody>(body) else {
        return by_status(status, headers, truncate(body));
    };
    let first = parsed.error.errors.first();
    let reason = first.map(|e| e.reason.as_str()).unwrap_or_default();
    let location = first.and_then(|e| e.location.as_deref());
    let message = format!("{reason}: {}", parsed.error.message);
    if RATE_LIMITS.contains(&reason) {
        return ConnectorError::RateLimited {
            retry_after: parse_retry_after(headers),
            message,
        };
    }
    if PER_FILE.contains(&reason) {
        return ConnectorError::PerFile { reason: message };
    }
    if status == StatusCode::BAD_REQUEST && location == Some("pageToken") {
        return ConnectorError::CursorExpired(message);
    }
    by_status(status, headers, message)
}

fn truncate(body: &str) -> String {
    body.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, reason: &str) -> ConnectorError {
        let body = format!(
            r#"{{"error":{{"code":{status},"message":"m","errors":[{{"domain":"global","reason":"{reason}","message":"m"}}]}}}}"#
        );
        parse_error(
            StatusCode::from_u16(status).expect("status"),
            &HeaderMap::new(),
            &body,
        )
    }

    #[test]
    fn forbidden_reasons_are_classified() {
        assert!(matches!(
            err(403, "userRateLimitExceeded"),
            ConnectorError::RateLimited { .. }
        ));
        assert!(matches!(
            err(403, "rateLimitExceeded"),
            ConnectorError::RateLimited { .. }
        ));
        assert!(matches!(
            err(429, "rateLimitExceeded"),
            ConnectorError::RateLimited { .. }
        ));
        for r in [
            "downloadQuotaExceeded",
            "exportSizeLimitExceeded",
            "cannotDownloadAbusiveFile",
        ] {
            assert!(matches!(err(403, r), ConnectorError::PerFile { .. }), "{r}");
        }
        assert!(matches!(
            err(403, "insufficientFilePermissions"),
            ConnectorError::Permanent(_)
        ));
        assert!(matches!(err(404, "notFound"), ConnectorError::NotFound(_)));
        assert!(err(503, "backendError").is_temporary());
        let html = parse_error(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), "<html>");
        assert!(html.is_temporary());
    }
}
