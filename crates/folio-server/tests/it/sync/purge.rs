//! `purge: true` is atomic: the library serves its old files until the
//! purge has fetched the new set, then switches in one transaction. A purge
//! whose request is dropped half-way (after it staged files) leaves the
//! library as it was, and the next sync leaves no staged file and no blob
//! row without a file behind.

use std::collections::BTreeMap;
use std::time::Duration;

use folio_testkit::sim::{Provider, SimWorld};
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};

const FILES: u32 = 120;

#[tokio::test]
async fn a_purge_cancelled_half_way_leaves_the_library_as_it_was() {
    let world = std::sync::Arc::new(SimWorld::start(Provider::Google).await);
    let library = world.connect_library("purged").await;
    world
        .sim
        .generate(Provider::Google, &library.account_id, "gen", FILES, 2000, 1)
        .await;
    let (status, first) = world.app.sync("purged", json!({})).await;
    assert_eq!(
        (status, first["addedFiles"].as_i64()),
        (200, Some(FILES.into()))
    );
    let before = listed(&world).await;
    // The remote set changes: a purge would bring new bytes for two files.
    let changed: Vec<String> = before.keys().take(2).cloned().collect();
    for path in &changed {
        world
            .put_file(&library.account_id, path, b"new bytes")
            .await;
    }

    world.slow_downloads(300).await;
    let purge = {
        let world = world.clone();
        tokio::spawn(async move {
            world
                .app
                .sync("purged", json!({"purge": true, "progress": "purge-1"}))
                .await
        })
    };
    wait_for(|| async {
        world
            .app
            .store
            .count_purge_files(library.id)
            .await
            .unwrap_or(0)
            > 0
    })
    .await;
    purge.abort();
    wait_for(|| async {
        let runs = world.app.runs("purged").await;
        runs[0]["status"] != "running"
    })
    .await;
    let runs = world.app.runs("purged").await;
    assert_eq!(runs[0]["status"], "failed", "{:?}", runs[0]);

    assert_eq!(listed(&world).await, before, "the old files, all of them");
    assert_bytes_match_listing(&world, &before).await;

    world
        .sim
        .call(Method::DELETE, "/_sim/faults", json!({}))
        .await;
    let (status, next) = world.app.sync("purged", json!({})).await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(next["updatedFiles"], json!(2), "{next}");
    assert_no_leftovers(&world, library.id).await;

    let (status, purged) = world.app.sync("purged", json!({"purge": true})).await;
    assert_eq!(status, 200, "{purged}");
    assert_eq!(purged["syncedFiles"], json!(FILES), "{purged}");
    let after = listed(&world).await;
    for path in &changed {
        assert_eq!(after[path], hex::encode(Sha256::digest(b"new bytes")));
    }
    assert_bytes_match_listing(&world, &after).await;
    assert_no_leftovers(&world, library.id).await;
}

/// Polls `done` every 50 ms, for at most 60 s.
async fn wait_for<F, Fut>(done: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..1200 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("waited 60 s in vain");
}

/// The library's files: path to listed hash.
async fn listed(world: &SimWorld) -> BTreeMap<String, String> {
    let (status, page) = world
        .app
        .call(Method::GET, "/api/libraries/purged/files?limit=1000", None)
        .await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_owned(),
                f["hash"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Every file served hashes to its listed hash.
async fn assert_bytes_match_listing(world: &SimWorld, files: &BTreeMap<String, String>) {
    for (path, hash) in files {
        let bytes = world
            .app
            .admin(Method::GET, &format!("/api/libraries/purged/files/{path}"))
            .send()
            .await
            .expect("file request")
            .bytes()
            .await
            .expect("file bytes");
        assert_eq!(&hex::encode(Sha256::digest(&bytes)), hash, "{path}");
    }
}

/// No staged purge file is left, and every blob row is used by a file.
async fn assert_no_leftovers(world: &SimWorld, library: uuid::Uuid) {
    let store = &world.app.store;
    assert_eq!(store.count_purge_files(library).await.expect("count"), 0);
    let unused = store.orphan_blob_hashes(100).await.expect("orphans");
    assert!(unused.is_empty(), "blob rows no file uses: {unused:?}");
}
