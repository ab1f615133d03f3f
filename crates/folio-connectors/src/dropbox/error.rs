//! Dropbox error answers into [`ConnectorError`] (docs/providers.md): 400
//! is plain text, 409 a route error matched on its `.tag` path, 429 carries
//! `Retry-After` and `error.retry_after`.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::model::ErrorBody;
use crate::ConnectorError;
use crate::http::{by_status, parse_retry_after};

/// The `.tag` chain of a route error: `{".tag":"path","path":{".tag":"not_found"}}`
/// gives `["path", "not_found"]`.
fn tags(error: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = error;
    while let Some(tag) = cur.get(".tag").and_then(Value::as_str) {
        out.push(tag.to_owned());
        match cur.get(tag) {
            Some(next) if next.is_object() => cur = next,
            _ => break,
        }
    }
    out
}

/// Classifies one Dropbox error answer.
pub(crate) fn parse_error(status: StatusCode, headers: &HeaderMap, body: &str) -> ConnectorError {
    let parsed = serde_json::from_str::<ErrorBody>(body).ok();
    let message = match &parsed {
        Some(b) if !b.error_summary.is_empty() => b.error_summary.clone(),
        _ => body.chars().take(300).collect(),
    };
    let t = parsed.as_ref().map(|b| tags(&b.error)).unwrap_or_default();
    let has = |tag: &str| t.iter().any(|x| x == tag);
    match status.as_u16() {
        409 if has("reset") => ConnectorError::CursorExpired(message),
        409 if has("not_found") => ConnectorError::NotFound(message),
        409 if has("restricted_content")
            || has("unsupported_file")
            || has("unsupported_content_type") =>
        {
            ConnectorError::PerFile { reason: message }
        }
        409 => ConnectorError::Permanent(message),
        429 => {
            let body_wait = parsed
                .as_ref()
                .and_then(|b| b.error.get("retry_after"))
                .and_then(Value::as_u64)
                .map(Duration::from_secs);
            ConnectorError::RateLimited {
                retry_after: parse_retry_after(headers).or(body_wait),
                message,
            }
        }
        _ => by_status(status, headers, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_errors() {
        let h = HeaderMap::new();
        let reset = r#"{"error_summary":"reset/..","error":{".tag":"reset"}}"#;
        assert!(matches!(
            parse_error(StatusCode::CONFLICT, &h, reset),
            ConnectorError::CursorExpired(_)
        ));
        let nf = r#"{"error_summary":"path/not_found/..","error":{".tag":"path","path":{".tag":"not_found"}}}"#;
        assert!(matches!(
            parse_error(StatusCode::CONFLICT, &h, nf),
            ConnectorError::NotFound(_)
        ));
        let rc = r#"{"error_summary":"path/restricted_content/","error":{".tag":"path","path":{".tag":"restricted_content"}}}"#;
        assert!(matches!(
            parse_error(StatusCode::CONFLICT, &h, rc),
            ConnectorError::PerFile { .. }
        ));
        let rl = r#"{"error_summary":"too_many_requests/.","error":{"reason":{".tag":"too_many_requests"},"retry_after":300}}"#;
        assert_eq!(
            parse_error(StatusCode::TOO_MANY_REQUESTS, &h, rl).retry_after(),
            Some(Duration::from_secs(300))
        );
        assert!(matches!(
            parse_error(StatusCode::BAD_REQUEST, &h, "Error in call"),
            ConnectorError::Permanent(_)
        ));
    }
}
