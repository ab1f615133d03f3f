//! Who may do what with a library (docs/api.md, "Permissions and shares").
//!
//! The owner and admins have everything. A share grants `read`, `sync`
//! (read + `library:sync`) or `write` (everything; `library:write` implies
//! `library:sync`). Without any of these the library does not exist for the
//! caller: the API answers 404, not 403.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ParseError;

/// The level a share grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ShareLevel {
    Read,
    Sync,
    Write,
}

impl ShareLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Sync => "sync",
            Self::Write => "write",
        }
    }
}

impl FromStr for ShareLevel {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(Self::Read),
            "sync" => Ok(Self::Sync),
            "write" => Ok(Self::Write),
            other => Err(ParseError::new(
                "level",
                format!("unknown level '{other}'; expected read, sync or write"),
            )),
        }
    }
}

impl fmt::Display for ShareLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
