//! The sync engine's states as the store keeps them: a run's status,
//! phase and trigger, and of a remote item whether its bytes are stored,
//! what content it has and why a download failed. Each string form is
//! written once, in the strum derives (or, for [`ContentKind`], which
//! carries an extension, in its `as_stored`/`FromStr` pair).

use std::fmt;
use std::str::FromStr;

use crate::names::{UnknownName, named};

/// Where a sync run stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[strum(
    serialize_all = "lowercase",
    parse_err_ty = UnknownName,
    parse_err_fn = unknown_status
)]
pub enum RunStatus {
    Running,
    Done,
    Failed,
    /// Ended without deleting: deletions wait for a confirmation.
    Held,
}

named!(RunStatus, "run status", unknown_status);

/// What a running sync is doing.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[strum(
    serialize_all = "lowercase",
    parse_err_ty = UnknownName,
    parse_err_fn = unknown_phase
)]
pub enum RunPhase {
    /// Where every run starts.
    #[default]
    Listing,
    Downloading,
    Deleting,
    /// A purge switching its staged files in.
    Switching,
    Done,
}

named!(RunPhase, "run phase", unknown_phase);

/// What started a sync run.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[strum(
    serialize_all = "kebab-case",
    parse_err_ty = UnknownName,
    parse_err_fn = unknown_trigger
)]
pub enum RunTrigger {
    /// A request (API, console, CLI).
    Manual,
    /// A request that lists and plans only.
    DryRun,
    /// The scheduler, for a library's schedule.
    Schedule,
    /// The scheduler, for a periodic full listing.
    Reconcile,
}

named!(RunTrigger, "run trigger", unknown_trigger);

/// Why a placed file has no bytes: its last download failed, which says
/// when a sync tries it again.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[strum(
    serialize_all = "lowercase",
    parse_err_ty = UnknownName,
    parse_err_fn = unknown_failure
)]
pub enum FetchFailure {
    /// The provider kept failing on it (5xx, 429, a timeout, a cut
    /// connection): the next sync tries it again.
    Temporary,
    /// The provider refused it, or its bytes never matched the provider's
    /// hash: tried again once the retry interval is over.
    Refused,
}

named!(FetchFailure, "fetch failure", unknown_failure);

/// Whether an item's bytes are stored.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[strum(
    serialize_all = "lowercase",
    parse_err_ty = UnknownName,
    parse_err_fn = unknown_state
)]
pub enum ContentState {
    /// Stored; the row's content hash names the blob.
    Stored,
    /// A download was in flight when the row was written (the engine
    /// settles downloads before it writes their rows, so only rows older
    /// than the content state column had this): not stored.
    Pending,
    /// Not stored: never downloaded, failed, or not a file.
    Missing,
}

named!(ContentState, "content state", unknown_state);

/// What content an item has.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum ContentKind {
    /// Bytes, downloaded as they are.
    #[default]
    File,
    /// No bytes (a shortcut, a document with no export).
    NoContent,
    /// A provider-native document exported to the format of this
    /// extension (`docx`).
    Export(String),
}

impl ContentKind {
    const FILE: &'static str = "file";
    const NONE: &'static str = "none";
    const EXPORT: &'static str = "export:";

    /// Its stored form: `file`, `none` or `export:EXT`.
    pub fn as_stored(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for ContentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File => f.write_str(Self::FILE),
            Self::NoContent => f.write_str(Self::NONE),
            Self::Export(ext) => write!(f, "{}{ext}", Self::EXPORT),
        }
    }
}

impl FromStr for ContentKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            Self::FILE => Ok(Self::File),
            Self::NONE => Ok(Self::NoContent),
            _ => match s.strip_prefix(Self::EXPORT) {
                Some(ext) if !ext.is_empty() => Ok(Self::Export(ext.to_owned())),
                _ => Err(UnknownName::new(
                    "content kind",
                    s,
                    "file, none or export:EXTENSION",
                )),
            },
        }
    }
}

impl TryFrom<String> for ContentKind {
    type Error = UnknownName;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T>(all: &[T], forms: &[&str])
    where
        T: Copy + PartialEq + fmt::Debug + fmt::Display + FromStr<Err = UnknownName>,
    {
        assert_eq!(all.len(), forms.len());
        for (value, form) in all.iter().zip(forms) {
            assert_eq!(value.to_string(), *form);
            assert_eq!(form.parse::<T>(), Ok(*value));
        }
    }

    #[test]
    fn string_forms_are_stable() {
        round_trips(RunStatus::ALL, &["running", "done", "failed", "held"]);
        round_trips(
            RunPhase::ALL,
            &["listing", "downloading", "deleting", "switching", "done"],
        );
        round_trips(
            RunTrigger::ALL,
            &["manual", "dry-run", "schedule", "reconcile"],
        );
        round_trips(FetchFailure::ALL, &["temporary", "refused"]);
        round_trips(ContentState::ALL, &["stored", "pending", "missing"]);
    }

    #[test]
    fn unknown_forms_are_errors_naming_the_value() {
        let err = "Running".parse::<RunStatus>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown run status 'Running'; expected one of running, done, failed, held"
        );
        assert_eq!(err.value, "Running");
        assert!("".parse::<RunTrigger>().is_err());
    }

    #[test]
    fn content_kinds_round_trip() {
        for kind in [
            ContentKind::File,
            ContentKind::NoContent,
            ContentKind::Export("docx".into()),
        ] {
            assert_eq!(kind.as_stored().parse::<ContentKind>(), Ok(kind));
        }
        assert_eq!(ContentKind::Export("pdf".into()).as_stored(), "export:pdf");
        for bad in ["export:", "File", "exported:pdf", ""] {
            let err = bad.parse::<ContentKind>().unwrap_err();
            assert_eq!(err.value, bad);
        }
    }
}
