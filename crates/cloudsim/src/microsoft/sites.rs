//! `/me`, drives (`/me/drive`, `/me/drives`, `/drives/{id}`) and SharePoint
//! sites (`/sites?search=`, `/sites/{id}`, `/sites/{id}/drives`,
//! `/sites/{id}/drive`).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;

use super::error::{GraphError, json_response};
use super::items::{drive_owner, drive_type, timestamp};
use super::model::{Collection, Drive, Quota, Site, SiteCollection, User};
use super::{Caller, DriveRef, caller, resolve_drive};
use crate::AppState;
use crate::world::{self, World};

const SP_HOST: &str = "contoso.sharepoint.com";

/// The caller as a Graph `user`.
fn user(world: &World, caller: &Caller) -> Result<User, GraphError> {
    let account = world
        .account(&caller.account)
        .ok_or_else(GraphError::item_not_found)?;
    let name = account.display_name.trim();
    let (given, surname) = name.split_once(' ').unwrap_or((name, ""));
    Ok(User {
        context: "https://graph.microsoft.com/v1.0/$metadata#users/$entity".into(),
        business_phones: Vec::new(),
        display_name: name.to_string(),
        given_name: given.to_string(),
        job_title: None,
        mail: account.email.clone(),
        mobile_phone: None,
        office_location: None,
        preferred_language: "en-US".into(),
        surname: surname.to_string(),
        user_principal_name: account.email.clone(),
        id: account.id.clone(),
    })
}

/// A world drive as a Graph `drive`.
pub fn drive_json(world: &World, drive: &world::Drive) -> Drive {
    let used: u64 = world
        .subtree(&drive.root_id)
        .iter()
        .filter_map(|id| world.item(id))
        .filter(|i| i.is_file())
        .map(|i| i.size())
        .sum();
    let total = 1u64 << 40;
    let modified = world
        .item(&drive.root_id)
        .map(|r| r.modified)
        .unwrap_or(drive.created);
    let web_url = match &drive.kind {
        world::DriveKind::SharePoint { site_id } => {
            let name = world
                .site(site_id)
                .map(|s| s.name.clone())
                .unwrap_or_default();
            // The default library's URL name is "Shared Documents"
            // whatever its display name ("Documents").
            let library = if world.site(site_id).is_some_and(|s| s.drive_id == drive.id) {
                "Shared%20Documents".to_string()
            } else {
                url_name(&drive.name)
            };
            format!("https://{SP_HOST}/sites/{}/{library}", url_name(&name))
        }
        _ => format!(
            "https://contoso-my.sharepoint.com/personal/{}/Documents",
            drive.id
        ),
    };
    Drive {
        id: drive.id.clone(),
        drive_type: drive_type(drive),
        name: drive.name.clone(),
        description: String::new(),
        web_url,
        created_date_time: timestamp(drive.created),
        last_modified_date_time: timestamp(modified),
        created_by: drive_owner(world, drive),
        owner: drive_owner(world, drive),
        quota: Quota {
            deleted: 0,
            remaining: total.saturating_sub(used),
            state: "normal",
            total,
            used,
        },
    }
}

fn url_name(name: &str) -> String {
    name.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

fn site_json(site: &world::Site) -> Site {
    Site {
        id: site.id.clone(),
        name: url_name(&site.name),
        display_name: site.name.clone(),
        description: String::new(),
        created_date_time: timestamp(site.created),
        last_modified_date_time: timestamp(site.created),
        web_url: format!("https://{SP_HOST}/sites/{}", url_name(&site.name)),
        site_collection: SiteCollection {
            hostname: SP_HOST.into(),
        },
    }
}

fn visible_site<'w>(
    world: &'w World,
    caller: &Caller,
    id: &str,
) -> Result<&'w world::Site, GraphError> {
    world
        .site(id)
        .filter(|s| s.members.contains(&caller.account))
        .ok_or_else(GraphError::item_not_found)
}

/// `GET /me` (and `/users/me-token-to-replace`, `/users/{own id}`).
pub async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, GraphError> {
    let caller = caller(&state, &headers)?;
    let body = state.read(|w| user(w, &caller))?;
    Ok(json_response(StatusCode::OK, &body))
}

/// `GET /users/{userId}`: only the caller itself is visible.
pub async fn user_by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let caller = caller(&state, &headers)?;
    if id != "me-token-to-replace" && id != caller.account {
        let email = state.read(|w| w.account(&caller.account).map(|a| a.email.clone()));
        if email
            .as_deref()
            .is_none_or(|e| !e.eq_ignore_ascii_case(&id))
        {
            return Err(GraphError::new(
                StatusCode::NOT_FOUND,
                "Request_ResourceNotFound",
                format!(
                    "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
                ),
            ));
        }
    }
    let body = state.read(|w| user(w, &caller))?;
    Ok(json_response(StatusCode::OK, &body))
}

fn drive_answer(
    state: &AppState,
    caller: &Caller,
    drive: DriveRef<'_>,
) -> Result<Response, GraphError> {
    let body = state.read(|w| {
        let id = resolve_drive(w, caller, drive)?;
        let drive = w.drive(&id).ok_or_else(GraphError::item_not_found)?;
        let mut value = serde_json::to_value(drive_json(w, drive))
            .map_err(|e| GraphError::invalid_request(e.to_string()))?;
        value["@odata.context"] =
            serde_json::json!("https://graph.microsoft.com/v1.0/$metadata#drives/$entity");
        Ok::<_, GraphError>(value)
    })?;
    Ok(json_response(StatusCode::OK, &body))
}

/// `GET /me/drive`.
pub async fn me_drive(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let caller = caller(&state, &headers)?;
    drive_answer(&state, &caller, DriveRef::Me)
}

/// `GET /drives/{driveId}`.
pub async fn drive(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let caller = caller(&state, &headers)?;
    drive_answer(&state, &caller, DriveRef::Id(&id))
}

/// `GET /sites/{siteId}/drive`.
pub async fn site_drive(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let caller = caller(&state, &headers)?;
    drive_answer(&state, &caller, DriveRef::Site(&id))
}

/// `GET /me/drives`: the caller's own drive and the libraries it can read.
pub async fn me_drives(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let caller = caller(&state, &headers)?;
    let value = state.read(|w| {
        w.drives_of(&caller.account)
            .into_iter()
            .filter(|d| d.provider == world::Provider::Microsoft)
            .map(|d| drive_json(w, d))
            .collect()
    });
    Ok(json_response(
        StatusCode::OK,
        &Collection {
            context: "https://graph.microsoft.com/v1.0/$metadata#drives".into(),
            value,
            next_link: None,
        },
    ))
}

/// `GET /sites/{siteId}/drives`.
pub async fn site_drives(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let caller = caller(&state, &headers)?;
    let value = state.read(|w| {
        let site = visible_site(w, &caller, &id)?;
        let libraries = w.site_libraries(&site.id);
        Ok::<_, GraphError>(libraries.into_iter().map(|d| drive_json(w, d)).collect())
    })?;
    Ok(json_response(
        StatusCode::OK,
        &Collection {
            context: "https://graph.microsoft.com/v1.0/$metadata#drives".into(),
            value,
            next_link: None,
        },
    ))
}

/// `GET /sites/{siteId}`.
pub async fn site(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let caller = caller(&state, &headers)?;
    let body = state.read(|w| visible_site(w, &caller, &id).map(site_json))?;
    Ok(json_response(StatusCode::OK, &body))
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    search: Option<String>,
}

/// `GET /sites?search=`: sites the caller belongs to whose name contains
/// the text (case-insensitive; `*` or empty matches all).
pub async fn search(
    State(state): State<AppState>,
    Query(query): Query<SearchQuery>,
    headers: HeaderMap,
) -> Result<Response, GraphError> {
    let caller = caller(&state, &headers)?;
    let Some(text) = query.search else {
        return Err(GraphError::invalid_request(
            "Listing sites requires the search query parameter.",
        ));
    };
    let needle = text.trim().trim_matches('"').to_lowercase();
    let value = state.read(|w| {
        let mut sites: Vec<Site> = w
            .sites
            .values()
            .filter(|s| s.members.contains(&caller.account))
            .filter(|s| {
                needle.is_empty() || needle == "*" || s.name.to_lowercase().contains(&needle)
            })
            .map(site_json)
            .collect();
        sites.sort_by(|a, b| a.created_date_time.cmp(&b.created_date_time));
        sites
    });
    Ok(json_response(
        StatusCode::OK,
        &Collection {
            context: "https://graph.microsoft.com/v1.0/$metadata#sites".into(),
            value,
            next_link: None,
        },
    ))
}
