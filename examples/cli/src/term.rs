//! Text from outside (Salesforce's error messages, stored connection fields, record values, paths)
//! made safe for a terminal: control characters are written as visible escapes (`\u{1b}`), so an
//! org cannot move the cursor, clear the screen, retitle the window, ring the bell, overwrite a
//! line with `\r` or reorder text with bidirectional overrides in the user's terminal.

use std::borrow::Cow;

/// True for the characters that are escaped: every Unicode control character (C0, DEL, C1 —
/// ESC and the 8-bit CSI U+009B included) and the bidirectional embeddings, overrides and
/// isolates (U+202A–U+202E, U+2066–U+2069).
fn unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| unsafe_char(c) && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_char(c) && !keep(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` for one line of terminal output: every control character escaped, newlines and tabs
/// included.
pub fn line(text: &str) -> Cow<'_, str> {
    escape(text, |_| false)
}

/// `text` for terminal output that may span lines (Salesforce's SOQL errors line a `^` up under
/// the query): newlines are kept, every other control character escaped (`\r` included).
pub fn lines(text: &str) -> Cow<'_, str> {
    escape(text, |c| c == '\n')
}

#[cfg(test)]
mod tests {
    use super::{line, lines};

    #[test]
    fn control_characters_are_escaped_visibly() {
        let evil = "a\u{1b}[2Jb\u{7}\rc\u{8}\u{9b}31m\u{202e}exe.txt\u{2067}\td\ne\u{7f}\u{0}";
        assert_eq!(line(evil), "a\\u{1b}[2Jb\\u{7}\\u{d}c\\u{8}\\u{9b}31m\\u{202e}exe.txt\\u{2067}\\u{9}d\\u{a}e\\u{7f}\\u{0}");
        assert_eq!(lines(evil), "a\\u{1b}[2Jb\\u{7}\\u{d}c\\u{8}\\u{9b}31m\\u{202e}exe.txt\\u{2067}\\u{9}d\ne\\u{7f}\\u{0}");
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        for ok in ["", "Sam O'Brien — 東京 😀 &amp; <b>", "\nSELECT Id FROM Contact WHERE\n                             ^"] {
            assert_eq!(lines(ok), ok);
            assert!(matches!(lines(ok), std::borrow::Cow::Borrowed(_)));
        }
        assert_eq!(line("2024-06-01T00:00:00.000+0000"), "2024-06-01T00:00:00.000+0000");
    }
}
