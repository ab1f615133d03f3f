//! Checking a backup: the structure (`restore` checks it too), then
//! every blob's bytes.

use super::take::Snapshot;
use super::*;

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
pub(super) fn verify(dir: &Path) -> anyhow::Result<Manifest> {
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
