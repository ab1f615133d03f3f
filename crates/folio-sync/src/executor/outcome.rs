//! What a run reports: its outcome ([`SyncOutcome`], with per-file
//! errors and a dry run's plan) or why it stopped ([`SyncError`]).

use folio_connectors::ConnectorError;

/// A per-file failure that did not stop the sync.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileError {
    pub path: String,
    pub remote_id: String,
    pub message: String,
}

/// What a sync did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncOutcome {
    pub synced_files: i64,
    pub added_files: i64,
    pub updated_files: i64,
    pub deleted_files: i64,
    /// Files moved or renamed with their bytes unchanged.
    pub moved_files: i64,
    pub errors: Vec<FileError>,
    /// Set when a full listing's deletions were held back, saying why.
    pub held: Option<String>,
    /// A dry run's planned changes.
    pub plan: Option<DryRunPlan>,
}

/// What a dry run found to do: the first [`DRY_RUN_LISTED`] changes in the
/// order a sync would make them, and how many there are in all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DryRunPlan {
    pub changes: Vec<PlannedChange>,
    pub total: usize,
}

/// Planned changes a dry run lists at most.
pub const DRY_RUN_LISTED: usize = 1000;

/// One change a dry run found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedChange {
    /// `add`, `update`, `move` or `delete`.
    pub action: &'static str,
    /// The library path it ends at (for a delete: the path removed).
    pub path: String,
    /// The path a moved (or moved and changed) file leaves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_path: Option<String>,
    pub remote_id: String,
    /// The provider's size of a file to download, when it gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
}

/// Why a sync stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("provider: {0}")]
    Provider(#[from] ConnectorError),
    #[error("store: {0}")]
    Store(#[from] folio_store::StoreError),
    #[error("blob storage: {0}")]
    Blobs(#[from] folio_blobs::BlobError),
}
