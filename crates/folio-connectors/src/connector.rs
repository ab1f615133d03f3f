//! The contract: [`Connector`] (what the sync engine calls) and
//! [`AccessTokenSource`] (what the connectors call for tokens).

use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;

use crate::{
    AccountInfo, Capability, ChangePage, ConnectorError, Cursor, RemoteFolder, RemoteItem,
    RemoteRoot,
};

/// A download: chunks in order, never the whole file in memory. An error
/// in the middle ends the stream (the engine discards the partial file).
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, ConnectorError>> + Send>>;

/// One provider account, scoped to one library `source`.
///
/// Every method may fail with [`ConnectorError::Unauthorized`] (401 after one
/// refresh), [`ConnectorError::NeedsReauthorization`] (the token source says
/// the grant is gone), [`ConnectorError::RateLimited`] /
/// [`ConnectorError::Temporary`] (retry; the [`crate::layers::Retry`] layer
/// does it) or [`ConnectorError::Permanent`]; the others are listed per
/// method.
#[async_trait]
pub trait Connector: Send + Sync {
    /// What this provider can do. Constant; no I/O.
    fn capability(&self) -> Capability;

    /// Resolves the library's `source` at the provider: the root folder's
    /// id (the engine filters drive-wide feeds by ancestry to it), its
    /// drive and name. Errors: [`ConnectorError::NotFound`] when the folder,
    /// drive, site or path does not exist or is not visible.
    async fn root(&self) -> Result<RemoteRoot, ConnectorError>;

    /// A cursor at the provider's current position, for changes made from
    /// now on. Take it *before* a full listing when the listing's own
    /// cursor is not enough: Drive `changes.getStartPageToken`; Graph
    /// `delta?token=latest`; Dropbox `list_folder/get_latest_cursor`. A full
    /// listing (`list_changes(None)`) already embeds one taken before its
    /// first page, so the engine only needs this to start a feed without
    /// listing.
    async fn start_cursor(&self) -> Result<Cursor, ConnectorError>;

    /// One page of changes.
    ///
    /// - `None`: a full listing from scratch of everything under the source
    ///   (every item as [`crate::RemoteChange::Upsert`], parents before
    ///   children where the provider allows). Its final
    ///   [`crate::PageState::Done`] cursor yields every change made since the
    ///   listing *began* (Drive: a start page token taken before the first
    ///   page), so nothing is lost, and items seen in the listing may be
    ///   reported again (apply idempotently).
    /// - `Some(cursor)`: the next page after a `More` cursor, or the changes
    ///   since a `Done` cursor. The result may be empty, and ends with
    ///   `Done(cursor)` to store even when nothing changed.
    ///
    /// Errors: [`ConnectorError::CursorExpired`] when the provider rejects
    /// the cursor (Graph 410, Dropbox `reset`, Drive invalid token): start
    /// again with `None` and reconcile. [`ConnectorError::NotFound`] when the
    /// source root is gone.
    async fn list_changes(&self, cursor: Option<Cursor>) -> Result<ChangePage, ConnectorError>;

    /// Streams the bytes of a file (or the export of a Google-native
    /// document per `item.export`). Graph download URLs are resolved right
    /// before the request. The bytes are not verified here: feed them to
    /// `item.hash.kind.verifier()`.
    ///
    /// Errors (before the first chunk): [`ConnectorError::NotFound`] (gone
    /// meanwhile), [`ConnectorError::PerFile`] (quota, abuse flag, export
    /// too large even through the export links, restricted content).
    async fn download(&self, item: &RemoteItem) -> Result<ByteStream, ConnectorError>;

    /// The connected identity, read live.
    async fn account(&self) -> Result<AccountInfo, ConnectorError>;

    /// The folders directly under `parent` (an id from an earlier answer),
    /// or under the source root when `None` (for Dropbox, `parent` is a
    /// path). Each comes with the `source` that syncs it. For SharePoint
    /// with no site in the source, lists the user's sites' libraries.
    /// Errors: [`ConnectorError::NotFound`] for an unknown parent.
    async fn list_folders(&self, parent: Option<&str>)
    -> Result<Vec<RemoteFolder>, ConnectorError>;

    /// Revokes the grant at the provider where it has a revoke endpoint
    /// (Dropbox `/2/auth/token/revoke`). Returns `Ok(false)` where the
    /// provider has none reachable through the API host (Google revokes at
    /// its OAuth host, done by the OAuth layer; Microsoft has no revoke).
    async fn revoke(&self) -> Result<bool, ConnectorError>;
}

/// Where connectors get access tokens. The OAuth token manager implements
/// it (refresh ahead of expiry, single-flight, rotation stored first).
#[async_trait]
pub trait AccessTokenSource: Send + Sync {
    /// A currently valid access token. Errors:
    /// [`ConnectorError::NeedsReauthorization`] when the grant is gone,
    /// [`ConnectorError::Temporary`] when the token endpoint failed.
    async fn access_token(&self) -> Result<String, ConnectorError>;

    /// Called once when the provider answered 401 to `rejected`: refresh
    /// (unless another caller already replaced `rejected`) and return the
    /// new token. The connector retries once with it and never loops: a
    /// second 401 is [`ConnectorError::Unauthorized`].
    async fn refresh_after_unauthorized(&self, rejected: &str) -> Result<String, ConnectorError>;
}
