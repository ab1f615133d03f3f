//! `/api/libraries/{id}/files`: paged listing, download (ETag,
//! If-None-Match, Range), upload to local libraries (streamed, size-limited)
//! and delete.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use folio_app::files::{self, Upload};
use folio_store::FileRecord;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
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
    let limit = page_limit(query.limit)?;
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let prefix = query.prefix.unwrap_or_default();
    let page = files::list(&state, &user.0, &key, &prefix, after.as_deref(), limit).await?;
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
    let file = files::find(&state, &user.0, &key, &raw_path).await?;
    let etag = format!("\"{}\"", file.hash);
    if etag_matches(&headers, &etag) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        insert_header(&mut response, header::ETAG, &etag);
        return Ok(response);
    }
    let size = u64::try_from(file.size).map_err(ApiError::internal)?;
    let range = requested_range(&headers, &etag, size)?;
    let stream = files::read(&state, &file, range.clone()).await?;
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

/// One `bytes=` range spec (`0-9`, `90-`, `-10`) as the part of a `size`
/// byte file it selects, read by `http-range-header` (RFC 9110's rules:
/// an end past the file is cut to it, a suffix longer than the file is the
/// whole file); `None` when it selects nothing.
fn parse_range(spec: &str, size: u64) -> Option<std::ops::Range<u64>> {
    let ranges = http_range_header::parse_range_header(&format!("bytes={spec}"))
        .ok()?
        .validate(size)
        .ok()?;
    match ranges.as_slice() {
        [only] => Some(*only.start()..only.end().saturating_add(1)),
        _ => None,
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
    let declared_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = Box::pin(body.into_data_stream().map_err(std::io::Error::other));
    let upload = Upload {
        raw_path,
        declared_length,
        content_type,
        bytes,
    };
    let uploaded = files::upload(&state, &user.0, &key, upload).await?;
    let status = if uploaded.replaced {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, axum::Json(FileBody::from(uploaded.file))))
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
    files::delete(&state, &user.0, &key, &raw_path).await?;
    Ok(StatusCode::NO_CONTENT)
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
