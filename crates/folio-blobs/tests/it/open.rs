//! Opening a store: what succeeds, and that misconfiguration fails at once
//! with an error that says where.

use folio_blobs::{BlobConfig, BlobError, BlobStore};
use futures::StreamExt;

use crate::support::S3_URL_VAR;

#[tokio::test]
async fn fs_open_creates_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("a/b/c");
    let url = format!("file://{}", root.display());
    BlobStore::open(&BlobConfig::parse_url(&url).unwrap())
        .await
        .unwrap();
    assert!(root.is_dir());
}

/// A directory written by an earlier Folio (`blobs/ab/cd/<hash>`) is moved
/// to the one-level layout when opened, and serves its blobs as before.
#[tokio::test]
async fn fs_open_moves_a_two_level_store_to_one_level() {
    use futures::TryStreamExt;
    let dir = tempfile::tempdir().unwrap();
    let config = BlobConfig::Fs {
        root: dir.path().to_path_buf(),
    };
    // sha256("abc")
    let hash = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    let old = dir.path().join("blobs/ba/78");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join(hash), b"abc").unwrap();

    let store = BlobStore::open(&config).await.unwrap();
    assert!(dir.path().join("blobs/ba").join(hash).is_file());
    assert!(!old.exists());
    let bytes: Vec<bytes::Bytes> = store
        .get(hash, None)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(bytes.concat(), b"abc");
    assert_eq!(store.list_hashes().await.unwrap(), [hash]);
    let stored = store
        .put(
            futures::stream::iter([Ok(bytes::Bytes::from_static(b"abc"))]).boxed(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(stored.hash, hash);
    assert_eq!(store.list_hashes().await.unwrap(), [hash], "one copy");
}

#[tokio::test]
async fn fs_open_fails_when_the_root_is_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = BlobStore::open(&BlobConfig::Fs { root: file })
        .await
        .unwrap_err();
    assert!(matches!(err, BlobError::Config(_)), "{err:?}");
    assert!(
        err.to_string().contains("not-a-dir is not a directory"),
        "{err}"
    );
}

#[tokio::test]
async fn s3_open_fails_for_a_missing_bucket() {
    let Some(url) = std::env::var(S3_URL_VAR).ok().filter(|v| !v.is_empty()) else {
        crate::support::say_s3_not_run("s3_open_fails_for_a_missing_bucket");
        return;
    };
    let BlobConfig::S3 {
        endpoint,
        region,
        access_key_id,
        secret_access_key,
        ..
    } = BlobConfig::parse_url(&url).unwrap()
    else {
        panic!("{S3_URL_VAR} must be an s3:// URL");
    };
    let missing = BlobConfig::S3 {
        endpoint,
        bucket: format!("folio-missing-{}", uuid::Uuid::new_v4()),
        region,
        prefix: String::new(),
        access_key_id,
        secret_access_key,
    };
    let err = BlobStore::open(&missing).await.unwrap_err();
    assert!(matches!(err, BlobError::Backend { .. }), "{err:?}");
    assert!(
        err.to_string().contains("folio-missing-"),
        "the error names the bucket: {err}"
    );
}

#[test]
fn locations_never_show_credentials() {
    let config =
        BlobConfig::parse_url("s3://KEY:SECRET@bucket/some/prefix?endpoint=http://127.0.0.1:9000")
            .unwrap();
    assert_eq!(
        config.location(),
        "s3://bucket/some/prefix at http://127.0.0.1:9000"
    );
}

/// A queued small write that fails (its blob directory is a file) is
/// reported by `sync_written`, leaves no staging file, and does not keep
/// the other blobs of its batch from being stored.
#[tokio::test]
async fn fs_a_failed_queued_write_is_reported_by_sync_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(&BlobConfig::Fs {
        root: dir.path().to_path_buf(),
    })
    .await
    .unwrap();
    let body = |bytes: &'static [u8]| {
        futures::stream::iter([Ok(bytes::Bytes::from_static(bytes))]).boxed()
    };
    // sha256("abc") starts with "ba": make blobs/ba a file.
    std::fs::create_dir_all(dir.path().join("blobs")).unwrap();
    std::fs::write(dir.path().join("blobs/ba"), b"in the way").unwrap();
    let doomed = store
        .put_observed_unsynced(body(b"abc"), None, &mut |_| {})
        .await
        .unwrap();
    let fine = store
        .put_observed_unsynced(body(b"other bytes"), None, &mut |_| {})
        .await
        .unwrap();
    assert!(!fine.hash.starts_with("ba"));
    let err = store.sync_written().await.unwrap_err();
    assert!(matches!(err, BlobError::Backend { .. }), "{err:?}");
    let cause = std::error::Error::source(&err).map(ToString::to_string);
    assert!(
        cause.as_deref().is_some_and(|c| c.contains(&doomed.hash)),
        "{err}: {cause:?}"
    );
    assert!(store.exists(&fine.hash).await.unwrap());
    // New keys are written in place: the staging folder may not exist.
    let staging: Vec<_> = std::fs::read_dir(dir.path().join("staging"))
        .map(|entries| entries.collect())
        .unwrap_or_default();
    assert!(staging.is_empty(), "{staging:?}");
    store.sync_written().await.unwrap();
}
