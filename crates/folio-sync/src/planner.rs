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

use std::borrow::Cow;
use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use folio_connectors::{ExportFormats, ExportInfo, HashKind, RemoteChange, RemoteHash, RemoteItem};
use folio_domain::LibraryPath;
use folio_domain::sanitize::{child_path, safe_name, sanitize_name, with_stable_suffix};
use uuid::Uuid;

use crate::nodes::Nodes;

/// What the engine knows of one remote item (a `remote_items` row).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    pub id: String,
    pub parent_id: Option<String>,
    /// Lowercase path below the source root (`/a/b.txt`), for providers
    /// that address items by path (Dropbox).
    pub path_lower: Option<String>,
    /// The raw provider name.
    pub name: String,
    pub is_folder: bool,
    /// False for shortcuts and documents that cannot be exported.
    pub has_content: bool,
    /// Extension appended for exported documents (`docx`).
    pub export_extension: Option<String>,
    pub size: Option<i64>,
    /// The provider hash as `kind:value`.
    pub remote_hash: Option<String>,
    pub version: Option<String>,
    /// SHA-256 of the stored bytes; `None` until a download succeeded.
    pub content_hash: Option<String>,
    /// The library path of its file (or folder); `None` when it has none.
    pub path: Option<String>,
    /// The full listing that last saw it (the executor's mark and sweep),
    /// kept here rather than in a map of its own: at 100,000 items such a
    /// map held another copy of every id.
    pub seen_listing: Option<Uuid>,
    /// Why a placed file has no bytes (its last download failed).
    pub fetch_failure: Option<FetchFailure>,
}

/// Why a file's last download failed, which says when a sync tries it
/// again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchFailure {
    /// The provider kept failing on it (5xx, 429, a timeout, a cut
    /// connection): the next sync tries it again.
    Temporary,
    /// The provider refused it, or its bytes never matched the provider's
    /// hash: tried again once the retry interval is over.
    Refused,
}

impl Node {
    /// The node a remote item describes, keeping nothing of a previous one.
    pub fn from_remote(item: &RemoteItem) -> Self {
        Self {
            id: item.id.clone(),
            parent_id: item.parent_id.clone(),
            path_lower: item.path.as_ref().map(|p| p.to_lowercase()),
            name: item.name.clone(),
            is_folder: item.is_folder,
            has_content: item.is_downloadable(),
            export_extension: item.export.as_ref().map(|e| e.extension.clone()),
            size: item.size.and_then(|s| i64::try_from(s).ok()),
            remote_hash: item
                .hash
                .as_ref()
                .map(|h| format!("{:?}:{}", h.kind, h.value)),
            version: item.version.clone(),
            content_hash: None,
            path: None,
            seen_listing: None,
            fetch_failure: None,
        }
    }

    /// True when the bytes it points at may differ from `other`'s: by hash
    /// where both have one, else by version, else by size.
    fn content_differs(&self, other: &Node) -> bool {
        match (&self.remote_hash, &other.remote_hash) {
            (Some(a), Some(b)) => a != b,
            _ => self.version != other.version || self.size != other.size,
        }
    }

    fn is_file(&self) -> bool {
        !self.is_folder && self.has_content
    }

    /// The remote item this node stands for, as the feed last described
    /// it. For a file that enters the library without being in the page:
    /// a folder moved into the source is reported alone, not its children
    /// (Drive changes, Graph delta). The feed keeps the node current, so
    /// its hash still verifies the bytes; the export target of a
    /// Google-native document is the one its extension names, and
    /// the modified time and content type are not known.
    pub(crate) fn as_remote_item(&self) -> RemoteItem {
        let export = self.export_extension.as_ref().and_then(|ext| {
            Some(ExportInfo {
                mime_type: ExportFormats::mime_of_extension(ext)?.to_owned(),
                extension: ext.clone(),
            })
        });
        RemoteItem {
            id: self.id.clone(),
            parent_id: self.parent_id.clone(),
            path: None,
            name: self.name.clone(),
            is_folder: self.is_folder,
            size: self.size.and_then(|s| u64::try_from(s).ok()),
            hash: self.remote_hash.as_deref().and_then(parse_remote_hash),
            modified: None,
            version: self.version.clone(),
            mime_type: None,
            export,
            shortcut_target: None,
        }
    }
}

/// A hash stored by [`Node::from_remote`] (`Md5:value`) read back.
fn parse_remote_hash(stored: &str) -> Option<RemoteHash> {
    let (kind, value) = stored.split_once(':')?;
    let kind = match kind {
        "Md5" => HashKind::Md5,
        "QuickXorHash" => HashKind::QuickXorHash,
        "Sha256" => HashKind::Sha256,
        "DropboxContentHash" => HashKind::DropboxContentHash,
        _ => return None,
    };
    Some(RemoteHash::new(kind, value))
}

/// The known tree of one library's source, with each item's children
/// indexed: placing a page's changes, or removing a deleted folder's
/// subtree, then costs what the page touched instead of a scan of the whole
/// tree (at 100,000 files, most of the planning time).
#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// The source root's item id (not itself a node).
    pub root_id: String,
    nodes: Nodes,
    /// The ids of the nodes whose `parent_id` is the key (known or not),
    /// kept by [`Tree::insert`] and [`Tree::remove`], the only ways a node
    /// is added, removed or given another parent.
    children: HashMap<String, HashSet<String>>,
}

impl Tree {
    pub fn new(root_id: String, nodes: impl IntoIterator<Item = Node>) -> Self {
        let nodes = nodes.into_iter();
        let mut tree = Self {
            root_id,
            nodes: Nodes::with_capacity(nodes.size_hint().0),
            children: HashMap::new(),
        };
        for node in nodes {
            tree.insert(node);
        }
        tree
    }

    /// Every known item by id.
    pub fn nodes(&self) -> &Nodes {
        &self.nodes
    }

    /// Records the hash of a node's stored bytes (or a pending marker);
    /// nothing when the node is unknown.
    pub fn set_content_hash(&mut self, id: &str, hash: String) {
        if let Some(node) = self.nodes.get_mut(id) {
            node.content_hash = Some(hash);
        }
    }

    /// Gives a node whose content hash is still `marker` the hash of its
    /// stored bytes, or none and why: a node changed since keeps what it
    /// has.
    pub fn settle_content_hash(
        &mut self,
        id: &str,
        marker: &str,
        stored: Option<String>,
        failure: Option<FetchFailure>,
    ) {
        if let Some(node) = self.nodes.get_mut(id)
            && node.content_hash.as_deref() == Some(marker)
        {
            node.content_hash = stored;
            node.fetch_failure = failure;
        }
    }

    /// Marks a node seen by the full listing `listing`; false when the node
    /// is unknown.
    pub fn mark_seen(&mut self, id: &str, listing: Uuid) -> bool {
        let node = self.nodes.get_mut(id);
        node.map(|node| node.seen_listing = Some(listing)).is_some()
    }

    /// Adds or replaces a node, returning the one it replaced.
    fn insert(&mut self, node: Node) -> Option<Node> {
        let id = node.id.clone();
        let parent = node.parent_id.clone();
        let old = self.nodes.insert(node);
        let old_parent = old.as_ref().and_then(|o| o.parent_id.as_deref());
        if old_parent != parent.as_deref() {
            if let Some(old_parent) = old_parent {
                self.unlink(old_parent, &id);
            }
            if let Some(parent) = parent {
                self.children.entry(parent).or_default().insert(id);
            }
        }
        old
    }

    /// Removes a node (not its children, which keep pointing at it).
    fn remove(&mut self, id: &str) -> Option<Node> {
        let node = self.nodes.remove(id)?;
        if let Some(parent) = node.parent_id.as_deref() {
            self.unlink(parent, id);
        }
        Some(node)
    }

    fn unlink(&mut self, parent: &str, id: &str) {
        if let Some(siblings) = self.children.get_mut(parent) {
            siblings.remove(id);
            if siblings.is_empty() {
                self.children.remove(parent);
            }
        }
    }

    /// True when the children index holds exactly the nodes' parent links.
    #[cfg(test)]
    pub(crate) fn children_match_parents(&self) -> bool {
        Self::new(self.root_id.clone(), self.nodes.values().cloned()).children == self.children
    }
}

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
        if node.parent_id.is_none() {
            let index = folders_by_path.get_or_insert_with(|| folder_paths(tree));
            node.parent_id = parent_by_path(tree, index, node.path_lower.as_deref());
        }
        if let Some(old) = tree.nodes.get(&node.id) {
            node.content_hash = old.content_hash.clone();
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
    for node in remove_subtrees(tree, &deletes) {
        removed.push(node.id.clone());
        touch(&mut dirty, &node);
        before.entry(node.id.clone()).or_insert(node);
    }
    let errors = assign_paths(tree, &dirty, &mut before);
    removed.sort();
    let mut plan = diff(&before, tree, &items);
    plan.removed_ids = removed;
    plan.errors = errors;
    plan
}

/// Which children of a folder a page may have placed differently.
#[derive(Debug)]
enum Affected {
    /// All of them: the folder is new, moved, renamed or unplaceable.
    All,
    /// Those of these safe names ([`local_name`]): a sibling's segment
    /// depends only on the siblings that share its name (the collision
    /// suffixes), so a child added, removed or renamed can change the path
    /// of no other child.
    Named(HashSet<String>),
}

/// The folders whose children a page may have placed differently.
type Dirty = HashMap<String, Affected>;

/// Records that `node` (as it was, or as it is now) is a child of its
/// parent that changed.
fn touch(dirty: &mut Dirty, node: &Node) {
    let Some(parent) = &node.parent_id else {
        return;
    };
    let affected = dirty
        .entry(parent.clone())
        .or_insert_with(|| Affected::Named(HashSet::new()));
    if let Affected::Named(names) = affected {
        let name = local_name(node);
        if !names.contains(name.as_ref()) {
            names.insert(name.into_owned());
        }
    }
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

/// Recomputes the paths a page can have changed: those of the children of
/// every `dirty` folder, then, level by level, of the children of every node
/// whose own path changed. A node whose path changes is first copied into
/// `before` (unless it is there already). Returns the nodes whose path is
/// too long.
fn assign_paths(
    tree: &mut Tree,
    dirty: &Dirty,
    before: &mut HashMap<String, Node>,
) -> Vec<PlanError> {
    let (moved, errors) = path_changes(tree, dirty, before);
    for (id, path) in moved {
        if let Some(node) = tree.nodes.get_mut(&id) {
            before.entry(id).or_insert_with(|| node.clone());
            node.path = path;
        }
    }
    errors
}

/// The nodes below the `dirty` folders whose path differs from the one
/// computed from their parent's, with their new path, and the nodes whose
/// path is too long. The rest of the tree is already placed, so this costs
/// what the page touched (plus one scan of the tree per level for
/// children), not a placement of the whole tree per page: a full listing
/// of 100,000 files runs a hundred pages, and each page adds a few files
/// to most folders. Works on borrowed ids.
fn path_changes<'t>(
    tree: &'t Tree,
    dirty: &'t Dirty,
    before: &'t HashMap<String, Node>,
) -> (Vec<(String, Option<String>)>, Vec<PlanError>) {
    let mut placed: HashMap<&'t str, Option<String>> = HashMap::new();
    let mut errors: BTreeMap<&'t str, PlanError> = BTreeMap::new();
    let mut level: HashMap<&'t str, &'t Affected> =
        dirty.iter().map(|(id, a)| (id.as_str(), a)).collect();
    while !level.is_empty() {
        let children = children_of(tree, &level);
        let mut next = HashMap::new();
        for &folder in level.keys() {
            let ids = children.get(folder).map(Vec::as_slice).unwrap_or_default();
            for (id, path) in placements(tree, folder, ids, &placed, before, &mut errors) {
                let current = match placed.get(id) {
                    Some(path) => path.as_deref(),
                    None => tree.nodes.get(id).and_then(|n| n.path.as_deref()),
                };
                if current != path.as_deref() {
                    placed.insert(id, path);
                    // Its own path changed: all its children move with it.
                    next.insert(id, &Affected::All);
                }
            }
        }
        level = next;
    }
    let moved = placed
        .into_iter()
        .filter(|(id, path)| tree.nodes.get(id).is_some_and(|n| n.path != *path))
        .map(|(id, path)| (id.to_owned(), path))
        .collect();
    (moved, errors.into_values().collect())
}

/// The children of each of `folders` that it may have placed differently
/// (see [`Affected`]).
fn children_of<'t>(
    tree: &'t Tree,
    folders: &HashMap<&'t str, &Affected>,
) -> HashMap<&'t str, Vec<&'t str>> {
    let mut children: HashMap<&'t str, Vec<&'t str>> = HashMap::new();
    for (&folder, affected) in folders {
        let Some(ids) = tree.children.get(folder) else {
            continue;
        };
        let included = ids.iter().filter(|id| match affected {
            Affected::All => true,
            Affected::Named(names) => tree
                .nodes
                .get(id.as_str())
                .is_some_and(|node| names.contains(local_name(node).as_ref())),
        });
        children.insert(folder, included.map(String::as_str).collect());
    }
    children
}

/// Where each of `ids` (the children of `folder`) belongs: under the
/// folder's path (as placed so far this page), or nowhere when the folder
/// is itself not placed or not reachable from the root. A path too long
/// is recorded in `errors` (and forgotten once it fits).
fn placements<'t>(
    tree: &'t Tree,
    folder: &str,
    ids: &[&'t str],
    placed: &HashMap<&'t str, Option<String>>,
    before: &'t HashMap<String, Node>,
    errors: &mut BTreeMap<&'t str, PlanError>,
) -> Vec<(&'t str, Option<String>)> {
    let Some(base) = folder_base(tree, folder, placed) else {
        return ids.iter().map(|&id| (id, None)).collect();
    };
    let mut named: HashMap<&'t str, String> =
        sibling_names(tree, ids, |node| kept_segment(node, before.get(&node.id)))
            .into_iter()
            .collect();
    ids.iter()
        .map(|&id| {
            let Some(segment) = named.remove(id) else {
                return (id, None);
            };
            match child_path(base.as_ref(), &segment) {
                Ok(path) => {
                    errors.remove(id);
                    (id, Some(path.to_string()))
                }
                Err(err) => {
                    let name = tree.nodes.get(id).map(|n| n.name.clone());
                    errors.insert(
                        id,
                        PlanError {
                            remote_id: id.to_owned(),
                            name: name.unwrap_or_default(),
                            message: err.reason,
                        },
                    );
                    (id, None)
                }
            }
        })
        .collect()
}

/// The path children of `folder` go under: `Some(None)` for the source
/// root (the library's top), `Some(Some(path))` for a placed node whose
/// parent chain reaches the root, `None` otherwise (unknown, not placed,
/// or caught in a cycle of moves).
fn folder_base(
    tree: &Tree,
    folder: &str,
    placed: &HashMap<&str, Option<String>>,
) -> Option<Option<LibraryPath>> {
    if folder == tree.root_id {
        return Some(None);
    }
    let node = tree.nodes.get(folder)?;
    let path = match placed.get(folder) {
        Some(path) => path.as_deref(),
        None => node.path.as_deref(),
    }?;
    if !reaches_root(tree, folder) {
        return None;
    }
    LibraryPath::parse(path).ok().map(Some)
}

/// True when the parent chain of `id` ends at the root (not in a cycle,
/// not at an unknown parent).
fn reaches_root(tree: &Tree, id: &str) -> bool {
    let mut current = id;
    for _ in 0..=tree.nodes.len() {
        if current == tree.root_id {
            return true;
        }
        match tree.nodes.get(current).and_then(|n| n.parent_id.as_deref()) {
            Some(parent) => current = parent,
            None => return false,
        }
    }
    false
}

/// The segment `node` holds and may keep: the last segment of its path,
/// unless this page renamed it or moved it to another folder (`previous`
/// is the node before the page, if the page changed it). A renamed or
/// moved item is a newcomer among its new siblings.
fn kept_segment<'n>(node: &'n Node, previous: Option<&Node>) -> Option<&'n str> {
    if previous.is_some_and(|p| p.parent_id != node.parent_id || p.name != node.name) {
        return None;
    }
    node.path.as_deref().map(last_segment)
}

/// The last segment of a library path.
fn last_segment(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Every node's path computed from the root down, the whole tree at once,
/// each item keeping the segment it had in `previous` (the tree before the
/// page) while its name and folder are the same: the reference the
/// page-by-page placement is tested against.
#[cfg(test)]
pub(crate) fn full_placement(tree: &Tree, previous: &Tree) -> HashMap<String, Option<String>> {
    let kept = |node: &Node| {
        let before = previous.nodes.get(&node.id)?;
        (before.parent_id == node.parent_id && before.name == node.name)
            .then(|| before.path.as_deref().map(last_segment))
            .flatten()
    };
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for node in tree.nodes.values() {
        if let Some(parent) = &node.parent_id {
            children.entry(parent).or_default().push(&node.id);
        }
    }
    let mut placed: HashMap<String, Option<String>> =
        tree.nodes.values().map(|n| (n.id.clone(), None)).collect();
    let mut stack: Vec<(&str, Option<LibraryPath>)> = vec![(&tree.root_id, None)];
    while let Some((folder, folder_path)) = stack.pop() {
        let Some(ids) = children.get(folder) else {
            continue;
        };
        for (id, segment) in sibling_names(tree, ids, kept) {
            if let Ok(path) = child_path(folder_path.as_ref(), &segment) {
                placed.insert(id.to_owned(), Some(path.to_string()));
                stack.push((id, Some(path)));
            }
        }
    }
    placed
}

/// The safe segment of each sibling that has one (folders and files with
/// content). Siblings sharing a safe name keep what they hold: `current`
/// gives a node's segment as placed so far, and one that is the plain name
/// or the node's own suffixed name is kept (of two claiming the plain
/// name, the first by remote id). The plain name, when nobody keeps it,
/// goes to the first newcomer by remote id; everyone else gets the stable
/// suffix. So a suffix never moves to a twin that did not change.
fn sibling_names<'t, 'n, 'c>(
    tree: &'n Tree,
    ids: &[&'t str],
    current: impl Fn(&'n Node) -> Option<&'c str>,
) -> Vec<(&'t str, String)> {
    let mut by_name: BTreeMap<Cow<'_, str>, Vec<&'t str>> = BTreeMap::new();
    for &id in ids {
        let Some(node) = tree.nodes.get(id) else {
            continue;
        };
        if !node.is_folder && !node.has_content {
            continue;
        }
        by_name.entry(local_name(node)).or_default().push(id);
    }
    let mut out = Vec::new();
    for (name, mut holders) in by_name {
        holders.sort_unstable();
        if let [id] = holders[..] {
            let segment = lone_segment(&name, id, tree.nodes.get(id).and_then(&current));
            out.push((id, segment));
            continue;
        }
        let holds_plain = |id: &str| {
            let node = tree.nodes.get(id)?;
            Some(current(node)? == name.as_ref())
        };
        let incumbent = |id: &str| {
            let node = tree.nodes.get(id)?;
            let segment = current(node)?;
            (segment == name.as_ref() || segment == with_stable_suffix(&name, id)).then_some(())
        };
        let plain = holders
            .iter()
            .find(|id| holds_plain(id) == Some(true))
            .or_else(|| holders.iter().find(|id| incumbent(id).is_none()))
            .copied();
        for id in holders {
            let segment = if Some(id) == plain {
                name.clone().into_owned()
            } else {
                with_stable_suffix(&name, id)
            };
            out.push((id, segment));
        }
    }
    out
}

/// The segment of the one sibling of its name, `current` the segment it
/// holds: its suffixed name if it holds that (its twin left), else the
/// plain name. Most siblings are alone and hold the plain name already:
/// no suffix is computed for them.
fn lone_segment(name: &str, id: &str, current: Option<&str>) -> String {
    match current {
        Some(segment) if segment != name && segment == with_stable_suffix(name, id) => {
            segment.to_owned()
        }
        _ => name.to_owned(),
    }
}

/// The sanitised name, with the export extension for exported documents.
fn local_name(node: &Node) -> Cow<'_, str> {
    match &node.export_extension {
        Some(ext) if !node.name.to_lowercase().ends_with(&format!(".{ext}")) => {
            Cow::Owned(sanitize_name(&format!("{}.{ext}", node.name)))
        }
        _ => safe_name(&node.name),
    }
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
            node.content_hash = None;
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
                Some((before, _)) => before.content_differs(node) || node.content_hash.is_none(),
                None => true,
            };
            let entering = old.is_none();
            // A node without a content hash has no file (its download
            // failed): a new download adds the file rather than replacing.
            let from = old
                .filter(|(before, _)| before.content_hash.is_some())
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
