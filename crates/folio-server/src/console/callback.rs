//! The OAuth callback's failures, for people.
//!
//! `GET /api/oauth/callback` answers failures with the API's JSON error,
//! which API clients and tests rely on. A person whose consent was denied,
//! whose link expired or who signed in as another account must instead read
//! a plain sentence saying what to do. [`callback_pages`] wraps the route:
//! when the flow started from the console's Connect button it redirects to
//! the library's page with a notice code; when a browser asked otherwise
//! (`Accept: text/html`) it renders a page; other callers get the JSON as
//! before.
//!
//! Flows started from the console are remembered by their OAuth `state`
//! in this process (a few minutes, at most [`MAX_FLOWS`]): behind several
//! replicas a callback reaching another one still gets the HTML page.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http_body_util::BodyExt;

use super::data::segment;
use super::notices::notice;
use super::page::{Chrome, message};

/// The callback's path.
pub const CALLBACK_PATH: &str = "/api/oauth/callback";

/// How many console flows are remembered at once.
pub const MAX_FLOWS: usize = 10_000;

/// A flow's OAuth state lives ten minutes at the provider side too.
const FLOW_TTL: Duration = Duration::from_secs(15 * 60);

fn flows() -> &'static Mutex<HashMap<String, (Instant, String)>> {
    static FLOWS: OnceLock<Mutex<HashMap<String, (Instant, String)>>> = OnceLock::new();
    FLOWS.get_or_init(Mutex::default)
}

/// Remembers that the consent page at `provider_url` was opened from the
/// console for library `key`.
pub fn remember_console_flow(provider_url: &str, key: &str) {
    let Some(state) = url::Url::parse(provider_url).ok().and_then(|u| {
        u.query_pairs()
            .find(|(name, _)| name == "state")
            .map(|(_, v)| v.into_owned())
    }) else {
        return;
    };
    let mut flows = flows().lock().unwrap_or_else(|p| p.into_inner());
    flows.retain(|_, (at, _)| at.elapsed() < FLOW_TTL);
    if flows.len() < MAX_FLOWS {
        flows.insert(state, (Instant::now(), key.to_owned()));
    }
}

fn take_console_flow(state: &str) -> Option<String> {
    let mut flows = flows().lock().unwrap_or_else(|p| p.into_inner());
    flows.remove(state).map(|(_, key)| key)
}

/// The notice code for a failed callback, from the API's status and message.
pub fn failure_code(status: StatusCode, message: &str) -> &'static str {
    match status {
        StatusCode::UNPROCESSABLE_ENTITY if message.contains("did not grant access") => "denied",
        StatusCode::BAD_REQUEST if message.starts_with("state:") => "expired",
        StatusCode::CONFLICT if message.contains("signed in as") => "other-account",
        _ => "failed",
    }
}

/// Wraps the callback route (see the module's documentation).
pub async fn callback_pages(request: Request, next: Next) -> Response {
    if request.uri().path() != CALLBACK_PATH {
        return next.run(request).await;
    }
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    let console_key = request.uri().query().and_then(|query| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "state")
            .and_then(|(_, state)| take_console_flow(&state))
    });
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || (console_key.is_none() && !wants_html)
    {
        return response;
    }
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let api_message = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let code = failure_code(status, &api_message);
    tracing::info!(%status, code, "an OAuth callback failed; shown to the person as a page");
    if let Some(key) = console_key {
        return Redirect::to(&format!("/libraries/{}?done={code}", segment(&key))).into_response();
    }
    let sentence = notice(code).map_or("Connecting did not work.", |(_, s)| s);
    message(
        status,
        Chrome::anonymous("Connecting failed"),
        "Connecting did not work",
        sentence,
        "/",
        "Open Folio's libraries",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_told_apart() {
        assert_eq!(
            failure_code(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the provider did not grant access (access_denied); nothing was stored"
            ),
            "denied"
        );
        assert_eq!(
            failure_code(
                StatusCode::BAD_REQUEST,
                "state: this authorization link is unknown"
            ),
            "expired"
        );
        assert_eq!(
            failure_code(
                StatusCode::CONFLICT,
                "the library is connected to google account 'a', but you signed in as 'b'"
            ),
            "other-account"
        );
        assert_eq!(failure_code(StatusCode::BAD_GATEWAY, "x"), "failed");
    }
}
