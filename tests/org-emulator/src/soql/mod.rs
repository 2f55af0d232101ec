//! A SOQL parser for the subset the emulator serves:
//!
//! ```text
//! SELECT item, … FROM sObject [WHERE expr] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], …]
//!        [LIMIT n] [OFFSET n]
//! item := field path | COUNT() | COUNT(field) | (SELECT fields FROM ChildRelationship [WHERE expr]
//!         [ORDER BY …] [LIMIT n]) | TYPEOF rel WHEN Type THEN fields … [ELSE fields] END
//! expr := term {AND term} | term {OR term} | NOT term      (AND and OR need parentheses to mix)
//! term := (expr) | field op literal | field [NOT] IN (literal, …) | field LIKE 'pattern'
//!         | field INCLUDES|EXCLUDES ('a;b', …)
//! ```
//!
//! Keywords and identifiers are case-insensitive. String literals use single quotes with backslash
//! escapes only (no `''` doubling) [salesforce-api.md §8]; dateTime/date/number/boolean/null and
//! date literals (`TODAY`, `LAST_N_DAYS:30`, …) are unquoted [salesforce-api.md §4 "Types in JSON"].
//! Valid SOQL outside the subset (GROUP BY, semi-joins, FIELDS(), …) is rejected with
//! `MALFORMED_QUERY` and a message starting `sf-org-emulator:` so that nobody mistakes it for
//! Salesforce's own text.

mod lex;

use crate::time;
pub use lex::{Spanned, positioned};
use lex::{Tok, lex, malformed};

/// A parse or semantic error, rendered as a REST error array entry (HTTP 400).
#[derive(Debug, Clone, PartialEq)]
pub struct SoqlError {
    /// Salesforce `errorCode` (`MALFORMED_QUERY`, `INVALID_FIELD`, `INVALID_TYPE`, …).
    pub code: &'static str,
    /// Message text.
    pub message: String,
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
    /// A date literal (`TODAY`, `LAST_N_DAYS:30`): upper-cased name and `n`.
    DateLiteral(String, Option<i64>),
    /// A resolved date literal: the half-open range `[start, end)` in the field's unit (days for
    /// date fields, ms for dateTime fields). Made by the planner, never by the parser.
    Range(i64, i64),
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
    /// `LIKE 'pattern'` (`%` any run, `_` one character, case-insensitive)
    Like,
    /// `INCLUDES ('a;b', 'c')` on a multi-select picklist
    Includes,
    /// `EXCLUDES (…)`
    Excludes,
}

/// One `field op literal` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    /// Field path as written.
    pub field: Spanned<String>,
    /// Operator.
    pub op: Op,
    /// One literal, or several for IN / INCLUDES / EXCLUDES.
    pub values: Vec<Spanned<Literal>>,
}

/// A WHERE expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A condition.
    Cond(Cond),
    /// All of.
    And(Vec<Expr>),
    /// Any of.
    Or(Vec<Expr>),
    /// Negation.
    Not(Box<Expr>),
}

/// `TYPEOF rel WHEN Type THEN fields … [ELSE fields] END`.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeOf {
    /// The polymorphic relationship (`What`).
    pub rel: Spanned<String>,
    /// `(sObject type, fields)` per WHEN.
    pub whens: Vec<(Spanned<String>, Vec<Spanned<String>>)>,
    /// ELSE fields.
    pub otherwise: Option<Vec<Spanned<String>>>,
}

/// A parent-to-child subquery `(SELECT … FROM Contacts …)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubQuery {
    /// Field paths.
    pub select: Vec<Spanned<String>>,
    /// The child relationship name (`Contacts`).
    pub from: Spanned<String>,
    /// WHERE.
    pub filter: Option<Expr>,
    /// ORDER BY.
    pub order: Vec<OrderItem>,
    /// LIMIT.
    pub limit: Option<u64>,
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
    /// A child subquery.
    Sub(Box<SubQuery>),
    /// A TYPEOF expression.
    TypeOf(TypeOf),
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
    /// WHERE.
    pub filter: Option<Expr>,
    /// ORDER BY.
    pub order: Vec<OrderItem>,
    /// LIMIT.
    pub limit: Option<u64>,
    /// OFFSET.
    pub offset: Option<u64>,
}

/// An emulator limitation (valid SOQL that the subset does not implement).
pub fn unsupported(what: &str) -> SoqlError {
    SoqlError { code: "MALFORMED_QUERY", message: format!("sf-org-emulator: unsupported SOQL: {what}") }
}

/// Date literals without `:n` [SOQL reference "Date Formats and Date Literals"].
pub const DATE_LITERALS: &[&str] = &[
    "YESTERDAY", "TODAY", "TOMORROW", "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK", "LAST_MONTH", "THIS_MONTH",
    "NEXT_MONTH", "LAST_90_DAYS", "NEXT_90_DAYS", "THIS_QUARTER", "LAST_QUARTER", "NEXT_QUARTER",
    "THIS_YEAR", "LAST_YEAR", "NEXT_YEAR", "THIS_FISCAL_QUARTER", "LAST_FISCAL_QUARTER",
    "NEXT_FISCAL_QUARTER", "THIS_FISCAL_YEAR", "LAST_FISCAL_YEAR", "NEXT_FISCAL_YEAR",
];
/// Date literals that take `:n`.
pub const DATE_LITERALS_N: &[&str] = &[
    "LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO", "NEXT_N_WEEKS", "LAST_N_WEEKS", "N_WEEKS_AGO",
    "NEXT_N_MONTHS", "LAST_N_MONTHS", "N_MONTHS_AGO", "NEXT_N_QUARTERS", "LAST_N_QUARTERS",
    "N_QUARTERS_AGO", "NEXT_N_YEARS", "LAST_N_YEARS", "N_YEARS_AGO", "NEXT_N_FISCAL_QUARTERS",
    "LAST_N_FISCAL_QUARTERS", "N_FISCAL_QUARTERS_AGO", "NEXT_N_FISCAL_YEARS", "LAST_N_FISCAL_YEARS",
    "N_FISCAL_YEARS_AGO",
];

const RESERVED: &[&str] = &[
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "ORDER", "BY", "ASC", "DESC", "NULLS", "FIRST",
    "LAST", "LIMIT", "OFFSET", "IN", "LIKE", "GROUP", "HAVING", "WITH", "FOR", "TYPEOF", "USING",
    "INCLUDES", "EXCLUDES", "NULL", "TRUE", "FALSE", "WHEN", "THEN", "ELSE", "END",
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
    fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.i + k).map(|t| &t.v)
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
    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek().v, Tok::Punct(x) if x == p)
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        let yes = self.is_kw(kw);
        if yes {
            self.next();
        }
        yes
    }
    fn eat_punct(&mut self, p: &str) -> bool {
        let yes = self.is_punct(p);
        if yes {
            self.next();
        }
        yes
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
        if self.eat_punct(p) { Ok(()) } else { Err(self.unexpected()) }
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
    fn field_list(&mut self) -> Result<Vec<Spanned<String>>, SoqlError> {
        let mut out = vec![self.field()?];
        while self.eat_punct(",") {
            out.push(self.field()?);
        }
        Ok(out)
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
    fn date_literal(&mut self, name: String, pos: usize) -> Result<Literal, SoqlError> {
        let upper = name.to_ascii_uppercase();
        if DATE_LITERALS.contains(&upper.as_str()) {
            return Ok(Literal::DateLiteral(upper, None));
        }
        if !DATE_LITERALS_N.contains(&upper.as_str()) {
            return Err(malformed(self.text, pos, &format!("unexpected token: {name}")));
        }
        if !self.eat_punct(":") {
            return Err(self.unexpected());
        }
        let n = self.uint(&upper)?;
        Ok(Literal::DateLiteral(upper, Some(n as i64)))
    }
    fn literal(&mut self) -> Result<Spanned<Literal>, SoqlError> {
        let t = self.next();
        let v = match t.v {
            Tok::Str(s) => Literal::Str(s),
            Tok::Ident(s) if s.eq_ignore_ascii_case("null") => Literal::Null,
            Tok::Ident(s) if s.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Tok::Ident(s) if s.eq_ignore_ascii_case("false") => Literal::Bool(false),
            Tok::Ident(s) if !s.contains('.') => self.date_literal(s, t.pos)?,
            Tok::Num(n) => self.number(n, t.pos)?,
            _ => {
                self.i -= 1;
                return Err(self.unexpected());
            }
        };
        Ok(Spanned { v, pos: t.pos })
    }
    fn number(&self, n: String, pos: usize) -> Result<Literal, SoqlError> {
        if n.contains('T') {
            let ms = time::parse_datetime(&n)
                .ok_or_else(|| malformed(self.text, pos, &format!("line 1:{pos} no viable alternative at character '{n}'")))?;
            Ok(Literal::DateTime(ms))
        } else if n.len() == 10 && n.as_bytes()[4] == b'-' {
            Ok(Literal::Date(time::parse_date(&n).ok_or_else(|| malformed(self.text, pos, &format!("unexpected token: {n}")))?))
        } else if n.trim_start_matches('-').bytes().all(|c| c.is_ascii_digit() || c == b'.') && n.matches('.').count() <= 1 && !n.ends_with('.') {
            Ok(Literal::Number(n))
        } else {
            Err(malformed(self.text, pos, &format!("unexpected token: {n}")))
        }
    }
    fn literal_list(&mut self) -> Result<Vec<Spanned<Literal>>, SoqlError> {
        self.expect_punct("(")?;
        if self.is_kw("SELECT") {
            return Err(unsupported("semi-join subqueries"));
        }
        let mut vs = vec![self.literal()?];
        while self.eat_punct(",") {
            vs.push(self.literal()?);
        }
        self.expect_punct(")")?;
        Ok(vs)
    }
    fn cond(&mut self) -> Result<Cond, SoqlError> {
        let field = self.field()?;
        let t = self.next();
        let op = match &t.v {
            Tok::Punct("=") => Op::Eq,
            Tok::Punct("!=") | Tok::Punct("<>") => Op::Ne,
            Tok::Punct("<") => Op::Lt,
            Tok::Punct("<=") => Op::Le,
            Tok::Punct(">") => Op::Gt,
            Tok::Punct(">=") => Op::Ge,
            Tok::Ident(s) if s.eq_ignore_ascii_case("IN") => Op::In,
            Tok::Ident(s) if s.eq_ignore_ascii_case("NOT") && self.eat_kw("IN") => Op::NotIn,
            Tok::Ident(s) if s.eq_ignore_ascii_case("LIKE") => Op::Like,
            Tok::Ident(s) if s.eq_ignore_ascii_case("INCLUDES") => Op::Includes,
            Tok::Ident(s) if s.eq_ignore_ascii_case("EXCLUDES") => Op::Excludes,
            _ => {
                self.i -= 1;
                return Err(self.unexpected());
            }
        };
        let values = match op {
            Op::In | Op::NotIn | Op::Includes | Op::Excludes => self.literal_list()?,
            _ => vec![self.literal()?],
        };
        Ok(Cond { field, op, values })
    }
    fn term(&mut self) -> Result<Expr, SoqlError> {
        if self.eat_kw("NOT") {
            return Ok(Expr::Not(Box::new(self.term()?)));
        }
        if self.eat_punct("(") {
            let e = self.expr()?;
            self.expect_punct(")")?;
            return Ok(e);
        }
        Ok(Expr::Cond(self.cond()?))
    }
    /// `term {AND term}` or `term {OR term}`: mixing the two without parentheses is refused, as
    /// Salesforce does (its message text is UNCONFIRMED; the emulator reports the token).
    fn expr(&mut self) -> Result<Expr, SoqlError> {
        let first = self.term()?;
        let joiner = if self.is_kw("AND") {
            "AND"
        } else if self.is_kw("OR") {
            "OR"
        } else {
            return Ok(first);
        };
        let mut parts = vec![first];
        while self.eat_kw(joiner) {
            parts.push(self.term()?);
        }
        if self.is_kw("AND") || self.is_kw("OR") {
            return Err(self.unexpected());
        }
        Ok(if joiner == "AND" { Expr::And(parts) } else { Expr::Or(parts) })
    }
    fn order_by(&mut self) -> Result<Vec<OrderItem>, SoqlError> {
        let mut order = Vec::new();
        if !self.eat_kw("ORDER") {
            return Ok(order);
        }
        self.expect_kw("BY")?;
        loop {
            let field = self.field()?;
            let desc = if self.eat_kw("DESC") {
                true
            } else {
                self.eat_kw("ASC");
                false
            };
            let nulls_first = if self.eat_kw("NULLS") {
                if self.eat_kw("FIRST") {
                    Some(true)
                } else {
                    self.expect_kw("LAST")?;
                    Some(false)
                }
            } else {
                None
            };
            order.push(OrderItem { field, desc, nulls_first });
            if !self.eat_punct(",") {
                return Ok(order);
            }
        }
    }
    fn clauses_after_where(&self) -> Result<(), SoqlError> {
        for kw in ["GROUP", "HAVING", "WITH", "USING"] {
            if self.is_kw(kw) {
                return Err(unsupported(&format!("{kw} clauses")));
            }
        }
        Ok(())
    }
    fn subquery(&mut self) -> Result<SubQuery, SoqlError> {
        self.expect_kw("SELECT")?;
        if self.is_punct("(") || self.is_kw("TYPEOF") {
            return Err(malformed(self.text, self.peek().pos, "unexpected token: nested subquery"));
        }
        let select = self.field_list()?;
        self.expect_kw("FROM")?;
        let from = self.field()?;
        let filter = if self.eat_kw("WHERE") { Some(self.expr()?) } else { None };
        self.clauses_after_where()?;
        let order = self.order_by()?;
        let limit = if self.eat_kw("LIMIT") { Some(self.uint("LIMIT")?) } else { None };
        if self.is_kw("OFFSET") {
            return Err(unsupported("OFFSET in a subquery"));
        }
        self.expect_punct(")")?;
        Ok(SubQuery { select, from, filter, order, limit })
    }
    fn type_of(&mut self) -> Result<TypeOf, SoqlError> {
        let rel = self.field()?;
        let mut whens = Vec::new();
        while self.eat_kw("WHEN") {
            let ty = self.field()?;
            self.expect_kw("THEN")?;
            whens.push((ty, self.field_list()?));
        }
        if whens.is_empty() {
            return Err(self.unexpected());
        }
        let otherwise = if self.eat_kw("ELSE") { Some(self.field_list()?) } else { None };
        self.expect_kw("END")?;
        Ok(TypeOf { rel, whens, otherwise })
    }
    fn select_item(&mut self) -> Result<SelectItem, SoqlError> {
        if self.eat_punct("(") {
            return Ok(SelectItem::Sub(Box::new(self.subquery()?)));
        }
        if self.eat_kw("TYPEOF") {
            return Ok(SelectItem::TypeOf(self.type_of()?));
        }
        let call = matches!(self.peek_at(1), Some(Tok::Punct("(")));
        if call && self.is_kw("COUNT") {
            self.next();
            self.next();
            if self.eat_punct(")") {
                return Ok(SelectItem::CountAll);
            }
            let f = self.field()?;
            self.expect_punct(")")?;
            return Ok(SelectItem::CountField(f));
        }
        if call && self.is_kw("FIELDS") {
            return Err(unsupported("FIELDS()"));
        }
        if call && matches!(self.peek().v, Tok::Ident(_)) {
            return Err(unsupported("aggregate and date functions other than COUNT"));
        }
        Ok(SelectItem::Field(self.field()?))
    }
}

/// Parse a SOQL query of the supported subset.
pub fn parse(text: &str) -> Result<Query, SoqlError> {
    let toks = lex(text)?;
    let mut p = P { text, toks, i: 0 };
    p.expect_kw("SELECT")?;
    let mut select = vec![p.select_item()?];
    while p.eat_punct(",") {
        select.push(p.select_item()?);
    }
    p.expect_kw("FROM")?;
    let from = p.field()?;
    if from.v.contains('.') {
        return Err(malformed(text, from.pos, &format!("unexpected token: {}", from.v)));
    }
    if p.is_punct(",") {
        return Err(unsupported("multiple FROM objects"));
    }
    let filter = if p.eat_kw("WHERE") { Some(p.expr()?) } else { None };
    p.clauses_after_where()?;
    let order = p.order_by()?;
    let limit = if p.eat_kw("LIMIT") { Some(p.uint("LIMIT")?) } else { None };
    let offset = if p.eat_kw("OFFSET") { Some(p.uint("OFFSET")?) } else { None };
    if p.is_kw("FOR") {
        return Err(unsupported("FOR VIEW/REFERENCE/UPDATE"));
    }
    if p.peek().v != Tok::Eof {
        return Err(p.unexpected());
    }
    Ok(Query { text: text.to_string(), select, from, filter, order, limit, offset })
}

#[cfg(test)]
mod tests;
