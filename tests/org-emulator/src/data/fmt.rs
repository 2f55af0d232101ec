//! Allocation-free text for generated values: [`Fmt`] (text composed from static tables and numbers,
//! written only when rendered) and the JSON string writer.

/// Append `s` as a JSON string literal.
pub fn write_json_str(s: &str, out: &mut String) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                use std::fmt::Write;
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// A text value composed from static tables and numbers, formatted only when written (so rendering a
/// record allocates nothing). Table texts contain no characters that need JSON escaping (checked by
/// a unit test).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fmt {
    /// `a b`
    Two(&'static str, &'static str),
    /// `a b n`
    TwoN(&'static str, &'static str, u64),
    /// `+1 (555) AAA-NNNN`
    ContactPhone(u16, u16),
    /// `+1 415-555-NNNN`
    AccountPhone(u16),
    /// `first.last<n>@example.com` (ASCII letters, digits and dots only, lower-cased)
    Email(&'static str, &'static str, u64),
    /// `alias<suffix>`
    Concat(&'static str, &'static str),
    /// `Q<q> <year> Deal`
    Quarter(u8, u16),
    /// `Renewal <year> – <n> seats`
    Renewal(u16, u16),
    /// `Expansion 🚀 #<n>`
    Expansion(u64),
    /// A decimal number `int.cc` (JSON number text)
    Dec(u64, u8),
    /// An integer (JSON number text)
    Int(u64),
}

pub(crate) fn push_u64(out: &mut String, mut n: u64, min_width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = i.min(buf.len() - min_width);
    out.push_str(std::str::from_utf8(&buf[start..]).expect("digits"));
}

impl Fmt {
    /// Append the text (no quotes, no escaping: see the type's doc).
    pub fn write_to(&self, out: &mut String) {
        match *self {
            Fmt::Two(a, b) => {
                out.push_str(a);
                out.push(' ');
                out.push_str(b);
            }
            Fmt::TwoN(a, b, n) => {
                out.push_str(a);
                out.push(' ');
                out.push_str(b);
                out.push(' ');
                push_u64(out, n, 1);
            }
            Fmt::ContactPhone(a, n) => {
                out.push_str("+1 (555) ");
                push_u64(out, a as u64, 3);
                out.push('-');
                push_u64(out, n as u64, 4);
            }
            Fmt::AccountPhone(n) => {
                out.push_str("+1 415-555-");
                push_u64(out, n as u64, 4);
            }
            Fmt::Email(first, last, n) => {
                for c in first.chars().chain(std::iter::once('.')).chain(last.chars()) {
                    if c.is_ascii_alphanumeric() || c == '.' {
                        out.push(c.to_ascii_lowercase());
                    }
                }
                push_u64(out, n, 1);
                out.push_str("@example.com");
            }
            Fmt::Concat(a, b) => {
                out.push_str(a);
                out.push_str(b);
            }
            Fmt::Dec(i, c) => {
                push_u64(out, i, 1);
                out.push('.');
                push_u64(out, c as u64, 2);
            }
            Fmt::Int(i) => push_u64(out, i, 1),
            _ => {
                use std::fmt::Write;
                let _ = write!(out, "{self}");
            }
        }
    }
}

impl std::fmt::Display for Fmt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Fmt::Two(a, b) => write!(f, "{a} {b}"),
            Fmt::TwoN(a, b, n) => write!(f, "{a} {b} {n}"),
            Fmt::ContactPhone(a, n) => write!(f, "+1 (555) {a:03}-{n:04}"),
            Fmt::AccountPhone(n) => write!(f, "+1 415-555-{n:04}"),
            Fmt::Email(first, last, n) => {
                use std::fmt::Write;
                for c in first.chars().chain(std::iter::once('.')).chain(last.chars()) {
                    if c.is_ascii_alphanumeric() || c == '.' {
                        f.write_char(c.to_ascii_lowercase())?;
                    }
                }
                write!(f, "{n}@example.com")
            }
            Fmt::Concat(a, b) => write!(f, "{a}{b}"),
            Fmt::Quarter(q, y) => write!(f, "Q{q} {y} Deal"),
            Fmt::Renewal(y, n) => write!(f, "Renewal {y} – {n} seats"),
            Fmt::Expansion(n) => write!(f, "Expansion 🚀 #{n}"),
            Fmt::Dec(i, c) => write!(f, "{i}.{c:02}"),
            Fmt::Int(i) => write!(f, "{i}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_writer_matches_display() {
        let all = [
            Fmt::Two("Zoë", "Müller"),
            Fmt::TwoN("Acme", "Corp", 1234),
            Fmt::ContactPhone(201, 7),
            Fmt::AccountPhone(42),
            Fmt::Email("Zoë", "O'Connor", 9),
            Fmt::Concat("jsmith", "@acme.example"),
            Fmt::Quarter(3, 2024),
            Fmt::Renewal(2025, 12),
            Fmt::Expansion(7),
            Fmt::Dec(1_234_567_890_123_456, 5),
            Fmt::Dec(0, 0),
            Fmt::Int(0),
            Fmt::Int(u64::MAX),
        ];
        for f in all {
            let mut s = String::new();
            f.write_to(&mut s);
            assert_eq!(s, f.to_string());
        }
        let mut s = String::new();
        crate::time::format_datetime(0, &mut s);
        assert_eq!(s, "1970-01-01T00:00:00.000+0000");
    }

    #[test]
    fn json_strings_escape_controls() {
        let mut s = String::new();
        write_json_str("a\"b\\c\nd\u{1}é", &mut s);
        assert_eq!(s, "\"a\\\"b\\\\c\\nd\\u0001é\"");
    }
}
