//! driveItems: the item, children and `/content` routes (rendering is
//! in `render.rs`).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::json;

use super::error::{GraphError, json_response};
use super::model::Collection;
use super::{Caller, DriveRef, caller, resolve_drive};
use crate::AppState;
use crate::world::{Item, ItemId, World};

/// Largest `$top` of a listing.
const MAX_TOP: usize = 1000;
/// Children per page without `$top`.
const DEFAULT_TOP: usize = 200;

pub use super::render::{
    ItemHashes, QUICK_XOR, Render, SHA1, SHA256, download_links, drive_item, drive_owner,
    drive_type, live_children, timestamp,
};

/// The live item `item` ("root" or an id) of a drive.
pub fn find_item<'w>(world: &'w World, drive: &str, item: &str) -> Result<&'w Item, GraphError> {
    let id = if item == "root" {
        world
            .drive(drive)
            .map(|d| d.root_id.clone())
            .ok_or_else(GraphError::item_not_found)?
    } else {
        item.to_string()
    };
    world
        .item(&id)
        .filter(|i| i.drive_id == drive && i.is_live())
        .ok_or_else(GraphError::item_not_found)
}

/// `GET .../items/{itemId}` and `.../root`.
pub async fn get_item(
    state: &AppState,
    caller: &Caller,
    drive: DriveRef<'_>,
    item: &str,
    headers: &HeaderMap,
) -> Result<Response, GraphError> {
    let (drive_id, id) = state.read(|w| {
        let drive_id = resolve_drive(w, caller, drive)?;
        let id = find_item(w, &drive_id, item)?.id.clone();
        Ok::<_, GraphError>((drive_id, id))
    })?;
    let hashes = ItemHashes::of(state, std::slice::from_ref(&id)).await;
    let how = Render {
        delta: false,
        download: Some(download_links(state, headers)),
    };
    let body = state
        .read(|w| w.item(&id).map(|i| drive_item(w, i, &hashes, &how)))
        .ok_or_else(GraphError::item_not_found)?;
    let mut value =
        serde_json::to_value(&body).map_err(|e| GraphError::invalid_request(e.to_string()))?;
    value["@odata.context"] = json!(format!(
        "https://graph.microsoft.com/v1.0/$metadata#drives('{drive_id}')/items/$entity"
    ));
    Ok(json_response(StatusCode::OK, &value))
}

/// Query of a children listing.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    #[serde(rename = "$top")]
    pub top: Option<usize>,
    #[serde(rename = "$skiptoken")]
    pub skiptoken: Option<String>,
}

fn decode_skip(token: &str) -> Result<usize, GraphError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("skip:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| GraphError::invalid_request("Invalid $skiptoken."))
}

/// `GET .../children`: pages of `$top` with a `$skiptoken` nextLink.
pub async fn list_children(
    state: &AppState,
    caller: &Caller,
    drive: DriveRef<'_>,
    item: &str,
    query: &ListQuery,
    headers: &HeaderMap,
) -> Result<Response, GraphError> {
    let top = query.top.unwrap_or(DEFAULT_TOP).clamp(1, MAX_TOP);
    let skip = query
        .skiptoken
        .as_deref()
        .map(decode_skip)
        .transpose()?
        .unwrap_or(0);
    let (drive_id, folder_id, ids, total) = state.read(|w| {
        let drive_id = resolve_drive(w, caller, drive)?;
        let folder = find_item(w, &drive_id, item)?;
        if !folder.is_folder() {
            return Ok((drive_id, folder.id.clone(), Vec::new(), 0));
        }
        let all: Vec<ItemId> = live_children(w, &folder.id).map(|i| i.id.clone()).collect();
        let total = all.len();
        let ids = all.into_iter().skip(skip).take(top).collect();
        Ok::<_, GraphError>((drive_id, folder.id.clone(), ids, total))
    })?;
    let hashes = ItemHashes::of(state, &ids).await;
    let base = state.base_url(headers);
    let how = Render {
        delta: false,
        download: Some(download_links(state, headers)),
    };
    let value = state.read(|w| {
        ids.iter()
            .filter_map(|id| w.item(id))
            .map(|i| drive_item(w, i, &hashes, &how))
            .collect()
    });
    let next_link = (skip + top < total).then(|| {
        let token =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("skip:{}", skip + top));
        format!(
            "{base}/v1.0/drives/{drive_id}/items/{folder_id}/children?$top={top}&$skiptoken={token}"
        )
    });
    Ok(json_response(
        StatusCode::OK,
        &Collection {
            context: format!(
                "https://graph.microsoft.com/v1.0/$metadata#drives('{drive_id}')/items('{folder_id}')/children"
            ),
            value,
            next_link,
        },
    ))
}

/// `GET .../content`: 302 to the pre-authenticated download URL; 304 when
/// `If-None-Match` names the current eTag or cTag.
pub fn content(
    state: &AppState,
    caller: &Caller,
    drive: DriveRef<'_>,
    item: &str,
    headers: &HeaderMap,
) -> Result<Response, GraphError> {
    let base = state.base_url(headers);
    let (url, etag, ctag) = state.read(|w| {
        let drive_id = resolve_drive(w, caller, drive)?;
        let found = find_item(w, &drive_id, item)?;
        if !found.is_file() {
            return Err(GraphError::item_not_found());
        }
        Ok((
            state.shared().download_urls.url(&base, found),
            format!("\"{{{}}},{}\"", found.id, found.version),
            format!("\"c:{{{}}},{}\"", found.id, found.content_version),
        ))
    })?;
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        // Graph's tags hold commas, so match them whole within the list.
        .is_some_and(|v| v.trim() == "*" || v.contains(&etag) || v.contains(&ctag));
    if not_modified {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let mut response = StatusCode::FOUND.into_response();
    let location =
        HeaderValue::from_str(&url).map_err(|e| GraphError::invalid_request(e.to_string()))?;
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

/// Path-based addressing below `base` (`"root"` or an item id):
/// `root:/Docs/a.txt:` and `items/{id}:/Docs/a.txt:`, with their
/// `:/children` and `:/content` forms (axum has already percent-decoded
/// `rest`). The closing colon may be left out when nothing follows it. An
/// unknown base or path is 404 `itemNotFound`.
pub async fn by_path(
    state: &AppState,
    caller: &Caller,
    drive: DriveRef<'_>,
    base: &str,
    rest: &str,
    query: &ListQuery,
    headers: &HeaderMap,
) -> Result<Response, GraphError> {
    let (path, tail) = rest.split_once(':').unwrap_or((rest, ""));
    let id = state.read(|w| {
        let drive_id = resolve_drive(w, caller, drive)?;
        let start = find_item(w, &drive_id, base)?;
        walk(w, start, path)
            .map(|i| i.id.clone())
            .ok_or_else(GraphError::item_not_found)
    })?;
    match tail {
        "" | "/" => get_item(state, caller, drive, &id, headers).await,
        "/children" => list_children(state, caller, drive, &id, query, headers).await,
        "/content" => content(state, caller, drive, &id, headers),
        other => Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!(
                "Resource not found for the segment '{}'.",
                other.trim_start_matches('/')
            ),
        )),
    }
}

/// The live item at the `/`-separated `path` below `start` (names compare
/// case-insensitively on OneDrive).
fn walk<'w>(world: &'w World, start: &'w Item, path: &str) -> Option<&'w Item> {
    let mut current = start;
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        current = world
            .child_named(&current.id, segment)
            .filter(|i| i.is_live())?;
    }
    Some(current)
}

/// Handlers for `/drives/{driveId}/items/{itemId}` and friends.
pub mod routes {
    use super::*;

    pub async fn drive_item(
        State(state): State<AppState>,
        Path((drive, item)): Path<(String, String)>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        get_item(&state, &caller, DriveRef::Id(&drive), &item, &headers).await
    }

    pub async fn drive_root(
        State(state): State<AppState>,
        Path(drive): Path<String>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        get_item(&state, &caller, DriveRef::Id(&drive), "root", &headers).await
    }

    pub async fn me_item(
        State(state): State<AppState>,
        Path(item): Path<String>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        get_item(&state, &caller, DriveRef::Me, &item, &headers).await
    }

    pub async fn me_root(
        State(state): State<AppState>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        get_item(&state, &caller, DriveRef::Me, "root", &headers).await
    }

    pub async fn drive_children(
        State(state): State<AppState>,
        Path((drive, item)): Path<(String, String)>,
        Query(query): Query<ListQuery>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        list_children(
            &state,
            &caller,
            DriveRef::Id(&drive),
            &item,
            &query,
            &headers,
        )
        .await
    }

    pub async fn drive_root_children(
        State(state): State<AppState>,
        Path(drive): Path<String>,
        Query(query): Query<ListQuery>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        list_children(
            &state,
            &caller,
            DriveRef::Id(&drive),
            "root",
            &query,
            &headers,
        )
        .await
    }

    pub async fn me_children(
        State(state): State<AppState>,
        Path(item): Path<String>,
        Query(query): Query<ListQuery>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        list_children(&state, &caller, DriveRef::Me, &item, &query, &headers).await
    }

    pub async fn me_root_children(
        State(state): State<AppState>,
        Query(query): Query<ListQuery>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        list_children(&state, &caller, DriveRef::Me, "root", &query, &headers).await
    }

    pub async fn drive_content(
        State(state): State<AppState>,
        Path((drive, item)): Path<(String, String)>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        content(&state, &caller, DriveRef::Id(&drive), &item, &headers)
    }

    pub async fn me_content(
        State(state): State<AppState>,
        Path(item): Path<String>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        content(&state, &caller, DriveRef::Me, &item, &headers)
    }

    pub async fn me_path(
        State(state): State<AppState>,
        Path(rest): Path<String>,
        Query(query): Query<ListQuery>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        by_path(
            &state,
            &caller,
            DriveRef::Me,
            "root",
            &rest,
            &query,
            &headers,
        )
        .await
    }

    pub async fn drive_path(
        State(state): State<AppState>,
        Path((drive, rest)): Path<(String, String)>,
        Query(query): Query<ListQuery>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        by_path(
            &state,
            &caller,
            DriveRef::Id(&drive),
            "root",
            &rest,
            &query,
            &headers,
        )
        .await
    }

    pub async fn site_path(
        State(state): State<AppState>,
        Path((site, rest)): Path<(String, String)>,
        Query(query): Query<ListQuery>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        by_path(
            &state,
            &caller,
            DriveRef::Site(&site),
            "root",
            &rest,
            &query,
            &headers,
        )
        .await
    }

    pub async fn site_item(
        State(state): State<AppState>,
        Path((site, item)): Path<(String, String)>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        get_item(&state, &caller, DriveRef::Site(&site), &item, &headers).await
    }

    pub async fn site_children(
        State(state): State<AppState>,
        Path((site, item)): Path<(String, String)>,
        Query(query): Query<ListQuery>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        list_children(
            &state,
            &caller,
            DriveRef::Site(&site),
            &item,
            &query,
            &headers,
        )
        .await
    }

    pub async fn site_content(
        State(state): State<AppState>,
        Path((site, item)): Path<(String, String)>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        content(&state, &caller, DriveRef::Site(&site), &item, &headers)
    }
}
