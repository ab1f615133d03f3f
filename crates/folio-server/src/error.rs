//! The one HTTP error type. Every failure, from any route, a rejected
//! extractor or an unknown path, answers with the same body:
//! `{"statusCode": 404, "error": "Not Found", "message": "..."}`.
//! 4xx messages say what to fix; 5xx messages are opaque and the cause chain
//! is logged once, here.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use folio_app::AppError;
use folio_app::connections::authorize_route;
use folio_domain::ParseError;
use folio_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// The error body of every failed request.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub status_code: u16,
    pub error: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed; the message names the field.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no credentials, or credentials that match nothing.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: known caller, not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404: unknown, or a library the caller may not see.
    #[error("{0}")]
    NotFound(String),
    /// 409: conflicts with the current state (a name taken, a sync running).
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is larger than allowed.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415: the body is not of an accepted content type.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 416: a Range that lies outside the file.
    #[error("{message}")]
    RangeNotSatisfiable { message: String, size: u64 },
    /// 422: a provider refused; the message says what to do ("reconnect").
    #[error("{0}")]
    Unprocessable(String),
    /// 502: a provider failed or answered something unusable.
    #[error("{0}")]
    BadGateway(String),
    /// 504: a provider did not answer in time, even after retries.
    #[error("{0}")]
    GatewayTimeout(String),
    /// 503: a transient condition; retrying the same request may succeed.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a bug or an unreachable dependency; details go to the log only.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::GatewayTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    pub fn library_not_found(key: &str) -> Self {
        Self::NotFound(format!("library '{key}' not found"))
    }
}

/// Builds an error response for any status, for the places that only know
/// a status (fallbacks, layers).
pub fn error_response(status: StatusCode, message: impl Into<String>) -> Response {
    let body = ErrorBody {
        status_code: status.as_u16(),
        error: status.canonical_reason().unwrap_or("Error").to_owned(),
        message: message.into(),
    };
    (status, Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Internal(err) = &self {
            tracing::error!(error = format!("{err:#}"), "request failed");
        }
        let mut response = error_response(status, self.to_string());
        match &self {
            Self::Unauthorized(_) => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::RangeNotSatisfiable { size, .. } => {
                if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    response.headers_mut().insert(header::CONTENT_RANGE, value);
                }
            }
            _ => {}
        }
        response
    }
}

/// A service's failure, worded for the API: each kind gets its status, and
/// the kinds that need a next step name the route to take.
impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Invalid(m) => Self::BadRequest(m),
            AppError::Forbidden(m) => Self::Forbidden(m),
            AppError::NotFound(m) => Self::NotFound(m),
            AppError::Conflict(m) => Self::Conflict(m),
            AppError::TooLarge(m) => Self::PayloadTooLarge(m),
            AppError::NoConnection { library } => Self::Conflict(format!(
                "library '{library}' has no connection yet; connect it with {}",
                authorize_route(&library)
            )),
            AppError::NoIntegration { library } => Self::Conflict(format!(
                "library '{library}' has no integration yet; set one with PUT /api/libraries/{library}/integration"
            )),
            AppError::ConnectionInactive { library, status } => Self::Unprocessable(format!(
                "the connection of library '{library}' is {status}; reconnect it with {}",
                authorize_route(&library)
            )),
            AppError::SyncRunning {
                library,
                progress_id,
            } => Self::Conflict(format!(
                "a sync of library '{library}' is already running; follow it at /api/progress/{progress_id}"
            )),
            AppError::NeedsReauthorization { library, message } => {
                Self::Unprocessable(format!("{message} ({})", authorize_route(&library)))
            }
            AppError::StaleAuthorization(m) => Self::BadRequest(format!(
                "state: {m} from the library's connection/authorize route"
            )),
            AppError::Refused(m) => Self::Unprocessable(m),
            AppError::ProviderFailed(m) => Self::BadGateway(m),
            AppError::ProviderTimedOut(m) => Self::GatewayTimeout(m),
            AppError::Unavailable(m) => Self::Unavailable(m),
            AppError::Internal(e) => Self::Internal(e),
        }
    }
}

impl From<ParseError> for ApiError {
    fn from(err: ParseError) -> Self {
        Self::BadRequest(err.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => Self::NotFound(format!("{what} not found")),
            StoreError::Conflict(what) => Self::Conflict(format!("{what} already exists")),
            StoreError::BlobVanished(_) => Self::Unavailable(err.to_string()),
            other => Self::internal(other),
        }
    }
}

impl From<folio_blobs::BlobError> for ApiError {
    fn from(err: folio_blobs::BlobError) -> Self {
        match err {
            folio_blobs::BlobError::TooLarge { limit } => Self::PayloadTooLarge(format!(
                "the body is larger than the limit of {limit} bytes"
            )),
            folio_blobs::BlobError::NotFound(hash) => {
                Self::internal(anyhow::anyhow!("blob {hash} is missing from storage"))
            }
            other => Self::internal(other),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType(
                "expected a JSON body with 'Content-Type: application/json'".to_owned(),
            ),
            JsonRejection::JsonDataError(err) => {
                Self::BadRequest(json_data_message(&err.body_text()))
            }
            JsonRejection::JsonSyntaxError(err) => {
                Self::BadRequest(format!("malformed JSON: {}", err.body_text()))
            }
            JsonRejection::BytesRejection(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::PayloadTooLarge("the JSON body is too large".to_owned())
            }
            other => Self::BadRequest(other.body_text()),
        }
    }
}

/// serde's "Failed to deserialize the JSON body into the target type:
/// name: invalid type..." shortened to what the caller needs.
fn json_data_message(text: &str) -> String {
    let detail = text
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(text);
    format!("invalid body: {detail}")
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::BadRequest(format!("invalid path parameter: {}", rejection.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest(format!(
            "invalid query parameter: {}",
            rejection.body_text()
        ))
    }
}
