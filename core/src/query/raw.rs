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

use serde::de::{DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::{Error, ErrorKind, Result};
use crate::query::{Record, record_id};
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
    /// A record from one JSON object's text (validated: [`RawRecord::to_record`] decodes it).
    /// `Protocol` when `json` is not a single JSON object, or is one a [`Record`] cannot hold (a
    /// lone surrogate escape such as `\ud800`, nesting deeper than 128 levels).
    pub fn from_json(json: impl Into<String>) -> Result<RawRecord> {
        let text: String = json.into();
        let raw: &RawValue = serde_json::from_str(&text)
            .and_then(|raw: &RawValue| check_decodes(raw.get()).map(|()| raw))
            .map_err(|e| Error::new(ErrorKind::Protocol, format!("a record is not valid JSON: {e}")))?;
        let range = span_of(&text, raw.get());
        if !raw.get().starts_with('{') {
            return Err(Error::new(ErrorKind::Protocol, "a query record is not a JSON object"));
        }
        Ok(RawRecord { page: Arc::new(text), start: range.start, end: range.end })
    }

    /// The record's JSON object text, exactly as received (compact when Salesforce sent it so;
    /// see [`RawRecord::write_compact`] for a one-line form).
    pub fn json(&self) -> &str {
        &self.page[self.start..self.end]
    }

    /// Decodes the record into a [`Record`] map (key order kept, numbers with their digits).
    /// Does not fail for a record of a query page or of [`RawRecord::from_json`] (their
    /// validation refuses what a map cannot hold); `Protocol` otherwise.
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

    /// Records of one buffer of JSON objects written by the SDK itself (the Bulk CSV converter,
    /// `query/bulk_csv.rs`): `ranges` are the byte ranges of the objects in `page`. Not
    /// validated: the writer produces valid JSON objects only (checked in its tests).
    pub(crate) fn from_written(page: Arc<String>, ranges: &[Range<usize>]) -> Vec<RawRecord> {
        ranges.iter().map(|r| RawRecord { page: page.clone(), start: r.start, end: r.end }).collect()
    }

    /// True when both records are the same slice of the same page (not merely equal text).
    pub(crate) fn same_as(&self, other: &RawRecord) -> bool {
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
///
/// Reads exactly what the decoder before RawRecord (one `serde_json::Value` of the whole body)
/// read: a repeated key keeps its last value, `totalSize`/`done`/`nextRecordsUrl` of another type
/// read as absent, and a body that a `Value` could not hold (a lone surrogate escape such as
/// `\ud800`, nesting deeper than serde_json's limit of 128) is a syntax error.
pub(crate) struct RawQueryPage {
    /// `totalSize` when it is a non-negative integer (`1.0`, `-1`, `"1"` read as absent).
    pub total_size: Option<u64>,
    /// `done` when it is a boolean.
    pub done: Option<bool>,
    /// `nextRecordsUrl` when it is a string (escapes decoded).
    pub next_records_url: Option<String>,
    /// `None`: the key is absent or `null` (a `COUNT()` result).
    pub records: Option<Vec<RawRecord>>,
    /// `records` is present but neither an array nor `null`.
    pub records_not_array: bool,
    /// Some element of `records` is not an object.
    pub non_object_record: bool,
}

/// The top-level object of a query body, keys read in order, the last of a repeated key kept.
#[derive(Default)]
struct WirePage<'a> {
    total_size: Option<Value>,
    done: Option<Value>,
    next_records_url: Option<Value>,
    records: Option<WireRecords<'a>>,
}

/// The value of `records`.
enum WireRecords<'a> {
    Null,
    /// Each element's text, validated by serde_json's skipping pass (which checks the JSON
    /// grammar only: see [`may_not_decode`]).
    Array(Vec<&'a RawValue>),
    /// Any other JSON value (read in full, as a `Value` would have been, then dropped).
    Other,
}

impl<'de> Deserialize<'de> for WirePage<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WirePage<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a query result object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<WirePage<'de>, A::Error> {
                let mut page = WirePage::default();
                // Keys as Strings (escapes decoded, as a Value's keys were); four per page.
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "totalSize" => page.total_size = Some(map.next_value()?),
                        "done" => page.done = Some(map.next_value()?),
                        "nextRecordsUrl" => page.next_records_url = Some(map.next_value()?),
                        "records" => page.records = Some(map.next_value()?),
                        // Read in full (not skipped): a `Value` of the body validated these too.
                        _ => drop(map.next_value::<Value>()?),
                    }
                }
                Ok(page)
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for WireRecords<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        macro_rules! other {
            ($($f:ident: $t:ty),*) => {$(
                fn $f<E: serde::de::Error>(self, _: $t) -> std::result::Result<WireRecords<'de>, E> {
                    Ok(WireRecords::Other)
                }
            )*};
        }
        impl<'de> Visitor<'de> for V {
            type Value = WireRecords<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of records")
            }
            fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<WireRecords<'de>, E> {
                Ok(WireRecords::Null)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<WireRecords<'de>, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(raw) = seq.next_element::<&'de RawValue>()? {
                    items.push(raw);
                }
                Ok(WireRecords::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<WireRecords<'de>, A::Error> {
                // An object (or, with arbitrary_precision, a number): read in full, then dropped.
                Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(WireRecords::Other)
            }
            other!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);
        }
        d.deserialize_any(V)
    }
}

/// Above this many `{`/`[` a record may nest deeper than serde_json decodes (128 levels).
const MAX_UNCHECKED_OPENERS: usize = 100;

/// True when `json` (one value serde_json's skipping pass accepted) might still be refused by a
/// decoding pass: that pass checks the grammar only, so a lone surrogate escape (`\ud800`, which
/// no Rust string can hold) or nesting past serde_json's recursion limit gets through it.
///
/// One pass over the bytes, in blocks of 255 counted into bytes, which the compiler vectorises
/// (about 25 µs per 1 MB page, against about 400 µs for the page's validating parse): the
/// number of `{`/`[` (inside strings too: an upper bound of the nesting depth) and whether there
/// is a backslash at all; only then are the escapes looked at.
fn may_not_decode(json: &str) -> bool {
    let (mut openers, mut backslash) = (0usize, false);
    for block in json.as_bytes().chunks(255) {
        // `{` is 0x7B and `[` is 0x5B: the only bytes that OR 0x20 makes 0x7B.
        let (n, bs) = block
            .iter()
            .fold((0u8, 0u8), |(n, bs), &b| (n + u8::from(b | 0x20 == b'{'), bs | u8::from(b == b'\\')));
        openers += usize::from(n);
        backslash |= bs != 0;
    }
    openers > MAX_UNCHECKED_OPENERS || (backslash && has_lone_surrogate_escape(json))
}

/// True when `json` (grammatically valid JSON) has a `\u` escape of a surrogate that is not a
/// high surrogate directly followed by a `\u` escape of a low one: what serde_json refuses when
/// it decodes a string (a surrogate pair such as `\ud83d\ude00` is fine).
fn has_lone_surrogate_escape(json: &str) -> bool {
    let b = json.as_bytes();
    let hex = |at: usize| -> Option<u16> {
        let digits = std::str::from_utf8(b.get(at..at + 4)?).ok()?;
        u16::from_str_radix(digits, 16).ok()
    };
    let mut i = 0;
    // Backslashes only occur inside strings, each starting an escape (found with memchr).
    while let Some(p) = json.get(i..).and_then(|rest| rest.find('\\')) {
        let at = i + p;
        if b.get(at + 1) != Some(&b'u') {
            i = at + 2; // `\"`, `\\`, `\n`, …: two bytes
            continue;
        }
        let Some(unit) = hex(at + 2) else { return true };
        i = at + 6;
        match unit {
            0xDC00..=0xDFFF => return true,
            0xD800..=0xDBFF => {
                if b.get(i..i + 2) != Some(b"\\u") || !matches!(hex(i + 2), Some(0xDC00..=0xDFFF)) {
                    return true;
                }
                i += 6;
            }
            _ => {}
        }
    }
    false
}

/// Decodes `json` as a [`Record`] when [`may_not_decode`] says it might fail, so that every record
/// a page or [`RawRecord::from_json`] accepts also decodes (the error is serde_json's own).
fn check_decodes(json: &str) -> std::result::Result<(), serde_json::Error> {
    if may_not_decode(json) {
        serde_json::from_str::<Record>(json)?;
    }
    Ok(())
}

/// Reads a query body. `Err` is a JSON syntax or shape error (truncated body, a lone surrogate
/// escape, a top-level value that is not an object, …) with the body handed back (for the
/// error's raw body): the caller decides whether to retry. Wrong types of the known keys are not
/// errors here (see [`RawQueryPage`]).
pub(crate) fn parse_query_page(text: String) -> std::result::Result<RawQueryPage, (serde_json::Error, String)> {
    let page: Arc<String> = Arc::new(text);
    let parsed = serde_json::from_str::<WirePage<'_>>(&page).and_then(|wire| {
        let (mut records, mut records_not_array, mut non_object_record) = (None, false, false);
        match wire.records {
            None | Some(WireRecords::Null) => {}
            Some(WireRecords::Other) => records_not_array = true,
            Some(WireRecords::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for raw in items {
                    check_decodes(raw.get())?;
                    let r = span_of(&page, raw.get());
                    non_object_record |= !raw.get().starts_with('{');
                    out.push(RawRecord { page: page.clone(), start: r.start, end: r.end });
                }
                records = Some(out);
            }
        }
        Ok(RawQueryPage {
            total_size: wire.total_size.as_ref().and_then(Value::as_u64),
            done: wire.done.as_ref().and_then(Value::as_bool),
            next_records_url: wire.next_records_url.as_ref().and_then(Value::as_str).map(str::to_owned),
            records,
            records_not_array,
            non_object_record,
        })
    });
    parsed.map_err(|e| {
        // The records built so far are dropped: this is the page's only reference again.
        let text = Arc::try_unwrap(page).unwrap_or_else(|shared| shared.as_ref().clone());
        (e, text)
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
        // Wrong types of known keys read as absent (the caller refuses the page), as before.
        let p = parse_query_page(r#"{"totalSize":"x","done":true}"#.into()).unwrap();
        assert_eq!((p.total_size, p.done), (None, Some(true)));
        let p = parse_query_page(r#"{"totalSize":1,"done":true,"records":{}}"#.into()).unwrap();
        assert!(p.records_not_array && p.records.is_none());
        // A syntax error anywhere, even after a shape problem, is a syntax error.
        let (e, text) = parse_query_page(r#"{"totalSize":"x","done":true,"records":[{"Id":"1"}"#.into()).err().unwrap();
        assert!(e.is_eof() && text.ends_with(r#"[{"Id":"1"}"#));
        let p = parse_query_page(r#"{"totalSize":1,"done":true,"records":[1]}"#.into()).unwrap();
        assert!(p.non_object_record);
        assert!(RawRecord::from_json("[1]").is_err());
        assert!(RawRecord::from_json("{\"a\":").is_err());
    }

    #[test]
    fn what_a_value_could_not_hold_is_a_syntax_error() {
        let deep = format!(r#"{{"totalSize":1,"done":true,"records":[{{"D":{}1{}}}]}}"#, "[".repeat(130), "]".repeat(130));
        for body in [
            r#"{"totalSize":1,"done":true,"records":[{"S":"\ud800"}]}"#.to_string(),
            r#"{"totalSize":1,"done":true,"records":[{"S":"\uDC00"}]}"#.to_string(),
            r#"{"totalSize":1,"done":true,"records":[{"\ud800":1}]}"#.to_string(),
            r#"{"totalSize":1,"done":true,"x":"\ud800","records":[]}"#.to_string(),
            deep,
        ] {
            let (e, text) = parse_query_page(body.clone()).err().expect(&body);
            assert!(e.is_syntax(), "{body}: {e}");
            assert_eq!(text, body);
        }
        // A surrogate pair, an escaped backslash before `ud800`, nesting within the limit.
        let ok = format!(r#"{{"totalSize":1,"done":true,"records":[{{"S":"\ud83d\ude00 \\ud800","D":{}1{}}}]}}"#, "[".repeat(110), "]".repeat(110));
        let p = parse_query_page(ok).unwrap();
        assert_eq!(p.records.unwrap()[0].to_record().unwrap()["S"], "😀 \\ud800");
    }

    #[test]
    fn lone_surrogate_escapes_are_found_exactly() {
        for lone in [r#""\ud800""#, r#""\uDBFF""#, r#""\udc00""#, r#""a\ud83d""#, r#""\ud83d\u0041""#, r#""\ud83d\n""#, r#""\ud83d\ud83d\ude00""#, r#""\ud83d""#, r#""\\\ud800""#] {
            assert!(has_lone_surrogate_escape(lone), "{lone}");
            assert!(serde_json::from_str::<String>(lone).is_err(), "{lone}");
        }
        for fine in [r#""\ud83d\ude00""#, r#""\\ud800""#, r#""\\\\ud800 \u00e9 \" x""#, r#""\uD83D\uDE00\uE000\uFFFF""#, r#""plain""#, r#""\\""#] {
            assert!(!has_lone_surrogate_escape(fine), "{fine}");
            assert!(serde_json::from_str::<String>(fine).is_ok(), "{fine}");
        }
        // Not valid JSON: no panic.
        for broken in ["\\", "\\u12", "\\\u{e9}"] {
            has_lone_surrogate_escape(broken);
        }
    }

    #[test]
    fn repeated_keys_keep_the_last_value() {
        let p = parse_query_page(r#"{"totalSize":9,"records":[{"a":1}],"done":false,"totalSize":2,"done":true,"records":[{"b":1},{"c":2}]}"#.into()).unwrap();
        assert_eq!((p.total_size, p.done), (Some(2), Some(true)));
        let recs = p.records.unwrap();
        assert_eq!(recs.iter().map(RawRecord::json).collect::<Vec<_>>(), [r#"{"b":1}"#, r#"{"c":2}"#]);
        let p = parse_query_page(r#"{"totalSize":1,"done":true,"nextRecordsUrl":5,"records":null,"\u0074otalSize":3}"#.into()).unwrap();
        assert_eq!((p.total_size, p.next_records_url, p.records.is_none()), (Some(3), None, true));
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
