//! `/libraries/{id}/folders`: the folder picker. It browses the connected
//! drive live (and, by the connector's own listing, SharePoint sites and
//! their document libraries, or Drive's shared drives), one level at a
//! time; `Use this folder` makes the folder being shown the library's
//! source.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::data::{Data, segment};
use super::library::library_href;
use super::page::{Chrome, Viewer, failure_page_for, ok};

pub struct FolderLink {
    pub name: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "folders.html")]
struct FoldersPage {
    chrome: Chrome,
    base: String,
    library_name: String,
    /// The folder shown; empty at the top.
    current: String,
    /// Its source (JSON), what `Use this folder` saves.
    current_source: String,
    folders: Vec<FolderLink>,
    problem: Option<String>,
}

#[derive(Deserialize)]
pub struct BrowseQuery {
    parent: Option<String>,
    name: Option<String>,
    source: Option<String>,
}

pub async fn browse(
    State(data): State<Data>,
    viewer: Viewer,
    Path(key): Path<String>,
    Query(query): Query<BrowseQuery>,
) -> Response {
    let library = match data.library(&viewer.session, &key).await {
        Ok(library) => library,
        Err(failure) => return failure_page_for(viewer.chrome("Folders"), failure, "/"),
    };
    let base = library_href(&library);
    let parent = query.parent.as_deref().filter(|p| !p.is_empty());
    // Inside a folder whose children cannot be listed, it can still be chosen.
    let (folders, problem) = match data.folders(&viewer.session, &key, parent).await {
        Ok(folders) => (folders, None),
        Err(failure) if parent.is_some() && !failure.is_not_found() => {
            (Vec::new(), Some(failure.message))
        }
        Err(failure) => return failure_page_for(viewer.chrome("Folders"), failure, &base),
    };
    let folders = folders
        .into_iter()
        .map(|folder| {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("parent", &folder.id)
                .append_pair("name", &folder.name)
                .append_pair("source", &folder.source.to_string())
                .finish();
            FolderLink {
                href: format!("{base}/folders?{query}"),
                name: folder.name,
            }
        })
        .collect();
    ok(&FoldersPage {
        chrome: viewer.chrome("Choose a folder"),
        library_name: library.name,
        current: if parent.is_some() {
            query.name.unwrap_or_default()
        } else {
            String::new()
        },
        current_source: if parent.is_some() {
            query.source.unwrap_or_default()
        } else {
            String::new()
        },
        base,
        folders,
        problem,
    })
}

#[derive(Deserialize)]
pub struct ChooseForm {
    csrf: String,
    source: String,
}

pub async fn choose(
    State(data): State<Data>,
    viewer: Viewer,
    Path(key): Path<String>,
    Form(form): Form<ChooseForm>,
) -> Response {
    if let Some(refused) = viewer.refuse_form(&form.csrf) {
        return refused;
    }
    let back = format!("/libraries/{}", segment(&key));
    let source = match serde_json::from_str::<serde_json::Value>(&form.source) {
        Ok(source) if source.is_object() => source,
        _ => {
            return failure_page_for(
                viewer.chrome("Folders"),
                super::data::Failure {
                    status: axum::http::StatusCode::BAD_REQUEST,
                    message: "That folder could not be read; open the folder picker again."
                        .to_owned(),
                },
                &back,
            );
        }
    };
    match data.set_source(&viewer.session, &key, source).await {
        Ok(()) => axum::response::IntoResponse::into_response(axum::response::Redirect::to(
            &format!("{back}?done=folder"),
        )),
        Err(failure) => failure_page_for(viewer.chrome("Folders"), failure, &back),
    }
}
