//! The token endpoints (codes and refresh tokens redeemed, in each
//! provider's answer and error shape) and Google's revoke endpoint.

use axum::extract::{Form, Path, Query, State};
use axum::response::Response;
use base64::Engine;
use chrono::Utc;
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::Params;
use crate::AppState;
use crate::faults::json_body;
use crate::oauth::{Issued, TokenError};
use crate::world::Provider;

/// Client credentials from the form or from HTTP Basic.
fn client_credentials(headers: &HeaderMap, p: &Params) -> (Option<String>, Option<String>) {
    let basic = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(a, b)| (form_decode(a), form_decode(b)))
        });
    match basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (p.get("client_id").cloned(), p.get("client_secret").cloned()),
    }
}

/// RFC 6749 2.3.1: Basic credentials are form-urlencoded before base64.
fn form_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Runs a token request; returns the issued tokens or the error.
fn token(
    state: &AppState,
    provider: Provider,
    headers: &HeaderMap,
    p: &Params,
) -> Result<(Issued, bool), TokenError> {
    let (client_id, secret) = client_credentials(headers, p);
    let client_id =
        client_id.ok_or_else(|| TokenError::InvalidClient("client_id is missing".into()))?;
    let settings = state.settings();
    let lifetime = settings.token_lifetime(provider);
    let mut oauth = state.shared().oauth.lock();
    oauth.check_client(provider, &client_id, secret.as_deref())?;
    let grant_type = p.get("grant_type").map(String::as_str).unwrap_or_default();
    let result = match grant_type {
        "authorization_code" => {
            let code = p.get("code").ok_or_else(|| {
                TokenError::InvalidRequest("Missing required parameter: code".into())
            })?;
            if provider == Provider::Dropbox && secret.is_none() && !p.contains_key("code_verifier")
            {
                return Err(TokenError::InvalidRequest(
                    "either client_secret or code_verifier is required".into(),
                ));
            }
            let issued = oauth.redeem_code(
                provider,
                &client_id,
                code,
                p.get("redirect_uri").map(String::as_str),
                p.get("code_verifier").map(String::as_str),
                lifetime,
            )?;
            (issued, true)
        }
        "refresh_token" => {
            let rt = p.get("refresh_token").ok_or_else(|| {
                TokenError::InvalidRequest("Missing required parameter: refresh_token".into())
            })?;
            let issued =
                oauth.refresh(provider, &client_id, rt, lifetime, settings.strict_rotation)?;
            (issued, false)
        }
        "" => {
            return Err(TokenError::InvalidRequest(
                "Missing required parameter: grant_type".into(),
            ));
        }
        other => {
            return Err(TokenError::UnsupportedGrantType(format!(
                "Invalid grant_type: {other}"
            )));
        }
    };
    drop(oauth);
    state.mark_dirty();
    Ok(result)
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    response
}

fn with_status(provider: Provider, status: StatusCode, body: &Value) -> Response {
    let mut r = json_body(provider, body);
    *r.status_mut() = status;
    no_store(r)
}

pub(super) async fn google_token(
    State(s): State<AppState>,
    headers: HeaderMap,
    Form(p): Form<Params>,
) -> Response {
    match token(&s, Provider::Google, &headers, &p) {
        Ok((issued, _)) => {
            let mut body = json!({
                "access_token": issued.access_token,
                "expires_in": issued.expires_in,
                "scope": issued.scope,
                "token_type": "Bearer",
            });
            if let Some(rt) = issued.refresh_token {
                body["refresh_token"] = json!(rt);
            }
            with_status(Provider::Google, StatusCode::OK, &body)
        }
        Err(e) => simple_error(Provider::Google, &e),
    }
}

/// Google and Dropbox token errors: `{"error", "error_description"}`.
fn simple_error(provider: Provider, e: &TokenError) -> Response {
    let (status, code, description) = match e {
        TokenError::InvalidClient(d) if provider == Provider::Google => {
            (StatusCode::UNAUTHORIZED, "invalid_client", d.as_str())
        }
        TokenError::InvalidClient(d) => (StatusCode::BAD_REQUEST, "invalid_client", d.as_str()),
        TokenError::InvalidGrant(d) => (StatusCode::BAD_REQUEST, "invalid_grant", d.as_str()),
        TokenError::InvalidRequest(d) => (StatusCode::BAD_REQUEST, "invalid_request", d.as_str()),
        TokenError::UnsupportedGrantType(d) => (
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            d.as_str(),
        ),
    };
    with_status(
        provider,
        status,
        &json!({"error": code, "error_description": description}),
    )
}

pub(super) async fn microsoft_token(
    State(s): State<AppState>,
    Path(_tenant): Path<String>,
    headers: HeaderMap,
    Form(p): Form<Params>,
) -> Response {
    match token(&s, Provider::Microsoft, &headers, &p) {
        Ok((issued, _)) => {
            let scope: Vec<&str> = issued
                .scope
                .split_whitespace()
                .filter(|s| *s != "offline_access" && *s != "openid" && *s != "profile")
                .collect();
            let mut body = json!({
                "token_type": "Bearer",
                "scope": scope.join(" "),
                "expires_in": issued.expires_in,
                "ext_expires_in": issued.expires_in,
                "access_token": issued.access_token,
            });
            if let Some(rt) = issued.refresh_token {
                body["refresh_token"] = json!(rt);
            }
            with_status(Provider::Microsoft, StatusCode::OK, &body)
        }
        Err(e) => microsoft_error(&e),
    }
}

/// Microsoft identity platform error body (AADSTS codes).
fn microsoft_error(e: &TokenError) -> Response {
    let (status, code, aadsts, description) = match e {
        TokenError::InvalidClient(_) => (
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.".to_string(),
        ),
        TokenError::InvalidGrant(d) => (StatusCode::BAD_REQUEST, "invalid_grant", aadsts_of(d), d.clone()),
        TokenError::InvalidRequest(d) => (
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            format!("AADSTS900144: {d}"),
        ),
        TokenError::UnsupportedGrantType(d) => (
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("AADSTS70003: {d}"),
        ),
    };
    let trace = uuid::Uuid::new_v4().to_string();
    let correlation = uuid::Uuid::new_v4().to_string();
    let now = Utc::now();
    let body = json!({
        "error": code,
        "error_description": format!("{description}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {}", now.format("%Y-%m-%d %H:%M:%SZ")),
        "error_codes": [aadsts],
        "timestamp": now.format("%Y-%m-%d %H:%M:%SZ").to_string(),
        "trace_id": trace,
        "correlation_id": correlation,
    });
    with_status(Provider::Microsoft, status, &body)
}

fn aadsts_of(description: &str) -> u32 {
    description
        .strip_prefix("AADSTS")
        .and_then(|s| s.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(9002313)
}

pub(super) async fn dropbox_token(
    State(s): State<AppState>,
    headers: HeaderMap,
    Form(p): Form<Params>,
) -> Response {
    match token(&s, Provider::Dropbox, &headers, &p) {
        Ok((issued, true)) => {
            let uid = s
                .read(|w| w.account(&issued.account).map(|a| a.drive_id.clone()))
                .unwrap_or_default();
            let mut body = json!({
                "access_token": issued.access_token,
                "token_type": "bearer",
                "expires_in": issued.expires_in,
                "scope": issued.scope,
                "uid": uid,
                "account_id": issued.account,
            });
            if let Some(rt) = issued.refresh_token {
                body["refresh_token"] = json!(rt);
            }
            with_status(Provider::Dropbox, StatusCode::OK, &body)
        }
        Ok((issued, false)) => with_status(
            Provider::Dropbox,
            StatusCode::OK,
            &json!({
                "access_token": issued.access_token,
                "token_type": "bearer",
                "expires_in": issued.expires_in,
            }),
        ),
        Err(e) => simple_error(Provider::Dropbox, &e),
    }
}

// ----- revoke --------------------------------------------------------------

/// Google `/revoke`: `token` as a form field or query parameter.
pub(super) async fn google_revoke(
    State(s): State<AppState>,
    Query(q): Query<Params>,
    body: bytes::Bytes,
) -> Response {
    let p: Params = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let token = p
        .get("token")
        .or_else(|| q.get("token"))
        .cloned()
        .unwrap_or_default();
    let known = s.shared().oauth.lock().revoke(Provider::Google, &token);
    s.mark_dirty();
    if known {
        with_status(Provider::Google, StatusCode::OK, &json!({}))
    } else {
        with_status(
            Provider::Google,
            StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_token", "error_description": "Token expired or revoked"}),
        )
    }
}
