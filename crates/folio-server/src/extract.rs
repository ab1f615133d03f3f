//! Extractors whose rejections answer with [`ApiError`]'s body.

use axum::extract::{FromRequest, FromRequestParts, Request};
use folio_domain::object::Object;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// `axum::Json`, rejecting with the API's error body (400 naming the field,
/// 415 for a wrong content type, 413 for an oversized body). Every request
/// body of the API is a JSON object: anything else is a 400, even where
/// serde's derive would read a sequence as a struct (see
/// `folio_domain::object`).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(Object(value)) =
            axum::Json::<Object<T>>::from_request(request, state).await?;
        Ok(Self(value))
    }
}

/// `axum::extract::Path`, rejecting with a 400 error body.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// `axum::extract::Query`, rejecting with a 400 error body.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);
