//! Writing the backup's files safely: secrets 0600, everything flushed
//! before the manifest, the manifest last and atomically.

use super::*;

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

pub(super) fn write_manifest(dir: &Path, manifest: &Manifest) -> anyhow::Result<()> {
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
