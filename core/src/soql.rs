//! SOQL text, built safely: the only way the SDK produces a query string (seed defect D16).
//!
//! Identifiers (sObject names, field paths) cannot be quoted or escaped in SOQL, so they are
//! validated against Salesforce's naming rules and refused otherwise ([`ErrorKind::InvalidIdentifier`],
//! naming the offending identifier). Literals are typed ([`SoqlValue`]): strings are escaped with
//! backslashes (SOQL has no `''` doubling), Ids are checked as 15/18 alphanumerics, dates and
//! datetimes are validated and rendered unquoted in UTC. The [`SoqlQuery`] builder only accepts
//! these validated pieces, so no caller string reaches the query text unchecked.
//!
//! Salesforce facts used here come from `salesforce-api.md` §4 (datetime formats, COUNT(), OFFSET)
//! and §8 (literal escapes, identifier rules).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// The largest OFFSET Salesforce accepts; larger values fail with `NUMBER_OUTSIDE_VALID_RANGE`
/// [salesforce-api.md §4 "OFFSET"]. The builder refuses to render a larger one.
pub const MAX_OFFSET: u64 = 2000;

/// Longest local part of an API name (custom object/field name without namespace or suffix)
/// [salesforce-api.md §8].
pub const MAX_LOCAL_NAME_LEN: usize = 40;

/// Longest namespace prefix [salesforce-api.md §8].
pub const MAX_NAMESPACE_LEN: usize = 15;

/// Longest relationship path accepted in a [`FieldPath`] (segments). Salesforce allows at most five
/// levels of child-to-parent traversal; one more segment is the field itself.
pub const MAX_PATH_SEGMENTS: usize = 6;

fn invalid_identifier(what: &str, ident: &str, why: &str) -> Error {
    // The identifier is caller input; show it escaped so control characters cannot garble logs.
    Error::new(ErrorKind::InvalidIdentifier, format!("invalid {what} {:?}: {why}", ident))
}

/// `[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*`: a name part with no leading, trailing or double `_`.
fn is_name_part(s: &str) -> bool {
    let bytes = s.as_bytes();
    if bytes.is_empty() || !bytes[0].is_ascii_alphabetic() {
        return false;
    }
    let mut prev_underscore = false;
    for &b in &bytes[1..] {
        match b {
            b'_' if prev_underscore => return false,
            b'_' => prev_underscore = true,
            b if b.is_ascii_alphanumeric() => prev_underscore = false,
            _ => return false,
        }
    }
    !prev_underscore
}

/// Checks one identifier segment against Salesforce's API-name rules [salesforce-api.md §8]:
/// `^(?:NS__)?LOCAL(?:__suffix)?$` where NS (≤15 chars) and LOCAL (≤40 chars) start with a letter
/// and hold letters, digits and single `_` (none trailing), and the suffix (`c`, `r`, `x`, `mdt`,
/// `e`, `b`, `Share`, `History`, `Feed`, ...) is letters only.
fn check_segment(segment: &str) -> std::result::Result<(), &'static str> {
    if segment.is_empty() {
        return Err("empty name");
    }
    if !segment.is_ascii() {
        return Err("only ASCII letters, digits and '_' are allowed");
    }
    let parts: Vec<&str> = segment.split("__").collect();
    let local_ok = |p: &str| is_name_part(p) && p.len() <= MAX_LOCAL_NAME_LEN;
    let ns_ok = |p: &str| is_name_part(p) && p.len() <= MAX_NAMESPACE_LEN;
    let suffix_ok = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphabetic());
    let ok = match parts.as_slice() {
        [local] => local_ok(local),
        [a, b] => (local_ok(a) && suffix_ok(b)) || (ns_ok(a) && local_ok(b)),
        [ns, local, suffix] => ns_ok(ns) && local_ok(local) && suffix_ok(suffix),
        _ => false,
    };
    if ok {
        Ok(())
    } else if segment.bytes().any(|b| !(b.is_ascii_alphanumeric() || b == b'_')) {
        Err("only letters, digits and '_' are allowed")
    } else if !segment.as_bytes()[0].is_ascii_alphabetic() {
        Err("must start with a letter")
    } else if segment.ends_with('_') {
        Err("must not end with '_'")
    } else if parts.iter().any(|p| p.len() > MAX_LOCAL_NAME_LEN) {
        Err("a name part is longer than 40 characters")
    } else {
        Err("'__' is only allowed after a namespace prefix (≤15 chars) or before a suffix such as __c/__r")
    }
}

/// A validated sObject API name (`Contact`, `Opportunity`, `Invoice__c`, `ns__Invoice__c`).
///
/// Kept as written: SOQL identifiers are case-insensitive, so `contact` and `Contact` name the
/// same object; [`SObjectName::eq_ignore_case`] compares that way.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SObjectName(String);

impl SObjectName {
    /// Validates `name` ([salesforce-api.md §8]); `InvalidIdentifier` naming it otherwise.
    pub fn new(name: impl AsRef<str>) -> Result<Self> {
        let name = name.as_ref();
        check_segment(name).map_err(|why| invalid_identifier("sObject name", name, why))?;
        Ok(SObjectName(name.to_string()))
    }
    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Case-insensitive comparison (SOQL identifiers are case-insensitive).
    pub fn eq_ignore_case(&self, other: &SObjectName) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl TryFrom<String> for SObjectName {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        SObjectName::new(s)
    }
}
impl From<SObjectName> for String {
    fn from(s: SObjectName) -> String {
        s.0
    }
}
impl fmt::Display for SObjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validated field path: a field name, optionally preceded by relationship names
/// (`Name`, `Account.Name`, `Owner.Alias`, `Parent__r.Region__c`).
///
/// Each dot-separated segment obeys the identifier rules of [`SObjectName`]; at most
/// [`MAX_PATH_SEGMENTS`] segments.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FieldPath {
    text: String,
}

impl FieldPath {
    /// Validates `path` (segments joined by `.`); `InvalidIdentifier` naming it otherwise.
    pub fn new(path: impl AsRef<str>) -> Result<Self> {
        let path = path.as_ref();
        let segments: Vec<&str> = path.split('.').collect();
        if segments.len() > MAX_PATH_SEGMENTS {
            return Err(invalid_identifier(
                "field path",
                path,
                "more than 5 relationship levels",
            ));
        }
        for seg in &segments {
            check_segment(seg).map_err(|why| {
                if segments.len() == 1 {
                    invalid_identifier("field name", path, why)
                } else {
                    invalid_identifier("field path", path, &format!("segment {seg:?}: {why}"))
                }
            })?;
        }
        Ok(FieldPath { text: path.to_string() })
    }
    /// The path as written (`Account.Name`).
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// The segments (`["Account", "Name"]`).
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.text.split('.')
    }
    /// Case-insensitive comparison (SOQL identifiers are case-insensitive).
    pub fn eq_ignore_case(&self, other: &FieldPath) -> bool {
        self.text.eq_ignore_ascii_case(&other.text)
    }
    /// True for a plain (non-relationship) field named `name`, ignoring case.
    pub fn is_field(&self, name: &str) -> bool {
        self.text.eq_ignore_ascii_case(name)
    }
}

impl TryFrom<String> for FieldPath {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        FieldPath::new(s)
    }
}
impl From<FieldPath> for String {
    fn from(s: FieldPath) -> String {
        s.text
    }
}
impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Escapes the content of a SOQL string literal (without the surrounding quotes).
///
/// Backslash is SOQL's only escape [salesforce-api.md §8]: `\` → `\\`, `'` → `\'`, `"` → `\"`,
/// newline → `\n`, carriage return → `\r`, tab → `\t`, backspace → `\b`, form feed → `\f`. Any other
/// control character is refused (`InvalidArgument`): SOQL has no escape for it.
pub fn escape_literal(value: &str) -> Result<String> {
    escape(value, false)
}

/// Like [`escape_literal`], and also escapes the LIKE wildcards `%` → `\%` and `_` → `\_`, so the
/// value matches itself literally inside a LIKE pattern [salesforce-api.md §8].
pub fn escape_like(value: &str) -> Result<String> {
    escape(value, true)
}

fn escape(value: &str, like: bool) -> Result<String> {
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '%' if like => out.push_str("\\%"),
            '_' if like => out.push_str("\\_"),
            c if c.is_control() => {
                return Err(Error::invalid_argument(format!(
                    "SOQL string literal contains control character U+{:04X}, which SOQL cannot escape",
                    c as u32
                )));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Quotes and escapes a string literal: `Bob's` → `'Bob\'s'`. See [`escape_literal`].
pub fn quote_literal(value: &str) -> Result<String> {
    Ok(format!("'{}'", escape_literal(value)?))
}

/// A Salesforce record Id: 15 (case-sensitive) or 18 (case-insensitive checksum) ASCII
/// alphanumerics. Rendered in SOQL as a quoted string literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SalesforceId(String);

impl SalesforceId {
    /// Validates `id`; `InvalidArgument` when it is not 15 or 18 ASCII letters/digits.
    pub fn new(id: impl AsRef<str>) -> Result<Self> {
        let id = id.as_ref();
        if (id.len() == 15 || id.len() == 18) && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(SalesforceId(id.to_string()))
        } else {
            Err(Error::invalid_argument(format!(
                "invalid Salesforce Id {:?}: expected 15 or 18 letters/digits",
                id
            )))
        }
    }
    /// The Id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for SalesforceId {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        SalesforceId::new(s)
    }
}
impl From<SalesforceId> for String {
    fn from(s: SalesforceId) -> String {
        s.0
    }
}
impl fmt::Display for SalesforceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// ---- calendar arithmetic (proleptic Gregorian, UTC), after H. Hinnant's days_from_civil ------

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}
fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn parse_digits(s: &str, what: &str, input: &str) -> Result<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_temporal(what, input));
    }
    s.parse::<u32>().map_err(|_| bad_temporal(what, input))
}

fn bad_temporal(what: &str, input: &str) -> Error {
    Error::invalid_argument(format!(
        "invalid {what} {:?}: expected YYYY-MM-DD{}",
        input,
        if what == "datetime" {
            "THH:MM:SS[.sss] followed by Z, +HHMM or +HH:MM"
        } else {
            ""
        }
    ))
}

/// A calendar date (`YYYY-MM-DD`), rendered unquoted in SOQL (`CloseDate = 2024-01-31`)
/// [salesforce-api.md §4 "Types in JSON"].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SoqlDate {
    year: i64,
    month: u32,
    day: u32,
}

impl SoqlDate {
    /// Parses `YYYY-MM-DD` (a real calendar date, years 0001–9999); `InvalidArgument` otherwise.
    pub fn parse(s: &str) -> Result<Self> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad_temporal("date", s));
        }
        let year = parse_digits(&s[0..4], "date", s)? as i64;
        let month = parse_digits(&s[5..7], "date", s)?;
        let day = parse_digits(&s[8..10], "date", s)?;
        if year == 0 || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(bad_temporal("date", s));
        }
        Ok(SoqlDate { year, month, day })
    }
}

impl fmt::Display for SoqlDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// An instant with millisecond precision (Salesforce's datetime precision), in UTC.
///
/// Parses what Salesforce sends (`2013-05-20T20:49:32.000+0000`: offset without colon
/// [salesforce-api.md §4]) and RFC 3339 (`2024-01-01T00:00:00Z`, `…+05:30`); other offsets are
/// converted to UTC. Fractions longer than milliseconds are truncated to milliseconds.
/// Rendered in SOQL unquoted in UTC: `2024-01-01T00:00:00Z`, or `2024-01-01T00:00:00.123Z` when
/// the milliseconds are not zero [salesforce-api.md §4, D37].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SoqlDateTime {
    epoch_ms: i64,
}

impl SoqlDateTime {
    /// Parses a datetime (see the type docs); `InvalidArgument` naming the input otherwise.
    pub fn parse(input: &str) -> Result<Self> {
        let s = input.trim();
        let err = || bad_temporal("datetime", input);
        if s.len() < 20 || !s.is_ascii() {
            return Err(err());
        }
        let date = SoqlDate::parse(&s[0..10]).map_err(|_| err())?;
        let b = s.as_bytes();
        if !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') || b[13] != b':' || b[16] != b':' {
            return Err(err());
        }
        let hour = parse_digits(&s[11..13], "datetime", input)?;
        let minute = parse_digits(&s[14..16], "datetime", input)?;
        let second = parse_digits(&s[17..19], "datetime", input)?;
        if hour > 23 || minute > 59 || second > 59 {
            return Err(err());
        }
        let mut rest = &s[19..];
        let mut millis = 0u32;
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.bytes().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 || n > 9 {
                return Err(err());
            }
            let digits = &frac[..n.min(3)];
            millis = digits.parse::<u32>().map_err(|_| err())? * 10u32.pow(3 - digits.len() as u32);
            rest = &frac[n..];
        }
        let offset_minutes: i64 = match rest {
            "Z" | "z" => 0,
            _ => {
                let (sign, off) = match rest.as_bytes().first() {
                    Some(b'+') => (1i64, &rest[1..]),
                    Some(b'-') => (-1i64, &rest[1..]),
                    _ => return Err(err()),
                };
                let (h, m) = match off.len() {
                    4 => (&off[0..2], &off[2..4]),
                    5 if off.as_bytes()[2] == b':' => (&off[0..2], &off[3..5]),
                    _ => return Err(err()),
                };
                let h = parse_digits(h, "datetime", input)? as i64;
                let m = parse_digits(m, "datetime", input)? as i64;
                if h > 23 || m > 59 {
                    return Err(err());
                }
                sign * (h * 60 + m)
            }
        };
        let days = days_from_civil(date.year, date.month, date.day);
        let local_ms = ((days * 24 + hour as i64) * 60 + minute as i64) * 60_000
            + second as i64 * 1000
            + millis as i64;
        Ok(SoqlDateTime { epoch_ms: local_ms - offset_minutes * 60_000 })
    }

    /// The instant from milliseconds since the Unix epoch.
    pub fn from_epoch_ms(epoch_ms: i64) -> Self {
        SoqlDateTime { epoch_ms }
    }

    /// Milliseconds since the Unix epoch.
    pub fn epoch_ms(&self) -> i64 {
        self.epoch_ms
    }

    fn parts(&self) -> (i64, u32, u32, i64, i64, i64, i64) {
        let days = self.epoch_ms.div_euclid(86_400_000);
        let ms_of_day = self.epoch_ms.rem_euclid(86_400_000);
        let (y, mo, d) = civil_from_days(days);
        (
            y,
            mo,
            d,
            ms_of_day / 3_600_000,
            ms_of_day / 60_000 % 60,
            ms_of_day / 1000 % 60,
            ms_of_day % 1000,
        )
    }

    /// The SOQL literal: `2024-01-01T00:00:00Z` or `2024-01-01T00:00:00.123Z`.
    pub fn to_soql(&self) -> String {
        let (y, mo, d, h, mi, s, ms) = self.parts();
        if ms == 0 {
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
        } else {
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
        }
    }

    /// Salesforce's own JSON form: `2024-01-01T00:00:00.000+0000`.
    pub fn to_salesforce(&self) -> String {
        let (y, mo, d, h, mi, s, ms) = self.parts();
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}+0000")
    }
}

impl fmt::Display for SoqlDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_soql())
    }
}

/// A typed SOQL literal. Each variant renders itself safely ([`SoqlValue::to_soql`]).
#[derive(Debug, Clone, PartialEq)]
pub enum SoqlValue {
    /// A string, rendered quoted and escaped (`'Bob\'s'`).
    String(String),
    /// A record Id, rendered as a quoted string.
    Id(SalesforceId),
    /// A date, unquoted.
    Date(SoqlDate),
    /// A datetime, unquoted in UTC.
    DateTime(SoqlDateTime),
    /// An integer.
    Integer(i64),
    /// A boolean (`true` / `false`).
    Bool(bool),
    /// `null`.
    Null,
}

impl SoqlValue {
    /// Renders the literal; `InvalidArgument` for a string with an unescapable control character.
    pub fn to_soql(&self) -> Result<String> {
        Ok(match self {
            SoqlValue::String(s) => quote_literal(s)?,
            SoqlValue::Id(id) => format!("'{}'", id.as_str()),
            SoqlValue::Date(d) => d.to_string(),
            SoqlValue::DateTime(t) => t.to_soql(),
            SoqlValue::Integer(i) => i.to_string(),
            SoqlValue::Bool(b) => b.to_string(),
            SoqlValue::Null => "null".to_string(),
        })
    }
}

impl From<SalesforceId> for SoqlValue {
    fn from(v: SalesforceId) -> Self {
        SoqlValue::Id(v)
    }
}
impl From<SoqlDateTime> for SoqlValue {
    fn from(v: SoqlDateTime) -> Self {
        SoqlValue::DateTime(v)
    }
}
impl From<SoqlDate> for SoqlValue {
    fn from(v: SoqlDate) -> Self {
        SoqlValue::Date(v)
    }
}
impl From<i64> for SoqlValue {
    fn from(v: i64) -> Self {
        SoqlValue::Integer(v)
    }
}
impl From<bool> for SoqlValue {
    fn from(v: bool) -> Self {
        SoqlValue::Bool(v)
    }
}
impl From<&str> for SoqlValue {
    fn from(v: &str) -> Self {
        SoqlValue::String(v.to_string())
    }
}
impl From<String> for SoqlValue {
    fn from(v: String) -> Self {
        SoqlValue::String(v)
    }
}

/// A comparison operator in a WHERE condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A WHERE condition over validated fields and typed literals.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `field op value`
    Cmp(FieldPath, CmpOp, SoqlValue),
    /// `field LIKE 'pattern'` (see [`LikePattern`]).
    Like(FieldPath, LikePattern),
    /// `field IN (v1, v2, …)` (an empty list is refused when rendering).
    In(FieldPath, Vec<SoqlValue>),
    /// All of (rendered `(a AND b …)`; an empty list is refused when rendering).
    And(Vec<Condition>),
    /// Any of (rendered `(a OR b …)`; an empty list is refused when rendering).
    Or(Vec<Condition>),
}

impl Condition {
    /// `field op value`.
    pub fn cmp(field: FieldPath, op: CmpOp, value: impl Into<SoqlValue>) -> Self {
        Condition::Cmp(field, op, value.into())
    }
    /// Renders the condition text.
    pub fn to_soql(&self) -> Result<String> {
        Ok(match self {
            Condition::Cmp(f, op, v) => format!("{} {} {}", f, op.as_str(), v.to_soql()?),
            Condition::Like(f, p) => format!("{f} LIKE '{}'", p.render()?),
            Condition::In(f, vs) => {
                if vs.is_empty() {
                    return Err(Error::invalid_argument(format!("empty IN list for {f}")));
                }
                let items: Result<Vec<String>> = vs.iter().map(|v| v.to_soql()).collect();
                format!("{f} IN ({})", items?.join(", "))
            }
            Condition::And(cs) | Condition::Or(cs) => {
                if cs.is_empty() {
                    return Err(Error::invalid_argument("empty AND/OR condition"));
                }
                let sep = if matches!(self, Condition::And(_)) { " AND " } else { " OR " };
                let items: Result<Vec<String>> = cs.iter().map(|c| c.to_soql()).collect();
                let items = items?;
                if items.len() == 1 {
                    items.into_iter().next().unwrap_or_default()
                } else {
                    format!("({})", items.join(sep))
                }
            }
        })
    }
}

/// A LIKE pattern. Build it with [`LikePattern::wildcards`] (the caller's `%`/`_` act as
/// wildcards), [`LikePattern::contains`] or [`LikePattern::starts_with`] (the text matches itself
/// literally). Quotes and backslashes are always escaped [salesforce-api.md §8].
#[derive(Debug, Clone, PartialEq)]
pub struct LikePattern {
    text: String,
    kind: LikeKind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum LikeKind {
    Wildcards,
    Contains,
    StartsWith,
}

impl LikePattern {
    /// A pattern whose `%` and `_` are wildcards.
    pub fn wildcards(pattern: impl Into<String>) -> Self {
        LikePattern { text: pattern.into(), kind: LikeKind::Wildcards }
    }
    /// Matches values containing `text` literally.
    pub fn contains(text: impl Into<String>) -> Self {
        LikePattern { text: text.into(), kind: LikeKind::Contains }
    }
    /// Matches values starting with `text` literally.
    pub fn starts_with(text: impl Into<String>) -> Self {
        LikePattern { text: text.into(), kind: LikeKind::StartsWith }
    }
    fn render(&self) -> Result<String> {
        Ok(match self.kind {
            LikeKind::Wildcards => escape_literal(&self.text)?,
            LikeKind::Contains => format!("%{}%", escape_like(&self.text)?),
            LikeKind::StartsWith => format!("{}%", escape_like(&self.text)?),
        })
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `ASC`
    Asc,
    /// `DESC`
    Desc,
}

/// A SELECT statement built from validated parts.
///
/// ```
/// use sfcrm_core::soql::{SoqlQuery, SObjectName, FieldPath, Condition, CmpOp, SalesforceId, Direction};
/// let q = SoqlQuery::new(SObjectName::new("Contact")?)
///     .select(FieldPath::new("Id")?)
///     .select(FieldPath::new("Account.Name")?)
///     .filter(Condition::cmp(FieldPath::new("Id")?, CmpOp::Gt, SalesforceId::new("003000000000001AAA")?))
///     .order_by(FieldPath::new("Id")?, Direction::Asc)
///     .limit(100);
/// assert_eq!(q.to_soql()?,
///     "SELECT Id, Account.Name FROM Contact WHERE Id > '003000000000001AAA' ORDER BY Id ASC LIMIT 100");
/// # Ok::<(), sfcrm_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SoqlQuery {
    from: SObjectName,
    fields: Vec<FieldPath>,
    count: bool,
    conditions: Vec<Condition>,
    order_by: Vec<(FieldPath, Direction)>,
    limit: Option<u64>,
    offset: Option<u64>,
}

impl SoqlQuery {
    /// `SELECT … FROM sobject` with no fields yet.
    pub fn new(from: SObjectName) -> Self {
        SoqlQuery {
            from,
            fields: Vec::new(),
            count: false,
            conditions: Vec::new(),
            order_by: Vec::new(),
            limit: None,
            offset: None,
        }
    }
    /// `SELECT COUNT() FROM sobject`: REST answers with `totalSize` and no records
    /// [salesforce-api.md §4 "COUNT()"]. ORDER BY is not allowed with COUNT() and is not rendered.
    pub fn count(from: SObjectName) -> Self {
        SoqlQuery { count: true, ..SoqlQuery::new(from) }
    }
    /// Adds one field.
    pub fn select(mut self, field: FieldPath) -> Self {
        self.fields.push(field);
        self
    }
    /// Adds several fields.
    pub fn select_all(mut self, fields: impl IntoIterator<Item = FieldPath>) -> Self {
        self.fields.extend(fields);
        self
    }
    /// Adds a WHERE condition (several are joined with AND).
    pub fn filter(mut self, condition: Condition) -> Self {
        self.conditions.push(condition);
        self
    }
    /// Adds an ORDER BY item.
    pub fn order_by(mut self, field: FieldPath, direction: Direction) -> Self {
        self.order_by.push((field, direction));
        self
    }
    /// Sets LIMIT.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }
    /// Sets OFFSET (refused when rendering if above [`MAX_OFFSET`]; 0 is not rendered).
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }
    /// The sObject queried.
    pub fn sobject(&self) -> &SObjectName {
        &self.from
    }
    /// The selected fields.
    pub fn fields(&self) -> &[FieldPath] {
        &self.fields
    }

    /// Renders the SOQL text. `InvalidArgument` when there is no field (non-COUNT), when OFFSET
    /// exceeds [`MAX_OFFSET`], or when a literal cannot be escaped.
    pub fn to_soql(&self) -> Result<String> {
        let mut q = String::from("SELECT ");
        if self.count {
            q.push_str("COUNT()");
        } else {
            if self.fields.is_empty() {
                return Err(Error::invalid_argument("a SOQL query needs at least one field"));
            }
            let names: Vec<&str> = self.fields.iter().map(|f| f.as_str()).collect();
            q.push_str(&names.join(", "));
        }
        q.push_str(" FROM ");
        q.push_str(self.from.as_str());
        if !self.conditions.is_empty() {
            let parts: Result<Vec<String>> = self.conditions.iter().map(|c| c.to_soql()).collect();
            q.push_str(" WHERE ");
            q.push_str(&parts?.join(" AND "));
        }
        if !self.count && !self.order_by.is_empty() {
            let items: Vec<String> = self
                .order_by
                .iter()
                .map(|(f, d)| format!("{f} {}", if *d == Direction::Asc { "ASC" } else { "DESC" }))
                .collect();
            q.push_str(" ORDER BY ");
            q.push_str(&items.join(", "));
        }
        if let Some(n) = self.limit {
            q.push_str(&format!(" LIMIT {n}"));
        }
        if let Some(m) = self.offset {
            if m > MAX_OFFSET {
                return Err(Error::invalid_argument(format!(
                    "OFFSET {m} exceeds Salesforce's maximum of {MAX_OFFSET}"
                )));
            }
            if m > 0 {
                q.push_str(&format!(" OFFSET {m}"));
            }
        }
        Ok(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 11_016, 19_782, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
