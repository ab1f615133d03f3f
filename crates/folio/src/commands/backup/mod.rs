//! `folio backup --to DIR`: a consistent copy of the embedded defaults (the
//! SQLite database, the blobs it uses, the secret key file) taken while a
//! server runs on the same data folder; `folio backup --verify DIR` checks
//! one. `folio restore` (restore.rs) reads the same layout.
//!
//! A backup folder holds:
//!
//! - `folio.db`: a snapshot of the database (`VACUUM INTO`, one read
//!   transaction: every row as of one commit);
//! - `blobs/<h0h1>/<hash>`: every blob a file of the snapshot uses, hard
//!   linked from the store where the file system allows (blobs never change
//!   once written: a put of the same bytes renames a new file over the old
//!   name, so a link keeps the old bytes), copied and hashed otherwise;
//! - `secret.keys` (mode 0600) and `admin.token` (0600) when the data
//!   folder has them: tokens and client secrets in the database are sealed
//!   with the keys, and are useless without them;
//! - `manifest.json`, written last (to a temporary name, synced, renamed):
//!   a folder without it is an unfinished backup, which `--verify` and
//!   `restore` refuse.
//!
//! Why rounds: the server may delete a blob (its file deleted or replaced)
//! after the snapshot was taken and before the blob is linked. The backup
//! then takes a new snapshot, which no longer uses it; blobs linked already
//! stay linked. A blob missing in two snapshots in a row is really missing,
//! and the backup fails.
//!
//! Files: this one holds the layout, the manifest and the command;
//! `take.rs` takes a backup (the rounds, the snapshot), `linker.rs` places
//! the blobs, `files.rs` writes files safely, `verify.rs` checks a backup.

use std::collections::{BTreeMap, HashSet};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use folio_blobs::BlobConfig;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cli::{BackupArgs, DatabaseArgs, GlobalArgs, KeyArgs, StorageArgs};
use crate::commands::serve::ADMIN_TOKEN_FILE;
use crate::config::{self, KEY_FILE};

mod files;
mod linker;
mod take;
mod verify;

pub use files::{copy_secret, progress_bar, sync_tree};
pub use linker::{copy_checked, hash_file};
pub use verify::check_structure;

use take::take;
use verify::verify;

/// The files of a backup folder.
pub const MANIFEST: &str = "manifest.json";
pub const DATABASE: &str = "folio.db";
pub const BLOBS: &str = "blobs";
/// The manifest format this version writes and reads.
const FORMAT: u32 = 1;
/// Snapshots taken before a blob missing from storage counts as lost.
const ROUNDS: usize = 5;

/// What a backup holds; `manifest.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub format: u32,
    pub folio_version: String,
    /// When the backup finished (RFC 3339 UTC).
    pub created_at: String,
    pub database: DatabaseEntry,
    pub counts: Counts,
    /// `secret.keys` when the backup holds the key file; `None` when the
    /// keys came from `FOLIO_SECRET_KEY` (keep that value with the backup).
    pub secret_key_file: Option<String>,
    pub admin_token_file: Option<String>,
    pub blobs: Vec<BlobEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseEntry {
    pub file: String,
    pub size: u64,
    pub sha256: String,
    /// The newest migration the snapshot has.
    pub migration: i64,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub libraries: u64,
    pub files: u64,
    pub blobs: u64,
    pub blob_bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BlobEntry {
    pub hash: String,
    pub size: u64,
}

pub async fn run(args: &GlobalArgs, backup: &BackupArgs) -> anyhow::Result<()> {
    if let Some(dir) = &backup.verify {
        let dir = dir.clone();
        let manifest = tokio::task::spawn_blocking(move || verify(&dir))
            .await
            .context("the verification task")??;
        println!(
            "backup is complete and intact: {} files in {} libraries, {} blobs ({} bytes), taken {}",
            manifest.counts.files,
            manifest.counts.libraries,
            manifest.counts.blobs,
            manifest.counts.blob_bytes,
            manifest.created_at
        );
        return Ok(());
    }
    let Some(to) = backup.to.clone() else {
        bail!("say where to write the backup (--to DIR), or which backup to check (--verify DIR)");
    };
    let sources = Sources::of(args, &backup.database, &backup.storage, &backup.keys)?;
    let manifest = tokio::task::spawn_blocking(move || take(&sources, &to))
        .await
        .context("the backup task")??;
    println!(
        "backup complete: {} files in {} libraries, {} blobs ({} bytes){}",
        manifest.counts.files,
        manifest.counts.libraries,
        manifest.counts.blobs,
        manifest.counts.blob_bytes,
        if manifest.secret_key_file.is_some() {
            ", and the secret key file"
        } else {
            "; the keys come from FOLIO_SECRET_KEY: keep that value with the backup"
        }
    );
    Ok(())
}

/// Where the embedded defaults of a data folder live.
pub struct Sources {
    pub database: PathBuf,
    pub blob_root: PathBuf,
    /// `None` when the keys come from `FOLIO_SECRET_KEY`.
    pub key_file: Option<PathBuf>,
    pub admin_token: PathBuf,
}

impl Sources {
    /// The database file and blob folder of `args`; an error saying what to
    /// use instead for PostgreSQL or S3.
    pub fn of(
        args: &GlobalArgs,
        database: &DatabaseArgs,
        storage: &StorageArgs,
        keys: &KeyArgs,
    ) -> anyhow::Result<Self> {
        let database = match &database.database_url {
            None => args.data_dir.join(DATABASE),
            Some(url) => sqlite_path(url).ok_or_else(|| {
                anyhow::anyhow!(
                    "the database is PostgreSQL ({}): folio backup copies the embedded SQLite database only. \
                     Back PostgreSQL up with pg_dump (or your platform's snapshots / point-in-time recovery), \
                     and the file storage with its own means",
                    config::redact(url)
                )
            })?,
        };
        let blob_root = match &storage.storage_url {
            None => args.data_dir.join(BLOBS),
            Some(url) => match BlobConfig::parse_url(url).context("reading FOLIO_STORAGE_URL")? {
                BlobConfig::Fs { root } => root,
                BlobConfig::S3 { .. } => bail!(
                    "file bytes are in S3: folio backup copies a local storage folder only. \
                     Protect the bucket with versioning or replication (and back the database up as well)"
                ),
            },
        };
        let key_file = keys.secret_key.is_none().then(|| {
            keys.secret_key_file
                .clone()
                .unwrap_or_else(|| args.data_dir.join(KEY_FILE))
        });
        Ok(Self {
            database,
            blob_root,
            key_file,
            admin_token: args.data_dir.join(ADMIN_TOKEN_FILE),
        })
    }
}

/// The file of a `sqlite:` URL, or `None` for any other database.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let file = rest.split('?').next().unwrap_or_default();
    Some(PathBuf::from(file))
}

/// Where the blob `hash` is in a folder laid out as `blobs/<h0h1>/<hash>`.
pub fn blob_path(root: &Path, hash: &str) -> PathBuf {
    root.join(BLOBS).join(&hash[..2]).join(hash)
}

/// True for 64 lowercase hex characters (a name that is safe in a path).
fn is_hash(hash: &str) -> bool {
    hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Fails unless `dir` is missing or an empty folder.
pub fn require_empty(dir: &Path, what: &str) -> anyhow::Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!(
                    "{what} {} is not empty: choose a new or empty folder",
                    dir.display()
                );
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("reading {what} {}", dir.display())),
    }
}

/// Creates `dir` (mode 0700 on Unix) and its parents.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {}", dir.display()))?;
    }
    Ok(())
}
