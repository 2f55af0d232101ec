//! JSON and Python objects: every JSON value the binding hands to Python (records, seed page
//! bodies, `api_get` bodies, store documents) is built here from JSON text, in one pass with no
//! intermediate `serde_json::Value` (a record's text is the core's [`sfcrm_core::RawRecord`]);
//! [`dumps`] goes the other way for documents a Python store hands back.
//!
//! The pass builds `dict` / `list` / `str` / `int` / `float` / `bool` / `None` (and
//! `decimal.Decimal` in lossless mode):
//! - objects keep the text's key order (`dict` insertion order); a repeated key keeps its first
//!   position and takes the last value (as `serde_json`'s order-preserving map does);
//! - default mode: a number without fraction or exponent is an `int` (exact at any size), any
//!   other number a `float` (correctly rounded); lossless mode: every number is
//!   `decimal.Decimal(text)` from the exact digits sent (`-0` stays `Decimal('-0')`), e.g. an
//!   18-digit `Amount` of `123456789012345678.25`;
//! - strings: JSON escapes decoded, surrogate pairs combined; a lone surrogate or a raw control
//!   character is an error, as `serde_json` reports it.
//!
//! A decoded [`serde_json::Value`] (the core keeps every number's text: `arbitrary_precision`) is
//! converted through its text by [`value`], so every path follows the same rules.
//!
//! Object keys are interned in a [`KeyCache`] that lives as long as the export iterator, so the
//! ~15 keys of a Contact are created once per export instead of once per record.
//!
//! Errors (`ProtocolError`): text that is not one JSON value. The core validated every record when
//! its page was read, so this indicates a bug rather than a bad response.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString};
use sfcrm_core::{Error, ErrorKind};

use crate::error::to_py;

/// Nesting deeper than this is rejected (the core's validation stops at 128 already).
const MAX_DEPTH: u32 = 512;
/// Distinct keys kept in a [`KeyCache`]; keys past that are created per use (bounded memory for
/// exports whose records carry arbitrary keys).
const MAX_CACHED_KEYS: usize = 4096;

/// FNV-1a: keys are short and come from Salesforce, hashing speed matters more than DoS
/// resistance here (the cache is bounded and per export).
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Python `str` objects for object keys, by their raw (still escaped) JSON text.
///
/// Records of one export repeat the same keys in the same order, so the cache also remembers the
/// sequence of keys of the last record (`trace`) and first tries the key at the same position
/// (one short comparison); only a key off that sequence is hashed.
#[derive(Default)]
pub struct KeyCache {
    /// Every cached key, in the order first seen.
    entries: Vec<(Box<[u8]>, Py<PyString>)>,
    /// Index into `entries` by raw key text.
    index: HashMap<Box<[u8]>, usize, BuildHasherDefault<Fnv>>,
    /// The `entries` indices of the keys of the last record, in order.
    trace: Vec<usize>,
    /// The position in `trace` of the next key of the current record.
    pos: usize,
}

impl KeyCache {
    /// The key's `str` when cached, predicted from the last record's sequence first.
    #[inline]
    fn get<'py>(&mut self, py: Python<'py>, raw: &[u8]) -> Option<Bound<'py, PyString>> {
        if let Some(&i) = self.trace.get(self.pos) {
            let (k, v) = &self.entries[i];
            if **k == *raw {
                self.pos += 1;
                return Some(v.bind(py).clone());
            }
        }
        let i = *self.index.get(raw)?;
        self.note(i);
        Some(self.entries[i].1.bind(py).clone())
    }

    /// Caches a new key (while there is room).
    fn insert(&mut self, raw: &[u8], key: &Bound<'_, PyString>) {
        if self.entries.len() < MAX_CACHED_KEYS {
            let i = self.entries.len();
            self.entries.push((raw.into(), key.clone().unbind()));
            self.index.insert(raw.into(), i);
            self.note(i);
        }
    }

    /// Records entry `i` as the key at the current position of the sequence.
    fn note(&mut self, i: usize) {
        self.trace.truncate(self.pos);
        self.trace.push(i);
        self.pos += 1;
    }
}

/// Converts record text to Python objects; see the module docs.
pub struct RawToPy<'py, 'c> {
    py: Python<'py>,
    decimal: Option<Bound<'py, PyAny>>,
    keys: &'c mut KeyCache,
    scratch: String,
}

impl<'py, 'c> RawToPy<'py, 'c> {
    /// A converter; `lossless` selects `decimal.Decimal` for every number. `keys` interns object
    /// keys across calls.
    pub fn new(py: Python<'py>, lossless: bool, keys: &'c mut KeyCache) -> PyResult<Self> {
        let decimal = decimal_class(py, lossless)?;
        Ok(RawToPy { py, decimal, keys, scratch: String::new() })
    }

    /// Converts one JSON value (a record's object text) to a Python object.
    pub fn convert(&mut self, text: &str) -> PyResult<Bound<'py, PyAny>> {
        self.keys.pos = 0;
        let mut p = Parser { b: text.as_bytes(), i: 0 };
        let v = self.value(&mut p, 0)?;
        p.ws();
        if p.i != p.b.len() {
            return Err(p.error("trailing characters after the value").into());
        }
        Ok(v)
    }

    fn value(&mut self, p: &mut Parser<'_>, depth: u32) -> PyResult<Bound<'py, PyAny>> {
        p.ws();
        let py = self.py;
        match p.peek() {
            Some(b'{') => self.object(p, depth + 1),
            Some(b'[') => self.array(p, depth + 1),
            Some(b'"') => {
                p.i += 1;
                let (raw, escaped) = p.string()?;
                Ok(self.string(p, raw, escaped)?.into_any())
            }
            Some(b't') => Ok(p.literal(b"true").map(|_| PyBool::new(py, true).to_owned().into_any())?),
            Some(b'f') => Ok(p.literal(b"false").map(|_| PyBool::new(py, false).to_owned().into_any())?),
            Some(b'n') => Ok(p.literal(b"null").map(|_| py.None().into_bound(py))?),
            Some(b'-' | b'0'..=b'9') => {
                let (text, integer) = p.number()?;
                self.number(text, integer)
            }
            _ => Err(p.error("expected a JSON value").into()),
        }
    }

    fn object(&mut self, p: &mut Parser<'_>, depth: u32) -> PyResult<Bound<'py, PyAny>> {
        if depth > MAX_DEPTH {
            return Err(p.error("nested too deeply").into());
        }
        p.i += 1; // '{'
        let dict = PyDict::new(self.py);
        p.ws();
        if p.peek() == Some(b'}') {
            p.i += 1;
            return Ok(dict.into_any());
        }
        loop {
            p.ws();
            if p.peek() != Some(b'"') {
                return Err(p.error("expected an object key").into());
            }
            p.i += 1;
            let (raw, escaped) = p.string()?;
            let key = self.key(p, raw, escaped)?;
            p.ws();
            if p.peek() != Some(b':') {
                return Err(p.error("expected ':'").into());
            }
            p.i += 1;
            let v = self.value(p, depth)?;
            dict.set_item(key, v)?;
            p.ws();
            match p.peek() {
                Some(b',') => p.i += 1,
                Some(b'}') => {
                    p.i += 1;
                    return Ok(dict.into_any());
                }
                _ => return Err(p.error("expected ',' or '}'").into()),
            }
        }
    }

    fn array(&mut self, p: &mut Parser<'_>, depth: u32) -> PyResult<Bound<'py, PyAny>> {
        if depth > MAX_DEPTH {
            return Err(p.error("nested too deeply").into());
        }
        p.i += 1; // '['
        let list = PyList::empty(self.py);
        p.ws();
        if p.peek() == Some(b']') {
            p.i += 1;
            return Ok(list.into_any());
        }
        loop {
            list.append(self.value(p, depth)?)?;
            p.ws();
            match p.peek() {
                Some(b',') => p.i += 1,
                Some(b']') => {
                    p.i += 1;
                    return Ok(list.into_any());
                }
                _ => return Err(p.error("expected ',' or ']'").into()),
            }
        }
    }

    /// An object key: from the cache, or created (and cached while the cache has room).
    fn key(&mut self, p: &Parser<'_>, raw: &[u8], escaped: bool) -> PyResult<Bound<'py, PyString>> {
        if let Some(k) = self.keys.get(self.py, raw) {
            return Ok(k);
        }
        let k = self.string(p, raw, escaped)?;
        self.keys.insert(raw, &k);
        Ok(k)
    }

    /// A string's content (between the quotes, still escaped when `escaped`) as `str`.
    fn string(&mut self, p: &Parser<'_>, raw: &[u8], escaped: bool) -> PyResult<Bound<'py, PyString>> {
        if !escaped {
            return Ok(PyString::new(self.py, as_str(raw)));
        }
        self.scratch.clear();
        unescape(raw, &mut self.scratch).map_err(|m| p.error(m))?;
        Ok(PyString::new(self.py, &self.scratch))
    }

    fn number(&self, text: &str, integer: bool) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        if let Some(d) = &self.decimal {
            return d.call1((text,));
        }
        if integer {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(i.into_pyobject(py)?.into_any());
            }
            // Wider: Python's int is exact at any size.
            return py.get_type::<PyInt>().call1((text,));
        }
        let f: f64 = text
            .parse()
            .map_err(|_| to_py(Error::new(ErrorKind::Protocol, format!("a record number could not be read: {text:?}"))))?;
        Ok(PyFloat::new(py, f).into_any())
    }
}

/// Where and why record text could not be read (raised as `ProtocolError`).
#[derive(Debug)]
struct ParseError {
    what: &'static str,
    at: usize,
}

impl From<ParseError> for PyErr {
    fn from(e: ParseError) -> PyErr {
        to_py(Error::new(ErrorKind::Protocol, format!("a record could not be decoded: {} at byte {}", e.what, e.at)))
    }
}

/// A cursor over JSON text.
struct Parser<'t> {
    b: &'t [u8],
    i: usize,
}

impl<'t> Parser<'t> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn error(&self, what: &'static str) -> ParseError {
        ParseError { what, at: self.i }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), ParseError> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.error("invalid literal"))
        }
    }

    /// After the opening quote: the raw content up to the closing quote (which is consumed) and
    /// whether it holds escapes.
    #[inline]
    fn string(&mut self) -> Result<(&'t [u8], bool), ParseError> {
        let start = self.i;
        let mut escaped = false;
        let b = self.b;
        let mut i = self.i;
        while i < b.len() {
            match b[i] {
                b'"' => {
                    self.i = i + 1;
                    return Ok((&b[start..i], escaped));
                }
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                c if c < 0x20 => {
                    self.i = i;
                    return Err(self.error("control character in a string"));
                }
                _ => i += 1,
            }
        }
        self.i = b.len();
        Err(self.error("unterminated string"))
    }

    /// A number's text (validated against the JSON grammar) and whether it is an integer (no
    /// fraction, no exponent).
    fn number(&mut self) -> Result<(&'t str, bool), ParseError> {
        let b = self.b;
        let start = self.i;
        let mut i = self.i;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits = |i: &mut usize| {
            let s = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - s
        };
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                digits(&mut i);
            }
            _ => {
                self.i = i;
                return Err(self.error("invalid number"));
            }
        }
        let mut integer = true;
        if b.get(i) == Some(&b'.') {
            i += 1;
            integer = false;
            if digits(&mut i) == 0 {
                self.i = i;
                return Err(self.error("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            integer = false;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            if digits(&mut i) == 0 {
                self.i = i;
                return Err(self.error("invalid number"));
            }
        }
        self.i = i;
        Ok((as_str(&b[start..i]), integer))
    }
}

/// A slice of the record text as `str`.
///
/// Every slice taken here starts and ends next to an ASCII byte of the (valid UTF-8) record text
/// or at its ends (a quote, a backslash escape, a number's digits), so it is valid UTF-8: a
/// multi-byte sequence never contains an ASCII byte. Debug builds check it.
#[inline]
fn as_str(bytes: &[u8]) -> &str {
    debug_assert!(std::str::from_utf8(bytes).is_ok());
    // SAFETY: see above; the slice boundaries never split a UTF-8 sequence.
    unsafe { std::str::from_utf8_unchecked(bytes) }
}

/// Decodes JSON string escapes of `raw` (the content between the quotes) into `out`.
fn unescape(raw: &[u8], out: &mut String) -> Result<(), &'static str> {
    let mut i = 0;
    let mut run = 0; // start of the pending unescaped run
    while i < raw.len() {
        if raw[i] != b'\\' {
            i += 1;
            continue;
        }
        out.push_str(as_str(&raw[run..i]));
        let Some(&e) = raw.get(i + 1) else { return Err("invalid escape") };
        i += 2;
        match e {
            b'"' => out.push('"'),
            b'\\' => out.push('\\'),
            b'/' => out.push('/'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let hi = hex4(raw, i)?;
                i += 4;
                let c = if (0xD800..0xDC00).contains(&hi) {
                    if raw.get(i) != Some(&b'\\') || raw.get(i + 1) != Some(&b'u') {
                        return Err("lone leading surrogate in hex escape");
                    }
                    let lo = hex4(raw, i + 2)?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return Err("lone leading surrogate in hex escape");
                    }
                    i += 6;
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                } else if (0xDC00..0xE000).contains(&hi) {
                    return Err("lone trailing surrogate in hex escape");
                } else {
                    hi
                };
                out.push(char::from_u32(c).ok_or("invalid unicode escape")?);
            }
            _ => return Err("invalid escape"),
        }
        run = i;
    }
    out.push_str(as_str(&raw[run..]));
    Ok(())
}

fn hex4(raw: &[u8], at: usize) -> Result<u32, &'static str> {
    let h = raw.get(at..at + 4).ok_or("invalid unicode escape")?;
    let mut v = 0u32;
    for c in h {
        let d = (*c as char).to_digit(16).ok_or("invalid unicode escape")?;
        v = v * 16 + d;
    }
    Ok(v)
}

static DECIMAL: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static JSON_DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `decimal.Decimal` when `lossless`, imported once per interpreter.
fn decimal_class(py: Python<'_>, lossless: bool) -> PyResult<Option<Bound<'_, PyAny>>> {
    if !lossless {
        return Ok(None);
    }
    let d = DECIMAL.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("decimal")?.getattr("Decimal")?.unbind())
    })?;
    Ok(Some(d.bind(py).clone()))
}

/// One JSON value's text (a page body, a stored document) as a Python object; see the module docs.
pub fn loads<'py>(py: Python<'py>, text: &str, lossless: bool) -> PyResult<Bound<'py, PyAny>> {
    let mut keys = KeyCache::default();
    RawToPy::new(py, lossless, &mut keys)?.convert(text)
}

/// A decoded JSON value (a seed page body, an `api_get` body) as a Python object, through its
/// exact text (numbers keep the digits Salesforce sent).
pub fn value<'py>(py: Python<'py>, v: &serde_json::Value, lossless: bool) -> PyResult<Bound<'py, PyAny>> {
    loads(py, &v.to_string(), lossless)
}

/// Serializes a Python object (dict/list/str/int/float/bool/None) to JSON text
/// with `json.dumps`.
pub fn dumps(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = obj.py();
    let f = JSON_DUMPS.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("json")?.getattr("dumps")?.unbind())
    })?;
    f.bind(py).call1((obj,))?.extract()
}

/// Decodes record texts (each one JSON value) in order with one key cache, as the export
/// iterator does; used by the tests to check the decoder against `json.loads` on crafted text the
/// emulator does not serve. `ProtocolError` for text that is not one JSON value.
#[pyfunction]
#[pyo3(signature = (texts, lossless=false))]
pub fn _decode_records<'py>(py: Python<'py>, texts: Vec<String>, lossless: bool) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let mut keys = KeyCache::default();
    let mut conv = RawToPy::new(py, lossless, &mut keys)?;
    texts.iter().map(|t| conv.convert(t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_like_json() {
        let mut s = String::new();
        unescape(br#"a\"b\\c\/d\n\t\u00e9\ud83d\ude00x"#, &mut s).unwrap();
        assert_eq!(s, "a\"b\\c/d\n\té😀x");
        s.clear();
        assert!(unescape(br"\ud83d", &mut s).is_err());
        assert!(unescape(br"\ude00", &mut s).is_err());
        assert!(unescape(br"\x", &mut s).is_err());
        assert!(unescape(br"\u12", &mut s).is_err());
    }

    #[test]
    fn numbers_follow_the_grammar() {
        for (t, int) in [("0", true), ("-12", true), ("1.5", false), ("-0.0e+3", false), ("1E9", false)] {
            let mut p = Parser { b: t.as_bytes(), i: 0 };
            assert_eq!(p.number().ok(), Some((t, int)), "{t}");
        }
        for t in ["-", "1.", "1e", ".5", "-x"] {
            let mut p = Parser { b: t.as_bytes(), i: 0 };
            assert!(p.number().is_err() || p.i != t.len(), "{t}");
        }
    }
}
