//! `files/get_metadata`: the `Metadata` of one file or folder by path, id
//! or revision.

use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use http::HeaderMap;

use super::error::DbxError;
use super::metadata::{self, HASH_KEY};
use super::model::GetMetadataArg;
use super::rpc;
use crate::AppState;
use crate::hashes;

const ROUTE: &str = "files/get_metadata";

/// `POST /2/files/get_metadata`. The root has no metadata: `""` fails the
/// path pattern (400), as on Dropbox; a missing path is 409
/// `path/not_found`.
pub async fn get_metadata(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, DbxError> {
    let caller = rpc::caller(&state, &headers, ROUTE)?;
    let arg: GetMetadataArg = rpc::json_arg(ROUTE, &headers, &body)?;
    check_path(&arg.path)?;
    let (id, is_file) = state.read(|w| {
        metadata::lookup(w, &caller.drive, &arg.path)
            .map(|item| (item.id.clone(), item.is_file()))
            .map_err(DbxError::path_lookup)
    })?;
    let hashes = if is_file {
        hashes::cached(
            &state,
            std::slice::from_ref(&id),
            HASH_KEY,
            hashes::dropbox_of,
        )
        .await
    } else {
        Default::default()
    };
    let entry = state
        .read(|w| w.item(&id).map(|item| metadata::entry(w, item, &hashes)))
        .ok_or_else(|| DbxError::path_lookup("not_found"))?;
    rpc::ok_json(&entry)
}

/// `GetMetadataArg.path`'s pattern: unlike a folder listing's, it has no
/// empty alternative.
fn check_path(path: &str) -> Result<(), DbxError> {
    if path.is_empty() {
        return Err(DbxError::bad_input(
            ROUTE,
            "request body: path: '' did not match pattern '(/(.|[\\r\\n])*|id:.*)|(rev:[0-9a-f]{9,})|(ns:[0-9]+(/.*)?)'",
        ));
    }
    metadata::check_path_syntax(ROUTE, path)
}
