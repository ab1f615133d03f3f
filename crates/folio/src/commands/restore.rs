//! `folio restore --from DIR --data-dir NEW`: places a backup (see
//! backup.rs) so that `folio serve --data-dir NEW` serves what the backed
//! up server served. Refuses a data folder that is not empty, and a backup
//! that is incomplete (no manifest) or corrupt (a file not matching the
//! manifest, a blob not matching its hash): the blobs are hashed as they
//! are copied, and a failure removes everything the restore wrote.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::cli::{GlobalArgs, RestoreArgs};
use crate::commands::backup::{
    self, BlobEntry, DATABASE, Manifest, Sources, blob_path, check_structure, copy_checked,
    copy_secret, create_private_dir, progress_bar, require_empty,
};

pub async fn run(args: &GlobalArgs, restore: &RestoreArgs) -> anyhow::Result<()> {
    let targets = Sources::of(args, &restore.database, &restore.storage, &restore.keys)?;
    let data_dir = args.data_dir.clone();
    let from = restore.from.clone();
    let manifest = tokio::task::spawn_blocking(move || restore_into(&from, &data_dir, &targets))
        .await
        .context("the restore task")??;
    println!(
        "restored {} files in {} libraries, {} blobs ({} bytes), backed up {}, into {}",
        manifest.counts.files,
        manifest.counts.libraries,
        manifest.counts.blobs,
        manifest.counts.blob_bytes,
        manifest.created_at,
        args.data_dir.display()
    );
    Ok(())
}

fn restore_into(from: &Path, data_dir: &Path, targets: &Sources) -> anyhow::Result<Manifest> {
    require_empty(data_dir, "the data folder")?;
    let manifest = check_structure(from)?;
    if manifest.secret_key_file.is_none() {
        tracing::warn!(
            "the backup holds no key file (the keys came from FOLIO_SECRET_KEY): start the server with the same FOLIO_SECRET_KEY"
        );
    }
    create_private_dir(data_dir)?;
    let mut written = Written::default();
    match place(from, &manifest, targets, &mut written) {
        Ok(()) => Ok(manifest),
        Err(error) => {
            written.remove();
            Err(error.context("the restore was undone"))
        }
    }
}

/// What a restore wrote, to undo it on failure.
#[derive(Default)]
struct Written {
    files: Vec<PathBuf>,
    blob_root: Option<PathBuf>,
}

impl Written {
    fn remove(&self) {
        for file in &self.files {
            let _ = std::fs::remove_file(file);
        }
        if let Some(root) = &self.blob_root {
            let _ = std::fs::remove_dir_all(root);
        }
    }
}

fn place(
    from: &Path,
    manifest: &Manifest,
    targets: &Sources,
    written: &mut Written,
) -> anyhow::Result<()> {
    require_empty(&targets.blob_root, "the storage folder")?;
    let database = &targets.database;
    if database.exists() {
        bail!(
            "a database is at {} already: restore into a new place",
            database.display()
        );
    }
    written.blob_root = Some(targets.blob_root.clone());
    place_blobs(from, &manifest.blobs, &targets.blob_root)?;
    // Each file is recorded once written: one that was there before (and
    // made the copy fail) is not the restore's to remove.
    match (&manifest.secret_key_file, &targets.key_file) {
        (Some(name), Some(key_file)) => {
            copy_secret(&from.join(name), key_file)?;
            written.files.push(key_file.clone());
        }
        (Some(_), None) => eprintln!(
            "warning: the backup holds a key file, but FOLIO_SECRET_KEY is set, so it was not \
             restored: the restored server opens its sealed tokens and client secrets only if \
             FOLIO_SECRET_KEY holds the keys that sealed them (the backup's key file has them)"
        ),
        (None, _) => {}
    }
    if let Some(name) = &manifest.admin_token_file {
        copy_secret(&from.join(name), &targets.admin_token)?;
        written.files.push(targets.admin_token.clone());
    }
    backup::sync_tree(&targets.blob_root)?;
    // The database last: a folder without it is plainly not a restore.
    let partial = database.with_extension("db.partial");
    written.files.push(partial.clone());
    std::fs::copy(from.join(DATABASE), &partial)
        .with_context(|| format!("copying the database to {}", partial.display()))?;
    let (size, sha256) = backup::hash_file(&partial)?;
    if size != manifest.database.size || sha256 != manifest.database.sha256 {
        bail!("the database copy does not match the manifest");
    }
    std::fs::rename(&partial, database)
        .with_context(|| format!("naming {}", database.display()))?;
    written.files.push(database.clone());
    Ok(())
}

/// Copies every blob into `root/blobs/<h0h1>/<hash>` (the local store's
/// layout), checking each against its hash.
fn place_blobs(from: &Path, blobs: &[BlobEntry], root: &Path) -> anyhow::Result<()> {
    create_private_dir(root)?;
    let bar = progress_bar(blobs.len() as u64, "blobs restored");
    for blob in blobs {
        let target = blob_path(root, &blob.hash);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        copy_checked(&blob_path(from, &blob.hash), &target, blob)
            .with_context(|| format!("restoring blob {}", blob.hash))?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(())
}
