//! The end of a complete full listing: the sweep of what it did not see,
//! held when it would delete too much, or a purge's switch.

use folio_connectors::{Cursor, RemoteChange};
use folio_store::sync::{CursorRow, SyncBatch};
use uuid::Uuid;

use super::outcome::SyncError;
use super::rows::cursor_row;
use super::walk::{Listing, Walk};
use super::{Executor, LeaseHold};
use crate::planner::{FileAction, Tree, plan_page};

impl Executor<'_> {
    /// The end of a purge's complete listing: everything staged is
    /// committed, then switched in place of the library's files, item tree
    /// and cursor in one transaction.
    pub(super) async fn switch_purge<'s>(
        &'s self,
        walk: &mut Walk<'s>,
        listing: Listing,
        cursor: Cursor,
    ) -> Result<(), SyncError> {
        self.report(|p| p.phase = folio_domain::RunPhase::Switching);
        walk.pipeline.commit_all(|b| self.commit_batch(b)).await?;
        let fence = self.lease.as_ref().map(LeaseHold::fence);
        let done = cursor_row(&cursor, true, Some(listing.id));
        let switch = self
            .store
            .finish_purge(self.library_id, &done, fence.as_ref())
            .await?;
        tracing::info!(
            library = %self.library_id,
            files = switch.files,
            removed = switch.removed,
            "purge switched in"
        );
        walk.outcome.deleted_files += switch.removed;
        walk.pipeline.released.extend(switch.released);
        self.report_counts(&walk.outcome);
        Ok(())
    }

    /// Deletes what a complete listing did not see, unless that is too much.
    /// When it saw everything, its final cursor joins the pages gathered
    /// (one commit instead of two at the end of a first sync).
    pub(super) async fn sweep<'s>(
        &'s self,
        walk: &mut Walk<'s>,
        listing: Listing,
        cursor: Cursor,
    ) -> Result<(), SyncError> {
        self.report(|p| p.phase = folio_domain::RunPhase::Deleting);
        let gone = unseen(self.loaded_tree(&mut walk.tree).await?, listing.id);
        let done = cursor_row(&cursor, true, Some(listing.id));
        if gone.is_empty() {
            let batch = SyncBatch {
                library_id: self.library_id,
                cursor: Some(done),
                ..SyncBatch::default()
            };
            return walk.pipeline.enqueue(batch, |b| self.commit_batch(b)).await;
        }
        // The share deleted is of the files stored, the listing's included.
        walk.pipeline.commit_all(|b| self.commit_batch(b)).await?;
        let files_before = self.store.count_files(self.library_id).await?;
        if let Some(why) = self.deletions_held(walk.tree.as_ref(), &gone, files_before) {
            walk.outcome.held = Some(why);
            // No complete cursor: the next sync lists again.
            let empty = cursor_row(&Cursor(String::new()), false, None);
            return self.apply_alone(walk, &[], Some(empty)).await;
        }
        self.apply_alone(walk, &gone, Some(done)).await
    }

    /// Why a full listing's deletions of `gone` must wait for a
    /// confirmation: they would remove more than `max_delete_share` of the
    /// `files_before` files, and neither `confirm_deletes` nor a purge
    /// allows that.
    pub(super) fn deletions_held(
        &self,
        tree: Option<&Tree>,
        gone: &[RemoteChange],
        files_before: i64,
    ) -> Option<String> {
        if self.options.confirm_deletes || self.options.purge {
            return None;
        }
        let mut trial = tree?.clone();
        let would_delete = plan_page(&mut trial, gone)
            .actions
            .iter()
            .filter(|a| matches!(a, FileAction::Delete { .. }))
            .count();
        let too_many = files_before > 0
            && (would_delete as f64) > self.options.max_delete_share * files_before as f64;
        too_many.then(|| {
            format!(
                "a full listing would delete {would_delete} of {files_before} files; nothing was deleted: \
                 sync again with {{\"confirmDeletes\": true}} or {{\"purge\": true}}"
            )
        })
    }

    /// One page on its own, with nothing else downloading, committed before
    /// it returns.
    async fn apply_alone<'s>(
        &'s self,
        walk: &mut Walk<'s>,
        changes: &[RemoteChange],
        cursor: Option<CursorRow>,
    ) -> Result<(), SyncError> {
        let page = self.launch_page(walk, changes, None, cursor).await?;
        self.end_page(walk, page, async {}).await?;
        walk.pipeline.commit_all(|b| self.commit_batch(b)).await
    }
}

/// Deletions of the items the full listing `listing` did not see, by
/// remote id. The tree holds every stored item row, with the marks the
/// listing's pages set, committed or not, so nothing needs reading back
/// from the store.
pub(super) fn unseen(tree: &Tree, listing: Uuid) -> Vec<RemoteChange> {
    let mut ids: Vec<&String> = tree
        .nodes()
        .values()
        .filter(|node| node.seen_listing != Some(listing))
        .map(|node| &node.id)
        .collect();
    ids.sort_unstable();
    ids.into_iter()
        .map(|id| RemoteChange::Delete { id: id.clone() })
        .collect()
}
