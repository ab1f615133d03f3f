//! Pre-authenticated download URLs (`@microsoft.graph.downloadUrl`, the
//! `Location` of `/content`): `/download/{token}` on the same host and
//! scheme, valid for [`LIFETIME_SECONDS`], no `Authorization` needed,
//! `Range` honoured.
//!
//! The token is `base64url(item id "." expiry) "." signature`, where the
//! signature is a SHA-256 keyed by a secret of this emulator (one
//! [`DownloadUrls`] in its [`AppState`]), so a URL cannot be forged or
//! extended, works only on the emulator that made it, and dies with it.

use axum::extract::{Path, State};
use axum::response::Response;
use base64::Engine as _;
use chrono::Utc;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};

use super::error::GraphError;
use crate::AppState;
use crate::content;
use crate::world::Item;

/// How long a download URL works.
pub const LIFETIME_SECONDS: i64 = 3600;

/// Makes and checks download URLs with the emulator's secret.
#[derive(Clone)]
pub struct DownloadUrls {
    secret: [u8; 32],
}

impl Default for DownloadUrls {
    fn default() -> Self {
        DownloadUrls {
            secret: rand::random(),
        }
    }
}

impl std::fmt::Debug for DownloadUrls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DownloadUrls")
    }
}

impl DownloadUrls {
    fn signature(&self, payload: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.secret);
        h.update(payload.as_bytes());
        hex::encode(&h.finalize()[..16])
    }

    /// A token for `item_id` valid until `expires` (unix seconds).
    pub fn token(&self, item_id: &str, expires: i64) -> String {
        let payload =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{item_id}.{expires}"));
        let sig = self.signature(&payload);
        format!("{payload}.{sig}")
    }

    /// The download URL of `item` on `base` (`scheme://host`).
    pub fn url(&self, base: &str, item: &Item) -> String {
        self.url_until(base, &item.id, Utc::now().timestamp() + LIFETIME_SECONDS)
    }

    /// A download URL with a chosen expiry (tests make expired ones).
    pub fn url_until(&self, base: &str, item_id: &str, expires: i64) -> String {
        format!("{base}/download/{}", self.token(item_id, expires))
    }

    /// The item id of a valid token, or why it is refused.
    fn check(&self, token: &str) -> Result<String, GraphError> {
        check(self, token)
    }
}

/// Where and how `@microsoft.graph.downloadUrl` links are made.
#[derive(Debug, Clone)]
pub struct DownloadLinks {
    /// `scheme://host` the client reached us at.
    pub base: String,
    pub urls: DownloadUrls,
}

impl DownloadLinks {
    /// The download URL of `item`.
    pub fn url(&self, item: &Item) -> String {
        self.urls.url(&self.base, item)
    }
}

/// Why a token is refused.
fn check(urls: &DownloadUrls, token: &str) -> Result<String, GraphError> {
    let invalid = || {
        GraphError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "The download URL is not valid.",
        )
    };
    let (payload, sig) = token.rsplit_once('.').ok_or_else(invalid)?;
    if urls.signature(payload) != sig {
        return Err(invalid());
    }
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid)?;
    let (item_id, expires) = decoded.rsplit_once('.').ok_or_else(invalid)?;
    let expires: i64 = expires.parse().map_err(|_| invalid())?;
    if expires <= Utc::now().timestamp() {
        return Err(GraphError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "The download URL has expired.",
        ));
    }
    Ok(item_id.to_string())
}

/// `GET /download/{token}`.
pub async fn serve(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let item_id = state.shared().download_urls.check(&token)?;
    let (source, mime, ctag, name) = state
        .read(|w| {
            let item = w.item(&item_id).filter(|i| i.is_live() && i.is_file())?;
            Some((
                w.source(item),
                item.mime_type.clone(),
                format!("\"c:{{{}}},{}\"", item.id, item.content_version),
                item.name.clone(),
            ))
        })
        .ok_or_else(GraphError::item_not_found)?;
    let mut out = HeaderMap::new();
    out.insert(header::CONTENT_TYPE, content::content_type(&mime));
    if let Ok(v) = HeaderValue::from_str(&ctag) {
        out.insert(header::ETAG, v);
    }
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        percent_encoding::utf8_percent_encode(&name, percent_encoding::NON_ALPHANUMERIC)
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        out.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(content::ranged_response(&headers, &source, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_expire() {
        let urls = DownloadUrls::default();
        let now = Utc::now().timestamp();
        assert_eq!(urls.check(&urls.token("01ABC", now + 60)).unwrap(), "01ABC");
        assert!(urls.check(&urls.token("01ABC", now - 1)).is_err());
        let forged = urls.token("01ABC", now + 60).replace('.', "x.");
        assert!(urls.check(&forged).is_err());
        let other = DownloadUrls::default();
        assert!(
            other.check(&urls.token("01ABC", now + 60)).is_err(),
            "another emulator's URL"
        );
    }
}
