//! Paged listings (`?limit=&cursor=` in, `{"items", "next"}` out): one
//! page size rule and one opaque cursor for every list that pages.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{ApiError, ApiResult};

/// Items on a page when `limit` is not given.
pub const DEFAULT_PAGE: u32 = 100;
/// The largest `limit`.
pub const MAX_PAGE: u32 = 1000;

/// `limit`, defaulted and checked to be within 1..=[`MAX_PAGE`].
pub fn page_limit(limit: Option<u32>) -> ApiResult<u32> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if (1..=MAX_PAGE).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::BadRequest(format!(
            "limit: must be between 1 and {MAX_PAGE}"
        )))
    }
}

/// The cursor naming the last key of a page.
pub fn encode_cursor(last_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_key)
}

/// The key a cursor from [`encode_cursor`] names; 400 for anything else.
pub fn decode_cursor(cursor: &str) -> ApiResult<String> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| ApiError::BadRequest("cursor: not a cursor this server issued".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_cursors() {
        assert_eq!(page_limit(None).ok(), Some(DEFAULT_PAGE));
        assert_eq!(page_limit(Some(1)).ok(), Some(1));
        assert_eq!(page_limit(Some(MAX_PAGE)).ok(), Some(MAX_PAGE));
        assert!(page_limit(Some(0)).is_err());
        assert!(page_limit(Some(MAX_PAGE + 1)).is_err());
        assert_eq!(
            decode_cursor(&encode_cursor("a/b é")).ok().as_deref(),
            Some("a/b é")
        );
        assert!(decode_cursor("!!").is_err());
    }
}
