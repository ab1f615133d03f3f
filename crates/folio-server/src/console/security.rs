//! Cross-site request forgery and the browser's security headers.
//!
//! Two defences, so that either alone stops a forged request:
//! - every request that changes something and carries no `Authorization`
//!   header (so the browser may have attached the session cookie on its
//!   own) is refused when its `Origin` (or, without one, `Sec-Fetch-Site`)
//!   says another site sent it: console forms, `/login`, and the JSON API
//!   used with a cookie. Bearer-token callers are untouched, and so are
//!   clients that send neither header (they are not browsers).
//! - every console form carries a per-session token ([`super::page::Viewer::refuse_form`]).
//!
//! Pages also go out with a Content-Security-Policy that allows no inline
//! script, `X-Frame-Options: DENY` and a `Referrer-Policy`.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::page::{Chrome, message};
use crate::error::error_response;
use crate::state::AppState;

/// The policy of every response: scripts and styles only from Folio's own
/// origin (no inline script, no `eval`), no framing, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Refuses cookie-borne requests that change something when a browser
/// says another site sent them.
pub async fn refuse_cross_site(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if is_safe(request.method())
        || request.headers().contains_key(header::AUTHORIZATION)
        || !is_cross_site(request.headers(), state.public_url())
    {
        return next.run(request).await;
    }
    tracing::warn!(method = %request.method(), path = %request.uri().path(), "refused a cross-site request");
    let reason = "a request from another site was refused (cross-site request forgery protection); use Folio's own pages or an API token";
    if request.uri().path().starts_with("/api/") {
        return error_response(StatusCode::FORBIDDEN, reason);
    }
    message(
        StatusCode::FORBIDDEN,
        Chrome::anonymous("Refused"),
        "Request refused",
        "This form was sent from another site, so Folio refused it. Open Folio itself and try again there.",
        "/",
        "Open Folio",
    )
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Whether the browser's own headers say another origin sent the request.
pub fn is_cross_site(headers: &HeaderMap, public_url: &str) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let Ok(origin) = origin.to_str() else {
            return true;
        };
        return !is_own_origin(origin, headers, public_url);
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => !matches!(site, "same-origin" | "none"),
        None => false,
    }
}

/// `origin` is Folio's public origin, or the origin the request was sent
/// to (its `Host`, as a browser addressed it).
fn is_own_origin(origin: &str, headers: &HeaderMap, public_url: &str) -> bool {
    let origin = origin.trim_end_matches('/');
    if origin == "null" {
        return false;
    }
    let public = url::Url::parse(public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    if origin.eq_ignore_ascii_case(&public) {
        return true;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    !host.is_empty()
        && ["http://", "https://"]
            .iter()
            .any(|scheme| origin.eq_ignore_ascii_case(&format!("{scheme}{host}")))
}

/// Adds the security headers to every response that does not set its own.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await.into_response();
    let headers = response.headers_mut();
    let defaults = [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    for (name, value) in defaults {
        headers.entry(name).or_insert(value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn own_origin_passes_and_others_do_not() {
        let public = "http://127.0.0.1:8080";
        let own = headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert!(!is_cross_site(&own, public));
        let by_host = headers(&[("origin", "http://folio.local"), ("host", "folio.local")]);
        assert!(!is_cross_site(&by_host, public));
        let other = headers(&[
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert!(is_cross_site(&other, public));
        let null = headers(&[("origin", "null"), ("host", "127.0.0.1:8080")]);
        assert!(is_cross_site(&null, public));
    }

    #[test]
    fn without_origin_fetch_metadata_decides() {
        let public = "http://127.0.0.1:8080";
        assert!(is_cross_site(
            &headers(&[("sec-fetch-site", "cross-site")]),
            public
        ));
        assert!(is_cross_site(
            &headers(&[("sec-fetch-site", "same-site")]),
            public
        ));
        assert!(!is_cross_site(
            &headers(&[("sec-fetch-site", "same-origin")]),
            public
        ));
        assert!(!is_cross_site(&headers(&[]), public));
    }
}
