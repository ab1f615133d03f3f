//! What a batch writes, decided once for both commit paths: the last put
//! per path, the first move per source, the last upsert per item, and the
//! SQL both paths share.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use crate::models::FileRecord;
use crate::sync::rows::{RemoteItemRow, SyncBatch};

/// Prefix of the temporary names file moves pass through (a control
/// character, so no library path can have it).
pub(crate) const MOVING_PREFIX: &str = "\u{1}moving/";

/// Renews a run's lease inside a batch's transaction, if the run still
/// holds it ([`crate::sync::rows::Fence`]): `$1` run id, `$2` owner, `$3` the lease's new end.
pub(crate) const FENCE_SQL: &str = "UPDATE sync_runs SET lease_until_ms = $3 \
     WHERE id = $1 AND lease_owner = $2 AND status = 'running'";

/// Stores a library's change cursor: `$1` library id, `$2` cursor, `$3`
/// complete, `$4` listing id, `$5` when.
pub(crate) const CURSOR_SQL: &str = "INSERT INTO sync_cursors \
     (library_id, cursor, complete, listing_id, updated_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (library_id) DO UPDATE SET \
     cursor = excluded.cursor, complete = excluded.complete, \
     listing_id = excluded.listing_id, updated_at = excluded.updated_at";

/// A batch reduced to what is written (indexes into its vectors): the
/// last put per path, the first move per source, the last upsert per
/// item. Rows are applied as if one at a time in order, so this is what
/// one at a time would leave.
pub(crate) struct Writes {
    pub(crate) batch: SyncBatch,
    pub(crate) puts: Vec<usize>,
    pub(crate) moves: Vec<usize>,
    pub(crate) items: Vec<usize>,
}

impl Writes {
    /// The writes of `batch`, and the hashes of the puts overridden by a
    /// later put of their path (their bytes were stored for nothing).
    pub(crate) fn of(batch: SyncBatch) -> (Self, Vec<String>) {
        let (puts, overridden) = last_put_per_path(&batch.file_puts);
        let moves = first_move_per_source(&batch.file_moves);
        let items = last_upsert_per_item(&batch.item_upserts);
        let writes = Self {
            batch,
            puts,
            moves,
            items,
        };
        (writes, overridden)
    }

    /// The files put, in order.
    pub(crate) fn puts(&self) -> impl ExactSizeIterator<Item = &FileRecord> + Clone {
        self.puts.iter().map(|&i| &self.batch.file_puts[i])
    }

    /// The moves, `(from, to)`, in order.
    pub(crate) fn moves(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone {
        self.moves.iter().map(|&i| {
            let (from, to) = &self.batch.file_moves[i];
            (from.as_str(), to.as_str())
        })
    }

    /// The item rows written, in order.
    pub(crate) fn items(&self) -> impl ExactSizeIterator<Item = &RemoteItemRow> + Clone {
        self.items.iter().map(|&i| &self.batch.item_upserts[i])
    }

    /// The hashes of the files put: the blobs that must still be stored
    /// when the batch commits.
    pub(crate) fn put_hashes(&self) -> Vec<String> {
        self.puts().map(|record| record.hash.clone()).collect()
    }
}

/// The puts to write, the last one per path (their indexes, in the order
/// of those last ones), and the hashes of the earlier puts they override:
/// their bytes were stored for nothing, so they are release candidates
/// like replaced bytes.
fn last_put_per_path(puts: &[FileRecord]) -> (Vec<usize>, Vec<String>) {
    let mut last: HashMap<&str, usize> = HashMap::with_capacity(puts.len());
    for (index, put) in puts.iter().enumerate() {
        last.insert(put.path.as_str(), index);
    }
    let mut kept = Vec::with_capacity(last.len());
    let mut overridden = Vec::new();
    for (index, put) in puts.iter().enumerate() {
        let winner = &puts[last[put.path.as_str()]];
        if last[put.path.as_str()] == index {
            kept.push(index);
        } else if put.hash != winner.hash {
            overridden.push(put.hash.clone());
        }
    }
    (kept, overridden)
}

/// The moves to make (their indexes), the first one per source path (one
/// at a time, a second move of the same source finds nothing left to
/// move).
fn first_move_per_source(moves: &[(String, String)]) -> Vec<usize> {
    let mut seen = HashSet::with_capacity(moves.len());
    (0..moves.len())
        .filter(|&index| seen.insert(moves[index].0.as_str()))
        .collect()
}

/// The item rows to write (their indexes), the last one per remote id.
fn last_upsert_per_item(items: &[RemoteItemRow]) -> Vec<usize> {
    let mut last: HashMap<&str, usize> = HashMap::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        last.insert(item.remote_id.as_str(), index);
    }
    (0..items.len())
        .filter(|&index| last[items[index].remote_id.as_str()] == index)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn put(path: &str, hash: &str) -> FileRecord {
        let now = Utc::now();
        FileRecord {
            library_id: uuid::Uuid::nil(),
            path: path.into(),
            size: 1,
            content_type: "text/plain".into(),
            hash: hash.into(),
            modified_at: now,
            remote_id: None,
            synced_at: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn the_last_put_of_a_path_wins_and_the_earlier_bytes_are_released() {
        let puts = [put("a", "1"), put("b", "2"), put("a", "3"), put("a", "3")];
        let (kept, overridden) = last_put_per_path(&puts);
        let kept: Vec<(&str, &str)> = kept
            .iter()
            .map(|&i| (puts[i].path.as_str(), puts[i].hash.as_str()))
            .collect();
        assert_eq!(kept, [("b", "2"), ("a", "3")]);
        assert_eq!(overridden, ["1"]);
    }

    #[test]
    fn a_second_move_of_one_source_is_dropped() {
        let moves = [
            ("a".to_owned(), "b".to_owned()),
            ("a".to_owned(), "c".to_owned()),
            ("b".to_owned(), "a".to_owned()),
        ];
        assert_eq!(first_move_per_source(&moves), [0, 2]);
    }
}
