//! Remote names made safe as library path segments.
//!
//! A provider name may hold anything its provider allows: `/` inside a Drive
//! name, `.` or `..`, control characters, invisible and bidi formatting
//! characters (`evil\u{202e}txt.exe` shows as `evilexe.txt`), thousands of
//! bytes, any Unicode normalization form. [`sanitize_name`] turns it into one segment that
//! [`crate::LibraryPath::parse`] accepts, deterministically (the same raw
//! name always gives the same segment). Two items that end up with one name
//! in one folder are told apart by [`with_stable_suffix`], which derives the
//! suffix from the provider item id, so it does not change between syncs.

use std::borrow::Cow;

use crate::chars::is_hidden_or_control;
use crate::path::{MAX_PATH_BYTES, MAX_SEGMENT_BYTES, nfc};
use crate::{LibraryPath, ParseError};

/// Bytes a sanitised name may use, leaving room for a collision suffix
/// (` (~` + 8 hex + `)` = 12 bytes) within [`MAX_SEGMENT_BYTES`].
pub const MAX_NAME_BYTES: usize = MAX_SEGMENT_BYTES - SUFFIX_BYTES;

const SUFFIX_BYTES: usize = 12;
/// Longest extension kept apart from the stem when a name is shortened.
const MAX_EXTENSION_BYTES: usize = 16;
/// What replaces a separator, a backslash, a control character or an
/// invisible one.
const REPLACEMENT: char = '_';

/// One safe path segment for the remote name `raw`: NFC, no `/`, `\`,
/// control, format (bidi, zero-width) or other invisible character (each
/// becomes `_`; see [`crate::chars`]), never empty, `.` or `..` (those
/// get a leading `_`), at most [`MAX_NAME_BYTES`] bytes (shortened on a
/// character boundary, keeping a short extension).
pub fn sanitize_name(raw: &str) -> String {
    safe_name(raw).into_owned()
}

/// [`sanitize_name`], borrowing `raw` when it is already a safe segment (as
/// most names are): a sync places every child of a folder it changes, and
/// most of that work was copying names that needed no change.
pub fn safe_name(raw: &str) -> Cow<'_, str> {
    if is_safe_as_is(raw) {
        return Cow::Borrowed(raw);
    }
    let cleaned: String = nfc(raw)
        .chars()
        .map(|c| if is_replaced(c) { REPLACEMENT } else { c })
        .collect();
    let named = match cleaned.as_str() {
        "" => REPLACEMENT.to_string(),
        "." | ".." => format!("{REPLACEMENT}{cleaned}"),
        _ => cleaned,
    };
    Cow::Owned(shorten(&named, MAX_NAME_BYTES))
}

/// True when `raw` is already a safe segment. A name the NFC quick check
/// cannot clear takes the slow path, which gives it back unchanged if it
/// was normal after all.
fn is_safe_as_is(raw: &str) -> bool {
    !matches!(raw, "" | "." | "..")
        && raw.len() <= MAX_NAME_BYTES
        && !raw.chars().any(is_replaced)
        && matches!(nfc(raw), Cow::Borrowed(_))
}

/// A character a segment may not hold.
fn is_replaced(c: char) -> bool {
    c == '/' || c == '\\' || is_hidden_or_control(c)
}

/// `name` with a suffix derived from `item_id` before its extension:
/// `report.pdf` + id -> `report (~1a2b3c4d).pdf`. The same inputs always give
/// the same output; the result is at most [`MAX_SEGMENT_BYTES`] bytes when
/// `name` came from [`sanitize_name`].
pub fn with_stable_suffix(name: &str, item_id: &str) -> String {
    let tag = format!("{:08x}", fnv1a64(item_id.as_bytes()) as u32);
    let (stem, extension) = split_extension(name);
    format!("{stem} (~{tag}){extension}")
}

/// The library path of a child named `segment` (already sanitised) under
/// `parent` (`None` for the library root). Fails when the whole path would
/// exceed [`MAX_PATH_BYTES`] or the segment is not a valid one.
pub fn child_path(parent: Option<&LibraryPath>, segment: &str) -> Result<LibraryPath, ParseError> {
    let joined = match parent {
        Some(parent) => format!("{parent}/{segment}"),
        None => segment.to_owned(),
    };
    if joined.len() > MAX_PATH_BYTES {
        return Err(ParseError::new(
            "path",
            format!("the remote path is longer than {MAX_PATH_BYTES} bytes"),
        ));
    }
    LibraryPath::parse(&joined)
}

/// `name` cut to at most `limit` bytes on a character boundary, keeping an
/// extension of up to [`MAX_EXTENSION_BYTES`] bytes.
fn shorten(name: &str, limit: usize) -> String {
    if name.len() <= limit {
        return name.to_owned();
    }
    let (stem, extension) = split_extension(name);
    let keep_extension = extension.len() <= MAX_EXTENSION_BYTES;
    let tail = if keep_extension { extension } else { "" };
    let source = if keep_extension { stem } else { name };
    let mut cut = limit - tail.len();
    while !source.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{tail}", &source[..cut])
}

/// Splits `a.b.txt` into (`a.b`, `.txt`); a name without a dot past its first
/// character has no extension.
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(dot) if dot > 0 => name.split_at(dot),
        _ => (name, ""),
    }
}

/// FNV-1a, 64 bits: fixed here so suffixes never change with a dependency.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(segment: &str) -> bool {
        LibraryPath::parse(segment).is_ok() && !segment.contains('/')
    }

    #[test]
    fn hostile_names_become_one_valid_segment() {
        for raw in [
            "..",
            ".",
            "",
            "a/b",
            "../../etc/passwd",
            "/",
            "a\\b",
            "tab\there",
            "nul\u{0}byte",
            "line\nbreak",
            "\u{7f}",
        ] {
            let name = sanitize_name(raw);
            assert!(valid(&name), "{raw:?} gave {name:?}");
        }
        assert_eq!(sanitize_name(".."), "_..");
        assert_eq!(sanitize_name("a/b"), "a_b");
        assert_eq!(sanitize_name("../x"), ".._x");
    }

    #[test]
    fn bidi_and_invisible_characters_become_underscores() {
        assert_eq!(sanitize_name("evil\u{202e}txt.exe"), "evil_txt.exe");
        assert_eq!(sanitize_name("a\u{200d}b\u{feff}.md"), "a_b_.md");
        assert_eq!(sanitize_name("\u{2066}x\u{2069}"), "_x_");
        assert_eq!(sanitize_name("\u{3164}"), "_");
        assert_eq!(sanitize_name("line\u{2028}break"), "line_break");
        for raw in ["evil\u{202e}txt.exe", "\u{200b}", "soft\u{ad}hyphen"] {
            let safe = safe_name(raw);
            assert!(matches!(safe, Cow::Owned(_)), "{raw:?}");
            assert!(valid(&safe), "{raw:?} gave {safe:?}");
        }
        // Emoji keep their presentation selector.
        assert_eq!(
            sanitize_name("\u{2764}\u{fe0f}.txt"),
            "\u{2764}\u{fe0f}.txt"
        );
    }

    #[test]
    fn ordinary_names_are_kept() {
        for raw in ["report.pdf", "ünï cødé.md", ".hidden", "a b (1).txt"] {
            assert_eq!(sanitize_name(raw), raw);
        }
    }

    #[test]
    fn safe_names_are_borrowed_and_unsafe_ones_rewritten() {
        let long = "x".repeat(MAX_NAME_BYTES + 1);
        let exact = "y".repeat(MAX_NAME_BYTES);
        for raw in ["report.pdf", "\u{fc}n\u{ef}.md", ".hidden", exact.as_str()] {
            assert!(
                matches!(safe_name(raw), Cow::Borrowed(r) if r == raw),
                "{raw:?}"
            );
        }
        for raw in [
            "",
            ".",
            "..",
            "a/b",
            "a\\b",
            "t\tb",
            "cafe\u{301}",
            long.as_str(),
        ] {
            let safe = safe_name(raw);
            assert!(matches!(safe, Cow::Owned(_)), "{raw:?}");
            assert!(valid(&safe), "{raw:?} gave {safe:?}");
        }
        assert_eq!(safe_name("cafe\u{301}"), "caf\u{e9}");
        assert_eq!(safe_name(&long).len(), MAX_NAME_BYTES);
    }

    #[test]
    fn names_are_nfc() {
        assert_eq!(sanitize_name("cafe\u{301}.txt"), "caf\u{e9}.txt");
        assert_eq!(
            sanitize_name("caf\u{e9}.txt"),
            sanitize_name("cafe\u{301}.txt")
        );
    }

    #[test]
    fn long_names_are_cut_on_char_boundaries_keeping_the_extension() {
        let long = format!("{}.pdf", "é".repeat(400));
        let name = sanitize_name(&long);
        assert!(name.len() <= MAX_NAME_BYTES);
        assert!(name.ends_with(".pdf"));
        assert!(valid(&name));
        let suffixed = with_stable_suffix(&name, "some-long-provider-id");
        assert!(suffixed.len() <= MAX_SEGMENT_BYTES);
        assert!(valid(&suffixed));
        let odd = format!("x.{}", "e".repeat(300));
        assert!(sanitize_name(&odd).len() <= MAX_NAME_BYTES);
    }

    #[test]
    fn suffix_is_stable_and_distinct_per_id() {
        let a = with_stable_suffix("report.pdf", "id-a");
        assert_eq!(a, with_stable_suffix("report.pdf", "id-a"));
        assert_ne!(a, with_stable_suffix("report.pdf", "id-b"));
        assert!(a.starts_with("report (~") && a.ends_with(").pdf"), "{a}");
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(
            with_stable_suffix("noext", "x"),
            format!("noext (~{:08x})", fnv1a64(b"x") as u32)
        );
    }

    #[test]
    fn child_paths_join_and_respect_the_length_limit() {
        let parent = LibraryPath::parse("a/b").ok();
        let child = child_path(parent.as_ref(), "c.txt").map(String::from);
        assert_eq!(child.as_deref(), Ok("a/b/c.txt"));
        let deep = LibraryPath::parse(&vec!["d".repeat(200); 5].join("/")).ok();
        assert!(deep.is_some());
        assert!(child_path(deep.as_ref(), &"e".repeat(100)).is_err());
    }
}
