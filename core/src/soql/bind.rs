//! Bind values: `:name` placeholders in SOQL text filled from typed values, so that nobody
//! concatenates SOQL (issue 11 item 2).
//!
//! A placeholder is `:` followed by a name `[A-Za-z_][A-Za-z0-9_]*`, outside string literals, where
//! the character before the `:` is not a letter, digit, `_`, `.` or `:`. So `LAST_N_DAYS:30`,
//! `NEXT_N_WEEKS:2` and times such as `10:00:00Z` or `+05:00` are never placeholders, and neither
//! is anything inside `'…'`. Write `Name = :name`, `Id IN :ids`, `(:a, :b)`, `>:n`. Names are
//! case-sensitive. A value is always rendered as one SOQL literal ([`BindValue::to_soql`]): strings
//! are quoted and escaped with backslashes [salesforce-api.md §8], numbers, dates and datetimes are
//! type-checked and unquoted [salesforce-api.md §4 "Types in JSON"], so a value can never change
//! the query's structure. In a `LIKE`, a bound string's `%` and `_` are wildcards (as with Apex
//! binds); in `=`/`IN` every character is literal.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Error, Result};
use crate::soql::lex::{TokKind, is_word_byte, lex, line_col};
use crate::soql::{SalesforceId, SoqlDate, SoqlDateTime, SoqlValue, quote_literal};

/// A typed value for a `:name` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum BindValue {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An integer, unquoted (`-5`).
    Integer(i64),
    /// A decimal as exact text `-?digits[.digits]`, unquoted (`12.50`). Build it with
    /// [`BindValue::decimal`] or [`BindValue::from_f64`], which validate it; `to_soql` re-checks.
    Decimal(String),
    /// A string, quoted and escaped (`'Bob\'s'`).
    String(String),
    /// A date, unquoted (`2024-01-31`).
    Date(SoqlDate),
    /// A datetime, unquoted in UTC (`2024-01-31T10:00:00Z`).
    DateTime(SoqlDateTime),
    /// A list for `IN` / `NOT IN` / `INCLUDES`, rendered `('a', 'b')`. Not empty; no nested lists.
    List(Vec<BindValue>),
}

fn is_plain_decimal(t: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let t = t.strip_prefix('-').unwrap_or(t);
    match t.split_once('.') {
        Some((i, f)) => digits(i) && digits(f),
        None => digits(t),
    }
}

/// Rewrites a JSON number's text (`1.5e3`, `-2E-2`, `12.50`) as a plain decimal (`1500`,
/// `-0.02`, `12.50`) without losing a digit; `None` when it is not a number or the exponent is
/// beyond ±400.
fn plain_decimal(text: &str) -> Option<String> {
    let (mantissa, exp) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i64>().ok()?),
        None => return is_plain_decimal(text).then(|| text.to_string()),
    };
    if !is_plain_decimal(mantissa) || exp.abs() > 400 {
        return None;
    }
    let (neg, m) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let (int, frac) = m.split_once('.').unwrap_or((m, ""));
    let digits = format!("{int}{frac}");
    let point = int.len() as i64 + exp;
    let body = if point <= 0 {
        format!("0.{}{}", "0".repeat((-point) as usize), digits)
    } else if point as usize >= digits.len() {
        format!("{}{}", digits, "0".repeat(point as usize - digits.len()))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    };
    let (i, f) = body.split_once('.').unwrap_or((&body, ""));
    let i = i.trim_start_matches('0');
    let i = if i.is_empty() { "0" } else { i };
    let body = if f.is_empty() {
        i.to_string()
    } else {
        format!("{i}.{f}")
    };
    Some(if neg { format!("-{body}") } else { body })
}

impl BindValue {
    /// A decimal from its exact text (`"12.50"`, `"-3"`); `InvalidArgument` unless it is
    /// `-?digits[.digits]` (no exponent, no `+`, no leading or trailing `.`).
    pub fn decimal(text: &str) -> Result<BindValue> {
        if is_plain_decimal(text) {
            Ok(BindValue::Decimal(text.to_string()))
        } else {
            Err(Error::invalid_argument(format!(
                "invalid decimal {text:?}: write digits with an optional '-' and '.', like -12.50"
            )))
        }
    }

    /// A decimal from an `f64`, as the shortest text that reads back as the same `f64`
    /// (`0.1` → `0.1`, `1e21` → `1000000000000000000000`); `InvalidArgument` for NaN or ±infinity.
    pub fn from_f64(v: f64) -> Result<BindValue> {
        if !v.is_finite() {
            return Err(Error::invalid_argument(format!(
                "{v} cannot be a SOQL number: pass a finite value"
            )));
        }
        let v = if v == 0.0 { 0.0 } else { v }; // -0 → 0
        BindValue::decimal(&format!("{v}"))
    }

    /// A value from its type name and text (the CLI's `--param name=type:value` form):
    /// `string`/`str` (the text as is), `int`/`integer`, `decimal`/`number`, `bool`/`boolean`
    /// (`true`/`false`, any case), `date` (`YYYY-MM-DD`), `datetime` (ISO 8601 with `Z` or an
    /// offset), `id` (15/18 letters/digits; a string), `null` (text empty or `null`).
    /// `list:<type>` is a list: items separated by `,`, where `\,` is a comma inside an item and
    /// `\\` a backslash; items of non-string types are trimmed; an empty list is refused.
    /// `InvalidArgument` naming the type and the text otherwise.
    pub fn parse_typed(type_name: &str, text: &str) -> Result<BindValue> {
        let t = type_name.trim().to_ascii_lowercase();
        if let Some(item_type) = t.strip_prefix("list:") {
            if item_type.starts_with("list:") {
                return Err(Error::invalid_argument("a list of lists cannot be bound"));
            }
            let items = split_list(text);
            if items.is_empty() {
                return Err(Error::invalid_argument(format!(
                    "empty list for type {type_name:?}: SOQL's IN needs at least one value"
                )));
            }
            let is_string = matches!(item_type, "string" | "str");
            return items
                .iter()
                .map(|i| BindValue::parse_typed(item_type, if is_string { i } else { i.trim() }))
                .collect::<Result<Vec<_>>>()
                .map(BindValue::List);
        }
        let bad = |what: &str| {
            Error::invalid_argument(format!(
                "invalid {type_name} value {text:?}: expected {what}"
            ))
        };
        Ok(match t.as_str() {
            "string" | "str" => BindValue::String(text.to_string()),
            "int" | "integer" => {
                BindValue::Integer(text.trim().parse().map_err(|_| bad("a 64-bit integer"))?)
            }
            "decimal" | "number" => BindValue::decimal(text.trim())?,
            "bool" | "boolean" => match text.trim().to_ascii_lowercase().as_str() {
                "true" => BindValue::Bool(true),
                "false" => BindValue::Bool(false),
                _ => return Err(bad("true or false")),
            },
            "date" => BindValue::Date(SoqlDate::parse(text.trim())?),
            "datetime" => BindValue::DateTime(SoqlDateTime::parse(text.trim())?),
            "id" => BindValue::String(SalesforceId::new(text.trim())?.as_str().to_string()),
            "null" if text.trim().is_empty() || text.trim().eq_ignore_ascii_case("null") => {
                BindValue::Null
            }
            "null" => return Err(bad("nothing or null")),
            _ => {
                return Err(Error::invalid_argument(format!(
                    "unknown bind value type {type_name:?}: use string, int, decimal, bool, date, \
                     datetime, id, null or list:<type>"
                )));
            }
        })
    }

    /// The SOQL literal. `InvalidArgument` for an empty or nested list, a malformed decimal, or
    /// a string with a control character SOQL cannot escape.
    pub fn to_soql(&self) -> Result<String> {
        Ok(match self {
            BindValue::Null => "null".to_string(),
            BindValue::Bool(b) => b.to_string(),
            BindValue::Integer(i) => i.to_string(),
            BindValue::Decimal(d) => match BindValue::decimal(d)? {
                BindValue::Decimal(d) => d,
                _ => unreachable!("decimal() returns Decimal"),
            },
            BindValue::String(s) => quote_literal(s)?,
            BindValue::Date(d) => d.to_string(),
            BindValue::DateTime(t) => t.to_soql(),
            BindValue::List(items) => {
                if items.is_empty() {
                    return Err(Error::invalid_argument(
                        "empty list bound: SOQL's IN needs at least one value (skip the query \
                         or the condition when there is nothing to match)",
                    ));
                }
                let mut parts = Vec::with_capacity(items.len());
                for item in items {
                    if matches!(item, BindValue::List(_)) {
                        return Err(Error::invalid_argument(
                            "a list inside a list cannot be bound: flatten it",
                        ));
                    }
                    parts.push(item.to_soql()?);
                }
                format!("({})", parts.join(", "))
            }
        })
    }
}

/// Splits a `list:` text on unescaped commas (`\,` and `\\` are escapes).
fn split_list(text: &str) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    let mut items = vec![String::new()];
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n @ (',' | '\\')) => items.last_mut().expect("non-empty").push(n),
                Some(n) => {
                    let last = items.last_mut().expect("non-empty");
                    last.push('\\');
                    last.push(n);
                }
                None => items.last_mut().expect("non-empty").push('\\'),
            },
            ',' => items.push(String::new()),
            c => items.last_mut().expect("non-empty").push(c),
        }
    }
    items
}

macro_rules! from_impls {
    ($($t:ty => |$v:ident| $e:expr),* $(,)?) => {$(
        impl From<$t> for BindValue {
            fn from($v: $t) -> Self {
                $e
            }
        }
    )*};
}
from_impls! {
    &str => |v| BindValue::String(v.to_string()),
    String => |v| BindValue::String(v),
    &String => |v| BindValue::String(v.clone()),
    i64 => |v| BindValue::Integer(v),
    i32 => |v| BindValue::Integer(v.into()),
    u32 => |v| BindValue::Integer(v.into()),
    bool => |v| BindValue::Bool(v),
    SoqlDate => |v| BindValue::Date(v),
    SoqlDateTime => |v| BindValue::DateTime(v),
    SalesforceId => |v| BindValue::String(v.as_str().to_string()),
    SoqlValue => |v| match v {
        SoqlValue::String(s) => BindValue::String(s),
        SoqlValue::Id(id) => BindValue::String(id.as_str().to_string()),
        SoqlValue::Date(d) => BindValue::Date(d),
        SoqlValue::DateTime(t) => BindValue::DateTime(t),
        SoqlValue::Integer(i) => BindValue::Integer(i),
        SoqlValue::Bool(b) => BindValue::Bool(b),
        SoqlValue::Null => BindValue::Null,
    },
}
impl<T: Into<BindValue>> From<Vec<T>> for BindValue {
    fn from(v: Vec<T>) -> Self {
        BindValue::List(v.into_iter().map(Into::into).collect())
    }
}
impl<T: Into<BindValue>> From<Option<T>> for BindValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(BindValue::Null, Into::into)
    }
}

/// Named bind values (`name → value`) for [`bind`]. Names match `[A-Za-z_][A-Za-z0-9_]*` and are
/// case-sensitive; inserting a name again replaces its value.
#[derive(Default, Clone, Debug, PartialEq)]
pub struct Params {
    values: BTreeMap<String, BindValue>,
}

fn check_name(name: &str) -> Result<()> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_argument(format!(
            "invalid bind parameter name {name:?}: use letters, digits and '_', not starting \
             with a digit (and without the ':')"
        )))
    }
}

impl Params {
    /// No values.
    pub fn new() -> Self {
        Params::default()
    }

    /// Sets `name`; `InvalidArgument` for a bad name (see the type docs).
    pub fn insert(&mut self, name: &str, value: impl Into<BindValue>) -> Result<()> {
        check_name(name)?;
        self.values.insert(name.to_string(), value.into());
        Ok(())
    }

    /// [`Params::insert`], chained.
    pub fn with(mut self, name: &str, value: impl Into<BindValue>) -> Result<Self> {
        self.insert(name, value)?;
        Ok(self)
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&BindValue> {
        self.values.get(name)
    }

    /// The names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// True when there are no values.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Params from JSON (the form C, Node's wire and the CLI use): an object whose values are a
    /// string → `String`; an integer that fits i64 → `Integer`; any other number → `Decimal` of
    /// its exact text (an exponent is written out: `1.5e3` → `1500`); `true`/`false`; `null`; an
    /// array → `List` (no nested arrays); or a one-key object naming the type:
    /// `{"date": "2024-01-31"}`, `{"datetime": "…"}`, `{"decimal": "12.50"}` (a string or a
    /// number), `{"string": "…"}`, `{"id": "…"}`. `InvalidArgument` naming the key otherwise.
    pub fn from_json(value: &serde_json::Value) -> Result<Params> {
        let serde_json::Value::Object(map) = value else {
            return Err(Error::invalid_argument(
                "bind params must be a JSON object of name → value",
            ));
        };
        let mut params = Params::new();
        for (name, v) in map {
            let value = json_value(v, false).map_err(|e| {
                Error::invalid_argument(format!("bind param {name:?}: {}", e.message()))
            })?;
            params.insert(name, value)?;
        }
        Ok(params)
    }

    /// [`Params::from_json`] from JSON text; `InvalidArgument` when it does not parse.
    pub fn from_json_text(text: &str) -> Result<Params> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Error::invalid_argument(format!("bind params are not valid JSON: {e}")))?;
        Params::from_json(&value)
    }
}

fn json_value(v: &serde_json::Value, in_list: bool) -> Result<BindValue> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => BindValue::Null,
        Value::Bool(b) => BindValue::Bool(*b),
        Value::String(s) => BindValue::String(s.clone()),
        Value::Number(n) => json_number(&n.to_string())?,
        Value::Array(items) => {
            if in_list {
                return Err(Error::invalid_argument(
                    "a list inside a list cannot be bound",
                ));
            }
            if items.is_empty() {
                return Err(Error::invalid_argument(
                    "empty list: SOQL's IN needs at least one value",
                ));
            }
            BindValue::List(
                items
                    .iter()
                    .map(|i| json_value(i, true))
                    .collect::<Result<_>>()?,
            )
        }
        Value::Object(map) => {
            let mut it = map.iter();
            let (Some((k, inner)), None) = (it.next(), it.next()) else {
                return Err(Error::invalid_argument(
                    "an object value must have exactly one key naming its type: date, \
                     datetime, decimal, string or id",
                ));
            };
            match (k.as_str(), inner) {
                ("decimal", Value::Number(n)) => json_number(&n.to_string()).map(|v| match v {
                    BindValue::Integer(i) => BindValue::Decimal(i.to_string()),
                    other => other,
                })?,
                (t @ ("date" | "datetime" | "decimal" | "string" | "id"), Value::String(s)) => {
                    BindValue::parse_typed(t, s)?
                }
                (t @ ("date" | "datetime" | "decimal" | "string" | "id"), _) => {
                    return Err(Error::invalid_argument(format!(
                        "{{\"{t}\": …}} needs a string value"
                    )));
                }
                (other, _) => {
                    return Err(Error::invalid_argument(format!(
                        "unknown type key {other:?}: use date, datetime, decimal, string or id"
                    )));
                }
            }
        }
    })
}

fn json_number(text: &str) -> Result<BindValue> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(BindValue::Integer(i));
    }
    plain_decimal(text).map(BindValue::Decimal).ok_or_else(|| {
        Error::invalid_argument(format!("the number {text} cannot be a SOQL literal"))
    })
}

/// Fills the `:name` placeholders of `soql` (see the module docs for what is one) with the
/// literals of `params`' values. `InvalidArgument` before any request when a placeholder has no
/// value, a value is not used by any placeholder, a placeholder is followed by `.`, a value does
/// not render ([`BindValue::to_soql`]), or the text does not lex (an unterminated string
/// literal, unbalanced parentheses). With no placeholders and no params, `soql` is returned as is.
pub fn bind(soql: &str, params: &Params) -> Result<String> {
    let toks = lex(soql)?;
    let b = soql.as_bytes();
    let mut out = String::with_capacity(soql.len() + 16);
    let mut copied = 0;
    let mut used = BTreeSet::new();
    let mut missing = Vec::new();
    for t in toks.iter().filter(|t| t.kind == TokKind::Colon) {
        let p = t.start;
        if p > 0 && (is_word_byte(b[p - 1]) || b[p - 1] == b':') {
            continue; // LAST_N_DAYS:30, 10:00:00Z, +05:00
        }
        let name_len = b[p + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        let name = &soql[p + 1..p + 1 + name_len];
        if name.is_empty() || name.as_bytes()[0].is_ascii_digit() {
            continue;
        }
        let end = p + 1 + name_len;
        if b.get(end) == Some(&b'.') {
            let (l, c) = line_col(soql, p);
            return Err(Error::invalid_argument(format!(
                "placeholder :{name} at line {l} column {c} is followed by '.': a placeholder is a \
                 value, not a record; bind the field's value under its own name"
            )));
        }
        out.push_str(&soql[copied..p]);
        match params.get(name) {
            Some(v) => {
                let literal = v.to_soql().map_err(|e| {
                    Error::invalid_argument(format!("bind param {name:?}: {}", e.message()))
                })?;
                out.push_str(&literal);
            }
            None => {
                if !missing.contains(&name) {
                    missing.push(name);
                }
            }
        }
        used.insert(name);
        copied = end;
    }
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(|n| format!(":{n}")).collect();
        return Err(Error::invalid_argument(format!(
            "the query's placeholder(s) {} have no value: add them to the params (names are \
             case-sensitive)",
            list.join(", ")
        )));
    }
    let unused: Vec<&str> = params.names().filter(|n| !used.contains(n)).collect();
    if !unused.is_empty() {
        return Err(Error::invalid_argument(format!(
            "bind param(s) {} are not used by the query: remove them or add :{} to the query (a \
             placeholder needs a space, an operator or '(' before its ':', and none counts inside \
             a string literal)",
            unused.join(", "),
            unused[0]
        )));
    }
    out.push_str(&soql[copied..]);
    Ok(out)
}

#[cfg(test)]
#[path = "bind_tests.rs"]
mod tests;
