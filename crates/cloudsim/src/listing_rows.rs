//! The sorted rows of recent first enumerations (Graph delta and Dropbox
//! `list_folder` page through a folder's whole subtree), so paging through
//! a large folder sorts it once, not per page.
//!
//! Rows are ids only: each page renders the items' current state, and
//! whatever changed after the enumeration's position is reported in the
//! change round that follows, so a cached list never hides a change. The
//! cache belongs to one [`crate::AppState`]: two emulators in one process
//! never see each other's rows.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::world::ItemId;

/// One row: (depth below the listed folder, item id). Sorted, so a page
/// continues after the last row it served.
pub type Row = (u32, ItemId);

/// The rows of one enumeration, shared by the pages that read them.
pub type Rows = Arc<Vec<Row>>;

/// Which enumeration: the API, the listed folder, the world position the
/// listing stands at, and the API's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowsKey {
    pub api: &'static str,
    pub folder: ItemId,
    pub snap: u64,
    pub recursive: bool,
    pub include_deleted: bool,
}

/// How many enumerations are kept (the oldest goes first).
const KEPT: usize = 8;

/// The recent enumerations, newest last.
#[derive(Debug, Default)]
pub struct ListingRows {
    recent: Mutex<Vec<(RowsKey, Rows)>>,
}

impl ListingRows {
    /// The rows of `key`, built by `build` when not kept.
    pub fn get_or_build(&self, key: RowsKey, build: impl FnOnce() -> Vec<Row>) -> Rows {
        if let Some((_, rows)) = self.recent.lock().iter().find(|(k, _)| *k == key) {
            return rows.clone();
        }
        let rows = Arc::new(build());
        let mut recent = self.recent.lock();
        if recent.len() >= KEPT {
            recent.remove(0);
        }
        recent.push((key, rows.clone()));
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(folder: &str, snap: u64) -> RowsKey {
        RowsKey {
            api: "test",
            folder: folder.into(),
            snap,
            recursive: true,
            include_deleted: false,
        }
    }

    #[test]
    fn rows_are_built_once_per_key_and_the_oldest_goes() {
        let cache = ListingRows::default();
        let mut builds = 0;
        for _ in 0..2 {
            cache.get_or_build(key("a", 1), || {
                builds += 1;
                vec![(0, "a".into())]
            });
        }
        assert_eq!(builds, 1);
        for n in 0..KEPT as u64 {
            cache.get_or_build(key("b", n), Vec::new);
        }
        cache.get_or_build(key("a", 1), || {
            builds += 1;
            Vec::new()
        });
        assert_eq!(builds, 2, "the first key was pushed out");
    }
}
