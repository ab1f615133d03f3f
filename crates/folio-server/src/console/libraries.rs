//! `/`: the libraries the viewer can read, and a form to create one.

use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::data::{Data, Library, Run, Session, segment};
use super::page::{Chrome, Viewer, failure_page_for, human_bytes, ok, type_name, when};

/// The library types a person can create, in the order the form lists them.
pub const LIBRARY_TYPES: [(&str, &str); 5] = [
    ("google-drive", "Google Drive"),
    ("onedrive", "OneDrive"),
    ("sharepoint", "SharePoint"),
    ("dropbox", "Dropbox"),
    ("local", "Local (uploads)"),
];

/// How long the list waits for a provider to say who a connection is.
const ACCOUNT_WAIT: Duration = Duration::from_secs(3);

pub struct Row {
    pub href: String,
    pub name: String,
    pub type_name: &'static str,
    pub connection: String,
    /// `ok`, `warn` or `off`: the connection cell's look.
    pub connection_tone: &'static str,
    pub files: i64,
    pub size: String,
    pub last_sync: String,
}

#[derive(Template)]
#[template(path = "libraries.html")]
struct LibrariesPage {
    chrome: Chrome,
    rows: Vec<Row>,
    types: Vec<(&'static str, &'static str)>,
    error: Option<String>,
    name: String,
}

pub async fn list(State(data): State<Data>, viewer: Viewer) -> Response {
    match page(&data, &viewer, None, String::new()).await {
        Ok(page) => ok(&page),
        Err(response) => response,
    }
}

async fn page(
    data: &Data,
    viewer: &Viewer,
    error: Option<String>,
    name: String,
) -> Result<LibrariesPage, Response> {
    let libraries = data
        .libraries(&viewer.session)
        .await
        .map_err(|f| failure_page_for(viewer.chrome("Libraries"), f, "/"))?;
    let rows = futures::future::join_all(
        libraries
            .into_iter()
            .map(|library| row(data, &viewer.session, library)),
    )
    .await;
    Ok(LibrariesPage {
        chrome: viewer.chrome("Libraries"),
        rows,
        types: LIBRARY_TYPES.to_vec(),
        error,
        name,
    })
}

async fn row(data: &Data, session: &Session, library: Library) -> Row {
    let key = library.natural_id.clone();
    let (connection, connection_tone) = connection_cell(data, session, &library).await;
    let (files, bytes) = data.file_totals(&library).await.unwrap_or((0, 0));
    let last_sync = data
        .runs(session, &key)
        .await
        .ok()
        .and_then(|runs| runs.into_iter().next())
        .map_or_else(|| "never".to_owned(), |run| describe_run(&run));
    Row {
        href: format!("/libraries/{}", segment(&key)),
        name: library.name,
        type_name: type_name(&library.library_type),
        connection,
        connection_tone,
        files,
        size: human_bytes(bytes),
        last_sync,
    }
}

async fn connection_cell(
    data: &Data,
    session: &Session,
    library: &Library,
) -> (String, &'static str) {
    if library.library_type == "local" {
        return ("local library".to_owned(), "off");
    }
    let key = &library.natural_id;
    match data.connection(session, key).await {
        Ok(Some(connection)) if connection.status == "active" => {
            let account = tokio::time::timeout(ACCOUNT_WAIT, data.account(session, key)).await;
            let who = match account {
                Ok(Ok(account)) => account.email.unwrap_or(account.account_id),
                _ => connection.provider_account_id,
            };
            (format!("connected as {who}"), "ok")
        }
        Ok(Some(_)) => ("needs reconnecting".to_owned(), "warn"),
        Ok(None) => ("not connected".to_owned(), "off"),
        Err(_) => ("unknown".to_owned(), "warn"),
    }
}

/// One line about a run: when, how it ended, how many changes.
pub fn describe_run(run: &Run) -> String {
    let changes = run.added_files + run.updated_files + run.deleted_files + run.moved_files;
    let result = match run.status.as_str() {
        "running" => "running".to_owned(),
        "failed" => "failed".to_owned(),
        _ if run.errors.is_empty() => "done".to_owned(),
        _ => format!("done with {} errors", run.errors.len()),
    };
    let at = when(run.finished_at.unwrap_or(run.started_at));
    format!(
        "{at}: {result}, {changes} change{}",
        if changes == 1 { "" } else { "s" }
    )
}

#[derive(Deserialize)]
pub struct CreateForm {
    csrf: String,
    name: String,
    #[serde(rename = "type")]
    library_type: String,
}

pub async fn create(
    State(data): State<Data>,
    viewer: Viewer,
    Form(form): Form<CreateForm>,
) -> Response {
    if let Some(refused) = viewer.refuse_form(&form.csrf) {
        return refused;
    }
    match data
        .create_library(&viewer.session, form.name.trim(), &form.library_type)
        .await
    {
        Ok(library) => {
            Redirect::to(&format!("/libraries/{}", segment(&library.natural_id))).into_response()
        }
        Err(failure) => match page(&data, &viewer, Some(failure.message), form.name).await {
            Ok(page) => super::page::render(StatusCode::BAD_REQUEST, &page),
            Err(response) => response,
        },
    }
}
