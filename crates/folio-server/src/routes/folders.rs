//! `GET /api/libraries/{id}/connection/folders`: the remote folders a user
//! can pick as the library's `source`.

use axum::extract::State;
use folio_domain::LibrarySource;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AuthUser;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_folders))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FoldersQuery {
    /// A folder id from an earlier answer; default: the root of the
    /// library's current `source`, or of the account.
    pub parent: Option<String>,
}

/// A remote folder and the `source` that would make the library sync it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FolderBody {
    pub id: String,
    pub name: String,
    pub source: LibrarySource,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FolderList {
    pub items: Vec<FolderBody>,
}

/// The remote folders under `parent`, read live from the provider.
#[utoipa::path(get, path = "/api/libraries/{id}/connection/folders", tag = "connections",
    params(("id" = String, Path, description = "UUID or natural id"), FoldersQuery),
    responses((status = 200, body = FolderList), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
async fn list_folders(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(key): ApiPath<String>,
    ApiQuery(query): ApiQuery<FoldersQuery>,
) -> ApiResult<axum::Json<FolderList>> {
    let folders = folio_app::sync::folders(&state, &user.0, &key, query.parent.as_deref()).await?;
    let items = folders
        .into_iter()
        .map(|f| FolderBody {
            id: f.id,
            name: f.name,
            source: f.source,
        })
        .collect();
    Ok(axum::Json(FolderList { items }))
}
