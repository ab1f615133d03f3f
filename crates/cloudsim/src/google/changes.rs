//! `changes.getStartPageToken`, `changes.list`, `drives.list`, `drives.get`.
//!
//! A page token is the decimal feed position (see `world.rs`): the start
//! token is the current position, `nextPageToken` the last change of a full
//! page, `newStartPageToken` (last page only) the position after it.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use base64::Engine;
use http::HeaderMap;
use serde_json::{Value, json};

use super::error::GoogleError;
use super::fields::Fields;
use super::files::{fields_param, md5s, ok_json};
use super::model::{self, Extras};
use super::{Params, caller, flag, my_drive, page_size, shared_drives, visible_drive};
use crate::AppState;
use crate::world::{DriveId, DriveKind, ItemId, World};

type Result<T> = std::result::Result<T, GoogleError>;

/// The drives a change call covers.
fn change_drives(w: &World, account: &str, p: &Params) -> Result<Vec<DriveId>> {
    let supports = flag(p, "supportsAllDrives")? || flag(p, "supportsTeamDrives")?;
    let include = flag(p, "includeItemsFromAllDrives")? || flag(p, "includeTeamDriveItems")?;
    if let Some(id) = p.get("driveId").or_else(|| p.get("teamDriveId")) {
        if !supports {
            return Err(GoogleError::invalid_parameter(
                "supportsAllDrives",
                "The supportsAllDrives parameter must be set to true when driveId is specified.",
            ));
        }
        if !visible_drive(w, account, id, true) {
            return Err(GoogleError::drive_not_found(id));
        }
        return Ok(vec![id.clone()]);
    }
    let mut drives: Vec<DriveId> = my_drive(w, account).into_iter().collect();
    if include && supports && !flag(p, "restrictToMyDrive")? {
        drives.extend(shared_drives(w, account));
    }
    Ok(drives)
}

/// `GET /drive/v3/changes/startPageToken`.
pub async fn start_page_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> Result<Response> {
    let account = caller(&state, &headers)?;
    let token = state.read(|w| {
        change_drives(w, &account, &p)?;
        Ok::<_, GoogleError>(w.current_seq())
    })?;
    let fields = fields_param(&p, "*")?;
    Ok(ok_json(&fields.apply(json!({
        "kind": "drive#startPageToken",
        "startPageToken": token.to_string(),
    }))))
}

/// `GET /drive/v3/changes?pageToken=...`.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> Result<Response> {
    let account = caller(&state, &headers)?;
    let raw = p
        .get("pageToken")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| GoogleError::required("pageToken"))?;
    let after: u64 = raw
        .parse()
        .map_err(|_| GoogleError::invalid_parameter("pageToken", "Invalid Value"))?;
    let fields = fields_param(
        &p,
        "kind,nextPageToken,newStartPageToken,changes(kind,type,changeType,time,removed,fileId,driveId,file(kind,id,name,mimeType))",
    )?;
    let size = page_size(&p, 100, state.settings().google_max_page_size)?;
    let include_removed = p.get("includeRemoved").map(String::as_str) != Some("false");
    let page = state.read(|w| {
        let drives = change_drives(w, &account, &p)?;
        if after > w.current_seq() {
            return Err(GoogleError::invalid_parameter("pageToken", "Invalid Value"));
        }
        w.changes_since(&drives, after, size)
            .map_err(|_| GoogleError::invalid_parameter("pageToken", "Invalid Value"))
    })?;
    let ids: Vec<ItemId> = page.entries.iter().map(|e| e.item_id.clone()).collect();
    let md5 = md5s(
        &state,
        &ids,
        fields.wants(&["changes", "file", "md5Checksum"]),
    )
    .await;
    let base_url = state.base_url(&headers);
    let nothing = Fields::nothing();
    let wanted = fields
        .sub("changes")
        .and_then(|c| c.sub("file"))
        .unwrap_or(&nothing);
    let changes: Vec<Value> = state.read(|w| {
        page.entries
            .iter()
            .filter_map(|e| {
                let item = w.item(&e.item_id)?;
                let shared = w
                    .drive(&item.drive_id)
                    .is_some_and(|d| d.kind == DriveKind::SharedDrive);
                let mut c = json!({
                    "kind": "drive#change",
                    "type": "file",
                    "changeType": "file",
                    "time": model::time(e.time),
                    "removed": item.deleted,
                    "fileId": item.id,
                });
                if shared {
                    c["driveId"] = json!(item.drive_id);
                }
                if item.deleted {
                    return include_removed.then_some(c);
                }
                let extras = Extras {
                    md5: md5.get(&item.id).cloned(),
                    base_url: base_url.clone(),
                };
                c["file"] = model::file(w, item, &account, &extras, wanted);
                Some(c)
            })
            .collect()
    });
    let mut body = json!({"kind": "drive#changeList", "changes": changes});
    if page.more {
        body["nextPageToken"] = json!(page.next.to_string());
    } else {
        body["newStartPageToken"] = json!(page.next.to_string());
    }
    Ok(ok_json(&fields.apply(body)))
}

/// `GET /drive/v3/drives`: the shared drives the caller is a member of.
pub async fn drives_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> Result<Response> {
    let account = caller(&state, &headers)?;
    let fields = fields_param(&p, "kind,nextPageToken,drives(kind,id,name)")?;
    let size = match p.get("pageSize") {
        None => 10,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                return Err(GoogleError::invalid_parameter(
                    "pageSize",
                    format!("Invalid value '{raw}'. Values must be within the range: [1, 100]"),
                ));
            }
        },
    };
    let offset = match p.get("pageToken") {
        Some(t) if !t.is_empty() => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("d:").and_then(|n| n.parse::<usize>().ok()))
            .ok_or_else(|| GoogleError::invalid_parameter("pageToken", "Invalid Value"))?,
        _ => 0,
    };
    let (drives, more) = state.read(|w| {
        let all: Vec<Value> = shared_drives(w, &account)
            .iter()
            .filter_map(|id| w.drive(id))
            .map(model::drive)
            .collect();
        let more = all.len() > offset + size;
        (
            all.into_iter().skip(offset).take(size).collect::<Vec<_>>(),
            more,
        )
    });
    let mut body = json!({"kind": "drive#driveList", "drives": drives});
    if more {
        body["nextPageToken"] = json!(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("d:{}", offset + size))
        );
    }
    Ok(ok_json(&fields.apply(body)))
}

/// `GET /drive/v3/drives/{driveId}`.
pub async fn drives_get(
    State(state): State<AppState>,
    Path(drive_id): Path<String>,
    headers: HeaderMap,
    Query(p): Query<Params>,
) -> Result<Response> {
    let account = caller(&state, &headers)?;
    let fields = fields_param(&p, "kind,id,name")?;
    let value = state.read(|w| {
        w.drive(&drive_id)
            .filter(|d| d.kind == DriveKind::SharedDrive && w.can_access(&account, &d.id))
            .map(model::drive)
    });
    let value = value.ok_or_else(|| GoogleError::drive_not_found(&drive_id))?;
    Ok(ok_json(&fields.apply(value)))
}
