//! The known remote tree: [`Node`]s (a `remote_items` row each) indexed
//! by id and by parent, and the [`TreeRules`] a provider's capability sets.

use foldhash::{HashMap, HashMapExt, HashSet};
use folio_connectors::{Capability, ExportFormats, ExportInfo, RemoteHash, RemoteItem};
pub use folio_domain::FetchFailure;
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
    /// The provider hash.
    pub remote_hash: Option<RemoteHash>,
    pub version: Option<String>,
    /// Its bytes: stored (and their SHA-256), being downloaded, or not.
    pub content: Content,
    /// The library path of its file (or folder); `None` when it has none.
    pub path: Option<String>,
    /// The full listing that last saw it (the executor's mark and sweep),
    /// kept here rather than in a map of its own: at 100,000 items such a
    /// map held another copy of every id.
    pub seen_listing: Option<Uuid>,
    /// Why a placed file has no bytes (its last download failed).
    pub fetch_failure: Option<FetchFailure>,
}

/// What the engine knows of a node's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Content {
    /// Not stored: never downloaded, its download failed, or not a file.
    #[default]
    Missing,
    /// Being downloaded by the page of this number (or planned by a dry
    /// run): the pages planned meanwhile take the file for stored, and the
    /// download's end settles it (see `Tree::settle_content`).
    Pending(u64),
    /// Stored: the SHA-256 of the bytes.
    Stored(String),
}

impl Content {
    /// True unless the bytes are known to be missing (stored, or on their
    /// way).
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Missing)
    }

    /// The hash of the stored bytes.
    pub fn stored_hash(&self) -> Option<&str> {
        match self {
            Self::Stored(hash) => Some(hash),
            _ => None,
        }
    }
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
            remote_hash: item.hash.clone(),
            version: item.version.clone(),
            content: Content::Missing,
            path: None,
            seen_listing: None,
            fetch_failure: None,
        }
    }

    /// True when the bytes it points at may differ from `other`'s: by hash
    /// where both have one, else by version, else by size.
    pub(super) fn content_differs(&self, other: &Node) -> bool {
        match (&self.remote_hash, &other.remote_hash) {
            (Some(a), Some(b)) => a != b,
            _ => self.version != other.version || self.size != other.size,
        }
    }

    pub(super) fn is_file(&self) -> bool {
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
            hash: self.remote_hash.clone(),
            modified: None,
            version: self.version.clone(),
            mime_type: None,
            export,
            shortcut_target: None,
        }
    }
}

/// The known tree of one library's source, with each item's children
/// indexed: placing a page's changes, or removing a deleted folder's
/// subtree, then costs what the page touched instead of a scan of the whole
/// tree (at 100,000 files, most of the planning time).
#[derive(Debug, Clone, Default)]
pub struct Tree {
    /// The source root's item id (not itself a node).
    pub root_id: String,
    /// How items are placed and what a delete means, from the provider's
    /// capability.
    pub rules: TreeRules,
    pub(super) nodes: Nodes,
    /// The ids of the nodes whose `parent_id` is the key (known or not),
    /// kept by [`Tree::insert`] and [`Tree::remove`], the only ways a node
    /// is added, removed or given another parent.
    pub(super) children: HashMap<String, HashSet<String>>,
}

impl Tree {
    pub fn new(root_id: String, rules: TreeRules, nodes: impl IntoIterator<Item = Node>) -> Self {
        let nodes = nodes.into_iter();
        let mut tree = Self {
            root_id,
            rules,
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

    /// Records what a node's bytes are (stored, or pending); nothing when
    /// the node is unknown.
    pub fn set_content(&mut self, id: &str, content: Content) {
        if let Some(node) = self.nodes.get_mut(id) {
            node.content = content;
        }
    }

    /// Gives a node still pending on page `page` what its download ended
    /// with (its stored bytes, or none and why): a node changed since keeps
    /// what it has.
    pub fn settle_content(
        &mut self,
        id: &str,
        page: u64,
        content: Content,
        failure: Option<FetchFailure>,
    ) {
        if let Some(node) = self.nodes.get_mut(id)
            && node.content == Content::Pending(page)
        {
            node.content = content;
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
    pub(super) fn insert(&mut self, node: Node) -> Option<Node> {
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
    pub(super) fn remove(&mut self, id: &str) -> Option<Node> {
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
        Self::new(
            self.root_id.clone(),
            self.rules,
            self.nodes.values().cloned(),
        )
        .children
            == self.children
    }
}

/// What the planner reads of a provider's [`Capability`]: how an item
/// finds its folder, and what a folder's delete takes with it.
///
/// The feed's scope ([`Capability::feed_scope`]) needs no rule of its own:
/// an item is in the library when its parent chain reaches the source
/// root, which keeps the items of a subtree feed and filters those of a
/// whole-drive feed alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TreeRules {
    /// Items are addressed by path ([`Capability::parent_ids`] false,
    /// Dropbox): an item's folder is the folder at its path's parent, and
    /// deletes come by path.
    pub by_path: bool,
    /// A folder's delete stands for its subtree
    /// ([`Capability::folder_delete_implies_children`]). When false, its
    /// children stay known, unplaced, until their own deletes come.
    pub delete_keeps_children: bool,
}

impl TreeRules {
    /// The rules of a provider of this capability.
    pub fn of(capability: &Capability) -> Self {
        Self {
            by_path: !capability.parent_ids,
            delete_keeps_children: !capability.folder_delete_implies_children,
        }
    }
}
