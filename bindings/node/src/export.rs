//! Exports for Node: the spec/options objects, record conversion, the streaming `ExportCursor`,
//! and the seed paginator as a function.
//!
//! Records cross to JavaScript as JSON text that `lib/index.js` parses with `JSON.parse`: numbers
//! then become JavaScript numbers exactly as the seed's `JSON.parse` of Salesforce's response made
//! them, key order is Salesforce's, and one batch costs one string instead of thousands of napi
//! calls. A streamed batch is built from the core's [`RawRecord`]s, the text Salesforce sent,
//! without decoding a value: the records are joined into one array, their non-ASCII characters
//! written as `\u` escapes on the tokio thread, so the JavaScript thread gets a one-byte string
//! (a copy, no UTF-8 decode) and `JSON.parse` gives the same objects. With `lossless`, every
//! number is rewritten into a string of its exact text in the same pass (so an 18-digit Amount
//! keeps every digit).

use std::sync::Arc;

use napi::bindgen_prelude::Either;
use napi_derive::napi;
use serde_json::Value;
use sfcrm_core::export::{CancelHandle, Checkpoint, ExportRequest, ExportSpec, ExportStream, RawRecord};
use sfcrm_core::paginator::{PageArg, paginate, parse_int_js};
use sfcrm_core::{Error, ErrorKind};

use crate::error::{IntoNapi, invalid_argument, to_napi};

/// What to export: a built-in `type` (`contacts`, `deals`, `notes`) or a custom `sobject` with
/// `fields` (validated against Salesforce's identifier rules; nothing is pasted into SOQL).
#[napi(object)]
pub struct ExportSpecInput {
    /// `contacts`, `deals` or `notes`.
    pub r#type: Option<String>,
    /// Any sObject API name (custom: `Invoice__c`).
    pub sobject: Option<String>,
    /// Field paths (`Name`, `Account.Name`, `Amount__c`), at least one.
    pub fields: Option<Vec<String>>,
}

impl ExportSpecInput {
    /// The core spec; `UnknownExportType` / `InvalidIdentifier` / `InvalidArgument` on bad input.
    pub fn to_spec(&self) -> Result<ExportSpec, Error> {
        match (&self.r#type, &self.sobject) {
            (Some(t), None) => ExportSpec::builtin(t),
            (None, Some(s)) => ExportSpec::custom(s, self.fields.as_deref().unwrap_or(&[])),
            _ => Err(Error::invalid_argument("an export spec has either a type or an sobject with fields")),
        }
    }
}

/// Options of a streaming export.
#[napi(object)]
pub struct ExportStreamOptions {
    /// What to export.
    pub spec: ExportSpecInput,
    /// Incremental mode: only records with `SystemModstamp >= since` (ISO-8601 / Salesforce form).
    pub since: Option<String>,
    /// A checkpoint token to resume after.
    pub resume_from: Option<String>,
    /// Include deleted and archived rows (`queryAll`).
    pub include_deleted: Option<bool>,
    /// Records per batch (Salesforce accepts 200..=2000).
    pub batch_size: Option<u32>,
}

impl ExportStreamOptions {
    /// The core request.
    pub fn to_request(&self) -> Result<ExportRequest, Error> {
        let mut r = ExportRequest::new(self.spec.to_spec()?);
        r.since = self.since.clone();
        if let Some(t) = &self.resume_from {
            r.resume_from = Some(Checkpoint::from_token(t)?);
        }
        r.include_deleted = self.include_deleted.unwrap_or(false);
        r.batch_size = self.batch_size;
        Ok(r)
    }
}

/// Progress of a streaming export.
#[napi(object)]
pub struct ExportProgress {
    /// Records delivered so far (including those before the checkpoint resumed from).
    pub records: i64,
    /// Batches delivered so far.
    pub batches: i64,
    /// Records expected in all (Salesforce's `totalSize`), null before the first batch.
    pub total_size: Option<i64>,
}

/// Replaces every number in `v` by its exact decimal text (the `lossless` option of
/// `exportPage`, whose records the core hands over decoded).
pub fn numbers_to_strings(v: &mut Value) {
    match v {
        Value::Number(n) => *v = Value::String(n.to_string()),
        Value::Array(a) => a.iter_mut().for_each(numbers_to_strings),
        Value::Object(o) => o.values_mut().for_each(numbers_to_strings),
        _ => {}
    }
}

/// Appends `json` (valid JSON text, as the core validated it) to `out` as pure-ASCII JSON that
/// `JSON.parse` reads to the same value: every non-ASCII character becomes a `\uXXXX` escape (a
/// surrogate pair above U+FFFF). With `lossless`, every number outside a string becomes a string
/// of its exact text (`1.50` → `"1.50"`). Nothing else changes (key order, other escapes,
/// whitespace).
///
/// Why ASCII: the batch then crosses to JavaScript as a one-byte (Latin-1) string, a plain copy
/// instead of a UTF-8 decode on the JavaScript thread, at half the size of the two-byte string a
/// single `é` would otherwise force on the whole batch.
pub fn write_js_json(json: &str, lossless: bool, out: &mut Vec<u8>) {
    if !lossless {
        // Copy ASCII runs whole; escape the characters between them.
        let mut rest = json;
        while let Some(p) = rest.bytes().position(|b| b >= 0x80) {
            out.extend_from_slice(&rest.as_bytes()[..p]);
            let c = rest[p..].chars().next().expect("a char starts here");
            write_char_escape(c, out);
            rest = &rest[p + c.len_utf8()..];
        }
        out.extend_from_slice(rest.as_bytes());
        return;
    }
    let bytes = json.as_bytes();
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if b >= 0x80 {
            // Only inside strings in valid JSON; `json` is a `str`, so this starts a UTF-8 char.
            let c = json[i..].chars().next().expect("a char starts here");
            write_char_escape(c, out);
            i += c.len_utf8();
            continue;
        }
        if in_string {
            out.push(b);
            if b == b'\\' {
                // The escaped byte is ASCII (`"`, `\`, `/`, `b`, `f`, `n`, `r`, `t`, `u`).
                i += 1;
                out.push(bytes[i]);
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
        } else if b == b'"' {
            in_string = true;
            out.push(b);
            i += 1;
        } else if lossless && (b == b'-' || b.is_ascii_digit()) {
            let start = i;
            while i < bytes.len() && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                i += 1;
            }
            out.push(b'"');
            out.extend_from_slice(&bytes[start..i]);
            out.push(b'"');
        } else {
            out.push(b);
            i += 1;
        }
    }
}

/// Appends `c` as `\uXXXX` escapes (two, a surrogate pair, above U+FFFF).
fn write_char_escape(c: char, out: &mut Vec<u8>) {
    let mut units = [0u16; 2];
    for u in c.encode_utf16(&mut units) {
        out.extend_from_slice(format_u16_escape(*u).as_slice());
    }
}

/// `\uXXXX` (lower-case hex) for one UTF-16 code unit.
fn format_u16_escape(u: u16) -> [u8; 6] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [
        b'\\',
        b'u',
        HEX[(u >> 12) as usize & 0xf],
        HEX[(u >> 8) as usize & 0xf],
        HEX[(u >> 4) as usize & 0xf],
        HEX[u as usize & 0xf],
    ]
}

/// The batch as one ASCII JSON array text (`[rec,rec,…]`, see [`write_js_json`]): records as
/// Salesforce sent them, numbers as strings when `lossless`. No value is built.
pub fn batch_js_json(records: &[RawRecord], lossless: bool) -> Vec<u8> {
    // Escapes make the text longer than the records; a few percent is the usual growth.
    let len: usize = records.iter().map(|r| r.json().len() + 1).sum();
    let mut out = Vec::with_capacity(len + len / 32 + 2);
    out.push(b'[');
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_js_json(r.json(), lossless, &mut out);
    }
    out.push(b']');
    out
}

/// A batch's JSON text handed to JavaScript as a one-byte (Latin-1) string: the text is ASCII
/// ([`batch_js_json`]), so this is a plain copy into the V8 heap, not a UTF-8 decode.
pub struct AsciiJson(Vec<u8>);

impl napi::bindgen_prelude::TypeName for AsciiJson {
    fn type_name() -> &'static str {
        "string"
    }
    fn value_type() -> napi::ValueType {
        napi::ValueType::String
    }
}

impl napi::bindgen_prelude::ToNapiValue for AsciiJson {
    unsafe fn to_napi_value(env: napi::sys::napi_env, val: Self) -> napi::Result<napi::sys::napi_value> {
        debug_assert!(val.0.is_ascii());
        let mut out = std::ptr::null_mut();
        // SAFETY: `env` is the live environment napi-rs converts in; the pointer and length
        // describe `val.0`, which outlives the call (V8 copies the bytes).
        let status = unsafe {
            napi::sys::napi_create_string_latin1(env, val.0.as_ptr().cast(), val.0.len() as isize, &mut out)
        };
        if status != napi::sys::Status::napi_ok {
            return Err(napi::Error::new(napi::Status::GenericFailure, "could not create the batch string"));
        }
        Ok(out)
    }
}

struct CursorState {
    stream: ExportStream,
    /// The last batch handed out (kept for record-granular checkpoints): reference-counted
    /// slices of its page, one page at most.
    last: Vec<RawRecord>,
}

/// A streaming export: `nextBatch()` until it resolves null. Memory is bounded by the core's
/// prefetch (one batch in flight) plus the last batch kept here for `checkpointAfter`.
#[napi]
pub struct ExportCursor {
    state: Arc<tokio::sync::Mutex<CursorState>>,
    cancel: CancelHandle,
}

impl ExportCursor {
    pub(crate) fn new(stream: ExportStream) -> Self {
        let cancel = stream.cancel_handle();
        ExportCursor { state: Arc::new(tokio::sync::Mutex::new(CursorState { stream, last: Vec::new() })), cancel }
    }

    fn try_state(&self) -> napi::Result<tokio::sync::MutexGuard<'_, CursorState>> {
        self.state
            .try_lock()
            .map_err(|_| invalid_argument("the export is fetching a batch; wait for nextBatch() to settle first"))
    }
}

#[napi]
impl ExportCursor {
    /// The next batch as a JSON array text (ASCII: non-ASCII characters as `\u` escapes; numbers
    /// as strings with `lossless`), or null at the end. Rejects with the export's error
    /// (`CancelledError` after `cancel()`).
    #[napi(ts_return_type = "Promise<string | null>")]
    pub async fn next_batch(&self, lossless: Option<bool>) -> napi::Result<Option<AsciiJson>> {
        let state = self.state.clone();
        let mut st = state.lock().await;
        match st.stream.next_batch().await.napi()? {
            None => {
                st.last.clear();
                Ok(None)
            }
            Some(batch) => {
                let text = batch_js_json(&batch.records, lossless.unwrap_or(false));
                st.last = batch.records;
                Ok(Some(AsciiJson(text)))
            }
        }
    }

    /// A resume token for the position after the last batch delivered.
    #[napi]
    pub fn checkpoint(&self) -> napi::Result<String> {
        Ok(self.try_state()?.stream.checkpoint().to_token())
    }

    /// A resume token for the position right after record `index` of the last batch delivered.
    #[napi]
    pub fn checkpoint_after(&self, index: u32) -> napi::Result<String> {
        let st = self.try_state()?;
        let record = st
            .last
            .get(index as usize)
            .ok_or_else(|| invalid_argument(format!("no record {index} in the last batch")))?;
        Ok(st.stream.checkpoint_after(record).napi()?.to_token())
    }

    /// Records and batches delivered, and the expected total.
    #[napi]
    pub fn progress(&self) -> napi::Result<ExportProgress> {
        let p = self.try_state()?.stream.progress();
        Ok(ExportProgress {
            records: p.records as i64,
            batches: p.batches as i64,
            total_size: p.total_size.map(|n| n as i64),
        })
    }

    /// Cancels the export (any thread; a pending `nextBatch()` rejects with `CancelledError`).
    #[napi]
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
}

/// A page or limit argument from JavaScript: a number or query-string text.
pub type NumOrText = Either<f64, String>;

/// The seed's page argument (`(page && parseInt(page)) || 1`, then pages below 1 → 1, D14).
pub fn page_arg(page: Option<NumOrText>) -> Result<i64, Error> {
    match page {
        None => PageArg::Missing,
        Some(Either::A(n)) => PageArg::Number(n),
        Some(Either::B(s)) => PageArg::Text(s),
    }
    .page()
}

/// The seed's limit argument: missing, empty, 0 or NaN text → all records (`per_page || items`);
/// a negative or non-integer number is `InvalidArgument`.
pub fn limit_arg(limit: Option<NumOrText>) -> Result<Option<u64>, Error> {
    let n = match limit {
        None => return Ok(None),
        Some(Either::A(n)) => {
            if n.is_nan() || n == 0.0 {
                return Ok(None);
            }
            if !n.is_finite() || n.fract() != 0.0 || !(0.0..=9_007_199_254_740_991.0).contains(&n) {
                return Err(Error::invalid_argument(format!("limit {n} is not a positive integer")));
            }
            n as i64
        }
        Some(Either::B(s)) => match parse_int_js(&s)? {
            None | Some(0) => return Ok(None),
            Some(n) => n,
        },
    };
    if n < 0 {
        return Err(Error::new(ErrorKind::InvalidArgument, format!("limit {n} is negative")));
    }
    Ok(Some(n as u64))
}

/// The seed's pagination object as JSON text, for `items` records: the same function
/// `exportPage` uses (`{page, per_page, total, total_pages, next_page, prev_page, offsetValue}`).
#[napi]
pub fn paginator(
    items: f64,
    #[napi(ts_arg_type = "number | string | null")] page: Option<NumOrText>,
    #[napi(ts_arg_type = "number | string | null")] per_page: Option<NumOrText>,
) -> napi::Result<String> {
    if !(items.is_finite() && items >= 0.0 && items.fract() == 0.0) {
        return Err(invalid_argument("items must be a non-negative integer"));
    }
    let page = page_arg(page).map_err(to_napi)?;
    let per_page = limit_arg(per_page).map_err(to_napi)?;
    let p = paginate(items as u64, page, per_page);
    serde_json::to_string(&p).map_err(|e| to_napi(Error::internal(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossless_keeps_digits() {
        let mut v: Value = serde_json::from_str(r#"{"Amount":123456789012345678.25,"n":[1,2.5]}"#).unwrap();
        numbers_to_strings(&mut v);
        assert_eq!(v.to_string(), r#"{"Amount":"123456789012345678.25","n":["1","2.5"]}"#);
    }

    fn js(json: &str, lossless: bool) -> String {
        let mut out = Vec::new();
        write_js_json(json, lossless, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn js_json_is_ascii_and_decodes_to_the_same_value() {
        let text = r#"{"Name":"Zoë 😀 Łukasz","Title":"a \"q\" \\ é","A":-1.50e3,"B":[1,2.5,true,null],"Id":"0035"}"#;
        let plain = js(text, false);
        assert!(plain.is_ascii(), "{plain}");
        assert_eq!(plain, r#"{"Name":"Zo\u00eb \ud83d\ude00 \u0141ukasz","Title":"a \"q\" \\ \u00e9","A":-1.50e3,"B":[1,2.5,true,null],"Id":"0035"}"#);
        let a: Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&plain).unwrap(), a);
        let exact = js(text, true);
        assert!(exact.is_ascii());
        assert_eq!(exact, r#"{"Name":"Zo\u00eb \ud83d\ude00 \u0141ukasz","Title":"a \"q\" \\ \u00e9","A":"-1.50e3","B":["1","2.5",true,null],"Id":"0035"}"#);
        // digits inside strings and keys stay as they are; whitespace around numbers is kept
        assert_eq!(js(r#"{ "n1" : 123456789012345678.25 , "s":"12\"3" }"#, true), r#"{ "n1" : "123456789012345678.25" , "s":"12\"3" }"#);
        assert_eq!(js(r#"{"a":"plain"}"#, false), r#"{"a":"plain"}"#);
    }

    /// What `JSON.parse` of the batch text gives, as a `Value`: the lossless pass must equal
    /// `numbers_to_strings` of the decoded record (what `exportPage` does), whatever the layout.
    /// One known difference: an exponent written `E` (`1.5E7`, Java's form) stays `"1.5E7"` in a
    /// stream (the text as sent) but is `"1.5e+7"` from a decoded value (serde_json's
    /// arbitrary-precision text: `e` and a signed exponent), as streams gave before RawRecord.
    #[test]
    fn lossless_text_equals_numbers_to_strings_of_the_value() {
        let records = [
            r#"{"123":-0.5e-3,"-1":"1e5","a":[-1,{"2":3e+2,"3":0,"4":-0.0}],"t":true,"f":false,"n":null}"#,
            r#"{"s":"-12 \"34\" \\","t":"\\\"5\"","k\"6":7,"u":"\u0031\u002d","e":"1e5 -2"}"#,
            "{\n\t\"x\" :\t-0 ,\r\n \"y\":[ 1 ,\n2.50e-7 ],\"z\" : {\"-3\" : 12345678901234567890123}\n}",
            "{\"\u{e9}\":\"\u{2028}\u{2029}\u{1F600}\",\"n\u{e9}\":-1e+400}",
            r#"{"a":[],"b":{},"c":[[[-1]]],"d":""}"#,
        ];
        for text in records {
            let raw = RawRecord::from_json(text).unwrap();
            let mut expected: Value = serde_json::from_str(text).unwrap();
            numbers_to_strings(&mut expected);
            let exact = js(raw.json(), true);
            assert!(exact.is_ascii(), "{exact}");
            assert_eq!(serde_json::from_str::<Value>(&exact).unwrap(), expected, "{text} -> {exact}");
            let plain = js(raw.json(), false);
            assert!(plain.is_ascii(), "{plain}");
            assert_eq!(serde_json::from_str::<Value>(&plain).unwrap(), serde_json::from_str::<Value>(text).unwrap());
        }
        assert_eq!(
            js(r#"{"123":-0.5e-3,"a":[-1,{"2":3E+2}],"s":"-1 \"2\" \\","t":true}"#, true),
            r#"{"123":"-0.5e-3","a":["-1",{"2":"3E+2"}],"s":"-1 \"2\" \\","t":true}"#
        );
        assert_eq!(js("\"\u{2028}\"", false), r#""\u2028""#);
        assert_eq!(js(r#"{"AnnualRevenue":1.5E7}"#, true), r#"{"AnnualRevenue":"1.5E7"}"#);
        let mut decoded: Value = serde_json::from_str(r#"{"AnnualRevenue":1.5E7}"#).unwrap();
        numbers_to_strings(&mut decoded);
        assert_eq!(decoded.to_string(), r#"{"AnnualRevenue":"1.5e+7"}"#);
    }

    #[test]
    fn batches_are_arrays_of_the_raw_records() {
        let a = RawRecord::from_json(r#"{"Id":"1","N":1.0}"#).unwrap();
        let b = RawRecord::from_json(r#"{"Id":"2","S":"é"}"#).unwrap();
        assert_eq!(batch_js_json(&[], false), b"[]");
        assert_eq!(batch_js_json(&[a.clone(), b.clone()], false), br#"[{"Id":"1","N":1.0},{"Id":"2","S":"\u00e9"}]"#);
        assert_eq!(batch_js_json(&[a, b], true), br#"[{"Id":"1","N":"1.0"},{"Id":"2","S":"\u00e9"}]"#);
    }

    #[test]
    fn limit_parsing() {
        assert_eq!(limit_arg(None).unwrap(), None);
        assert_eq!(limit_arg(Some(Either::B("0".into()))).unwrap(), None);
        assert_eq!(limit_arg(Some(Either::B("abc".into()))).unwrap(), None);
        assert_eq!(limit_arg(Some(Either::B("100".into()))).unwrap(), Some(100));
        assert_eq!(limit_arg(Some(Either::A(25.0))).unwrap(), Some(25));
        assert!(limit_arg(Some(Either::B("-5".into()))).is_err());
        assert!(limit_arg(Some(Either::A(2.5))).is_err());
    }
}
