//! One file whose download keeps failing never fails the sync: over real
//! HTTP, a Drive folder of 20 files with a fault on one file's download
//! answers 200 with 19 files kept and the file in `errors`, and the next
//! sync, the fault cleared, fetches exactly that file.

use folio_testkit::sim::{Provider, SimWorld};
use reqwest::Method;
use serde_json::{Value, json};

const FILES: usize = 20;
const FAILING: usize = 7;

fn name(i: usize) -> String {
    format!("folder/f{i:02}.txt")
}

/// 4,000 bytes of file `i`, distinct from every other file's.
fn bytes(i: usize) -> String {
    format!("{i:04}").repeat(1000)
}

/// Syncs a fresh 20-file Drive library with `fault` (its endpoint and item
/// filled in) on one file's download, then again with the fault cleared.
async fn one_file_failing(fault: Value) {
    let world = SimWorld::start(Provider::Google).await;
    let drive = world.connect_library("docs").await.account_id;
    let mut ids = Vec::new();
    for i in 0..FILES {
        let put = world.put_file(&drive, &name(i), bytes(i).as_bytes()).await;
        ids.push(put["id"].as_str().expect("file id").to_owned());
    }
    let mut fault = fault;
    fault["provider"] = json!("google");
    fault["endpoint"] = json!("GET /drive/v3/files/{fileId}?alt=media");
    fault["itemId"] = json!(ids[FAILING]);
    world.sim.post("/_sim/faults", fault.clone()).await;

    let (status, result) = world.app.sync("docs", json!({})).await;
    assert_eq!(status, 200, "{fault}: {result}");
    assert_eq!(
        (
            result["syncedFiles"].as_i64(),
            result["addedFiles"].as_i64()
        ),
        (Some(19), Some(19)),
        "{fault}: {result}"
    );
    let errors = result["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{fault}: {result}");
    assert_eq!(errors[0]["path"], json!(name(FAILING)), "{result}");
    assert_eq!(errors[0]["remoteId"], json!(ids[FAILING]), "{result}");
    assert!(
        errors[0]["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{result}"
    );
    for i in (0..FILES).filter(|&i| i != FAILING) {
        let (status, body) = world.app.file("docs", &name(i)).await;
        assert_eq!(
            (status, body),
            (200, Value::String(bytes(i))),
            "{}",
            name(i)
        );
    }
    let (status, _) = world.app.file("docs", &name(FAILING)).await;
    assert_eq!(status, 404, "a file appears only whole");
    let runs = world.app.runs("docs").await;
    assert_eq!(runs[0]["status"], "done", "{runs:?}");
    assert_eq!(runs[0]["errors"].as_array().map(Vec::len), Some(1));

    world
        .sim
        .call(Method::DELETE, "/_sim/faults", json!({}))
        .await;
    world.sim.reset_request_counts().await;
    let (status, again) = world.app.sync("docs", json!({})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        (
            again["syncedFiles"].as_i64(),
            again["addedFiles"].as_i64(),
            again["errors"].as_array().map(Vec::len)
        ),
        (Some(20), Some(1), Some(0)),
        "the next sync tries it again: {again}"
    );
    assert_eq!(world.sim.downloads(Provider::Google).await, 1, "only it");
    let (status, body) = world.app.file("docs", &name(FAILING)).await;
    assert_eq!((status, body), (200, Value::String(bytes(FAILING))));
}

#[tokio::test]
async fn a_download_answering_500_every_time_is_a_per_file_error() {
    one_file_failing(json!({"kind": "server_error", "status": 500})).await;
}

#[tokio::test]
async fn a_download_rate_limited_beyond_its_retries_is_a_per_file_error() {
    one_file_failing(json!({"kind": "rate_limit", "retryAfterSeconds": 1})).await;
}

#[tokio::test]
async fn a_download_cut_every_time_is_a_per_file_error() {
    one_file_failing(json!({"kind": "cut", "cutAfterBytes": 1000})).await;
}
