//! `driveItem: delta` (`WIRE.md`, Graph).
//!
//! Accepted forms: `.../root/delta`, `delta()`, `delta(token='X')`,
//! `delta?token=X`, on `/me/drive/root`, `/drives/{id}/root`,
//! `/drives/{id}/items/{itemId}` and `/sites/{id}/drive/root`.
//!
//! A token is base64url of a small JSON [`Token`]: the drive, the folder
//! whose subtree is enumerated, `$top`, and a phase. Without a token the
//! whole subtree is enumerated (folder first, then by depth and id) as of
//! the change-log position taken at the first page; pages carry an absolute
//! `@odata.nextLink`. The last page carries `@odata.deltaLink` at that
//! position, so whatever changed meanwhile comes in the next round. A
//! later round lists each changed item once with its latest state;
//! deleted items carry the `deleted` facet. `token=latest` answers no
//! items and a deltaLink at the current position. A position the drive's
//! log no longer serves answers 410 `resyncRequired` with a `Location`
//! that starts over.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use base64::Engine as _;
use http::{HeaderMap, StatusCode, Uri};
use serde::{Deserialize, Serialize};

use super::error::{GraphError, json_response};
use super::items::{self, ItemHashes, ListQuery, Render, drive_item, find_item};
use super::model::DeltaPage;
use super::{Caller, DriveRef, caller, resolve_drive};
use crate::AppState;
use crate::listing_rows::{ListingRows, Row, RowsKey};
use crate::world::{DriveId, ItemId, World};

/// Items per page without `$top`.
const DEFAULT_TOP: usize = 200;
const MAX_TOP: usize = 2000;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Token {
    /// Drive.
    d: DriveId,
    /// Folder whose subtree is enumerated.
    f: ItemId,
    /// Page size.
    t: usize,
    p: Phase,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Phase {
    /// First enumeration as of position `snap`, after sort key `after`.
    L {
        snap: u64,
        after: Option<(u32, ItemId)>,
    },
    /// Changes after position `pos`.
    C { pos: u64 },
}

impl Token {
    fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    fn decode(text: &str) -> Result<Token, GraphError> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| GraphError::invalid_request("Invalid delta token."))
    }
}

/// The query of a delta request.
#[derive(Debug, Default, Deserialize)]
pub struct DeltaQuery {
    token: Option<String>,
    #[serde(rename = "$top")]
    top: Option<usize>,
}

/// Parses the function segment: `delta`, `delta()`, `delta(token='X')`,
/// `delta(token=X)`. Outer None: not a delta call; inner: the token.
pub fn parse_function(segment: &str) -> Option<Option<String>> {
    let rest = segment.strip_prefix("delta")?;
    if rest.is_empty() || rest == "()" {
        return Some(None);
    }
    let inner = rest.strip_prefix('(')?.strip_suffix(')')?;
    let value = inner.strip_prefix("token=")?;
    let value = value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .unwrap_or(value);
    Some(Some(value.to_string()))
}

fn delta_url(base: &str, token: &Token, root_id: &str) -> String {
    let scope = if token.f == root_id {
        "root".to_string()
    } else {
        format!("items/{}", token.f)
    };
    format!(
        "{base}/v1.0/drives/{}/{scope}/delta?token={}",
        token.d,
        token.encode()
    )
}

fn fresh_url(base: &str, drive: &str, folder: &str, root_id: &str) -> String {
    let scope = if folder == root_id {
        "root".to_string()
    } else {
        format!("items/{folder}")
    };
    format!("{base}/v1.0/drives/{drive}/{scope}/delta")
}

/// Serves one delta request on `item` ("root" or an id) of `drive`.
async fn delta(
    state: &AppState,
    caller: &Caller,
    drive: DriveRef<'_>,
    item: &str,
    function: Option<String>,
    query: DeltaQuery,
    headers: &HeaderMap,
) -> Result<Response, GraphError> {
    let base = state.base_url(headers);
    let token_text = query.token.or(function);
    let planned = state.read(|w| {
        let drive_id = resolve_drive(w, caller, drive)?;
        let folder = find_item(w, &drive_id, item)?;
        if !folder.is_folder() {
            return Err(GraphError::invalid_request(
                "Delta is only supported on folders.",
            ));
        }
        let root_id = w
            .drive(&drive_id)
            .map(|d| d.root_id.clone())
            .unwrap_or_default();
        let fresh = fresh_url(&base, &drive_id, &folder.id, &root_id);
        let start = Token {
            d: drive_id.clone(),
            f: folder.id.clone(),
            t: query.top.unwrap_or(DEFAULT_TOP).clamp(1, MAX_TOP),
            p: Phase::L {
                snap: w.current_seq(),
                after: None,
            },
        };
        let token = match token_text.as_deref() {
            None => start,
            Some("latest") => Token {
                p: Phase::C {
                    pos: w.current_seq(),
                },
                ..start
            },
            Some(text) => {
                let mut token = Token::decode(text)?;
                if token.d != drive_id || token.f != folder.id {
                    return Err(GraphError::invalid_request(
                        "The delta token does not belong to this item.",
                    ));
                }
                if let Some(top) = query.top {
                    token.t = top.clamp(1, MAX_TOP);
                }
                token
            }
        };
        let latest_only = token_text.as_deref() == Some("latest");
        plan(w, &state.shared().listing_rows, token, latest_only, &fresh).map(|p| (p, root_id))
    })?;
    let (planned, root_id) = planned;
    let hashes = ItemHashes::of(state, &planned.ids).await;
    let how = Render {
        delta: true,
        download: None,
    };
    let value = state.read(|w| {
        planned
            .ids
            .iter()
            .filter_map(|id| w.item(id))
            .map(|i| drive_item(w, i, &hashes, &how))
            .collect()
    });
    let link = delta_url(&base, &planned.next, &root_id);
    let (next_link, delta_link) = if planned.more {
        (Some(link), None)
    } else {
        (None, Some(link))
    };
    Ok(json_response(
        StatusCode::OK,
        &DeltaPage {
            context: "https://graph.microsoft.com/v1.0/$metadata#Collection(driveItem)".into(),
            value,
            next_link,
            delta_link,
        },
    ))
}

struct Planned {
    ids: Vec<ItemId>,
    next: Token,
    more: bool,
}

fn plan(
    world: &World,
    cache: &ListingRows,
    token: Token,
    latest_only: bool,
    fresh: &str,
) -> Result<Planned, GraphError> {
    let floor = world.drive(&token.d).map(|d| d.cursor_floor).unwrap_or(0);
    match token.p.clone() {
        Phase::C { pos } if latest_only => Ok(Planned {
            ids: Vec::new(),
            next: Token {
                p: Phase::C { pos },
                ..token
            },
            more: false,
        }),
        Phase::L { snap, .. } if snap < floor => Err(GraphError::resync(fresh.to_string())),
        Phase::L { snap, after } => Ok(plan_listing(world, cache, token, snap, after)),
        Phase::C { pos } => plan_changes(world, token, pos, fresh),
    }
}

/// The folder and its live subtree, sorted by (depth, id).
fn rows(world: &World, folder: &str) -> Vec<Row> {
    let mut rows = vec![(0, folder.to_string())];
    let mut frontier = vec![folder.to_string()];
    let mut depth = 0;
    while !frontier.is_empty() {
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
    rows.sort();
    rows
}

fn plan_listing(
    world: &World,
    cache: &ListingRows,
    token: Token,
    snap: u64,
    after: Option<Row>,
) -> Planned {
    let key = RowsKey {
        api: "graph-delta",
        folder: token.f.clone(),
        snap,
        recursive: true,
        include_deleted: false,
    };
    let rows = cache.get_or_build(key, || rows(world, &token.f));
    let start = after
        .as_ref()
        .map_or(0, |key| rows.partition_point(|row| row <= key));
    let end = (start + token.t).min(rows.len());
    let more = end < rows.len();
    let next = match (more, rows[start..end].last()) {
        (true, Some(last)) => Phase::L {
            snap,
            after: Some(last.clone()),
        },
        _ => Phase::C { pos: snap },
    };
    Planned {
        ids: rows[start..end].iter().map(|(_, id)| id.clone()).collect(),
        next: Token { p: next, ..token },
        more,
    }
}

fn plan_changes(world: &World, token: Token, pos: u64, fresh: &str) -> Result<Planned, GraphError> {
    let page = world
        .changes_since(std::slice::from_ref(&token.d), pos, token.t)
        .map_err(|_| GraphError::resync(fresh.to_string()))?;
    let ids = page
        .entries
        .iter()
        .filter(|e| world.is_within(&e.item_id, &token.f))
        .map(|e| e.item_id.clone())
        .collect();
    Ok(Planned {
        ids,
        next: Token {
            p: Phase::C { pos: page.next },
            ..token
        },
        more: page.more,
    })
}

/// Route handlers.
pub mod routes {
    use super::*;

    fn function(segment: &str) -> Result<Option<String>, GraphError> {
        parse_function(segment).ok_or_else(|| {
            GraphError::new(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                format!("Resource not found for the segment '{segment}'."),
            )
        })
    }

    /// `/me/drive/root/{function}`.
    pub async fn me(
        State(state): State<AppState>,
        Path(segment): Path<String>,
        Query(query): Query<DeltaQuery>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        let f = function(&segment)?;
        delta(&state, &caller, DriveRef::Me, "root", f, query, &headers).await
    }

    /// `/drives/{driveId}/root/{function}`.
    pub async fn drive_root(
        State(state): State<AppState>,
        Path((drive, segment)): Path<(String, String)>,
        Query(query): Query<DeltaQuery>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        let f = function(&segment)?;
        delta(
            &state,
            &caller,
            DriveRef::Id(&drive),
            "root",
            f,
            query,
            &headers,
        )
        .await
    }

    /// `.../items/{itemId}/{*rest}`: an item-relative path
    /// (`items/{id}:/a/b.txt:`, `:/children`, `:/content`), or a function
    /// of the item (`delta`).
    async fn item_subpath(
        state: &AppState,
        headers: &HeaderMap,
        drive: DriveRef<'_>,
        item: &str,
        rest: &str,
        raw_query: Option<&str>,
    ) -> Result<Response, GraphError> {
        let caller = caller(state, headers)?;
        let parse = |what: &str| GraphError::invalid_request(format!("Invalid {what} query."));
        if let Some(base) = item.strip_suffix(':') {
            let list: ListQuery = serde_urlencoded::from_str(raw_query.unwrap_or(""))
                .map_err(|_| parse("listing"))?;
            let rest = rest.strip_prefix('/').unwrap_or(rest);
            return items::by_path(state, &caller, drive, base, rest, &list, headers).await;
        }
        let query: DeltaQuery =
            serde_urlencoded::from_str(raw_query.unwrap_or("")).map_err(|_| parse("delta"))?;
        let f = function(rest)?;
        delta(state, &caller, drive, item, f, query, headers).await
    }

    /// `/drives/{driveId}/items/{itemId}/{*rest}`.
    pub async fn drive_item(
        State(state): State<AppState>,
        Path((drive, item, rest)): Path<(String, String, String)>,
        uri: Uri,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let drive = DriveRef::Id(&drive);
        item_subpath(&state, &headers, drive, &item, &rest, uri.query()).await
    }

    /// `/me/drive/items/{itemId}/{*rest}`.
    pub async fn me_item(
        State(state): State<AppState>,
        Path((item, rest)): Path<(String, String)>,
        uri: Uri,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        item_subpath(&state, &headers, DriveRef::Me, &item, &rest, uri.query()).await
    }

    /// `/sites/{siteId}/drive/items/{itemId}/{*rest}`.
    pub async fn site_item(
        State(state): State<AppState>,
        Path((site, item, rest)): Path<(String, String, String)>,
        uri: Uri,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let drive = DriveRef::Site(&site);
        item_subpath(&state, &headers, drive, &item, &rest, uri.query()).await
    }

    /// `/sites/{siteId}/drive/root/{function}`.
    pub async fn site(
        State(state): State<AppState>,
        Path((site, segment)): Path<(String, String)>,
        Query(query): Query<DeltaQuery>,
        headers: HeaderMap,
    ) -> Result<Response, GraphError> {
        let caller = caller(&state, &headers)?;
        let f = function(&segment)?;
        delta(
            &state,
            &caller,
            DriveRef::Site(&site),
            "root",
            f,
            query,
            &headers,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_forms() {
        assert_eq!(parse_function("delta"), Some(None));
        assert_eq!(parse_function("delta()"), Some(None));
        assert_eq!(
            parse_function("delta(token='abc')"),
            Some(Some("abc".into()))
        );
        assert_eq!(parse_function("delta(token=abc)"), Some(Some("abc".into())));
        assert_eq!(parse_function("children"), None);
    }

    #[test]
    fn tokens_round_trip() {
        let t = Token {
            d: "b!x".into(),
            f: "01A".into(),
            t: 5,
            p: Phase::C { pos: 9 },
        };
        let back = Token::decode(&t.encode()).unwrap();
        assert!(matches!(back.p, Phase::C { pos: 9 }));
        assert!(Token::decode("garbage!").is_err());
    }
}
