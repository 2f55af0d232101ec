//! Literals: string escaping and quoting, and the typed [`SoqlValue`].
//!
//! Backslash is SOQL's only escape [salesforce-api.md §8]; dates and datetimes are unquoted.

use crate::error::{Error, Result};
use crate::soql::{SalesforceId, SoqlDate, SoqlDateTime};

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
