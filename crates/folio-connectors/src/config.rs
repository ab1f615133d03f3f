//! [`ConnectorConfig`] and the factory [`connector_for`], the one place that
//! picks a concrete connector and stacks the layers around it.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use url::Url;

use crate::layers::{Paced, Pacer, RateLimit, Retry, RetryPolicy, Traced};
use crate::{AccessTokenSource, Connector, ConnectorError, ExportInfo, ProviderKind, Source};

/// How Google-native documents are exported: native MIME type to target.
/// Default: Docs to docx, Sheets to xlsx, Slides to pptx, Drawings to pdf.
/// Types not in the map (forms, sites, maps) are not downloadable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFormats(pub HashMap<String, ExportInfo>);

/// The targets Drive exports each kind of native document to, by file
/// extension (Drive API guide, "Export MIME types for Google Workspace
/// documents"); the first of each kind is the default. OpenDocument
/// spreadsheets use the type `about.exportFormats` lists
/// (`application/x-vnd.oasis...`).
const DRIVE_EXPORTS: &[(&str, &[(&str, &str)])] = &[
    (
        "document",
        &[
            (
                "docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ),
            ("odt", "application/vnd.oasis.opendocument.text"),
            ("rtf", "application/rtf"),
            ("pdf", "application/pdf"),
            ("txt", "text/plain"),
            ("html", "text/html"),
            ("epub", "application/epub+zip"),
            ("md", "text/markdown"),
        ],
    ),
    (
        "spreadsheet",
        &[
            (
                "xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            ("ods", "application/x-vnd.oasis.opendocument.spreadsheet"),
            ("pdf", "application/pdf"),
            ("csv", "text/csv"),
            ("tsv", "text/tab-separated-values"),
        ],
    ),
    (
        "presentation",
        &[
            (
                "pptx",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            ),
            ("odp", "application/vnd.oasis.opendocument.presentation"),
            ("pdf", "application/pdf"),
            ("txt", "text/plain"),
        ],
    ),
    (
        "drawing",
        &[
            ("pdf", "application/pdf"),
            ("png", "image/png"),
            ("jpg", "image/jpeg"),
            ("svg", "image/svg+xml"),
        ],
    ),
];

impl Default for ExportFormats {
    fn default() -> Self {
        Self(
            DRIVE_EXPORTS
                .iter()
                .map(|(kind, targets)| native_entry(kind, targets[0]))
                .collect(),
        )
    }
}

fn native_entry(kind: &str, (extension, mime): (&str, &str)) -> (String, ExportInfo) {
    (
        format!("{}{kind}", crate::gdrive::GOOGLE_APPS_PREFIX),
        ExportInfo {
            mime_type: mime.to_owned(),
            extension: extension.to_owned(),
        },
    )
}

impl ExportFormats {
    /// The export for a native MIME type, if configured.
    pub fn for_mime(&self, native: &str) -> Option<&ExportInfo> {
        self.0.get(native)
    }

    /// The defaults with the choices of `spec` instead: comma-separated
    /// `kind=extension` pairs, the kind one of `document`, `spreadsheet`,
    /// `presentation`, `drawing` (`document=pdf,spreadsheet=csv`). An empty
    /// spec keeps the defaults.
    ///
    /// # Errors
    ///
    /// A message naming the pair that is not a kind, or not a format Drive
    /// exports that kind to, with the choices.
    pub fn with_choices(spec: &str) -> Result<Self, String> {
        let mut formats = Self::default();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kind, extension) = pair
                .split_once('=')
                .map(|(k, e)| (k.trim(), e.trim().trim_start_matches('.')))
                .ok_or_else(|| format!("'{pair}' is not kind=extension"))?;
            let targets = DRIVE_EXPORTS
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, targets)| *targets)
                .ok_or_else(|| {
                    let kinds: Vec<&str> = DRIVE_EXPORTS.iter().map(|(k, _)| *k).collect();
                    format!("'{kind}' is not one of {}", kinds.join(", "))
                })?;
            let target = targets
                .iter()
                .find(|(e, _)| e.eq_ignore_ascii_case(extension))
                .ok_or_else(|| {
                    let choices: Vec<&str> = targets.iter().map(|(e, _)| *e).collect();
                    format!(
                        "Drive does not export a {kind} as '{extension}'; choose one of {}",
                        choices.join(", ")
                    )
                })?;
            let (native, info) = native_entry(kind, *target);
            formats.0.insert(native, info);
        }
        Ok(formats)
    }

    /// The MIME type Drive exports to for a file extension of
    /// [`DRIVE_EXPORTS`] (the same for every kind that has it).
    pub fn mime_of_extension(extension: &str) -> Option<&'static str> {
        DRIVE_EXPORTS
            .iter()
            .flat_map(|(_, targets)| targets.iter())
            .find(|(e, _)| *e == extension)
            .map(|(_, mime)| *mime)
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
    /// The connection's pace, shared with its other connectors (so one
    /// sync's throttling slows the next); `None`: a pacer of its own.
    pub pacer: Option<Arc<Pacer>>,
}

/// How long connecting to a provider may take.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);
/// How long a provider may stay silent mid-request (headers or body bytes)
/// before the request fails as timed out; a slow but moving download is
/// never cut.
pub const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// A client that cannot hang on a silent provider. Building one loads the
/// TLS roots (a few milliseconds): a server builds it once and hands it to
/// every sync's [`ConnectorConfig::with_http`], which also lets syncs reuse
/// pooled connections.
pub fn provider_http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .build()
        .unwrap_or_default()
}

impl ConnectorConfig {
    /// Defaults for a source: real hosts, default exports, pages of 1000,
    /// default retry policy, no rate limit, a new
    /// [`provider_http_client`].
    pub fn new(source: Source) -> Self {
        Self::with_http(source, provider_http_client())
    }

    /// The defaults of [`ConnectorConfig::new`] with the given client.
    pub fn with_http(source: Source, http: reqwest::Client) -> Self {
        Self {
            api_base: None,
            source,
            export_formats: ExportFormats::default(),
            page_size: 1000,
            http,
            retry: Some(RetryPolicy::default()),
            rate_limit_per_second: None,
            pacer: None,
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
/// honouring `Retry-After`), [`Paced`] (every attempt waits its turn at the
/// connection's pacer), [`RateLimit`] (when configured), then the
/// provider's backend.
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
    let pacer = config.pacer.clone().unwrap_or_default();
    let paced: Box<dyn Connector> = Box::new(Paced::new(limited, pacer));
    let retried: Box<dyn Connector> = match config.retry {
        Some(policy) => Box::new(Retry::new(paced, policy)),
        None => paced,
    };
    Ok(Box::new(Traced::new(retried, kind)))
}

/// The provider's backend alone, without layers (tests of the layers use it).
pub fn bare_connector(
    kind: ProviderKind,
    config: &ConnectorConfig,
    tokens: Arc<dyn AccessTokenSource>,
) -> Result<Box<dyn Connector>, ConnectorError> {
    (crate::registry::profile(kind).connect)(config, tokens)
}

#[cfg(test)]
mod export_tests {
    use super::ExportFormats;

    const DOC: &str = "application/vnd.google-apps.document";
    const SHEET: &str = "application/vnd.google-apps.spreadsheet";

    #[test]
    fn defaults_are_office_formats_and_pdf() {
        let formats = ExportFormats::default();
        let ext = |native: &str| formats.for_mime(native).map(|e| e.extension.clone());
        assert_eq!(ext(DOC).as_deref(), Some("docx"));
        assert_eq!(ext(SHEET).as_deref(), Some("xlsx"));
        assert_eq!(
            ext("application/vnd.google-apps.presentation").as_deref(),
            Some("pptx")
        );
        assert_eq!(
            ext("application/vnd.google-apps.drawing").as_deref(),
            Some("pdf")
        );
        assert_eq!(ext("application/vnd.google-apps.form"), None);
    }

    #[test]
    fn choices_replace_the_defaults_of_their_kind_only() {
        let formats = ExportFormats::with_choices(" document=pdf, spreadsheet=.CSV ").unwrap();
        let doc = formats.for_mime(DOC).unwrap();
        assert_eq!(
            (doc.extension.as_str(), doc.mime_type.as_str()),
            ("pdf", "application/pdf")
        );
        let sheet = formats.for_mime(SHEET).unwrap();
        assert_eq!(
            (sheet.extension.as_str(), sheet.mime_type.as_str()),
            ("csv", "text/csv")
        );
        assert_eq!(
            formats
                .for_mime("application/vnd.google-apps.presentation")
                .map(|e| e.extension.as_str()),
            Some("pptx")
        );
        assert_eq!(
            ExportFormats::with_choices("").unwrap(),
            ExportFormats::default()
        );
    }

    #[test]
    fn choices_drive_cannot_make_are_refused_with_the_options() {
        let err = ExportFormats::with_choices("spreadsheet=docx").unwrap_err();
        assert!(err.contains("csv") && err.contains("xlsx"), "{err}");
        let err = ExportFormats::with_choices("form=pdf").unwrap_err();
        assert!(err.contains("'form'") && err.contains("drawing"), "{err}");
        assert!(ExportFormats::with_choices("document").is_err());
    }

    #[test]
    fn extensions_name_their_mime_type() {
        assert_eq!(ExportFormats::mime_of_extension("csv"), Some("text/csv"));
        assert_eq!(
            ExportFormats::mime_of_extension("pdf"),
            Some("application/pdf")
        );
        assert_eq!(ExportFormats::mime_of_extension("exe"), None);
    }
}
