//! The authorize, token and revoke endpoints of the three providers.
//!
//! Authorize: the client and its exact `redirect_uri` are checked first (a
//! mismatch shows an error page, never a redirect); then the account is
//! `login_hint` (email or account id) or the provider's first account.
//! With auto-approve (default) the browser is redirected at once with
//! `code` and `state`; otherwise a consent page with an account chooser
//! and Allow/Deny buttons posts back to the same path.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use chrono::Utc;
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::{CodeGrant, Issued, TokenError};
use crate::AppState;
use crate::faults::json_body;
use crate::world::Provider;

/// Google: `/o/oauth2/v2/auth`, `/token`, `/revoke`.
pub fn google_router() -> Router<AppState> {
    Router::new()
        .route(
            "/o/oauth2/v2/auth",
            get(google_authorize).post(google_authorize_post),
        )
        .route("/token", post(google_token))
        .route("/revoke", post(google_revoke))
}

/// Microsoft: `/{tenant}/oauth2/v2.0/authorize`, `/{tenant}/oauth2/v2.0/token`.
pub fn microsoft_router() -> Router<AppState> {
    Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(microsoft_authorize).post(microsoft_authorize_post),
        )
        .route("/{tenant}/oauth2/v2.0/token", post(microsoft_token))
}

/// Dropbox: `/oauth2/authorize`, `/oauth2/token`, and the same under
/// `/1/` (the older paths, which Dropbox still serves and rclone 1.60
/// uses). `/2/auth/token/revoke` lives in the Dropbox API module and calls
/// [`super::OAuthState::revoke`].
pub fn dropbox_router() -> Router<AppState> {
    let authorize = || get(dropbox_authorize).post(dropbox_authorize_post);
    Router::new()
        .route("/oauth2/authorize", authorize())
        .route("/oauth2/token", post(dropbox_token))
        .route("/1/oauth2/authorize", authorize())
        .route("/1/oauth2/token", post(dropbox_token))
}

type Params = HashMap<String, String>;

// ----- authorize -----------------------------------------------------------

async fn google_authorize(State(s): State<AppState>, Query(p): Query<Params>) -> Response {
    authorize(&s, Provider::Google, p)
}
async fn google_authorize_post(State(s): State<AppState>, Form(p): Form<Params>) -> Response {
    decide(&s, Provider::Google, p)
}
async fn microsoft_authorize(
    State(s): State<AppState>,
    Path(_tenant): Path<String>,
    Query(p): Query<Params>,
) -> Response {
    authorize(&s, Provider::Microsoft, p)
}
async fn microsoft_authorize_post(
    State(s): State<AppState>,
    Path(_tenant): Path<String>,
    Form(p): Form<Params>,
) -> Response {
    decide(&s, Provider::Microsoft, p)
}
async fn dropbox_authorize(State(s): State<AppState>, Query(p): Query<Params>) -> Response {
    authorize(&s, Provider::Dropbox, p)
}
async fn dropbox_authorize_post(State(s): State<AppState>, Form(p): Form<Params>) -> Response {
    decide(&s, Provider::Dropbox, p)
}

/// An authorize request that passed the client and redirect checks.
struct Checked {
    redirect_uri: Option<String>,
    account: String,
}

fn error_page(status: StatusCode, title: &str, detail: &str) -> Response {
    let body = format!(
        "<!doctype html><html><head><title>{t}</title></head><body><h1>{t}</h1><p>{d}</p></body></html>",
        t = escape(title),
        d = escape(detail)
    );
    (status, Html(body)).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Validates client, redirect URI and account; Err is the page to show.
fn check(state: &AppState, provider: Provider, p: &Params) -> Result<Checked, Box<Response>> {
    let client_id = p.get("client_id").map(String::as_str).unwrap_or_default();
    let client = state
        .shared()
        .oauth
        .lock()
        .client(provider, client_id)
        .cloned();
    let Some(client) = client else {
        return Err(Box::new(error_page(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        )));
    };
    let redirect_uri = p.get("redirect_uri").cloned();
    match &redirect_uri {
        Some(r) if client.redirect_uris.iter().any(|u| u == r) => {}
        None if provider == Provider::Dropbox => {}
        _ => {
            return Err(Box::new(error_page(
                StatusCode::BAD_REQUEST,
                "redirect_uri_mismatch",
                "The redirect URI in the request does not match the ones authorized for the OAuth client.",
            )));
        }
    }
    let account = state.read(|w| match p.get("login_hint").filter(|h| !h.is_empty()) {
        Some(hint) => w
            .account_by_email(provider, hint)
            .or_else(|| w.account(hint).filter(|a| a.provider == provider))
            .map(|a| a.id.clone()),
        None => w.accounts_of(provider).first().map(|a| a.id.clone()),
    });
    let Some(account) = account else {
        return Err(Box::new(error_page(
            StatusCode::BAD_REQUEST,
            "no account",
            "No account of this provider matches login_hint (register one with POST /_sim/accounts).",
        )));
    };
    Ok(Checked {
        redirect_uri,
        account,
    })
}

/// What a registered redirect URI may hold that a `Location` header
/// cannot: controls, DEL and space (non-ASCII is always encoded).
const LOCATION_ESCAPES: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b' ');

/// `redirect_uri` with `params` appended to its query; what the URI holds
/// that a header cannot is percent-encoded, as a browser would send it.
fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let query = serde_urlencoded::to_string(params).unwrap_or_default();
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let uri = percent_encoding::utf8_percent_encode(redirect_uri, LOCATION_ESCAPES);
    let location = format!("{uri}{sep}{query}");
    match http::HeaderValue::from_str(&location) {
        Ok(v) => (StatusCode::FOUND, [(http::header::LOCATION, v)]).into_response(),
        Err(_) => error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "bad redirect_uri",
        ),
    }
}

fn redirect_error(
    p: &Params,
    redirect_uri: Option<&str>,
    error: &str,
    description: &str,
) -> Response {
    let Some(uri) = redirect_uri else {
        return error_page(StatusCode::BAD_REQUEST, error, description);
    };
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(state) = p.get("state") {
        params.push(("state", state));
    }
    redirect_with(uri, &params)
}

fn authorize(state: &AppState, provider: Provider, p: Params) -> Response {
    let checked = match check(state, provider, &p) {
        Ok(c) => c,
        Err(page) => return *page,
    };
    if p.get("response_type").map(String::as_str) != Some("code") {
        return redirect_error(
            &p,
            checked.redirect_uri.as_deref(),
            "unsupported_response_type",
            "response_type must be code",
        );
    }
    if let Some(m) = p.get("code_challenge_method")
        && m != "S256"
        && m != "plain"
    {
        return redirect_error(
            &p,
            checked.redirect_uri.as_deref(),
            "invalid_request",
            "code_challenge_method must be S256 or plain",
        );
    }
    if state.settings().auto_approve {
        return approve(state, provider, &p, checked);
    }
    let silent = p
        .get("prompt")
        .is_some_and(|x| x.split_whitespace().any(|v| v == "none"));
    if silent {
        // The consent page would be needed, but the client asked for none.
        return redirect_error(
            &p,
            checked.redirect_uri.as_deref(),
            "consent_required",
            "prompt=none was given but the user must consent",
        );
    }
    consent_page(state, provider, &p, &checked.account)
}

fn consent_page(state: &AppState, provider: Provider, p: &Params, account: &str) -> Response {
    let (email, choices) = state.read(|w| {
        let email = w.account(account).map(|a| a.email.clone());
        let choices: Vec<(String, String)> = w
            .accounts_of(provider)
            .into_iter()
            .map(|a| (a.email.clone(), a.display_name.clone()))
            .collect();
        (email.unwrap_or_default(), choices)
    });
    let client = p.get("client_id").cloned().unwrap_or_default();
    let mut fields = String::new();
    // The account is the chooser's; every other parameter goes back as is.
    for (k, v) in p.iter().filter(|(k, _)| k.as_str() != "login_hint") {
        fields.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(k),
            escape(v)
        ));
    }
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><title>Sign in - {provider} (cloudsim)</title></head><body>\
         <h1>{app} wants to access your {provider} account</h1><p>Signed in as <b>{email}</b></p>\
         <p>Scopes: {scope}</p><form method=\"post\">{fields}\
         <p><label for=\"account\">Account</label> {chooser}</p>\
         <button type=\"submit\" name=\"decision\" value=\"allow\" id=\"allow\">Allow</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">Cancel</button>\
         </form></body></html>",
        app = escape(&client),
        email = escape(&email),
        scope = escape(p.get("scope").map(String::as_str).unwrap_or("")),
        chooser = account_chooser(&email, &choices),
    );
    Html(body).into_response()
}

/// The provider's account chooser: every account of the provider, the
/// signed-in one (`login_hint`'s, or the first) selected; Allow grants
/// the one chosen, as picking another account at the real consent does.
fn account_chooser(signed_in: &str, choices: &[(String, String)]) -> String {
    let options: String = choices
        .iter()
        .map(|(email, name)| {
            format!(
                "<option value=\"{e}\"{selected}>{n} ({e})</option>",
                e = escape(email),
                n = escape(name),
                selected = if email == signed_in { " selected" } else { "" },
            )
        })
        .collect();
    format!("<select id=\"account\" name=\"login_hint\">{options}</select>")
}

fn decide(state: &AppState, provider: Provider, p: Params) -> Response {
    let checked = match check(state, provider, &p) {
        Ok(c) => c,
        Err(page) => return *page,
    };
    if p.get("decision").map(String::as_str) != Some("allow") {
        return redirect_error(
            &p,
            checked.redirect_uri.as_deref(),
            "access_denied",
            "The user denied the request.",
        );
    }
    approve(state, provider, &p, checked)
}

fn is_offline(provider: Provider, p: &Params) -> bool {
    match provider {
        Provider::Google => p.get("access_type").map(String::as_str) == Some("offline"),
        Provider::Microsoft => p
            .get("scope")
            .is_some_and(|s| s.split_whitespace().any(|x| x == "offline_access")),
        Provider::Dropbox => p.get("token_access_type").map(String::as_str) == Some("offline"),
    }
}

fn approve(state: &AppState, provider: Provider, p: &Params, checked: Checked) -> Response {
    let lifetime = state.settings().code_lifetime_seconds;
    let challenge = p.get("code_challenge").filter(|c| !c.is_empty()).cloned();
    let grant = CodeGrant {
        provider,
        client_id: p.get("client_id").cloned().unwrap_or_default(),
        account: checked.account,
        redirect_uri: checked.redirect_uri.clone().unwrap_or_default(),
        scope: p.get("scope").cloned().unwrap_or_default(),
        code_challenge_method: challenge.as_ref().map(|_| {
            p.get("code_challenge_method")
                .cloned()
                .unwrap_or_else(|| "plain".into())
        }),
        code_challenge: challenge,
        offline: is_offline(provider, p),
        expires_at: Utc::now() + chrono::Duration::seconds(lifetime as i64),
    };
    let scope = grant.scope.clone();
    let code = state.shared().oauth.lock().issue_code(grant);
    state.mark_dirty();
    let Some(uri) = checked.redirect_uri else {
        return Html(format!(
            "<!doctype html><html><body><p>Enter this code into your app:</p><code id=\"code\">{}</code></body></html>",
            escape(&code)
        ))
        .into_response();
    };
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = p.get("state") {
        params.push(("state", s));
    }
    if provider == Provider::Google {
        params.push(("scope", &scope));
    }
    redirect_with(&uri, &params)
}

// ----- token ---------------------------------------------------------------

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

async fn google_token(
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

async fn microsoft_token(
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

async fn dropbox_token(
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
async fn google_revoke(
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
