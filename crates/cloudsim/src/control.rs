//! The control API under `/_sim/` (documented in the README; Folio's tests
//! and benchmarks rely on its routes and shapes). Errors answer
//! `{"error": "<what to fix>"}` with 400, 404 or 409.

use std::collections::BTreeMap;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::faults::FaultSpec;
use crate::oauth::Client;
use crate::world::{Provider, PutOptions, WorldError};
use crate::{AppState, Settings};

/// Largest body `PUT /_sim/.../files/...` accepts.
pub const MAX_UPLOAD: usize = 1 << 30;

/// Routes mounted under `/_sim`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/clients", post(add_client).get(list_clients))
        .route("/accounts", post(add_account).get(list_accounts))
        .route("/google/shared-drives", post(add_shared_drive))
        .route("/microsoft/sites", post(add_site))
        .route("/microsoft/sites/{site}/libraries", post(add_site_library))
        .route(
            "/faults",
            post(add_fault).get(list_faults).delete(clear_faults),
        )
        .route("/requests", get(requests).delete(reset_requests))
        .route("/settings", get(get_settings).patch(patch_settings))
        .route("/{provider}/tokens/expire", post(expire_tokens))
        .route("/{provider}/tokens/revoke", post(revoke_tokens))
        .route(
            "/{provider}/{drive}/files/{*path}",
            put(put_file).delete(delete_file).get(get_file),
        )
        .route("/{provider}/{drive}/move", post(move_item))
        .route("/{provider}/{drive}/trash", post(trash))
        .route("/{provider}/{drive}/shortcut", post(shortcut))
        .route("/{provider}/{drive}/generate", post(generate))
        .route("/{provider}/{drive}/reset-cursors", post(reset_cursors))
        .route("/{provider}/{drive}/cursor", get(cursor))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD))
}

/// A control-API error: `{"error": message}`.
#[derive(Debug)]
pub struct ControlError(StatusCode, String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<WorldError> for ControlError {
    fn from(e: WorldError) -> Self {
        let status = match e {
            WorldError::NotFound(_) => StatusCode::NOT_FOUND,
            WorldError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WorldError::Conflict(_) => StatusCode::CONFLICT,
        };
        ControlError(status, e.to_string())
    }
}

fn bad(message: impl Into<String>) -> ControlError {
    ControlError(StatusCode::BAD_REQUEST, message.into())
}

type Result<T> = std::result::Result<T, ControlError>;

/// A JSON body whose rejection answers in the control error shape.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ControlError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(e) => Err(bad(rejection_text(&e))),
        }
    }
}

fn rejection_text(e: &JsonRejection) -> String {
    format!("invalid JSON body: {}", e.body_text())
}

fn provider(name: &str) -> Result<Provider> {
    name.parse::<Provider>().map_err(ControlError::from)
}

// ----- clients and accounts ----------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewClient {
    provider: Provider,
    client_id: String,
    client_secret: String,
    #[serde(default)]
    redirect_uris: Vec<String>,
}

async fn add_client(State(state): State<AppState>, Body(c): Body<NewClient>) -> Result<Response> {
    if c.client_id.is_empty() {
        return Err(bad("clientId must not be empty"));
    }
    let client = Client {
        provider: c.provider,
        client_id: c.client_id,
        client_secret: c.client_secret,
        redirect_uris: c.redirect_uris,
    };
    let body = json!({
        "provider": client.provider,
        "clientId": client.client_id,
        "redirectUris": client.redirect_uris,
    });
    state.shared().oauth.lock().add_client(client);
    state.mark_dirty();
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn list_clients(State(state): State<AppState>) -> Json<Value> {
    let oauth = state.shared().oauth.lock();
    let mut clients: Vec<Value> = oauth
        .clients
        .values()
        .map(|c| json!({"provider": c.provider, "clientId": c.client_id, "redirectUris": c.redirect_uris}))
        .collect();
    clients.sort_by_key(|c| c.to_string());
    Json(json!({ "clients": clients }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewAccount {
    provider: Provider,
    email: String,
    #[serde(default)]
    display_name: Option<String>,
    /// Microsoft only: `business` (default) or `personal`.
    #[serde(default)]
    drive_type: Option<String>,
}

async fn add_account(State(state): State<AppState>, Body(a): Body<NewAccount>) -> Result<Response> {
    if !a.email.contains('@') {
        return Err(bad("email must be an email address"));
    }
    let display_name = a
        .display_name
        .unwrap_or_else(|| a.email.split('@').next().unwrap_or_default().to_string());
    let personal = match (a.provider, a.drive_type.as_deref()) {
        (_, None) | (Provider::Microsoft, Some("business")) => false,
        (Provider::Microsoft, Some("personal")) => true,
        (Provider::Microsoft, Some(other)) => {
            return Err(bad(format!(
                "driveType must be business or personal, not '{other}'"
            )));
        }
        (_, Some(_)) => return Err(bad("driveType is for microsoft accounts only")),
    };
    let (account_id, drive_id) = state.write(|w| {
        let (account, drive) = w.add_account(a.provider, &a.email, &display_name)?;
        if personal {
            w.make_onedrive_personal(&drive)?;
        }
        Ok::<_, crate::world::WorldError>((account, drive))
    })?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"accountId": account_id, "driveId": drive_id})),
    )
        .into_response())
}

async fn list_accounts(State(state): State<AppState>) -> Json<Value> {
    let accounts = state.read(|w| {
        Provider::ALL
            .iter()
            .flat_map(|p| w.accounts_of(*p))
            .map(|a| {
                json!({"accountId": a.id, "provider": a.provider, "email": a.email,
                       "displayName": a.display_name, "driveId": a.drive_id})
            })
            .collect::<Vec<_>>()
    });
    Json(json!({ "accounts": accounts }))
}

#[derive(Deserialize)]
struct NewShared {
    name: String,
    #[serde(default)]
    members: Vec<String>,
}

async fn add_shared_drive(
    State(state): State<AppState>,
    Body(d): Body<NewShared>,
) -> Result<Response> {
    let drive_id = state.write(|w| w.add_shared_drive(&d.name, d.members))?;
    Ok((StatusCode::CREATED, Json(json!({ "driveId": drive_id }))).into_response())
}

async fn add_site(State(state): State<AppState>, Body(d): Body<NewShared>) -> Result<Response> {
    let (site_id, drive_id) = state.write(|w| w.add_site(&d.name, d.members))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "driveId": drive_id, "siteId": site_id })),
    )
        .into_response())
}

#[derive(Deserialize)]
struct NewLibrary {
    name: String,
}

async fn add_site_library(
    State(state): State<AppState>,
    Path(site): Path<String>,
    Body(l): Body<NewLibrary>,
) -> Result<Response> {
    let drive_id = state.write(|w| w.add_site_library(&site, &l.name))?;
    Ok((StatusCode::CREATED, Json(json!({ "driveId": drive_id }))).into_response())
}

// ----- files -------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PutQuery {
    mime_type: Option<String>,
    name: Option<String>,
    #[serde(default)]
    duplicate: bool,
}

async fn put_file(
    State(state): State<AppState>,
    Path((p, drive, path)): Path<(String, String, String)>,
    Query(q): Query<PutQuery>,
    body: Bytes,
) -> Result<Response> {
    let p = provider(&p)?;
    let id = state.write(|w| {
        let drive = w.resolve_drive(p, &drive)?;
        w.put_path(
            &drive,
            &path,
            body,
            PutOptions {
                mime_type: q.mime_type,
                name: q.name,
                duplicate: q.duplicate,
            },
        )
    })?;
    Ok((StatusCode::OK, Json(json!({ "id": id }))).into_response())
}

async fn delete_file(
    State(state): State<AppState>,
    Path((p, drive, path)): Path<(String, String, String)>,
) -> Result<Json<Value>> {
    let p = provider(&p)?;
    let id = state.write(|w| {
        let drive = w.resolve_drive(p, &drive)?;
        w.delete_path(&drive, &path)
    })?;
    Ok(Json(json!({ "id": id })))
}

async fn get_file(
    State(state): State<AppState>,
    Path((p, drive, path)): Path<(String, String, String)>,
) -> Result<Json<Value>> {
    let p = provider(&p)?;
    let value = state.read(|w| {
        let drive = w.resolve_drive(p, &drive)?;
        let item = w
            .resolve_path(&drive, &path)
            .ok_or_else(|| WorldError::NotFound(format!("no item at '{path}'")))?;
        Ok::<_, WorldError>(json!({
            "id": item.id, "name": item.name, "parentId": item.parent_id,
            "mimeType": item.mime_type, "size": item.size(), "version": item.version,
            "trashed": item.trashed, "folder": item.is_folder(),
            "children": w.children(&item.id).len(), "content": item.content,
        }))
    })?;
    Ok(Json(value))
}

#[derive(Deserialize)]
struct MoveBody {
    from: String,
    to: String,
}

async fn move_item(
    State(state): State<AppState>,
    Path((p, drive)): Path<(String, String)>,
    Body(m): Body<MoveBody>,
) -> Result<Json<Value>> {
    let p = provider(&p)?;
    let id = state.write(|w| {
        let drive = w.resolve_drive(p, &drive)?;
        w.move_path(&drive, &m.from, &m.to)
    })?;
    Ok(Json(json!({ "id": id })))
}

#[derive(Deserialize)]
struct TrashBody {
    path: String,
    #[serde(default = "yes")]
    trashed: bool,
}

fn yes() -> bool {
    true
}

/// `POST /_sim/{provider}/{drive}/trash {"path", "trashed"?}`: trash (or
/// restore with `"trashed": false`) an item and everything below it.
async fn trash(
    State(state): State<AppState>,
    Path((p, drive)): Path<(String, String)>,
    Body(t): Body<TrashBody>,
) -> Result<Json<Value>> {
    let p = provider(&p)?;
    let id = state.write(|w| {
        let drive = w.resolve_drive(p, &drive)?;
        let id = if t.trashed {
            w.resolve_path(&drive, &t.path).map(|i| i.id.clone())
        } else {
            find_trashed(w, &drive, &t.path)
        }
        .ok_or_else(|| WorldError::NotFound(format!("no item at '{}'", t.path)))?;
        w.set_trashed(&id, t.trashed)?;
        Ok::<_, WorldError>(id)
    })?;
    Ok(Json(json!({ "id": id })))
}

/// The trashed item at `path` (path lookups skip trashed items).
fn find_trashed(w: &crate::world::World, drive: &str, path: &str) -> Option<String> {
    let segments = crate::world::split_path(path);
    let (last, parents) = segments.split_last()?;
    let parent = w.resolve_path(drive, &parents.join("/"))?;
    w.children(&parent.id)
        .iter()
        .filter_map(|id| w.item(id))
        .find(|i| i.name == *last && i.trashed)
        .map(|i| i.id.clone())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShortcutBody {
    path: String,
    target: String,
}

/// `POST /_sim/google/{drive}/shortcut {"path", "target"}`: a Drive
/// shortcut at `path` to the item at path (or with id) `target`.
async fn shortcut(
    State(state): State<AppState>,
    Path((p, drive)): Path<(String, String)>,
    Body(s): Body<ShortcutBody>,
) -> Result<Json<Value>> {
    let p = provider(&p)?;
    if p != Provider::Google {
        return Err(bad("shortcuts exist only on google"));
    }
    let id = state.write(|w| {
        let drive = w.resolve_drive(p, &drive)?;
        let target = match w.item(&s.target) {
            Some(i) if !i.deleted => i.id.clone(),
            _ => w
                .resolve_path(&drive, &s.target)
                .map(|i| i.id.clone())
                .ok_or_else(|| WorldError::NotFound(format!("no target '{}'", s.target)))?,
        };
        let segments = crate::world::split_path(&s.path);
        let (last, parents) = segments
            .split_last()
            .ok_or_else(|| WorldError::BadRequest("path names no item".into()))?;
        let parent = w.ensure_folders(&drive, parents)?;
        w.create_shortcut(&parent, last, &target)
    })?;
    Ok(Json(json!({ "id": id })))
}

#[derive(Deserialize)]
struct GenerateBody {
    #[serde(default)]
    root: String,
    files: u64,
    #[serde(default)]
    bytes: u64,
    #[serde(default)]
    depth: u32,
}

async fn generate(
    State(state): State<AppState>,
    Path((p, drive)): Path<(String, String)>,
    Body(g): Body<GenerateBody>,
) -> Result<Json<Value>> {
    let p = provider(&p)?;
    if g.depth > 8 {
        return Err(bad("depth must be at most 8"));
    }
    if g.files > 5_000_000 {
        return Err(bad("files must be at most 5000000"));
    }
    let result = state.write(|w| {
        let drive = w.resolve_drive(p, &drive)?;
        w.generate(&drive, &g.root, g.files, g.bytes, g.depth)
    })?;
    Ok(Json(serde_json::to_value(result).unwrap_or_default()))
}

/// `POST /_sim/{provider}/{drive}/reset-cursors`: every feed position taken
/// before now is rejected (Graph 410 resyncRequired, Dropbox reset).
async fn reset_cursors(
    State(state): State<AppState>,
    Path((p, drive)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let p = provider(&p)?;
    state.write(|w| {
        let drive = w.resolve_drive(p, &drive)?;
        w.invalidate_cursors(&drive)
    })?;
    Ok(Json(json!({})))
}

/// `GET /_sim/{provider}/{drive}/cursor`: the current feed position and
/// the length of the drive's change log.
async fn cursor(
    State(state): State<AppState>,
    Path((p, drive)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let p = provider(&p)?;
    let value = state.read(|w| {
        let drive = w.resolve_drive(p, &drive)?;
        let changes = w.drive(&drive).map(|d| d.changes.len()).unwrap_or(0);
        Ok::<_, WorldError>(json!({"driveId": drive, "seq": w.current_seq(), "changes": changes}))
    })?;
    Ok(Json(value))
}

// ----- faults, tokens, counters, settings --------------------------------

async fn add_fault(State(state): State<AppState>, Body(f): Body<FaultSpec>) -> Result<Response> {
    if let Some(p) = f.probability
        && !(0.0..=1.0).contains(&p)
    {
        return Err(bad("probability must be between 0 and 1"));
    }
    if f.kind == crate::faults::FaultKind::FileError
        && !crate::faults::file_error_supported(f.provider)
    {
        return Err(bad(
            "file_error is emulated for google and dropbox only; aim a server_error at microsoft",
        ));
    }
    let id = state.shared().faults.lock().add(f);
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))).into_response())
}

async fn list_faults(State(state): State<AppState>) -> Json<Value> {
    let faults = state.shared().faults.lock();
    Json(json!({ "faults": faults.list() }))
}

async fn clear_faults(State(state): State<AppState>) -> StatusCode {
    state.shared().faults.lock().clear();
    StatusCode::NO_CONTENT
}

async fn expire_tokens(
    State(state): State<AppState>,
    Path(p): Path<String>,
) -> Result<Json<Value>> {
    let p = provider(&p)?;
    let n = state.shared().oauth.lock().expire_all(p);
    state.mark_dirty();
    Ok(Json(json!({ "expired": n })))
}

async fn revoke_tokens(
    State(state): State<AppState>,
    Path(p): Path<String>,
) -> Result<Json<Value>> {
    let p = provider(&p)?;
    let n = state.shared().oauth.lock().revoke_all(p);
    state.mark_dirty();
    Ok(Json(json!({ "revoked": n })))
}

async fn requests(State(state): State<AppState>) -> Json<Value> {
    let counts: BTreeMap<String, u64> = state.shared().counters.snapshot();
    Json(json!({ "counts": counts }))
}

async fn reset_requests(State(state): State<AppState>) -> StatusCode {
    state.shared().counters.reset();
    StatusCode::NO_CONTENT
}

async fn get_settings(State(state): State<AppState>) -> Json<Settings> {
    Json(state.settings())
}

/// Merges the posted fields into the settings.
async fn patch_settings(
    State(state): State<AppState>,
    Body(patch): Body<Value>,
) -> Result<Json<Settings>> {
    let mut current = serde_json::to_value(state.settings()).map_err(|e| bad(e.to_string()))?;
    let (Some(target), Some(fields)) = (current.as_object_mut(), patch.as_object()) else {
        return Err(bad("the body must be a JSON object"));
    };
    for (k, v) in fields {
        if !target.contains_key(k) {
            return Err(bad(format!("unknown setting '{k}'")));
        }
        if let (Some(Value::Object(inner)), Value::Object(new)) = (target.get_mut(k), v) {
            for (ik, iv) in new {
                inner.insert(ik.clone(), iv.clone());
            }
        } else {
            target.insert(k.clone(), v.clone());
        }
    }
    let settings: Settings =
        serde_json::from_value(current).map_err(|e| bad(format!("invalid settings: {e}")))?;
    state.set_settings(settings.clone());
    Ok(Json(settings))
}
