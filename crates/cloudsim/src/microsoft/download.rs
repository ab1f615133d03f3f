//! Pre-authenticated download URLs (`@microsoft.graph.downloadUrl`, the
//! `Location` of `/content`): `/download/{token}` on the same host and
//! scheme, valid for [`LIFETIME_SECONDS`], no `Authorization` needed,
//! `Range` honoured.
//!
//! The token is `base64url(item id "." expiry) "." signature`, where the
//! signature is a SHA-256 keyed by a secret of this process, so a URL
//! cannot be forged or extended, and URLs die with the process.

use std::sync::OnceLock;

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

fn secret() -> &'static [u8; 32] {
    static SECRET: OnceLock<[u8; 32]> = OnceLock::new();
    SECRET.get_or_init(rand::random)
}

fn signature(payload: &str) -> String {
    let mut h = Sha256::new();
    h.update(secret());
    h.update(payload.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// A token for `item_id` valid until `expires` (unix seconds).
pub fn token(item_id: &str, expires: i64) -> String {
    let payload =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{item_id}.{expires}"));
    let sig = signature(&payload);
    format!("{payload}.{sig}")
}

/// The download URL of `item` on `base` (`scheme://host`).
pub fn url(base: &str, item: &Item) -> String {
    url_until(base, &item.id, Utc::now().timestamp() + LIFETIME_SECONDS)
}

/// A download URL with a chosen expiry (tests make expired ones).
pub fn url_until(base: &str, item_id: &str, expires: i64) -> String {
    format!("{base}/download/{}", token(item_id, expires))
}

/// Why a token is refused.
fn check(token: &str) -> Result<String, GraphError> {
    let invalid = || {
        GraphError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "The download URL is not valid.",
        )
    };
    let (payload, sig) = token.rsplit_once('.').ok_or_else(invalid)?;
    if signature(payload) != sig {
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
    let item_id = check(&token)?;
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
        let now = Utc::now().timestamp();
        assert_eq!(check(&token("01ABC", now + 60)).unwrap(), "01ABC");
        assert!(check(&token("01ABC", now - 1)).is_err());
        let forged = token("01ABC", now + 60).replace('.', "x.");
        assert!(check(&forged).is_err());
    }
}
