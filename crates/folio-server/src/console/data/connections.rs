//! Integrations, a library's connection to its provider (connect,
//! the account, disconnect) and the provider's folders.

use axum::http::StatusCode;
use folio_app::integrations::{IntegrationChanges, IntegrationDraft};
use serde_json::Value;
use uuid::Uuid;

use super::{
    Account, Connection, Data, DataResult, Folder, Integration, ProviderDefaults, Session, as_view,
    failure,
};
use crate::routes::integrations::IntegrationBody;

impl Data {
    pub async fn integrations(&self, session: &Session) -> DataResult<Vec<Integration>> {
        let user = self.user(session).await?;
        let list = folio_app::integrations::list(&self.state, &user)
            .await
            .map_err(failure)?;
        list.into_iter()
            .map(|i| integration_view(i, None))
            .collect()
    }

    pub async fn integration(&self, session: &Session, id: Uuid) -> DataResult<Integration> {
        let user = self.user(session).await?;
        let integration = folio_app::integrations::get(&self.state, &user, id)
            .await
            .map_err(failure)?;
        integration_view(integration, None)
    }

    /// Registers an integration (the service `POST /api/integrations`
    /// calls).
    pub async fn create_integration(
        &self,
        session: &Session,
        draft: IntegrationDraft,
    ) -> DataResult<Uuid> {
        let user = self.user(session).await?;
        folio_app::integrations::create(&self.state, &user, draft)
            .await
            .map(|i| i.id)
            .map_err(failure)
    }

    /// Changes an integration (the service `PATCH /api/integrations/{id}`
    /// calls).
    pub async fn update_integration(
        &self,
        session: &Session,
        id: Uuid,
        changes: IntegrationChanges,
    ) -> DataResult<()> {
        let user = self.user(session).await?;
        folio_app::integrations::update(&self.state, &user, id, changes)
            .await
            .map(drop)
            .map_err(failure)
    }

    /// The provider's real addresses and least scopes for a type.
    pub fn provider_defaults(integration_type: &str) -> ProviderDefaults {
        let Ok(kind) = integration_type.parse::<folio_oauth::IntegrationType>() else {
            return ProviderDefaults::default();
        };
        match folio_oauth::Endpoints::resolve(kind, None, None, None, None, None) {
            Ok(e) => ProviderDefaults {
                auth_uri: e.auth_uri.to_string(),
                token_uri: e.token_uri.to_string(),
                api_uri: e.api_uri.to_string(),
                scope: e.scope,
                tenant: e.tenant,
            },
            Err(_) => ProviderDefaults::default(),
        }
    }

    /// The library's integration, if it has one.
    pub async fn library_integration(
        &self,
        session: &Session,
        key: &str,
    ) -> DataResult<Option<Integration>> {
        let user = self.user(session).await?;
        match folio_app::integrations::of_library(&self.state, &user, key).await {
            Ok((integration, library_id)) => {
                integration_view(integration, Some(library_id)).map(Some)
            }
            Err(err) => {
                let f = failure(err);
                if f.status == StatusCode::CONFLICT || f.is_not_found() {
                    // Not found also means "no such library": tell them apart.
                    self.library(session, key).await?;
                    Ok(None)
                } else {
                    Err(f)
                }
            }
        }
    }

    pub async fn choose_integration(
        &self,
        session: &Session,
        key: &str,
        integration_id: Uuid,
    ) -> DataResult<()> {
        let user = self.user(session).await?;
        folio_app::integrations::set_for_library(&self.state, &user, key, Some(integration_id))
            .await
            .map(drop)
            .map_err(failure)
    }

    pub async fn connection(&self, session: &Session, key: &str) -> DataResult<Option<Connection>> {
        let user = self.user(session).await?;
        match folio_app::connections::get(&self.state, &user, key).await {
            Ok(c) => Ok(Some(Connection {
                status: c.status,
                provider_account_id: c.provider_account_id,
                integration_id: c.integration_id,
            })),
            Err(err) => {
                let f = failure(err);
                if f.status == StatusCode::CONFLICT {
                    Ok(None)
                } else {
                    Err(f)
                }
            }
        }
    }

    /// The connected account, read live from the provider.
    pub async fn account(&self, session: &Session, key: &str) -> DataResult<Account> {
        let user = self.user(session).await?;
        let account = folio_app::connections::account(&self.state, &user, key)
            .await
            .map_err(failure)?;
        Ok(Account {
            email: account.email,
            display_name: account.display_name,
            account_id: account.account_id,
        })
    }

    /// The provider's consent page to send the browser to; the flow comes
    /// back to `return_to` (a path on Folio).
    pub async fn authorize_url(
        &self,
        session: &Session,
        key: &str,
        return_to: &str,
        switch_account: bool,
    ) -> DataResult<String> {
        let user = self.user(session).await?;
        let request = folio_app::connections::ConnectRequest {
            return_to: Some(return_to.to_owned()),
            switch_account,
            login_hint: None,
        };
        folio_app::connections::begin(&self.state, &user, key, request)
            .await
            .map(|url| url.to_string())
            .map_err(failure)
    }

    pub async fn disconnect(&self, session: &Session, key: &str) -> DataResult<()> {
        let user = self.user(session).await?;
        folio_app::connections::disconnect(&self.state, &user, key)
            .await
            .map(drop)
            .map_err(failure)
    }

    /// The remote folders under `parent` (the root: `None`).
    pub async fn folders(
        &self,
        session: &Session,
        key: &str,
        parent: Option<&str>,
    ) -> DataResult<Vec<Folder>> {
        let user = self.user(session).await?;
        let folders = folio_app::sync::folders(&self.state, &user, key, parent)
            .await
            .map_err(failure)?;
        Ok(folders
            .into_iter()
            .map(|f| Folder {
                id: f.id,
                name: f.name,
                source: serde_json::to_value(&f.source).unwrap_or(Value::Null),
            })
            .collect())
    }
}

/// An integration as the API shows it: the endpoints it really uses (its
/// own or its provider's), never the secret.
fn integration_view(
    integration: folio_store::Integration,
    library_id: Option<Uuid>,
) -> DataResult<Integration> {
    as_view(IntegrationBody::new(integration, library_id))
}
