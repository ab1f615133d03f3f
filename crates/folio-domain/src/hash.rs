//! Provider content hashes as values: which algorithm a provider used, and
//! the value as it sent it. Computing and checking them is
//! `folio-connectors`' (`hash.rs`, the incremental verifiers).
//!
//! A [`HashKind`]'s name (`md5`, `quickxorhash`, ...) is what the store
//! keeps; its strum derives are the one place it is written, and a stored
//! [`RemoteHash`] is `name:value` ([`RemoteHash::to_stored`],
//! [`RemoteHash::from_stored`]).

use serde::{Deserialize, Serialize};

use crate::names::UnknownName;

/// The kind of content hash a provider reports.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[serde(try_from = "String", into = "&'static str")]
#[strum(parse_err_ty = UnknownName, parse_err_fn = unknown_kind)]
pub enum HashKind {
    /// Drive `md5Checksum`: lowercase hex.
    #[strum(serialize = "md5")]
    Md5,
    /// Graph `quickXorHash`: base64 of 20 bytes.
    #[strum(serialize = "quickxorhash")]
    QuickXorHash,
    /// Graph `sha256Hash`: hex (compared case-insensitively).
    #[strum(serialize = "sha256")]
    Sha256,
    /// Dropbox `content_hash`: SHA-256 over the SHA-256 of each 4 MiB block,
    /// lowercase hex.
    #[strum(serialize = "dropbox-content-hash")]
    DropboxContentHash,
    /// No hash.
    #[strum(serialize = "none")]
    None,
}

crate::names::named!(HashKind, "hash kind", unknown_kind);

impl HashKind {
    /// Its stable name, as stored (`md5`, `quickxorhash`, `sha256`,
    /// `dropbox-content-hash`, `none`).
    pub fn name(self) -> &'static str {
        self.as_str()
    }

    /// The kind a stored name stands for.
    pub fn from_name(name: &str) -> Result<Self, UnknownName> {
        name.parse()
    }
}

/// A provider hash of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteHash {
    /// The algorithm.
    pub kind: HashKind,
    /// The value exactly as the provider sent it.
    pub value: String,
}

impl RemoteHash {
    /// Builds a hash value.
    pub fn new(kind: HashKind, value: impl Into<String>) -> Self {
        Self {
            kind,
            value: value.into(),
        }
    }

    /// True when `computed` (a verifier's digest) equals this value (hex
    /// compared case-insensitively; base64 exactly).
    pub fn matches(&self, computed: &str) -> bool {
        match self.kind {
            HashKind::QuickXorHash => self.value == computed,
            HashKind::None => true,
            _ => self.value.eq_ignore_ascii_case(computed),
        }
    }

    /// Its stored form, `name:value` (`md5:5eb6...`).
    pub fn to_stored(&self) -> String {
        format!("{}:{}", self.kind.name(), self.value)
    }

    /// A hash read back from [`RemoteHash::to_stored`]'s form.
    pub fn from_stored(stored: &str) -> Result<Self, UnknownName> {
        let (kind, value) = stored
            .split_once(':')
            .ok_or_else(|| UnknownName::new("stored hash", stored, "a `kind:value` pair"))?;
        Ok(Self::new(HashKind::from_name(kind)?, value))
    }
}

impl std::str::FromStr for RemoteHash {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_stored(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_and_round_trip() {
        let expected = [
            "md5",
            "quickxorhash",
            "sha256",
            "dropbox-content-hash",
            "none",
        ];
        assert_eq!(HashKind::ALL.len(), expected.len());
        for (kind, name) in HashKind::ALL.iter().zip(expected) {
            assert_eq!(kind.name(), name);
            assert_eq!(HashKind::from_name(name), Ok(*kind));
            assert_eq!(serde_json::to_string(kind).unwrap(), format!("\"{name}\""));
        }
        // The Debug forms older versions stored are not names.
        assert!(HashKind::from_name("Md5").is_err());
        assert!(HashKind::from_name("QuickXorHash").is_err());
    }

    #[test]
    fn stored_hashes_round_trip() {
        let hash = RemoteHash::new(HashKind::QuickXorHash, "aCgDG9jw:BhDc4Q1yawMZAAAAAAA=");
        assert_eq!(
            hash.to_stored(),
            "quickxorhash:aCgDG9jw:BhDc4Q1yawMZAAAAAAA="
        );
        assert_eq!(RemoteHash::from_stored(&hash.to_stored()), Ok(hash));
        let err = RemoteHash::from_stored("Md5:abc").unwrap_err();
        assert_eq!(err.value, "Md5");
        assert!(RemoteHash::from_stored("no-separator").is_err());
    }

    #[test]
    fn hex_matches_case_insensitively_base64_exactly() {
        let sha = RemoteHash::new(HashKind::Sha256, "ABCDEF");
        assert!(sha.matches("abcdef"));
        let xor = RemoteHash::new(HashKind::QuickXorHash, "AbC=");
        assert!(!xor.matches("abc="));
        assert!(xor.matches("AbC="));
    }
}
