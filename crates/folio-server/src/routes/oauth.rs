//! `GET /api/oauth/callback`: where providers send the browser back.
//!
//! It needs no credentials: the single-use `state` says who asked, for
//! which library. It redirects to the `returnTo` given at authorize time
//! only when that is on Folio's own origin or a configured one (no open
//! redirect); otherwise it shows a short page.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use folio_app::connections;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiQuery;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(callback))
}

/// The redirect URI Folio registers with providers.
pub fn callback_url(state: &AppState) -> String {
    connections::callback_url(state)
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
        let known_state = connections::abandon(&state, &oauth_state).await?;
        let description = query
            .error_description
            .as_deref()
            .map(excerpt)
            .unwrap_or_default();
        tracing::info!(error = %excerpt(&error), known_state, "the provider returned an error to the callback; nothing stored");
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
    let done = connections::complete(&state, &oauth_state, &code).await?;
    if let Some(target) = done.return_to {
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
