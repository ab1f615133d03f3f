//! Moves and renames over real HTTP: counted as `movedFiles` in the result,
//! in the progress record and in the sync history, never downloaded again;
//! and the stable suffix of Drive's same-named twins, which never moves to
//! a twin that did not change.

use std::collections::BTreeMap;

use folio_testkit::sim::{Provider, SimWorld};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn moves_and_renames_are_counted_everywhere_and_not_downloaded() {
    let world = SimWorld::start(Provider::Google).await;
    let drive = world.connect_library("moving").await.account_id;
    world.put_file(&drive, "a.txt", b"alpha").await;
    world.put_file(&drive, "docs/b.txt", b"bravo").await;
    world.put_file(&drive, "docs/c.txt", b"charlie").await;
    let (status, first) = world.app.sync("moving", json!({})).await;
    assert_eq!(
        (status, first["movedFiles"].as_i64()),
        (200, Some(0)),
        "{first}"
    );

    // One file renamed, one folder of two files renamed: three moves.
    let moves = [("a.txt", "renamed.txt"), ("docs", "papers")];
    for (from, to) in moves {
        world
            .sim
            .post(
                &format!("/_sim/google/{drive}/move"),
                json!({"from": from, "to": to}),
            )
            .await;
    }
    world.sim.reset_request_counts().await;
    let (status, result) = world
        .app
        .sync("moving", json!({"progress": "moves-1"}))
        .await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(
        result,
        json!({"syncedFiles": 3, "addedFiles": 0, "updatedFiles": 0, "deletedFiles": 0,
            "movedFiles": 3, "errors": []})
    );
    assert_eq!(world.sim.downloads(Provider::Google).await, 0);
    let (status, progress) = world
        .app
        .call(Method::GET, "/api/progress/moves-1", None)
        .await;
    assert_eq!(status, 200, "{progress}");
    assert_eq!(progress["moved"], 3, "{progress}");
    assert_eq!(progress["totalKnown"], true, "{progress}");
    let runs = world.app.runs("moving").await;
    assert_eq!(runs[0]["movedFiles"], 3, "{:?}", runs[0]);
    let (status, body) = world.app.file("moving", "papers/c.txt").await;
    assert_eq!((status, body), (200, json!("charlie")));
}

/// Library path to remote id.
async fn placed(world: &SimWorld, natural_id: &str) -> BTreeMap<String, String> {
    world
        .app
        .files(natural_id)
        .await
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_owned(),
                f["remoteId"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_twins_suffix_never_changes_for_an_untouched_file() {
    let world = SimWorld::start(Provider::Google).await;
    let drive = world.connect_library("twins").await.account_id;
    world.put_file(&drive, "dups/same.txt", b"one").await;
    world
        .put_file(&drive, "dups/same.txt?duplicate=true", b"two")
        .await;
    world
        .put_file(&drive, "dups/same.txt?duplicate=true", b"three")
        .await;
    let (status, first) = world.app.sync("twins", json!({})).await;
    assert_eq!(
        (status, first["addedFiles"].as_i64()),
        (200, Some(3)),
        "{first}"
    );
    let before = placed(&world, "twins").await;
    let plain = before["dups/same.txt"].clone();
    let suffixed: Vec<(String, String)> = before
        .iter()
        .filter(|(path, _)| path.as_str() != "dups/same.txt")
        .map(|(p, id)| (p.clone(), id.clone()))
        .collect();
    assert_eq!(suffixed.len(), 2, "{before:?}");
    assert!(
        suffixed.iter().all(|(p, _)| p.starts_with("dups/same (~")),
        "{before:?}"
    );

    // The twin holding the plain name is renamed: the others keep their
    // suffixed paths, nothing moves but the renamed one.
    rename(&world, &plain, "gone.txt");
    let (status, result) = world.app.sync("twins", json!({})).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(
        (result["movedFiles"].as_i64(), result["addedFiles"].as_i64()),
        (Some(1), Some(0)),
        "{result}"
    );
    let after = placed(&world, "twins").await;
    assert_eq!(after["dups/gone.txt"], plain);
    for (path, id) in &suffixed {
        assert_eq!(after.get(path), Some(id), "{path} stays: {after:?}");
    }
    assert!(!after.contains_key("dups/same.txt"), "{after:?}");

    // A sync with nothing changed, and a reconcile-like second look, keep
    // every path as it is.
    let (status, again) = world.app.sync("twins", json!({})).await;
    assert_eq!(
        (status, again["movedFiles"].as_i64()),
        (200, Some(0)),
        "{again}"
    );
    assert_eq!(placed(&world, "twins").await, after);

    // A suffixed twin renamed away leaves the other suffixed one in place.
    rename(&world, &suffixed[0].1, "away.txt");
    let (status, result) = world.app.sync("twins", json!({})).await;
    assert_eq!(
        (status, result["movedFiles"].as_i64()),
        (200, Some(1)),
        "{result}"
    );
    let last = placed(&world, "twins").await;
    assert_eq!(last.get(&suffixed[1].0), Some(&suffixed[1].1), "{last:?}");
}

/// Renames item `id` in place, through cloudsim's state.
fn rename(world: &SimWorld, id: &str, name: &str) {
    world.sim.handle().state().write(|w| {
        let parent = w
            .item(id)
            .and_then(|item| item.parent_id.clone())
            .expect("a placed item");
        w.move_item(id, &parent, name).expect("rename");
    });
}
