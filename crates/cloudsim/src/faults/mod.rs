//! Fault injection and per-endpoint request counters.
//!
//! Both are applied by one middleware, [`track()`], that `server.rs` wraps
//! around every provider router (`route_layer`, so only matched routes
//! count). The route key of a request is
//! `"<provider> <METHOD> <matched route>"`, e.g.
//! `google GET /drive/v3/files/{fileId}`; a request with `alt=media` in its
//! query gets `?alt=media` appended (Drive downloads count apart).
//!
//! A fault matches a request when its provider matches and its `endpoint`
//! is absent, equals the key without the provider (`GET /drive/v3/files`),
//! equals the route alone (`/drive/v3/files`), or ends in `*` and is a
//! prefix of either; and, when it has an `itemId`, the request names that
//! item (see [`request_names_item`]). `file_error` faults aimed at one item
//! are how tests get a provider's per-file refusals (Drive
//! `downloadQuotaExceeded`, `cannotDownloadAbusiveFile`, Dropbox
//! `restricted_content`), which cloudsim's world has no state for.
//!
//! Here: the faults and how one is chosen for a request; `track.rs` holds
//! the middleware, the counters and the body cutting and corrupting;
//! `responses.rs` the error answers in each provider's shape.

mod responses;
mod track;

use std::time::Duration;

use axum::extract::Request;
use serde::{Deserialize, Serialize};

use crate::world::Provider;

pub use responses::{fault_response, file_error_supported, json_body};
pub use track::{Counters, Track, route_key, track};

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// 429 with `Retry-After` in the provider's body shape.
    RateLimit,
    /// 5xx (503 by default, `status` overrides) in the provider's body shape.
    ServerError,
    /// Delays the response by `latencyMs`.
    Latency,
    /// Flips the first byte of a successful response body (downloads).
    Corrupt,
    /// Breaks a successful response body off after `cutAfterBytes`
    /// (default 1) bytes, as a dropped connection does mid-download.
    Cut,
    /// The provider's refusal of one file: Google 403 with `reason`
    /// (default `downloadQuotaExceeded`), Dropbox 409 `path/<reason>`
    /// (default `restricted_content`; `unsupported_file` is top level).
    /// Not emulated for Microsoft.
    FileError,
}

/// A fault as posted to `POST /_sim/faults`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultSpec {
    pub provider: Provider,
    /// Which requests; see the module doc. Absent: every request of the provider.
    #[serde(default)]
    pub endpoint: Option<String>,
    pub kind: FaultKind,
    /// Fire this many times, then disappear.
    #[serde(default)]
    pub count: Option<u64>,
    /// Fire with this probability (0..=1). With neither count nor probability: always.
    #[serde(default)]
    pub probability: Option<f64>,
    /// Let this many matching requests through untouched first (a feed
    /// that fails from its second page on: `skip: 1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<u64>,
    /// `Retry-After` of rate limits (default 1).
    #[serde(default)]
    pub retry_after_seconds: Option<u64>,
    /// Delay of `latency` faults (default 1000).
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// HTTP status of `server_error` faults (default 503); `403` turns a
    /// Google `rate_limit` into Drive's 403 `userRateLimitExceeded`.
    #[serde(default)]
    pub status: Option<u16>,
    /// Only requests naming this item id (a path segment, an `id=` query
    /// parameter, or the `path` of Dropbox's `Dropbox-API-Arg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<String>,
    /// The provider's reason code of a `file_error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Bytes a `cut` body delivers before it breaks off (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_after_bytes: Option<u64>,
}

/// A fault in effect, with the firings it has left.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveFault {
    pub id: u64,
    #[serde(flatten)]
    pub spec: FaultSpec,
    pub remaining: Option<u64>,
    /// Matching requests still to let through before it fires.
    pub skipping: u64,
    pub fired: u64,
}

/// The faults in effect.
#[derive(Debug, Default)]
pub struct Faults {
    next_id: u64,
    active: Vec<ActiveFault>,
}

/// What the faults decided for one request.
#[derive(Debug, Default, Clone)]
pub struct Fired {
    /// Sleep this long first.
    pub latency: Option<Duration>,
    /// Answer with this error instead of calling the handler.
    pub error: Option<FaultSpec>,
    /// Corrupt the body of a successful answer.
    pub corrupt: bool,
    /// Break the body of a successful answer off after this many bytes.
    pub cut_after: Option<u64>,
}

impl Faults {
    /// Adds a fault; returns its id.
    pub fn add(&mut self, spec: FaultSpec) -> u64 {
        self.next_id += 1;
        let remaining = spec.count;
        let skipping = spec.skip.unwrap_or(0);
        self.active.push(ActiveFault {
            id: self.next_id,
            spec,
            remaining,
            skipping,
            fired: 0,
        });
        self.next_id
    }

    /// Removes every fault.
    pub fn clear(&mut self) {
        self.active.clear();
    }

    /// The faults in effect.
    pub fn list(&self) -> &[ActiveFault] {
        &self.active
    }

    /// Decides which faults fire for a request with route `key` (without
    /// the provider prefix) that names the items `names_item` accepts,
    /// consuming counts.
    pub fn fire(
        &mut self,
        provider: Provider,
        key: &str,
        names_item: &dyn Fn(&str) -> bool,
    ) -> Fired {
        let mut fired = Fired::default();
        for fault in &mut self.active {
            if fault.spec.provider != provider
                || !endpoint_matches(fault.spec.endpoint.as_deref(), key)
                || fault
                    .spec
                    .item_id
                    .as_deref()
                    .is_some_and(|id| !names_item(id))
            {
                continue;
            }
            if fault.remaining == Some(0) {
                continue;
            }
            if fault.skipping > 0 {
                fault.skipping -= 1;
                continue;
            }
            if let Some(p) = fault.spec.probability
                && rand::random::<f64>() >= p
            {
                continue;
            }
            if let Some(r) = fault.remaining.as_mut() {
                *r -= 1;
            }
            fault.fired += 1;
            match fault.spec.kind {
                FaultKind::Latency => {
                    fired.latency =
                        Some(Duration::from_millis(fault.spec.latency_ms.unwrap_or(1000)));
                }
                FaultKind::Corrupt => fired.corrupt = true,
                FaultKind::Cut => fired.cut_after = Some(fault.spec.cut_after_bytes.unwrap_or(1)),
                FaultKind::RateLimit | FaultKind::ServerError | FaultKind::FileError => {
                    if fired.error.is_none() {
                        fired.error = Some(fault.spec.clone());
                    }
                }
            }
        }
        self.active.retain(|f| f.remaining != Some(0));
        fired
    }
}

/// True when a fault's `endpoint` selects the route `key` (`METHOD /route`).
pub fn endpoint_matches(endpoint: Option<&str>, key: &str) -> bool {
    let Some(endpoint) = endpoint else {
        return true;
    };
    let route = key.split_once(' ').map(|(_, r)| r).unwrap_or(key);
    match endpoint.strip_suffix('*') {
        Some(prefix) => key.starts_with(prefix) || route.starts_with(prefix),
        None => endpoint == key || endpoint == route,
    }
}

/// True when the request names item `id`: as a path segment (Drive
/// `/files/{id}`, Graph `/items/{id}`), as the `id` query parameter (Drive
/// `exportLinks`), or as the `path` of Dropbox's `Dropbox-API-Arg` header.
pub fn request_names_item(req: &Request, id: &str) -> bool {
    let uri = req.uri();
    let in_path = uri
        .path()
        .split('/')
        .any(|segment| percent_decoded(segment) == id);
    let in_query = uri.query().is_some_and(|q| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .is_ok_and(|pairs| pairs.iter().any(|(k, v)| k == "id" && v == id))
    });
    let in_dropbox_arg = req
        .headers()
        .get("Dropbox-API-Arg")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| serde_json::from_str::<serde_json::Value>(v).ok())
        .is_some_and(|arg| arg["path"].as_str() == Some(id));
    in_path || in_query || in_dropbox_arg
}

fn percent_decoded(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;

    use super::*;

    #[test]
    fn endpoints() {
        assert!(endpoint_matches(None, "GET /drive/v3/files"));
        assert!(endpoint_matches(
            Some("GET /drive/v3/files"),
            "GET /drive/v3/files"
        ));
        assert!(endpoint_matches(
            Some("/drive/v3/files"),
            "GET /drive/v3/files"
        ));
        assert!(!endpoint_matches(
            Some("/drive/v3/files"),
            "GET /drive/v3/files/{fileId}"
        ));
        assert!(endpoint_matches(
            Some("/drive/v3/*"),
            "GET /drive/v3/files/{fileId}"
        ));
    }

    #[test]
    fn counts_run_out() {
        let mut f = Faults::default();
        f.add(FaultSpec {
            provider: Provider::Google,
            endpoint: None,
            kind: FaultKind::RateLimit,
            count: Some(2),
            probability: None,
            skip: None,
            retry_after_seconds: None,
            latency_ms: None,
            status: None,
            item_id: None,
            reason: None,
            cut_after_bytes: None,
        });
        let any = |_: &str| true;
        assert!(f.fire(Provider::Google, "GET /x", &any).error.is_some());
        assert!(f.fire(Provider::Dropbox, "GET /x", &any).error.is_none());
        assert!(f.fire(Provider::Google, "GET /x", &any).error.is_some());
        assert!(f.fire(Provider::Google, "GET /x", &any).error.is_none());
        assert!(f.list().is_empty());
    }

    #[test]
    fn skipped_requests_pass_before_a_fault_fires() {
        let mut f = Faults::default();
        f.add(FaultSpec {
            provider: Provider::Google,
            endpoint: Some("GET /x".into()),
            kind: FaultKind::ServerError,
            count: Some(1),
            probability: None,
            skip: Some(2),
            retry_after_seconds: None,
            latency_ms: None,
            status: None,
            item_id: None,
            reason: None,
            cut_after_bytes: None,
        });
        let any = |_: &str| true;
        assert!(f.fire(Provider::Google, "GET /y", &any).error.is_none());
        assert!(f.fire(Provider::Google, "GET /x", &any).error.is_none());
        assert!(f.fire(Provider::Google, "GET /x", &any).error.is_none());
        assert!(f.fire(Provider::Google, "GET /x", &any).error.is_some());
        assert!(f.fire(Provider::Google, "GET /x", &any).error.is_none());
    }

    #[test]
    fn item_faults_fire_only_for_their_item() {
        let mut f = Faults::default();
        f.add(FaultSpec {
            provider: Provider::Google,
            endpoint: None,
            kind: FaultKind::FileError,
            count: None,
            probability: None,
            skip: None,
            retry_after_seconds: None,
            latency_ms: None,
            status: None,
            item_id: Some("abc".into()),
            reason: Some("cannotDownloadAbusiveFile".into()),
            cut_after_bytes: None,
        });
        let other = |id: &str| id == "xyz";
        let this = |id: &str| id == "abc";
        assert!(f.fire(Provider::Google, "GET /x", &other).error.is_none());
        let fired = f.fire(Provider::Google, "GET /x", &this).error;
        assert_eq!(fired.map(|s| s.kind), Some(FaultKind::FileError));
    }

    #[test]
    fn requests_name_items_by_segment_query_or_dropbox_arg() {
        let get = |uri: &str| Request::builder().uri(uri).body(Body::empty()).unwrap();
        assert!(request_names_item(
            &get("/drive/v3/files/abc?alt=media"),
            "abc"
        ));
        assert!(!request_names_item(
            &get("/drive/v3/files/abcd?alt=media"),
            "abc"
        ));
        assert!(request_names_item(
            &get("/feeds/download/documents/export/Export?id=abc&exportFormat=docx"),
            "abc"
        ));
        let dropbox = Request::builder()
            .uri("/2/files/download")
            .header("Dropbox-API-Arg", r#"{"path": "id:Ab1"}"#)
            .body(Body::empty())
            .unwrap();
        assert!(request_names_item(&dropbox, "id:Ab1"));
        assert!(!request_names_item(&dropbox, "id:Ab2"));
    }
}
