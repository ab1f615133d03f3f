//! Human-chosen identifiers.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ParseError;

const NATURAL_ID_MAX: usize = 64;

/// A library's natural id: a URL-safe slug such as `engineering-docs`.
///
/// Lowercase ASCII letters, digits and `-`, starting with a letter or digit,
/// at most 64 characters, and never shaped like a UUID (so `{id}` in a route
/// is never ambiguous).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NaturalId(String);

impl NaturalId {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let field = "naturalId";
        if raw.is_empty() || raw.len() > NATURAL_ID_MAX {
            return Err(ParseError::new(
                field,
                format!("must be 1 to {NATURAL_ID_MAX} characters"),
            ));
        }
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if !raw.chars().all(allowed) {
            return Err(ParseError::new(
                field,
                "may contain only lowercase letters, digits and '-'",
            ));
        }
        if raw.starts_with('-') || raw.ends_with('-') {
            return Err(ParseError::new(field, "must not start or end with '-'"));
        }
        if uuid::Uuid::parse_str(raw).is_ok() {
            return Err(ParseError::new(field, "must not look like a UUID"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// Derives a natural id from a display name: `"Engineering Docs!"` ->
    /// `engineering-docs`. Returns `None` when nothing usable remains.
    pub fn slugify(name: &str) -> Option<Self> {
        let mut slug = String::new();
        for c in name.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug: String = slug
            .trim_end_matches('-')
            .chars()
            .take(NATURAL_ID_MAX)
            .collect();
        Self::parse(slug.trim_end_matches('-')).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for NaturalId {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<NaturalId> for String {
    fn from(value: NaturalId) -> Self {
        value.0
    }
}

impl fmt::Display for NaturalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user's login name: 1 to 64 characters of ASCII letters, digits, `.`,
/// `_`, `-` and `@`, never shaped like a UUID (routes take a user's UUID or
/// username in one place).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let field = "username";
        if raw.is_empty() || raw.len() > 64 {
            return Err(ParseError::new(field, "must be 1 to 64 characters"));
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
        if !raw.chars().all(allowed) {
            return Err(ParseError::new(
                field,
                "may contain only letters, digits, '.', '_', '-' and '@'",
            ));
        }
        if uuid::Uuid::parse_str(raw).is_ok() {
            return Err(ParseError::new(field, "must not look like a UUID"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_id_accepts_slugs() {
        assert!(NaturalId::parse("engineering-docs").is_ok());
        assert!(NaturalId::parse("a").is_ok());
        assert!(NaturalId::parse("2026-plans").is_ok());
    }

    #[test]
    fn natural_id_rejects_bad_shapes() {
        for bad in ["", "-x", "x-", "Upper", "a b", "a/b", "a.b", "../x"] {
            assert!(NaturalId::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(NaturalId::parse(&"a".repeat(65)).is_err());
        assert!(NaturalId::parse("0190b1a2-7c3d-7e4f-8a9b-0c1d2e3f4a5b").is_err());
    }

    #[test]
    fn slugify_makes_a_valid_id() {
        assert_eq!(
            NaturalId::slugify("Engineering Docs!").map(String::from),
            Some("engineering-docs".to_owned())
        );
        assert_eq!(NaturalId::slugify("!!!"), None);
    }

    #[test]
    fn username_rules() {
        assert!(Username::parse("alice@example.com").is_ok());
        assert!(Username::parse("").is_err());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse("0190b1a2-7c3d-7e4f-8a9b-0c1d2e3f4a5b").is_err());
    }
}
