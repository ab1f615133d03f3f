//! `/integrations` (admins): the OAuth clients Folio uses, one form per
//! provider type with the provider's real addresses and least scopes filled
//! in, the client secret write-only, and the redirect URI to register with
//! the provider (with a copy button).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use folio_app::integrations::{IntegrationChanges, IntegrationDraft};
use serde::Deserialize;
use uuid::Uuid;

use super::data::{Data, Integration, ProviderDefaults};
use super::libraries::LIBRARY_TYPES;
use super::page::{Chrome, Viewer, failure_page_for, ok, render, type_name};

/// The provider types an integration can have (every library type but
/// `local`).
fn provider_types() -> Vec<(&'static str, &'static str)> {
    LIBRARY_TYPES
        .iter()
        .copied()
        .filter(|(t, _)| *t != "local")
        .collect()
}

pub struct IntegrationRow {
    pub name: String,
    pub type_name: &'static str,
    pub client_id: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "integrations.html")]
struct IntegrationsPage {
    chrome: Chrome,
    rows: Vec<IntegrationRow>,
    types: Vec<(&'static str, &'static str)>,
    redirect_uri: String,
}

pub async fn list(State(data): State<Data>, viewer: Viewer) -> Response {
    let integrations = match data.integrations(&viewer.session).await {
        Ok(list) => list,
        Err(failure) => return failure_page_for(viewer.chrome("Integrations"), failure, "/"),
    };
    ok(&IntegrationsPage {
        chrome: viewer.chrome("Integrations"),
        rows: integrations
            .into_iter()
            .map(|i| IntegrationRow {
                href: format!("/integrations/{}", i.id),
                type_name: type_name(&i.integration_type),
                name: i.name,
                client_id: i.client_id,
            })
            .collect(),
        types: provider_types(),
        redirect_uri: data.redirect_uri(),
    })
}

/// The form's values.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Fields {
    #[serde(default)]
    pub csrf: String,
    #[serde(default, rename = "type")]
    pub integration_type: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    #[serde(default)]
    pub auth_uri: String,
    #[serde(default)]
    pub token_uri: String,
    #[serde(default)]
    pub api_uri: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub tenant: String,
}

impl Fields {
    fn defaults(integration_type: &str) -> Self {
        let d = Data::provider_defaults(integration_type);
        Self {
            integration_type: integration_type.to_owned(),
            auth_uri: d.auth_uri,
            token_uri: d.token_uri,
            api_uri: d.api_uri,
            scope: d.scope,
            tenant: d.tenant.unwrap_or_default(),
            ..Self::default()
        }
    }

    fn of(i: Integration) -> Self {
        Self {
            integration_type: i.integration_type,
            name: i.name,
            client_id: i.client_id,
            auth_uri: i.auth_uri,
            token_uri: i.token_uri,
            api_uri: i.api_uri,
            scope: i.scope,
            tenant: i.tenant.unwrap_or_default(),
            ..Self::default()
        }
    }

    fn is_microsoft(&self) -> bool {
        matches!(self.integration_type.as_str(), "onedrive" | "sharepoint")
    }

    /// A new integration from the form: the fields left at the provider's
    /// defaults are not given (so they follow the defaults), the secret
    /// only when typed.
    fn draft(&self) -> IntegrationDraft {
        let defaults = Data::provider_defaults(&self.integration_type);
        IntegrationDraft {
            integration_type: Some(self.integration_type.clone()),
            name: Some(self.name.trim().to_owned()),
            client_id: Some(self.client_id.trim().to_owned()),
            client_secret: self.typed_secret(),
            auth_uri: own_value(&self.auth_uri, &defaults.auth_uri),
            token_uri: own_value(&self.token_uri, &defaults.token_uri),
            scope: own_value(&self.scope, &defaults.scope),
            api_uri: own_value(&self.api_uri, &defaults.api_uri),
            tenant: self.tenant_change(&defaults).flatten(),
        }
    }

    /// The changes the edit form makes: a field left empty or at the
    /// provider's default goes back to following the default; the type
    /// never changes; the secret only when typed.
    fn changes(&self) -> IntegrationChanges {
        let defaults = Data::provider_defaults(&self.integration_type);
        IntegrationChanges {
            integration_type: None,
            name: Some(self.name.trim().to_owned()),
            client_id: Some(self.client_id.trim().to_owned()),
            client_secret: self.typed_secret(),
            auth_uri: Some(own_value(&self.auth_uri, &defaults.auth_uri)),
            token_uri: Some(own_value(&self.token_uri, &defaults.token_uri)),
            scope: Some(own_value(&self.scope, &defaults.scope)),
            api_uri: Some(own_value(&self.api_uri, &defaults.api_uri)),
            tenant: self.tenant_change(&defaults),
        }
    }

    fn typed_secret(&self) -> Option<String> {
        (!self.client_secret.is_empty()).then(|| self.client_secret.clone())
    }

    /// Only Microsoft's integrations have a tenant (`None`: not touched).
    fn tenant_change(&self, defaults: &ProviderDefaults) -> Option<Option<String>> {
        self.is_microsoft()
            .then(|| own_value(&self.tenant, defaults.tenant.as_deref().unwrap_or_default()))
    }
}

/// A field's own value: `None` when it is empty or the provider's default.
fn own_value(value: &str, default: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty() && value != default.trim()).then(|| value.to_owned())
}

#[derive(Template)]
#[template(path = "integration_form.html")]
struct FormPage {
    chrome: Chrome,
    heading: String,
    action: String,
    creating: bool,
    type_label: &'static str,
    microsoft: bool,
    fields: Fields,
    redirect_uri: String,
    error: Option<String>,
}

fn form_page(
    viewer: &Viewer,
    data: &Data,
    fields: Fields,
    action: String,
    creating: bool,
    error: Option<String>,
) -> FormPage {
    FormPage {
        chrome: viewer.chrome(if creating {
            "New integration"
        } else {
            "Edit integration"
        }),
        heading: if creating {
            format!("New {} integration", type_name(&fields.integration_type))
        } else {
            format!("Edit {}", fields.name)
        },
        action,
        creating,
        type_label: type_name(&fields.integration_type),
        microsoft: fields.is_microsoft(),
        redirect_uri: data.redirect_uri(),
        fields,
        error,
    }
}

#[derive(Deserialize)]
pub struct NewQuery {
    #[serde(rename = "type")]
    integration_type: Option<String>,
}

pub async fn new_form(
    State(data): State<Data>,
    viewer: Viewer,
    Query(query): Query<NewQuery>,
) -> Response {
    let integration_type = query
        .integration_type
        .filter(|t| provider_types().iter().any(|(known, _)| known == t))
        .unwrap_or_else(|| "google-drive".to_owned());
    ok(&form_page(
        &viewer,
        &data,
        Fields::defaults(&integration_type),
        "/integrations".to_owned(),
        true,
        None,
    ))
}

pub async fn create(
    State(data): State<Data>,
    viewer: Viewer,
    Form(fields): Form<Fields>,
) -> Response {
    if let Some(refused) = viewer.refuse_form(&fields.csrf) {
        return refused;
    }
    match data
        .create_integration(&viewer.session, fields.draft())
        .await
    {
        Ok(_) => Redirect::to("/integrations").into_response(),
        Err(failure) => render(
            failure.status,
            &form_page(
                &viewer,
                &data,
                Fields {
                    client_secret: String::new(),
                    ..fields
                },
                "/integrations".to_owned(),
                true,
                Some(failure.message),
            ),
        ),
    }
}

pub async fn edit_form(State(data): State<Data>, viewer: Viewer, Path(id): Path<Uuid>) -> Response {
    match data.integration(&viewer.session, id).await {
        Ok(integration) => ok(&form_page(
            &viewer,
            &data,
            Fields::of(integration),
            format!("/integrations/{id}"),
            false,
            None,
        )),
        Err(failure) => failure_page_for(viewer.chrome("Integration"), failure, "/integrations"),
    }
}

pub async fn update(
    State(data): State<Data>,
    viewer: Viewer,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Some(refused) = viewer.refuse_form(&fields.csrf) {
        return refused;
    }
    // The type comes from the stored integration, not from the form.
    let stored = match data.integration(&viewer.session, id).await {
        Ok(stored) => stored,
        Err(failure) => {
            return failure_page_for(viewer.chrome("Integration"), failure, "/integrations");
        }
    };
    let fields = Fields {
        integration_type: stored.integration_type,
        ..fields
    };
    match data
        .update_integration(&viewer.session, id, fields.changes())
        .await
    {
        Ok(()) => Redirect::to("/integrations").into_response(),
        Err(failure) => render(
            failure.status,
            &form_page(
                &viewer,
                &data,
                Fields {
                    client_secret: String::new(),
                    ..fields
                },
                format!("/integrations/{id}"),
                false,
                Some(failure.message),
            ),
        ),
    }
}
