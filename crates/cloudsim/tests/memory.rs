//! A generated 2 GiB file streams, by Range and whole, with its md5, and
//! neither side ever holds it: this process's peak memory (the server
//! runs in it) stays small.
//!
//! A test binary of its own, not a module of `tests/it`: it measures this
//! process's peak memory, which the other tests would raise.

#[path = "it/google_support/mod.rs"]
mod google_support;

use google_support::*;
use md5::Digest;
use serde_json::{Value, json};

#[tokio::test]
async fn a_generated_2_gib_file_streams() {
    let s = Sim2::start().await;
    let (token, drive) = s.connect().await;
    const LEN: u64 = 2 * 1024 * 1024 * 1024;
    s.post(
        &format!("/google/{drive}/generate"),
        json!({"root": "huge", "files": 1, "bytes": LEN, "depth": 0}),
    )
    .await;
    let meta = s
        .control(
            reqwest::Method::GET,
            &format!("/google/{drive}/files/huge/file-0000000.bin"),
            Value::Null,
        )
        .await;
    assert_eq!(meta["content"]["type"], "generated");
    let seed = meta["content"]["seed"].as_u64().unwrap();
    let id = meta["id"].as_str().unwrap();

    // The last MiB, by Range, equals the declared generator's bytes.
    let start = LEN - 1024 * 1024;
    let resp = s
        .http
        .get(s.url(&format!("/drive/v3/files/{id}?alt=media")))
        .bearer_auth(&token)
        .header("Range", format!("bytes={start}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(
        resp.headers()["content-range"],
        format!("bytes {start}-{}/{LEN}", LEN - 1).as_str()
    );
    let tail = resp.bytes().await.unwrap();
    let mut expected = vec![0u8; 1024 * 1024];
    cloudsim::content::fill_generated(seed, start, &mut expected);
    assert_eq!(&tail[..], &expected[..]);

    // md5Checksum equals the md5 of the generator, computed here chunk by
    // chunk (4 MiB at a time) while the server computes its own.
    let local = tokio::task::spawn_blocking(move || {
        let mut md5 = md5::Md5::new();
        let mut buf = vec![0u8; 4 * 1024 * 1024];
        let mut pos = 0;
        while pos < LEN {
            cloudsim::content::fill_generated(seed, pos, &mut buf);
            md5.update(&buf);
            pos += buf.len() as u64;
        }
        hex::encode(md5.finalize())
    });
    let (_, f) = s
        .get_json(
            &token,
            &format!("/drive/v3/files/{id}?fields=size,md5Checksum"),
        )
        .await;
    assert_eq!(f["size"], LEN.to_string());
    assert_eq!(f["md5Checksum"], local.await.unwrap());

    // The whole file streams; neither side ever holds it.
    let mut resp = s
        .get(&token, &format!("/drive/v3/files/{id}?alt=media"))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-length"], LEN.to_string().as_str());
    let mut received = 0u64;
    while let Some(chunk) = resp.chunk().await.unwrap() {
        received += chunk.len() as u64;
    }
    assert_eq!(received, LEN);
    let peak_kib: u64 = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    eprintln!("peak RSS after streaming 2 GiB: {peak_kib} KiB");
    assert!(
        peak_kib < 512 * 1024,
        "peak RSS of this test process (server included) {peak_kib} KiB"
    );
}
