//! Syncing a library from its provider: building its connector, running
//! one sync under the library's lease (in the foreground, or in the
//! background with a progress id to follow), and its history. The live
//! progress of every run is on its run row in the store, which is why any
//! replica can tell it by progress id.
//!
//! Failures: no connection, a connection needing re-authorization, a
//! `local` library (nothing to sync from) and a busy library are their own
//! [`AppError`] kinds; the provider refusing is [`AppError::Refused`],
//! failing after retries [`AppError::ProviderFailed`], timing out
//! [`AppError::ProviderTimedOut`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use folio_connectors::RemoteFolder;
use folio_connectors::{Connector, ConnectorConfig, ConnectorError, ProviderKind, connector_for};
use folio_domain::{LibraryType, Permission, RunStatus, RunTrigger};
use folio_store::sync::{RunProgress, SyncRun};
use folio_store::{Library, StoreError, User};
use folio_sync::executor::{SyncError, SyncOptions, SyncOutcome};
use folio_sync::run::{RunRequest, Started, run_locked};
use folio_sync::tokens::ConnectionTokens;

use crate::access::load_library;
use crate::metrics::{RunningSync, record_sync};
use crate::{App, AppError, AppResult};

/// How long a run's lease lasts without being renewed (manual and
/// scheduled runs alike). The heartbeat renews it every quarter of that
/// and every commit renews it too, so another replica takes over a dead
/// run's library within this long; a restarted process takes over its own
/// previous instance's runs at once (see `folio_sync::lease`).
pub const LEASE: Duration = Duration::from_secs(8);

/// What a caller asks of one sync; every field has a default.
#[derive(Debug, Clone, Default)]
pub struct SyncRequest {
    /// Delete every file of the library first and sync from scratch.
    pub purge: bool,
    /// A progress id of the caller's choosing; a fresh one when `None`.
    pub progress: Option<String>,
    /// Let a full listing delete more than half of the library.
    pub confirm_deletes: bool,
    /// Only say what the sync would change.
    pub dry_run: bool,
}

/// How one run is made: what started it and with which options.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub trigger: RunTrigger,
    pub progress_id: Option<String>,
    pub options: SyncOptions,
    /// Where the library is connected again, for the run row's message
    /// when the provider refuses the grant (see `folio_sync::run`).
    pub reconnect_with: Option<String>,
}

/// A library checked and ready to sync, with its connector.
struct Prepared {
    library: Library,
    connector: Arc<dyn Connector>,
    api_uri: Option<String>,
    spec: RunSpec,
}

/// Loads the library for a caller who may sync it and builds its
/// connector; a `local` library has nothing to sync from.
async fn prepare(app: &App, caller: &User, key: &str, request: SyncRequest) -> AppResult<Prepared> {
    let library = load_library(app, caller, key, Permission::Sync).await?;
    if library.library_type == LibraryType::Local {
        return Err(AppError::Conflict(format!(
            "library '{key}' is a local library: it has no provider to sync from (its files come from uploads)"
        )));
    }
    let connector = library_connector(app, &library, key).await?;
    let api_uri = app
        .store
        .library_integration(library.id)
        .await?
        .and_then(|i| i.api_uri);
    let options = SyncOptions {
        purge: request.purge,
        confirm_deletes: request.confirm_deletes,
        dry_run: request.dry_run,
        ..app.config.sync.clone()
    };
    let trigger = if request.dry_run {
        RunTrigger::DryRun
    } else {
        RunTrigger::Manual
    };
    let spec = RunSpec {
        trigger,
        progress_id: request.progress,
        options,
        reconnect_with: None,
    };
    Ok(Prepared {
        library,
        connector,
        api_uri,
        spec,
    })
}

/// Syncs library `key` now and answers what the sync did (or, on a dry
/// run, would do), for a caller with `library:sync`.
pub async fn run(
    app: &App,
    caller: &User,
    key: &str,
    request: SyncRequest,
) -> AppResult<SyncOutcome> {
    let prepared = prepare(app, caller, key, request).await?;
    let api_uri = prepared.api_uri.clone();
    let started = run_under_lease(app, prepared.connector, &prepared.library, prepared.spec)
        .await
        .map_err(|e| sync_error(e, api_uri.as_deref()))?;
    match started {
        Started::Busy(run) => Err(AppError::SyncRunning {
            library: key.to_owned(),
            progress_id: run.progress_id,
        }),
        Started::Finished { result, .. } => result.map_err(|e| sync_error(e, api_uri.as_deref())),
    }
}

/// Starts a sync of library `key` in the background and answers its
/// progress id at once (the run row tells how it goes). The checks
/// [`run`] makes before syncing are made here too, so a library without
/// connection fails now; a library another run holds ends the background
/// run without a row of its own (logged).
pub async fn start(
    app: &App,
    caller: &User,
    key: &str,
    mut request: SyncRequest,
) -> AppResult<String> {
    let progress_id = request
        .progress
        .get_or_insert_with(|| uuid::Uuid::new_v4().to_string())
        .clone();
    let prepared = prepare(app, caller, key, request).await?;
    let app = app.clone();
    let key = key.to_owned();
    tokio::spawn(async move {
        let trigger = prepared.spec.trigger;
        match run_under_lease(&app, prepared.connector, &prepared.library, prepared.spec).await {
            Ok(Started::Busy(run)) => {
                tracing::info!(library = %key, running = %run.progress_id, "library busy; background sync not run")
            }
            Ok(Started::Finished { result: Ok(_), .. }) => {
                tracing::info!(library = %key, %trigger, "background sync done")
            }
            Ok(Started::Finished {
                result: Err(err), ..
            })
            | Err(err) => {
                tracing::warn!(library = %key, %trigger, error = %err, "background sync failed")
            }
        }
    });
    Ok(progress_id)
}

/// Runs one sync of `library` under the library's lease, held by this
/// process, with live progress kept in the run row: what a manual sync and
/// a scheduled tick both do. [`Started::Busy`] when another run holds the
/// library.
pub async fn run_under_lease(
    app: &App,
    connector: Arc<dyn Connector>,
    library: &Library,
    spec: RunSpec,
) -> Result<Started, SyncError> {
    let request = RunRequest {
        library_id: library.id,
        progress_id: spec.progress_id,
        trigger: spec.trigger,
        options: spec.options,
        owner: folio_sync::lease::this_process().to_owned(),
        lease: LEASE,
        reconnect_with: spec.reconnect_with,
    };
    let (progress, _) = tokio::sync::watch::channel(RunProgress::default());
    let running = RunningSync::start();
    let started = Instant::now();
    let result = run_locked(&app.store, &app.blobs, connector, request, &progress).await;
    drop(running);
    let bytes = progress.borrow().bytes;
    record_sync(
        library.library_type,
        spec.trigger,
        &result,
        bytes,
        started.elapsed(),
    );
    result
}

/// A connector for the library's provider, using its connection's tokens;
/// fails without a connection or integration, or when the connection
/// needs re-authorization.
pub async fn library_connector(
    app: &App,
    library: &Library,
    key: &str,
) -> AppResult<Arc<dyn Connector>> {
    let connection = app
        .store
        .connection_for_library(library.id)
        .await?
        .ok_or_else(|| AppError::NoConnection {
            library: key.to_owned(),
        })?;
    if connection.status != "active" {
        return Err(AppError::ConnectionInactive {
            library: key.to_owned(),
            status: connection.status,
        });
    }
    let integration = app
        .store
        .integration(connection.integration_id)
        .await?
        .ok_or_else(|| AppError::Conflict(format!("library '{key}' has no integration")))?;
    let kind: ProviderKind = library.library_type.provider().ok_or_else(|| {
        let err = folio_domain::UnknownProvider(library.library_type.as_str().to_owned());
        AppError::Conflict(format!("library '{key}' cannot sync: {err}"))
    })?;
    let mut config =
        ConnectorConfig::with_http(library.source.0.clone(), app.provider_http.clone());
    config.export_formats = app.config.google_exports.clone();
    if let Some(api) = &integration.api_uri {
        config.api_base = Some(
            url::Url::parse(api)
                .map_err(|e| AppError::internal(anyhow::anyhow!("integration apiUri: {e}")))?,
        );
    }
    config.pacer = Some(app.pacers.of(connection.id));
    let tokens = ConnectionTokens::new(app.tokens.clone(), connection.id);
    let connector = connector_for(kind, config, Arc::new(tokens)).map_err(provider_error)?;
    Ok(Arc::from(connector))
}

/// The remote folders under `parent` (default: the root of the library's
/// source, or of the account), read live from the provider.
pub async fn folders(
    app: &App,
    caller: &User,
    key: &str,
    parent: Option<&str>,
) -> AppResult<Vec<RemoteFolder>> {
    let library = load_library(app, caller, key, Permission::Read).await?;
    let connector = library_connector(app, &library, key).await?;
    connector.list_folders(parent).await.map_err(provider_error)
}

/// A library's sync runs, newest first (at most `limit`).
pub async fn history(app: &App, caller: &User, key: &str, limit: u32) -> AppResult<Vec<SyncRun>> {
    let library = load_library(app, caller, key, Permission::Read).await?;
    Ok(app.store.list_sync_runs(library.id, limit).await?)
}

/// The newest run carrying progress id `id`, if `caller` may read its
/// library (one they may not read is as good as unknown).
pub async fn progress(app: &App, caller: &User, id: &str) -> AppResult<Option<SyncRun>> {
    let Some(run) = app.store.sync_run_by_progress(id).await? else {
        return Ok(None);
    };
    match load_library(app, caller, &run.library_id.to_string(), Permission::Read).await {
        Ok(_) => Ok(Some(run)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

/// How a run stands for someone following its progress: `running`,
/// `done` or `failed`. A `held` run (deletions waiting for confirmation)
/// counts as done, and a running run whose lease lapsed (its process
/// died) as failed.
pub fn reported_status(run: &SyncRun) -> RunStatus {
    let lapsed = run.lease_until_ms < chrono::Utc::now().timestamp_millis();
    match run.status {
        RunStatus::Held => RunStatus::Done,
        RunStatus::Running if lapsed => RunStatus::Failed,
        other => other,
    }
}

/// A sync's failure; `api_uri` is the integration's `apiUri`, named when
/// the provider's API could not be reached or said something is missing
/// (a wrong `apiUri` looks like that).
fn sync_error(err: SyncError, api_uri: Option<&str>) -> AppError {
    match err {
        SyncError::Provider(e) => with_api_uri(provider_error(e.clone()), &e, api_uri),
        SyncError::Store(StoreError::LeaseLost) => AppError::Conflict(
            "another run took this library over while the sync ran (its lease lapsed); \
             what it committed before is kept: sync again"
                .to_owned(),
        ),
        other => AppError::internal(anyhow::anyhow!(other)),
    }
}

/// Adds where the provider's API address comes from, when the failure is
/// one a wrong address gives (unreachable, nothing there).
fn with_api_uri(answer: AppError, err: &ConnectorError, api_uri: Option<&str>) -> AppError {
    let addressing = matches!(
        err,
        ConnectorError::NotFound(_)
            | ConnectorError::Temporary { .. }
            | ConnectorError::TimedOut(_)
    );
    if !addressing {
        return answer;
    }
    let from = match api_uri {
        Some(uri) => format!(" (the provider's API address is the integration's apiUri, {uri})"),
        None => {
            " (the provider's API is at its real address: the integration has no apiUri)".to_owned()
        }
    };
    match answer {
        AppError::Refused(m) => AppError::Refused(format!("{m}{from}")),
        AppError::ProviderFailed(m) => AppError::ProviderFailed(format!("{m}{from}")),
        AppError::ProviderTimedOut(m) => AppError::ProviderTimedOut(format!("{m}{from}")),
        other => other,
    }
}

/// Provider failures: the user must act ([`AppError::Refused`]), the
/// provider failed after retries, or it kept timing out.
pub fn provider_error(err: ConnectorError) -> AppError {
    match &err {
        ConnectorError::NeedsReauthorization(_) | ConnectorError::Unauthorized(_) => {
            AppError::Refused(format!(
                "the provider refused the connection ({err}); reconnect the library"
            ))
        }
        ConnectorError::NotFound(_) => AppError::Refused(format!(
            "the provider found nothing there ({err}): the library's source is gone (pick another \
             source), or the provider's address is wrong"
        )),
        ConnectorError::TimedOut(_) => AppError::ProviderTimedOut(format!(
            "the provider did not answer in time, even after retries: {err}"
        )),
        ConnectorError::RateLimited { .. } | ConnectorError::Temporary { .. } => {
            AppError::ProviderFailed(format!("the provider kept failing after retries: {err}"))
        }
        _ => AppError::ProviderFailed(format!("the provider failed: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use folio_connectors::ConnectorError;

    use super::provider_error;
    use crate::AppError;

    #[test]
    fn provider_failures_map_to_their_kind() {
        assert!(matches!(
            provider_error(ConnectorError::TimedOut(
                "list_changes: gave up after 6 attempts".into()
            )),
            AppError::ProviderTimedOut(_)
        ));
        assert!(matches!(
            provider_error(ConnectorError::temporary("503 backendError")),
            AppError::ProviderFailed(_)
        ));
        assert!(matches!(
            provider_error(ConnectorError::RateLimited {
                retry_after: None,
                message: "429".into()
            }),
            AppError::ProviderFailed(_)
        ));
        assert!(matches!(
            provider_error(ConnectorError::NeedsReauthorization("invalid_grant".into())),
            AppError::Refused(_)
        ));
    }
}
