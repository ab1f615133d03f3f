//! Graph error bodies into [`ConnectorError`] (docs/providers.md).

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::model::ErrorBody;
use crate::ConnectorError;
use crate::http::by_status;

/// Codes meaning the delta token is dead (all spellings seen in the docs).
const RESYNC: [&str; 6] = [
    "resyncRequired",
    "syncStateNotFound",
    "resyncApplyDifferences",
    "resyncChangesApplyDifferences",
    "resyncUploadDifferences",
    "resyncChangesUploadDifferences",
];

/// Classifies one Graph error answer.
pub(crate) fn parse_error(status: StatusCode, headers: &HeaderMap, body: &str) -> ConnectorError {
    let parsed = serde_json::from_str::<ErrorBody>(body).ok();
    let codes: Vec<&str> = parsed.as_ref().map(|b| b.error.codes()).unwrap_or_default();
    let message = match &parsed {
        Some(b) => format!("{}: {}", b.error.code, b.error.message),
        None => body.chars().take(300).collect(),
    };
    if status == StatusCode::GONE || codes.iter().any(|c| RESYNC.contains(c)) {
        return ConnectorError::CursorExpired(message);
    }
    if codes.contains(&"malwareDetected") {
        return ConnectorError::PerFile { reason: message };
    }
    by_status(status, headers, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gone_and_throttled() {
        let body = r#"{"error":{"code":"resyncRequired","message":"m","innerError":{"code":"resyncChangesApplyDifferences"}}}"#;
        assert!(matches!(
            parse_error(StatusCode::GONE, &HeaderMap::new(), body),
            ConnectorError::CursorExpired(_)
        ));
        let mut h = HeaderMap::new();
        h.insert("retry-after", "41".parse().expect("header"));
        let e = parse_error(
            StatusCode::TOO_MANY_REQUESTS,
            &h,
            r#"{"error":{"code":"activityLimitReached","message":"throttled"}}"#,
        );
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(41)));
        assert!(matches!(
            parse_error(
                StatusCode::NOT_FOUND,
                &HeaderMap::new(),
                r#"{"error":{"code":"itemNotFound","message":"x"}}"#
            ),
            ConnectorError::NotFound(_)
        ));
    }
}
