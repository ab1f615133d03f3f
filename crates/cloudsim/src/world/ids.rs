//! Ids in each provider's style, unique within a world (a counter mixed
//! with the world's random salt).

use super::{Provider, World};

const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const UPPER_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Encodes `n` in `alphabet` (least significant digit first), padded to `width`.
fn encode(mut n: u64, alphabet: &[u8], width: usize) -> String {
    let base = alphabet.len() as u64;
    let mut out = String::with_capacity(width);
    for _ in 0..width {
        out.push(alphabet[(n % base) as usize] as char);
        n /= base;
    }
    out
}

pub(super) fn mix(z: u64) -> u64 {
    let mut z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Kinds of ids [`World::new_id`] makes, in each provider's style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Account,
    Drive,
    Item,
    Site,
}

fn uuid_from(a: u64, b: u64) -> String {
    uuid::Uuid::from_u64_pair(mix(a) ^ b, b).to_string()
}

impl World {
    /// A fresh id in `provider`'s style. Unique within this world.
    pub fn new_id(&mut self, provider: Provider, kind: IdKind) -> String {
        let n = self.next_id;
        self.next_id += 1;
        let noise = mix(self.salt ^ n);
        let noise2 = mix(noise);
        match (provider, kind) {
            (Provider::Google, IdKind::Account) => {
                format!("{}{n:07}", 10_000_000_000_000 + noise % 90_000_000_000_000)
            }
            (Provider::Google, _) => format!(
                "1{}{}{}",
                encode(noise, ID_ALPHABET, 10),
                encode(n, ID_ALPHABET, 6),
                encode(noise2, ID_ALPHABET, 10)
            ),
            (Provider::Microsoft, IdKind::Account) => uuid_from(n, noise),
            (Provider::Microsoft, IdKind::Drive) => format!(
                "b!{}{}",
                encode(noise, ID_ALPHABET, 10),
                encode(n, ID_ALPHABET, 8)
            ),
            (Provider::Microsoft, IdKind::Site) => format!(
                "contoso.sharepoint.com,{},{}",
                uuid_from(n, noise),
                uuid_from(n, noise2)
            ),
            (Provider::Microsoft, IdKind::Item) => format!(
                "01{}{}{}",
                encode(noise, UPPER_ALPHABET, 12),
                encode(n, UPPER_ALPHABET, 8),
                encode(noise2, UPPER_ALPHABET, 12)
            ),
            (Provider::Dropbox, IdKind::Account) => format!(
                "dbid:AA{}{}{}",
                encode(noise, ID_ALPHABET, 10),
                encode(n, ID_ALPHABET, 6),
                encode(noise2, ID_ALPHABET, 17)
            ),
            (Provider::Dropbox, IdKind::Drive) => format!("{}", 1_000_000 + n),
            (Provider::Dropbox, _) => format!(
                "id:{}{}{}",
                encode(noise, ID_ALPHABET, 10),
                encode(n, ID_ALPHABET, 6),
                encode(noise2, ID_ALPHABET, 6)
            ),
        }
    }
}
