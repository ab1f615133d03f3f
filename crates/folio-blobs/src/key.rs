//! How blobs are laid out in storage: hash validation and key names.
//!
//! - a blob lives at `blobs/<h0h1>/<hash>` in a local directory, and at
//!   `blobs/<h0h1>/<h2h3>/<hash>` in object storage (see [`Layout`]);
//! - an upload in progress lives at `staging/<uuid>` until it is whole.
//!
//! A hash is checked before it becomes part of a key, so a key never holds a
//! path separator, `..` or anything but 64 lowercase hex characters.

use crate::BlobError;

/// The folder that holds every complete blob.
pub(crate) const BLOBS_DIR: &str = "blobs/";
/// The folder that holds uploads that are not whole yet.
pub(crate) const STAGING_DIR: &str = "staging/";
/// The folder readiness probes write to and delete at once. Reserved:
/// neither the blob listing (`blobs/`) nor the staging sweep (`staging/`)
/// reads it, so a probe is never taken for a blob or an upload.
pub(crate) const PROBES_DIR: &str = "probes/";

/// How blob keys fan out under [`BLOBS_DIR`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `blobs/ab/<hash>`: 256 directories, all there after a few hundred
    /// blobs. A local directory uses it: with two levels, nearly every
    /// blob of a store under a few million made a directory of its own (a
    /// sync of many small files created as many directories as files).
    OneLevel,
    /// `blobs/ab/cd/<hash>`: object storage, where directories cost
    /// nothing; also the layout of local stores before the one-level one
    /// (moved over by `BlobStore::open`, see `migrate.rs`).
    TwoLevels,
}

impl Layout {
    /// The storage key of the blob `hash`, or `InvalidHash`.
    pub(crate) fn key(self, hash: &str) -> Result<String, BlobError> {
        if !is_valid_hash(hash) {
            return Err(BlobError::InvalidHash(hash.to_owned()));
        }
        Ok(match self {
            Layout::OneLevel => format!("{BLOBS_DIR}{}/{hash}", &hash[0..2]),
            Layout::TwoLevels => format!("{BLOBS_DIR}{}/{}/{hash}", &hash[0..2], &hash[2..4]),
        })
    }

    /// The hash stored at `key` if `key` is a well-formed blob key of this
    /// layout.
    pub(crate) fn hash_of(self, key: &str) -> Option<&str> {
        let hash = key.rsplit('/').next()?;
        let well_formed = self
            .key(hash)
            .is_ok_and(|expected| key.ends_with(&expected));
        well_formed.then_some(hash)
    }
}

/// Returns a fresh, unique staging key.
pub(crate) fn new_staging_key() -> String {
    format!("{STAGING_DIR}{}", uuid::Uuid::new_v4())
}

/// Returns a fresh, unique probe key.
pub(crate) fn new_probe_key() -> String {
    format!("{PROBES_DIR}{}", uuid::Uuid::new_v4())
}

/// True if `hash` is 64 lowercase hex characters.
pub(crate) fn is_valid_hash(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn blob_keys_fan_out_by_hash_prefix() {
        assert_eq!(
            Layout::OneLevel.key(ABC).unwrap(),
            format!("blobs/ba/{ABC}")
        );
        assert_eq!(
            Layout::TwoLevels.key(ABC).unwrap(),
            format!("blobs/ba/78/{ABC}")
        );
    }

    #[test]
    fn hashes_that_could_be_paths_are_rejected() {
        let upper = ABC.to_uppercase();
        let traversal = format!("../{}", &ABC[3..]);
        let slash = format!("{}/{}", &ABC[..31], &ABC[32..]);
        for bad in ["", "abc", &upper, &traversal, &slash, &format!("{ABC}0")] {
            for layout in [Layout::OneLevel, Layout::TwoLevels] {
                assert!(
                    matches!(layout.key(bad), Err(BlobError::InvalidHash(_))),
                    "{bad:?}"
                );
            }
        }
    }

    #[test]
    fn blob_keys_parse_back_to_hashes_of_their_layout_only() {
        for layout in [Layout::OneLevel, Layout::TwoLevels] {
            let key = layout.key(ABC).unwrap();
            assert_eq!(layout.hash_of(&key), Some(ABC));
            assert_eq!(layout.hash_of(&format!("some/prefix/{key}")), Some(ABC));
            assert_eq!(layout.hash_of(&format!("blobs/00/{ABC}")), None);
            assert_eq!(layout.hash_of("blobs/ba/78/"), None);
        }
        let one = Layout::OneLevel.key(ABC).unwrap();
        let two = Layout::TwoLevels.key(ABC).unwrap();
        assert_eq!(Layout::TwoLevels.hash_of(&one), None);
        assert_eq!(Layout::OneLevel.hash_of(&two), None);
    }

    #[test]
    fn staging_keys_are_unique() {
        assert_ne!(new_staging_key(), new_staging_key());
        assert!(new_staging_key().starts_with(STAGING_DIR));
    }
}
