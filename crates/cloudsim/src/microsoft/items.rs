//! driveItems: rendering world items as Graph JSON, and the item,
//! children and `/content` routes.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::json;

use super::download;
use super::error::{GraphError, json_response};
use super::model::{
    Collection, DeletedFacet, DriveItem, FileFacet, FileSystemInfo, FolderFacet, Hashes, Identity,
    IdentitySet, ItemReference,
};
use super::{Caller, DriveRef, caller, resolve_drive};
use crate::AppState;
use crate::hashes;
use crate::world::{Drive, DriveKind, Item, ItemId, World};

/// Cache keys of the hashes Graph publishes, in `Item::hashes`.
pub const QUICK_XOR: &str = "quickXor";
pub const SHA256: &str = "sha256";
pub const SHA1: &str = "sha1";

/// Largest `$top` of a listing.
const MAX_TOP: usize = 1000;
/// Children per page without `$top`.
const DEFAULT_TOP: usize = 200;

/// Characters escaped in `parentReference.path` and `webUrl`.
const PATH_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// Graph's timestamp format.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `driveType` of a drive.
pub fn drive_type(drive: &Drive) -> &'static str {
    match drive.kind {
        DriveKind::SharePoint { .. } => "documentLibrary",
        _ if drive.onedrive_personal => "personal",
        _ => "business",
    }
}

/// The owner shown in `createdBy`/`lastModifiedBy`/`owner`.
pub fn drive_owner(world: &World, drive: &Drive) -> IdentitySet {
    let account = drive.members.first().and_then(|m| world.account(m));
    IdentitySet {
        user: Identity {
            display_name: account.map(|a| a.display_name.clone()).unwrap_or_default(),
            email: account.map(|a| a.email.clone()),
            id: account.map(|a| a.id.clone()).unwrap_or_default(),
        },
    }
}

/// The hashes Graph publishes for files, by item id: quickXorHash on
/// every drive, with sha256Hash on business drives and SharePoint, and
/// sha1Hash on personal ones.
#[derive(Debug, Default)]
pub struct ItemHashes {
    quick_xor: HashMap<ItemId, String>,
    sha256: HashMap<ItemId, String>,
    sha1: HashMap<ItemId, String>,
}

impl ItemHashes {
    /// Hashes of `ids` (files only), computed over the bytes once and cached.
    pub async fn of(state: &AppState, ids: &[ItemId]) -> Self {
        let (personal, other): (Vec<ItemId>, Vec<ItemId>) = state.read(|w| {
            ids.iter().cloned().partition(|id| {
                w.item(id)
                    .and_then(|i| w.drive(&i.drive_id))
                    .is_some_and(|d| d.onedrive_personal)
            })
        });
        ItemHashes {
            quick_xor: hashes::cached(state, ids, QUICK_XOR, hashes::quick_xor_of).await,
            sha256: hashes::cached(state, &other, SHA256, hashes::sha256_of).await,
            sha1: hashes::cached(state, &personal, SHA1, hashes::sha1_of).await,
        }
    }

    fn facet(&self, id: &str) -> Hashes {
        Hashes {
            quick_xor_hash: self.quick_xor.get(id).cloned(),
            sha256_hash: self.sha256.get(id).map(|h| h.to_ascii_uppercase()),
            sha1_hash: self.sha1.get(id).map(|h| h.to_ascii_uppercase()),
        }
    }
}

/// How an item is rendered.
#[derive(Debug, Clone, Default)]
pub struct Render {
    /// Delta pages leave out `parentReference.path`.
    pub delta: bool,
    /// How to make `@microsoft.graph.downloadUrl` (None: left out).
    pub download: Option<download::DownloadLinks>,
}

/// Download links on the host the client reached us at.
pub fn download_links(state: &AppState, headers: &HeaderMap) -> download::DownloadLinks {
    download::DownloadLinks {
        base: state.base_url(headers),
        urls: state.shared().download_urls.clone(),
    }
}

fn percent_path(path: &str) -> String {
    utf8_percent_encode(path, PATH_ESCAPES).to_string()
}

/// A world item as a driveItem.
pub fn drive_item(world: &World, item: &Item, hashes: &ItemHashes, how: &Render) -> DriveItem {
    let drive = world.drive(&item.drive_id);
    let drive_type = drive.map(drive_type).unwrap_or("business");
    let site_id = drive.and_then(|d| match &d.kind {
        DriveKind::SharePoint { site_id } => Some(site_id.clone()),
        _ => None,
    });
    let parent_path = item.parent_id.as_ref().map(|p| {
        format!(
            "/drives/{}/root:{}",
            item.drive_id,
            percent_path(&world.path_of(p))
        )
    });
    let parent_reference = ItemReference {
        drive_id: item.drive_id.clone(),
        drive_type,
        id: item.parent_id.clone(),
        name: None,
        path: if how.delta { None } else { parent_path },
        site_id,
    };
    let owner = drive.map(|d| drive_owner(world, d));
    let is_root = item.parent_id.is_none();
    let mut out = DriveItem {
        id: item.id.clone(),
        name: Some(item.name.clone()),
        e_tag: format!("\"{{{}}},{}\"", item.id, item.version),
        c_tag: None,
        size: Some(item.size()),
        created_date_time: timestamp(item.created),
        last_modified_date_time: timestamp(item.modified),
        web_url: Some(format!(
            "https://contoso-my.sharepoint.com/personal/{}/Documents{}",
            item.drive_id,
            percent_path(&world.path_of(&item.id))
        )),
        created_by: owner.clone(),
        last_modified_by: owner,
        parent_reference: Some(parent_reference),
        file_system_info: Some(FileSystemInfo {
            created_date_time: timestamp(item.created),
            last_modified_date_time: timestamp(item.modified),
        }),
        file: None,
        folder: None,
        root: is_root.then(|| json!({})),
        deleted: None,
        download_url: None,
    };
    // OneDrive and Dropbox have no Drive-style trash: a trashed item is gone.
    if !item.is_live() {
        out.deleted = Some(DeletedFacet { state: "deleted" });
        out.size = None;
        out.web_url = None;
        if item.is_folder() {
            out.folder = Some(FolderFacet { child_count: 0 });
        } else {
            out.file = Some(FileFacet {
                mime_type: item.mime_type.clone(),
                hashes: None,
            });
        }
        return out;
    }
    if item.is_folder() {
        out.size = Some(folder_size(world, &item.id));
        out.folder = Some(FolderFacet {
            child_count: live_children(world, &item.id).count() as u64,
        });
        if is_root {
            out.parent_reference = Some(ItemReference {
                id: None,
                path: None,
                ..parent_reference_of_root(item, drive_type)
            });
        }
    } else {
        out.c_tag = Some(format!("\"c:{{{}}},{}\"", item.id, item.content_version));
        out.file = Some(FileFacet {
            mime_type: item.mime_type.clone(),
            hashes: Some(hashes.facet(&item.id)),
        });
        out.download_url = how.download.as_ref().map(|links| links.url(item));
    }
    out
}

fn parent_reference_of_root(item: &Item, drive_type: &'static str) -> ItemReference {
    ItemReference {
        drive_id: item.drive_id.clone(),
        drive_type,
        id: None,
        name: None,
        path: None,
        site_id: None,
    }
}

/// Live, untrashed children of a folder, in creation order.
pub fn live_children<'w>(world: &'w World, id: &str) -> impl Iterator<Item = &'w Item> + 'w {
    world
        .children(id)
        .iter()
        .filter_map(|c| world.item(c))
        .filter(|i| i.is_live())
}

/// Total bytes below a folder (Graph reports folder sizes).
fn folder_size(world: &World, id: &str) -> u64 {
    world
        .subtree(id)
        .iter()
        .filter_map(|i| world.item(i))
        .filter(|i| i.is_live() && i.is_file())
        .map(Item::size)
        .sum()
}

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
