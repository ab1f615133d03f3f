//! Provider content hashes and incremental verifiers the engine feeds while
//! it streams a download: `item.hash.kind.verifier()` ([`HashKindExt`]), `update` per chunk,
//! then compare `finish()` with `item.hash.value`.

use base64::Engine as _;
use md5::Digest as _;
use sha2::Sha256;

pub use folio_domain::hash::{HashKind, RemoteHash};

/// The verifier of a [`HashKind`] (the kind itself is a domain value, so
/// the store can keep it; computing it is the connectors' business).
pub trait HashKindExt {
    /// A fresh incremental hasher for this kind.
    fn verifier(self) -> Box<dyn Verifier>;
}

impl HashKindExt for HashKind {
    fn verifier(self) -> Box<dyn Verifier> {
        match self {
            Self::Md5 => Box::new(Md5Verifier(md5::Md5::new())),
            Self::QuickXorHash => Box::new(QuickXorVerifier(quickxorhash::QuickXorHash::new())),
            Self::Sha256 => Box::new(Sha256Verifier(Sha256::new())),
            Self::DropboxContentHash => Box::new(DropboxVerifier::default()),
            Self::None => Box::new(NoVerifier),
        }
    }
}

/// Checking a [`RemoteHash`] against a computed digest.
pub trait RemoteHashExt {
    /// `Ok` when `computed` (a verifier's `finish()`) matches, else
    /// [`crate::ConnectorError::HashMismatch`].
    fn check(&self, computed: &str) -> Result<(), crate::ConnectorError>;
}

impl RemoteHashExt for RemoteHash {
    fn check(&self, computed: &str) -> Result<(), crate::ConnectorError> {
        if self.matches(computed) {
            Ok(())
        } else {
            Err(crate::ConnectorError::HashMismatch {
                expected: self.value.clone(),
                actual: computed.to_owned(),
            })
        }
    }
}

/// An incremental hasher: feed every chunk in order, then `finish`.
pub trait Verifier: Send {
    /// Adds the next bytes.
    fn update(&mut self, bytes: &[u8]);
    /// The digest in the provider's encoding, comparable with
    /// [`RemoteHash::value`].
    fn finish(self: Box<Self>) -> String;
}

struct Md5Verifier(md5::Md5);
impl Verifier for Md5Verifier {
    fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(self: Box<Self>) -> String {
        hex::encode(self.0.finalize())
    }
}

struct Sha256Verifier(Sha256);
impl Verifier for Sha256Verifier {
    fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(self: Box<Self>) -> String {
        hex::encode(self.0.finalize())
    }
}

struct QuickXorVerifier(quickxorhash::QuickXorHash);
impl Verifier for QuickXorVerifier {
    fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(mut self: Box<Self>) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0.finalize())
    }
}

/// Dropbox block size: 4 MiB.
const DROPBOX_BLOCK: usize = 4 * 1024 * 1024;

#[derive(Default)]
struct DropboxVerifier {
    block: Sha256,
    in_block: usize,
    overall: Sha256,
}
impl Verifier for DropboxVerifier {
    fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let take = (DROPBOX_BLOCK - self.in_block).min(bytes.len());
            self.block.update(&bytes[..take]);
            self.in_block += take;
            bytes = &bytes[take..];
            if self.in_block == DROPBOX_BLOCK {
                let digest = std::mem::take(&mut self.block).finalize();
                self.overall.update(digest);
                self.in_block = 0;
            }
        }
    }
    fn finish(mut self: Box<Self>) -> String {
        if self.in_block > 0 {
            let digest = std::mem::take(&mut self.block).finalize();
            self.overall.update(digest);
        }
        hex::encode(self.overall.finalize())
    }
}

struct NoVerifier;
impl Verifier for NoVerifier {
    fn update(&mut self, _: &[u8]) {}
    fn finish(self: Box<Self>) -> String {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: HashKind, chunks: &[&[u8]]) -> String {
        let mut v = kind.verifier();
        for c in chunks {
            v.update(c);
        }
        v.finish()
    }

    #[test]
    fn quickxor_vectors_from_providers_md() {
        assert_eq!(
            run(HashKind::QuickXorHash, &[]),
            "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
        );
        assert_eq!(
            run(HashKind::QuickXorHash, &[b"hello ", b"world"]),
            "aCgDG9jwBhDc4Q1yawMZAAAAAAA="
        );
    }

    #[test]
    fn dropbox_vectors_from_providers_md() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(run(HashKind::DropboxContentHash, &[]), empty);
        assert_eq!(
            run(HashKind::DropboxContentHash, &[b"hello", b" world"]),
            "bc62d4b80d9e36da29c16c5d4d9f11731f36052c72401a76c23c0fb5a9b74423"
        );
    }

    #[test]
    fn dropbox_blocks_do_not_depend_on_chunking() {
        let data: Vec<u8> = (0..(DROPBOX_BLOCK * 2 + 17))
            .map(|i| (i % 251) as u8)
            .collect();
        let one = run(HashKind::DropboxContentHash, &[&data]);
        let many: Vec<&[u8]> = data.chunks(65_537).collect();
        assert_eq!(one, run(HashKind::DropboxContentHash, &many));
        let mut manual = Sha256::new();
        for block in data.chunks(DROPBOX_BLOCK) {
            manual.update(Sha256::digest(block));
        }
        assert_eq!(one, hex::encode(manual.finalize()));
    }

    #[test]
    fn md5_and_sha256_vectors() {
        assert_eq!(
            run(HashKind::Md5, &[b"hello world"]),
            "5eb63bbbe01eeed093cb22bb8f5acdc3"
        );
        assert_eq!(
            run(HashKind::Sha256, &[b"hello world"]),
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        let h = RemoteHash::new(
            HashKind::Sha256,
            "B94D27B9934D3E08A52E52D7DA7DABFAC484EFE37A5380EE9088F7ACE2EFCDE9",
        );
        assert!(h.matches(&run(HashKind::Sha256, &[b"hello world"])));
    }
}
