//! Folio's domain: the values the API, the store and the sync engine agree on.
//!
//! Reading order: [`ids`] (natural ids, usernames), [`provider`] (the one
//! provider enum and the shape of a provider's OAuth facts), [`library`]
//! (library kinds, sources, schedules), [`permission`] (who may do what), [`path`] (safe
//! library paths, refusing the characters of [`chars`]), [`sanitize`] (remote names made
//! into safe path segments), [`sync`] (the sync engine's stored states) and
//! [`hash`] (provider content hashes). Nothing here does I/O; every type that exists is valid
//! because it can only be built through its `parse` constructor.

pub mod chars;
pub mod hash;
pub mod ids;
pub mod library;
pub(crate) mod names;
pub mod object;
pub mod path;
pub mod permission;
pub mod provider;
pub mod sanitize;
pub mod sync;

pub use hash::{HashKind, RemoteHash};
pub use ids::{NaturalId, Username};
pub use library::{LibrarySource, LibraryType, SyncSchedule};
pub use names::UnknownName;
pub use path::LibraryPath;
pub use permission::{Access, Permission, ShareLevel};
pub use provider::{ProviderKind, UnknownProvider};
pub use sync::{ContentKind, ContentState, FetchFailure, RunPhase, RunStatus, RunTrigger};

/// A value that failed to parse, with the name of the field it came from so
/// the API can answer "400: field `x` ...".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ParseError {
    pub field: &'static str,
    pub reason: String,
}

impl ParseError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}
