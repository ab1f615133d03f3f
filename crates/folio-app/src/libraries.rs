//! Libraries: create, list, read, change and delete, with the caller's
//! rights ([`crate::access`]), keeping the scheduler's rows in step with
//! each library's `syncSchedule`.

use folio_domain::{LibrarySource, LibraryType, NaturalId, Permission, SyncSchedule};
use folio_store::{Library, LibraryPatch, NewLibrary, User};

use crate::access::load_library;
use crate::{App, AppError, AppResult};

/// A library to create. `natural_id` defaults to a free slug of `name`.
#[derive(Debug, Clone, Default)]
pub struct LibraryDraft {
    pub name: String,
    pub natural_id: Option<String>,
    pub library_type: String,
    pub description: Option<String>,
    pub source: Option<LibrarySource>,
    pub sync_schedule: Option<SyncSchedule>,
}

/// Fields to change: `None` keeps a field, `Some(None)` clears
/// `description` or `sync_schedule`.
#[derive(Debug, Clone, Default)]
pub struct LibraryChanges {
    pub name: Option<String>,
    pub natural_id: Option<String>,
    pub description: Option<Option<String>>,
    pub source: Option<LibrarySource>,
    pub sync_schedule: Option<Option<SyncSchedule>>,
}

fn parse_name(name: &str) -> AppResult<String> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 200 {
        return Err(AppError::Invalid(
            "name: must be 1 to 200 characters".into(),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(AppError::Invalid(
            "name: must not contain control characters".into(),
        ));
    }
    Ok(trimmed.to_owned())
}

fn parse_description(description: Option<String>) -> AppResult<Option<String>> {
    match description {
        Some(d) if d.chars().count() > 2000 => Err(AppError::Invalid(
            "description: must be at most 2000 characters".into(),
        )),
        other => Ok(other),
    }
}

/// Picks a free natural id derived from `name`: `docs`, `docs-2`, `docs-3`...
async fn free_natural_id(app: &App, name: &str) -> AppResult<String> {
    let base = NaturalId::slugify(name).map_or_else(|| "library".to_owned(), String::from);
    for n in 1..1000 {
        let candidate = if n == 1 {
            base.clone()
        } else {
            let suffix = format!("-{n}");
            let keep = base.len().min(64 - suffix.len());
            format!("{}{suffix}", base[..keep].trim_end_matches('-'))
        };
        if app.store.library_by_natural_id(&candidate).await?.is_none() {
            return Ok(candidate);
        }
    }
    Err(AppError::Conflict(format!(
        "no free naturalId derived from '{base}'; give one"
    )))
}

/// Creates a library owned by `caller`.
pub async fn create(app: &App, caller: &User, draft: LibraryDraft) -> AppResult<Library> {
    let name = parse_name(&draft.name)?;
    let library_type: LibraryType = draft.library_type.parse()?;
    let description = parse_description(draft.description)?;
    let source = draft.source.unwrap_or_default();
    source.validate()?;
    if let Some(schedule) = &draft.sync_schedule {
        schedule.validate()?;
    }
    let natural_id = match draft.natural_id {
        Some(raw) => NaturalId::parse(&raw)?.to_string(),
        None => free_natural_id(app, &name).await?,
    };
    let library = app
        .store
        .create_library(NewLibrary {
            natural_id,
            name,
            description,
            library_type,
            owner_id: caller.id,
            source,
            sync_schedule: draft.sync_schedule,
        })
        .await?;
    if let Some(schedule) = draft.sync_schedule {
        crate::scheduler::follow_schedule(app, library.id, None, Some(schedule)).await;
    }
    Ok(library)
}

/// The libraries `caller` can read.
pub async fn list(app: &App, caller: &User) -> AppResult<Vec<Library>> {
    Ok(app
        .store
        .list_libraries_for(caller.id, caller.is_admin)
        .await?)
}

/// One library, by UUID or natural id, that `caller` can read.
pub async fn get(app: &App, caller: &User, key: &str) -> AppResult<Library> {
    load_library(app, caller, key, Permission::Read).await
}

/// How many files `library` holds and their total size in bytes. The
/// library must come from [`get`] (or another call that checked the
/// caller's rights): this one checks none.
pub async fn file_totals(app: &App, library: &Library) -> AppResult<(i64, i64)> {
    Ok(app.store.file_totals(library.id).await?)
}

/// Changes a library's name, natural id, description, source or schedule.
pub async fn update(
    app: &App,
    caller: &User,
    key: &str,
    changes: LibraryChanges,
) -> AppResult<Library> {
    let library = load_library(app, caller, key, Permission::Write).await?;
    let schedule_given = changes.sync_schedule.is_some();
    let patch = LibraryPatch {
        natural_id: changes
            .natural_id
            .map(|raw| NaturalId::parse(&raw).map(String::from))
            .transpose()?,
        name: changes.name.as_deref().map(parse_name).transpose()?,
        description: changes.description.map(parse_description).transpose()?,
        source: changes
            .source
            .map(|s| s.validate().map(|()| s))
            .transpose()?,
        sync_schedule: changes
            .sync_schedule
            .map(|s| s.map(|s| s.validate().map(|()| s)).transpose())
            .transpose()?,
    };
    let updated = app.store.update_library(library.id, patch).await?;
    if schedule_given {
        let before = library.sync_schedule.map(|s| s.0);
        let after = updated.sync_schedule.as_ref().map(|s| s.0);
        crate::scheduler::follow_schedule(app, library.id, before, after).await;
    }
    Ok(updated)
}

/// Deletes a library with its files and the stored bytes no other file
/// uses (its sync history and schedule go with it).
pub async fn delete(app: &App, caller: &User, key: &str) -> AppResult<()> {
    let library = load_library(app, caller, key, Permission::Write).await?;
    let hashes = app.store.delete_library(library.id).await?;
    crate::gc::collect_unused(app, hashes).await;
    Ok(())
}
