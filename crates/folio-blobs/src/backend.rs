//! Builds the OpenDAL operator for a [`BlobConfig`]: the only place that knows
//! which services exist. Everything else talks to a plain `Operator`.
//!
//! Layer stack, outermost first:
//!
//! 1. `RetryLayer`, ours (jittered exponential backoff, [`RETRY_ATTEMPTS`]
//!    retries, temporary errors only: network errors, 5xx, S3 `SlowDown`).
//!    It wraps the service, *under* the `Writer`'s chunking, so a write
//!    retry re-sends one buffered chunk (S3: a failed multipart part is
//!    re-sent from the part buffer OpenDAL still holds), and a read stream
//!    that breaks is re-opened at the offset already delivered. No retry
//!    re-reads the caller's body or buffers more than a chunk, so streaming
//!    and bounded memory hold.
//! 2. OpenDAL's built-in layers, added by `Operator::new` (error context,
//!    capability completion, correctness checks).
//! 3. the service: `Fs` or `S3`.

use std::time::Duration;

use opendal::Operator;
use opendal::layers::RetryLayer;
use opendal::services::{Fs, S3};

use crate::BlobError;
use crate::config::BlobConfig;
use crate::error::BackendContext;

/// How many times a temporary backend failure is retried.
pub(crate) const RETRY_ATTEMPTS: usize = 4;

/// Builds the operator for `config`; creates the directory of an Fs store.
pub(crate) fn build_operator(config: &BlobConfig) -> Result<Operator, BlobError> {
    // S3 needs an HTTP transport; this installs reqwest as the process default
    // unless the application installed one first. Idempotent.
    opendal::install_default();
    let operator = match config {
        BlobConfig::Fs { root } => fs_operator(root)?,
        BlobConfig::S3 { .. } => s3_operator(config)?,
    };
    Ok(operator.layer(retry_layer()))
}

fn retry_layer() -> RetryLayer {
    RetryLayer::new()
        .with_jitter()
        .with_max_times(RETRY_ATTEMPTS)
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(5))
}

fn fs_operator(root: &std::path::Path) -> Result<Operator, BlobError> {
    let root = root.to_str().ok_or_else(|| {
        BlobError::Config(format!(
            "blob directory {} is not valid UTF-8",
            root.display()
        ))
    })?;
    if root.is_empty() {
        return Err(BlobError::Config("blob directory path is empty".to_owned()));
    }
    // The builder creates the root directory when it is missing.
    let operator = Operator::new(Fs::default().root(root))
        .backend(|| format!("open blob directory {root}"))?;
    if !std::path::Path::new(root).is_dir() {
        return Err(BlobError::Config(format!(
            "blob directory {root} is not a directory"
        )));
    }
    Ok(operator)
}

fn s3_operator(config: &BlobConfig) -> Result<Operator, BlobError> {
    let BlobConfig::S3 {
        endpoint,
        bucket,
        region,
        prefix,
        access_key_id,
        secret_access_key,
    } = config
    else {
        return Err(BlobError::Config("expected an S3 configuration".to_owned()));
    };
    let mut builder = S3::default()
        .bucket(bucket)
        .region(region)
        .root(&format!("/{prefix}"));
    if let Some(endpoint) = endpoint {
        builder = builder.endpoint(endpoint);
    }
    if let (Some(key), Some(secret)) = (access_key_id, secret_access_key) {
        builder = builder.access_key_id(key).secret_access_key(secret);
    }
    Operator::new(builder).backend(|| format!("open S3 bucket {bucket:?}"))
}
