//! `about.get`, `files.list`, `files.get` (metadata and `alt=media`),
//! `files.export` and the `exportLinks` target.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Value, json};

use super::error::GoogleError;
use super::fields::Fields;
use super::model::{self, Extras};
use super::query::{self, Query as SearchQuery};
use super::{
    Params, caller, flag, my_drive, page_size, resolve_file_id, shared_drives, visible_drive,
};
use crate::AppState;
use crate::content::{ContentSource, ranged_response};
use crate::faults::json_body;
use crate::world::{DriveId, Item, ItemId, Provider, World};

type Result<T> = std::result::Result<T, GoogleError>;

/// A JSON 200 in Google's content type.
pub fn ok_json(value: &Value) -> Response {
    json_body(Provider::Google, value)
}

/// Parses `fields`, or uses `default` when absent.
pub fn fields_param(p: &Params, default: &str) -> Result<Fields> {
    let raw = p.get("fields").map(String::as_str).unwrap_or(default);
    Fields::parse(raw).map_err(|m| GoogleError::invalid_parameter("fields", m))
}

// ----- about -----------------------------------------------------------------

/// `GET /drive/v3/about`: `fields` is required.
pub async fn about(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> Result<Response> {
    let account = caller(&state, &headers)?;
    let Some(raw) = p.get("fields") else {
        return Err(GoogleError::required("fields")
            .with_message("The 'fields' parameter is required for this method."));
    };
    let fields = Fields::parse(raw).map_err(|m| GoogleError::invalid_parameter("fields", m))?;
    let value = state
        .read(|w| {
            let a = w.account(&account)?;
            let used: u64 = w
                .items
                .values()
                .filter(|i| i.drive_id == a.drive_id && !i.deleted && !i.is_google_native())
                .map(Item::size)
                .sum();
            Some(json!({
                "kind": "drive#about",
                "user": model::user(a),
                "storageQuota": {"limit": "16106127360", "usage": used.to_string(),
                    "usageInDrive": used.to_string(), "usageInDriveTrash": "0"},
                "maxUploadSize": "5242880000000",
                "appInstalled": false,
                "canCreateDrives": true,
                "importFormats": {},
                "exportFormats": {
                    "application/vnd.google-apps.document": model::export_formats("application/vnd.google-apps.document").iter().map(|f| f.0).collect::<Vec<_>>(),
                    "application/vnd.google-apps.spreadsheet": model::export_formats("application/vnd.google-apps.spreadsheet").iter().map(|f| f.0).collect::<Vec<_>>(),
                    "application/vnd.google-apps.presentation": model::export_formats("application/vnd.google-apps.presentation").iter().map(|f| f.0).collect::<Vec<_>>(),
                    "application/vnd.google-apps.drawing": model::export_formats("application/vnd.google-apps.drawing").iter().map(|f| f.0).collect::<Vec<_>>(),
                },
                "maxImportSizes": {},
                "folderColorPalette": ["#ac725e", "#4986e7"],
            }))
        })
        .ok_or_else(|| GoogleError::auth(crate::oauth::AuthFailure::Invalid))?;
    Ok(ok_json(&fields.apply(value)))
}

// ----- files.list ----------------------------------------------------------------

/// The drives a files.list call searches, from `corpora`, `driveId` and the flags.
fn corpus(w: &World, account: &str, p: &Params) -> Result<Vec<DriveId>> {
    let supports = flag(p, "supportsAllDrives")? || flag(p, "supportsTeamDrives")?;
    let include = flag(p, "includeItemsFromAllDrives")? || flag(p, "includeTeamDriveItems")?;
    let drive_id = p.get("driveId").or_else(|| p.get("teamDriveId"));
    let corpora = p
        .get("corpora")
        .map(String::as_str)
        .unwrap_or(if drive_id.is_some() { "drive" } else { "user" });
    let mine: Vec<DriveId> = my_drive(w, account).into_iter().collect();
    match corpora {
        "drive" => {
            let Some(id) = drive_id else {
                return Err(GoogleError::invalid_parameter(
                    "driveId",
                    "The driveId parameter must be specified if and only if corpora is set to drive.",
                ));
            };
            if !include {
                return Err(GoogleError::invalid_parameter(
                    "includeItemsFromAllDrives",
                    "The includeItemsFromAllDrives parameter must be set to true when driveId is specified.",
                ));
            }
            if !visible_drive(w, account, id, supports) {
                return Err(GoogleError::drive_not_found(id));
            }
            Ok(vec![id.clone()])
        }
        "user" | "domain" | "allDrives" => {
            if drive_id.is_some() {
                return Err(GoogleError::invalid_parameter(
                    "driveId",
                    "The driveId parameter must be specified if and only if corpora is set to drive.",
                ));
            }
            if corpora == "allDrives" && !include {
                return Err(GoogleError::invalid_parameter(
                    "includeItemsFromAllDrives",
                    "The includeItemsFromAllDrives parameter must be set to true when corpora is allDrives.",
                ));
            }
            let mut drives = mine;
            if include && supports {
                drives.extend(shared_drives(w, account));
            }
            Ok(drives)
        }
        other => Err(GoogleError::invalid_parameter(
            "corpora",
            format!("Invalid value '{other}'."),
        )),
    }
}

/// The page `offset..offset+limit` of the ids matching `query` in
/// `drives` (stable order: the children of the folders the query names in
/// the order it names them, otherwise drives breadth first, folder
/// children in creation order), and whether more follow. Stops walking
/// once the page is full.
fn search(
    w: &World,
    account: &str,
    drives: &[DriveId],
    query: Option<&SearchQuery>,
    offset: usize,
    limit: usize,
) -> (Vec<ItemId>, bool) {
    let query = query.map(|q| {
        q.clone()
            .map_parents(&|id: &str| resolve_file_id(w, account, id))
    });
    let mut page = Vec::new();
    let mut matched = 0usize;
    let mut more = false;
    // Returns false once the page is full and one more match was seen.
    let mut visit = |item: &Item| -> bool {
        if item.deleted || query.as_ref().is_some_and(|q| !q.matches(item)) {
            return true;
        }
        if matched >= offset {
            if page.len() == limit {
                more = true;
                return false;
            }
            page.push(item.id.clone());
        }
        matched += 1;
        true
    };
    match query.as_ref().and_then(SearchQuery::parent_scope) {
        Some(parents) => {
            'parents: for parent in &parents {
                if !w.item(parent).is_some_and(|p| drives.contains(&p.drive_id)) {
                    continue;
                }
                for id in w.children(parent) {
                    if let Some(item) = w.item(id)
                        && !visit(item)
                    {
                        break 'parents;
                    }
                }
            }
        }
        None => {
            let mut queue: std::collections::VecDeque<&str> = drives
                .iter()
                .filter_map(|d| w.drive(d))
                .map(|d| d.root_id.as_str())
                .collect();
            'walk: while let Some(folder) = queue.pop_front() {
                for id in w.children(folder) {
                    let Some(item) = w.item(id) else { continue };
                    if !visit(item) {
                        break 'walk;
                    }
                    if item.is_folder() {
                        queue.push_back(&item.id);
                    }
                }
            }
        }
    }
    (page, more)
}

/// One `orderBy` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKey {
    Folder,
    Name,
    ModifiedTime,
    CreatedTime,
    QuotaBytesUsed,
    /// A valid key cloudsim does not sort by (recency, starred, ...).
    Ignored,
}

/// Parses `orderBy` (`folder,name desc,modifiedTime`); unknown keys are 400.
pub fn parse_order_by(raw: &str) -> Result<Vec<(OrderKey, bool)>> {
    let mut keys = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut words = part.split_whitespace();
        let key = match words.next().unwrap_or_default() {
            "folder" => OrderKey::Folder,
            "name" | "name_natural" => OrderKey::Name,
            "modifiedTime" | "modifiedByMeTime" => OrderKey::ModifiedTime,
            "createdTime" => OrderKey::CreatedTime,
            "quotaBytesUsed" => OrderKey::QuotaBytesUsed,
            "recency" | "sharedWithMeTime" | "starred" | "viewedByMeTime" => OrderKey::Ignored,
            other => {
                return Err(GoogleError::invalid_parameter(
                    "orderBy",
                    format!("Invalid sort key: {other}"),
                ));
            }
        };
        let desc = match words.next() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(GoogleError::invalid_parameter(
                    "orderBy",
                    format!("Invalid sort direction: {other}"),
                ));
            }
        };
        keys.push((key, desc));
    }
    Ok(keys)
}

fn sort_items(w: &World, ids: &mut [ItemId], order: &[(OrderKey, bool)]) {
    use std::cmp::Ordering;
    ids.sort_by(|a, b| {
        let (Some(a), Some(b)) = (w.item(a), w.item(b)) else {
            return Ordering::Equal;
        };
        for (key, desc) in order {
            let o = match key {
                OrderKey::Folder => b.is_folder().cmp(&a.is_folder()),
                OrderKey::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
                OrderKey::ModifiedTime => a.modified.cmp(&b.modified),
                OrderKey::CreatedTime => a.created.cmp(&b.created),
                OrderKey::QuotaBytesUsed => a.size().cmp(&b.size()),
                OrderKey::Ignored => Ordering::Equal,
            };
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
}

fn encode_offset(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn decode_offset(token: &str) -> Result<usize> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("o:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| GoogleError::invalid_parameter("pageToken", "Invalid Value"))
}

/// md5 of each binary file among `ids`, computed (and cached) when `wanted`.
pub async fn md5s(
    state: &AppState,
    ids: &[ItemId],
    wanted: bool,
) -> std::collections::HashMap<ItemId, String> {
    if !wanted {
        return std::collections::HashMap::new();
    }
    let binary: Vec<ItemId> = state.read(|w| {
        ids.iter()
            .filter(|id| {
                w.item(id)
                    .is_some_and(|i| i.is_file() && !i.is_google_native() && !i.deleted)
            })
            .cloned()
            .collect()
    });
    state.hashes(&binary, "md5", ContentSource::md5_hex).await
}

/// `GET /drive/v3/files`.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> Result<Response> {
    let account = caller(&state, &headers)?;
    let fields = fields_param(
        &p,
        "kind,nextPageToken,incompleteSearch,files(kind,id,name,mimeType)",
    )?;
    let query = match p.get("q") {
        Some(q) if !q.trim().is_empty() => Some(query::parse(q)?),
        _ => None,
    };
    let size = page_size(&p, 100, state.settings().google_max_page_size)?;
    let offset = match p.get("pageToken") {
        Some(t) if !t.is_empty() => decode_offset(t)?,
        _ => 0,
    };
    let order = parse_order_by(p.get("orderBy").map(String::as_str).unwrap_or(""))?;
    let app_data_only = p
        .get("spaces")
        .is_some_and(|sp| !sp.split(',').any(|x| x.trim() == "drive"));
    let (page, more) = state.read(|w| {
        let drives = corpus(w, &account, &p)?;
        if app_data_only {
            return Ok((Vec::new(), false));
        }
        if order.is_empty() {
            return Ok::<_, GoogleError>(search(
                w,
                &account,
                &drives,
                query.as_ref(),
                offset,
                size,
            ));
        }
        let (mut all, _) = search(w, &account, &drives, query.as_ref(), 0, usize::MAX);
        sort_items(w, &mut all, &order);
        let more = all.len() > offset + size;
        Ok((all.into_iter().skip(offset).take(size).collect(), more))
    })?;
    let md5 = md5s(&state, &page, fields.wants(&["files", "md5Checksum"])).await;
    let base_url = state.base_url(&headers);
    let nothing = Fields::nothing();
    let wanted = fields.sub("files").unwrap_or(&nothing);
    let files: Vec<Value> = state.read(|w| {
        page.iter()
            .filter_map(|id| w.item(id))
            .map(|item| {
                let extras = Extras {
                    md5: md5.get(&item.id).cloned(),
                    base_url: base_url.clone(),
                };
                model::file(w, item, &account, &extras, wanted)
            })
            .collect()
    });
    let mut body = json!({"kind": "drive#fileList", "incompleteSearch": false, "files": files});
    if more {
        body["nextPageToken"] = json!(encode_offset(offset + size));
    }
    Ok(ok_json(&fields.apply(body)))
}

// ----- files.get -------------------------------------------------------------------

/// The live item `id` if the caller may see it (404 otherwise).
fn visible_item(w: &World, account: &str, id: &str, p: &Params) -> Result<Item> {
    let supports = flag(p, "supportsAllDrives")? || flag(p, "supportsTeamDrives")?;
    let real = resolve_file_id(w, account, id);
    match w.item(&real) {
        Some(i) if !i.deleted && visible_drive(w, account, &i.drive_id, supports) => Ok(i.clone()),
        _ => Err(GoogleError::file_not_found(id)),
    }
}

/// `GET /drive/v3/files/{fileId}`: metadata, or the bytes with `alt=media`.
pub async fn get(
    State(state): State<AppState>,
    Path(file_id): Path<String>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> Result<Response> {
    let account = caller(&state, &headers)?;
    let item = state.read(|w| visible_item(w, &account, &file_id, &p))?;
    match p.get("alt").map(String::as_str) {
        Some("media") => return download(&state, &headers, &item),
        None | Some("json") => {}
        Some(other) => {
            return Err(GoogleError::invalid_parameter(
                "alt",
                format!("Invalid value '{other}'."),
            ));
        }
    }
    let fields = fields_param(&p, "kind,id,name,mimeType")?;
    let md5 = md5s(
        &state,
        std::slice::from_ref(&item.id),
        fields.wants(&["md5Checksum"]),
    )
    .await;
    let extras = Extras {
        md5: md5.get(&item.id).cloned(),
        base_url: state.base_url(&headers),
    };
    let value = state.read(|w| model::file(w, &item, &account, &extras, &fields));
    Ok(ok_json(&fields.apply(value)))
}

fn download(state: &AppState, headers: &HeaderMap, item: &Item) -> Result<Response> {
    if !item.is_file() || item.is_google_native() {
        return Err(GoogleError::not_downloadable());
    }
    let source = state.read(|w| w.source(item));
    let mut out = HeaderMap::new();
    out.insert(
        http::header::CONTENT_TYPE,
        crate::content::content_type(&item.mime_type),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", item.content_version)) {
        out.insert(http::header::ETAG, v);
    }
    Ok(ranged_response(headers, &source, out))
}

// ----- export ------------------------------------------------------------------------

/// The exported bytes of a native document: a header naming the target
/// format and the document's version, then the document's own bytes.
/// Deterministic, so two exports of one version are identical.
fn export_body(item: &Item, source: &ContentSource, target: &str) -> (u64, Body) {
    let header = Bytes::from(format!(
        "cloudsim export of {} ({}) as {target}, version {}\n",
        item.id, item.mime_type, item.content_version
    ));
    let len = header.len() as u64 + source.len();
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(header) })
        .chain(source.stream(0..source.len()));
    (len, Body::from_stream(stream))
}

fn export_response(
    item: &Item,
    source: &ContentSource,
    target: &str,
    limit: Option<u64>,
) -> Result<Response> {
    let (len, body) = export_body(item, source, target);
    if limit.is_some_and(|l| len > l) {
        return Err(GoogleError::export_too_large());
    }
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(target) {
        h.insert(http::header::CONTENT_TYPE, v);
    }
    h.insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
    Ok(response)
}

/// Checks that `item` exports to `target`.
fn check_export(item: &Item, target: &str) -> Result<()> {
    if !item.is_google_native() {
        return Err(GoogleError::export_not_supported());
    }
    if !model::export_formats(&item.mime_type)
        .iter()
        .any(|(m, _)| *m == target)
    {
        return Err(
            GoogleError::bad_request("The requested conversion is not supported.")
                .at("parameter", "mimeType"),
        );
    }
    Ok(())
}

/// `GET /drive/v3/files/{fileId}/export?mimeType=...` (10 MB limit).
pub async fn export(
    State(state): State<AppState>,
    Path(file_id): Path<String>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> Result<Response> {
    let account = caller(&state, &headers)?;
    let target = p
        .get("mimeType")
        .cloned()
        .ok_or_else(|| GoogleError::required("mimeType"))?;
    let item = state.read(|w| visible_item(w, &account, &file_id, &p))?;
    check_export(&item, &target)?;
    let source = state.read(|w| w.source(&item));
    export_response(
        &item,
        &source,
        &target,
        Some(state.settings().google_export_limit_bytes),
    )
}

/// `GET /feeds/download/{kind}/export/Export?id=&exportFormat=`: the
/// `exportLinks` target, with no size limit.
pub async fn export_link(
    State(state): State<AppState>,
    Path(_kind): Path<String>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> Result<Response> {
    let account = caller(&state, &headers)?;
    let id = p
        .get("id")
        .cloned()
        .ok_or_else(|| GoogleError::required("id"))?;
    let format = p
        .get("exportFormat")
        .cloned()
        .ok_or_else(|| GoogleError::required("exportFormat"))?;
    let mut q = Params::new();
    q.insert("supportsAllDrives".into(), "true".into());
    let item = state.read(|w| visible_item(w, &account, &id, &q))?;
    let target = model::export_formats(&item.mime_type)
        .iter()
        .find(|(_, ext)| *ext == format)
        .map(|(m, _)| m.to_string())
        .ok_or_else(|| GoogleError::bad_request("The requested conversion is not supported."))?;
    let source = state.read(|w| w.source(&item));
    export_response(&item, &source, &target, None)
}
