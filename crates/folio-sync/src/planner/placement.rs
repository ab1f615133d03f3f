//! Placing a page's changes: which folders' children a page may have
//! placed differently ([`Dirty`]), and their paths recomputed from their
//! parents', with stable collision suffixes (the rules in the planner's
//! module documentation).

use std::borrow::Cow;
use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use folio_domain::LibraryPath;
use folio_domain::sanitize::{child_path, safe_name, sanitize_name, with_stable_suffix};

use super::{Node, PlanError, Tree};

/// Which children of a folder a page may have placed differently.
#[derive(Debug)]
pub(super) enum Affected {
    /// All of them: the folder is new, moved, renamed or unplaceable.
    All,
    /// Those of these safe names ([`local_name`]): a sibling's segment
    /// depends only on the siblings that share its name (the collision
    /// suffixes), so a child added, removed or renamed can change the path
    /// of no other child.
    Named(HashSet<String>),
}

/// The folders whose children a page may have placed differently.
pub(super) type Dirty = HashMap<String, Affected>;

/// Records that `node` (as it was, or as it is now) is a child of its
/// parent that changed.
pub(super) fn touch(dirty: &mut Dirty, node: &Node) {
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

/// Recomputes the paths a page can have changed: those of the children of
/// every `dirty` folder, then, level by level, of the children of every node
/// whose own path changed. A node whose path changes is first copied into
/// `before` (unless it is there already). Returns the nodes whose path is
/// too long.
pub(super) fn assign_paths(
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
pub(super) fn local_name(node: &Node) -> Cow<'_, str> {
    match &node.export_extension {
        Some(ext) if !node.name.to_lowercase().ends_with(&format!(".{ext}")) => {
            Cow::Owned(sanitize_name(&format!("{}.{ext}", node.name)))
        }
        _ => safe_name(&node.name),
    }
}
