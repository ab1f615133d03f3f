//! `/api/libraries/{id}/files`: paged listing, download (ETag,
//! If-None-Match, Range), upload to local libraries (streamed, size-limited)
//! and delete.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use folio_domain::{LibraryPath, LibraryType, Permission};
use folio_store::{FileRecord, Library};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::routes::libraries::load_library;
use crate::routes::paging::{decode_cursor, encode_cursor, page_limit};
use crate::state::AppState;

/// The listing has an OpenAPI-described route; the `{*path}` routes are
/// registered by hand (utoipa cannot express a wildcard) and documented
/// through [`crate::openapi`].
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_files)).route(
        "/api/libraries/{id}/files/{*path}",
        axum::routing::get(download_file)
            .put(upload_file)
            .delete(delete_file),
    )
}

/// A file of a library.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileBody {
    pub path: String,
    pub size: i64,
    pub content_type: String,
    /// Lowercase hex SHA-256 of the bytes (also the download's ETag).
    pub hash: String,
    pub modified_at: DateTime<Utc>,
    /// The provider's item id, for synced files.
    pub remote_id: Option<String>,
    /// When the file was last synced from the provider.
    pub synced_at: Option<DateTime<Utc>>,
}

impl From<FileRecord> for FileBody {
    fn from(file: FileRecord) -> Self {
        Self {
            path: file.path,
            size: file.size,
            content_type: file.content_type,
            hash: file.hash,
            modified_at: file.modified_at,
            remote_id: file.remote_id,
            synced_at: file.synced_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FileList {
    pub items: Vec<FileBody>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only paths starting with this.
    pub prefix: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next` value of the previous page.
    pub cursor: Option<String>,
}

/// A file's bytes, as an upload's body.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct FileBytes(Vec<u8>);

/// The files of a library, in path order, a page at a time.
#[utoipa::path(get, path = "/api/libraries/{id}/files", tag = "files",
    params(("id" = String, Path, description = "UUID or natural id"), ListQuery),
    responses((status = 200, body = FileList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_files(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(key): ApiPath<String>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<axum::Json<FileList>> {
    let library = load_library(&state, &user, &key, Permission::Read).await?;
    let limit = page_limit(query.limit)?;
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let prefix = query.prefix.unwrap_or_default();
    let page = state
        .store
        .list_files(library.id, &prefix, after.as_deref(), limit)
        .await?;
    Ok(axum::Json(FileList {
        items: page.items.into_iter().map(FileBody::from).collect(),
        next: page.next_after.as_deref().map(encode_cursor),
    }))
}

/// Download a file's bytes. Answers 304 to a matching `If-None-Match` and
/// 206 to a single `bytes=` Range.
#[utoipa::path(get, path = "/api/libraries/{id}/files/{path}", tag = "files",
    params(("id" = String, Path, description = "UUID or natural id"), ("path" = String, Path, description = "the file's path; may contain '/'"),
        ("Range" = Option<String>, Header, description = "one byte range, e.g. bytes=0-99"),
        ("If-None-Match" = Option<String>, Header, description = "an ETag from an earlier download")),
    responses((status = 200, description = "the bytes, with the media type the file was stored with", content_type = "*/*", body = FileBytes),
        (status = 206, description = "the requested range", content_type = "*/*", body = FileBytes), (status = 304, description = "not modified"),
        (status = 404, body = ErrorBody), (status = 416, body = ErrorBody)))]
pub(crate) async fn download_file(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((key, raw_path)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let library = load_library(&state, &user, &key, Permission::Read).await?;
    let path = LibraryPath::parse(&raw_path)?;
    let file = state
        .store
        .get_file(library.id, path.as_str())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("file '{path}' not found in library '{key}'")))?;
    let etag = format!("\"{}\"", file.hash);
    if etag_matches(&headers, &etag) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        insert_header(&mut response, header::ETAG, &etag);
        return Ok(response);
    }
    let size = u64::try_from(file.size).map_err(ApiError::internal)?;
    let range = requested_range(&headers, &etag, size)?;
    let stream = state.blobs.get(&file.hash, range.clone()).await?;
    let (status, length) = match &range {
        Some(r) => (StatusCode::PARTIAL_CONTENT, r.end - r.start),
        None => (StatusCode::OK, size),
    };
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    insert_header(&mut response, header::CONTENT_TYPE, &file.content_type);
    insert_header(&mut response, header::CONTENT_LENGTH, &length.to_string());
    insert_header(&mut response, header::ETAG, &etag);
    insert_header(&mut response, header::ACCEPT_RANGES, "bytes");
    insert_header(
        &mut response,
        header::LAST_MODIFIED,
        &file
            .modified_at
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string(),
    );
    if let Some(r) = &range {
        let value = format!("bytes {}-{}/{size}", r.start, r.end - 1);
        insert_header(&mut response, header::CONTENT_RANGE, &value);
    }
    Ok(response)
}

fn insert_header(response: &mut Response, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

/// The byte range to serve, if the request asks for exactly one that the
/// file can satisfy; `None` means the whole file. Several ranges, or an
/// `If-Range` that no longer matches, also get the whole file (RFC 9110
/// allows ignoring Range).
fn requested_range(
    headers: &HeaderMap,
    etag: &str,
    size: u64,
) -> ApiResult<Option<std::ops::Range<u64>>> {
    let Some(raw) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    if let Some(if_range) = headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok())
        && if_range.trim() != etag
    {
        return Ok(None);
    }
    let Some(spec) = raw.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    parse_range(spec.trim(), size)
        .map(Some)
        .ok_or_else(|| ApiError::RangeNotSatisfiable {
            message: format!("range '{raw}' is outside the file's {size} bytes"),
            size,
        })
}

fn parse_range(spec: &str, size: u64) -> Option<std::ops::Range<u64>> {
    let (start, end) = spec.split_once('-')?;
    let range = if start.is_empty() {
        let suffix: u64 = end.parse().ok()?;
        if suffix == 0 {
            return None;
        }
        size.saturating_sub(suffix)..size
    } else {
        let start: u64 = start.parse().ok()?;
        let end = if end.is_empty() {
            size
        } else {
            end.parse::<u64>().ok()?.saturating_add(1).min(size)
        };
        start..end
    };
    (range.start < range.end && range.start < size).then_some(range)
}

fn require_local(library: &Library, key: &str) -> ApiResult<()> {
    if library.library_type == LibraryType::Local.as_str() {
        Ok(())
    } else {
        Err(ApiError::Conflict(format!(
            "library '{key}' is a {} library: its files come from sync; uploads and deletes go to local libraries",
            library.library_type
        )))
    }
}

/// Upload a file to a local library (the body is the bytes). Answers 201
/// for a new path and 200 when it replaced a file.
#[utoipa::path(put, path = "/api/libraries/{id}/files/{path}", tag = "files",
    params(("id" = String, Path, description = "UUID or natural id"), ("path" = String, Path, description = "the file's path; may contain '/'")),
    request_body(content = Option<FileBytes>, content_type = "application/octet-stream", description = "the file's bytes; an empty body makes an empty file"),
    responses((status = 201, body = FileBody), (status = 200, body = FileBody), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub(crate) async fn upload_file(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((key, raw_path)): ApiPath<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    let library = load_library(&state, &user, &key, Permission::Write).await?;
    require_local(&library, &key)?;
    let path = LibraryPath::parse(&raw_path)?;
    let limit = state.config.max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(ApiError::PayloadTooLarge(format!(
            "the body is larger than the limit of {limit} bytes"
        )));
    }
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let stored = state.blobs.put(Box::pin(stream), Some(limit)).await?;
    let now = Utc::now();
    let existing = state.store.get_file(library.id, path.as_str()).await?;
    let record = FileRecord {
        library_id: library.id,
        path: path.to_string(),
        size: i64::try_from(stored.size).map_err(ApiError::internal)?,
        content_type: content_type_for(&headers, &path),
        hash: stored.hash.clone(),
        modified_at: now,
        remote_id: None,
        synced_at: None,
        created_at: existing.as_ref().map_or(now, |f| f.created_at),
        updated_at: now,
    };
    let blobs = state.blobs.clone();
    let hash = stored.hash.clone();
    let put = state
        .store
        .put_file(&record, || async move {
            blobs.exists(&hash).await.map_err(|e| e.to_string())
        })
        .await;
    let replaced = match put {
        Ok(replaced) => replaced,
        Err(err) => {
            collect_blobs(&state, vec![stored.hash]).await;
            return Err(err.into());
        }
    };
    if let Some(old) = replaced {
        collect_blobs(&state, vec![old]).await;
    }
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, axum::Json(FileBody::from(record))))
}

/// The declared content type, unless it is missing or generic, in which
/// case one guessed from the file name.
fn content_type_for(headers: &HeaderMap, path: &LibraryPath) -> String {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| {
            !v.is_empty()
                && *v != "application/octet-stream"
                && !v.starts_with("application/x-www-form-urlencoded")
        });
    match declared {
        Some(value) => value.to_owned(),
        None => mime_guess::from_path(path.file_name())
            .first_or_octet_stream()
            .essence_str()
            .to_owned(),
    }
}

/// Delete a file of a local library.
#[utoipa::path(delete, path = "/api/libraries/{id}/files/{path}", tag = "files",
    params(("id" = String, Path, description = "UUID or natural id"), ("path" = String, Path, description = "the file's path; may contain '/'")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn delete_file(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((key, raw_path)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let library = load_library(&state, &user, &key, Permission::Write).await?;
    require_local(&library, &key)?;
    let path = LibraryPath::parse(&raw_path)?;
    let hash = state
        .store
        .delete_file(library.id, path.as_str())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("file '{path}' not found in library '{key}'")))?;
    collect_blobs(&state, vec![hash]).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes each blob no file uses any more. Failures are logged, not
/// returned: the caller's change is already committed, and the startup
/// sweep collects what is left.
pub async fn collect_blobs(state: &AppState, hashes: Vec<String>) {
    for hash in hashes {
        let blobs = state.blobs.clone();
        let target = hash.clone();
        let result = state
            .store
            .remove_blob_if_orphan(&hash, || async move {
                blobs.delete(&target).await.map_err(|e| e.to_string())
            })
            .await;
        if let Err(err) = result {
            tracing::warn!(hash, error = %err, "could not collect an unused blob; the next sweep will");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("0-9", 100), Some(0..10));
        assert_eq!(parse_range("90-", 100), Some(90..100));
        assert_eq!(parse_range("-10", 100), Some(90..100));
        assert_eq!(parse_range("95-200", 100), Some(95..100));
        assert_eq!(parse_range("-200", 100), Some(0..100));
        assert_eq!(parse_range("100-", 100), None);
        assert_eq!(parse_range("5-2", 100), None);
        assert_eq!(parse_range("-0", 100), None);
        assert_eq!(parse_range("x-1", 100), None);
        assert_eq!(parse_range("0-0", 0), None);
    }
}
