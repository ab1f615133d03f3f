//! `/api/integrations` (admin CRUD) and `/api/libraries/{id}/integration`.
//!
//! An integration is an OAuth client registered with a provider. Its
//! client secret is write-only: sealed at rest, never returned or logged.
//! `authUri`, `tokenUri`, `apiUri` and `scope` default to the provider's
//! real values (folio-oauth's `provider`); the object always shows the
//! effective ones. `embedded` is true and `libraryId` set when the object is
//! shown as a library's integration; in the admin list they are false/null.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use folio_app::integrations::{self, IntegrationChanges, IntegrationDraft, effective_endpoints};
use folio_store::Integration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_integrations, create_integration))
        .routes(routes!(
            get_integration,
            patch_integration,
            delete_integration
        ))
        .routes(routes!(get_library_integration, put_library_integration))
}

/// An integration as the API shows it (never the client secret).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationBody {
    pub id: Uuid,
    pub name: String,
    /// `google-drive`, `onedrive`, `sharepoint` or `dropbox`.
    #[serde(rename = "type")]
    pub integration_type: String,
    /// True when shown as a library's integration.
    pub embedded: bool,
    /// The library it is shown for, when `embedded`.
    pub library_id: Option<Uuid>,
    /// Always `oauth2`.
    pub auth_type: &'static str,
    pub client_id: String,
    pub auth_uri: String,
    pub token_uri: String,
    pub scope: String,
    /// Base URL of every API call (Drive, Graph, Dropbox API and content).
    pub api_uri: String,
    /// Microsoft tenant (`common` by default); null for other providers.
    pub tenant: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl IntegrationBody {
    pub fn new(integration: Integration, library_id: Option<Uuid>) -> Self {
        let resolved = effective_endpoints(&integration);
        let (auth_uri, token_uri, api_uri, scope, tenant) = match resolved {
            Some(e) => (
                e.auth_uri.to_string(),
                e.token_uri.to_string(),
                e.api_uri.to_string(),
                e.scope,
                e.tenant,
            ),
            None => (
                integration.auth_uri.clone().unwrap_or_default(),
                integration.token_uri.clone().unwrap_or_default(),
                integration.api_uri.clone().unwrap_or_default(),
                integration.scope.clone().unwrap_or_default(),
                integration.tenant.clone(),
            ),
        };
        Self {
            id: integration.id,
            name: integration.name,
            integration_type: integration.integration_type.to_string(),
            embedded: library_id.is_some(),
            library_id,
            auth_type: "oauth2",
            client_id: integration.client_id,
            auth_uri,
            token_uri,
            scope,
            api_uri,
            tenant,
            created_at: integration.created_at,
            updated_at: integration.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationList {
    pub items: Vec<IntegrationBody>,
}

/// A new integration. `type`, `name`, `clientId` and `clientSecret` are
/// required; the rest default to the provider's real values.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateIntegration {
    #[serde(rename = "type")]
    #[schema(value_type = IntegrationKind, required = true)]
    pub integration_type: Option<String>,
    /// 1 to 200 characters (trimmed), no control characters.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
    pub name: Option<String>,
    /// 1 to 500 characters (trimmed), no control characters.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 500, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
    pub client_id: Option<String>,
    /// Write-only. 1 to 4096 characters, no control characters.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 4096, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
    pub client_secret: Option<String>,
    #[schema(format = "uri")]
    pub auth_uri: Option<String>,
    #[schema(format = "uri")]
    pub token_uri: Option<String>,
    pub scope: Option<String>,
    #[schema(format = "uri")]
    pub api_uri: Option<String>,
    /// Microsoft only.
    pub tenant: Option<String>,
}

/// Fields to change; `null` resets `authUri`, `tokenUri`, `scope`,
/// `apiUri` and `tenant` to the default. The type cannot change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchIntegration {
    /// Only the integration's own type is accepted.
    #[serde(rename = "type")]
    #[schema(value_type = Option<IntegrationKind>)]
    pub integration_type: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 500,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub client_id: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 4096,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub client_secret: Option<String>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<String>, format = "uri")]
    pub auth_uri: Option<Option<String>>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<String>, format = "uri")]
    pub token_uri: Option<Option<String>>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub scope: Option<Option<String>>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<String>, format = "uri")]
    pub api_uri: Option<Option<String>>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<String>)]
    pub tenant: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PutLibraryIntegration {
    #[schema(value_type = Uuid, required = true)]
    pub integration_id: Option<Uuid>,
}

/// The provider an integration is a client of: the document's name for
/// [`IntegrationType`]'s values, listed from the one provider enum.
pub struct IntegrationKind;

impl utoipa::PartialSchema for IntegrationKind {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "The provider an integration is a client of (the document's name for\n[`IntegrationType`]'s values).",
            ))
            .enum_values(Some(folio_oauth::IntegrationType::ALL.iter().map(|k| k.as_str())))
            .into()
    }
}

impl ToSchema for IntegrationKind {}

/// Every integration (admin).
#[utoipa::path(get, path = "/api/integrations", tag = "integrations",
    responses((status = 200, body = IntegrationList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_integrations(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<axum::Json<IntegrationList>> {
    let items = integrations::list(&state, &user.0).await?;
    Ok(axum::Json(IntegrationList {
        items: items
            .into_iter()
            .map(|i| IntegrationBody::new(i, None))
            .collect(),
    }))
}

/// Register an OAuth client (admin). The secret is sealed at rest.
#[utoipa::path(post, path = "/api/integrations", tag = "integrations", request_body = CreateIntegration,
    responses((status = 201, body = IntegrationBody), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_integration(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<CreateIntegration>,
) -> ApiResult<impl IntoResponse> {
    let draft = IntegrationDraft {
        integration_type: body.integration_type,
        name: body.name,
        client_id: body.client_id,
        client_secret: body.client_secret,
        auth_uri: body.auth_uri,
        token_uri: body.token_uri,
        scope: body.scope,
        api_uri: body.api_uri,
        tenant: body.tenant,
    };
    let integration = integrations::create(&state, &user.0, draft).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(IntegrationBody::new(integration, None)),
    ))
}

/// One integration (admin).
#[utoipa::path(get, path = "/api/integrations/{id}", tag = "integrations", params(("id" = Uuid, Path)),
    responses((status = 200, body = IntegrationBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_integration(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<axum::Json<IntegrationBody>> {
    let integration = integrations::get(&state, &user.0, id).await?;
    Ok(axum::Json(IntegrationBody::new(integration, None)))
}

/// Change an integration (admin).
#[utoipa::path(patch, path = "/api/integrations/{id}", tag = "integrations", request_body = PatchIntegration, params(("id" = Uuid, Path)),
    responses((status = 200, body = IntegrationBody), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn patch_integration(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<PatchIntegration>,
) -> ApiResult<axum::Json<IntegrationBody>> {
    let changes = IntegrationChanges {
        integration_type: body.integration_type,
        name: body.name,
        client_id: body.client_id,
        client_secret: body.client_secret,
        auth_uri: body.auth_uri,
        token_uri: body.token_uri,
        scope: body.scope,
        api_uri: body.api_uri,
        tenant: body.tenant,
    };
    let integration = integrations::update(&state, &user.0, id, changes).await?;
    Ok(axum::Json(IntegrationBody::new(integration, None)))
}

/// Delete an integration no library uses (admin).
#[utoipa::path(delete, path = "/api/integrations/{id}", tag = "integrations", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete_integration(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    integrations::delete(&state, &user.0, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The integration a library uses.
#[utoipa::path(get, path = "/api/libraries/{id}/integration", tag = "connections",
    params(("id" = String, Path, description = "UUID or natural id")),
    responses((status = 200, body = IntegrationBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn get_library_integration(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<axum::Json<IntegrationBody>> {
    let (integration, library_id) = integrations::of_library(&state, &user.0, &key).await?;
    Ok(axum::Json(IntegrationBody::new(
        integration,
        Some(library_id),
    )))
}

/// Set the integration a library uses (needs library:write). The
/// integration's provider must serve the library's type (OneDrive and
/// SharePoint libraries take either Microsoft type). Changing it drops the
/// library's connection (its tokens belong to the other client).
#[utoipa::path(put, path = "/api/libraries/{id}/integration", tag = "connections", request_body = PutLibraryIntegration,
    params(("id" = String, Path, description = "UUID or natural id")),
    responses((status = 200, body = IntegrationBody), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn put_library_integration(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<PutLibraryIntegration>,
) -> ApiResult<axum::Json<IntegrationBody>> {
    let (integration, library_id) =
        integrations::set_for_library(&state, &user.0, &key, body.integration_id).await?;
    Ok(axum::Json(IntegrationBody::new(
        integration,
        Some(library_id),
    )))
}
