//! The `--state DIR` snapshot: `DIR/state.json` (world, OAuth state,
//! settings; generated files as descriptors) and `DIR/blobs/<sha256>`
//! (uploaded bytes, written when uploaded). The snapshot is rewritten
//! at most every [`FLUSH_EVERY`] while something changed, and on shutdown.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::content::Blobs;
use crate::oauth::OAuthState;
use crate::world::World;
use crate::{AppState, Settings};

/// How often a changed state is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(500);

#[derive(Serialize)]
struct SnapshotRef<'a> {
    version: u32,
    world: &'a World,
    oauth: &'a OAuthState,
    settings: &'a Settings,
}

#[derive(Deserialize)]
struct Snapshot {
    world: World,
    oauth: OAuthState,
    settings: Settings,
}

fn state_file(dir: &Path) -> PathBuf {
    dir.join("state.json")
}

/// Loads the state of `dir`, or an empty state when `dir` has none yet.
pub fn load(dir: &Path, tls: bool) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating state dir {dir:?}"))?;
    let blobs = Blobs::load(dir.join("blobs"))?;
    let file = state_file(dir);
    if !file.exists() {
        return Ok(AppState::from_parts(
            World::new(blobs),
            OAuthState::default(),
            Settings::default(),
            Some(dir.to_path_buf()),
            tls,
        ));
    }
    let bytes = std::fs::read(&file).with_context(|| format!("reading {file:?}"))?;
    let mut snapshot: Snapshot =
        serde_json::from_slice(&bytes).with_context(|| format!("parsing {file:?}"))?;
    snapshot.world.after_load(blobs);
    Ok(AppState::from_parts(
        snapshot.world,
        snapshot.oauth,
        snapshot.settings,
        Some(dir.to_path_buf()),
        tls,
    ))
}

/// Writes the snapshot now (atomically: temp file, then rename).
///
/// One flush of a state at a time: the periodic flush can still be writing
/// when shutdown flushes, and both wrote `state.json.tmp`, so the second
/// rename found it gone (a failing shutdown, seen in CI). The lock is
/// taken before the state is read, so the flush that runs last writes the
/// latest state.
pub fn flush(state: &AppState) -> anyhow::Result<()> {
    let Some(dir) = state.state_dir() else {
        return Ok(());
    };
    let _one_at_a_time = state.shared().flushing.lock();
    state.take_dirty();
    let bytes = {
        let world = state.world_lock().read();
        let oauth = state.shared().oauth.lock();
        let settings = state.settings_lock().read();
        serde_json::to_vec(&SnapshotRef {
            version: 1,
            world: &world,
            oauth: &oauth,
            settings: &settings,
        })
        .context("serializing the state")?
    };
    let file = state_file(dir);
    let tmp = dir.join("state.json.tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {tmp:?}"))?;
    std::fs::rename(&tmp, &file).with_context(|| format!("renaming to {file:?}"))?;
    Ok(())
}

/// Flushes a changed state every [`FLUSH_EVERY`] until the task is aborted.
pub async fn flush_loop(state: AppState) {
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    loop {
        tick.tick().await;
        if state.take_dirty() {
            state.mark_dirty();
            let s = state.clone();
            match tokio::task::spawn_blocking(move || flush(&s)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!("writing the state snapshot: {e:#}"),
                Err(e) => tracing::error!("state snapshot task failed: {e}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flushes_at_once_all_succeed_and_leave_a_loadable_state() {
        let dir = tempfile::tempdir().unwrap();
        let state = load(dir.path(), false).unwrap();
        let flushing: Vec<_> = (0..4)
            .map(|_| {
                let state = state.clone();
                std::thread::spawn(move || (0..25).map(|_| flush(&state)).collect::<Vec<_>>())
            })
            .collect();
        for thread in flushing {
            for result in thread.join().unwrap() {
                result.unwrap();
            }
        }
        assert!(!dir.path().join("state.json.tmp").exists());
        load(dir.path(), false).unwrap();
    }
}
