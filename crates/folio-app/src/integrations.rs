//! Integrations: OAuth clients registered with a provider (admins manage
//! them), and the one a library uses. A client secret is write-only:
//! sealed at rest, never returned or logged. `authUri`, `tokenUri`,
//! `apiUri` and `scope` default to the provider's real values
//! (folio-oauth's `provider`).

use chrono::Utc;
use folio_domain::Permission;
use folio_oauth::provider::{UnknownType, parse_url};
use folio_oauth::{Endpoints, IntegrationType, SecretString};
use folio_store::{Integration, StoreError, User};
use uuid::Uuid;

use crate::access::{load_library, require_admin};
use crate::{App, AppError, AppResult};

/// A new integration. `integration_type`, `name`, `client_id` and
/// `client_secret` are required; the rest default to the provider's.
#[derive(Debug, Clone, Default)]
pub struct IntegrationDraft {
    pub integration_type: Option<String>,
    pub name: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub auth_uri: Option<String>,
    pub token_uri: Option<String>,
    pub scope: Option<String>,
    pub api_uri: Option<String>,
    pub tenant: Option<String>,
}

/// Fields to change: `None` keeps a field; `Some(None)` resets an
/// endpoint, the scope or the tenant to the provider's default. The type
/// cannot change (only the integration's own is accepted).
#[derive(Debug, Clone, Default)]
pub struct IntegrationChanges {
    pub integration_type: Option<String>,
    pub name: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub auth_uri: Option<Option<String>>,
    pub token_uri: Option<Option<String>>,
    pub scope: Option<Option<String>>,
    pub api_uri: Option<Option<String>>,
    pub tenant: Option<Option<String>>,
}

/// The endpoints an integration really uses: its own, or its provider's
/// defaults. `None` for an integration with a field that no longer
/// resolves.
pub fn effective_endpoints(integration: &Integration) -> Option<Endpoints> {
    let t = integration.integration_type;
    Endpoints::resolve(
        t,
        integration.auth_uri.as_deref(),
        integration.token_uri.as_deref(),
        integration.api_uri.as_deref(),
        integration.scope.as_deref(),
        integration.tenant.as_deref(),
    )
    .ok()
}

fn required(field: &'static str, value: Option<String>) -> AppResult<String> {
    value.ok_or_else(|| AppError::Invalid(format!("{field}: required")))
}

/// A short single-line text field: trimmed, 1..=max characters.
fn text(field: &'static str, value: &str, max: usize) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(AppError::Invalid(format!(
            "{field}: must be 1 to {max} characters without control characters"
        )));
    }
    Ok(v.to_owned())
}

/// A secret: non-empty, bounded; kept as is (no trimming of its content).
fn secret(value: &str) -> AppResult<SecretString> {
    if value.trim().is_empty()
        || value.chars().count() > 4096
        || value.chars().any(char::is_control)
    {
        return Err(AppError::Invalid(
            "clientSecret: must be 1 to 4096 characters".into(),
        ));
    }
    Ok(SecretString::from(value.to_owned()))
}

fn url_field(app: &App, field: &'static str, value: Option<String>) -> AppResult<Option<String>> {
    let Some(raw) = value else { return Ok(None) };
    let url = parse_url(field, raw.trim()).map_err(|e| AppError::Invalid(e.to_string()))?;
    app.tokens
        .policy()
        .check_static(field, &url)
        .map_err(|e| AppError::Invalid(e.to_string()))?;
    Ok(Some(url.to_string()))
}

fn tenant_field(itype: IntegrationType, value: Option<String>) -> AppResult<Option<String>> {
    let Some(raw) = value else { return Ok(None) };
    if !folio_oauth::provider::has_tenant(itype) {
        return Err(AppError::Invalid(
            "tenant: only onedrive and sharepoint integrations have a tenant".into(),
        ));
    }
    let ok = !raw.is_empty()
        && raw.len() <= 100
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if !ok {
        return Err(AppError::Invalid(
            "tenant: must be common, organizations, consumers, a tenant id or a domain".into(),
        ));
    }
    Ok(Some(raw))
}

fn scope_field(value: Option<String>) -> AppResult<Option<String>> {
    value.map(|s| text("scope", &s, 2000)).transpose()
}

/// Every integration (admins only).
pub async fn list(app: &App, caller: &User) -> AppResult<Vec<Integration>> {
    require_admin(caller)?;
    Ok(app.store.list_integrations().await?)
}

/// Registers an OAuth client (admins only); the secret is sealed at rest.
pub async fn create(app: &App, caller: &User, draft: IntegrationDraft) -> AppResult<Integration> {
    require_admin(caller)?;
    let itype: IntegrationType = required("type", draft.integration_type)?
        .parse()
        .map_err(|e: UnknownType| AppError::Invalid(e.to_string()))?;
    let name = text("name", &required("name", draft.name)?, 200)?;
    let client_id = text("clientId", &required("clientId", draft.client_id)?, 500)?;
    let client_secret = secret(&required("clientSecret", draft.client_secret)?)?;
    let now = Utc::now();
    let id = Uuid::now_v7();
    let integration = Integration {
        id,
        integration_type: itype,
        name,
        client_id,
        client_secret_sealed: app
            .tokens
            .seal_client_secret(id, &client_secret)
            .map_err(AppError::internal)?,
        auth_uri: url_field(app, "authUri", draft.auth_uri)?,
        token_uri: url_field(app, "tokenUri", draft.token_uri)?,
        scope: scope_field(draft.scope)?,
        api_uri: url_field(app, "apiUri", draft.api_uri)?,
        tenant: tenant_field(itype, draft.tenant)?,
        created_at: now,
        updated_at: now,
    };
    app.store.create_integration(&integration).await?;
    tracing::info!(integration = %id, r#type = itype.as_str(), "integration created");
    Ok(integration)
}

async fn find(app: &App, id: Uuid) -> AppResult<Integration> {
    app.store
        .integration(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("integration '{id}' not found")))
}

/// One integration (admins only).
pub async fn get(app: &App, caller: &User, id: Uuid) -> AppResult<Integration> {
    require_admin(caller)?;
    find(app, id).await
}

/// Changes an integration (admins only).
pub async fn update(
    app: &App,
    caller: &User,
    id: Uuid,
    changes: IntegrationChanges,
) -> AppResult<Integration> {
    require_admin(caller)?;
    let mut integration = find(app, id).await?;
    let itype = integration.integration_type;
    if changes
        .integration_type
        .as_deref()
        .is_some_and(|t| t != itype.as_str())
    {
        return Err(AppError::Invalid(
            "type: cannot be changed; create another integration".into(),
        ));
    }
    if let Some(name) = changes.name {
        integration.name = text("name", &name, 200)?;
    }
    if let Some(client_id) = changes.client_id {
        integration.client_id = text("clientId", &client_id, 500)?;
    }
    if let Some(raw) = changes.client_secret {
        integration.client_secret_sealed = app
            .tokens
            .seal_client_secret(id, &secret(&raw)?)
            .map_err(AppError::internal)?;
    }
    if let Some(v) = changes.auth_uri {
        integration.auth_uri = url_field(app, "authUri", v)?;
    }
    if let Some(v) = changes.token_uri {
        integration.token_uri = url_field(app, "tokenUri", v)?;
    }
    if let Some(v) = changes.api_uri {
        integration.api_uri = url_field(app, "apiUri", v)?;
    }
    if let Some(v) = changes.scope {
        integration.scope = scope_field(v)?;
    }
    if let Some(v) = changes.tenant {
        integration.tenant = tenant_field(itype, v)?;
    }
    integration.updated_at = Utc::now();
    app.store.update_integration(&integration).await?;
    Ok(integration)
}

/// Deletes an integration no library uses (admins only).
pub async fn delete(app: &App, caller: &User, id: Uuid) -> AppResult<()> {
    require_admin(caller)?;
    match app.store.delete_integration(id).await {
        Ok(()) => Ok(()),
        Err(StoreError::NotFound(_)) => {
            Err(AppError::NotFound(format!("integration '{id}' not found")))
        }
        Err(StoreError::Conflict(_)) => Err(AppError::Conflict(format!(
            "integration '{id}' is used by a library; give the library another integration first"
        ))),
        Err(other) => Err(other.into()),
    }
}

/// The integration library `key` uses, and the library's id.
pub async fn of_library(app: &App, caller: &User, key: &str) -> AppResult<(Integration, Uuid)> {
    let library = load_library(app, caller, key, Permission::Read).await?;
    let integration = crate::connections::integration_of(app, &library, key).await?;
    Ok((integration, library.id))
}

/// Sets the integration library `key` uses (needs `library:write`). Its
/// provider must serve the library's type; changing it drops the library's
/// connection (its tokens belong to the other client).
pub async fn set_for_library(
    app: &App,
    caller: &User,
    key: &str,
    integration_id: Option<Uuid>,
) -> AppResult<(Integration, Uuid)> {
    let library = load_library(app, caller, key, Permission::Write).await?;
    let integration_id =
        integration_id.ok_or_else(|| AppError::Invalid("integrationId: required".into()))?;
    let integration = app
        .store
        .integration(integration_id)
        .await?
        .ok_or_else(|| {
            AppError::Invalid(format!("integrationId: no integration '{integration_id}'"))
        })?;
    let itype = integration.integration_type;
    if !folio_oauth::provider::serves_library_type(itype, library.library_type) {
        return Err(AppError::Invalid(format!(
            "integrationId: a '{itype}' integration cannot serve a '{}' library",
            library.library_type
        )));
    }
    if let Some(dropped) = app
        .store
        .set_library_integration(library.id, integration.id)
        .await?
    {
        crate::connections::drop_replaced(app, library.id, &dropped).await;
    }
    Ok((integration, library.id))
}
