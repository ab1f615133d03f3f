//! Who may do what with a library (docs/api.md, "Permissions and shares").
//!
//! The owner and admins have everything. A share grants `read`, `sync`
//! (read + `library:sync`) or `write` (everything; `library:write` implies
//! `library:sync`). Without any of these the library does not exist for the
//! caller: the API answers 404, not 403.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ParseError;

/// The level a share grants. Its string forms come from its strum derives
/// alone (serde, the OpenAPI schema and the store go through them).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::Display,
    strum::VariantArray,
)]
#[serde(try_from = "String", into = "&'static str")]
#[strum(
    serialize_all = "lowercase",
    parse_err_ty = ParseError,
    parse_err_fn = unknown_level
)]
pub enum ShareLevel {
    Read,
    Sync,
    Write,
}

fn unknown_level(s: &str) -> ParseError {
    ParseError::new(
        "level",
        format!("unknown level '{s}'; expected read, sync or write"),
    )
}

impl ShareLevel {
    pub const ALL: &'static [ShareLevel] = <Self as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl TryFrom<String> for ShareLevel {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// The OpenAPI schema: a string, one of [`ShareLevel::ALL`]'s forms.
impl utoipa::PartialSchema for ShareLevel {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("The level a share grants."))
            .enum_values(Some(Self::ALL.iter().map(|l| l.as_str())))
            .into()
    }
}

impl ToSchema for ShareLevel {}

/// One thing a caller wants to do with a library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See the library, its files, integration, connection and account.
    Read,
    /// `library:sync`: start a sync.
    Sync,
    /// `library:write`: change, share, connect, upload, delete.
    Write,
}

/// What a caller may do with one library, derived from who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Neither owner, admin nor shared with: the library is invisible.
    None,
    Shared(ShareLevel),
    /// Owner or admin.
    Full,
}

impl Access {
    pub fn of(is_owner: bool, is_admin: bool, share: Option<ShareLevel>) -> Self {
        if is_owner || is_admin {
            Self::Full
        } else {
            share.map_or(Self::None, Self::Shared)
        }
    }

    pub fn can_read(self) -> bool {
        self != Self::None
    }

    pub fn allows(self, permission: Permission) -> bool {
        match (self, permission) {
            (Self::None, _) => false,
            (Self::Full, _) => true,
            (Self::Shared(_), Permission::Read) => true,
            (Self::Shared(level), Permission::Sync) => level >= ShareLevel::Sync,
            (Self::Shared(level), Permission::Write) => level == ShareLevel::Write,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_table() {
        use Permission::*;
        let cases = [
            (Access::None, [false, false, false]),
            (Access::Shared(ShareLevel::Read), [true, false, false]),
            (Access::Shared(ShareLevel::Sync), [true, true, false]),
            (Access::Shared(ShareLevel::Write), [true, true, true]),
            (Access::Full, [true, true, true]),
        ];
        for (access, expected) in cases {
            let got = [
                access.allows(Read),
                access.allows(Sync),
                access.allows(Write),
            ];
            assert_eq!(got, expected, "{access:?}");
        }
    }

    #[test]
    fn levels_round_trip_and_unknown_ones_are_refused() {
        for (level, text) in ShareLevel::ALL.iter().zip(["read", "sync", "write"]) {
            assert_eq!(level.as_str(), text);
            assert_eq!(text.parse::<ShareLevel>(), Ok(*level));
            assert_eq!(serde_json::to_string(level).unwrap(), format!("\"{text}\""));
        }
        assert_eq!(
            "admin".parse::<ShareLevel>().map_err(|e| e.to_string()),
            Err("level: unknown level 'admin'; expected read, sync or write".to_owned())
        );
        assert!(serde_json::from_str::<ShareLevel>("\"Read\"").is_err());
    }

    #[test]
    fn owner_and_admin_have_everything() {
        assert_eq!(Access::of(true, false, None), Access::Full);
        assert_eq!(Access::of(false, true, None), Access::Full);
        assert_eq!(Access::of(false, false, None), Access::None);
        assert_eq!(
            Access::of(false, false, Some(ShareLevel::Sync)),
            Access::Shared(ShareLevel::Sync)
        );
    }
}
