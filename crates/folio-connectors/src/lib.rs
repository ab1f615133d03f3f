//! Folio's provider connectors: one [`Connector`] trait, a [`Capability`]
//! value per provider, one error vocabulary ([`ConnectorError`]), and one
//! folder per provider with the same files (`backend.rs` thin and
//! implementing the trait, `model.rs` wire structs, `core.rs` requests,
//! `lister.rs` paging and cursors, `error.rs` the one `parse_error`).
//!
//! Reading order:
//! 1. [`connector`]: the contract ([`Connector`], [`AccessTokenSource`]).
//! 2. [`types`], [`capability`], [`error`], [`hash`]: what crosses it.
//! 3. [`registry`]: one [`ProviderProfile`] per provider (OAuth facts,
//!    [`Capability`], backend), each kept in its provider's folder
//!    (`profile.rs`); [`config`]: [`ConnectorConfig`] and the factory
//!    [`connector_for`].
//! 4. [`layers`]: retry, rate limit, tracing, and their order.
//! 5. The providers: [`gdrive`], [`msgraph`] (with [`onedrive`] and
//!    [`sharepoint`] on top), [`dropbox`].
//!
//! The crate depends on no Folio crate but `folio-domain` (for the
//! library `source` shape, [`ProviderKind`] and the OAuth profile's type). Tests run every connector against cloudsim.

pub mod capability;
pub mod config;
pub mod connector;
pub mod dropbox;
pub mod error;
pub mod gdrive;
pub mod hash;
mod http;
pub mod layers;
pub mod metrics;
pub mod msgraph;
pub mod onedrive;
pub mod registry;
pub mod sharepoint;
pub mod types;

pub use capability::{Capability, ChangeFeedKind, FeedScope};
pub use config::{
    ConnectorConfig, ExportFormats, bare_connector, connector_for, provider_http_client,
};
pub use connector::{AccessTokenSource, ByteStream, Connector};
pub use error::{ConnectorError, cause_chain, describe_request_error};
pub use hash::{HashKind, HashKindExt, RemoteHash, RemoteHashExt, Verifier};
pub use http::parse_retry_after;
pub use registry::{ProviderProfile, profile};
pub use types::{
    AccountInfo, ChangePage, Cursor, ExportInfo, PageState, ProviderKind, RemoteChange,
    RemoteFolder, RemoteItem, RemoteRoot, ShortcutTarget, Source,
};
