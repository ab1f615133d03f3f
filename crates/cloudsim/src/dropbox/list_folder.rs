//! `files/list_folder`, `/continue` and `/get_latest_cursor`.
//!
//! A cursor is opaque to clients: base64url of a small JSON [`Cursor`]
//! naming the drive, the listed folder, the options and a phase. In the
//! listing phase it holds the change-log position taken when the listing
//! began and the sort key of the last entry sent (entries go out ordered
//! by depth then id, so parents precede children). When the listing is
//! done the cursor moves to the changes phase at that position, so
//! anything that changed while pages were fetched is reported after.
//! A position the drive's change log can no longer serve gives 409 `reset`.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;
use base64::Engine as _;
use bytes::Bytes;
use http::HeaderMap;
use serde::{Deserialize, Serialize};

use super::error::DbxError;
use super::metadata::{self, HASH_KEY};
use super::model::{
    LatestCursorResult, ListFolderArg, ListFolderContinueArg, ListFolderResult, Metadata,
};
use super::rpc::{self, Caller};
use crate::AppState;
use crate::hashes;
use crate::listing_rows::{ListingRows, Row, RowsKey};
use crate::world::{DriveId, ItemId, World};

const LIST: &str = "files/list_folder";
const CONTINUE: &str = "files/list_folder/continue";
const LATEST: &str = "files/list_folder/get_latest_cursor";
const LONGPOLL: &str = "files/list_folder/longpoll";

/// Entries per page when the client names no limit.
const DEFAULT_LIMIT: u32 = 2000;
const MAX_LIMIT: u32 = 2000;

/// What a cursor encodes.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cursor {
    /// Drive (namespace).
    d: DriveId,
    /// Folder listed.
    f: ItemId,
    /// Recursive.
    r: bool,
    /// Include deleted entries in the first listing.
    x: bool,
    /// Page size.
    l: u32,
    p: Phase,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Phase {
    /// Listing the folder as of change-log position `snap`, after `after`.
    L {
        snap: u64,
        after: Option<(u32, ItemId)>,
    },
    /// Reporting changes after position `pos`.
    C { pos: u64 },
}

impl Cursor {
    fn encode(&self) -> Result<String, DbxError> {
        let json = serde_json::to_vec(self).map_err(anyhow::Error::from)?;
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
    }

    fn decode(route: &'static str, text: &str) -> Result<Cursor, DbxError> {
        let invalid =
            || DbxError::bad_input(route, "request body: cursor: Invalid \"cursor\" parameter");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| invalid())?;
        serde_json::from_slice(&bytes).map_err(|_| invalid())
    }
}

fn check_limit(route: &'static str, limit: Option<u32>) -> Result<u32, DbxError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(l) if (1..=MAX_LIMIT).contains(&l) => Ok(l),
        Some(l) => Err(DbxError::bad_input(
            route,
            format!("request body: limit: {l} is not within range [1, {MAX_LIMIT}]"),
        )),
    }
}

/// Resolves the folder of a list_folder-style argument to a fresh cursor.
fn start_cursor(
    world: &World,
    caller: &Caller,
    route: &'static str,
    arg: &ListFolderArg,
    changes_only: bool,
) -> Result<Cursor, DbxError> {
    metadata::check_path_syntax(route, &arg.path)?;
    let limit = check_limit(route, arg.limit)?;
    let folder =
        metadata::lookup(world, &caller.drive, &arg.path).map_err(DbxError::path_lookup)?;
    if !folder.is_folder() {
        return Err(DbxError::path_lookup("not_folder"));
    }
    let pos = world.current_seq();
    Ok(Cursor {
        d: caller.drive.clone(),
        f: folder.id.clone(),
        r: arg.recursive,
        x: arg.include_deleted,
        l: limit,
        p: if changes_only {
            Phase::C { pos }
        } else {
            Phase::L {
                snap: pos,
                after: None,
            }
        },
    })
}

/// `POST /2/files/list_folder`.
pub async fn list_folder(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, DbxError> {
    let caller = rpc::caller(&state, &headers, LIST)?;
    let arg: ListFolderArg = rpc::json_arg(LIST, &headers, &body)?;
    let cursor = state.read(|w| start_cursor(w, &caller, LIST, &arg, false))?;
    let result = page(&state, cursor).await?;
    rpc::ok_json(&result)
}

/// `POST /2/files/list_folder/continue`.
pub async fn list_folder_continue(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, DbxError> {
    let caller = rpc::caller(&state, &headers, CONTINUE)?;
    let arg: ListFolderContinueArg = rpc::json_arg(CONTINUE, &headers, &body)?;
    let cursor = Cursor::decode(CONTINUE, &arg.cursor)?;
    if cursor.d != caller.drive {
        return Err(DbxError::bad_input(
            CONTINUE,
            "request body: cursor: Invalid \"cursor\" parameter",
        ));
    }
    let result = page(&state, cursor).await?;
    rpc::ok_json(&result)
}

/// `files.ListFolderLongpollArg`.
#[derive(Debug, Deserialize)]
pub struct LongpollArg {
    cursor: String,
    #[serde(default = "default_timeout")]
    timeout: u64,
}

fn default_timeout() -> u64 {
    30
}

/// `files.ListFolderLongpollResult`.
#[derive(Debug, Serialize)]
struct LongpollResult {
    changes: bool,
}

/// `POST /2/files/list_folder/longpoll` (notify host, no authentication):
/// answers `{"changes": true}` as soon as something in the cursor's folder
/// changed after it, or `{"changes": false}` after `timeout` seconds
/// (30..=480).
pub async fn longpoll(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, DbxError> {
    let arg: LongpollArg = rpc::json_arg(LONGPOLL, &headers, &body)?;
    if !(30..=480).contains(&arg.timeout) {
        return Err(DbxError::bad_input(
            LONGPOLL,
            format!(
                "request body: timeout: {} is not within range [30, 480]",
                arg.timeout
            ),
        ));
    }
    let cursor = Cursor::decode(LONGPOLL, &arg.cursor)?;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(arg.timeout);
    loop {
        if state.read(|w| has_changes(w, &cursor))? {
            return rpc::ok_json(&LongpollResult { changes: true });
        }
        if tokio::time::Instant::now() >= deadline {
            return rpc::ok_json(&LongpollResult { changes: false });
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// True when `continue` with this cursor would return entries.
fn has_changes(world: &World, cursor: &Cursor) -> Result<bool, DbxError> {
    let folder_live = world.item(&cursor.f).is_some_and(|f| f.is_live());
    let Some(drive) = world.drive(&cursor.d).filter(|_| folder_live) else {
        return Err(DbxError::reset());
    };
    let pos = match cursor.p {
        Phase::L { snap, .. } if snap < drive.cursor_floor => return Err(DbxError::reset()),
        Phase::L { .. } => return Ok(true),
        Phase::C { pos } => pos,
    };
    let planned = plan_changes(world, cursor.clone(), pos)?;
    Ok(!planned.items.is_empty() || planned.has_more)
}

/// `POST /2/files/list_folder/get_latest_cursor`.
pub async fn get_latest_cursor(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, DbxError> {
    let caller = rpc::caller(&state, &headers, LATEST)?;
    let arg: ListFolderArg = rpc::json_arg(LATEST, &headers, &body)?;
    let cursor = state.read(|w| start_cursor(w, &caller, LATEST, &arg, true))?;
    rpc::ok_json(&LatestCursorResult {
        cursor: cursor.encode()?,
    })
}

/// One page of entries (items to show, in order) and the next cursor.
struct Planned {
    items: Vec<Planned1>,
    next: Cursor,
    has_more: bool,
}

enum Planned1 {
    Item(ItemId),
    DeletedPath(String),
}

async fn page(state: &AppState, cursor: Cursor) -> Result<ListFolderResult, DbxError> {
    let planned = state.read(|w| plan(w, &state.shared().listing_rows, cursor))?;
    let ids: Vec<ItemId> = planned
        .items
        .iter()
        .filter_map(|p| match p {
            Planned1::Item(id) => Some(id.clone()),
            Planned1::DeletedPath(_) => None,
        })
        .collect();
    let hashes = hashes::cached(state, &ids, HASH_KEY, hashes::dropbox_of).await;
    let entries = state.read(|w| render(w, &planned.items, &hashes));
    Ok(ListFolderResult {
        entries,
        cursor: planned.next.encode()?,
        has_more: planned.has_more,
    })
}

fn render(world: &World, planned: &[Planned1], hashes: &HashMap<ItemId, String>) -> Vec<Metadata> {
    planned
        .iter()
        .filter_map(|p| match p {
            Planned1::Item(id) => world
                .item(id)
                .map(|item| metadata::entry(world, item, hashes)),
            Planned1::DeletedPath(path) => Some(metadata::deleted_at(path)),
        })
        .collect()
}

fn plan(world: &World, cache: &ListingRows, cursor: Cursor) -> Result<Planned, DbxError> {
    let Some(drive) = world.drive(&cursor.d) else {
        return Err(DbxError::reset());
    };
    let folder_live = world
        .item(&cursor.f)
        .is_some_and(|f| f.is_live() && f.drive_id == drive.id);
    if !folder_live {
        return Err(DbxError::reset());
    }
    match cursor.p.clone() {
        Phase::L { snap, after } => {
            if snap < drive.cursor_floor {
                return Err(DbxError::reset());
            }
            Ok(plan_listing(world, cache, cursor, snap, after))
        }
        Phase::C { pos } => plan_changes(world, cursor, pos),
    }
}

/// Rows of the folder's listing, sorted by (depth, id).
fn listing_rows(world: &World, cursor: &Cursor) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut frontier = vec![cursor.f.clone()];
    let mut depth = 0u32;
    while !frontier.is_empty() && (depth == 0 || cursor.r) {
        depth += 1;
        let mut next = Vec::new();
        for parent in &frontier {
            for child in world.children(parent) {
                if world.item(child).is_some_and(|i| i.is_live()) {
                    rows.push((depth, child.clone()));
                    next.push(child.clone());
                }
            }
        }
        frontier = next;
    }
    if cursor.x {
        rows.extend(deleted_rows(world, cursor));
    }
    rows.sort();
    rows
}

/// Tombstones below the listed folder (for `include_deleted`).
fn deleted_rows(world: &World, cursor: &Cursor) -> Vec<Row> {
    world
        .items
        .values()
        .filter(|i| i.deleted && i.drive_id == cursor.d)
        .filter_map(|i| {
            let depth = depth_below(world, &i.id, &cursor.f)?;
            (cursor.r || depth == 1).then(|| (depth, i.id.clone()))
        })
        .collect()
}

/// How many levels `id` lies below `ancestor`, if it does.
fn depth_below(world: &World, id: &str, ancestor: &str) -> Option<u32> {
    let mut depth = 0;
    let mut current = world.item(id)?;
    while current.id != ancestor {
        depth += 1;
        current = world.item(current.parent_id.as_deref()?)?;
    }
    Some(depth)
}

fn plan_listing(
    world: &World,
    cache: &ListingRows,
    cursor: Cursor,
    snap: u64,
    after: Option<Row>,
) -> Planned {
    let key = RowsKey {
        api: "dropbox-list-folder",
        folder: cursor.f.clone(),
        snap,
        recursive: cursor.r,
        include_deleted: cursor.x,
    };
    let rows = cache.get_or_build(key, || listing_rows(world, &cursor));
    let start = match &after {
        Some(key) => rows.partition_point(|row| row <= key),
        None => 0,
    };
    let end = (start + cursor.l as usize).min(rows.len());
    let page = &rows[start..end];
    let has_more = end < rows.len();
    let next_phase = match (has_more, page.last()) {
        (true, Some(last)) => Phase::L {
            snap,
            after: Some(last.clone()),
        },
        _ => Phase::C { pos: snap },
    };
    Planned {
        items: page
            .iter()
            .map(|(_, id)| Planned1::Item(id.clone()))
            .collect(),
        next: Cursor {
            p: next_phase,
            ..cursor
        },
        has_more,
    }
}

fn plan_changes(world: &World, cursor: Cursor, pos: u64) -> Result<Planned, DbxError> {
    let page = world
        .changes_since(std::slice::from_ref(&cursor.d), pos, cursor.l as usize)
        .map_err(|_| DbxError::reset())?;
    let moves = first_moves(world, &cursor.d, pos, page.next);
    let scope = world.path_of(&cursor.f).to_lowercase();
    let mut items = Vec::new();
    for change in &page.entries {
        let Some(item) = world.item(&change.item_id) else {
            continue;
        };
        if item.id == cursor.f {
            continue;
        }
        let moved_from = moves.get(&item.id);
        // A move is a delete at the old path (children included) plus an add.
        if let Some(from) = moved_from
            && old_path_in_scope(&scope, from, cursor.r)
            && from.to_lowercase() != world.path_of(&item.id).to_lowercase()
        {
            items.push(Planned1::DeletedPath(from.clone()));
        }
        let Some(depth) = depth_below(world, &item.id, &cursor.f) else {
            continue;
        };
        if !cursor.r && depth != 1 {
            continue;
        }
        items.push(Planned1::Item(item.id.clone()));
        // A folder renamed or moved into view: its contents are new paths.
        if cursor.r && item.is_folder() && item.is_live() && moved_from.is_some() {
            items.extend(
                world
                    .subtree(&item.id)
                    .into_iter()
                    .skip(1)
                    .filter(|id| world.item(id).is_some_and(|i| i.is_live()))
                    .map(Planned1::Item),
            );
        }
    }
    Ok(Planned {
        items,
        next: Cursor {
            p: Phase::C { pos: page.next },
            ..cursor
        },
        has_more: page.more,
    })
}

/// For each item moved in `(after, until]`, its path before the first of
/// those moves: the path the cursor's holder knows it by.
fn first_moves(world: &World, drive: &str, after: u64, until: u64) -> HashMap<ItemId, String> {
    let mut out = HashMap::new();
    let Some(drive) = world.drive(drive) else {
        return out;
    };
    let start = drive.changes.partition_point(|c| c.seq <= after);
    for change in drive.changes[start..].iter().take_while(|c| c.seq <= until) {
        if let Some(from) = &change.moved_from {
            out.entry(change.item_id.clone())
                .or_insert_with(|| from.clone());
        }
    }
    out
}

/// True when `old` (a display path) lay in the listed folder `scope`
/// (lowercase, `""` for the root): below it, or directly in it when not
/// recursive.
fn old_path_in_scope(scope: &str, old: &str, recursive: bool) -> bool {
    let lower = old.to_lowercase();
    match lower
        .strip_prefix(scope)
        .and_then(|rest| rest.strip_prefix('/'))
    {
        Some(rest) if !rest.is_empty() => recursive || !rest.contains('/'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let c = Cursor {
            d: "1000001".into(),
            f: "id:x".into(),
            r: true,
            x: false,
            l: 10,
            p: Phase::L {
                snap: 4,
                after: Some((2, "id:y".into())),
            },
        };
        let back = Cursor::decode(CONTINUE, &c.encode().unwrap()).unwrap();
        assert_eq!(back.f, "id:x");
        assert!(matches!(back.p, Phase::L { snap: 4, .. }));
        assert!(Cursor::decode(CONTINUE, "not a cursor").is_err());
    }

    #[test]
    fn old_paths_in_scope() {
        assert!(old_path_in_scope("", "/A/b.txt", true));
        assert!(!old_path_in_scope("", "/A/b.txt", false));
        assert!(old_path_in_scope("/a", "/A/b.txt", false));
        assert!(!old_path_in_scope("/a", "/Ab/c.txt", true));
        assert!(!old_path_in_scope("/a", "/A", true));
    }
}
