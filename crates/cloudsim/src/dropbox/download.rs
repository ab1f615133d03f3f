//! `files/download`: argument in `Dropbox-API-Arg`, bytes in the body,
//! `FileMetadata` in the `Dropbox-API-Result` header; `Range` honoured.

use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, header};

use super::error::{DbxError, insert_request_id};
use super::metadata::{self, HASH_KEY};
use super::model::DownloadArg;
use super::rpc;
use crate::AppState;
use crate::content;
use crate::hashes;

const ROUTE: &str = "files/download";

/// `POST /2/files/download` (content host).
pub async fn download(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, DbxError> {
    let caller = rpc::caller(&state, &headers, ROUTE)?;
    let arg: DownloadArg = rpc::header_arg(ROUTE, &headers, &body)?;
    let path = match &arg.rev {
        Some(rev) if arg.path.is_empty() => format!("rev:{rev}"),
        _ => arg.path.clone(),
    };
    metadata::check_path_syntax(ROUTE, &path)?;
    let id = state.read(|w| {
        let item = metadata::lookup(w, &caller.drive, &path).map_err(DbxError::path_lookup)?;
        if item.is_file() {
            Ok(item.id.clone())
        } else {
            Err(DbxError::path_lookup("not_file"))
        }
    })?;
    let hashes = hashes::cached(
        &state,
        std::slice::from_ref(&id),
        HASH_KEY,
        hashes::dropbox_of,
    )
    .await;
    let (meta, source) = state
        .read(|w| {
            w.item(&id)
                .map(|item| (metadata::file_metadata(w, item, &hashes), w.source(item)))
        })
        .ok_or_else(|| DbxError::path_lookup("not_found"))?;
    let mut out = HeaderMap::new();
    let result = rpc::ascii_json(&meta)?;
    out.insert(
        "dropbox-api-result",
        HeaderValue::from_str(&result).map_err(anyhow::Error::from)?,
    );
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let etag = format!("W/\"{}\"", meta.rev);
    if let Ok(value) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, value);
    }
    insert_request_id(&mut out);
    Ok(content::ranged_response(&headers, &source, out))
}
