//! The rows a sync batch carries: remote items, the cursor, where the
//! batch goes and which run commits it.

use chrono::{DateTime, Utc};
use folio_domain::{ContentKind, ContentState, FetchFailure, RemoteHash};
use uuid::Uuid;

use crate::decode::{NullableText, RemoteItems, Text};
use crate::models::FileRecord;

/// One provider item of a library's source, keyed by its provider id.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RemoteItemRow {
    pub library_id: Uuid,
    pub remote_id: String,
    pub parent_id: Option<String>,
    /// The raw provider name.
    pub name: String,
    pub is_folder: bool,
    /// The library path it maps to; `None` while outside the source or not
    /// placed (skipped, failed).
    pub path: Option<String>,
    pub size: Option<i64>,
    /// The provider's hash, stored as `name:value` (`md5:...`).
    #[sqlx(try_from = "NullableText<RemoteItems, RemoteHash>")]
    pub remote_hash: Option<RemoteHash>,
    pub version: Option<String>,
    /// SHA-256 of the stored blob: set when (and only when)
    /// `content_state` is `Stored`.
    pub content_hash: Option<String>,
    /// Whether the item's bytes are stored.
    #[sqlx(try_from = "Text<RemoteItems, ContentState>")]
    pub content_state: ContentState,
    /// The full listing that last saw the item (mark and sweep).
    pub seen_listing: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
    /// Lowercase path below the source root, for path-addressed providers.
    pub path_lower: Option<String>,
    /// A file, no content (shortcuts, documents without export) or an
    /// export; `None` for rows older than the column.
    #[sqlx(try_from = "NullableText<RemoteItems, ContentKind>")]
    pub content_kind: Option<ContentKind>,
    /// Why a placed file has no bytes; `None` for a fetched file (and for
    /// rows older than the column).
    #[sqlx(try_from = "NullableText<RemoteItems, FetchFailure>")]
    pub fetch_failure: Option<FetchFailure>,
}

impl RemoteItemRow {
    /// The stored form of its provider hash.
    pub(crate) fn remote_hash_text(&self) -> Option<String> {
        self.remote_hash.as_ref().map(RemoteHash::to_stored)
    }

    /// The stored form of its content kind.
    pub(crate) fn content_kind_text(&self) -> Option<String> {
        self.content_kind.as_ref().map(ContentKind::as_stored)
    }

    /// The stored form of its fetch failure.
    pub(crate) fn fetch_failure_text(&self) -> Option<&'static str> {
        self.fetch_failure.map(FetchFailure::as_str)
    }
}

/// Where a [`SyncBatch`] is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Space {
    /// The library's files and item tree.
    #[default]
    Live,
    /// The staging area of a purge in progress (`purge_files`,
    /// `purge_items`), switched in by [`Store::finish_purge`](crate::Store::finish_purge). A batch's
    /// cursor is not stored there: a purge does not resume.
    Purge,
}

impl Space {
    /// The table of its files.
    pub(crate) fn files(self) -> &'static str {
        match self {
            Self::Live => "files",
            Self::Purge => "purge_files",
        }
    }

    /// The table of its item tree.
    pub(crate) fn items(self) -> &'static str {
        match self {
            Self::Live => "remote_items",
            Self::Purge => "purge_items",
        }
    }
}

/// The run a batch is committed for. Its commit renews the run's lease in
/// the same transaction, and writes nothing (`StoreError::LeaseLost`) when
/// the run no longer holds the library: a process paused past its lease,
/// whose library another process took over, cannot write over that
/// process's work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub run_id: Uuid,
    pub owner: String,
    /// The lease's new end (Unix ms).
    pub lease_until_ms: i64,
}

/// Where a library's change feed stands.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CursorRow {
    pub cursor: String,
    /// False while a full listing is in progress (the cursor resumes it).
    pub complete: bool,
    /// The full listing in progress or last completed.
    pub listing_id: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

/// Everything one page of changes writes. [`Store::apply_sync_batch`](crate::Store::apply_sync_batch)
/// commits it in one transaction, in the order of the fields.
#[derive(Debug, Clone, Default)]
pub struct SyncBatch {
    pub library_id: Uuid,
    /// Library paths whose files leave the library.
    pub file_deletes: Vec<String>,
    /// Files that keep their bytes under a new path: `(from, to)`. Applied
    /// through temporary names, so swaps and chains are fine.
    pub file_moves: Vec<(String, String)>,
    /// Files created or replaced (their blobs are already in storage).
    pub file_puts: Vec<FileRecord>,
    /// Provider ids whose item rows go.
    pub item_deletes: Vec<String>,
    /// Item rows created or replaced.
    pub item_upserts: Vec<RemoteItemRow>,
    /// The cursor to store with these changes (`None` keeps the old one).
    pub cursor: Option<CursorRow>,
    /// Live files or a purge's staging area.
    pub space: Space,
    /// The run committing it, if any (see [`Fence`]).
    pub fence: Option<Fence>,
}

impl SyncBatch {
    /// Rows it writes (with the cursor), to size a commit by.
    pub fn rows(&self) -> usize {
        self.file_deletes.len()
            + self.file_moves.len()
            + self.file_puts.len()
            + self.item_deletes.len()
            + self.item_upserts.len()
            + usize::from(self.cursor.is_some())
    }

    /// True when `later` only adds or replaces rows (no delete, no move):
    /// then committing [`SyncBatch::absorb`]'s result equals committing
    /// this batch and then `later`, because puts and upserts already apply
    /// last one wins, after every delete and move of the batch.
    pub fn can_absorb(&self, later: &SyncBatch) -> bool {
        self.library_id == later.library_id
            && self.space == later.space
            && later.file_deletes.is_empty()
            && later.file_moves.is_empty()
            && later.item_deletes.is_empty()
    }

    /// Appends `later`'s puts and upserts, and takes its cursor if it has
    /// one. Only meaningful when [`SyncBatch::can_absorb`] says so.
    pub fn absorb(&mut self, later: SyncBatch) {
        debug_assert!(self.can_absorb(&later));
        self.file_puts.extend(later.file_puts);
        self.item_upserts.extend(later.item_upserts);
        if later.cursor.is_some() {
            self.cursor = later.cursor;
        }
    }
}
