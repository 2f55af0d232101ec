//! Record JSON for JavaScript: the text that crosses to `lib/index.js` (which parses it with
//! `JSON.parse`), built from the core's [`RawRecord`]s without decoding a value, and the
//! `lossless` option (every number as a string of its exact text, so an 18-digit Amount keeps
//! every digit).
//!
//! Why text: numbers then become JavaScript numbers exactly as the seed's `JSON.parse` of
//! Salesforce's response made them, key order is Salesforce's, and one batch costs one string
//! instead of thousands of napi calls. A streamed batch is the records joined into one array,
//! their non-ASCII characters written as `\u` escapes on the tokio thread, so the JavaScript
//! thread gets a one-byte string (a copy, no UTF-8 decode) and `JSON.parse` gives the same
//! objects ([`AsciiJson`]). Decoded values (`exportPage`, `apiGet`) use [`numbers_to_strings`].

use serde_json::Value;
use sfcrm_core::RawRecord;

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

impl AsciiJson {
    /// Wraps the text of [`batch_js_json`] (ASCII by construction).
    pub fn new(text: Vec<u8>) -> Self {
        debug_assert!(text.is_ascii());
        AsciiJson(text)
    }
}

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
}
