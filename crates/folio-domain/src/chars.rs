//! Characters a library path may not hold beyond `/`: those that do not
//! show as themselves.
//!
//! Control characters (general category Cc) break terminals and logs.
//! Format characters (Cf) are invisible and some reorder what is shown:
//! `evil\u{202e}txt.exe` displays as `evilexe.txt`. Line and paragraph
//! separators (Zl, Zp) break lines like a newline. A few letters and marks
//! render as nothing at all (the Hangul fillers, the combining grapheme
//! joiner, the Khmer inherent vowels, the Mongolian free variation
//! selectors) and are the usual tools of look-alike names. Variation
//! selectors (U+FE00..FE0F) stay: they pick an emoji's presentation and
//! neither hide nor reorder text.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// True for a character that must not appear in a path segment: a control
/// character, a format character (bidi controls, zero-width characters,
/// the byte-order mark, tags), a line or paragraph separator, or one of the
/// invisible letters and marks listed in the module docs.
pub fn is_hidden_or_control(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control();
    }
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    ) || is_invisible_letter_or_mark(c)
}

/// Letters and marks that render as nothing (Unicode's default-ignorable
/// code points outside Cf, minus the variation selectors).
fn is_invisible_letter_or_mark(c: char) -> bool {
    matches!(
        c,
        '\u{034f}'                   // COMBINING GRAPHEME JOINER
            | '\u{115f}' | '\u{1160}' // HANGUL CHOSEONG / JUNGSEONG FILLER
            | '\u{17b4}' | '\u{17b5}' // KHMER VOWEL INHERENT AQ / AA
            | '\u{180b}'
            ..='\u{180f}' // MONGOLIAN FREE VARIATION SELECTORS
            | '\u{3164}'              // HANGUL FILLER
            | '\u{ffa0}' // HALFWIDTH HANGUL FILLER
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_format_characters_and_invisibles_are_caught() {
        for c in [
            '\u{0}',
            '\t',
            '\n',
            '\u{7f}',
            '\u{85}',
            '\u{9f}', // Cc
            '\u{ad}',
            '\u{61c}',
            '\u{180e}',
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{200e}',
            '\u{200f}',
            '\u{202a}',
            '\u{202b}',
            '\u{202c}',
            '\u{202d}',
            '\u{202e}',
            '\u{2060}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{feff}',
            '\u{fff9}',
            '\u{e0001}',
            '\u{e0041}', // Cf
            '\u{2028}',
            '\u{2029}', // Zl, Zp
            '\u{34f}',
            '\u{115f}',
            '\u{3164}',
            '\u{ffa0}',
            '\u{17b4}',
            '\u{180b}',
        ] {
            assert!(is_hidden_or_control(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn visible_text_passes() {
        for c in [
            'a',
            ' ',
            '.',
            '-',
            '_',
            '~',
            '\u{e9}',
            '\u{301}',
            '\u{65e5}',
            '\u{5d0}',
            '\u{627}',
            '\u{a0}',
            '\u{3000}',
            '\u{fe0f}',
            '\u{2764}',
            '\u{1f600}',
        ] {
            assert!(!is_hidden_or_control(c), "U+{:04X}", c as u32);
        }
    }
}
