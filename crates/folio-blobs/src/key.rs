//! How blobs are laid out in storage: hash validation and key names.
//!
//! - a blob lives at `blobs/<h0h1>/<h2h3>/<hash>`;
//! - an upload in progress lives at `staging/<uuid>` until it is whole.
//!
//! A hash is checked before it becomes part of a key, so a key never holds a
//! path separator, `..` or anything but 64 lowercase hex characters.

use crate::BlobError;

/// The folder that holds every complete blob.
pub(crate) const BLOBS_DIR: &str = "blobs/";
/// The folder that holds uploads that are not whole yet.
pub(crate) const STAGING_DIR: &str = "staging/";

/// Returns the storage key of the blob `hash`, or `InvalidHash`.
pub(crate) fn blob_key(hash: &str) -> Result<String, BlobError> {
    if !is_valid_hash(hash) {
        return Err(BlobError::InvalidHash(hash.to_owned()));
    }
    Ok(format!("{BLOBS_DIR}{}/{}/{hash}", &hash[0..2], &hash[2..4]))
}

/// Returns a fresh, unique staging key.
pub(crate) fn new_staging_key() -> String {
    format!("{STAGING_DIR}{}", uuid::Uuid::new_v4())
}

/// Returns the hash stored at `key` if `key` is a well-formed blob key.
pub(crate) fn hash_of_blob_key(key: &str) -> Option<&str> {
    let hash = key.rsplit('/').next()?;
    let well_formed = blob_key(hash).is_ok_and(|expected| key.ends_with(&expected));
    well_formed.then_some(hash)
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
        assert_eq!(blob_key(ABC).unwrap(), format!("blobs/ba/78/{ABC}"));
    }

    #[test]
    fn hashes_that_could_be_paths_are_rejected() {
        let upper = ABC.to_uppercase();
        let traversal = format!("../{}", &ABC[3..]);
        let slash = format!("{}/{}", &ABC[..31], &ABC[32..]);
        for bad in ["", "abc", &upper, &traversal, &slash, &format!("{ABC}0")] {
            assert!(
                matches!(blob_key(bad), Err(BlobError::InvalidHash(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn blob_keys_parse_back_to_hashes() {
        let key = blob_key(ABC).unwrap();
        assert_eq!(hash_of_blob_key(&key), Some(ABC));
        assert_eq!(hash_of_blob_key(&format!("some/prefix/{key}")), Some(ABC));
        assert_eq!(hash_of_blob_key(&format!("blobs/00/00/{ABC}")), None);
        assert_eq!(hash_of_blob_key("blobs/ba/78/"), None);
    }

    #[test]
    fn staging_keys_are_unique() {
        assert_ne!(new_staging_key(), new_staging_key());
        assert!(new_staging_key().starts_with(STAGING_DIR));
    }
}
