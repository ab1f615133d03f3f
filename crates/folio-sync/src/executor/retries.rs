//! Retries of unfetched files: an incremental sync tries again, at its
//! end, the files whose download failed on their own earlier.

use super::Executor;
use super::outcome::SyncError;
use super::walk::{InFlight, Walk};
use crate::planner::FetchFailure;
use crate::planner::{FileAction, Plan, Tree};

/// Files whose download failed on their own tried again per run, at most.
const RETRIES_AT_MOST: u32 = 1000;

impl Executor<'_> {
    /// The files whose download failed on their own that an incremental
    /// sync tries again now: every one that failed for a passing reason
    /// ([`FetchFailure::Temporary`]), and those refused (or whose hash never
    /// matched) once their last try is `retry_failed_after` old: the change
    /// feed reports such a file again only when it changes, and a refusal
    /// such as Drive's `downloadQuotaExceeded` lifts by itself. Files a page
    /// still downloading fetches anyway are left out.
    pub(super) async fn due_retries(
        &self,
        tree: &mut Option<Tree>,
    ) -> Result<Vec<String>, SyncError> {
        let tried_before = self.options.retry_failed_after.map(|after| {
            chrono::Utc::now() - chrono::Duration::from_std(after).unwrap_or(chrono::Duration::MAX)
        });
        let due: Vec<String> = self
            .store
            .unfetched_remote_files(self.library_id, RETRIES_AT_MOST)
            .await?
            .into_iter()
            .filter(|row| {
                row.fetch_failure == Some(FetchFailure::Temporary)
                    || tried_before.is_some_and(|before| row.updated_at <= before)
            })
            .map(|row| row.remote_id)
            .collect();
        if due.is_empty() {
            return Ok(due);
        }
        let tree = self.loaded_tree(tree).await?;
        Ok(due
            .into_iter()
            .filter(|id| {
                tree.nodes()
                    .get(id)
                    .is_some_and(|n| !n.content.is_known() && n.path.is_some())
            })
            .collect())
    }

    /// Tries again the files [`Executor::due_retries`] found; a file that
    /// fails again is reported again. Committed before it returns; the
    /// cursor stays.
    pub(super) async fn retry_unfetched<'s>(
        &'s self,
        walk: &mut Walk<'s>,
        due: Vec<String>,
    ) -> Result<(), SyncError> {
        if due.is_empty() {
            return Ok(());
        }
        walk.launched += 1;
        let seq = walk.launched;
        let tree = self.loaded_tree(&mut walk.tree).await?;
        let plan = Plan {
            actions: due
                .iter()
                .filter_map(|id| {
                    let node = tree.nodes().get(id)?;
                    // A page since may have fetched it after all.
                    if node.content.is_known() {
                        return None;
                    }
                    Some(FileAction::Download {
                        item: Box::new(node.as_remote_item()),
                        path: node.path.clone()?,
                        replaces: None,
                    })
                })
                .collect(),
            ..Plan::default()
        };
        let (rows, items) = self.begin_page(tree, seq, &plan, &[], None);
        let page = InFlight {
            seq,
            plan,
            rows,
            cursor: None,
            downloads: self.spawn_downloads(items, &walk.slots),
        };
        self.end_page(walk, page, async {}).await?;
        walk.pipeline.commit_all(|b| self.commit_batch(b)).await
    }
}
