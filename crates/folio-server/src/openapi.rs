//! The OpenAPI document served at `/api/openapi.json`.
//!
//! Paths come from each handler's `#[utoipa::path]` through
//! `utoipa_axum`'s router; the wildcard file routes, which utoipa cannot
//! register itself, are added here by name. [`complete`] then adds what
//! every route shares (the 400, 401, 413 and 415 answers of the extractors,
//! a description for every response), so the document lists every status
//! the server can answer.

use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{Schema, SchemaType, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{Content, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi};

use crate::routes::files;

#[derive(OpenApi)]
#[openapi(
    info(title = "Folio", description = "A document-library server that keeps libraries in sync with Google Drive, OneDrive, SharePoint and Dropbox."),
    paths(files::download_file, files::upload_file, files::delete_file),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

/// Completes the merged document (handlers' paths included): every
/// operation gets the answers its extractors give, and every response a
/// description (OpenAPI requires one).
pub fn complete(openapi: &mut utoipa::openapi::OpenApi) {
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            complete_operation(operation);
        }
    }
}

fn complete_operation(operation: &mut Operation) {
    let takes_input = operation
        .parameters
        .as_ref()
        .is_some_and(|params| !params.is_empty())
        || operation.request_body.is_some();
    let json_body = operation
        .request_body
        .as_ref()
        .and_then(|body| match body {
            RefOr::T(body) => Some(body.content.contains_key("application/json")),
            RefOr::Ref(_) => None,
        })
        .unwrap_or(false);
    let needs_credentials = !operation
        .security
        .as_ref()
        .is_some_and(|requirements| requirements.contains(&SecurityRequirement::default()));
    if let Some(RefOr::T(body)) = operation.request_body.as_mut()
        && body.required.is_none()
    {
        for content in body.content.values_mut() {
            if let RefOr::T(content) = content {
                absent_not_null(&mut content.schema);
            }
        }
    }
    let responses = &mut operation.responses.responses;
    if takes_input {
        responses
            .entry("400".into())
            .or_insert_with(|| error_response(""));
    }
    if needs_credentials {
        responses
            .entry("401".into())
            .or_insert_with(|| error_response(""));
    }
    if json_body {
        for status in ["413", "415"] {
            responses
                .entry(status.into())
                .or_insert_with(|| error_response(""));
        }
    }
    for (status, response) in responses.iter_mut() {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = default_description(status).to_owned();
        }
    }
}

/// An optional body (annotated `Option<T>`) may be left out; utoipa also
/// makes its schema `oneOf [T, null]`, but a `null` body is not what it
/// means: the schema becomes `T`.
fn absent_not_null(schema: &mut Option<RefOr<Schema>>) {
    let Some(RefOr::T(Schema::OneOf(one_of))) = schema else {
        return;
    };
    let is_null = |item: &RefOr<Schema>| {
        matches!(item, RefOr::T(Schema::Object(object))
            if object.schema_type == SchemaType::Type(Type::Null))
    };
    if one_of.items.len() == 2 && one_of.items.iter().any(is_null) {
        let kept = one_of.items.iter().find(|item| !is_null(item)).cloned();
        *schema = kept;
    }
}

fn error_response(description: &str) -> RefOr<Response> {
    let mut response = Response::new(description);
    response.content.insert(
        "application/json".into(),
        Content::new(Some(Ref::from_schema_name("ErrorBody"))).into(),
    );
    RefOr::T(response)
}

/// What a status means on this API, for responses whose annotation gives
/// no description of its own.
fn default_description(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "created",
        "204" => "done; no content",
        "206" => "partial content",
        "302" => "a redirect",
        "304" => "not modified",
        "400" => "invalid input; the message names the field",
        "401" => "missing or invalid credentials",
        "403" => "the caller may not do this",
        "404" => "not found, or not readable by the caller",
        "409" => "conflicts with the current state; the message says what to do",
        "413" => "the body is too large",
        "415" => "the body is not application/json",
        "416" => "the range is outside the file",
        "422" => "the provider refused the request",
        "500" => "an internal error",
        "502" => "the provider failed or could not be reached",
        "503" => "temporarily unavailable",
        "504" => "the provider did not answer in time",
        _ => "see the error body",
    }
}
