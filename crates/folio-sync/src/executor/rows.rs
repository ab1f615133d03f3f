//! Rows: the library's known tree loaded from its stored item rows, the
//! rows a planned page writes, and the conversions between the store's rows
//! and the planner's nodes.

use foldhash::{HashMap, HashMapExt};
use folio_connectors::{Cursor, RemoteChange, RemoteItem};
use folio_domain::{ContentKind, ContentState};
use folio_store::FileRecord;
use folio_store::sync::{CursorRow, RemoteItemRow};
use uuid::Uuid;

use super::Executor;
use super::outcome::SyncError;
use crate::planner::{Content, FileAction, Node, Plan, Tree, TreeRules};

impl Executor<'_> {
    /// The library's known tree, loaded from the store on first use; a
    /// purge starts from an empty one.
    pub(super) async fn loaded_tree<'s>(
        &self,
        slot: &'s mut Option<Tree>,
    ) -> Result<&'s mut Tree, SyncError> {
        let tree = match slot.take() {
            Some(tree) => tree,
            None => {
                let root = self.connector.root().await?;
                let rules = TreeRules::of(&self.connector.capability());
                if self.options.purge && !self.options.dry_run {
                    Tree::new(root.id, rules, [])
                } else {
                    self.load_tree(root.id, rules).await?
                }
            }
        };
        Ok(slot.insert(tree))
    }

    async fn load_tree(&self, root_id: String, rules: TreeRules) -> Result<Tree, SyncError> {
        let rows = self.store.list_remote_items(self.library_id).await?;
        let stored = if self.options.full_listing || self.options.purge {
            Some(self.stored_files().await?)
        } else {
            None
        };
        let nodes = rows.into_iter().map(node_of).map(|mut node| {
            if let Some(stored) = &stored {
                forget_unstored_content(&mut node, stored);
            }
            node
        });
        Ok(Tree::new(root_id, rules, nodes))
    }

    /// The hash of every file of the library, by path.
    async fn stored_files(&self) -> Result<HashMap<String, String>, SyncError> {
        let mut stored: HashMap<String, String> = HashMap::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .store
                .list_files(self.library_id, "", after.as_deref(), 1000)
                .await?;
            stored.extend(page.items.into_iter().map(|f| (f.path, f.hash)));
            match page.next_after {
                Some(next) => after = Some(next),
                None => return Ok(stored),
            }
        }
    }
}

/// The item rows a planned page writes, as the tree holds them now: the
/// nodes it changed, those its listing saw (marked seen first) and the
/// files it downloads (a row records when a file was last tried).
pub(super) fn rows_of(
    tree: &mut Tree,
    plan: &Plan,
    changes: &[RemoteChange],
    listing: Option<Uuid>,
) -> Vec<Node> {
    let mut touched: foldhash::HashSet<&str> = plan.changed.iter().map(|n| n.id.as_str()).collect();
    if let Some(listing) = listing {
        for change in changes {
            if let RemoteChange::Upsert(item) = change
                && tree.mark_seen(&item.id, listing)
            {
                touched.insert(&item.id);
            }
        }
    }
    let nodes = tree.nodes();
    for action in &plan.actions {
        if let FileAction::Download { item, .. } = action
            && nodes.contains_key(&item.id)
        {
            touched.insert(&item.id);
        }
    }
    touched
        .into_iter()
        .filter_map(|id| nodes.get(id).cloned())
        .collect()
}

pub(super) fn cursor_row(cursor: &Cursor, complete: bool, listing_id: Option<Uuid>) -> CursorRow {
    CursorRow {
        cursor: cursor.0.clone(),
        complete,
        listing_id,
        updated_at: chrono::Utc::now(),
    }
}

pub(super) fn file_record(
    library_id: Uuid,
    item: &RemoteItem,
    path: &str,
    hash: &str,
    size: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> FileRecord {
    let content_type = item
        .export
        .as_ref()
        .map(|e| e.mime_type.clone())
        .or_else(|| item.mime_type.clone())
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    FileRecord {
        library_id,
        path: path.to_owned(),
        size,
        content_type,
        hash: hash.to_owned(),
        modified_at: item.modified.unwrap_or(now),
        remote_id: Some(item.id.clone()),
        synced_at: Some(now),
        created_at: now,
        updated_at: now,
    }
}

/// The planner's node for a stored row.
fn node_of(row: RemoteItemRow) -> Node {
    let kind = row.content_kind.unwrap_or_default();
    let has_content = kind != ContentKind::NoContent;
    let export_extension = match kind {
        ContentKind::Export(ext) => Some(ext),
        _ => None,
    };
    // A row written while its download was in flight (only rows older than
    // the content state column) has no bytes: the download is long gone.
    let content = match (row.content_state, row.content_hash) {
        (ContentState::Stored, Some(hash)) => Content::Stored(hash),
        _ => Content::Missing,
    };
    Node {
        id: row.remote_id,
        parent_id: row.parent_id,
        path_lower: row.path_lower,
        name: row.name,
        is_folder: row.is_folder,
        has_content,
        export_extension,
        size: row.size,
        remote_hash: row.remote_hash,
        version: row.version,
        content,
        path: row.path,
        seen_listing: row.seen_listing,
        fetch_failure: row.fetch_failure,
    }
}

/// For a reconcile: a file node whose library file is missing, or holds
/// other bytes than the node records, forgets its content hash, so the
/// listing downloads it again (the change feed never would).
fn forget_unstored_content(node: &mut Node, stored: &HashMap<String, String>) {
    let is_file = !node.is_folder && node.has_content;
    if let Some(path) = node.path.as_ref()
        && is_file
        && !holds(stored.get(path), &node.content)
    {
        node.content = Content::Missing;
    }
}

/// Whether the library file of a path (its hash, if any) is what `content`
/// records: the same stored bytes, or none for none.
fn holds(file: Option<&String>, content: &Content) -> bool {
    match content {
        Content::Stored(hash) => file == Some(hash),
        Content::Pending(_) => false,
        Content::Missing => file.is_none(),
    }
}

/// The row stored for a node.
pub(super) fn row_of(library_id: Uuid, node: Node) -> RemoteItemRow {
    let content_kind = match (node.export_extension, node.has_content) {
        (_, false) => ContentKind::NoContent,
        (Some(ext), true) => ContentKind::Export(ext),
        (None, true) => ContentKind::File,
    };
    let (content_state, content_hash) = match node.content {
        Content::Stored(hash) => (ContentState::Stored, Some(hash)),
        Content::Pending(_) => (ContentState::Pending, None),
        Content::Missing => (ContentState::Missing, None),
    };
    RemoteItemRow {
        library_id,
        remote_id: node.id,
        parent_id: node.parent_id,
        name: node.name,
        is_folder: node.is_folder,
        path: node.path,
        size: node.size,
        remote_hash: node.remote_hash,
        version: node.version,
        content_hash,
        content_state,
        seen_listing: node.seen_listing,
        updated_at: chrono::Utc::now(),
        path_lower: node.path_lower,
        content_kind: Some(content_kind),
        fetch_failure: node.fetch_failure,
    }
}
