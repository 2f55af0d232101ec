//! A SOQL subset parser: `SELECT <fields | COUNT() | COUNT(field)> FROM <sObject> [WHERE c AND c …]
//! [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], …] [LIMIT n] [OFFSET n]`. Keywords and identifiers are
//! case-insensitive. String literals use single quotes with backslash escapes only (no `''`
//! doubling) [salesforce-api.md §8]; dateTime/date/number/boolean literals are unquoted
//! [salesforce-api.md §4 "Types in JSON"]. Constructs outside the subset (OR, NOT, LIKE, subqueries,
//! GROUP BY, …) are rejected with `MALFORMED_QUERY` and a message starting `sf-org-emulator:` so that
//! nobody mistakes them for Salesforce's own text.

use crate::time;

/// A parse or semantic error, rendered as a REST error array entry (HTTP 400).
#[derive(Debug, Clone, PartialEq)]
pub struct SoqlError {
    /// Salesforce `errorCode` (`MALFORMED_QUERY`, `INVALID_FIELD`, `INVALID_TYPE`, …).
    pub code: &'static str,
    /// Message text.
    pub message: String,
}

/// A value with its source column (1-based, in characters) for error messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub v: T,
    /// Byte offset in the query text.
    pub pos: usize,
}

/// A literal in a WHERE clause.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `'text'`, unescaped.
    Str(String),
    /// An unquoted number (exact text).
    Number(String),
    /// An unquoted dateTime, as epoch ms.
    DateTime(i64),
    /// An unquoted date, as epoch days.
    Date(i64),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=` or `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `IN (…)`
    In,
    /// `NOT IN (…)`
    NotIn,
}

/// One `field op literal` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    /// Field path as written.
    pub field: Spanned<String>,
    /// Operator.
    pub op: Op,
    /// One literal, or several for IN.
    pub values: Vec<Spanned<Literal>>,
}

/// A SELECT item.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// A field path (`Name`, `Account.Name`, `contact.owner.alias`).
    Field(Spanned<String>),
    /// `COUNT()`.
    CountAll,
    /// `COUNT(field)` (an aggregate, returned as `expr0`).
    CountField(Spanned<String>),
}

/// An ORDER BY item.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    /// Field path.
    pub field: Spanned<String>,
    /// DESC?
    pub desc: bool,
    /// Explicit NULLS FIRST (`Some(true)`) / NULLS LAST (`Some(false)`).
    pub nulls_first: Option<bool>,
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The original text.
    pub text: String,
    /// SELECT list.
    pub select: Vec<SelectItem>,
    /// FROM sObject as written.
    pub from: Spanned<String>,
    /// AND-ed conditions.
    pub conds: Vec<Cond>,
    /// ORDER BY.
    pub order: Vec<OrderItem>,
    /// LIMIT.
    pub limit: Option<u64>,
    /// OFFSET.
    pub offset: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Punct(&'static str),
    Eof,
}

/// Build Salesforce's positional error text: the query, a caret line, `ERROR at Row:R:Column:C`,
/// then the detail.
pub fn positioned(text: &str, pos: usize, detail: &str) -> String {
    let before = &text[..pos.min(text.len())];
    let row = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    let line = text[line_start..].lines().next().unwrap_or("");
    format!("\n{line}\n{}^\nERROR at Row:{row}:Column:{col}\n{detail}", " ".repeat(col - 1))
}

fn malformed(text: &str, pos: usize, detail: &str) -> SoqlError {
    SoqlError { code: "MALFORMED_QUERY", message: positioned(text, pos, detail) }
}

/// An emulator limitation (valid SOQL that the subset does not implement).
pub fn unsupported(what: &str) -> SoqlError {
    SoqlError { code: "MALFORMED_QUERY", message: format!("sf-org-emulator: unsupported SOQL: {what}") }
}

fn lex(text: &str) -> Result<Vec<Spanned<Tok>>, SoqlError> {
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
            i += 1;
            let mut s = String::new();
            loop {
                let Some(ch) = text[i..].chars().next() else {
                    return Err(malformed(text, start, "unexpected token: '<unterminated string>'"));
                };
                i += ch.len_utf8();
                match ch {
                    '\'' => break,
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
                                let ch = hex.and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32);
                                match ch {
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
            let two = text.get(i..i + 2).unwrap_or("");
            let p: &'static str = match two {
                "!=" => "!=",
                "<>" => "<>",
                "<=" => "<=",
                ">=" => ">=",
                _ => match c {
                    b'(' => "(",
                    b')' => ")",
                    b',' => ",",
                    b'=' => "=",
                    b'<' => "<",
                    b'>' => ">",
                    b':' => ":",
                    _ => {
                        let ch = text[i..].chars().next().unwrap_or('?');
                        return Err(malformed(text, start, &format!("unexpected token: '{ch}'")));
                    }
                },
            };
            i += p.len();
            out.push(Spanned { v: Tok::Punct(p), pos: start });
        }
    }
    out.push(Spanned { v: Tok::Eof, pos: text.len() });
    Ok(out)
}

fn bad_escape(text: &str, pos: usize, so_far: &str, seq: &str) -> SoqlError {
    malformed(
        text,
        pos,
        &format!("Invalid string literal '{so_far}{seq}'. Illegal character sequence '{seq}' in string literal."),
    )
}

const RESERVED: &[&str] = &[
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "ORDER", "BY", "ASC", "DESC", "NULLS", "FIRST",
    "LAST", "LIMIT", "OFFSET", "IN", "LIKE", "GROUP", "HAVING", "WITH", "FOR", "TYPEOF", "USING",
    "INCLUDES", "EXCLUDES", "NULL", "TRUE", "FALSE",
];

struct P<'a> {
    text: &'a str,
    toks: Vec<Spanned<Tok>>,
    i: usize,
}

impl P<'_> {
    fn peek(&self) -> &Spanned<Tok> {
        &self.toks[self.i]
    }
    fn next(&mut self) -> Spanned<Tok> {
        let t = self.toks[self.i].clone();
        if self.i + 1 < self.toks.len() {
            self.i += 1;
        }
        t
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.peek().v, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.next();
            true
        } else {
            false
        }
    }
    fn unexpected(&self) -> SoqlError {
        let t = self.peek();
        let shown = match &t.v {
            Tok::Ident(s) | Tok::Num(s) => s.clone(),
            Tok::Str(s) => format!("'{s}'"),
            Tok::Punct(p) => p.to_string(),
            Tok::Eof => "<EOF>".to_string(),
        };
        malformed(self.text, t.pos, &format!("unexpected token: {shown}"))
    }
    fn expect_kw(&mut self, kw: &str) -> Result<(), SoqlError> {
        if self.eat_kw(kw) { Ok(()) } else { Err(self.unexpected()) }
    }
    fn expect_punct(&mut self, p: &str) -> Result<(), SoqlError> {
        if self.peek().v == Tok::Punct(match p {
            "(" => "(",
            ")" => ")",
            _ => ",",
        }) {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }
    fn field(&mut self) -> Result<Spanned<String>, SoqlError> {
        match &self.peek().v {
            Tok::Ident(s) if !RESERVED.iter().any(|k| k.eq_ignore_ascii_case(s)) => {
                let t = self.next();
                let Tok::Ident(s) = t.v else { unreachable!() };
                if s.starts_with('.') || s.ends_with('.') || s.contains("..") {
                    return Err(malformed(self.text, t.pos, &format!("unexpected token: {s}")));
                }
                Ok(Spanned { v: s, pos: t.pos })
            }
            _ => Err(self.unexpected()),
        }
    }
    fn uint(&mut self, what: &str) -> Result<u64, SoqlError> {
        let t = self.next();
        match t.v {
            Tok::Num(n) if n.bytes().all(|c| c.is_ascii_digit()) => n
                .parse()
                .map_err(|_| SoqlError { code: "NUMBER_OUTSIDE_VALID_RANGE", message: format!("{what} value is out of range: {n}") }),
            _ => {
                self.i -= 1;
                Err(self.unexpected())
            }
        }
    }
    fn literal(&mut self) -> Result<Spanned<Literal>, SoqlError> {
        let t = self.next();
        let v = match t.v {
            Tok::Str(s) => Literal::Str(s),
            Tok::Ident(s) if s.eq_ignore_ascii_case("null") => Literal::Null,
            Tok::Ident(s) if s.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Tok::Ident(s) if s.eq_ignore_ascii_case("false") => Literal::Bool(false),
            Tok::Ident(s) if s.chars().all(|c| c.is_ascii_uppercase() || c == '_') && s.len() > 1 => {
                return Err(unsupported(&format!("date literal {s}")));
            }
            Tok::Num(n) => {
                if n.contains('T') {
                    Literal::DateTime(time::parse_datetime(&n).ok_or_else(|| {
                        malformed(self.text, t.pos, &format!("line 1:{} no viable alternative at character '{n}'", t.pos))
                    })?)
                } else if n.len() == 10 && n.as_bytes()[4] == b'-' {
                    Literal::Date(time::parse_date(&n).ok_or_else(|| malformed(self.text, t.pos, &format!("unexpected token: {n}")))?)
                } else if n.trim_start_matches('-').bytes().all(|c| c.is_ascii_digit() || c == b'.')
                    && n.matches('.').count() <= 1
                    && !n.ends_with('.')
                {
                    Literal::Number(n)
                } else {
                    return Err(malformed(self.text, t.pos, &format!("unexpected token: {n}")));
                }
            }
            _ => {
                self.i -= 1;
                return Err(self.unexpected());
            }
        };
        Ok(Spanned { v, pos: t.pos })
    }
}

/// Parse a SOQL query of the supported subset.
pub fn parse(text: &str) -> Result<Query, SoqlError> {
    let toks = lex(text)?;
    let mut p = P { text, toks, i: 0 };
    p.expect_kw("SELECT")?;
    let mut select = Vec::new();
    loop {
        if p.peek().v == Tok::Punct("(") {
            return Err(unsupported("parent-to-child subqueries"));
        }
        if p.is_kw("TYPEOF") {
            return Err(unsupported("TYPEOF"));
        }
        if matches!(&p.peek().v, Tok::Ident(s) if s.eq_ignore_ascii_case("COUNT"))
            && p.toks.get(p.i + 1).is_some_and(|t| t.v == Tok::Punct("("))
        {
            p.next();
            p.next();
            if p.peek().v == Tok::Punct(")") {
                p.next();
                select.push(SelectItem::CountAll);
            } else {
                let f = p.field()?;
                p.expect_punct(")")?;
                select.push(SelectItem::CountField(f));
            }
        } else if matches!(&p.peek().v, Tok::Ident(s) if s.eq_ignore_ascii_case("FIELDS"))
            && p.toks.get(p.i + 1).is_some_and(|t| t.v == Tok::Punct("("))
        {
            return Err(unsupported("FIELDS()"));
        } else if matches!(&p.peek().v, Tok::Ident(_)) && p.toks.get(p.i + 1).is_some_and(|t| t.v == Tok::Punct("(")) {
            return Err(unsupported("aggregate and date functions other than COUNT"));
        } else {
            select.push(SelectItem::Field(p.field()?));
        }
        if p.peek().v == Tok::Punct(",") {
            p.next();
            continue;
        }
        break;
    }
    p.expect_kw("FROM")?;
    let from = p.field()?;
    if from.v.contains('.') {
        return Err(malformed(text, from.pos, &format!("unexpected token: {}", from.v)));
    }
    if p.peek().v == Tok::Punct(",") {
        return Err(unsupported("multiple FROM objects"));
    }
    let mut conds = Vec::new();
    if p.eat_kw("WHERE") {
        loop {
            if p.peek().v == Tok::Punct("(") {
                return Err(unsupported("parenthesised WHERE expressions"));
            }
            if p.is_kw("NOT") {
                return Err(unsupported("NOT"));
            }
            let field = p.field()?;
            let t = p.next();
            let op = match t.v {
                Tok::Punct("=") => Op::Eq,
                Tok::Punct("!=") | Tok::Punct("<>") => Op::Ne,
                Tok::Punct("<") => Op::Lt,
                Tok::Punct("<=") => Op::Le,
                Tok::Punct(">") => Op::Gt,
                Tok::Punct(">=") => Op::Ge,
                Tok::Ident(ref s) if s.eq_ignore_ascii_case("IN") => Op::In,
                Tok::Ident(ref s) if s.eq_ignore_ascii_case("NOT") && p.eat_kw("IN") => Op::NotIn,
                Tok::Ident(ref s) if ["LIKE", "INCLUDES", "EXCLUDES"].iter().any(|k| k.eq_ignore_ascii_case(s)) => {
                    return Err(unsupported(&s.to_ascii_uppercase()));
                }
                _ => {
                    p.i -= 1;
                    return Err(p.unexpected());
                }
            };
            let values = if matches!(op, Op::In | Op::NotIn) {
                p.expect_punct("(")?;
                if p.is_kw("SELECT") {
                    return Err(unsupported("semi-join subqueries"));
                }
                let mut vs = vec![p.literal()?];
                while p.peek().v == Tok::Punct(",") {
                    p.next();
                    vs.push(p.literal()?);
                }
                p.expect_punct(")")?;
                vs
            } else {
                vec![p.literal()?]
            };
            conds.push(Cond { field, op, values });
            if p.eat_kw("AND") {
                continue;
            }
            if p.is_kw("OR") {
                return Err(unsupported("OR"));
            }
            break;
        }
    }
    if p.is_kw("GROUP") || p.is_kw("HAVING") || p.is_kw("WITH") || p.is_kw("USING") {
        return Err(unsupported(&format!("{:?} clauses", p.peek().v)));
    }
    let mut order = Vec::new();
    if p.eat_kw("ORDER") {
        p.expect_kw("BY")?;
        loop {
            let field = p.field()?;
            let desc = if p.eat_kw("DESC") {
                true
            } else {
                p.eat_kw("ASC");
                false
            };
            let nulls_first = if p.eat_kw("NULLS") {
                if p.eat_kw("FIRST") {
                    Some(true)
                } else {
                    p.expect_kw("LAST")?;
                    Some(false)
                }
            } else {
                None
            };
            order.push(OrderItem { field, desc, nulls_first });
            if p.peek().v == Tok::Punct(",") {
                p.next();
                continue;
            }
            break;
        }
    }
    let limit = if p.eat_kw("LIMIT") { Some(p.uint("LIMIT")?) } else { None };
    let offset = if p.eat_kw("OFFSET") { Some(p.uint("OFFSET")?) } else { None };
    if p.is_kw("FOR") {
        return Err(unsupported("FOR VIEW/REFERENCE/UPDATE"));
    }
    if p.peek().v != Tok::Eof {
        return Err(p.unexpected());
    }
    Ok(Query { text: text.to_string(), select, from, conds, order, limit, offset })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_seed_queries() {
        let q = parse("SELECT name, account.name, title, phone, email, contact.owner.alias FROM contact LIMIT 100 OFFSET 0").unwrap();
        assert_eq!(q.select.len(), 6);
        assert_eq!(q.from.v, "contact");
        assert_eq!((q.limit, q.offset), (Some(100), Some(0)));
        let q = parse("select count() from Opportunity").unwrap();
        assert_eq!(q.select, vec![SelectItem::CountAll]);
    }

    #[test]
    fn where_and_order() {
        let q = parse("SELECT Id FROM Contact WHERE Id > '003\\'x' AND SystemModstamp >= 2024-01-01T00:00:00+00:00 ORDER BY SystemModstamp ASC, Id DESC NULLS LAST LIMIT 5").unwrap();
        assert_eq!(q.conds.len(), 2);
        assert_eq!(q.conds[0].values[0].v, Literal::Str("003'x".into()));
        assert_eq!(q.conds[1].values[0].v, Literal::DateTime(1_704_067_200_000));
        assert_eq!(q.order.len(), 2);
        assert!(q.order[1].desc);
        assert_eq!(q.order[1].nulls_first, Some(false));
    }

    #[test]
    fn errors() {
        let e = parse("SELECT Id FROM Contact WHERE").unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
        assert!(e.message.contains("ERROR at Row:1:Column:29"), "{}", e.message);
        let e = parse("SELECT Id FROM Contact WHERE Name = 'a\\qb'").unwrap_err();
        assert!(e.message.contains("Illegal character sequence '\\q'"), "{}", e.message);
        assert!(parse("SELECT Id FROM Contact WHERE Name = 'it''s'").is_err());
        assert!(parse("SELECT Id FROM Contact WHERE Id = 'a' OR Id = 'b'").unwrap_err().message.starts_with("sf-org-emulator"));
        assert!(parse("SELECT Id FROM Contact LIMIT 5 5").is_err());
    }
}
