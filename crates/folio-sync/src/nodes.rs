//! [`Nodes`]: the planner's nodes by remote id, each stored once.
//!
//! A `HashMap<String, Node>` holds every id twice (the key and the node's
//! own `id`) and keeps its nodes inline, so its empty slots (a quarter of
//! the table or more) are node-sized. At 100,000 items the planner's tree
//! weighed 68.4 MiB, 12.5 of them key copies and empty slots. Here the
//! table holds one pointer per slot to a boxed node, found by the node's
//! own id.

use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use crate::planner::Node;

/// Nodes by remote id.
#[derive(Debug, Clone, Default)]
pub struct Nodes {
    table: HashTable<Box<Node>>,
    hasher: RandomState,
}

impl Nodes {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            table: HashTable::with_capacity(capacity),
            hasher: RandomState::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Node> {
        let hash = self.hasher.hash_one(id);
        self.table
            .find(hash, |node| node.id == id)
            .map(|node| &**node)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Node> {
        let hash = self.hasher.hash_one(id);
        self.table
            .find_mut(hash, |node| node.id == id)
            .map(|node| &mut **node)
    }

    pub fn contains_key(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    pub fn values(&self) -> impl Iterator<Item = &Node> {
        self.table.iter().map(|node| &**node)
    }

    /// Adds `node` under its id, returning the node it replaced.
    pub fn insert(&mut self, node: Node) -> Option<Node> {
        let Self { table, hasher } = self;
        let hash = hasher.hash_one(node.id.as_str());
        let entry = table.entry(
            hash,
            |stored| stored.id == node.id,
            |stored| hasher.hash_one(stored.id.as_str()),
        );
        match entry {
            Entry::Occupied(mut stored) => {
                Some(*std::mem::replace(stored.get_mut(), Box::new(node)))
            }
            Entry::Vacant(slot) => {
                slot.insert(Box::new(node));
                None
            }
        }
    }

    pub fn remove(&mut self, id: &str) -> Option<Node> {
        let hash = self.hasher.hash_one(id);
        let entry = self.table.find_entry(hash, |node| node.id == id).ok()?;
        Some(*entry.remove().0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, name: &str) -> Node {
        Node {
            id: id.into(),
            name: name.into(),
            ..Node::default()
        }
    }

    #[test]
    fn a_node_is_found_replaced_and_removed_by_its_id() {
        let mut nodes = Nodes::with_capacity(2);
        assert_eq!(nodes.insert(node("a", "one")), None);
        assert_eq!(nodes.insert(node("b", "two")), None);
        assert_eq!(nodes.get("a").map(|n| n.name.as_str()), Some("one"));
        assert_eq!(
            nodes.insert(node("a", "three")).map(|n| n.name),
            Some("one".to_owned())
        );
        assert_eq!(nodes.len(), 2);
        if let Some(b) = nodes.get_mut("b") {
            b.name = "four".into();
        }
        assert_eq!(nodes.remove("b").map(|n| n.name), Some("four".to_owned()));
        assert_eq!(nodes.remove("b"), None);
        assert!(!nodes.contains_key("b"));
        let names: Vec<&str> = nodes.values().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["three"]);
    }

    #[test]
    fn many_nodes_survive_the_table_growing() {
        let mut nodes = Nodes::default();
        for i in 0..10_000 {
            nodes.insert(node(&format!("id{i}"), &format!("n{i}")));
        }
        assert_eq!(nodes.len(), 10_000);
        assert!(
            (0..10_000)
                .all(|i| nodes.get(&format!("id{i}")).map(|n| n.name.clone())
                    == Some(format!("n{i}")))
        );
    }
}
