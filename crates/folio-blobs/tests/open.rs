//! Opening a store: what succeeds, and that misconfiguration fails at once
//! with an error that says where.

mod support;

use folio_blobs::{BlobConfig, BlobError, BlobStore};
use support::S3_URL_VAR;

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
        support::say_s3_not_run("s3_open_fails_for_a_missing_bucket");
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
