//! Taking a backup: snapshots of the database in rounds until every blob
//! it uses is placed, then the secrets and the manifest.

use super::files::write_manifest;
use super::linker::Linker;
use super::*;

pub(super) fn take(sources: &Sources, to: &Path) -> anyhow::Result<Manifest> {
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
pub(super) struct Snapshot {
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
    pub(super) fn open(path: &Path) -> anyhow::Result<Self> {
        open_snapshot(path)
    }

    /// Every blob a file uses, by hash, with its size.
    pub(super) fn used_blobs(&self) -> anyhow::Result<Vec<BlobEntry>> {
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

    pub(super) fn counts(&self, blobs: &[BlobEntry]) -> anyhow::Result<Counts> {
        Ok(Counts {
            libraries: self.count("libraries")?,
            files: self.count("files")?,
            blobs: blobs.len() as u64,
            blob_bytes: blobs.iter().map(|blob| blob.size).sum(),
        })
    }

    pub(super) fn migration(&self) -> anyhow::Result<i64> {
        self.connection
            .query_row(
                "SELECT coalesce(max(version), 0) FROM _sqlx_migrations",
                [],
                |row| row.get(0),
            )
            .context("reading the snapshot's migrations")
    }
}
