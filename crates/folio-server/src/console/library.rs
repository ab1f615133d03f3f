//! `/libraries/{id}`: one library: its integration and connection, its
//! source folder, syncs (with live progress), schedule and shares. The
//! forms that change them are in [`super::library_forms`].

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::data::{Data, Failure, Integration, Library, Progress, Run, segment};
use super::notices::notice;
use super::page::{Chrome, Viewer, failure_page_for, human_bytes, ok, type_name, when};

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
    /// After a consent for another account than the connected one: the
    /// form that connects the library to that account instead.
    offer_switch: bool,
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
    let offer_switch = query.done.as_deref() == Some("other-account")
        && allowed.write
        && connection.state != "none";
    Ok(LibraryPage {
        chrome: viewer.chrome(library.name.clone()),
        base: library_href(&library),
        natural_id: key,
        type_name: type_name(&library.library_type),
        is_local,
        can_sync: allowed.sync && !is_local,
        can_write: allowed.write,
        notice: query.done.as_deref().and_then(notice),
        offer_switch,
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
