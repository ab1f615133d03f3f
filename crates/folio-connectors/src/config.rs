//! [`ConnectorConfig`] and the factory [`connector_for`], the one place that
//! picks a concrete connector and stacks the layers around it.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use url::Url;

use crate::layers::{RateLimit, Retry, RetryPolicy, Traced};
use crate::{AccessTokenSource, Connector, ConnectorError, ExportInfo, ProviderKind, Source};

/// How Google-native documents are exported: native MIME type to target.
/// Default: Docs to docx, Sheets to xlsx, Slides to pptx, Drawings to pdf.
/// Types not in the map (forms, sites, maps) are not downloadable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFormats(pub HashMap<String, ExportInfo>);

impl Default for ExportFormats {
    fn default() -> Self {
        let ooxml = "application/vnd.openxmlformats-officedocument";
        let pairs = [
            (
                "document",
                format!("{ooxml}.wordprocessingml.document"),
                "docx",
            ),
            (
                "spreadsheet",
                format!("{ooxml}.spreadsheetml.sheet"),
                "xlsx",
            ),
            (
                "presentation",
                format!("{ooxml}.presentationml.presentation"),
                "pptx",
            ),
            ("drawing", "application/pdf".to_owned(), "pdf"),
        ];
        Self(
            pairs
                .into_iter()
                .map(|(kind, mime, ext)| {
                    (
                        format!("{}{kind}", crate::gdrive::GOOGLE_APPS_PREFIX),
                        ExportInfo {
                            mime_type: mime,
                            extension: ext.to_owned(),
                        },
                    )
                })
                .collect(),
        )
    }
}

impl ExportFormats {
    /// The export for a native MIME type, if configured.
    pub fn for_mime(&self, native: &str) -> Option<&ExportInfo> {
        self.0.get(native)
    }
}

/// Everything a connector needs besides tokens.
#[derive(Debug, Clone)]
pub struct ConnectorConfig {
    /// One base URL for every API host of the provider (the integration's
    /// `apiUri`; cloudsim's base in tests). `None`: the real hosts
    /// (`https://www.googleapis.com`, `https://graph.microsoft.com`,
    /// `https://api.dropboxapi.com` + `https://content.dropboxapi.com`).
    pub api_base: Option<Url>,
    /// The library's `source`.
    pub source: Source,
    /// Export targets for Google-native documents.
    pub export_formats: ExportFormats,
    /// Items per listing page (clamped to each provider's maximum:
    /// Drive 1000, Graph delta 2000, Dropbox 2000). Default 1000.
    pub page_size: u32,
    /// The HTTP client (timeouts, TLS roots, proxy are its business).
    pub http: reqwest::Client,
    /// Retry policy of the [`Retry`] layer; `None` disables retries.
    pub retry: Option<RetryPolicy>,
    /// Requests per second for the [`RateLimit`] layer; `None`: no limit.
    pub rate_limit_per_second: Option<NonZeroU32>,
}

/// How long connecting to a provider may take.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// How long a provider may stay silent mid-request (headers or body bytes)
/// before the request fails as timed out; a slow but moving download is
/// never cut.
pub const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// A client that cannot hang on a silent provider.
fn default_http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .build()
        .unwrap_or_default()
}

impl ConnectorConfig {
    /// Defaults for a source: real hosts, default exports, pages of 1000,
    /// default retry policy, no rate limit.
    pub fn new(source: Source) -> Self {
        Self {
            api_base: None,
            source,
            export_formats: ExportFormats::default(),
            page_size: 1000,
            http: default_http_client(),
            retry: Some(RetryPolicy::default()),
            rate_limit_per_second: None,
        }
    }

    /// The base for a provider host: the override, else `default`.
    pub(crate) fn base_or(&self, default: &str) -> Result<Url, ConnectorError> {
        let url = match &self.api_base {
            Some(u) => u.clone(),
            None => Url::parse(default).map_err(|e| {
                ConnectorError::Permanent(format!("bad default base {default}: {e}"))
            })?,
        };
        if url.cannot_be_a_base() || !matches!(url.scheme(), "http" | "https") {
            return Err(ConnectorError::Permanent(format!(
                "API base {url} is not an http(s) base URL"
            )));
        }
        Ok(url)
    }
}

/// Builds the connector for a provider, wrapped in its layers (from the
/// outside in): [`Traced`] (one span per call), [`Retry`] (temporary errors,
/// honouring `Retry-After`), [`RateLimit`] (every attempt waits its turn),
/// then the provider's backend.
///
/// Errors: [`ConnectorError::Permanent`] when the source does not fit the
/// provider (SharePoint without `siteId` or `driveId`, a Dropbox `folderId`).
pub fn connector_for(
    kind: ProviderKind,
    config: ConnectorConfig,
    tokens: Arc<dyn AccessTokenSource>,
) -> Result<Box<dyn Connector>, ConnectorError> {
    let backend = bare_connector(kind, &config, tokens)?;
    let limited: Box<dyn Connector> = match config.rate_limit_per_second {
        Some(n) => Box::new(RateLimit::new(backend, n)),
        None => backend,
    };
    let retried: Box<dyn Connector> = match config.retry {
        Some(policy) => Box::new(Retry::new(limited, policy)),
        None => limited,
    };
    Ok(Box::new(Traced::new(retried, kind)))
}

/// The provider's backend alone, without layers (tests of the layers use it).
pub fn bare_connector(
    kind: ProviderKind,
    config: &ConnectorConfig,
    tokens: Arc<dyn AccessTokenSource>,
) -> Result<Box<dyn Connector>, ConnectorError> {
    Ok(match kind {
        ProviderKind::GoogleDrive => Box::new(crate::gdrive::GdriveBackend::new(config, tokens)?),
        ProviderKind::OneDrive => Box::new(crate::onedrive::OneDriveBackend::new(config, tokens)?),
        ProviderKind::SharePoint => {
            Box::new(crate::sharepoint::SharePointBackend::new(config, tokens)?)
        }
        ProviderKind::Dropbox => Box::new(crate::dropbox::DropboxBackend::new(config, tokens)?),
    })
}
