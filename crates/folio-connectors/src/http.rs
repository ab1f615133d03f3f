//! Shared HTTP plumbing for every backend: the bearer token with one refresh
//! and one retry on 401, and the hand-off of error answers to the
//! provider's `parse_error`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::{AccessTokenSource, ConnectorError};

/// Turns a provider's error answer into a [`ConnectorError`].
pub(crate) type ParseError = fn(StatusCode, &HeaderMap, &str) -> ConnectorError;

/// An authorized HTTP client for one provider.
#[derive(Clone)]
pub(crate) struct Http {
    pub client: reqwest::Client,
    tokens: Arc<dyn AccessTokenSource>,
    parse_error: ParseError,
    /// The metrics label: `google`, `microsoft` or `dropbox`.
    provider: &'static str,
}

/// Error bodies are read up to this size for the message.
const MAX_ERROR_BODY: usize = 16 * 1024;

impl Http {
    pub fn new(
        client: reqwest::Client,
        tokens: Arc<dyn AccessTokenSource>,
        parse_error: ParseError,
        provider: &'static str,
    ) -> Self {
        Self {
            client,
            tokens,
            parse_error,
            provider,
        }
    }

    /// Sends `make()` with the bearer token; on 401 refreshes once and sends
    /// again; a second 401 is [`ConnectorError::Unauthorized`]. Any other
    /// non-2xx answer goes through the provider's `parse_error`.
    pub async fn send(
        &self,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Response, ConnectorError> {
        let token = self.tokens.access_token().await?;
        let resp = self.sent(make().bearer_auth(&token)).await?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return self.check(resp, Place::WithPath).await;
        }
        let fresh = self.tokens.refresh_after_unauthorized(&token).await?;
        let resp = self.sent(make().bearer_auth(&fresh)).await?;
        if resp.status() == StatusCode::UNAUTHORIZED {
            let at = place(resp.url(), Place::WithPath);
            let body = read_error_body(resp).await;
            return Err(ConnectorError::Unauthorized(format!(
                "{at} answered 401 again after a refresh: {body}"
            )));
        }
        self.check(resp, Place::WithPath).await
    }

    /// Sends without any token (pre-authenticated download URLs, whose
    /// path may be the token: errors name only their origin).
    pub async fn send_anonymous(&self, req: RequestBuilder) -> Result<Response, ConnectorError> {
        self.check(self.sent(req).await?, Place::OriginOnly).await
    }

    /// Sends one request, counting it in the provider metrics.
    async fn sent(&self, req: RequestBuilder) -> Result<Response, reqwest::Error> {
        let sent = req.send().await;
        crate::metrics::record(self.provider, &sent);
        sent
    }

    /// [`Self::send`] and decode the JSON body.
    pub async fn json<T: DeserializeOwned>(
        &self,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<T, ConnectorError> {
        let resp = self.send(make).await?;
        decode(resp).await
    }

    /// Passes a success on; an error answer becomes the provider's error,
    /// naming the address that answered when it says something is
    /// missing or refused (a wrong `apiUri` shows as a 404 there).
    async fn check(&self, resp: Response, shown: Place) -> Result<Response, ConnectorError> {
        let status = resp.status();
        if status.is_success() || status.is_redirection() {
            return Ok(resp);
        }
        let at = place(resp.url(), shown);
        let headers = resp.headers().clone();
        let body = read_error_body(resp).await;
        let err = (self.parse_error)(status, &headers, &body);
        Err(match err {
            ConnectorError::NotFound(_)
            | ConnectorError::Permanent(_)
            | ConnectorError::Unauthorized(_) => err.context(&format!("{at} answered {status}")),
            other => other,
        })
    }
}

/// How much of a URL an error shows.
#[derive(Clone, Copy)]
enum Place {
    /// Origin and path, never the query.
    WithPath,
    /// The origin alone (the path may be a token).
    OriginOnly,
}

fn place(url: &url::Url, shown: Place) -> String {
    let origin = url.origin().ascii_serialization();
    match shown {
        Place::WithPath => format!("{origin}{}", url.path()),
        Place::OriginOnly => origin,
    }
}

/// `base` with the `/`-separated `path` appended, each segment
/// percent-encoded (an id holding `?`, `#` or `%` stays one segment).
/// `base` is checked to be an http(s) base URL when the config is read.
pub(crate) fn endpoint(base: &url::Url, path: &str) -> url::Url {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend(path.split('/'));
    }
    url
}

/// Decodes a JSON body, naming the type on failure.
pub(crate) async fn decode<T: DeserializeOwned>(resp: Response) -> Result<T, ConnectorError> {
    let url = resp.url().path().to_owned();
    let bytes = resp.bytes().await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ConnectorError::Permanent(format!(
            "unexpected answer from {url} (expected {}): {e}",
            std::any::type_name::<T>()
        ))
    })
}

async fn read_error_body(resp: Response) -> String {
    match resp.bytes().await {
        Ok(b) => String::from_utf8_lossy(&b[..b.len().min(MAX_ERROR_BODY)]).into_owned(),
        // Not `{e}`: reqwest's text holds the whole URL, which may be a
        // pre-authenticated download address.
        Err(e) => format!("(body unreadable: {})", crate::error::cause_chain(&e)),
    }
}

/// `Retry-After` as seconds or an HTTP date (RFC 9110 10.2.3).
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The kinds every provider shares by status code alone; providers call it
/// after looking at their own reasons.
pub(crate) fn by_status(
    status: StatusCode,
    headers: &HeaderMap,
    message: String,
) -> ConnectorError {
    match status.as_u16() {
        401 => ConnectorError::Unauthorized(message),
        404 => ConnectorError::NotFound(message),
        429 => ConnectorError::RateLimited {
            retry_after: parse_retry_after(headers),
            message,
        },
        408 | 504 => ConnectorError::TimedOut(format!("{status}: {message}")),
        // Only a 503 with `Retry-After` is a throttle (Graph's documented
        // answer); any other 5xx is a failure, retried with backoff, even
        // if it carries the header.
        500..=599 => ConnectorError::Temporary {
            message: format!("{status}: {message}"),
            retry_after: (status.as_u16() == 503)
                .then(|| parse_retry_after(headers))
                .flatten(),
        },
        _ => ConnectorError::Permanent(format!("{status}: {message}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_seconds_and_http_date() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(parse_retry_after(&h), Some(Duration::from_secs(7)));
        let later = SystemTime::now() + Duration::from_secs(30);
        let date = httpdate::fmt_http_date(later);
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&date).expect("ascii date"),
        );
        let got = parse_retry_after(&h).expect("a date parses");
        assert!(
            got > Duration::from_secs(25) && got <= Duration::from_secs(30),
            "{got:?}"
        );
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(parse_retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(parse_retry_after(&h), None);
    }

    #[test]
    fn only_a_503_or_a_429_with_retry_after_is_a_throttle() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        let status = |code| StatusCode::from_u16(code).expect("status");
        assert!(by_status(status(503), &h, "busy".into()).is_throttle());
        assert!(by_status(status(429), &h, "slow down".into()).is_throttle());
        for code in [500, 502] {
            let err = by_status(status(code), &h, "broken".into());
            assert!(err.is_temporary() && !err.is_throttle(), "{code}: {err:?}");
        }
    }
}

#[cfg(test)]
mod endpoint_tests {
    use super::endpoint;

    #[test]
    fn segments_are_appended_and_encoded() {
        let base = url::Url::parse("http://h:1/prefix").expect("url");
        let drive = endpoint(&base, "drive/v3/");
        assert_eq!(drive.as_str(), "http://h:1/prefix/drive/v3/");
        assert_eq!(
            endpoint(&drive, "files/a?b#c").as_str(),
            "http://h:1/prefix/drive/v3/files/a%3Fb%23c"
        );
        let root = url::Url::parse("http://h:1").expect("url");
        assert_eq!(
            endpoint(&root, "2/files/download").as_str(),
            "http://h:1/2/files/download"
        );
    }
}
