//! Safe paths inside a library.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::ParseError;
use crate::chars::is_hidden_or_control;

/// Longest path segment, in bytes (the common file-system limit).
pub const MAX_SEGMENT_BYTES: usize = 255;
/// Longest whole path, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;

/// A file's path inside a library: relative, `/`-separated, in Unicode NFC.
///
/// A `LibraryPath` never starts with `/`, has no empty, `.` or `..`
/// segment, no backslash and no control, bidi, zero-width or other
/// invisible character (see [`crate::chars`]), and respects
/// [`MAX_SEGMENT_BYTES`] and [`MAX_PATH_BYTES`]. So no path, however it was
/// spelled by a client or a provider, can point outside its library.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LibraryPath(String);

impl LibraryPath {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let normalized = nfc(raw).into_owned();
        if normalized.is_empty() {
            return Err(ParseError::new("path", "must not be empty"));
        }
        if normalized.len() > MAX_PATH_BYTES {
            return Err(ParseError::new(
                "path",
                format!("must be at most {MAX_PATH_BYTES} bytes"),
            ));
        }
        for segment in normalized.split('/') {
            check_segment(segment)?;
        }
        Ok(Self(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last segment.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }
}

/// `text` in NFC, borrowed when it is already (the quick check answers
/// yes for ASCII and most text without a full normalization pass, which was
/// most of the planner's cost of placing a page of names).
pub(crate) fn nfc(text: &str) -> Cow<'_, str> {
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => Cow::Borrowed(text),
        IsNormalized::No | IsNormalized::Maybe => Cow::Owned(text.nfc().collect()),
    }
}

fn check_segment(segment: &str) -> Result<(), ParseError> {
    if segment.is_empty() {
        return Err(ParseError::new(
            "path",
            "must be relative, without empty segments ('//' or a leading or trailing '/')",
        ));
    }
    if segment == "." || segment == ".." {
        return Err(ParseError::new(
            "path",
            "must not contain '.' or '..' segments",
        ));
    }
    if segment.len() > MAX_SEGMENT_BYTES {
        return Err(ParseError::new(
            "path",
            format!("each segment must be at most {MAX_SEGMENT_BYTES} bytes"),
        ));
    }
    if segment
        .chars()
        .any(|c| c == '\\' || is_hidden_or_control(c))
    {
        return Err(ParseError::new(
            "path",
            "must not contain '\\', control characters, or invisible or bidi formatting characters (such as U+202E or U+200D)",
        ));
    }
    Ok(())
}

impl TryFrom<String> for LibraryPath {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<LibraryPath> for String {
    fn from(value: LibraryPath) -> Self {
        value.0
    }
}

impl fmt::Display for LibraryPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_paths() {
        for ok in ["a.txt", "docs/report 2026.pdf", "ünï/cødé.md", "a/b/c/d"] {
            assert!(LibraryPath::parse(ok).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn rejects_escapes_and_junk() {
        for bad in [
            "",
            "/abs",
            "a//b",
            "a/",
            "..",
            "../x",
            "a/../b",
            "./a",
            "a\\b",
            "a\u{0}b",
            "a\nb",
            "evil\u{202e}txt.exe",
            "a\u{200d}b",
            "\u{feff}x",
            "d/\u{2067}e",
            "a\u{2028}b",
        ] {
            assert!(
                LibraryPath::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        assert!(LibraryPath::parse(&"x".repeat(256)).is_err());
        assert!(LibraryPath::parse(&["y"; 600].join("/")).is_err());
    }

    #[test]
    fn normalizes_to_nfc() {
        let decomposed = "cafe\u{301}.txt";
        let path = LibraryPath::parse(decomposed).map(String::from);
        assert_eq!(path.as_deref(), Ok("caf\u{e9}.txt"));
    }

    #[test]
    fn nfc_borrows_what_is_normal_and_normalizes_the_rest() {
        for normal in [
            "report.pdf",
            "caf\u{e9}/\u{c5}ngstr\u{f6}m",
            "\u{65e5}\u{672c}",
        ] {
            assert!(matches!(nfc(normal), Cow::Borrowed(_)), "{normal:?}");
        }
        // Decomposed, compatibility, and a lone combining mark (the quick
        // check says "maybe" or "no" for these).
        for raw in [
            "cafe\u{301}",
            "A\u{30a}",
            "\u{301}x",
            "\u{212b}",
            "e\u{301}\u{323}",
        ] {
            let full: String = raw.nfc().collect();
            assert_eq!(nfc(raw), full, "{raw:?}");
        }
    }

    #[test]
    fn file_name_is_last_segment() {
        let path = LibraryPath::parse("a/b/c.txt").map(|p| p.file_name().to_owned());
        assert_eq!(path.as_deref(), Ok("c.txt"));
    }
}
