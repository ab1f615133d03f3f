//! The blob store's behaviour suite: each test is written once, below, and
//! run against every backend by `behaviour_suite!` at the bottom: `fs::*`
//! always, `s3::*` when `FOLIO_TEST_S3_URL` names a bucket (see
//! `.ci/s3-server.sh`), each test under its own directory or prefix.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use folio_blobs::{BlobError, BlobInfo, BlobStore, ByteStream};
use futures::{StreamExt, TryStreamExt, stream};

use crate::support::{
    Backend, Harness, body_of, generated_body, generated_hash, hash_stream, read_all, sha256_hex,
};

const MIB: usize = 1024 * 1024;
const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Asserts the store holds no blob and no staging object.
async fn assert_empty(store: &BlobStore) {
    assert_eq!(
        store.list_hashes().await.unwrap(),
        Vec::<String>::new(),
        "no blob stays behind"
    );
    assert_eq!(
        store.remove_stale_staging(Duration::ZERO).await.unwrap(),
        0,
        "no staging stays behind"
    );
}

async fn round_trip(h: &Harness) {
    let stored = h
        .store
        .put(body_of(&[b"hello, ", b"world"]), None)
        .await
        .unwrap();
    assert_eq!(stored.size, 12);
    assert_eq!(stored.hash, sha256_hex(b"hello, world"));
    assert_eq!(
        read_all(h.store.get(&stored.hash, None).await.unwrap()).await,
        b"hello, world"
    );
    assert_eq!(h.store.size(&stored.hash).await.unwrap(), Some(12));
    assert!(h.store.exists(&stored.hash).await.unwrap());
    assert_eq!(
        h.store.remove_stale_staging(Duration::ZERO).await.unwrap(),
        0
    );
}

async fn sha256_matches_known_vectors(h: &Harness) {
    let abc = h.store.put(body_of(&[b"a", b"bc"]), None).await.unwrap();
    assert_eq!(abc.hash, ABC_SHA256);
    let empty = h.store.put(body_of(&[]), None).await.unwrap();
    assert_eq!((empty.hash.as_str(), empty.size), (EMPTY_SHA256, 0));
    assert!(
        read_all(h.store.get(EMPTY_SHA256, None).await.unwrap())
            .await
            .is_empty()
    );
}

async fn same_bytes_are_stored_once(h: &Harness) {
    let first = h.store.put(body_of(&[b"same bytes"]), None).await.unwrap();
    let second = h
        .store
        .put(body_of(&[b"same ", b"bytes"]), None)
        .await
        .unwrap();
    assert_eq!(first, second);
    assert_eq!(
        h.store.list_hashes().await.unwrap(),
        vec![first.hash.clone()]
    );
    assert_eq!(
        h.store.remove_stale_staging(Duration::ZERO).await.unwrap(),
        0
    );
    assert_eq!(
        read_all(h.store.get(&first.hash, None).await.unwrap()).await,
        b"same bytes"
    );
}

async fn too_large_leaves_nothing_behind(h: &Harness) {
    let err = h
        .store
        .put(body_of(&[b"12345678", b"12345678"]), Some(10))
        .await
        .unwrap_err();
    assert!(matches!(err, BlobError::TooLarge { limit: 10 }), "{err:?}");
    assert_empty(&h.store).await;

    let exact = h
        .store
        .put(body_of(&[b"12345", b"67890"]), Some(10))
        .await
        .unwrap();
    assert_eq!(exact.size, 10);
}

async fn too_large_after_uploaded_parts_leaves_nothing_behind(h: &Harness) {
    // 12 MiB against an 11 MiB limit: on S3, two 5 MiB parts are uploaded
    // before the limit trips, so the multipart upload must be aborted.
    let limit = 11 * MIB as u64;
    let err = h
        .store
        .put(generated_body(7, 12 * MIB, 256 * 1024), Some(limit))
        .await
        .unwrap_err();
    assert!(
        matches!(err, BlobError::TooLarge { limit: l } if l == limit),
        "{err:?}"
    );
    assert_empty(&h.store).await;
}

async fn failing_body_leaves_nothing_behind(h: &Harness) {
    let body: ByteStream = stream::iter(vec![
        Ok(Bytes::from_static(b"partial data")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "provider hung up",
        )),
    ])
    .boxed();
    let err = h.store.put(body, None).await.unwrap_err();
    assert!(matches!(err, BlobError::Body(_)), "{err:?}");
    assert!(err.is_temporary());
    assert_empty(&h.store).await;
}

async fn range_reads_return_exactly_the_range(h: &Harness) {
    let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let hash = h.store.put(body_of(&[&data]), None).await.unwrap().hash;
    let read = |range: std::ops::Range<u64>| {
        let store = h.store.clone();
        let hash = hash.clone();
        async move { read_all(store.get(&hash, Some(range)).await.unwrap()).await }
    };
    assert_eq!(read(0..10).await, &data[0..10]);
    assert_eq!(read(100..300).await, &data[100..300]);
    assert_eq!(
        read(990..5000).await,
        &data[990..],
        "an end past the blob is cut to it"
    );
    assert!(read(1000..1000).await.is_empty());
    #[allow(clippy::reversed_empty_ranges)] // a reversed range is what is tested
    for bad in [1001..2000, 10..5] {
        let err = h.store.get(&hash, Some(bad.clone())).await.err().unwrap();
        assert!(
            matches!(err, BlobError::InvalidRange { size: 1000, .. }),
            "{bad:?}: {err:?}"
        );
    }
}

async fn absent_blobs_are_not_found(h: &Harness) {
    let err = h.store.get(ABC_SHA256, None).await.err().unwrap();
    assert!(
        matches!(&err, BlobError::NotFound(hash) if hash == ABC_SHA256),
        "{err:?}"
    );
    assert!(matches!(
        h.store.get(ABC_SHA256, Some(0..1)).await,
        Err(BlobError::NotFound(_))
    ));
    assert_eq!(h.store.size(ABC_SHA256).await.unwrap(), None);
    assert!(!h.store.exists(ABC_SHA256).await.unwrap());
}

async fn invalid_hashes_are_rejected(h: &Harness) {
    let traversal = format!("../../{}", &ABC_SHA256[6..]);
    let upper = ABC_SHA256.to_uppercase();
    for bad in [
        "",
        "abc",
        "../../etc/passwd",
        traversal.as_str(),
        upper.as_str(),
    ] {
        let is_invalid =
            |r: Result<(), BlobError>| matches!(r, Err(BlobError::InvalidHash(ref s)) if s == bad);
        assert!(
            is_invalid(h.store.get(bad, None).await.map(drop)),
            "get {bad:?}"
        );
        assert!(
            is_invalid(h.store.size(bad).await.map(drop)),
            "size {bad:?}"
        );
        assert!(
            is_invalid(h.store.exists(bad).await.map(drop)),
            "exists {bad:?}"
        );
        assert!(is_invalid(h.store.delete(bad).await), "delete {bad:?}");
    }
}

async fn delete_is_idempotent(h: &Harness) {
    let hash = h
        .store
        .put(body_of(&[b"to delete"]), None)
        .await
        .unwrap()
        .hash;
    h.store.delete(&hash).await.unwrap();
    h.store.delete(&hash).await.unwrap();
    h.store.delete(ABC_SHA256).await.unwrap();
    assert!(!h.store.exists(&hash).await.unwrap());
    assert!(matches!(
        h.store.get(&hash, None).await,
        Err(BlobError::NotFound(_))
    ));
    assert_empty(&h.store).await;
}

async fn list_hashes_lists_every_blob(h: &Harness) {
    assert_eq!(h.store.list_hashes().await.unwrap(), Vec::<String>::new());
    let mut hashes = Vec::new();
    for body in [&b"one"[..], b"two", b"three"] {
        hashes.push(h.store.put(body_of(&[body]), None).await.unwrap().hash);
    }
    hashes.sort();
    assert_eq!(h.store.list_hashes().await.unwrap(), hashes);
    h.store.delete(&hashes[1]).await.unwrap();
    hashes.remove(1);
    assert_eq!(h.store.list_hashes().await.unwrap(), hashes);
}

async fn multi_megabyte_put_streams_through(h: &Harness) {
    let (total, chunk) = (20 * MIB, 64 * 1024);
    let stored = h
        .store
        .put(generated_body(42, total, chunk), None)
        .await
        .unwrap();
    assert_eq!(stored.hash, generated_hash(42, total, chunk));
    assert_eq!(stored.size, total as u64);
    let read_back = hash_stream(h.store.get(&stored.hash, None).await.unwrap()).await;
    assert_eq!(read_back, (stored.hash.clone(), total as u64));

    let middle = (5 * MIB as u64 - 10)..(5 * MIB as u64 + 10);
    let expected: Vec<u8> = read_all(generated_body(42, total, chunk))
        .await
        .drain(middle.start as usize..middle.end as usize)
        .collect();
    assert_eq!(
        read_all(h.store.get(&stored.hash, Some(middle)).await.unwrap()).await,
        expected
    );
}

async fn concurrent_puts_of_the_same_bytes_agree(h: &Harness) {
    let (total, chunk) = (3 * MIB, 100_000);
    let puts = (0..8).map(|_| {
        let store = h.store.clone();
        tokio::spawn(async move { store.put(generated_body(9, total, chunk), None).await })
    });
    let results = futures::future::join_all(puts).await;
    let expected = generated_hash(9, total, chunk);
    for result in results {
        let stored = result.unwrap().unwrap();
        assert_eq!(
            (stored.hash.as_str(), stored.size),
            (expected.as_str(), total as u64)
        );
    }
    assert_eq!(h.store.list_hashes().await.unwrap(), vec![expected.clone()]);
    assert_eq!(
        h.store.remove_stale_staging(Duration::ZERO).await.unwrap(),
        0
    );
    assert_eq!(
        hash_stream(h.store.get(&expected, None).await.unwrap()).await,
        (expected, total as u64)
    );
}

async fn observer_sees_every_chunk_in_order(h: &Harness) {
    let mut seen = Vec::new();
    let mut chunks = 0;
    let stored = h
        .store
        .put_observed(body_of(&[b"ob", b"serv", b"ed"]), None, &mut |chunk| {
            seen.extend_from_slice(chunk);
            chunks += 1;
        })
        .await
        .unwrap();
    assert_eq!((seen.as_slice(), chunks), (&b"observed"[..], 3));
    assert_eq!(stored.hash, sha256_hex(b"observed"));
}

async fn interrupted_put_leaves_only_stale_staging(h: &Harness) {
    // A put that is cancelled mid-body (as by a crash) leaves its staging
    // object, never a blob; remove_stale_staging cleans it up once stale.
    let (sent_tx, sent_rx) = tokio::sync::oneshot::channel::<()>();
    let body: ByteStream = stream::once(async { Ok(Bytes::from_static(b"first chunk")) })
        .chain(stream::once(async move {
            let _ = sent_tx.send(());
            futures::future::pending::<std::io::Result<Bytes>>().await
        }))
        .boxed();
    let store = h.store.clone();
    let put = tokio::spawn(async move { store.put(body, None).await });
    sent_rx.await.unwrap();
    put.abort();
    assert!(put.await.unwrap_err().is_cancelled());

    assert_eq!(h.store.list_hashes().await.unwrap(), Vec::<String>::new());
    assert_eq!(
        h.store
            .remove_stale_staging(Duration::from_secs(3600))
            .await
            .unwrap(),
        0,
        "fresh staging is kept"
    );
    let removed = h.store.remove_stale_staging(Duration::ZERO).await.unwrap();
    // Fs writes the staging file as bytes arrive. S3 has no object: bytes
    // below the part size were only buffered, and a started multipart upload
    // is not an object (a bucket lifecycle rule ends those).
    let expected = if h.backend == Backend::Fs { 1 } else { 0 };
    assert_eq!(removed, expected);
    assert_empty(&h.store).await;
}

/// How far a listed modification time may stray from the test's own clock:
/// S3 keeps whole seconds, and the server's clock is its own.
const CLOCK_SLACK: Duration = Duration::from_secs(2);

async fn list_blobs_streams_every_blob_with_its_size_and_age(h: &Harness) {
    assert!(
        h.store
            .list_blobs()
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .is_empty()
    );
    let before = SystemTime::now() - CLOCK_SLACK;
    let mut stored = Vec::new();
    for body in [&b"one"[..], b"three", b"seven"] {
        stored.push(h.store.put(body_of(&[body]), None).await.unwrap());
    }
    let after = SystemTime::now() + CLOCK_SLACK;
    let mut listed: Vec<BlobInfo> = h.store.list_blobs().try_collect().await.unwrap();
    listed.sort_by(|a, b| a.hash.cmp(&b.hash));
    stored.sort_by(|a, b| a.hash.cmp(&b.hash));
    let named: Vec<(&str, u64)> = listed.iter().map(|b| (b.hash.as_str(), b.size)).collect();
    let expected: Vec<(&str, u64)> = stored.iter().map(|b| (b.hash.as_str(), b.size)).collect();
    assert_eq!(named, expected);
    for blob in &listed {
        let modified = blob
            .modified
            .expect("the backend gives a modification time");
        assert!(
            before <= modified && modified <= after,
            "{} modified at {modified:?}, outside {before:?}..{after:?}",
            blob.hash
        );
        assert_eq!(
            h.store.stat(&blob.hash).await.unwrap().as_ref(),
            Some(blob),
            "stat agrees with the listing"
        );
    }
    assert_eq!(h.store.stat(ABC_SHA256).await.unwrap(), None);
    assert!(matches!(
        h.store.stat("../x").await,
        Err(BlobError::InvalidHash(_))
    ));
}

async fn a_put_of_stored_bytes_makes_the_blob_young_again(h: &Harness) {
    // The orphan sweep spares blobs younger than its grace period; a put that
    // reuses a blob no file uses yet must restart that period.
    let first = h.store.put(body_of(&[b"reused"]), None).await.unwrap();
    let was = h
        .store
        .stat(&first.hash)
        .await
        .unwrap()
        .unwrap()
        .modified
        .unwrap();
    // More than S3's one-second resolution.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let second = h.store.put(body_of(&[b"reu", b"sed"]), None).await.unwrap();
    assert_eq!(first, second);
    let is = h
        .store
        .stat(&first.hash)
        .await
        .unwrap()
        .unwrap()
        .modified
        .unwrap();
    assert!(
        is > was,
        "modified at {was:?}, then {is:?} after a second put"
    );
    assert_eq!(
        h.store.list_hashes().await.unwrap(),
        vec![first.hash.clone()]
    );
    assert_eq!(
        h.store.remove_stale_staging(Duration::ZERO).await.unwrap(),
        0
    );
    assert_eq!(
        read_all(h.store.get(&first.hash, None).await.unwrap()).await,
        b"reused"
    );
}

async fn delete_if_written_before_deletes_only_old_blobs(h: &Harness) {
    let hash = h.store.put(body_of(&[b"aging"]), None).await.unwrap().hash;
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    assert!(
        !h.store
            .delete_if_written_before(&hash, an_hour_ago)
            .await
            .unwrap(),
        "a blob written since the cutoff is kept"
    );
    assert_eq!(h.store.list_hashes().await.unwrap(), vec![hash.clone()]);
    assert_eq!(
        h.store.remove_stale_staging(Duration::ZERO).await.unwrap(),
        0,
        "a kept blob leaves nothing in staging"
    );

    let later = SystemTime::now() + CLOCK_SLACK;
    assert!(
        h.store
            .delete_if_written_before(&hash, later)
            .await
            .unwrap()
    );
    assert!(
        !h.store
            .delete_if_written_before(&hash, later)
            .await
            .unwrap(),
        "an absent blob is not deleted twice"
    );
    assert_empty(&h.store).await;
    assert!(matches!(
        h.store.delete_if_written_before("../x", later).await,
        Err(BlobError::InvalidHash(_))
    ));
}

async fn stale_staging_is_told_from_fresh_by_its_age(h: &Harness) {
    // What a process killed between finishing an upload and promoting it
    // leaves (an object on every backend).
    let staged = "staging/cut-off-upload";
    h.write_raw(staged, b"cut off").await;
    assert_eq!(
        h.store
            .remove_stale_staging(Duration::from_secs(3600))
            .await
            .unwrap(),
        0,
        "an upload an hour old or less is kept"
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(
        h.store
            .remove_stale_staging(Duration::from_secs(1))
            .await
            .unwrap(),
        1,
        "{staged} is older than a second"
    );
    assert_empty(&h.store).await;
}

/// Runs each named test against every backend: `fs::<test>` and `s3::<test>`.
macro_rules! behaviour_suite {
    ($($test:ident),* $(,)?) => {
        mod fs {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    super::$test(&crate::support::Harness::fs().await).await;
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    if let Some(harness) = crate::support::Harness::s3(stringify!($test)).await {
                        super::$test(&harness).await;
                    }
                }
            )*
        }
    };
}

/// The sync engine's batched-durability put: same hash, same bytes, the
/// observer sees every chunk, nothing left in staging, and a rejected body
/// leaves nothing; `sync_written` succeeds (one flush on Fs, nothing on S3).
async fn unsynced_puts_then_one_sync_store_the_same_blobs(h: &Harness) {
    let mut seen = Vec::new();
    let stored = h
        .store
        .put_observed_unsynced(body_of(&[b"page ", b"of ", b"files"]), None, &mut |c| {
            seen.extend_from_slice(c)
        })
        .await
        .unwrap();
    assert_eq!(seen, b"page of files");
    let again = h
        .store
        .put(body_of(&[b"page of files"]), None)
        .await
        .unwrap();
    assert_eq!(stored, again);
    h.store.sync_written().await.unwrap();
    assert_eq!(
        read_all(h.store.get(&stored.hash, None).await.unwrap()).await,
        b"page of files"
    );
    assert_eq!(
        h.store.remove_stale_staging(Duration::ZERO).await.unwrap(),
        0
    );

    let err = h
        .store
        .put_observed_unsynced(body_of(&[b"12345678", b"12345678"]), Some(10), &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, BlobError::TooLarge { limit: 10 }), "{err:?}");
    assert_eq!(h.store.list_hashes().await.unwrap(), vec![stored.hash]);
    assert_eq!(
        h.store.remove_stale_staging(Duration::ZERO).await.unwrap(),
        0
    );
}

/// Unsynced puts larger than what is gathered in memory (Fs writes those
/// through a staging file as they stream): the same blob as `put`, and a
/// body breaking off after the gathered part leaves nothing behind.
async fn large_unsynced_puts_stream_and_fail_cleanly(h: &Harness) {
    let (total, chunk) = (1024 * 1024 + 17, 64 * 1024);
    let mut observed = 0;
    let stored = h
        .store
        .put_observed_unsynced(generated_body(7, total, chunk), None, &mut |c| {
            observed += c.len()
        })
        .await
        .unwrap();
    assert_eq!(observed, total);
    assert_eq!(stored.hash, generated_hash(7, total, chunk));
    h.store.sync_written().await.unwrap();
    let again = h
        .store
        .put(generated_body(7, total, chunk), None)
        .await
        .unwrap();
    assert_eq!(stored, again);
    assert_eq!(
        read_all(h.store.get(&stored.hash, None).await.unwrap())
            .await
            .len(),
        total
    );

    let broken: ByteStream = generated_body(8, 512 * 1024, chunk)
        .chain(stream::iter(vec![Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "provider hung up",
        ))]))
        .boxed();
    let err = h
        .store
        .put_observed_unsynced(broken, None, &mut |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, BlobError::Body(_)), "{err:?}");
    assert_eq!(h.store.list_hashes().await.unwrap(), vec![stored.hash]);
    assert_eq!(
        h.store.remove_stale_staging(Duration::ZERO).await.unwrap(),
        0
    );
}

/// Many small unsynced puts (several batches on Fs): each blob readable
/// once `finish_unsynced` returns, and durable after `sync_written`.
async fn many_small_unsynced_puts_are_all_stored(h: &Harness) {
    let mut hashes = Vec::new();
    for i in 0..150u32 {
        let bytes = format!("small blob {i}").into_bytes();
        let stored = h
            .store
            .put_observed_unsynced(body_of(&[&bytes]), None, &mut |_| {})
            .await
            .unwrap();
        hashes.push((stored.hash, bytes));
    }
    h.store.finish_unsynced().await.unwrap();
    for (hash, bytes) in &hashes {
        assert_eq!(
            &read_all(h.store.get(hash, None).await.unwrap()).await,
            bytes
        );
    }
    h.store.sync_written().await.unwrap();
    assert_eq!(h.store.list_hashes().await.unwrap().len(), hashes.len());
    assert_eq!(
        h.store.remove_stale_staging(Duration::ZERO).await.unwrap(),
        0
    );
}

/// A blob left half-written at its key (a put cut off by a crash: on Fs a
/// sync's small files are written in place when their key is new) is
/// replaced whole by the next put of the same bytes, and nothing is left
/// in staging.
async fn a_put_replaces_a_half_written_blob(h: &Harness) {
    let bytes = b"the whole blob";
    let hash = sha256_hex(bytes);
    h.write_raw(&h.blob_key(&hash), b"the wh").await;
    // The store sees the half-written blob: the harness's key is the store's.
    assert_eq!(h.store.size(&hash).await.unwrap(), Some(6));
    let stored = h
        .store
        .put_observed_unsynced(body_of(&[bytes]), None, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(stored.hash, hash);
    h.store.finish_unsynced().await.unwrap();
    assert_eq!(
        read_all(h.store.get(&hash, None).await.unwrap()).await,
        bytes
    );
    assert_eq!(h.store.list_hashes().await.unwrap(), vec![hash]);
    assert_eq!(
        h.store.remove_stale_staging(Duration::ZERO).await.unwrap(),
        0
    );
}

/// An unsynced put of bytes already stored rewrites the blob like any put,
/// so the orphan sweep's grace period starts again (on Fs a small one goes
/// through staging and a rename when the key exists).
async fn an_unsynced_put_of_stored_bytes_makes_the_blob_young_again(h: &Harness) {
    let first = h.store.put(body_of(&[b"reused"]), None).await.unwrap();
    let modified = |store: BlobStore, hash: String| async move {
        store.stat(&hash).await.unwrap().unwrap().modified.unwrap()
    };
    let was = modified(h.store.clone(), first.hash.clone()).await;
    // More than S3's one-second resolution.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let second = h
        .store
        .put_observed_unsynced(body_of(&[b"reused"]), None, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(first, second);
    h.store.finish_unsynced().await.unwrap();
    let is = modified(h.store.clone(), first.hash.clone()).await;
    assert!(
        is > was,
        "modified at {was:?}, then {is:?} after a second put"
    );
    assert_eq!(
        read_all(h.store.get(&first.hash, None).await.unwrap()).await,
        b"reused"
    );
    assert_eq!(
        h.store.remove_stale_staging(Duration::ZERO).await.unwrap(),
        0
    );
}

/// `all_stored`: true only when every blob named is stored.
async fn all_stored_checks_every_blob(h: &Harness) {
    let a = h.store.put(body_of(&[b"first"]), None).await.unwrap().hash;
    let b = h.store.put(body_of(&[b"second"]), None).await.unwrap().hash;
    let absent = "0".repeat(64);
    assert!(h.store.all_stored(&[]).await.unwrap());
    assert!(h.store.all_stored(&[a.clone(), b.clone()]).await.unwrap());
    assert!(
        !h.store
            .all_stored(&[a.clone(), absent, b.clone()])
            .await
            .unwrap()
    );
    h.store.delete(&b).await.unwrap();
    assert!(!h.store.all_stored(&[a.clone(), b]).await.unwrap());
    let err = h
        .store
        .all_stored(&[a, "../etc/passwd".to_owned()])
        .await
        .unwrap_err();
    assert!(matches!(err, BlobError::InvalidHash(_)), "{err:?}");
}

behaviour_suite!(
    round_trip,
    sha256_matches_known_vectors,
    same_bytes_are_stored_once,
    too_large_leaves_nothing_behind,
    too_large_after_uploaded_parts_leaves_nothing_behind,
    failing_body_leaves_nothing_behind,
    range_reads_return_exactly_the_range,
    absent_blobs_are_not_found,
    invalid_hashes_are_rejected,
    delete_is_idempotent,
    list_hashes_lists_every_blob,
    multi_megabyte_put_streams_through,
    concurrent_puts_of_the_same_bytes_agree,
    observer_sees_every_chunk_in_order,
    interrupted_put_leaves_only_stale_staging,
    list_blobs_streams_every_blob_with_its_size_and_age,
    a_put_of_stored_bytes_makes_the_blob_young_again,
    stale_staging_is_told_from_fresh_by_its_age,
    delete_if_written_before_deletes_only_old_blobs,
    unsynced_puts_then_one_sync_store_the_same_blobs,
    large_unsynced_puts_stream_and_fail_cleanly,
    all_stored_checks_every_blob,
    many_small_unsynced_puts_are_all_stored,
    a_put_replaces_a_half_written_blob,
    an_unsynced_put_of_stored_bytes_makes_the_blob_young_again,
);
