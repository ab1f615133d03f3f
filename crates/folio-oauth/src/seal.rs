//! Secrets at rest: XChaCha20-Poly1305 envelopes with a key id.
//!
//! A sealed value is `base64url(key id (1 byte) || nonce (24 bytes) ||
//! ciphertext+tag)`. The associated data binds it to its place,
//! `folio:<table>:<row>:<column>`, so a ciphertext copied to another row or
//! column does not open. 192-bit random nonces are safe for any number of
//! values under one key.
//!
//! **How keys are kept.** A [`Keyring`] holds every key that may still be
//! in use, by id; new values are sealed under the highest id, and any known
//! id opens. Keys come from:
//! - `FOLIO_SECRET_KEY`: one base64 key of 32 bytes (id 1), or a list
//!   `ID:BASE64,ID:BASE64` while rotating;
//! - else a key file (`<data dir>/secret.keys`, mode 0600), one `ID BASE64`
//!   line per key, created with one random key on first start.
//!
//! Rotation (`folio keys rotate`) appends a new key to the file (or uses the
//! highest id of `FOLIO_SECRET_KEY`) and re-seals every value under it with
//! a compare-and-set per value. Running servers keep working throughout:
//! a server that meets a key id it does not know re-reads the key file, and
//! old keys stay readable until the operator removes them after rotating.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox, SecretString};

const NONCE_LEN: usize = 24;

/// What went wrong sealing or opening. Messages never include key material
/// or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("secret key configuration: {0}")]
    Config(String),
    #[error("key file {path}: {reason}")]
    KeyFile { path: PathBuf, reason: String },
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value uses key id {0}, which this server does not have")]
    UnknownKey(u8),
    #[error("sealed value does not open (wrong key or moved from another row)")]
    Open,
}

/// Where a sealed value lives; part of the associated data.
#[derive(Debug, Clone, Copy)]
pub struct Aad<'a> {
    pub table: &'a str,
    pub row: &'a str,
    pub column: &'a str,
}

impl Aad<'_> {
    fn bytes(&self) -> Vec<u8> {
        format!("folio:{}:{}:{}", self.table, self.row, self.column).into_bytes()
    }
}

#[derive(Debug, Clone)]
enum Source {
    Env,
    File(PathBuf),
    Ephemeral,
}

struct Keys(BTreeMap<u8, SecretBox<[u8; 32]>>);

impl Keys {
    fn current(&self) -> Option<(u8, &SecretBox<[u8; 32]>)> {
        self.0.iter().next_back().map(|(id, key)| (*id, key))
    }
}

/// Every key this process can open values with; seals with the newest.
/// Cheap to clone. `Debug` shows key ids only.
#[derive(Clone)]
pub struct Keyring {
    keys: Arc<RwLock<Keys>>,
    source: Source,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("key_ids", &self.key_ids())
            .field("source", &self.source)
            .finish()
    }
}

fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    key
}

fn decode_key(text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    let bytes = STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .or_else(|_| URL_SAFE_NO_PAD.decode(text))
        .map_err(|_| "a key must be base64".to_owned())?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("a key must be 32 bytes, got {}", b.len()))
}

fn parse_id(text: &str) -> Result<u8, String> {
    match text.trim().parse::<u8>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(format!("key id must be 1..=255, got '{}'", text.trim())),
    }
}

fn parse_key_file(text: &str) -> Result<BTreeMap<u8, SecretBox<[u8; 32]>>, String> {
    let mut keys = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, key) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| "each line must be 'ID BASE64'".to_owned())?;
        keys.insert(parse_id(id)?, SecretBox::new(Box::new(decode_key(key)?)));
    }
    if keys.is_empty() {
        return Err("holds no key".to_owned());
    }
    Ok(keys)
}

fn write_new_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

impl Keyring {
    fn with(keys: BTreeMap<u8, SecretBox<[u8; 32]>>, source: Source) -> Self {
        Self {
            keys: Arc::new(RwLock::new(Keys(keys))),
            source,
        }
    }

    /// A keyring with one random key that lives only in memory: for tests
    /// and tools that never store anything.
    pub fn ephemeral() -> Self {
        let mut keys = BTreeMap::new();
        keys.insert(1, SecretBox::new(Box::new(random_key())));
        Self::with(keys, Source::Ephemeral)
    }

    /// From the value of `FOLIO_SECRET_KEY`: `BASE64` (key id 1) or
    /// `ID:BASE64,ID:BASE64,...`.
    pub fn from_env_value(value: &str) -> Result<Self, SealError> {
        let mut keys = BTreeMap::new();
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (id, key) = match part.split_once(':') {
                Some((id, key)) => (parse_id(id).map_err(SealError::Config)?, key),
                None => (1, part),
            };
            let key =
                decode_key(key).map_err(|e| SealError::Config(format!("FOLIO_SECRET_KEY: {e}")))?;
            keys.insert(id, SecretBox::new(Box::new(key)));
        }
        if keys.is_empty() {
            return Err(SealError::Config("FOLIO_SECRET_KEY is empty".into()));
        }
        Ok(Self::with(keys, Source::Env))
    }

    /// Reads the key file, creating it (mode 0600, one random key) when it
    /// does not exist.
    pub fn load_or_create_file(path: &Path) -> Result<Self, SealError> {
        let file_err = |reason: String| SealError::KeyFile {
            path: path.to_owned(),
            reason,
        };
        if !path.exists() {
            let line = format!(
                "# Folio secret keys: ID BASE64, newest last. Keep a copy; without it sealed tokens are lost.\n1 {}\n",
                STANDARD.encode(random_key())
            );
            match write_new_file(path, &line) {
                Ok(()) => tracing::info!(path = %path.display(), "generated a new secret key"),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(file_err(e.to_string())),
            }
        }
        let keys = Self::read_file(path)?;
        Ok(Self::with(keys, Source::File(path.to_owned())))
    }

    fn read_file(path: &Path) -> Result<BTreeMap<u8, SecretBox<[u8; 32]>>, SealError> {
        let text = std::fs::read_to_string(path).map_err(|e| SealError::KeyFile {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        parse_key_file(&text).map_err(|reason| SealError::KeyFile {
            path: path.to_owned(),
            reason,
        })
    }

    /// Appends a new random key to the key file and makes it current.
    /// Returns its id. Only for file-backed keyrings.
    pub fn add_key_to_file(&self) -> Result<u8, SealError> {
        let Source::File(path) = &self.source else {
            return Err(SealError::Config(
                "keys from FOLIO_SECRET_KEY are rotated by adding ID:BASE64 to the variable".into(),
            ));
        };
        let mut keys = Self::read_file(path)?;
        let id = keys
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0)
            .checked_add(1)
            .ok_or_else(|| {
                SealError::Config("255 keys used; remove old ones and renumber".into())
            })?;
        let key = random_key();
        let text = std::fs::read_to_string(path).map_err(|e| SealError::KeyFile {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let new_text = format!("{}\n{id} {}\n", text.trim_end(), STANDARD.encode(key));
        let tmp = path.with_extension("tmp");
        let _ = std::fs::remove_file(&tmp);
        write_new_file(&tmp, &new_text)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| SealError::KeyFile {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        keys.insert(id, SecretBox::new(Box::new(key)));
        if let Ok(mut guard) = self.keys.write() {
            guard.0 = keys;
        }
        Ok(id)
    }

    /// Whether keys come from a key file (rotation adds a key to it).
    pub fn is_file_backed(&self) -> bool {
        matches!(self.source, Source::File(_))
    }

    /// The ids this keyring holds, oldest first.
    pub fn key_ids(&self) -> Vec<u8> {
        self.keys
            .read()
            .map(|k| k.0.keys().copied().collect())
            .unwrap_or_default()
    }

    /// The id new values are sealed under.
    pub fn current_key_id(&self) -> u8 {
        self.key_ids().last().copied().unwrap_or(0)
    }

    /// The key id a sealed value was made with.
    pub fn key_id_of(sealed: &str) -> Option<u8> {
        URL_SAFE_NO_PAD
            .decode(sealed)
            .ok()
            .and_then(|b| b.first().copied())
    }

    /// Seals `plaintext` for the place `aad` names, under the current key.
    pub fn seal(&self, aad: Aad<'_>, plaintext: &str) -> Result<String, SealError> {
        let keys = self
            .keys
            .read()
            .map_err(|_| SealError::Config("keyring lock poisoned".into()))?;
        let (id, key) = keys
            .current()
            .ok_or_else(|| SealError::Config("no key".into()))?;
        let cipher = XChaCha20Poly1305::new(key.expose_secret().into());
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let aad = aad.bytes();
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Config("encryption failed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens a sealed value made for the place `aad` names. An unknown key
    /// id makes a file-backed keyring re-read its file once (another
    /// process may have rotated).
    pub fn open(&self, aad: Aad<'_>, sealed: &str) -> Result<SecretString, SealError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| SealError::Malformed)?;
        if bytes.len() < 1 + NONCE_LEN + 16 {
            return Err(SealError::Malformed);
        }
        let id = bytes[0];
        if !self.key_ids().contains(&id) {
            self.reload()?;
        }
        let keys = self
            .keys
            .read()
            .map_err(|_| SealError::Config("keyring lock poisoned".into()))?;
        let key = keys.0.get(&id).ok_or(SealError::UnknownKey(id))?;
        let cipher = XChaCha20Poly1305::new(key.expose_secret().into());
        let aad = aad.bytes();
        let plaintext = cipher
            .decrypt(
                XNonce::from_slice(&bytes[1..1 + NONCE_LEN]),
                Payload {
                    msg: &bytes[1 + NONCE_LEN..],
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Open)?;
        String::from_utf8(plaintext)
            .map(SecretString::from)
            .map_err(|_| SealError::Malformed)
    }

    fn reload(&self) -> Result<(), SealError> {
        if let Source::File(path) = &self.source {
            let keys = Self::read_file(path)?;
            if let Ok(mut guard) = self.keys.write() {
                guard.0 = keys;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AAD: Aad<'static> = Aad {
        table: "connections",
        row: "r1",
        column: "access_token",
    };

    #[test]
    fn round_trip_and_aad_binding() {
        let ring = Keyring::ephemeral();
        let sealed = ring.seal(AAD, "tok-123").unwrap();
        assert!(!sealed.contains("tok-123"));
        assert_eq!(ring.open(AAD, &sealed).unwrap().expose_secret(), "tok-123");
        let other_row = Aad { row: "r2", ..AAD };
        assert!(matches!(
            ring.open(other_row, &sealed),
            Err(SealError::Open)
        ));
        assert_eq!(Keyring::key_id_of(&sealed), Some(1));
        assert!(!format!("{ring:?}").contains(&STANDARD.encode([0u8; 4])));
    }

    #[test]
    fn env_value_forms() {
        let k1 = STANDARD.encode([1u8; 32]);
        let k2 = STANDARD.encode([2u8; 32]);
        let single = Keyring::from_env_value(&k1).unwrap();
        assert_eq!(single.key_ids(), vec![1]);
        let both = Keyring::from_env_value(&format!("1:{k1},2:{k2}")).unwrap();
        assert_eq!(both.current_key_id(), 2);
        let old = single.seal(AAD, "x").unwrap();
        assert_eq!(both.open(AAD, &old).unwrap().expose_secret(), "x");
        assert!(Keyring::from_env_value("short").is_err());
    }

    #[test]
    fn key_file_is_created_0600_rotated_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.keys");
        let ring = Keyring::load_or_create_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let old = ring.seal(AAD, "x").unwrap();
        let other_process = Keyring::load_or_create_file(&path).unwrap();
        assert_eq!(other_process.add_key_to_file().unwrap(), 2);
        let new = other_process.seal(AAD, "y").unwrap();
        assert_eq!(Keyring::key_id_of(&new), Some(2));
        // The first process learns key 2 from the file when it meets it.
        assert_eq!(ring.open(AAD, &new).unwrap().expose_secret(), "y");
        assert_eq!(other_process.open(AAD, &old).unwrap().expose_secret(), "x");
    }
}
