//! Placing the blobs a snapshot uses into the backup: hard links where the
//! file system allows, checked copies otherwise.

use super::*;

/// Places blobs from the store into the backup: a hard link, or a copy
/// checked against its hash when the file systems differ.
pub(super) struct Linker {
    store: PathBuf,
    backup: PathBuf,
    /// Set once a link failed for another reason than a missing source.
    copy: bool,
    placed: HashSet<String>,
    pub(super) round: usize,
}

impl Linker {
    pub(super) fn new(store: PathBuf, backup: PathBuf) -> Self {
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
    pub(super) fn place_all(&mut self, blobs: &[BlobEntry]) -> anyhow::Result<HashSet<String>> {
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
    pub(super) fn remove_unused(&mut self, blobs: &[BlobEntry]) -> anyhow::Result<()> {
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
