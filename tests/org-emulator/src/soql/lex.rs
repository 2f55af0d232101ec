//! SOQL tokens and Salesforce's positional error text.

use super::SoqlError;

/// A token.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// A keyword, identifier or dotted path (`Account.Name`).
    Ident(String),
    /// A quoted string, unescaped (`\%` and `\_` kept with their backslash for LIKE).
    Str(String),
    /// An unquoted number, date or dateTime (exact text).
    Num(String),
    /// Punctuation.
    Punct(&'static str),
    /// End of input.
    Eof,
}

/// A value with its source position (byte offset in the query text) for error messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub v: T,
    /// Byte offset in the query text.
    pub pos: usize,
}

/// Build Salesforce's positional error text: the query line, a caret line, `ERROR at
/// Row:R:Column:C`, then the detail [salesforce-api.md §5: MALFORMED_QUERY, INVALID_FIELD].
pub fn positioned(text: &str, pos: usize, detail: &str) -> String {
    let before = &text[..pos.min(text.len())];
    let row = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    let line = text[line_start..].lines().next().unwrap_or("");
    format!("\n{line}\n{}^\nERROR at Row:{row}:Column:{col}\n{detail}", " ".repeat(col - 1))
}

/// `MALFORMED_QUERY` at `pos`.
pub(super) fn malformed(text: &str, pos: usize, detail: &str) -> SoqlError {
    SoqlError { code: "MALFORMED_QUERY", message: positioned(text, pos, detail) }
}

fn bad_escape(text: &str, pos: usize, so_far: &str, seq: &str) -> SoqlError {
    malformed(
        text,
        pos,
        &format!("Invalid string literal '{so_far}{seq}'. Illegal character sequence '{seq}' in string literal."),
    )
}

/// Read a quoted string starting at `start` (the opening quote); returns the value and the end.
fn string(text: &str, start: usize) -> Result<(String, usize), SoqlError> {
    let mut i = start + 1;
    let mut s = String::new();
    loop {
        let Some(ch) = text[i..].chars().next() else {
            return Err(malformed(text, start, "unexpected token: '<unterminated string>'"));
        };
        i += ch.len_utf8();
        match ch {
            '\'' => return Ok((s, i)),
            '\\' => {
                let Some(e) = text[i..].chars().next() else {
                    return Err(malformed(text, start, "unexpected token: '<unterminated string>'"));
                };
                i += e.len_utf8();
                match e {
                    'n' | 'N' => s.push('\n'),
                    'r' | 'R' => s.push('\r'),
                    't' | 'T' => s.push('\t'),
                    'b' | 'B' => s.push('\u{8}'),
                    'f' | 'F' => s.push('\u{c}'),
                    '"' | '\'' | '\\' => s.push(e),
                    '_' | '%' => {
                        s.push('\\');
                        s.push(e)
                    }
                    'u' => {
                        let hex = text.get(i..i + 4).filter(|h| h.bytes().all(|x| x.is_ascii_hexdigit()));
                        match hex.and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32) {
                            Some(ch) => {
                                s.push(ch);
                                i += 4;
                            }
                            None => return Err(bad_escape(text, start, &s, "\\u")),
                        }
                    }
                    other => return Err(bad_escape(text, start, &s, &format!("\\{other}"))),
                }
            }
            _ => s.push(ch),
        }
    }
}

fn punct(text: &str, i: usize) -> Result<&'static str, SoqlError> {
    let two = text.get(i..i + 2).unwrap_or("");
    Ok(match two {
        "!=" => "!=",
        "<>" => "<>",
        "<=" => "<=",
        ">=" => ">=",
        _ => match text.as_bytes()[i] {
            b'(' => "(",
            b')' => ")",
            b',' => ",",
            b'=' => "=",
            b'<' => "<",
            b'>' => ">",
            b':' => ":",
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(malformed(text, i, &format!("unexpected token: '{ch}'")));
            }
        },
    })
}

/// Split a query into tokens (the last is `Eof`).
pub(super) fn lex(text: &str) -> Result<Vec<Spanned<Tok>>, SoqlError> {
    let b = text.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c == b'\'' {
            let (s, end) = string(text, start)?;
            i = end;
            out.push(Spanned { v: Tok::Str(s), pos: start });
        } else if c.is_ascii_digit() || (c == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            i += 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b':' | b'.' | b'+' | b'-')) {
                i += 1;
            }
            out.push(Spanned { v: Tok::Num(text[start..i].to_string()), pos: start });
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                i += 1;
            }
            out.push(Spanned { v: Tok::Ident(text[start..i].to_string()), pos: start });
        } else {
            let p = punct(text, i)?;
            i += p.len();
            out.push(Spanned { v: Tok::Punct(p), pos: start });
        }
    }
    out.push(Spanned { v: Tok::Eof, pos: text.len() });
    Ok(out)
}
