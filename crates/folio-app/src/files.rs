//! A library's files: the paged listing, finding one to read, uploading to
//! a local library (streamed, size-limited) and deleting from one.

use chrono::Utc;
use folio_blobs::ByteStream;
use folio_domain::{LibraryPath, LibraryType, Permission};
use folio_store::files::FilePage;
use folio_store::{FileRecord, Library, User};
use std::ops::Range;

use crate::access::load_library;
use crate::{App, AppError, AppResult};

/// One page of a library's files, in path order, after the path `after`.
pub async fn list(
    app: &App,
    caller: &User,
    key: &str,
    prefix: &str,
    after: Option<&str>,
    limit: u32,
) -> AppResult<FilePage> {
    let library = load_library(app, caller, key, Permission::Read).await?;
    Ok(app
        .store
        .list_files(library.id, prefix, after, limit)
        .await?)
}

/// The file at `raw_path` of library `key`, for a caller who may read it.
pub async fn find(app: &App, caller: &User, key: &str, raw_path: &str) -> AppResult<FileRecord> {
    let library = load_library(app, caller, key, Permission::Read).await?;
    let path = LibraryPath::parse(raw_path)?;
    app.store
        .get_file(library.id, path.as_str())
        .await?
        .ok_or_else(|| not_found(&path, key))
}

/// The bytes of `file` (`range`: only those).
pub async fn read(
    app: &App,
    file: &FileRecord,
    range: Option<Range<u64>>,
) -> AppResult<ByteStream> {
    Ok(app.blobs.get(&file.hash, range).await?)
}

fn not_found(path: &LibraryPath, key: &str) -> AppError {
    AppError::NotFound(format!("file '{path}' not found in library '{key}'"))
}

fn require_local(library: &Library, key: &str) -> AppResult<()> {
    if library.library_type == LibraryType::Local {
        Ok(())
    } else {
        Err(AppError::Conflict(format!(
            "library '{key}' is a {} library: its files come from sync; uploads and deletes go to local libraries",
            library.library_type
        )))
    }
}

/// An upload: where it goes and what it declares.
pub struct Upload {
    pub raw_path: String,
    /// The length the client announced, refused at once when over the
    /// limit (the stream is cut at the limit anyway).
    pub declared_length: Option<u64>,
    /// The media type the client sent, if any.
    pub content_type: Option<String>,
    /// The bytes, as they arrive.
    pub bytes: ByteStream,
}

/// What an upload stored, and whether it replaced a file.
pub struct Uploaded {
    pub file: FileRecord,
    pub replaced: bool,
}

/// Stores an upload in a local library: the bytes first (hashed, limited
/// to `max_upload_bytes`), then the file row; a replaced file's bytes are
/// collected.
pub async fn upload(app: &App, caller: &User, key: &str, upload: Upload) -> AppResult<Uploaded> {
    let library = load_library(app, caller, key, Permission::Write).await?;
    require_local(&library, key)?;
    let path = LibraryPath::parse(&upload.raw_path)?;
    let limit = app.config.max_upload_bytes;
    if upload.declared_length.is_some_and(|len| len > limit) {
        return Err(AppError::TooLarge(format!(
            "the body is larger than the limit of {limit} bytes"
        )));
    }
    let stored = app.blobs.put(upload.bytes, Some(limit)).await?;
    let now = Utc::now();
    let existing = app.store.get_file(library.id, path.as_str()).await?;
    let record = FileRecord {
        library_id: library.id,
        path: path.to_string(),
        size: i64::try_from(stored.size).map_err(AppError::internal)?,
        content_type: content_type_for(upload.content_type.as_deref(), &path),
        hash: stored.hash.clone(),
        modified_at: now,
        remote_id: None,
        synced_at: None,
        created_at: existing.as_ref().map_or(now, |f| f.created_at),
        updated_at: now,
    };
    let blobs = app.blobs.clone();
    let hash = stored.hash.clone();
    let put = app
        .store
        .put_file(&record, || async move {
            blobs.exists(&hash).await.map_err(|e| e.to_string())
        })
        .await;
    let replaced = match put {
        Ok(replaced) => replaced,
        Err(err) => {
            crate::gc::collect_unused(app, vec![stored.hash]).await;
            return Err(err.into());
        }
    };
    if let Some(old) = replaced {
        crate::gc::collect_unused(app, vec![old]).await;
    }
    Ok(Uploaded {
        file: record,
        replaced: existing.is_some(),
    })
}

/// The declared content type, unless it is missing or generic, in which
/// case one guessed from the file name.
fn content_type_for(declared: Option<&str>, path: &LibraryPath) -> String {
    let declared = declared.map(str::trim).filter(|v| {
        !v.is_empty()
            && *v != "application/octet-stream"
            && !v.starts_with("application/x-www-form-urlencoded")
    });
    match declared {
        Some(value) => value.to_owned(),
        None => mime_guess::from_path(path.file_name())
            .first_or_octet_stream()
            .essence_str()
            .to_owned(),
    }
}

/// Deletes a file of a local library, and its bytes if nothing else uses
/// them.
pub async fn delete(app: &App, caller: &User, key: &str, raw_path: &str) -> AppResult<()> {
    let library = load_library(app, caller, key, Permission::Write).await?;
    require_local(&library, key)?;
    let path = LibraryPath::parse(raw_path)?;
    let hash = app
        .store
        .delete_file(library.id, path.as_str())
        .await?
        .ok_or_else(|| not_found(&path, key))?;
    crate::gc::collect_unused(app, vec![hash]).await;
    Ok(())
}
