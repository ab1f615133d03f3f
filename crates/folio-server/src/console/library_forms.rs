//! The forms of a library's page (`/libraries/{id}/...`): choosing the
//! integration, connecting and disconnecting, syncing and purging (each
//! behind its confirmation where it loses something), the schedule and
//! the shares. Every form answers with a redirect back to the library's
//! page carrying a fixed notice code, so a reload never sends it twice.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::data::{Data, Failure, segment};
use super::library::library_href;
use super::page::{Chrome, Viewer, failure_page_for, human_bytes, message, not_found, ok};

fn back_to(key: &str, code: &str) -> Response {
    Redirect::to(&format!("/libraries/{}?done={code}", segment(key))).into_response()
}

fn failed(viewer: &Viewer, key: &str, failure: Failure) -> Response {
    failure_page_for(
        viewer.chrome("Library"),
        failure,
        &format!("/libraries/{}", segment(key)),
    )
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

#[derive(Deserialize)]
pub struct IntegrationForm {
    csrf: String,
    integration: Uuid,
}

pub async fn choose_integration(
    State(data): State<Data>,
    viewer: Viewer,
    Path(key): Path<String>,
    Form(form): Form<IntegrationForm>,
) -> Response {
    if let Some(refused) = viewer.refuse_form(&form.csrf) {
        return refused;
    }
    match data
        .choose_integration(&viewer.session, &key, form.integration)
        .await
    {
        Ok(()) => back_to(&key, "integration"),
        Err(failure) => failed(&viewer, &key, failure),
    }
}

#[derive(Deserialize)]
pub struct ConnectForm {
    csrf: String,
    /// Reconnecting as another account than the current one.
    #[serde(default)]
    switch_account: Option<String>,
}

/// Starts the provider's consent: 303 to its page, coming back here.
pub async fn connect(
    State(data): State<Data>,
    viewer: Viewer,
    Path(key): Path<String>,
    Form(form): Form<ConnectForm>,
) -> Response {
    if let Some(refused) = viewer.refuse_form(&form.csrf) {
        return refused;
    }
    let return_to = format!("/libraries/{}?done=connected", segment(&key));
    match data
        .authorize_url(
            &viewer.session,
            &key,
            &return_to,
            form.switch_account.is_some(),
        )
        .await
    {
        Ok(url) => {
            super::callback::remember_console_flow(&url, &key);
            Redirect::to(&url).into_response()
        }
        Err(failure) => failed(&viewer, &key, failure),
    }
}

#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub chrome: Chrome,
    pub heading: String,
    pub sentences: Vec<String>,
    pub action: String,
    pub button: String,
    pub cancel: String,
}

pub async fn confirm_disconnect(
    State(data): State<Data>,
    viewer: Viewer,
    Path(key): Path<String>,
) -> Response {
    let library = match data.library(&viewer.session, &key).await {
        Ok(library) => library,
        Err(failure) => return failed(&viewer, &key, failure),
    };
    let base = library_href(&library);
    ok(&ConfirmPage {
        chrome: viewer.chrome("Disconnect"),
        heading: format!("Disconnect {}?", library.name),
        sentences: vec![
            "Folio forgets this library's connection to the provider: its scheduled syncs stop, and nobody can sync it until someone connects it again.".to_owned(),
            "The files already synced stay in Folio; nothing is deleted at the provider.".to_owned(),
        ],
        action: format!("{base}/disconnect"),
        button: "Disconnect".to_owned(),
        cancel: base,
    })
}

pub async fn disconnect(
    State(data): State<Data>,
    viewer: Viewer,
    Path(key): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = viewer.refuse_form(&form.csrf) {
        return refused;
    }
    match data.disconnect(&viewer.session, &key).await {
        Ok(()) => back_to(&key, "disconnected"),
        Err(failure) => failed(&viewer, &key, failure),
    }
}

async fn start(data: &Data, viewer: &Viewer, key: &str, purge: bool) -> Response {
    match data.start_sync(&viewer.session, key, purge).await {
        Ok(progress) => Redirect::to(&format!(
            "/libraries/{}?progress={}",
            segment(key),
            segment(&progress)
        ))
        .into_response(),
        Err(failure) => failed(viewer, key, failure),
    }
}

pub async fn sync_now(
    State(data): State<Data>,
    viewer: Viewer,
    Path(key): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = viewer.refuse_form(&form.csrf) {
        return refused;
    }
    start(&data, &viewer, &key, false).await
}

pub async fn confirm_purge(
    State(data): State<Data>,
    viewer: Viewer,
    Path(key): Path<String>,
) -> Response {
    let library = match data.library(&viewer.session, &key).await {
        Ok(library) => library,
        Err(failure) => return failed(&viewer, &key, failure),
    };
    let (files, bytes) = data.file_totals(&library).await.unwrap_or((0, 0));
    let base = library_href(&library);
    ok(&ConfirmPage {
        chrome: viewer.chrome("Purge and sync"),
        heading: format!("Purge {} and sync it again?", library.name),
        sentences: vec![
            format!(
                "This deletes all {files} files ({}) Folio holds for this library, with their sync history of changes, and downloads everything again from the provider.",
                human_bytes(bytes)
            ),
            "Until the new copy is complete, the library keeps serving its current files. Nothing is deleted at the provider.".to_owned(),
        ],
        action: format!("{base}/purge"),
        button: "Purge and sync".to_owned(),
        cancel: base,
    })
}

pub async fn purge(
    State(data): State<Data>,
    viewer: Viewer,
    Path(key): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(refused) = viewer.refuse_form(&form.csrf) {
        return refused;
    }
    start(&data, &viewer, &key, true).await
}

#[derive(Deserialize)]
pub struct ScheduleForm {
    csrf: String,
    minutes: String,
}

pub async fn schedule(
    State(data): State<Data>,
    viewer: Viewer,
    Path(key): Path<String>,
    Form(form): Form<ScheduleForm>,
) -> Response {
    if let Some(refused) = viewer.refuse_form(&form.csrf) {
        return refused;
    }
    let minutes = form.minutes.trim();
    let minutes = if minutes.is_empty() || minutes == "0" {
        None
    } else {
        match minutes.parse::<u32>() {
            Ok(m) => Some(m),
            Err(_) => {
                return message(
                    StatusCode::BAD_REQUEST,
                    viewer.chrome("Schedule"),
                    "That is not a number of minutes",
                    "Give a whole number of minutes between syncs, or leave the field empty to turn scheduled syncs off.",
                    &format!("/libraries/{}", segment(&key)),
                    "Go back",
                );
            }
        }
    };
    match data.set_schedule(&viewer.session, &key, minutes).await {
        Ok(()) => back_to(&key, "schedule"),
        Err(failure) => failed(&viewer, &key, failure),
    }
}

#[derive(Deserialize)]
pub struct ShareForm {
    csrf: String,
    username: String,
    level: String,
}

pub async fn share(
    State(data): State<Data>,
    viewer: Viewer,
    Path(key): Path<String>,
    Form(form): Form<ShareForm>,
) -> Response {
    if let Some(refused) = viewer.refuse_form(&form.csrf) {
        return refused;
    }
    match data
        .share(&viewer.session, &key, form.username.trim(), &form.level)
        .await
    {
        Ok(()) => back_to(&key, "shared"),
        Err(failure) if failure.is_not_found() => {
            // The library was readable a moment ago: the user is unknown.
            message(
                StatusCode::NOT_FOUND,
                viewer.chrome("Share"),
                "No such user",
                &format!(
                    "There is no user named '{}'. Check the spelling, or ask an admin to create the account.",
                    form.username.trim()
                ),
                &format!("/libraries/{}", segment(&key)),
                "Go back",
            )
        }
        Err(failure) => failed(&viewer, &key, failure),
    }
}

#[derive(Deserialize)]
pub struct UnshareForm {
    csrf: String,
    username: String,
}

pub async fn unshare(
    State(data): State<Data>,
    viewer: Viewer,
    Path(key): Path<String>,
    Form(form): Form<UnshareForm>,
) -> Response {
    if let Some(refused) = viewer.refuse_form(&form.csrf) {
        return refused;
    }
    match data.unshare(&viewer.session, &key, &form.username).await {
        Ok(()) => back_to(&key, "unshared"),
        Err(failure) if failure.is_not_found() => not_found(viewer.chrome("Share")),
        Err(failure) => failed(&viewer, &key, failure),
    }
}
