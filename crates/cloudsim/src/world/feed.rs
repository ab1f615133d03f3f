//! Reading the change log: one feed position is one sequence number.

use super::*;

impl World {
    // ----- change feeds -------------------------------------------------

    /// The current global position: a feed started now sees only later changes.
    pub fn current_seq(&self) -> u64 {
        self.seq
    }

    /// Up to `limit` items of `drives` changed after position `after`,
    /// each once (its latest change), in sequence order.
    /// Errors with [`CursorError::Expired`] when `after` is below a drive's floor.
    pub fn changes_since(
        &self,
        drives: &[DriveId],
        after: u64,
        limit: usize,
    ) -> Result<ChangePage, CursorError> {
        let mut entries: Vec<ChangeEntry> = Vec::new();
        for drive_id in drives {
            let Some(drive) = self.drives.get(drive_id) else {
                continue;
            };
            if after < drive.cursor_floor {
                return Err(CursorError::Expired(after));
            }
            let start = drive.changes.partition_point(|c| c.seq <= after);
            let mut taken = 0;
            for entry in &drive.changes[start..] {
                let latest = self
                    .items
                    .get(&entry.item_id)
                    .is_some_and(|i| i.change_seq == entry.seq);
                if latest {
                    entries.push(entry.clone());
                    taken += 1;
                    if taken > limit {
                        break;
                    }
                }
            }
        }
        entries.sort_by_key(|e| e.seq);
        let more = entries.len() > limit;
        entries.truncate(limit);
        let next = match (more, entries.last()) {
            (true, Some(last)) => last.seq,
            _ => self.seq,
        };
        Ok(ChangePage {
            entries,
            more,
            next,
        })
    }
}
