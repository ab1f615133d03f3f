//! The OpenAPI document served at `/api/openapi.json`.
//!
//! Paths come from each handler's `#[utoipa::path]` through
//! `utoipa_axum`'s router; the wildcard file routes, which utoipa cannot
//! register itself, are added here by name.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::files;

#[derive(OpenApi)]
#[openapi(
    info(title = "Folio", description = "A document-library server that keeps libraries in sync with Google Drive, OneDrive, SharePoint and Dropbox."),
    paths(files::download_file, files::upload_file, files::delete_file),
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
