//! `"dryRun": true`: what a sync would add, update, move and delete, with
//! nothing downloaded and no file, cursor or storage changed (the real sync
//! after it finds the same changes).

use folio_testkit::sim::{Provider, SimWorld};
use serde_json::json;

#[tokio::test]
async fn a_dry_run_plans_without_changing_anything() {
    let world = SimWorld::start(Provider::Google).await;
    let drive = world.connect_library("dry").await.account_id;
    world.put_file(&drive, "keep.txt", b"keep").await;
    world.put_file(&drive, "edit.txt", b"old").await;
    world.put_file(&drive, "move.txt", b"move").await;
    world.put_file(&drive, "drop.txt", b"drop").await;
    let (status, first) = world.app.sync("dry", json!({})).await;
    assert_eq!(status, 200, "{first}");
    let before = world.app.files("dry").await;
    let blobs_before = world.app.blobs.list_hashes().await.expect("blobs");

    world.put_file(&drive, "new.txt", b"new").await;
    world.put_file(&drive, "edit.txt", b"new bytes").await;
    world
        .sim
        .post(
            &format!("/_sim/google/{drive}/move"),
            json!({"from": "move.txt", "to": "moved.txt"}),
        )
        .await;
    world
        .sim
        .call(
            reqwest::Method::DELETE,
            &format!("/_sim/google/{drive}/files/drop.txt"),
            json!({}),
        )
        .await;
    world.sim.reset_request_counts().await;

    let counts = |r: &serde_json::Value| {
        ["addedFiles", "updatedFiles", "movedFiles", "deletedFiles"].map(|k| r[k].as_i64())
    };
    let (status, planned) = world.app.sync("dry", json!({"dryRun": true})).await;
    assert_eq!(status, 200, "{planned}");
    assert_eq!(planned["dryRun"], true, "{planned}");
    assert_eq!(
        counts(&planned),
        [Some(1), Some(1), Some(1), Some(1)],
        "{planned}"
    );
    let mut actions: Vec<String> = planned["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["action"].as_str().unwrap_or(""),
                c["path"].as_str().unwrap_or("")
            )
        })
        .collect();
    actions.sort();
    assert_eq!(
        actions,
        [
            "add new.txt",
            "delete drop.txt",
            "move moved.txt",
            "update edit.txt"
        ]
    );
    assert_eq!(
        world.sim.downloads(Provider::Google).await,
        0,
        "nothing downloaded"
    );
    assert_eq!(world.app.files("dry").await, before, "no file changed");
    assert_eq!(
        world.app.blobs.list_hashes().await.expect("blobs"),
        blobs_before,
        "no storage changed"
    );

    let (status, real) = world.app.sync("dry", json!({})).await;
    assert_eq!(status, 200, "{real}");
    assert_eq!(
        counts(&real),
        counts(&planned),
        "the cursor did not move: {real}"
    );
    assert!(real.get("dryRun").is_none(), "{real}");
}
