//! The sync engine's state: remote item trees, change cursors, sync runs
//! (history, progress and the one-at-a-time lease) and schedule claims.
//!
//! Reading order: `rows` ([`SyncBatch`] and the rows it carries),
//! `commit` ([`Store::apply_sync_batch`]: one page of changes and its
//! cursor, committed together), `items` (the remote item and cursor
//! reads), `runs` ([`Store::begin_sync_run`], the lease, progress and
//! finishing), then `schedules` ([`Store::claim_sync_schedule`],
//! compare-and-set).
//!
//! [`Store::apply_sync_batch`]: crate::Store::apply_sync_batch
//! [`Store::begin_sync_run`]: crate::Store::begin_sync_run
//! [`Store::claim_sync_schedule`]: crate::Store::claim_sync_schedule

pub(crate) mod commit;
mod items;
pub(crate) mod rows;
mod runs;
mod schedules;

pub use rows::{CursorRow, Fence, RemoteItemRow, Space, SyncBatch};
pub use runs::{BeginRun, NewSyncRun, RunOutcome, RunProgress, SyncRun};
pub use schedules::ScheduleRow;
