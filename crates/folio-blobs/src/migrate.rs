//! Moving a local store from the two-level layout (`blobs/ab/cd/<hash>`)
//! to the one-level one (`blobs/ab/<hash>`, see [`crate::key::Layout`]).
//!
//! Runs in [`crate::BlobStore::open`] before the store serves anything. A
//! local directory belongs to one process (replicas share object storage,
//! which keeps its layout), so nothing else writes while it runs. It is
//! safe to interrupt: each blob is one rename, a blob already moved is not
//! touched again, and the marker file that ends it is written last.

use std::path::Path;

use crate::key::{BLOBS_DIR, is_valid_hash};

/// The marker in the store's root saying its blobs are in one level.
const MARKER: &str = "layout";
const MARKER_TEXT: &str = "blobs/<h0h1>/<hash>\n";

/// Makes sure the store at `root` is in the one-level layout; returns how
/// many blobs it moved.
pub(crate) fn to_one_level(root: &Path) -> std::io::Result<u64> {
    let marker = root.join(MARKER);
    if marker.exists() {
        return Ok(0);
    }
    let blobs = root.join(BLOBS_DIR);
    let mut moved = 0;
    if blobs.exists() {
        for first in std::fs::read_dir(&blobs)? {
            let first = first?;
            if first.file_type()?.is_dir() && is_prefix(&first.file_name(), 2) {
                moved += flatten(&first.path())?;
            }
        }
    }
    std::fs::write(&marker, MARKER_TEXT)?;
    if moved > 0 {
        tracing::info!(moved, root = %root.display(), "blob store moved to the one-level layout");
    }
    Ok(moved)
}

/// Moves the blobs of every `ab/cd/` directory under `first` (`blobs/ab/`)
/// up into it, then removes the emptied `cd/`.
fn flatten(first: &Path) -> std::io::Result<u64> {
    let mut moved = 0;
    for second in std::fs::read_dir(first)? {
        let second = second?;
        if !second.file_type()?.is_dir() || !is_prefix(&second.file_name(), 2) {
            continue;
        }
        for blob in std::fs::read_dir(second.path())? {
            let blob = blob?;
            let name = blob.file_name();
            let is_blob = name.to_str().is_some_and(is_valid_hash) && blob.file_type()?.is_file();
            if is_blob {
                // Over a copy already moved up: the same bytes.
                std::fs::rename(blob.path(), first.join(&name))?;
                moved += 1;
            }
        }
        // Only empty once every entry was a blob; anything else stays.
        let _ = std::fs::remove_dir(second.path());
    }
    Ok(moved)
}

/// True for a directory name of `len` lowercase hex digits.
fn is_prefix(name: &std::ffi::OsStr, len: usize) -> bool {
    name.to_str().is_some_and(|n| {
        n.len() == len && n.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const H1: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const H2: &str = "ba78aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    #[test]
    fn two_level_blobs_move_up_once_and_the_marker_ends_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("blobs/ba/78")).unwrap();
        std::fs::write(root.join("blobs/ba/78").join(H1), b"one").unwrap();
        std::fs::write(root.join("blobs/ba/78").join(H2), b"two").unwrap();
        // Moved up by an interrupted earlier run: kept.
        std::fs::write(root.join("blobs/ba").join(H1), b"one").unwrap();
        std::fs::write(root.join("blobs/ba/stray"), b"?").unwrap();

        assert_eq!(to_one_level(root).unwrap(), 2);
        assert_eq!(
            std::fs::read(root.join("blobs/ba").join(H1)).unwrap(),
            b"one"
        );
        assert_eq!(
            std::fs::read(root.join("blobs/ba").join(H2)).unwrap(),
            b"two"
        );
        assert!(!root.join("blobs/ba/78").exists());
        assert!(root.join("blobs/ba/stray").exists());
        assert!(root.join(MARKER).exists());

        std::fs::create_dir_all(root.join("blobs/ba/78")).unwrap();
        std::fs::write(root.join("blobs/ba/78").join(H1), b"one").unwrap();
        assert_eq!(to_one_level(root).unwrap(), 0, "marked: not scanned again");
    }

    #[test]
    fn a_new_store_is_marked_at_once() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(to_one_level(dir.path()).unwrap(), 0);
        assert!(dir.path().join(MARKER).exists());
    }
}
