//! `GET /api/oauth/callback`: where providers send the browser back.
//!
//! It needs no credentials: the single-use `state` says who asked, for
//! which library. It redirects to the `returnTo` given at authorize time
//! only when that is on Folio's own origin or a configured one (no open
//! redirect); otherwise it shows a short page.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use url::Url;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::routes::connections::token_error;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(callback))
}

/// The redirect URI Folio registers with providers.
pub fn callback_url(state: &AppState) -> String {
    format!("{}/api/oauth/callback", state.public_url())
}

/// `raw` as an absolute URL if it may be returned to: same origin as the
/// public URL (relative paths resolve against it) or a configured origin.
pub fn allowed_return_to(state: &AppState, raw: &str) -> Option<String> {
    let base = Url::parse(&format!("{}/", state.public_url())).ok()?;
    let url = base.join(raw).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return None;
    }
    let origin = url.origin().ascii_serialization();
    let allowed = origin == base.origin().ascii_serialization()
        || state
            .config
            .allowed_return_origins
            .iter()
            .any(|o| o.trim_end_matches('/') == origin);
    allowed.then(|| url.to_string())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// The authorization code (absent when the provider sends `error`).
    pub code: Option<String>,
    /// The single-use state the authorize route made.
    #[param(required = true, value_type = String, min_length = 1)]
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// A short printable excerpt of provider-supplied text.
fn excerpt(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// The provider's redirect back: exchanges the code and stores the
/// connection, then redirects to `returnTo` or shows a short page.
#[utoipa::path(get, path = "/api/oauth/callback", tag = "connections", params(CallbackQuery), security(()),
    responses((status = 200, description = "a short HTML page"), (status = 302, description = "to returnTo"), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
async fn callback(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<CallbackQuery>,
) -> ApiResult<Response> {
    let oauth_state = query.state.filter(|s| !s.is_empty()).ok_or_else(|| {
        ApiError::BadRequest(
            "state: missing; start again from the library's connection/authorize route".into(),
        )
    })?;
    if let Some(error) = query.error {
        let pending = state
            .tokens
            .abandon_authorization(&oauth_state)
            .await
            .map_err(|e| token_error(e, "?"))?;
        let description = query
            .error_description
            .as_deref()
            .map(excerpt)
            .unwrap_or_default();
        tracing::info!(error = %excerpt(&error), known_state = pending.is_some(), "the provider returned an error to the callback; nothing stored");
        return Err(ApiError::Unprocessable(format!(
            "the provider did not grant access ({}{}{}); nothing was stored; start the connection again",
            excerpt(&error),
            if description.is_empty() { "" } else { ": " },
            description
        )));
    }
    let code = query
        .code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::BadRequest("code: missing from the provider's redirect".into()))?;
    let done = state
        .tokens
        .complete_authorization(&oauth_state, &code)
        .await
        .map_err(|e| token_error(e, "<library>"))?;
    if let Some(target) = done
        .return_to
        .as_deref()
        .and_then(|r| allowed_return_to(&state, r))
    {
        return Ok((StatusCode::FOUND, [(header::LOCATION, target)]).into_response());
    }
    let who = done
        .account
        .email
        .as_deref()
        .unwrap_or(&done.account.account_id);
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Folio: connected</title></head>\
         <body><h1>Connected</h1><p>The library is now connected as <strong>{}</strong>. You can close this window.</p></body></html>",
        escape(who)
    );
    Ok(Html(page).into_response())
}
