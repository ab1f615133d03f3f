//! What a library is and where its files come from.

use serde::de::{Error as _, Unexpected};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::ParseError;
use crate::provider::ProviderKind;

/// Where a library's files come from: uploads (`local`) or one provider.
/// The strings of the provider types are [`ProviderKind`]'s (a test holds
/// them equal); conversions between the two go by variant, never by string.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
)]
#[serde(try_from = "String", into = "&'static str")]
#[strum(
    serialize_all = "lowercase",
    parse_err_ty = ParseError,
    parse_err_fn = unknown_type
)]
pub enum LibraryType {
    Local,
    #[strum(serialize = "google-drive")]
    GoogleDrive,
    OneDrive,
    SharePoint,
    Dropbox,
}

fn unknown_type(s: &str) -> ParseError {
    ParseError::new(
        "type",
        format!(
            "unknown type '{s}'; expected one of {}",
            crate::provider::names(LibraryType::ALL.iter().map(|t| t.as_str()))
        ),
    )
}

impl LibraryType {
    pub const ALL: [LibraryType; 5] = [
        Self::Local,
        Self::GoogleDrive,
        Self::OneDrive,
        Self::SharePoint,
        Self::Dropbox,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// True for the types whose files come from a provider, not from uploads.
    pub fn is_provider(self) -> bool {
        self.provider().is_some()
    }

    /// The provider of a cloud library; `None` for `local`.
    pub fn provider(self) -> Option<ProviderKind> {
        match self {
            Self::Local => None,
            Self::GoogleDrive => Some(ProviderKind::GoogleDrive),
            Self::OneDrive => Some(ProviderKind::OneDrive),
            Self::SharePoint => Some(ProviderKind::SharePoint),
            Self::Dropbox => Some(ProviderKind::Dropbox),
        }
    }
}

impl From<ProviderKind> for LibraryType {
    fn from(kind: ProviderKind) -> Self {
        match kind {
            ProviderKind::GoogleDrive => Self::GoogleDrive,
            ProviderKind::OneDrive => Self::OneDrive,
            ProviderKind::SharePoint => Self::SharePoint,
            ProviderKind::Dropbox => Self::Dropbox,
        }
    }
}

impl TryFrom<String> for LibraryType {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// The OpenAPI schema: a string, one of [`LibraryType::ALL`]'s forms.
impl utoipa::PartialSchema for LibraryType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "Where the library's files come from: uploads (local) or one provider.",
            ))
            .enum_values(Some(Self::ALL.map(Self::as_str)))
            .into()
    }
}

impl ToSchema for LibraryType {}

/// What part of the connected account a library mirrors. All fields are
/// optional; an empty source means the account's root drive. Read only from
/// a JSON object (see [`crate::object`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(remote = "Self", rename_all = "camelCase", deny_unknown_fields)]
pub struct LibrarySource {
    /// A folder id (Drive, OneDrive, SharePoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 512,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub folder_id: Option<String>,
    /// A shared drive id (Drive) or a drive id (OneDrive, SharePoint document library).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 512,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub drive_id: Option<String>,
    /// A SharePoint site id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 512,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub site_id: Option<String>,
    /// A Dropbox path such as `/Team/Docs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        max_length = 1024,
        pattern = r"^/(?!(.*/)?\.\.(/|$))[^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub path: Option<String>,
}

crate::object_only!(LibrarySource);

impl LibrarySource {
    /// Checks each field's shape: ids are 1..=512 printable characters, a
    /// Dropbox path is absolute and has no `..` segment.
    pub fn validate(&self) -> Result<(), ParseError> {
        for (field, value) in [
            ("source.folderId", &self.folder_id),
            ("source.driveId", &self.drive_id),
            ("source.siteId", &self.site_id),
        ] {
            if let Some(v) = value
                && (v.is_empty() || v.chars().count() > 512 || v.chars().any(char::is_control))
            {
                return Err(ParseError::new(
                    field,
                    "must be 1 to 512 printable characters",
                ));
            }
        }
        if let Some(path) = &self.path {
            let bad = !path.starts_with('/')
                || path.chars().count() > 1024
                || path.chars().any(char::is_control)
                || path.split('/').any(|seg| seg == "..");
            if bad {
                return Err(ParseError::new(
                    "source.path",
                    "must be an absolute path such as /Team/Docs, without '..'",
                ));
            }
        }
        Ok(())
    }
}

/// How often the server syncs a library on its own. Read only from a JSON
/// object (see [`crate::object`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(remote = "Self", rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncSchedule {
    /// Minutes between two scheduled syncs, 1 to 525600 (a year).
    #[schema(minimum = 1, maximum = 525_600)]
    #[serde(deserialize_with = "whole_number")]
    pub interval_minutes: u32,
}

crate::object_only!(SyncSchedule);

/// A `u32` from any JSON number with no fractional part: JSON Schema's
/// `integer` (what the API's document promises) counts `5.0` as 5.
fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    let value = f64::deserialize(deserializer)?;
    if value.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&value) {
        // Whole and in range: the cast is exact.
        Ok(value as u32)
    } else {
        Err(D::Error::invalid_value(
            Unexpected::Float(value),
            &"a whole number of minutes",
        ))
    }
}

impl SyncSchedule {
    pub fn validate(&self) -> Result<(), ParseError> {
        if (1..=525_600).contains(&self.interval_minutes) {
            Ok(())
        } else {
            Err(ParseError::new(
                "syncSchedule.intervalMinutes",
                "must be between 1 and 525600",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_type_round_trips() {
        for t in LibraryType::ALL {
            assert_eq!(t.as_str().parse::<LibraryType>(), Ok(t));
            let json = serde_json::to_string(&t).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
        assert!("gdrive".parse::<LibraryType>().is_err());
        assert_eq!(
            "gdrive".parse::<LibraryType>().map_err(|e| e.to_string()),
            Err("type: unknown type 'gdrive'; expected one of local, google-drive, onedrive, sharepoint, dropbox".to_owned())
        );
    }

    #[test]
    fn provider_types_are_the_provider_kinds() {
        let providers: Vec<ProviderKind> = LibraryType::ALL
            .into_iter()
            .filter_map(LibraryType::provider)
            .collect();
        assert_eq!(providers, ProviderKind::ALL);
        for &kind in ProviderKind::ALL {
            let library_type = LibraryType::from(kind);
            assert_eq!(library_type.as_str(), kind.as_str());
            assert_eq!(library_type.provider(), Some(kind));
        }
        assert!(!LibraryType::Local.is_provider());
    }

    #[test]
    fn source_validation() {
        assert!(LibrarySource::default().validate().is_ok());
        let bad = LibrarySource {
            path: Some("relative".into()),
            ..Default::default()
        };
        assert_eq!(bad.validate().map_err(|e| e.field), Err("source.path"));
        let escape = LibrarySource {
            path: Some("/a/../b".into()),
            ..Default::default()
        };
        assert!(escape.validate().is_err());
    }

    #[test]
    fn sources_and_schedules_are_read_only_from_objects() {
        let source: LibrarySource = serde_json::from_str(r#"{"folderId": "f"}"#).unwrap();
        assert_eq!(source.folder_id.as_deref(), Some("f"));
        assert_eq!(
            serde_json::to_string(&source).unwrap(),
            r#"{"folderId":"f"}"#
        );
        for bad in [
            r#"["f"]"#,
            "[null, null]",
            "[]",
            r#""f""#,
            r#"{"folder": "f"}"#,
        ] {
            assert!(serde_json::from_str::<LibrarySource>(bad).is_err(), "{bad}");
        }
        let schedule: SyncSchedule = serde_json::from_str(r#"{"intervalMinutes": 5}"#).unwrap();
        assert_eq!(schedule.interval_minutes, 5);
        assert!(serde_json::from_str::<SyncSchedule>("[5]").is_err());
        let whole: SyncSchedule = serde_json::from_str(r#"{"intervalMinutes": 5.0}"#).unwrap();
        assert_eq!(whole.interval_minutes, 5);
        for bad in ["5.5", "-1", "\"5\"", "1e12"] {
            let json = format!(r#"{{"intervalMinutes": {bad}}}"#);
            assert!(
                serde_json::from_str::<SyncSchedule>(&json).is_err(),
                "{bad}"
            );
        }
        let absent: Option<SyncSchedule> = serde_json::from_str("null").unwrap();
        assert_eq!(absent, None);
    }

    #[test]
    fn schedule_bounds() {
        assert!(
            SyncSchedule {
                interval_minutes: 0
            }
            .validate()
            .is_err()
        );
        assert!(
            SyncSchedule {
                interval_minutes: 60
            }
            .validate()
            .is_ok()
        );
    }
}
