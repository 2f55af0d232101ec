//! Records as Salesforce sent them: validated JSON text, decoded only on demand.
//!
//! A query page is read once (one validating pass over the body, no value built) into a shared
//! buffer and one [`RawRecord`] per element of its `records` array: the page text behind an `Arc`
//! (the body as read, not copied) plus the byte range of that record. A record is then:
//! - copied out as text ([`RawRecord::json`]): CSV-free paths (NDJSON, JSON arrays for the C and
//!   Node bindings) never build a value at all;
//! - decoded into your own type ([`RawRecord::deserialize`], `#[derive(Deserialize)]`, borrowing
//!   strings from the page), or into a [`Record`] map ([`RawRecord::to_record`]) for dynamic
//!   access.
//!
//! Why: building a `serde_json` map per record (about fifty allocations for the seed's Contact
//! fields) was three quarters of a full export's client CPU time (BENCHMARKS.md, "Why").
//!
//! Memory: a record keeps its whole page alive (at most one page body, ≤ 2,000 records
//! [salesforce-api.md §4 "batchSize"]). Hold [`RawRecord::to_record`] results, not raw records,
//! when keeping a few records of many pages.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::{Error, ErrorKind, Result};
use crate::export::{Record, record_id};
use crate::soql::SalesforceId;

/// One record: the exact JSON object text Salesforce sent (key order, `attributes`, number
/// digits and string escapes as received), validated as JSON when its page was read.
///
/// Cloning is cheap (a reference count and a range). Equality compares the JSON text.
#[derive(Clone)]
pub struct RawRecord {
    /// The page body (`Arc<String>`, not `Arc<str>`: wrapping the body read from the network
    /// must not copy it).
    page: Arc<String>,
    start: usize,
    end: usize,
}

impl RawRecord {
    /// A record from one JSON object's text (validated). `Protocol` when `json` is not a single
    /// JSON object.
    pub fn from_json(json: impl Into<String>) -> Result<RawRecord> {
        let text: String = json.into();
        let raw: &RawValue = serde_json::from_str(&text)
            .map_err(|e| Error::new(ErrorKind::Protocol, format!("a record is not valid JSON: {e}")))?;
        let range = span_of(&text, raw.get());
        if !raw.get().starts_with('{') {
            return Err(Error::new(ErrorKind::Protocol, "a query record is not a JSON object"));
        }
        Ok(RawRecord { page: Arc::new(text), start: range.start, end: range.end })
    }

    /// A record from a decoded map (serialised compactly).
    pub fn from_record(record: &Record) -> RawRecord {
        let text = serde_json::to_string(record).expect("a JSON map always serializes");
        let end = text.len();
        RawRecord { page: Arc::new(text), start: 0, end }
    }

    /// The record's JSON object text, exactly as received (compact when Salesforce sent it so;
    /// see [`RawRecord::write_compact`] for a one-line form).
    pub fn json(&self) -> &str {
        &self.page[self.start..self.end]
    }

    /// Decodes the record into a [`Record`] map (key order kept, numbers with their digits).
    /// `Protocol` only for text that JSON validation accepted but a map cannot hold (none known).
    pub fn to_record(&self) -> Result<Record> {
        serde_json::from_str(self.json())
            .map_err(|e| Error::new(ErrorKind::Protocol, format!("a record could not be decoded: {e}")))
    }

    /// Decodes the record into `T` (a `#[derive(Deserialize)]` struct of the fields you selected,
    /// usually). Errors: `Protocol` naming serde's complaint (missing field, wrong type).
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(self.json()).map_err(|e| {
            Error::new(ErrorKind::Protocol, format!("a record does not match the requested type: {e}"))
        })
    }

    /// Like [`RawRecord::deserialize`], borrowing string fields from the page (`&str` fields
    /// without escapes; use `Cow<str>` for fields that may contain them).
    pub fn deserialize_borrowed<'a, T: Deserialize<'a>>(&'a self) -> Result<T> {
        serde_json::from_str(self.json()).map_err(|e| {
            Error::new(ErrorKind::Protocol, format!("a record does not match the requested type: {e}"))
        })
    }

    /// The record's Id: the `Id` field (any case) or the last segment of `attributes.url`.
    /// `Protocol` when neither holds a valid Id. Decodes the record (cost of [`Self::to_record`]).
    pub fn id(&self) -> Result<SalesforceId> {
        record_id(&self.to_record()?)
    }

    /// Appends the record's JSON on one line (no raw CR/LF) to `out`. Salesforce's compact text is
    /// copied as is; text with line breaks has its whitespace outside strings dropped (every other
    /// byte, number digits and string escapes included, is kept).
    pub fn write_compact(&self, out: &mut Vec<u8>) {
        let text = self.json().as_bytes();
        // Inside JSON strings CR and LF are always escaped, so a raw one is whitespace.
        if !text.iter().any(|b| *b == b'\n' || *b == b'\r') {
            out.extend_from_slice(text);
            return;
        }
        let (mut in_string, mut escaped) = (false, false);
        for &b in text {
            if in_string {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = true;
                } else if b == b'"' {
                    in_string = false;
                }
                out.push(b);
            } else if b == b'"' {
                in_string = true;
                out.push(b);
            } else if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                out.push(b);
            }
        }
    }

    /// True when both records are the same slice of the same page (not merely equal text).
    pub fn same_as(&self, other: &RawRecord) -> bool {
        Arc::ptr_eq(&self.page, &other.page) && self.start == other.start && self.end == other.end
    }
}

impl PartialEq for RawRecord {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

impl fmt::Debug for RawRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RawRecord").field(&self.json()).finish()
    }
}

impl Serialize for RawRecord {
    /// Serialises as the record's JSON object (embedded verbatim by `serde_json`).
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let raw: &RawValue = serde_json::from_str(self.json()).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

/// The byte range of `inner` (a sub-slice of `outer`) within `outer`.
fn span_of(outer: &str, inner: &str) -> Range<usize> {
    let start = inner.as_ptr() as usize - outer.as_ptr() as usize;
    start..start + inner.len()
}

/// A query response body read without building values: `totalSize`, `done`, `nextRecordsUrl`
/// decoded, `records` kept as validated text [salesforce-api.md §4 "Query"].
pub(crate) struct RawQueryPage {
    pub total_size: Option<u64>,
    pub done: Option<bool>,
    pub next_records_url: Option<String>,
    /// `None`: the key is absent or `null` (a `COUNT()` result).
    pub records: Option<Vec<RawRecord>>,
    /// Some element of `records` is not an object.
    pub non_object_record: bool,
}

#[derive(Deserialize)]
struct WirePage<'a> {
    #[serde(rename = "totalSize")]
    total_size: Option<u64>,
    done: Option<bool>,
    #[serde(rename = "nextRecordsUrl")]
    next_records_url: Option<String>,
    #[serde(borrow)]
    records: Option<Vec<&'a RawValue>>,
}

/// Reads a query body. `Err` is a JSON syntax or shape error (truncated body, `totalSize` not a
/// number, `records` not an array, …) with the body handed back (for the error's raw body): the
/// caller decides whether to retry.
pub(crate) fn parse_query_page(text: String) -> std::result::Result<RawQueryPage, (serde_json::Error, String)> {
    let page: Arc<String> = Arc::new(text);
    let wire: WirePage<'_> = match serde_json::from_str(&page) {
        Ok(w) => w,
        Err(e) => {
            // No record holds the page yet: this is its only reference.
            let text = Arc::try_unwrap(page).unwrap_or_else(|shared| shared.as_ref().clone());
            return Err((e, text));
        }
    };
    let mut non_object_record = false;
    let records = wire.records.map(|items| {
        items
            .iter()
            .map(|raw| {
                let r = span_of(&page, raw.get());
                non_object_record |= !raw.get().starts_with('{');
                RawRecord { page: page.clone(), start: r.start, end: r.end }
            })
            .collect::<Vec<_>>()
    });
    Ok(RawQueryPage {
        total_size: wire.total_size,
        done: wire.done,
        next_records_url: wire.next_records_url,
        records,
        non_object_record,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_records_are_exact_slices() {
        let body = r#"{"totalSize":2,"done":true,"records":[{"attributes":{"type":"Contact","url":"/services/data/v48.0/sobjects/Contact/003000000000001AAA"},"Id":"003000000000001AAA","N":1.50},
          { "Id" : "003000000000002AAA", "S":"a\nb\u00e9" }]}"#;
        let p = parse_query_page(body.to_string()).unwrap();
        let recs = p.records.unwrap();
        assert_eq!(recs.len(), 2);
        assert!(recs[0].json().starts_with(r#"{"attributes""#) && recs[0].json().ends_with("1.50}"));
        assert_eq!(recs[1].json(), r#"{ "Id" : "003000000000002AAA", "S":"a\nb\u00e9" }"#);
        assert_eq!(recs[0].id().unwrap().as_str(), "003000000000001AAA");
        assert_eq!(recs[0].to_record().unwrap()["N"].to_string(), "1.50");
        let mut line = Vec::new();
        recs[1].write_compact(&mut line);
        assert_eq!(line, br#"{ "Id" : "003000000000002AAA", "S":"a\nb\u00e9" }"#);
        assert!(!p.non_object_record);
        assert!(recs[0].same_as(&recs[0].clone()) && !recs[0].same_as(&recs[1]));
        assert_eq!(serde_json::to_string(&recs[1]).unwrap(), recs[1].json());
    }

    #[test]
    fn multi_line_records_are_written_on_one_line() {
        let r = RawRecord::from_json("{\n  \"Id\": \"003000000000001AAA\",\r\n  \"X\": [1, 2.50, 1.0e2],\n \"S\": \"a b\\\" \\\\\" }").unwrap();
        let mut line = Vec::new();
        r.write_compact(&mut line);
        assert_eq!(String::from_utf8(line).unwrap(), r#"{"Id":"003000000000001AAA","X":[1,2.50,1.0e2],"S":"a b\" \\"}"#);
    }

    #[test]
    fn broken_bodies_are_errors() {
        let (e, back) = parse_query_page(r#"{"totalSize":2,"done":true,"records":[{"Id":"1"}"#.into()).err().unwrap();
        assert!(e.is_eof() && back.ends_with(r#"{"Id":"1"}"#), "the body is handed back for the error");
        assert!(parse_query_page(r#"{"totalSize":"x","done":true}"#.into()).is_err());
        assert!(parse_query_page(r#"{"totalSize":1,"done":true,"records":{}}"#.into()).is_err());
        let p = parse_query_page(r#"{"totalSize":1,"done":true,"records":[1]}"#.into()).unwrap();
        assert!(p.non_object_record);
        assert!(RawRecord::from_json("[1]").is_err());
        assert!(RawRecord::from_json("{\"a\":").is_err());
    }

    #[derive(Deserialize)]
    struct Contact<'a> {
        #[serde(rename = "Id")]
        id: &'a str,
        #[serde(rename = "Name")]
        name: std::borrow::Cow<'a, str>,
    }

    #[test]
    fn typed_decoding_borrows_from_the_page() {
        let r = RawRecord::from_json(r#"{"Id":"003000000000001AAA","Name":"Zo\u00eb"}"#).unwrap();
        let c: Contact<'_> = r.deserialize_borrowed().unwrap();
        assert_eq!((c.id, c.name.as_ref()), ("003000000000001AAA", "Zoë"));
        let e = r.deserialize::<std::collections::HashMap<String, u32>>().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
    }
}
