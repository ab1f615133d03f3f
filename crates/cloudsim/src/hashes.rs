//! Content hashes the providers publish, each computed incrementally so that
//! streamed or generated content never has to sit in memory whole.
//!
//! - [`QuickXorHasher`]: OneDrive / SharePoint `file.hashes.quickXorHash`
//!   (base64 of 20 bytes), see `WIRE.md`.
//! - [`DropboxContentHasher`]: Dropbox `content_hash` (SHA-256 over the
//!   SHA-256 digests of 4 MiB blocks, lowercase hex), see `WIRE.md`.
//! - [`ContentHasher`]: all of the above plus md5 and sha256 in one pass.

use std::collections::HashMap;

use base64::Engine as _;
use md5::Md5;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::content::ContentSource;
use crate::world::ItemId;

/// QuickXorHash width in bits.
const QXH_WIDTH_BITS: usize = 160;
/// Bits the insertion point moves per input byte.
const QXH_SHIFT: usize = 11;
/// After this many bytes the insertion point is back at bit 0
/// (`11 * 160 mod 160 == 0`), so bytes `i` and `i + 160` land on the same bits.
const QXH_LANES: usize = 160;

/// Incremental QuickXorHash.
///
/// Every input byte `i` is XORed into a 160-bit little-endian state at bit
/// offset `(11 * i) mod 160`, wrapping past bit 159; the 64-bit little-endian
/// length is then XORed into the last 8 bytes. Because the offset only
/// depends on `i mod 160`, the hasher keeps one XOR accumulator per lane and
/// places the lanes once, in [`QuickXorHasher::finalize`].
#[derive(Clone)]
pub struct QuickXorHasher {
    lanes: [u8; QXH_LANES],
    len: u64,
}

impl Default for QuickXorHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl QuickXorHasher {
    pub fn new() -> Self {
        Self {
            lanes: [0; QXH_LANES],
            len: 0,
        }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        let mut lane = (self.len % QXH_LANES as u64) as usize;
        self.len += data.len() as u64;
        // Head: bring the lane index back to 0.
        while lane != 0 && !data.is_empty() {
            self.lanes[lane] ^= data[0];
            data = &data[1..];
            lane = (lane + 1) % QXH_LANES;
        }
        let mut chunks = data.chunks_exact(QXH_LANES);
        for chunk in &mut chunks {
            for (acc, byte) in self.lanes.iter_mut().zip(chunk) {
                *acc ^= byte;
            }
        }
        for (acc, byte) in self.lanes.iter_mut().zip(chunks.remainder()) {
            *acc ^= byte;
        }
    }

    /// The 20 hash bytes.
    pub fn finalize(&self) -> [u8; 20] {
        let mut state = [0u8; QXH_WIDTH_BITS / 8];
        for (i, &byte) in self.lanes.iter().enumerate() {
            if byte == 0 {
                continue;
            }
            let bit = (QXH_SHIFT * i) % QXH_WIDTH_BITS;
            let (index, shift) = (bit / 8, bit % 8);
            // A byte placed at `shift` spans two state bytes; the second wraps.
            let wide = u16::from(byte) << shift;
            state[index] ^= (wide & 0xff) as u8;
            state[(index + 1) % state.len()] ^= (wide >> 8) as u8;
        }
        for (slot, len_byte) in state[12..].iter_mut().zip(self.len.to_le_bytes()) {
            *slot ^= len_byte;
        }
        state
    }

    /// Base64 of the 20 bytes, as Graph's `file.hashes.quickXorHash`.
    pub fn finalize_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.finalize())
    }
}

/// Dropbox's block size for `content_hash`: 4 MiB.
pub const DROPBOX_BLOCK: usize = 4 * 1024 * 1024;

/// Incremental Dropbox `content_hash`.
#[derive(Clone, Default)]
pub struct DropboxContentHasher {
    overall: Sha256,
    block: Sha256,
    block_len: usize,
}

impl DropboxContentHasher {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let take = (DROPBOX_BLOCK - self.block_len).min(data.len());
            self.block.update(&data[..take]);
            self.block_len += take;
            data = &data[take..];
            if self.block_len == DROPBOX_BLOCK {
                self.finish_block();
            }
        }
    }

    fn finish_block(&mut self) {
        let digest = std::mem::take(&mut self.block).finalize();
        self.overall.update(digest);
        self.block_len = 0;
    }

    /// Lowercase hex, 64 characters.
    pub fn finalize_hex(mut self) -> String {
        if self.block_len > 0 {
            self.finish_block();
        }
        hex::encode(self.overall.finalize())
    }
}

/// Every hash a provider publishes for one file's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentHashes {
    /// Lowercase hex (Google `md5Checksum`).
    pub md5_hex: String,
    /// Lowercase hex (Google `sha256Checksum`).
    pub sha256_hex: String,
    /// Base64 (Graph `quickXorHash`).
    pub quick_xor_base64: String,
    /// Lowercase hex (Dropbox `content_hash`).
    pub dropbox_hex: String,
    /// Number of bytes hashed.
    pub size: u64,
}

impl ContentHashes {
    /// Hashes of a byte slice held in memory.
    pub fn of(data: &[u8]) -> Self {
        let mut hasher = ContentHasher::new();
        hasher.update(data);
        hasher.finalize()
    }

    /// Graph's `sha256Hash` is the same digest in uppercase hex.
    pub fn sha256_upper_hex(&self) -> String {
        self.sha256_hex.to_ascii_uppercase()
    }
}

/// Computes all [`ContentHashes`] in one pass over streamed bytes.
#[derive(Clone, Default)]
pub struct ContentHasher {
    md5: Md5,
    sha256: Sha256,
    quick_xor: QuickXorHasher,
    dropbox: DropboxContentHasher,
    size: u64,
}

impl ContentHasher {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        self.sha256.update(data);
        self.quick_xor.update(data);
        self.dropbox.update(data);
        self.size += data.len() as u64;
    }

    pub fn finalize(self) -> ContentHashes {
        ContentHashes {
            md5_hex: hex::encode(self.md5.finalize()),
            sha256_hex: hex::encode(self.sha256.finalize()),
            quick_xor_base64: self.quick_xor.finalize_base64(),
            dropbox_hex: self.dropbox.finalize_hex(),
            size: self.size,
        }
    }
}

/// QuickXorHash (base64) of bytes in memory.
pub fn quick_xor_base64(data: &[u8]) -> String {
    let mut hasher = QuickXorHasher::new();
    hasher.update(data);
    hasher.finalize_base64()
}

/// Dropbox `content_hash` of bytes in memory.
pub fn dropbox_content_hash(data: &[u8]) -> String {
    let mut hasher = DropboxContentHasher::new();
    hasher.update(data);
    hasher.finalize_hex()
}

/// Lowercase hex SHA-256 of bytes in memory.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Lowercase hex MD5 of bytes in memory.
pub fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// Dropbox `content_hash` of a content source, streamed.
pub fn dropbox_of(source: &ContentSource) -> String {
    let mut hasher = DropboxContentHasher::new();
    source.for_each_chunk(|c| hasher.update(c));
    hasher.finalize_hex()
}

/// QuickXorHash (base64) of a content source, streamed.
pub fn quick_xor_of(source: &ContentSource) -> String {
    let mut hasher = QuickXorHasher::new();
    source.for_each_chunk(|c| hasher.update(c));
    hasher.finalize_base64()
}

/// Lowercase hex SHA-256 of a content source, streamed.
pub fn sha256_of(source: &ContentSource) -> String {
    let mut hasher = Sha256::new();
    source.for_each_chunk(|c| hasher.update(c));
    hex::encode(hasher.finalize())
}

/// Lowercase hex SHA-1 of a content source, streamed (OneDrive Personal's
/// `sha1Hash`).
pub fn sha1_of(source: &ContentSource) -> String {
    use sha1::Digest as _;
    let mut hasher = sha1::Sha1::new();
    source.for_each_chunk(|c| hasher.update(c));
    hex::encode(hasher.finalize())
}

/// Hash `algo` (cache key in `Item::hashes`) of every file among `ids`,
/// from the items' caches, computing the missing ones in one blocking task
/// and caching them. Folders, tombstones and unknown ids are left out.
pub async fn cached(
    state: &AppState,
    ids: &[ItemId],
    algo: &'static str,
    compute: fn(&ContentSource) -> String,
) -> HashMap<ItemId, String> {
    let (mut known, todo) = state.read(|w| {
        let mut known = HashMap::new();
        let mut todo = Vec::new();
        for id in ids {
            let Some(item) = w.item(id).filter(|i| i.is_file() && !i.deleted) else {
                continue;
            };
            match item.hashes.get(algo) {
                Some(h) => {
                    known.insert(id.clone(), h.clone());
                }
                None => todo.push((id.clone(), w.source(item), item.content_version)),
            }
        }
        (known, todo)
    });
    if todo.is_empty() {
        return known;
    }
    let computed = tokio::task::spawn_blocking(move || {
        todo.into_iter()
            .map(|(id, source, version)| (id, compute(&source), version))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    // A cache fill, not a change: no snapshot is forced for it.
    {
        let mut world = state.world_lock().write();
        for (id, hash, version) in &computed {
            if let Some(item) = world.items.get_mut(id)
                && item.content_version == *version
            {
                item.hashes.insert(algo.to_string(), hash.clone());
            }
        }
    }
    known.extend(computed.into_iter().map(|(id, hash, _)| (id, hash)));
    known
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Straight transcription of the reference algorithm (three 64-bit
    /// cells, byte by byte), to check the lane formulation against.
    fn quick_xor_reference(data: &[u8]) -> [u8; 20] {
        let mut cells = [0u64; 3];
        let mut shift = 0usize;
        for &byte in data {
            let index = shift / 64;
            let offset = shift % 64;
            let width = if index == 2 { 32 } else { 64 };
            cells[index] ^= u64::from(byte) << offset;
            if offset + 8 > width {
                let next = (index + 1) % 3;
                cells[next] ^= u64::from(byte) >> (width - offset);
            }
            shift = (shift + 11) % 160;
        }
        let mut out = [0u8; 20];
        out[..8].copy_from_slice(&cells[0].to_le_bytes());
        out[8..16].copy_from_slice(&cells[1].to_le_bytes());
        out[16..].copy_from_slice(&cells[2].to_le_bytes()[..4]);
        for (slot, b) in out[12..].iter_mut().zip((data.len() as u64).to_le_bytes()) {
            *slot ^= b;
        }
        out
    }

    fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn quick_xor_published_vectors() {
        assert_eq!(quick_xor_base64(b""), "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        let mut h = QuickXorHasher::new();
        h.update(b"hello world");
        assert_eq!(
            h.finalize(),
            [
                104, 40, 3, 27, 216, 240, 6, 16, 220, 225, 13, 114, 107, 3, 25, 0, 0, 0, 0, 0
            ]
        );
        assert_eq!(
            quick_xor_base64(b"hello world"),
            "aCgDG9jwBhDc4Q1yawMZAAAAAAA="
        );
    }

    #[test]
    fn quick_xor_matches_reference_and_is_incremental() {
        for len in [1, 19, 20, 159, 160, 161, 320, 1000, 4099] {
            let data = pseudo_random(len, len as u64);
            let expected = quick_xor_reference(&data);
            let mut whole = QuickXorHasher::new();
            whole.update(&data);
            assert_eq!(whole.finalize(), expected, "len {len}");
            for split in [1, 7, 160, 333] {
                let mut parts = QuickXorHasher::new();
                data.chunks(split).for_each(|c| parts.update(c));
                assert_eq!(parts.finalize(), expected, "len {len} split {split}");
            }
        }
    }

    #[test]
    fn dropbox_published_vectors() {
        assert_eq!(
            dropbox_content_hash(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            dropbox_content_hash(b"hello world"),
            "bc62d4b80d9e36da29c16c5d4d9f11731f36052c72401a76c23c0fb5a9b74423"
        );
    }

    #[test]
    fn dropbox_blocks_and_incremental() {
        let data = pseudo_random(DROPBOX_BLOCK * 2 + 17, 9);
        let blocks: Vec<u8> = data
            .chunks(DROPBOX_BLOCK)
            .flat_map(|b| Sha256::digest(b).to_vec())
            .collect();
        let expected = hex::encode(Sha256::digest(&blocks));
        assert_eq!(dropbox_content_hash(&data), expected);
        let mut parts = DropboxContentHasher::new();
        data.chunks(1_000_003).for_each(|c| parts.update(c));
        assert_eq!(parts.finalize_hex(), expected);
        // Exactly one block hashes as sha256(sha256(block)).
        let one = &data[..DROPBOX_BLOCK];
        assert_eq!(
            dropbox_content_hash(one),
            hex::encode(Sha256::digest(Sha256::digest(one)))
        );
    }

    #[test]
    fn md5_and_sha256_vectors() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"hello world"), "5eb63bbbe01eeed093cb22bb8f5acdc3");
        assert_eq!(
            sha256_hex(b"hello world"),
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        let all = ContentHashes::of(b"hello world");
        assert_eq!(all.size, 11);
        assert_eq!(all.quick_xor_base64, "aCgDG9jwBhDc4Q1yawMZAAAAAAA=");
        assert_eq!(all.md5_hex, md5_hex(b"hello world"));
    }
}
