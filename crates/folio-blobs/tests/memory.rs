//! Memory stays flat while a large blob streams in and out. Ignored by
//! default (it moves 1 GiB); run it with
//! `cargo test -p folio-blobs --release --test memory -- --ignored --nocapture`.
//! With `FOLIO_TEST_S3_URL` set it also runs against S3 (256 MiB).
//!
//! A test binary of its own, not a module of `tests/it`: it measures this
//! process's peak memory, which the other tests would raise.

#[path = "it/support/mod.rs"]
mod support;

use bytes::{BufMut, Bytes, BytesMut};
use folio_blobs::{BlobStore, ByteStream};
use futures::{StreamExt, stream};
use support::{Harness, hash_stream};

const MIB: u64 = 1024 * 1024;
/// What the process may grow by while a blob streams through.
const MAX_GROWTH: u64 = 64 * MIB;

/// A body of `total` bytes in 1 MiB chunks, each a cheap clone of one buffer
/// with its index written in front (so chunks differ).
fn cheap_body(total: u64) -> ByteStream {
    let filler = Bytes::from(vec![0x5a; MIB as usize - 8]);
    stream::iter(0..total / MIB)
        .map(move |i| {
            let mut chunk = BytesMut::with_capacity(MIB as usize);
            chunk.put_u64(i);
            chunk.extend_from_slice(&filler);
            Ok(chunk.freeze())
        })
        .boxed()
}

/// Peak resident memory of this process so far (Linux `VmHWM`).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM line");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("VmHWM value");
    kib * 1024
}

async fn check_flat_memory(store: &BlobStore, total: u64) {
    let before = peak_rss();
    let stored = store.put(cheap_body(total), None).await.unwrap();
    assert_eq!(stored.size, total);
    let (_, read) = hash_stream(store.get(&stored.hash, None).await.unwrap()).await;
    assert_eq!(read, total);
    let growth = peak_rss().saturating_sub(before);
    eprintln!(
        "streamed {} MiB in and out; peak RSS grew by {} MiB",
        total / MIB,
        growth / MIB
    );
    assert!(growth < MAX_GROWTH, "peak RSS grew by {} MiB", growth / MIB);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "moves 1 GiB; run on demand (see the module docs)"]
async fn memory_stays_flat_on_fs() {
    check_flat_memory(&Harness::fs().await.store, 1024 * MIB).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "moves 256 MiB through S3; run on demand (see the module docs)"]
async fn memory_stays_flat_on_s3() {
    if let Some(harness) = Harness::s3("memory_stays_flat_on_s3").await {
        check_flat_memory(&harness.store, 256 * MIB).await;
    }
}
