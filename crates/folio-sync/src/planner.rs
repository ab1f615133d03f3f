//! The planner: pure. The library's known remote tree plus one page of
//! changes in, the file actions that make the library match out.
//!
//! Rules (docs/sync.md):
//! - items are keyed by provider id, never by path; a rename or move of a
//!   file or a whole folder becomes [`FileAction::Move`]s, never downloads;
//! - an id seen more than once in one page: its last occurrence wins;
//! - deletions (of folders especially) apply after the rest of the page, so
//!   a child moved out of a folder deleted in the same page survives;
//! - an item whose parent chain does not reach the source root is outside
//!   the source: its file leaves the library;
//! - every path comes from [`folio_domain::sanitize`]; siblings whose safe
//!   names collide are told apart by a stable suffix derived from their id.
//!   A segment once given stays while the item keeps its name and folder:
//!   the item holding the plain name keeps it, a suffixed one keeps its
//!   suffix even when its twin leaves; the plain name, when free, goes to
//!   the first newcomer by remote id (so twins that arrive together are
//!   ordered by remote id);
//! - folders, shortcuts and Google-native documents without an export have
//!   no file; exported documents get their export extension.

//!
//! Split by concern: [`tree`] (the known tree, its nodes and the rules a
//! provider's capability sets), `placement` (paths recomputed for what a
//! page touched), and this file (a page applied: deduplicated, upserted,
//! deleted, and diffed into file actions).

mod placement;
pub mod tree;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use folio_connectors::{RemoteChange, RemoteItem};

#[cfg(test)]
pub(crate) use placement::full_placement;
use placement::{Affected, Dirty, assign_paths, touch};
pub use tree::{Content, FetchFailure, Node, Tree, TreeRules};

/// One thing to do to the library's files.
#[derive(Debug, Clone, PartialEq)]
pub enum FileAction {
    /// Fetch the item's bytes and store them at `path`; `replaces` is the
    /// path its previous bytes were at (to drop when it differs).
    Download {
        item: Box<RemoteItem>,
        path: String,
        replaces: Option<String>,
    },
    /// Same bytes, new path.
    Move {
        id: String,
        from: String,
        to: String,
    },
    /// The file leaves the library.
    Delete { id: String, path: String },
}

/// An item whose name cannot become a path (too long with its folders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    pub remote_id: String,
    pub name: String,
    pub message: String,
}

/// What one page needs done.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub actions: Vec<FileAction>,
    /// Item ids no longer known (deleted, or below a deleted folder).
    pub removed_ids: Vec<String>,
    /// Nodes whose row changed (new state, including its path).
    pub changed: Vec<Node>,
    pub errors: Vec<PlanError>,
}

impl Plan {
    /// How many downloads it holds.
    pub fn downloads(&self) -> usize {
        self.actions
            .iter()
            .filter(|a| matches!(a, FileAction::Download { .. }))
            .count()
    }
}

/// Applies `changes` to `tree` and returns the plan that brings the
/// library's files along. `tree` is left in the new state, with paths.
/// The content hash of a node to download is cleared (the executor sets it
/// when the bytes are stored).
pub fn plan_page(tree: &mut Tree, changes: &[RemoteChange]) -> Plan {
    // The previous state of just the nodes this page changes (upserted,
    // removed, or given a new path), not a copy of the whole tree: a full
    // listing of a large library plans hundreds of pages.
    let mut before: HashMap<String, Node> = HashMap::new();
    let (upserts, deletes) = last_occurrences(tree, changes);
    let mut items: HashMap<&str, &RemoteItem> = HashMap::new();
    // Folders that gained, lost or changed a child, with the names that
    // changed: the paths of their children of those names are recomputed
    // (names and collision suffixes), nothing else is.
    let mut dirty = Dirty::new();
    let mut folders_by_path: Option<HashMap<String, String>> = None;
    for item in upserts {
        let mut node = Node::from_remote(item);
        if tree.rules.by_path {
            let index = folders_by_path.get_or_insert_with(|| folder_paths(tree));
            node.parent_id = parent_by_path(tree, index, node.path_lower.as_deref());
        }
        if let Some(old) = tree.nodes.get(&node.id) {
            node.content = old.content.clone();
            node.fetch_failure = old.fetch_failure;
            node.seen_listing = old.seen_listing;
            // Kept until placed again from its parent (dirty below), so a
            // path that does not change is not taken for a move. Whether
            // its segment is kept too (see `sibling_names`) depends on its
            // name and folder staying the same (see `kept_segment`).
            node.path = old.path.clone();
        }
        if node.parent_id.is_none() {
            // Nowhere to place it: no path, and none for its children.
            node.path = None;
            dirty.insert(node.id.clone(), Affected::All);
        }
        if let (Some(index), Some(path), true) = (
            folders_by_path.as_mut(),
            node.path_lower.as_ref(),
            node.is_folder,
        ) {
            index.insert(path.clone(), node.id.clone());
        }
        touch(&mut dirty, &node);
        if let Some(old) = tree.insert(node) {
            touch(&mut dirty, &old);
            before.entry(old.id.clone()).or_insert(old);
        }
        items.insert(item.id.as_str(), item);
    }
    let mut removed = Vec::new();
    for node in remove_deleted(tree, &deletes) {
        removed.push(node.id.clone());
        touch(&mut dirty, &node);
        if tree.rules.delete_keeps_children && node.is_folder {
            // Its children stay, with nowhere to be placed.
            dirty.insert(node.id.clone(), Affected::All);
        }
        before.entry(node.id.clone()).or_insert(node);
    }
    let errors = assign_paths(tree, &dirty, &mut before);
    removed.sort();
    let mut plan = diff(&before, tree, &items);
    plan.removed_ids = removed;
    plan.errors = errors;
    plan
}

/// Deduplicates a page: the last occurrence of each id wins. Returns the
/// upserts in feed order and the ids to delete (path deletes resolved).
fn last_occurrences<'c>(
    tree: &Tree,
    changes: &'c [RemoteChange],
) -> (Vec<&'c RemoteItem>, Vec<String>) {
    let mut last: HashMap<&str, usize> = HashMap::new();
    for (index, change) in changes.iter().enumerate() {
        if let Some(id) = change_id(change) {
            last.insert(id, index);
        }
    }
    let mut upserts = Vec::new();
    let mut deletes = Vec::new();
    for (index, change) in changes.iter().enumerate() {
        match change {
            RemoteChange::Upsert(item) if last.get(item.id.as_str()) == Some(&index) => {
                upserts.push(item);
            }
            RemoteChange::Delete { id } if last.get(id.as_str()) == Some(&index) => {
                deletes.push(id.clone());
            }
            // Ids re-reported later in the page moved (Dropbox reports a
            // move as a delete at the old path, then the new entries).
            RemoteChange::DeletePath { path } => deletes.extend(
                ids_at_path(tree, path)
                    .into_iter()
                    .filter(|id| last.get(id.as_str()).is_none_or(|&at| at < index)),
            ),
            _ => {}
        }
    }
    (upserts, deletes)
}

fn change_id(change: &RemoteChange) -> Option<&str> {
    match change {
        RemoteChange::Upsert(item) => Some(&item.id),
        RemoteChange::Delete { id } => Some(id),
        RemoteChange::DeletePath { .. } => None,
    }
}

/// The ids of the items at `path` (lowercase) and below it.
fn ids_at_path(tree: &Tree, path: &str) -> Vec<String> {
    let path = path.to_lowercase();
    let below = format!("{path}/");
    tree.nodes
        .values()
        .filter(|n| {
            n.path_lower
                .as_deref()
                .is_some_and(|p| p == path || p.starts_with(&below))
        })
        .map(|n| n.id.clone())
        .collect()
}

/// The id of the folder holding the item at `path_lower`, for providers
/// that give paths instead of parent ids; the root when it sits at the top.
/// `folders` maps folder paths (lowercase) to ids ([`folder_paths`]).
fn parent_by_path(
    tree: &Tree,
    folders: &HashMap<String, String>,
    path_lower: Option<&str>,
) -> Option<String> {
    let path = path_lower?;
    let parent = &path[..path.rfind('/')?];
    if parent.is_empty() {
        return Some(tree.root_id.clone());
    }
    folders.get(parent).cloned()
}

/// Every known folder by its lowercase provider path, built once per page
/// that needs it (looking each parent up among all nodes made a full
/// listing of a path-addressed provider quadratic).
fn folder_paths(tree: &Tree) -> HashMap<String, String> {
    tree.nodes
        .values()
        .filter(|n| n.is_folder)
        .filter_map(|n| Some((n.path_lower.clone()?, n.id.clone())))
        .collect()
}

/// Removes the deleted ids and, where a folder's delete stands for its
/// subtree ([`TreeRules::delete_keeps_children`] false), every node whose
/// parent chain now passes through one of them. Returns all removed nodes.
fn remove_deleted(tree: &mut Tree, deletes: &[String]) -> Vec<Node> {
    if tree.rules.delete_keeps_children {
        return deletes.iter().filter_map(|id| tree.remove(id)).collect();
    }
    remove_subtrees(tree, deletes)
}

/// Removes the deleted ids and every node whose parent chain now passes
/// through one of them (their descendants, known or not, cycles
/// included). Returns all removed nodes.
fn remove_subtrees(tree: &mut Tree, deletes: &[String]) -> Vec<Node> {
    let mut reached: HashSet<&str> = HashSet::new();
    let mut stack: Vec<&str> = deletes.iter().map(String::as_str).collect();
    while let Some(id) = stack.pop() {
        if reached.insert(id) {
            stack.extend(
                tree.children
                    .get(id)
                    .into_iter()
                    .flatten()
                    .map(String::as_str),
            );
        }
    }
    let doomed: Vec<String> = reached
        .into_iter()
        .filter(|id| tree.nodes.contains_key(id))
        .map(str::to_owned)
        .collect();
    doomed.iter().filter_map(|id| tree.remove(id)).collect()
}

/// Compares the file side of the tree before and after the page. `before`
/// holds the previous state of every node the page changed (a node absent
/// from it and from `items` is unchanged); `items` are this page's upserts
/// (only they can be downloaded).
fn diff(
    before: &HashMap<String, Node>,
    after: &mut Tree,
    items: &HashMap<&str, &RemoteItem>,
) -> Plan {
    let mut plan = Plan::default();
    let mut ids: Vec<&str> = before
        .keys()
        .map(String::as_str)
        .chain(items.keys().copied())
        .collect();
    ids.sort();
    ids.dedup();
    for id in ids {
        let old = before
            .get(id)
            .filter(|n| n.is_file())
            .and_then(|n| n.path.clone().map(|p| (n, p)));
        let new = after
            .nodes
            .get(id)
            .filter(|n| n.is_file())
            .and_then(|n| n.path.clone().map(|p| (n, p)));
        if let Some(action) = file_action(id, old, new, items) {
            plan.actions.push(action);
        }
        if before.get(id) != after.nodes.get(id) {
            plan.changed.extend(after.nodes.get(id).cloned());
        }
    }
    for action in &plan.actions {
        if let FileAction::Download { item, .. } = action
            && let Some(node) = after.nodes.get_mut(&item.id)
        {
            node.content = Content::Missing;
        }
    }
    plan
}

fn file_action(
    id: &str,
    old: Option<(&Node, String)>,
    new: Option<(&Node, String)>,
    items: &HashMap<&str, &RemoteItem>,
) -> Option<FileAction> {
    match (old, new) {
        (Some((_, from)), None) => Some(FileAction::Delete {
            id: id.to_owned(),
            path: from,
        }),
        (old, Some((node, to))) => {
            let stale = match &old {
                Some((before, _)) => before.content_differs(node) || !node.content.is_known(),
                None => true,
            };
            let entering = old.is_none();
            // A node without a content hash has no file (its download
            // failed): a new download adds the file rather than replacing.
            let from = old
                .filter(|(before, _)| before.content.is_known())
                .map(|(_, p)| p);
            if stale {
                let item = match items.get(id) {
                    Some(item) => Box::new((*item).clone()),
                    // Entering the library with a folder moved in.
                    None if entering => Box::new(node.as_remote_item()),
                    None => return None,
                };
                Some(FileAction::Download {
                    item,
                    path: to,
                    replaces: from,
                })
            } else {
                match from {
                    Some(from) if from != to => Some(FileAction::Move {
                        id: id.to_owned(),
                        from,
                        to,
                    }),
                    _ => None,
                }
            }
        }
        (None, None) => None,
    }
}
