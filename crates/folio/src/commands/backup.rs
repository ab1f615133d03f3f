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

fn take(sources: &Sources, to: &Path) -> anyhow::Result<Manifest> {
    if !sources.database.is_file() {
        bail!(
            "no database at {}: is this the data folder a server runs on?",
            sources.database.display()
        );
    }
    require_empty(to, "the backup folder")?;
    create_private_dir(to)?;
    let taken = take_into(sources, to);
    if taken.is_err() {
        // The folder was empty: what is in it now is this backup's.
        let _ = std::fs::remove_dir_all(to);
    }
    taken
}

fn take_into(sources: &Sources, to: &Path) -> anyhow::Result<Manifest> {
    let partial = to.join(format!("{DATABASE}.partial"));
    let mut linker = Linker::new(sources.blob_root.clone(), to.to_path_buf());
    let mut missing_before: HashSet<String> = HashSet::new();
    let (snapshot, blobs) = loop {
        let snapshot = take_snapshot(&sources.database, &partial)?;
        let blobs = snapshot.used_blobs()?;
        let missing = linker.place_all(&blobs)?;
        if missing.is_empty() {
            break (snapshot, blobs);
        }
        if let Some(lost) = missing.iter().find(|hash| missing_before.contains(*hash)) {
            bail!(
                "blob {lost} is used by the database but missing from storage ({} blobs in all): storage lost it",
                missing.len()
            );
        }
        linker.round += 1;
        if linker.round >= ROUNDS {
            bail!("blobs kept vanishing from storage while backing up; try again");
        }
        tracing::info!(
            vanished = missing.len(),
            "blobs were deleted by the server since the snapshot; taking a new snapshot"
        );
        missing_before = missing;
    };
    linker.remove_unused(&blobs)?;
    let counts = snapshot.counts(&blobs)?;
    let migration = snapshot.migration()?;
    drop(snapshot);
    let database = to.join(DATABASE);
    std::fs::rename(&partial, &database).context("naming the database snapshot")?;
    let (size, sha256) = hash_file(&database)?;
    let secret_key_file = match &sources.key_file {
        Some(path) if path.is_file() => {
            copy_secret(path, &to.join(KEY_FILE))?;
            Some(KEY_FILE.to_owned())
        }
        Some(path) => bail!(
            "the secret key file {} is missing: the tokens and client secrets in the database cannot be opened without it",
            path.display()
        ),
        None => None,
    };
    let admin_token_file = if sources.admin_token.is_file() {
        copy_secret(&sources.admin_token, &to.join(ADMIN_TOKEN_FILE))?;
        Some(ADMIN_TOKEN_FILE.to_owned())
    } else {
        None
    };
    let manifest = Manifest {
        format: FORMAT,
        folio_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        database: DatabaseEntry {
            file: DATABASE.to_owned(),
            size,
            sha256,
            migration,
        },
        counts,
        secret_key_file,
        admin_token_file,
        blobs,
    };
    sync_tree(to)?;
    write_manifest(to, &manifest)?;
    Ok(manifest)
}

/// A snapshot of the database, open read-only.
struct Snapshot {
    connection: rusqlite::Connection,
}

/// Writes a consistent copy of the live database at `source` to `target`
/// (replacing an older one) and opens it.
fn take_snapshot(source: &Path, target: &Path) -> anyhow::Result<Snapshot> {
    use rusqlite::OpenFlags;
    if target.exists() {
        std::fs::remove_file(target).context("removing the previous snapshot")?;
    }
    let live = rusqlite::Connection::open_with_flags(
        source,
        // Read-only: the live database belongs to the server; `VACUUM INTO`
        // only reads it.
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening the database {}", source.display()))?;
    live.busy_timeout(std::time::Duration::from_secs(30))?;
    let target_text = target
        .to_str()
        .context("the backup folder's path is not valid UTF-8")?;
    live.execute("VACUUM INTO ?1", [target_text])
        .context("copying the database (VACUUM INTO)")?;
    drop(live);
    // It holds sealed secrets and token hashes: for the owner only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(target, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("restricting {}", target.display()))?;
    }
    open_snapshot(target)
}

fn open_snapshot(path: &Path) -> anyhow::Result<Snapshot> {
    use rusqlite::OpenFlags;
    let connection = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening the snapshot {}", path.display()))?;
    Ok(Snapshot { connection })
}

impl Snapshot {
    fn open(path: &Path) -> anyhow::Result<Self> {
        open_snapshot(path)
    }

    /// Every blob a file uses, by hash, with its size.
    fn used_blobs(&self) -> anyhow::Result<Vec<BlobEntry>> {
        let mut statement = self.connection.prepare(
            "SELECT b.hash, b.size FROM blobs b WHERE EXISTS (SELECT 1 FROM files f WHERE f.hash = b.hash) ORDER BY b.hash",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(BlobEntry {
                hash: row.get(0)?,
                size: {
                    let size: i64 = row.get(1)?;
                    u64::try_from(size)
                        .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(1, size))?
                },
            })
        })?;
        let blobs = rows
            .collect::<Result<Vec<_>, _>>()
            .context("listing the blobs files use")?;
        if let Some(bad) = blobs.iter().find(|blob| !is_hash(&blob.hash)) {
            bail!(
                "the database names a blob {:?} that is not a hash",
                bad.hash
            );
        }
        Ok(blobs)
    }

    fn count(&self, table: &str) -> anyhow::Result<u64> {
        let count: i64 = self
            .connection
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .with_context(|| format!("counting {table}"))?;
        u64::try_from(count).with_context(|| format!("{table} counts {count} rows"))
    }

    fn counts(&self, blobs: &[BlobEntry]) -> anyhow::Result<Counts> {
        Ok(Counts {
            libraries: self.count("libraries")?,
            files: self.count("files")?,
            blobs: blobs.len() as u64,
            blob_bytes: blobs.iter().map(|blob| blob.size).sum(),
        })
    }

    fn migration(&self) -> anyhow::Result<i64> {
        self.connection
            .query_row(
                "SELECT coalesce(max(version), 0) FROM _sqlx_migrations",
                [],
                |row| row.get(0),
            )
            .context("reading the snapshot's migrations")
    }
}

/// Places blobs from the store into the backup: a hard link, or a copy
/// checked against its hash when the file systems differ.
struct Linker {
    store: PathBuf,
    backup: PathBuf,
    /// Set once a link failed for another reason than a missing source.
    copy: bool,
    placed: HashSet<String>,
    round: usize,
}

impl Linker {
    fn new(store: PathBuf, backup: PathBuf) -> Self {
        Self {
            store,
            backup,
            copy: false,
            placed: HashSet::new(),
            round: 0,
        }
    }

    /// Places every blob of `blobs` not placed yet; returns the ones
    /// missing from storage.
    fn place_all(&mut self, blobs: &[BlobEntry]) -> anyhow::Result<HashSet<String>> {
        let todo: Vec<&BlobEntry> = blobs
            .iter()
            .filter(|blob| !self.placed.contains(&blob.hash))
            .collect();
        let bar = progress_bar(todo.len() as u64, "blobs");
        let mut missing = HashSet::new();
        for blob in todo {
            if self.place(blob)? {
                self.placed.insert(blob.hash.clone());
            } else {
                missing.insert(blob.hash.clone());
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(missing)
    }

    /// Places one blob; false if the store does not have it.
    fn place(&mut self, blob: &BlobEntry) -> anyhow::Result<bool> {
        let Some(source) = self.source_of(&blob.hash) else {
            return Ok(false);
        };
        let target = blob_path(&self.backup, &blob.hash);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        if !self.copy {
            match std::fs::hard_link(&source, &target) {
                Ok(()) => return self.check_size(&target, blob).map(|()| true),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
                Err(e) => {
                    tracing::info!(error = %e, "cannot hard-link blobs into the backup; copying them");
                    self.copy = true;
                }
            }
        }
        match copy_checked(&source, &target, blob) {
            Ok(()) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The blob's file in the store (one-level layout, or the two-level
    /// layout of stores not opened since it changed).
    fn source_of(&self, hash: &str) -> Option<PathBuf> {
        let one = blob_path(&self.store, hash);
        if one.exists() {
            return Some(one);
        }
        let two = self
            .store
            .join(BLOBS)
            .join(&hash[..2])
            .join(&hash[2..4])
            .join(hash);
        two.exists().then_some(two)
    }

    fn check_size(&self, target: &Path, blob: &BlobEntry) -> anyhow::Result<()> {
        let size = std::fs::metadata(target)
            .with_context(|| format!("reading {}", target.display()))?
            .len();
        if size != blob.size {
            bail!(
                "blob {} holds {size} bytes in storage, the database says {}",
                blob.hash,
                blob.size
            );
        }
        Ok(())
    }

    /// Removes blobs placed for an earlier snapshot that the final one
    /// does not use.
    fn remove_unused(&mut self, blobs: &[BlobEntry]) -> anyhow::Result<()> {
        let used: HashSet<&str> = blobs.iter().map(|blob| blob.hash.as_str()).collect();
        for hash in self
            .placed
            .iter()
            .filter(|hash| !used.contains(hash.as_str()))
        {
            std::fs::remove_file(blob_path(&self.backup, hash))
                .with_context(|| format!("removing blob {hash}, unused by the final snapshot"))?;
        }
        Ok(())
    }
}

fn is_not_found(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound)
}

/// Copies `source` to `target`, checking the bytes against the blob's hash
/// and size; a missing source is an `io::Error` of kind `NotFound`.
pub fn copy_checked(source: &Path, target: &Path, blob: &BlobEntry) -> anyhow::Result<()> {
    let mut input = std::fs::File::open(source).map_err(anyhow::Error::from)?;
    let partial = target.with_extension("partial");
    let mut output = std::fs::File::create(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let read = input
            .read(&mut buffer)
            .with_context(|| format!("reading {}", source.display()))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        output
            .write_all(&buffer[..read])
            .with_context(|| format!("writing {}", partial.display()))?;
        size += read as u64;
    }
    let hash = hex::encode(hasher.finalize());
    if hash != blob.hash || size != blob.size {
        let _ = std::fs::remove_file(&partial);
        bail!(
            "blob {} is corrupt: its {size} bytes hash to {hash} (expected {} bytes)",
            blob.hash,
            blob.size
        );
    }
    drop(output);
    // Flushed once for all by `sync_tree`, not file by file.
    std::fs::rename(&partial, target).with_context(|| format!("naming {}", target.display()))?;
    Ok(())
}

/// Size and SHA-256 of a file.
pub fn hash_file(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok((size, hex::encode(hasher.finalize())))
}

/// Copies a secret file, mode 0600.
pub fn copy_secret(source: &Path, target: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(source).with_context(|| format!("reading {}", source.display()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(target)
        .with_context(|| format!("creating {}", target.display()))?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", target.display()))
}

/// Flushes every file and folder of `dir` to disk (the blobs, the
/// snapshot) before the manifest says the backup is whole.
pub fn sync_tree(dir: &Path) -> anyhow::Result<()> {
    #[cfg(target_os = "linux")]
    {
        let folder =
            std::fs::File::open(dir).with_context(|| format!("opening {}", dir.display()))?;
        use std::os::fd::AsRawFd;
        // SAFETY: syncfs only reads the descriptor, which `folder` keeps open.
        if unsafe { libc::syncfs(folder.as_raw_fd()) } != 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("syncing {}", dir.display()));
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = dir;
    Ok(())
}

fn write_manifest(dir: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let partial = dir.join(format!("{MANIFEST}.partial"));
    let text = serde_json::to_vec_pretty(manifest).context("writing the manifest")?;
    let mut file = std::fs::File::create(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    file.write_all(&text)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, dir.join(MANIFEST)).context("naming the manifest")?;
    std::fs::File::open(dir)
        .and_then(|folder| folder.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))
}

/// A progress bar on stderr when it is a terminal, else hidden.
pub fn progress_bar(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() || len == 0 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{{bar:40}} {{pos}}/{{len}} {what} ({{elapsed}}, {{eta}} left)"
    )) {
        bar.set_style(style);
    }
    bar
}

/// Reads and checks the parts of a backup that are cheap to check: the
/// manifest, the database's hash, every blob the database uses listed in
/// the manifest, the key file. Blob bytes are checked by the caller.
pub fn check_structure(dir: &Path) -> anyhow::Result<Manifest> {
    let manifest_path = dir.join(MANIFEST);
    let text = match std::fs::read(&manifest_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "{} has no {MANIFEST}: the backup is incomplete (it did not finish) or this is not a backup folder",
            dir.display()
        ),
        Err(e) => return Err(e).with_context(|| format!("reading {}", manifest_path.display())),
    };
    let manifest: Manifest = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a Folio backup manifest", manifest_path.display()))?;
    if manifest.format != FORMAT {
        bail!(
            "the backup's format is {}; this Folio reads format {FORMAT}",
            manifest.format
        );
    }
    let database = dir.join(DATABASE);
    let (size, sha256) = hash_file(&database)?;
    if size != manifest.database.size || sha256 != manifest.database.sha256 {
        bail!(
            "the database snapshot {} does not match the manifest: the backup is corrupt",
            database.display()
        );
    }
    let listed: BTreeMap<&str, u64> = manifest
        .blobs
        .iter()
        .map(|blob| (blob.hash.as_str(), blob.size))
        .collect();
    if let Some(bad) = manifest.blobs.iter().find(|blob| !is_hash(&blob.hash)) {
        bail!(
            "the manifest lists a blob {:?} that is not a hash",
            bad.hash
        );
    }
    let used = Snapshot::open(&database)?.used_blobs()?;
    for blob in &used {
        if listed.get(blob.hash.as_str()) != Some(&blob.size) {
            bail!(
                "the database uses blob {} that the manifest does not list: the backup is corrupt",
                blob.hash
            );
        }
    }
    if let Some(key_file) = &manifest.secret_key_file
        && !dir.join(key_file).is_file()
    {
        bail!("the backup has lost its secret key file {key_file}");
    }
    Ok(manifest)
}

/// `folio backup --verify`: the structure, then every blob's bytes.
fn verify(dir: &Path) -> anyhow::Result<Manifest> {
    let manifest = check_structure(dir)?;
    let bar = progress_bar(manifest.blobs.len() as u64, "blobs checked");
    for blob in &manifest.blobs {
        let path = blob_path(dir, &blob.hash);
        let (size, hash) =
            hash_file(&path).with_context(|| format!("blob {} is missing", blob.hash))?;
        if size != blob.size || hash != blob.hash {
            bail!(
                "blob {} is corrupt: {size} bytes hashing to {hash} (expected {} bytes)",
                blob.hash,
                blob.size
            );
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(manifest)
}
