//! A library's OAuth connection: showing it, the connect flow (authorize,
//! then the provider's callback), the connected account, disconnecting.
//! Token failures come back as [`AppError`] kinds; the front end says
//! where to go next.

use folio_domain::Permission;
use folio_oauth::{Account, AuthorizeRequest, Authorized, OAuthError, TokenError};
use folio_store::{Connection, Integration, Library, User};
use url::Url;
use uuid::Uuid;

use crate::access::load_library;
use crate::{App, AppError, AppResult};

/// Where a library is connected (again): the API route every client, the
/// CLI and the console included, sends a person to.
pub fn authorize_route(key: &str) -> String {
    format!("GET /api/libraries/{key}/connection/authorize")
}

/// The redirect URI Folio registers with providers.
pub fn callback_url(app: &App) -> String {
    format!("{}/api/oauth/callback", app.public_url())
}

/// `raw` as an absolute URL if a connect flow may return to it: same
/// origin as the public URL (relative paths resolve against it) or a
/// configured origin.
pub fn allowed_return_to(app: &App, raw: &str) -> Option<String> {
    let base = Url::parse(&format!("{}/", app.public_url())).ok()?;
    let url = base.join(raw).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return None;
    }
    let origin = url.origin().ascii_serialization();
    let allowed = origin == base.origin().ascii_serialization()
        || app
            .config
            .allowed_return_origins
            .iter()
            .any(|o| o.trim_end_matches('/') == origin);
    allowed.then(|| url.to_string())
}

/// The token lifecycle's failures, for library `key`.
pub fn token_error(err: TokenError, key: &str) -> AppError {
    match err {
        TokenError::NotFound => AppError::NoConnection {
            library: key.to_owned(),
        },
        TokenError::NeedsReauthorization { .. } => AppError::NeedsReauthorization {
            library: key.to_owned(),
            message: err.to_string(),
        },
        TokenError::Revoked => AppError::Refused(err.to_string()),
        TokenError::InvalidState => AppError::StaleAuthorization(err.to_string()),
        TokenError::DifferentAccount { .. } | TokenError::IntegrationChanged => {
            AppError::Conflict(err.to_string())
        }
        TokenError::Integration(field) => AppError::Invalid(field.to_string()),
        TokenError::Busy => AppError::Unavailable(err.to_string()),
        TokenError::Provider(e) => oauth_provider_error(e),
        TokenError::Store(e) => e.into(),
        TokenError::Seal(e) => AppError::internal(e),
    }
}

fn oauth_provider_error(err: OAuthError) -> AppError {
    match err {
        OAuthError::InvalidGrant(_) => AppError::Refused(format!(
            "{err}; nothing was stored, start the connection again"
        )),
        OAuthError::InvalidClient(_) => AppError::Refused(format!(
            "{err}; an admin must fix the integration's clientId/clientSecret"
        )),
        OAuthError::Provider { status, .. } if status < 500 && status != 429 => {
            AppError::Refused(err.to_string())
        }
        other => AppError::ProviderFailed(other.to_string()),
    }
}

async fn connection_of(app: &App, library: &Library, key: &str) -> AppResult<Connection> {
    app.store
        .connection_for_library(library.id)
        .await?
        .ok_or_else(|| AppError::NoConnection {
            library: key.to_owned(),
        })
}

/// The integration library `key` uses (read with the caller's rights).
pub async fn integration_of(app: &App, library: &Library, key: &str) -> AppResult<Integration> {
    app.store
        .library_integration(library.id)
        .await?
        .ok_or_else(|| AppError::NoIntegration {
            library: key.to_owned(),
        })
}

/// The library's connection, for a caller who may read the library.
pub async fn get(app: &App, caller: &User, key: &str) -> AppResult<Connection> {
    let library = load_library(app, caller, key, Permission::Read).await?;
    connection_of(app, &library, key).await
}

/// Disconnects: revokes at the provider where it can (Google, Dropbox),
/// then destroys the tokens. Answers whether the provider revoked.
pub async fn disconnect(app: &App, caller: &User, key: &str) -> AppResult<bool> {
    let library = load_library(app, caller, key, Permission::Write).await?;
    let connection = connection_of(app, &library, key).await?;
    let revoked = app
        .tokens
        .disconnect(&connection)
        .await
        .map_err(|e| token_error(e, key))?;
    tracing::info!(library = %library.id, revoked_at_provider = revoked, "library disconnected; tokens destroyed");
    Ok(revoked)
}

/// How a caller starts connecting.
#[derive(Debug, Clone, Default)]
pub struct ConnectRequest {
    /// Where the browser goes after the callback.
    pub return_to: Option<String>,
    /// Allow reconnecting as a different provider account.
    pub switch_account: bool,
    /// Passed to the provider as `login_hint`.
    pub login_hint: Option<String>,
}

/// Starts connecting library `key`: answers the provider's consent URL
/// (authorization code + PKCE S256 + a single-use state).
pub async fn begin(app: &App, caller: &User, key: &str, request: ConnectRequest) -> AppResult<Url> {
    let library = load_library(app, caller, key, Permission::Write).await?;
    let integration = integration_of(app, &library, key).await?;
    let return_to = request
        .return_to
        .map(|raw| {
            allowed_return_to(app, &raw).ok_or_else(|| {
                AppError::Invalid(
                    "returnTo: must be on Folio's own origin or one of FOLIO_ALLOWED_RETURN_ORIGINS".into(),
                )
            })
        })
        .transpose()?;
    app.tokens
        .begin_authorization(
            &integration,
            AuthorizeRequest {
                library_id: library.id,
                user_id: caller.id,
                redirect_uri: &callback_url(app),
                return_to,
                switch_account: request.switch_account,
                login_hint: request
                    .login_hint
                    .as_deref()
                    .filter(|h| !h.is_empty() && h.len() <= 320),
            },
        )
        .await
        .map_err(|e| token_error(e, key))
}

/// The provider's answer to a connect flow: exchanges `code` for tokens
/// and stores the connection. The state names the library; `return_to`
/// of the answer is checked again.
pub async fn complete(app: &App, state: &str, code: &str) -> AppResult<Authorized> {
    let mut done = app
        .tokens
        .complete_authorization(state, code)
        .await
        .map_err(|e| token_error(e, "<library>"))?;
    done.return_to = done
        .return_to
        .as_deref()
        .and_then(|r| allowed_return_to(app, r));
    Ok(done)
}

/// The provider refused a connect flow: its state is dropped. Answers
/// whether the state was known.
pub async fn abandon(app: &App, state: &str) -> AppResult<bool> {
    let pending = app
        .tokens
        .abandon_authorization(state)
        .await
        .map_err(|e| token_error(e, "?"))?;
    Ok(pending.is_some())
}

/// The connected account, read live from the provider.
pub async fn account(app: &App, caller: &User, key: &str) -> AppResult<Account> {
    let library = load_library(app, caller, key, Permission::Read).await?;
    let connection = connection_of(app, &library, key).await?;
    app.tokens
        .account(connection.id)
        .await
        .map_err(|e| token_error(e, key))
}

/// Drops `connection` after its library's integration changed: its tokens
/// belong to the other client. Revoking is tried, and only logged.
pub(crate) async fn drop_replaced(app: &App, library_id: Uuid, connection: &Connection) {
    tracing::info!(library = %library_id, connection = %connection.id, "integration changed; the old connection is revoked and removed");
    if let Err(err) = app.tokens.disconnect(connection).await {
        tracing::warn!(error = %err, "revoking the old connection failed");
    }
}
