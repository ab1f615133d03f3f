//! A dry run: what a sync would add, update, move and delete, found the
//! way a sync finds it (the same cursor or full listing, the same planner
//! on the library's tree, the same deletion cap and the same retries of
//! failed files), with nothing downloaded and nothing written: no file,
//! item row, cursor or blob changes. The provider's change feed is only
//! read (a Drive page token, a Graph delta link or a Dropbox cursor stays
//! valid after it is read), so the next sync sees the same changes.
//!
//! A dry run of a purge compares a full listing with the library as it is
//! (like a reconcile, deletions not capped): the changes that bring the
//! library to the remote set. The purge itself would also fetch again
//! every file it keeps.

use folio_connectors::{ChangePage, ConnectorError, PageState, RemoteChange};
use folio_domain::RunPhase;
use uuid::Uuid;

use super::Executor;
use super::outcome::{DRY_RUN_LISTED, DryRunPlan, PlannedChange, SyncError, SyncOutcome};
use super::page::plan_errors;
use super::sweep::unseen;
use super::walk::Listing;
use crate::planner::{Content, FileAction, Plan, Tree, plan_page};

/// The page a file the dry run plans to download is pending on in the
/// tree, so the pages after it take it for fetched (as a sync's pending
/// downloads are). Never settled, never stored: a dry run writes nothing.
const PLANNED: u64 = 0;

/// The changes found so far.
#[derive(Default)]
struct Found {
    outcome: SyncOutcome,
    plan: DryRunPlan,
}

impl Found {
    fn record(&mut self, change: PlannedChange) {
        match change.action {
            "add" => self.outcome.added_files += 1,
            "update" => self.outcome.updated_files += 1,
            "move" => self.outcome.moved_files += 1,
            _ => self.outcome.deleted_files += 1,
        }
        self.plan.total += 1;
        if self.plan.changes.len() < DRY_RUN_LISTED {
            self.plan.changes.push(change);
        }
    }

    /// Records a planned page, and marks its downloads as fetched in the
    /// tree.
    fn take(&mut self, tree: &mut Tree, plan: &Plan) {
        self.outcome.errors.extend(plan_errors(plan));
        for action in &plan.actions {
            let change = match action {
                FileAction::Download {
                    item,
                    path,
                    replaces,
                } => {
                    tree.set_content(&item.id, Content::Pending(PLANNED));
                    PlannedChange {
                        action: if replaces.is_some() { "update" } else { "add" },
                        path: path.clone(),
                        previous_path: replaces.clone().filter(|old| old != path),
                        remote_id: item.id.clone(),
                        size: item.size.and_then(|s| i64::try_from(s).ok()),
                    }
                }
                FileAction::Move { id, from, to } => PlannedChange {
                    action: "move",
                    path: to.clone(),
                    previous_path: Some(from.clone()),
                    remote_id: id.clone(),
                    size: None,
                },
                FileAction::Delete { id, path } => PlannedChange {
                    action: "delete",
                    path: path.clone(),
                    previous_path: None,
                    remote_id: id.clone(),
                    size: None,
                },
            };
            self.record(change);
        }
    }
}

impl Executor<'_> {
    /// Lists and plans like a sync, and reports what it would change (the
    /// first [`DRY_RUN_LISTED`] changes, and the counts of all).
    pub(super) async fn dry_run(&self) -> Result<SyncOutcome, SyncError> {
        let (mut cursor, mut listing) = self.starting_point().await?;
        let mut tree: Option<Tree> = None;
        let mut found = Found::default();
        loop {
            self.report(|p| p.phase = RunPhase::Listing);
            let page = match self.connector.list_changes(cursor.clone()).await {
                Ok(page) => page,
                Err(ConnectorError::CursorExpired(_)) if cursor.is_some() => {
                    cursor = None;
                    listing = Some(Listing { id: Uuid::new_v4() });
                    continue;
                }
                Err(err) => return Err(err.into()),
            };
            let ChangePage { changes, next } = page;
            if !changes.is_empty() {
                let tree = self.loaded_tree(&mut tree).await?;
                let plan = plan_page(tree, &changes);
                if let Some(listing) = &listing {
                    mark_seen(tree, &changes, listing.id);
                }
                found.take(tree, &plan);
            }
            match next {
                PageState::More(next) => cursor = Some(next),
                PageState::Done(_) => break,
            }
        }
        self.report(|p| p.total_known = true);
        match listing {
            Some(listing) => self.planned_sweep(&mut tree, listing, &mut found).await?,
            None => self.planned_retries(&mut tree, &mut found).await?,
        }
        let mut outcome = found.outcome;
        let files = self.store.count_files(self.library_id).await?;
        outcome.synced_files = files + outcome.added_files - outcome.deleted_files;
        outcome.plan = Some(found.plan);
        self.report_counts(&outcome);
        Ok(outcome)
    }

    /// The deletions a complete listing would make, or why they would be
    /// held.
    async fn planned_sweep(
        &self,
        tree: &mut Option<Tree>,
        listing: Listing,
        found: &mut Found,
    ) -> Result<(), SyncError> {
        let tree = self.loaded_tree(tree).await?;
        let gone = unseen(tree, listing.id);
        if gone.is_empty() {
            return Ok(());
        }
        let files = self.store.count_files(self.library_id).await?;
        match self.deletions_held(Some(tree), &gone, files) {
            Some(why) => found.outcome.held = Some(why),
            None => {
                let plan = plan_page(tree, &gone);
                found.take(tree, &plan);
            }
        }
        Ok(())
    }

    /// The failed files an incremental sync would try again.
    async fn planned_retries(
        &self,
        tree: &mut Option<Tree>,
        found: &mut Found,
    ) -> Result<(), SyncError> {
        let due = self.due_retries(tree).await?;
        let Some(tree) = tree.as_ref() else {
            return Ok(());
        };
        for id in due {
            let Some(node) = tree.nodes().get(&id) else {
                continue;
            };
            let Some(path) = node.path.clone() else {
                continue;
            };
            found.record(PlannedChange {
                action: "add",
                path,
                previous_path: None,
                remote_id: id,
                size: node.size,
            });
        }
        Ok(())
    }
}

/// Marks the items a full listing's page reported as seen by it.
fn mark_seen(tree: &mut Tree, changes: &[RemoteChange], listing: Uuid) {
    for change in changes {
        if let RemoteChange::Upsert(item) = change {
            tree.mark_seen(&item.id, listing);
        }
    }
}
