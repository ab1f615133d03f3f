//! `--changes SECONDS`: the demo world changes by itself, one change per
//! tick, turn by turn over the drives: a file added, edited, renamed or
//! deleted, as people would, so scheduled syncs have work to do.

use std::time::Duration;

use bytes::Bytes;
use cloudsim::AppState;
use cloudsim::world::{ItemId, PutOptions, World, WorldError};
use tokio_util::sync::CancellationToken;

use super::world::{DemoWorld, Dice};

/// Changes the world every `every` until `stop` is cancelled.
pub async fn run(state: AppState, demo: DemoWorld, every: Duration, stop: CancellationToken) {
    let drives = demo.drives();
    let mut dice = Dice::new(0x0C4A_96E5);
    let mut tick = 0usize;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        let (provider, drive) = &drives[tick % drives.len()];
        let done = state.write(|w| change_once(w, drive, tick, &mut dice));
        match done {
            Ok(what) => tracing::info!(%provider, change = %what, "the demo world changed"),
            Err(err) => tracing::warn!(%provider, error = %err, "a demo change failed"),
        }
        tick += 1;
    }
}

/// One change in `drive`: add, edit, rename or delete, in turn. Returns
/// what it did.
fn change_once(
    world: &mut World,
    drive: &str,
    tick: usize,
    dice: &mut Dice,
) -> Result<String, WorldError> {
    let files = live_files(world, drive);
    let kind = if files.is_empty() { 0 } else { (tick / 6) % 4 };
    let pick = |dice: &mut Dice| files[dice.below(files.len())].clone();
    match kind {
        0 => {
            let path = format!("Inbox/Note {tick:05}.md");
            let text = format!("# Note {tick}\n\nWritten while the demo ran.\n");
            world.put_path(drive, &path, Bytes::from(text), PutOptions::default())?;
            Ok(format!("added {path}"))
        }
        1 => {
            let id = pick(dice);
            let path = world.path_of(&id);
            let text = format!("Edited by the demo at change {tick}.\n");
            let content = world
                .blobs
                .put(Bytes::from(text))
                .map_err(|e| WorldError::BadRequest(format!("storing bytes: {e:#}")))?;
            world.set_content(&id, content, None)?;
            Ok(format!("edited {path}"))
        }
        2 => {
            let id = pick(dice);
            let from = world.path_of(&id);
            let (parent, name) = world
                .item(&id)
                .map(|i| (i.parent_id.clone().unwrap_or_default(), i.name.clone()))
                .unwrap_or_default();
            let renamed = format!("Renamed {tick:05} {name}");
            world.move_item(&id, &parent, &renamed)?;
            Ok(format!("renamed {from} to {renamed}"))
        }
        _ => {
            let id = pick(dice);
            let path = world.path_of(&id);
            world.delete_item(&id)?;
            Ok(format!("deleted {path}"))
        }
    }
}

/// The live files of `drive`.
fn live_files(world: &World, drive: &str) -> Vec<ItemId> {
    let Some(root) = world.drive(drive).map(|d| d.root_id.clone()) else {
        return Vec::new();
    };
    world
        .subtree(&root)
        .into_iter()
        .filter(|id| world.item(id).is_some_and(|i| i.is_file() && i.is_live()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_change_happens() {
        let mut world = World::default();
        let demo = super::super::world::seed(&mut world).expect("seed");
        let mut dice = Dice::new(1);
        let mut said = Vec::new();
        for tick in (0..24).step_by(6) {
            said.push(change_once(&mut world, &demo.dropbox, tick, &mut dice).expect("change"));
        }
        for (what, word) in said.iter().zip(["added", "edited", "renamed", "deleted"]) {
            assert!(what.starts_with(word), "{what}");
        }
    }
}
