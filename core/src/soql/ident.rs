//! Identifiers: sObject names and field paths (validated, never escaped), and record Ids.
//!
//! SOQL identifiers cannot be quoted, so each one is checked against Salesforce's API-name rules
//! [salesforce-api.md §8] and refused otherwise (`InvalidIdentifier`, naming it).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// Longest local part of an API name (custom object/field name without namespace or suffix)
/// [salesforce-api.md §8].
const MAX_LOCAL_NAME_LEN: usize = 40;

/// Longest namespace prefix [salesforce-api.md §8].
const MAX_NAMESPACE_LEN: usize = 15;

/// Longest relationship path accepted in a [`FieldPath`] (segments). Salesforce allows at most five
/// levels of child-to-parent traversal; one more segment is the field itself.
const MAX_PATH_SEGMENTS: usize = 6;

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
/// six segments (five relationship levels and the field).
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
