//! Where blobs are stored: a local directory or an S3 bucket, parsed from one
//! URL so that only configuration picks the backend.
//!
//! Accepted forms:
//! - `file:///abs/dir` or a bare path (`./data/blobs`, `/var/lib/folio`): a
//!   local directory;
//! - `s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1`: an
//!   S3 bucket (AWS or any S3-compatible server). Credentials come from
//!   `s3://KEY_ID:SECRET@bucket/...` if given, else from `AWS_ACCESS_KEY_ID`
//!   and `AWS_SECRET_ACCESS_KEY`, else from OpenDAL's default AWS chain
//!   (profile, instance metadata). The region falls back to `AWS_REGION`,
//!   `AWS_DEFAULT_REGION`, then `us-east-1`.

use std::fmt;
use std::path::PathBuf;

use url::Url;

use crate::BlobError;

/// The region used when neither the URL nor the environment names one.
const DEFAULT_REGION: &str = "us-east-1";

/// Where a [`crate::BlobStore`] keeps its bytes.
#[derive(Clone, PartialEq, Eq)]
pub enum BlobConfig {
    /// A local directory, created on open.
    Fs {
        /// The directory that holds `blobs/` and `staging/`.
        root: PathBuf,
    },
    /// An S3 bucket, or a folder of one.
    S3 {
        /// The S3 endpoint, e.g. `http://127.0.0.1:9000`; `None` means AWS.
        endpoint: Option<String>,
        /// The bucket name.
        bucket: String,
        /// The bucket's region.
        region: String,
        /// The folder inside the bucket, without leading or trailing `/`;
        /// empty for the bucket root.
        prefix: String,
        /// Static credentials; `None` defers to the default AWS chain.
        access_key_id: Option<String>,
        /// Static credentials; `None` defers to the default AWS chain.
        secret_access_key: Option<String>,
    },
}

impl BlobConfig {
    /// Parses a storage URL (see the module docs for the accepted forms).
    ///
    /// # Errors
    ///
    /// [`BlobError::Config`] naming what is wrong: an empty URL, an unknown
    /// scheme, a relative `file://` URL, an S3 URL without a bucket, an
    /// unknown query parameter, or half of a credential pair.
    pub fn parse_url(url: &str) -> Result<Self, BlobError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(config_error("the blob storage URL is empty"));
        }
        if !url.contains("://") {
            return Ok(BlobConfig::Fs {
                root: PathBuf::from(url),
            });
        }
        let parsed = Url::parse(url)
            .map_err(|e| config_error(format!("{:?} is not a valid URL: {e}", redact(url))))?;
        match parsed.scheme() {
            "file" => parse_file_url(&parsed),
            "s3" => parse_s3_url(&parsed),
            other => Err(config_error(format!(
                "unsupported blob storage scheme {other:?}: use file:///dir, a bare path, or s3://bucket/prefix"
            ))),
        }
    }

    /// Where the blobs are, for messages and logs; never holds credentials.
    /// `/abs/dir` for Fs, `s3://bucket/prefix at endpoint` for S3.
    pub fn location(&self) -> String {
        match self {
            BlobConfig::Fs { root } => root.display().to_string(),
            BlobConfig::S3 {
                endpoint,
                bucket,
                prefix,
                ..
            } => {
                let at = endpoint.as_deref().unwrap_or("AWS");
                format!("s3://{bucket}/{prefix} at {at}")
            }
        }
    }
}

fn parse_file_url(url: &Url) -> Result<BlobConfig, BlobError> {
    let root = url.to_file_path().map_err(|()| {
        config_error(format!(
            "{url} is not an absolute local path: write file:///abs/dir, or a bare relative path"
        ))
    })?;
    Ok(BlobConfig::Fs { root })
}

fn parse_s3_url(url: &Url) -> Result<BlobConfig, BlobError> {
    let bucket = url
        .host_str()
        .filter(|bucket| !bucket.is_empty())
        .ok_or_else(|| config_error("the S3 URL names no bucket: write s3://bucket/prefix"))?
        .to_owned();
    let prefix = percent_decode(url.path())?.trim_matches('/').to_owned();
    let query = S3Query::parse(url)?;
    let (access_key_id, secret_access_key) = credentials(url)?;
    Ok(BlobConfig::S3 {
        endpoint: query.endpoint,
        bucket,
        region: query.region.unwrap_or_else(region_from_env),
        prefix,
        access_key_id,
        secret_access_key,
    })
}

/// The query parameters an S3 URL may carry.
#[derive(Default)]
struct S3Query {
    endpoint: Option<String>,
    region: Option<String>,
}

impl S3Query {
    fn parse(url: &Url) -> Result<Self, BlobError> {
        let mut query = S3Query::default();
        for (name, value) in url.query_pairs() {
            let value = Some(value.into_owned()).filter(|v| !v.is_empty());
            match name.as_ref() {
                "endpoint" => query.endpoint = value.map(|v| v.trim_end_matches('/').to_owned()),
                "region" => query.region = value,
                other => {
                    return Err(config_error(format!(
                        "unknown S3 URL parameter {other:?}: only endpoint and region are accepted"
                    )));
                }
            }
        }
        Ok(query)
    }
}

/// Credentials from the URL's user info, else from the standard AWS variables.
fn credentials(url: &Url) -> Result<(Option<String>, Option<String>), BlobError> {
    let from_url = (
        Some(percent_decode(url.username())?).filter(|v| !v.is_empty()),
        url.password().map(percent_decode).transpose()?,
    );
    let (key, secret) = match from_url {
        (None, None) => (
            env_var("AWS_ACCESS_KEY_ID"),
            env_var("AWS_SECRET_ACCESS_KEY"),
        ),
        pair => pair,
    };
    if key.is_some() != secret.is_some() {
        return Err(config_error(
            "S3 credentials need both an access key id and a secret access key \
             (in the URL as s3://KEY_ID:SECRET@bucket, or in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
        ));
    }
    Ok((key, secret))
}

fn region_from_env() -> String {
    env_var("AWS_REGION")
        .or_else(|| env_var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| DEFAULT_REGION.to_owned())
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn percent_decode(s: &str) -> Result<String, BlobError> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| config_error("the S3 URL holds percent-encoded bytes that are not UTF-8"))
}

/// Hides the user info of a URL before it is put in an error message.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***{}", &url[..scheme_end], &url[at..])
        }
        _ => url.to_owned(),
    }
}

fn config_error(message: impl Into<String>) -> BlobError {
    BlobError::Config(message.into())
}

/// Shows everything but the secret access key.
impl fmt::Debug for BlobConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobConfig::Fs { root } => f.debug_struct("Fs").field("root", root).finish(),
            BlobConfig::S3 {
                endpoint,
                bucket,
                region,
                prefix,
                access_key_id,
                secret_access_key,
            } => f
                .debug_struct("S3")
                .field("endpoint", endpoint)
                .field("bucket", bucket)
                .field("region", region)
                .field("prefix", prefix)
                .field("access_key_id", access_key_id)
                .field(
                    "secret_access_key",
                    &secret_access_key.as_ref().map(|_| "***"),
                )
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(url: &str) -> (Option<String>, String, String, String) {
        match BlobConfig::parse_url(url).unwrap() {
            BlobConfig::S3 {
                endpoint,
                bucket,
                region,
                prefix,
                ..
            } => (endpoint, bucket, region, prefix),
            other => panic!("expected S3, got {other:?}"),
        }
    }

    #[test]
    fn file_urls_and_bare_paths_are_local_directories() {
        let expect = |root: &str| BlobConfig::Fs {
            root: PathBuf::from(root),
        };
        assert_eq!(
            BlobConfig::parse_url("file:///var/lib/folio").unwrap(),
            expect("/var/lib/folio")
        );
        assert_eq!(
            BlobConfig::parse_url("./data/blobs").unwrap(),
            expect("./data/blobs")
        );
        assert_eq!(
            BlobConfig::parse_url("/srv/blobs").unwrap(),
            expect("/srv/blobs")
        );
    }

    #[test]
    fn s3_urls_carry_bucket_prefix_endpoint_and_region() {
        let (endpoint, bucket, region, prefix) =
            s3("s3://folio/a/b/?endpoint=http://127.0.0.1:9000/&region=eu-west-3");
        assert_eq!(endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(bucket, "folio");
        assert_eq!(region, "eu-west-3");
        assert_eq!(prefix, "a/b");
        assert_eq!(s3("s3://folio").3, "");
    }

    #[test]
    fn s3_credentials_in_the_url_win() {
        let config = BlobConfig::parse_url("s3://AKID:se%2Fcret@folio/p?region=us-east-1").unwrap();
        let BlobConfig::S3 {
            access_key_id,
            secret_access_key,
            ..
        } = &config
        else {
            panic!("expected S3");
        };
        assert_eq!(access_key_id.as_deref(), Some("AKID"));
        assert_eq!(secret_access_key.as_deref(), Some("se/cret"));
        assert!(
            !format!("{config:?}").contains("se/cret"),
            "Debug must hide the secret"
        );
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        let message = |url: &str| BlobConfig::parse_url(url).unwrap_err().to_string();
        assert!(message("").contains("empty"));
        assert!(message("gs://bucket").contains("unsupported blob storage scheme \"gs\""));
        assert!(message("s3:///prefix").contains("no bucket"));
        assert!(message("s3://b/p?endpont=x").contains("unknown S3 URL parameter \"endpont\""));
        assert!(message("s3://AKID@b/p").contains("both an access key id and a secret"));
        assert!(!message("s3://AKID:secret@b/p?x=1").contains("secret@"));
    }
}
