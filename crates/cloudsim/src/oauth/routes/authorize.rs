//! The authorize endpoint: the client and its exact `redirect_uri` checked,
//! the account chosen, then a redirect with `code` and `state` (auto-approve)
//! or a consent page posting back its decision.

use axum::extract::{Form, Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use http::StatusCode;

use super::Params;
use crate::AppState;
use crate::oauth::CodeGrant;
use crate::world::Provider;

pub(super) async fn google_authorize(
    State(s): State<AppState>,
    Query(p): Query<Params>,
) -> Response {
    authorize(&s, Provider::Google, p)
}
pub(super) async fn google_authorize_post(
    State(s): State<AppState>,
    Form(p): Form<Params>,
) -> Response {
    decide(&s, Provider::Google, p)
}
pub(super) async fn microsoft_authorize(
    State(s): State<AppState>,
    Path(_tenant): Path<String>,
    Query(p): Query<Params>,
) -> Response {
    authorize(&s, Provider::Microsoft, p)
}
pub(super) async fn microsoft_authorize_post(
    State(s): State<AppState>,
    Path(_tenant): Path<String>,
    Form(p): Form<Params>,
) -> Response {
    decide(&s, Provider::Microsoft, p)
}
pub(super) async fn dropbox_authorize(
    State(s): State<AppState>,
    Query(p): Query<Params>,
) -> Response {
    authorize(&s, Provider::Dropbox, p)
}
pub(super) async fn dropbox_authorize_post(
    State(s): State<AppState>,
    Form(p): Form<Params>,
) -> Response {
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
