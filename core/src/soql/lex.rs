//! The SOQL lexer shared by [`crate::soql::bind`] and [`crate::soql::SoqlScan`]: string literals
//! (backslash is the only escape [salesforce-api.md §8]), words, parentheses, commas and colons.
//!
//! It only needs to know where string literals start and end and where the parentheses are, so
//! that nothing inside a literal is ever taken for a placeholder or a clause keyword.

use crate::error::{Error, Result};

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokKind {
    /// A run of `[A-Za-z0-9_.]` (identifiers, field paths, keywords, numbers, parts of dates).
    Word,
    /// A single-quoted string literal, quotes included.
    Str,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `,`
    Comma,
    /// `:`
    Colon,
    /// Any other character outside a literal (operators, `-`, `+`, …), one per token.
    Other,
}

/// One token: its kind and byte range in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tok {
    pub kind: TokKind,
    pub start: usize,
    pub end: usize,
    /// Parenthesis depth at the token (a `(` has the depth outside it, like its `)`).
    pub depth: usize,
}

impl Tok {
    /// The token's text.
    pub fn text<'a>(&self, soql: &'a str) -> &'a str {
        &soql[self.start..self.end]
    }
    /// A word equal to `keyword`, ignoring ASCII case.
    pub fn is_keyword(&self, soql: &str, keyword: &str) -> bool {
        self.kind == TokKind::Word && self.text(soql).eq_ignore_ascii_case(keyword)
    }
}

pub(crate) fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'.'
}

/// 1-based line and column of byte `pos`, for messages.
pub(crate) fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = &text[..pos.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Splits `soql` into tokens. `InvalidArgument` for an unterminated string literal or unbalanced
/// parentheses (the message gives the line and column).
pub(crate) fn lex(soql: &str) -> Result<Vec<Tok>> {
    let b = soql.as_bytes();
    let mut toks = Vec::new();
    let mut depth = 0usize;
    let mut open_at: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let kind = match c {
            b'\'' => {
                i += 1;
                loop {
                    match b.get(i) {
                        None => {
                            let (l, col) = line_col(soql, start);
                            return Err(Error::invalid_argument(format!(
                                "SOQL string literal starting at line {l} column {col} is not \
                                 closed: end it with ' (write \\' for a quote inside it)"
                            )));
                        }
                        Some(b'\\') => i += 2,
                        Some(b'\'') => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                TokKind::Str
            }
            c if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            c if is_word_byte(c) => {
                while i < b.len() && is_word_byte(b[i]) {
                    i += 1;
                }
                TokKind::Word
            }
            b'(' => {
                i += 1;
                toks.push(Tok {
                    kind: TokKind::LParen,
                    start,
                    end: i,
                    depth,
                });
                open_at.push(start);
                depth += 1;
                continue;
            }
            b')' => {
                i += 1;
                if depth == 0 {
                    let (l, col) = line_col(soql, start);
                    return Err(Error::invalid_argument(format!(
                        "unbalanced parentheses in SOQL: ')' at line {l} column {col} has no '('"
                    )));
                }
                depth -= 1;
                open_at.pop();
                TokKind::RParen
            }
            b',' => {
                i += 1;
                TokKind::Comma
            }
            b':' => {
                i += 1;
                TokKind::Colon
            }
            _ => {
                // One character (UTF-8 aware).
                i += soql[i..].chars().next().map_or(1, char::len_utf8);
                TokKind::Other
            }
        };
        toks.push(Tok {
            kind,
            start,
            end: i,
            depth,
        });
    }
    if let Some(&pos) = open_at.last() {
        let (l, col) = line_col(soql, pos);
        return Err(Error::invalid_argument(format!(
            "unbalanced parentheses in SOQL: '(' at line {l} column {col} is not closed"
        )));
    }
    Ok(toks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<(TokKind, String)> {
        lex(s)
            .unwrap()
            .iter()
            .map(|t| (t.kind, t.text(s).to_string()))
            .collect()
    }

    #[test]
    fn literals_keep_escapes_and_parens_inside() {
        let k = kinds(r"Name = 'a\'b (c) \\' AND x");
        assert_eq!(k[2], (TokKind::Str, r"'a\'b (c) \\'".to_string()));
        assert_eq!(k[3], (TokKind::Word, "AND".to_string()));
    }

    #[test]
    fn errors_name_the_place() {
        let e = lex("SELECT Id FROM A WHERE Name = 'x").unwrap_err();
        assert!(e.message().contains("line 1 column 31"), "{}", e.message());
        assert!(
            lex("SELECT (Id FROM A")
                .unwrap_err()
                .message()
                .contains("not closed")
        );
        assert!(
            lex("SELECT Id) FROM A")
                .unwrap_err()
                .message()
                .contains("has no '('")
        );
        // A trailing backslash inside a literal cannot close it.
        assert!(lex(r"x = 'abc\'").is_err());
    }

    #[test]
    fn depth_is_recorded() {
        let s = "a (b (c)) d";
        let t = lex(s).unwrap();
        let d: Vec<usize> = t.iter().map(|t| t.depth).collect();
        assert_eq!(d, vec![0, 0, 1, 1, 2, 1, 0, 0]);
    }
}
