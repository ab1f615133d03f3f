//! Signing in and out, and the first start's set-up link.
//!
//! Signing in reuses the API's login (`POST /api/auth/login`): the console
//! passes its session cookie on. On a start where the admin has no password
//! yet, [`announce_setup`] logs a one-time link (`/setup?token=...`, as
//! Jupyter and Gitea do) where the admin chooses one; the token lives in
//! this process only and dies once used.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::data::Data;
use super::page::{Chrome, Viewer, message, ok, render};
use crate::auth::new_secret;
use crate::state::AppState;

/// The admin the set-up link is for (the user `folio serve` creates).
pub const ADMIN_USERNAME: &str = "admin";

/// When the admin has no password yet: makes the set-up token and logs
/// the link. Returns the link.
pub async fn announce_setup(state: &AppState) -> Option<String> {
    let admin = match state.store.get_user_by_username(ADMIN_USERNAME).await {
        Ok(user) => user?,
        Err(error) => {
            tracing::warn!(%error, "could not check whether the admin has a password");
            return None;
        }
    };
    if !admin.is_admin || admin.password_hash.is_some() {
        return None;
    }
    let token = new_secret("");
    let link = format!("{}/setup?token={token}", state.public_url());
    *state.setup_token.lock().unwrap_or_else(|p| p.into_inner()) = Some(token);
    tracing::info!(
        link = %link,
        "the admin has no password yet: open this link once to choose it (or run `folio user set-password admin`)"
    );
    Some(link)
}

fn setup_token_matches(state: &AppState, token: &str) -> bool {
    state
        .setup_token
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_deref()
        .is_some_and(|t| bool::from(t.as_bytes().ct_eq(token.as_bytes())))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only a path on this site may be gone to after signing in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

pub async fn login_page(viewer: Option<Viewer>, Query(query): Query<NextQuery>) -> Response {
    let next = safe_next(query.next.as_deref());
    if viewer.is_some() {
        return Redirect::to(&next).into_response();
    }
    ok(&LoginPage {
        chrome: Chrome::anonymous("Sign in"),
        next,
        username: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn login(State(data): State<Data>, Form(form): Form<LoginForm>) -> Response {
    let next = safe_next(form.next.as_deref());
    match data.login(&form.username, &form.password).await {
        Ok(cookie) => {
            let mut headers = HeaderMap::new();
            headers.insert(header::SET_COOKIE, cookie);
            (headers, Redirect::to(&next)).into_response()
        }
        Err(failure) => {
            let error = if failure.status == StatusCode::UNAUTHORIZED {
                "Wrong username or password.".to_owned()
            } else {
                failure.message
            };
            render(
                StatusCode::UNAUTHORIZED,
                &LoginPage {
                    chrome: Chrome::anonymous("Sign in"),
                    next,
                    username: form.username,
                    error: Some(error),
                },
            )
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(
    State(data): State<Data>,
    viewer: Viewer,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = viewer.refuse_form(&form.csrf) {
        return refused;
    }
    let mut headers = HeaderMap::new();
    if let Some(value) = data.logout(&viewer.session).await {
        headers.insert(header::SET_COOKIE, value);
    }
    (headers, Redirect::to("/login")).into_response()
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    chrome: Chrome,
    token: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct SetupQuery {
    token: Option<String>,
}

fn setup_link_used() -> Response {
    message(
        StatusCode::NOT_FOUND,
        Chrome::anonymous("Set-up link"),
        "This set-up link is not valid",
        "It was used already, or Folio restarted since it was printed. Sign in, or set the admin's password with `folio user set-password admin`.",
        "/login",
        "Sign in",
    )
}

pub async fn setup_page(State(data): State<Data>, Query(query): Query<SetupQuery>) -> Response {
    let token = query.token.unwrap_or_default();
    if !setup_token_matches(data.app(), &token) {
        return setup_link_used();
    }
    ok(&SetupPage {
        chrome: Chrome::anonymous("Set up Folio"),
        token,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct SetupForm {
    token: String,
    password: String,
    repeat: String,
}

pub async fn setup(State(data): State<Data>, Form(form): Form<SetupForm>) -> Response {
    if !setup_token_matches(data.app(), &form.token) {
        return setup_link_used();
    }
    let again = |error: String| {
        render(
            StatusCode::BAD_REQUEST,
            &SetupPage {
                chrome: Chrome::anonymous("Set up Folio"),
                token: form.token.clone(),
                error: Some(error),
            },
        )
    };
    if form.password != form.repeat {
        return again("The two passwords differ; type the same one twice.".to_owned());
    }
    let admin = match data.admin_without_password(ADMIN_USERNAME).await {
        Ok(Some(id)) => id,
        Ok(None) => return setup_link_used(),
        Err(failure) => return again(failure.message),
    };
    if let Err(failure) = data.set_password(admin, &form.password).await {
        return again(
            failure
                .message
                .replace("password: must", "The password must"),
        );
    }
    *data
        .app()
        .setup_token
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = None;
    tracing::info!("the admin chose a password through the set-up link");
    Redirect::to("/login?next=%2F").into_response()
}
