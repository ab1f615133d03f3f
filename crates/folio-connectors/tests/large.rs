//! A generated 2 GiB file streamed through a connector and verified by its
//! provider hash while streaming, with the process's peak memory checked
//! to stay flat (cloudsim runs in the same process and streams too).
//!
//! A test binary of its own, not a module of `tests/it`: it measures this
//! process's peak memory, which the other tests would raise.

#[path = "it/support/mod.rs"]
mod support;

use folio_connectors::{ProviderKind, RemoteHashExt};
use serde_json::json;
use support::{Fixture, drain, fetch, upserts};

const TWO_GIB: u64 = 2 * 1024 * 1024 * 1024;
/// Growth of the peak resident set allowed while streaming (the whole
/// sync must stay under 150 MiB: docs/benchmarks.md).
const MAX_GROWTH_KIB: u64 = 150 * 1024;

/// `VmHWM` (peak resident set) of this process, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

async fn stream_two_gib(kind: ProviderKind) {
    let fx = Fixture::new(kind).await;
    fx.env
        .control(
            &format!("/{}/{}/generate", fx.provider, fx.drive),
            json!({"root": "big", "files": 1, "bytes": TWO_GIB, "depth": 0}),
        )
        .await;
    let c = fx.connector();
    let (changes, _, _) = drain(c.as_ref(), None).await;
    let item = upserts(&changes)
        .into_iter()
        .find(|i| !i.is_folder)
        .expect("the generated file");
    assert_eq!(item.size, Some(TWO_GIB));
    let before = peak_rss_kib();
    let (_, len, hash) = fetch(c.as_ref(), &item, false).await.expect("download");
    let growth = peak_rss_kib().saturating_sub(before);
    assert_eq!(len, TWO_GIB);
    item.hash
        .as_ref()
        .expect("provider hash")
        .check(&hash)
        .expect("hash matches");
    assert!(
        growth < MAX_GROWTH_KIB,
        "{kind}: peak memory grew by {growth} KiB"
    );
    eprintln!("{kind}: 2 GiB streamed and verified, peak RSS growth {growth} KiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_drive_streams_two_gib_flat() {
    stream_two_gib(ProviderKind::GoogleDrive).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropbox_streams_two_gib_flat() {
    stream_two_gib(ProviderKind::Dropbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onedrive_streams_two_gib_flat() {
    stream_two_gib(ProviderKind::OneDrive).await;
}
