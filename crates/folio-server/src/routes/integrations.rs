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
use folio_domain::Permission;
use folio_oauth::{Endpoints, IntegrationType, SecretString, provider::parse_url};
use folio_store::Integration;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath};
use crate::routes::libraries::load_library;
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
        let resolved = integration
            .integration_type
            .parse::<IntegrationType>()
            .ok()
            .and_then(|t| endpoints_of(t, &integration).ok());
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
            integration_type: integration.integration_type,
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

fn endpoints_of(t: IntegrationType, i: &Integration) -> Result<Endpoints, folio_oauth::FieldError> {
    Endpoints::resolve(
        t,
        i.auth_uri.as_deref(),
        i.token_uri.as_deref(),
        i.api_uri.as_deref(),
        i.scope.as_deref(),
        i.tenant.as_deref(),
    )
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
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = "uri")]
    pub auth_uri: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = "uri")]
    pub token_uri: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub scope: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = "uri")]
    pub api_uri: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub tenant: Option<Option<String>>,
}

fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
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
            .enum_values(Some(IntegrationType::ALL.iter().map(|k| k.as_str())))
            .into()
    }
}

impl ToSchema for IntegrationKind {}

fn required(field: &'static str, value: Option<String>) -> ApiResult<String> {
    value.ok_or_else(|| ApiError::BadRequest(format!("{field}: required")))
}

/// A short single-line text field: trimmed, 1..=max characters.
fn text(field: &'static str, value: &str, max: usize) -> ApiResult<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(format!(
            "{field}: must be 1 to {max} characters without control characters"
        )));
    }
    Ok(v.to_owned())
}

/// A secret: non-empty, bounded; kept as is (no trimming of its content).
fn secret(value: &str) -> ApiResult<SecretString> {
    if value.trim().is_empty()
        || value.chars().count() > 4096
        || value.chars().any(char::is_control)
    {
        return Err(ApiError::BadRequest(
            "clientSecret: must be 1 to 4096 characters".into(),
        ));
    }
    Ok(SecretString::from(value.to_owned()))
}

fn url_field(
    state: &AppState,
    field: &'static str,
    value: Option<String>,
) -> ApiResult<Option<String>> {
    let Some(raw) = value else { return Ok(None) };
    let url = parse_url(field, raw.trim()).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    state
        .tokens
        .policy()
        .check_static(field, &url)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(Some(url.to_string()))
}

fn tenant_field(itype: IntegrationType, value: Option<String>) -> ApiResult<Option<String>> {
    let Some(raw) = value else { return Ok(None) };
    if !folio_oauth::provider::has_tenant(itype) {
        return Err(ApiError::BadRequest(
            "tenant: only onedrive and sharepoint integrations have a tenant".into(),
        ));
    }
    let ok = !raw.is_empty()
        && raw.len() <= 100
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if !ok {
        return Err(ApiError::BadRequest(
            "tenant: must be common, organizations, consumers, a tenant id or a domain".into(),
        ));
    }
    Ok(Some(raw))
}

fn scope_field(value: Option<String>) -> ApiResult<Option<String>> {
    value.map(|s| text("scope", &s, 2000)).transpose()
}

/// Every integration (admin).
#[utoipa::path(get, path = "/api/integrations", tag = "integrations",
    responses((status = 200, body = IntegrationList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_integrations(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<axum::Json<IntegrationList>> {
    user.require_admin()?;
    let items = state.store.list_integrations().await?;
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
    user.require_admin()?;
    let itype: IntegrationType = required("type", body.integration_type)?
        .parse()
        .map_err(|e: folio_oauth::provider::UnknownType| ApiError::BadRequest(e.to_string()))?;
    let name = text("name", &required("name", body.name)?, 200)?;
    let client_id = text("clientId", &required("clientId", body.client_id)?, 500)?;
    let client_secret = secret(&required("clientSecret", body.client_secret)?)?;
    let now = Utc::now();
    let id = Uuid::now_v7();
    let integration = Integration {
        id,
        integration_type: itype.as_str().to_owned(),
        name,
        client_id,
        client_secret_sealed: state
            .tokens
            .seal_client_secret(id, &client_secret)
            .map_err(ApiError::internal)?,
        auth_uri: url_field(&state, "authUri", body.auth_uri)?,
        token_uri: url_field(&state, "tokenUri", body.token_uri)?,
        scope: scope_field(body.scope)?,
        api_uri: url_field(&state, "apiUri", body.api_uri)?,
        tenant: tenant_field(itype, body.tenant)?,
        created_at: now,
        updated_at: now,
    };
    state.store.create_integration(&integration).await?;
    tracing::info!(integration = %id, r#type = itype.as_str(), "integration created");
    Ok((
        StatusCode::CREATED,
        axum::Json(IntegrationBody::new(integration, None)),
    ))
}

async fn find(state: &AppState, id: Uuid) -> ApiResult<Integration> {
    state
        .store
        .integration(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("integration '{id}' not found")))
}

/// One integration (admin).
#[utoipa::path(get, path = "/api/integrations/{id}", tag = "integrations", params(("id" = Uuid, Path)),
    responses((status = 200, body = IntegrationBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_integration(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<axum::Json<IntegrationBody>> {
    user.require_admin()?;
    Ok(axum::Json(IntegrationBody::new(
        find(&state, id).await?,
        None,
    )))
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
    user.require_admin()?;
    let mut integration = find(&state, id).await?;
    let itype: IntegrationType =
        integration
            .integration_type
            .parse()
            .map_err(|e: folio_oauth::provider::UnknownType| {
                ApiError::internal(anyhow::anyhow!(e.to_string()))
            })?;
    if body
        .integration_type
        .as_deref()
        .is_some_and(|t| t != itype.as_str())
    {
        return Err(ApiError::BadRequest(
            "type: cannot be changed; create another integration".into(),
        ));
    }
    if let Some(name) = body.name {
        integration.name = text("name", &name, 200)?;
    }
    if let Some(client_id) = body.client_id {
        integration.client_id = text("clientId", &client_id, 500)?;
    }
    if let Some(raw) = body.client_secret {
        integration.client_secret_sealed = state
            .tokens
            .seal_client_secret(id, &secret(&raw)?)
            .map_err(ApiError::internal)?;
    }
    if let Some(v) = body.auth_uri {
        integration.auth_uri = url_field(&state, "authUri", v)?;
    }
    if let Some(v) = body.token_uri {
        integration.token_uri = url_field(&state, "tokenUri", v)?;
    }
    if let Some(v) = body.api_uri {
        integration.api_uri = url_field(&state, "apiUri", v)?;
    }
    if let Some(v) = body.scope {
        integration.scope = scope_field(v)?;
    }
    if let Some(v) = body.tenant {
        integration.tenant = tenant_field(itype, v)?;
    }
    integration.updated_at = Utc::now();
    state.store.update_integration(&integration).await?;
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
    user.require_admin()?;
    match state.store.delete_integration(id).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(folio_store::StoreError::NotFound(_)) => {
            Err(ApiError::NotFound(format!("integration '{id}' not found")))
        }
        Err(folio_store::StoreError::Conflict(_)) => Err(ApiError::Conflict(format!(
            "integration '{id}' is used by a library; give the library another integration first"
        ))),
        Err(other) => Err(other.into()),
    }
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
    let library = load_library(&state, &user, &key, Permission::Read).await?;
    let integration = state
        .store
        .library_integration(library.id)
        .await?
        .ok_or_else(|| crate::routes::connections::no_integration(&key))?;
    Ok(axum::Json(IntegrationBody::new(
        integration,
        Some(library.id),
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
    let library = load_library(&state, &user, &key, Permission::Write).await?;
    let integration_id = body
        .integration_id
        .ok_or_else(|| ApiError::BadRequest("integrationId: required".into()))?;
    let integration = state
        .store
        .integration(integration_id)
        .await?
        .ok_or_else(|| {
            ApiError::BadRequest(format!("integrationId: no integration '{integration_id}'"))
        })?;
    let itype: IntegrationType =
        integration
            .integration_type
            .parse()
            .map_err(|e: folio_oauth::provider::UnknownType| {
                ApiError::internal(anyhow::anyhow!(e.to_string()))
            })?;
    if !folio_oauth::provider::serves_library_type(itype, &library.library_type) {
        return Err(ApiError::BadRequest(format!(
            "integrationId: a '{itype}' integration cannot serve a '{}' library",
            library.library_type
        )));
    }
    if let Some(dropped) = state
        .store
        .set_library_integration(library.id, integration.id)
        .await?
    {
        tracing::info!(library = %library.id, connection = %dropped.id, "integration changed; the old connection is revoked and removed");
        if let Err(err) = state.tokens.disconnect(&dropped).await {
            tracing::warn!(error = %err, "revoking the old connection failed");
        }
    }
    Ok(axum::Json(IntegrationBody::new(
        integration,
        Some(library.id),
    )))
}
