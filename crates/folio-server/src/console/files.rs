//! `/libraries/{id}/files`: the library's files, a folder at a time, with
//! downloads; upload and delete for `local` libraries.
//!
//! The API lists files flat, in path order, a page at a time; this page
//! asks for the paths under the folder shown and folds deeper paths into
//! their first folder, so a page of 100,000 files stays a page.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::data::{Data, file_path, segment};
use super::library::library_href;
use super::page::{Chrome, Viewer, failure_page_for, human_bytes, message, ok, when};

/// Paths asked for per page.
pub const PAGE_SIZE: u32 = 200;

pub struct Entry {
    pub name: String,
    pub path: String,
    pub href: String,
    pub is_folder: bool,
    pub size: String,
    pub modified: String,
}

#[derive(Template)]
#[template(path = "files.html")]
struct FilesPage {
    chrome: Chrome,
    base: String,
    library_name: String,
    folder: String,
    crumbs: Vec<(String, String)>,
    entries: Vec<Entry>,
    next: Option<String>,
    can_manage: bool,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct ListQuery {
    folder: Option<String>,
    cursor: Option<String>,
    done: Option<String>,
}

fn files_href(base: &str, folder: &str) -> String {
    if folder.is_empty() {
        format!("{base}/files")
    } else {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("folder", folder)
            .finish();
        format!("{base}/files?{query}")
    }
}

pub async fn list(
    State(data): State<Data>,
    viewer: Viewer,
    Path(key): Path<String>,
    Query(query): Query<ListQuery>,
) -> Response {
    let library = match data.library(&viewer.session, &key).await {
        Ok(library) => library,
        Err(failure) => return failure_page_for(viewer.chrome("Files"), failure, "/"),
    };
    let base = library_href(&library);
    let folder = query
        .folder
        .unwrap_or_default()
        .trim_matches('/')
        .to_owned();
    let prefix = if folder.is_empty() {
        String::new()
    } else {
        format!("{folder}/")
    };
    let page = match data
        .files(
            &viewer.session,
            &key,
            &prefix,
            query.cursor.as_deref(),
            PAGE_SIZE,
        )
        .await
    {
        Ok(page) => page,
        Err(failure) => return failure_page_for(viewer.chrome("Files"), failure, &base),
    };
    let mut entries: Vec<Entry> = Vec::new();
    for file in page.items {
        let rest = &file.path[prefix.len().min(file.path.len())..];
        match rest.split_once('/') {
            Some((child, _)) => {
                if entries
                    .last()
                    .is_some_and(|e| e.is_folder && e.name == child)
                {
                    continue;
                }
                let path = format!("{prefix}{child}");
                entries.push(Entry {
                    href: files_href(&base, &path),
                    name: child.to_owned(),
                    path,
                    is_folder: true,
                    size: String::new(),
                    modified: String::new(),
                });
            }
            None => entries.push(Entry {
                href: format!("{base}/download/{}", file_path(&file.path)),
                name: rest.to_owned(),
                path: file.path.clone(),
                is_folder: false,
                size: human_bytes(file.size),
                modified: when(file.modified_at),
            }),
        }
    }
    let next = page.next.map(|cursor| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if !folder.is_empty() {
            query.append_pair("folder", &folder);
        }
        query.append_pair("cursor", &cursor);
        format!("{base}/files?{}", query.finish())
    });
    let mut crumbs = vec![(library.name.clone(), files_href(&base, ""))];
    let mut walked = String::new();
    for part in folder.split('/').filter(|p| !p.is_empty()) {
        if !walked.is_empty() {
            walked.push('/');
        }
        walked.push_str(part);
        crumbs.push((part.to_owned(), files_href(&base, &walked)));
    }
    let can_manage = library.library_type == "local"
        && data
            .access(&viewer.me, &library)
            .await
            .is_ok_and(|a| a.write);
    ok(&FilesPage {
        chrome: viewer.chrome(format!("Files of {}", library.name)),
        base,
        library_name: library.name,
        folder,
        crumbs,
        entries,
        next,
        can_manage,
        notice: match query.done.as_deref() {
            Some("uploaded") => Some("The file is uploaded."),
            Some("deleted") => Some("The file is deleted."),
            _ => None,
        },
    })
}

pub async fn download(
    State(data): State<Data>,
    viewer: Viewer,
    Path((key, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    match data.download(&viewer.session, &key, &path, &headers).await {
        Ok(mut response) => {
            let name = path.rsplit('/').next().unwrap_or("download");
            let ascii: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_graphic() && c != '"' && c != '\\' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let disposition = format!(
                "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
                segment(name)
            );
            if let Ok(value) = disposition.parse() {
                response
                    .headers_mut()
                    .insert(axum::http::header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(failure) => failure_page_for(viewer.chrome("Download"), failure, "/"),
    }
}

/// Upload through a plain form (multipart): the file goes into the folder
/// shown, under its own name.
pub async fn upload(
    State(data): State<Data>,
    viewer: Viewer,
    Path(key): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let mut csrf = String::new();
    let mut folder = String::new();
    let mut file: Option<(String, bytes::Bytes)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => return bad_upload(&viewer, &key, &err.to_string()),
        };
        match field.name().unwrap_or_default() {
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "folder" => folder = field.text().await.unwrap_or_default(),
            "file" => {
                let name = field.file_name().unwrap_or_default().to_owned();
                match field.bytes().await {
                    Ok(bytes) => file = Some((name, bytes)),
                    Err(err) => return bad_upload(&viewer, &key, &err.to_string()),
                }
            }
            _ => {}
        }
    }
    if let Some(refused) = viewer.refuse_form(&csrf) {
        return refused;
    }
    let Some((name, bytes)) = file.filter(|(name, _)| !name.is_empty()) else {
        return bad_upload(&viewer, &key, "Choose a file to upload.");
    };
    let folder = folder.trim_matches('/');
    let path = if folder.is_empty() {
        name
    } else {
        format!("{folder}/{name}")
    };
    match data.upload(&viewer.session, &key, &path, bytes).await {
        Ok(()) => back(&key, folder, "uploaded"),
        Err(failure) => failure_page_for(
            viewer.chrome("Upload"),
            failure,
            &format!("/libraries/{}/files", segment(&key)),
        ),
    }
}

fn bad_upload(viewer: &Viewer, key: &str, why: &str) -> Response {
    message(
        StatusCode::BAD_REQUEST,
        viewer.chrome("Upload"),
        "The upload did not work",
        why,
        &format!("/libraries/{}/files", segment(key)),
        "Go back",
    )
}

fn back(key: &str, folder: &str, done: &str) -> Response {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if !folder.is_empty() {
        query.append_pair("folder", folder);
    }
    query.append_pair("done", done);
    Redirect::to(&format!(
        "/libraries/{}/files?{}",
        segment(key),
        query.finish()
    ))
    .into_response()
}

#[derive(Deserialize)]
pub struct DeleteForm {
    csrf: String,
    path: String,
}

pub async fn delete(
    State(data): State<Data>,
    viewer: Viewer,
    Path(key): Path<String>,
    Form(form): Form<DeleteForm>,
) -> Response {
    if let Some(refused) = viewer.refuse_form(&form.csrf) {
        return refused;
    }
    let folder = form.path.rsplit_once('/').map_or("", |(f, _)| f).to_owned();
    match data.delete_file(&viewer.session, &key, &form.path).await {
        Ok(()) => back(&key, &folder, "deleted"),
        Err(failure) => failure_page_for(
            viewer.chrome("Delete"),
            failure,
            &format!("/libraries/{}/files", segment(&key)),
        ),
    }
}
