//! `/libraries/{id}`: one library: its integration and connection, its
//! source folder, syncs (with live progress), schedule and shares; and the
//! forms that change them. Every form answers with a redirect back here
//! carrying a fixed notice code, so a reload never sends a form twice.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::data::{Data, Failure, Integration, Library, Progress, Run, segment};
use super::notices::notice;
use super::page::{
    Chrome, Viewer, failure_page_for, human_bytes, message, not_found, ok, type_name, when,
};

#[derive(Deserialize)]
pub struct ShowQuery {
    done: Option<String>,
    progress: Option<String>,
}

pub struct ConnectionView {
    /// `none`, `active` or `reconnect`.
    pub state: &'static str,
    pub email: String,
    pub display_name: String,
    pub problem: Option<String>,
}

pub struct ProgressView {
    pub id: String,
    pub value: i64,
    pub max: i64,
    pub running: bool,
    /// `done` or `failed` once the run ended (the page then shows the
    /// result and the script does not follow it).
    pub finished: String,
    pub text: String,
}

pub struct RunView {
    pub when: String,
    pub trigger: String,
    pub status: String,
    pub summary: String,
    pub message: String,
    pub errors: Vec<(String, String)>,
}

pub struct ShareView {
    pub username: String,
    pub level: String,
}

#[derive(Template)]
#[template(path = "library.html")]
struct LibraryPage {
    chrome: Chrome,
    base: String,
    name: String,
    natural_id: String,
    type_name: &'static str,
    is_local: bool,
    can_sync: bool,
    can_write: bool,
    notice: Option<(&'static str, &'static str)>,
    integration: Option<Integration>,
    integrations: Vec<Integration>,
    connection: ConnectionView,
    source: String,
    files: i64,
    size: String,
    schedule: String,
    progress: Option<ProgressView>,
    sync_problem: Option<String>,
    runs: Vec<RunView>,
    shares: Vec<ShareView>,
}

pub fn library_href(library: &Library) -> String {
    format!("/libraries/{}", segment(&library.natural_id))
}

pub async fn show(
    State(data): State<Data>,
    viewer: Viewer,
    Path(key): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Response {
    let library = match data.library(&viewer.session, &key).await {
        Ok(library) => library,
        Err(failure) => return failure_page_for(viewer.chrome("Library"), failure, "/"),
    };
    match page(&data, &viewer, library, query).await {
        Ok(page) => ok(&page),
        Err(failure) => failure_page_for(viewer.chrome("Library"), failure, "/"),
    }
}

async fn page(
    data: &Data,
    viewer: &Viewer,
    library: Library,
    query: ShowQuery,
) -> Result<LibraryPage, Failure> {
    let session = &viewer.session;
    let key = library.natural_id.clone();
    let allowed = data.access(&viewer.me, &library).await?;
    let is_local = library.library_type == "local";
    let (integration, integrations, connection) = if is_local {
        (None, Vec::new(), no_connection())
    } else {
        let integration = data.library_integration(session, &key).await?;
        // Listing integrations is an admin's right; others see the chosen one.
        let integrations = if allowed.write {
            data.integrations(session)
                .await
                .unwrap_or_default()
                .into_iter()
                .filter(|i| i.integration_type == library.library_type)
                .collect()
        } else {
            Vec::new()
        };
        (
            integration,
            integrations,
            connection_view(data, viewer, &key).await?,
        )
    };
    let runs = data.runs(session, &key).await?;
    let progress = progress_view(data, viewer, &runs, query.progress.as_deref()).await?;
    let sync_problem = query
        .progress
        .as_deref()
        .and_then(|id| data.sync_failure(id))
        .map(|f| f.message);
    let shares = if allowed.write {
        data.shares(session, &key)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|s| ShareView {
                username: s.username,
                level: s.level,
            })
            .collect()
    } else {
        Vec::new()
    };
    let (files, bytes) = data.file_totals(&library).await?;
    Ok(LibraryPage {
        chrome: viewer.chrome(library.name.clone()),
        base: library_href(&library),
        natural_id: key,
        type_name: type_name(&library.library_type),
        is_local,
        can_sync: allowed.sync && !is_local,
        can_write: allowed.write,
        notice: query.done.as_deref().and_then(notice),
        integration,
        integrations,
        connection,
        source: describe_source(&library.source),
        files,
        size: human_bytes(bytes),
        schedule: library.sync_schedule.as_ref().map_or_else(
            || "off".to_owned(),
            |s| format!("every {} minutes", s.interval_minutes),
        ),
        progress,
        sync_problem,
        runs: runs.iter().map(run_view).collect(),
        shares,
        name: library.name,
    })
}

fn no_connection() -> ConnectionView {
    ConnectionView {
        state: "none",
        email: String::new(),
        display_name: String::new(),
        problem: None,
    }
}

async fn connection_view(
    data: &Data,
    viewer: &Viewer,
    key: &str,
) -> Result<ConnectionView, Failure> {
    let Some(connection) = data.connection(&viewer.session, key).await? else {
        return Ok(no_connection());
    };
    if connection.status != "active" {
        return Ok(ConnectionView {
            state: "reconnect",
            email: connection.provider_account_id,
            display_name: String::new(),
            problem: None,
        });
    }
    Ok(match data.account(&viewer.session, key).await {
        Ok(account) => ConnectionView {
            state: "active",
            email: account.email.unwrap_or(account.account_id),
            display_name: account.display_name.unwrap_or_default(),
            problem: None,
        },
        // The provider refused the tokens: the connection needs a reconnect.
        Err(f) if f.status == StatusCode::UNPROCESSABLE_ENTITY => ConnectionView {
            state: "reconnect",
            email: connection.provider_account_id,
            display_name: String::new(),
            problem: Some(f.message),
        },
        Err(f) => ConnectionView {
            state: "active",
            email: connection.provider_account_id,
            display_name: String::new(),
            problem: Some(f.message),
        },
    })
}

async fn progress_view(
    data: &Data,
    viewer: &Viewer,
    runs: &[Run],
    asked: Option<&str>,
) -> Result<Option<ProgressView>, Failure> {
    let running = runs.iter().find(|r| r.status == "running");
    let id = match (running, asked) {
        (Some(run), _) => run.progress_id.clone(),
        (None, Some(id)) if data.sync_failure(id).is_none() => id.to_owned(),
        _ => return Ok(None),
    };
    let progress = data.progress(&viewer.session, &id).await?;
    Ok(Some(match progress {
        Some(p) => ProgressView {
            value: p.done,
            max: p.total.max(p.done),
            running: p.status == "running",
            finished: if p.status == "running" {
                String::new()
            } else {
                p.status.clone()
            },
            text: progress_text(&p),
            id,
        },
        None => ProgressView {
            id,
            value: 0,
            max: 0,
            running: true,
            finished: String::new(),
            text: "Starting the sync…".to_owned(),
        },
    }))
}

/// What the progress region says before the script takes over (and all
/// the time without script).
fn progress_text(p: &Progress) -> String {
    if p.status != "running" {
        return format!(
            "Sync {}: {} added, {} updated, {} deleted, {} errors.",
            if p.status == "failed" {
                "failed"
            } else {
                "finished"
            },
            p.added,
            p.updated,
            p.deleted,
            p.failed
        );
    }
    let mut text = format!(
        "{} of {}{} files, {}",
        p.done,
        p.total,
        if p.total_known { "" } else { " (counting)" },
        human_bytes(p.bytes)
    );
    if let Some(current) = &p.current {
        text.push_str(&format!("; last: {current}"));
    }
    if p.phase != "downloading" {
        text.push_str(&format!(" ({})", p.phase));
    }
    text
}

fn run_view(run: &Run) -> RunView {
    RunView {
        when: when(run.started_at),
        trigger: run.trigger.clone(),
        status: run.status.clone(),
        summary: format!(
            "{} added, {} updated, {} deleted, {} moved, {} errors",
            run.added_files,
            run.updated_files,
            run.deleted_files,
            run.moved_files,
            run.errors.len()
        ),
        message: run.message.clone().unwrap_or_default(),
        errors: run
            .errors
            .iter()
            .map(|e| (e.path.clone(), e.message.clone()))
            .collect(),
    }
}

/// The library's source as a sentence.
fn describe_source(source: &serde_json::Value) -> String {
    let text = |name: &str| source.get(name).and_then(|v| v.as_str());
    if let Some(path) = text("path") {
        return format!("the folder {path}");
    }
    let place = match (text("siteId"), text("driveId")) {
        (Some(_), _) => "a SharePoint document library",
        (None, Some(_)) => "a shared drive",
        (None, None) => "the account's drive",
    };
    match text("folderId") {
        Some(id) => format!("the chosen folder (id {id}) of {place}"),
        None if place == "the account's drive" => "the whole drive".to_owned(),
        None => format!("the whole of {place}"),
    }
}

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
