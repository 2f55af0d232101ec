//! Review of the raw query-page decoder (commit 3433e02 and after): hostile and odd bodies served
//! byte for byte by a loopback server, checked against the decision the pre-3433e02 code made for
//! the same body (kept below as `old_decision`, a copy of that code): the same retry/`Protocol`
//! split, the same records, and every record of an accepted page decodes with `to_record()`.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Map, Value};
use sfcrm_core::export::{RawRecord, RecordBatch};
use sfcrm_core::{Client, ConnectionKey, ErrorKind, MemoryStore, QueryOptions, QueryPage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---- the decision before 3433e02 (core/src/http.rs read_api_response + QueryPage::from_json) ----

#[derive(Debug, PartialEq)]
enum Old {
    /// A page: totalSize, done, nextRecordsUrl, records.
    Page(u64, bool, Option<String>, Vec<Map<String, Value>>),
    /// Retried (a JSON syntax error), then `Protocol`.
    Retry,
    /// `Protocol` at once (valid JSON, not a query result).
    Fail,
}

fn old_decision(body: &[u8]) -> Old {
    let text = String::from_utf8_lossy(body);
    let value = if text.trim().is_empty() {
        Value::Null
    } else {
        match serde_json::from_str::<Value>(&text) {
            Ok(v) => v,
            Err(_) => return Old::Retry,
        }
    };
    let Value::Object(mut obj) = value else { return Old::Fail };
    let Some(total_size) = obj.get("totalSize").and_then(Value::as_u64) else { return Old::Fail };
    let Some(done) = obj.get("done").and_then(Value::as_bool) else { return Old::Fail };
    let next = obj.get("nextRecordsUrl").and_then(Value::as_str).map(str::to_owned);
    if !done && next.is_none() {
        return Old::Fail;
    }
    let records = match obj.remove("records") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for r in items {
                match r {
                    Value::Object(m) => out.push(m),
                    _ => return Old::Fail,
                }
            }
            out
        }
        Some(_) => return Old::Fail,
    };
    Old::Page(total_size, done, next, records)
}

// ---- a byte-exact loopback server ----------------------------------------------------------------

/// How the body is sent.
#[derive(Clone, Copy, Debug)]
enum Framing {
    /// `Content-Length` = body length.
    Exact,
    /// `Content-Length` says 64 bytes more than are sent; then the connection closes.
    CutOff,
}

/// Answers every request with `body` (status 200, JSON content type, `Connection: close`) and
/// counts the requests.
async fn serve(body: Vec<u8>, framing: Framing) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let body = body.clone();
            let c = c.clone();
            tokio::spawn(async move {
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                c.fetch_add(1, Ordering::SeqCst);
                let declared = match framing {
                    Framing::Exact => body.len(),
                    Framing::CutOff => body.len() + 64,
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&body).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (base, count)
}

async fn client_for(base: &str) -> (Client, ConnectionKey) {
    let store = Arc::new(MemoryStore::new());
    let key = ConnectionKey::new("acc-1", "user-1");
    support::seed_connection(store.as_ref(), &key, base, "00DFAKE!TOKEN1", Some("5AepFAKEREFRESH1")).await;
    let config = support::test_config(base, "3MVGFAKECLIENT", "FAKESECRET").build().unwrap();
    (Client::new(config, store).unwrap(), key)
}

/// What the client made of `body`: the page, or the error kind, plus the requests it made.
async fn query_body(body: &[u8], framing: Framing) -> (sfcrm_core::Result<QueryPage>, usize) {
    let (base, count) = serve(body.to_vec(), framing).await;
    let (client, key) = client_for(&base).await;
    let r = client.query_page(&key, "SELECT Id FROM Contact", &QueryOptions::default()).await;
    (r, count.load(Ordering::SeqCst))
}

/// Requests made for a retried body: the first + `fast_retry().max_retries`.
fn retried_requests() -> usize {
    support::fast_retry().max_retries as usize + 1
}

const ID1: &str = "003000000000001AAA";

fn rec(extra: &str) -> String {
    format!(
        r#"{{"attributes":{{"type":"Contact","url":"/services/data/v59.0/sobjects/Contact/{ID1}"}},"Id":"{ID1}"{extra}}}"#
    )
}

fn page_of(records: &str) -> String {
    format!(r#"{{"totalSize":1,"done":true,"records":[{records}]}}"#)
}

fn nested(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

/// Every body of the review: (name, body).
fn cases() -> Vec<(&'static str, Vec<u8>)> {
    let ok = page_of(&rec(r#","N":1.50"#));
    let mut bom = "\u{feff}".as_bytes().to_vec();
    bom.extend_from_slice(ok.as_bytes());
    let mut bad_utf8 = page_of(&rec(r#","Name":"ab"#)).into_bytes();
    let at = bad_utf8.len() - 4; // inside the Name string, before `"}]}`
    bad_utf8.splice(at..at, [0xffu8, 0xc3]);
    vec![
        ("plain page", ok.clone().into_bytes()),
        ("UTF-8 BOM", bom),
        ("leading and trailing whitespace", format!(" \r\n\t{ok} \n\n").into_bytes()),
        ("trailing garbage", format!("{ok}x").into_bytes()),
        ("a second object after the page", format!("{ok}{ok}").into_bytes()),
        ("records twice (last wins)", format!(r#"{{"totalSize":1,"done":true,"records":[{}],"records":[{}]}}"#, rec(r#","A":1"#), rec(r#","A":2"#)).into_bytes()),
        ("totalSize twice", format!(r#"{{"totalSize":5,"totalSize":1,"done":true,"records":[{}]}}"#, rec("")).into_bytes()),
        ("done twice", format!(r#"{{"totalSize":1,"done":false,"done":true,"records":[{}]}}"#, rec("")).into_bytes()),
        ("Id twice in a record", page_of(&format!(r#"{{"Id":"003000000000002AAA","Id":"{ID1}"}}"#)).into_bytes()),
        ("totalSize 1.0", format!(r#"{{"totalSize":1.0,"done":true,"records":[{}]}}"#, rec("")).into_bytes()),
        ("totalSize -1", format!(r#"{{"totalSize":-1,"done":true,"records":[{}]}}"#, rec("")).into_bytes()),
        ("totalSize 2^64", format!(r#"{{"totalSize":18446744073709551616,"done":true,"records":[{}]}}"#, rec("")).into_bytes()),
        ("totalSize 1e400", format!(r#"{{"totalSize":1e400,"done":true,"records":[{}]}}"#, rec("")).into_bytes()),
        ("totalSize a string", format!(r#"{{"totalSize":"1","done":true,"records":[{}]}}"#, rec("")).into_bytes()),
        ("totalSize null", format!(r#"{{"totalSize":null,"done":true,"records":[{}]}}"#, rec("")).into_bytes()),
        ("done a string", format!(r#"{{"totalSize":1,"done":"true","records":[{}]}}"#, rec("")).into_bytes()),
        ("done=true and a numeric nextRecordsUrl", format!(r#"{{"totalSize":1,"done":true,"nextRecordsUrl":5,"records":[{}]}}"#, rec("")).into_bytes()),
        ("done=false and a numeric nextRecordsUrl", format!(r#"{{"totalSize":1,"done":false,"nextRecordsUrl":5,"records":[{}]}}"#, rec("")).into_bytes()),
        ("records null", br#"{"totalSize":0,"done":true,"records":null}"#.to_vec()),
        ("records absent (COUNT())", br#"{"totalSize":7,"done":true}"#.to_vec()),
        ("records an object", br#"{"totalSize":1,"done":true,"records":{}}"#.to_vec()),
        ("records a string", br#"{"totalSize":1,"done":true,"records":"x"}"#.to_vec()),
        ("records a number", br#"{"totalSize":1,"done":true,"records":1.5}"#.to_vec()),
        ("a null record", page_of("null").into_bytes()),
        ("an array record", page_of("[1]").into_bytes()),
        ("a string record", page_of(r#""x""#).into_bytes()),
        ("record nested 120 deep", page_of(&rec(&format!(r#","D":{}"#, nested(120)))).into_bytes()),
        ("record nested 200 deep", page_of(&rec(&format!(r#","D":{}"#, nested(200)))).into_bytes()),
        ("unknown key nested 200 deep", format!(r#"{{"totalSize":1,"done":true,"x":{},"records":[{}]}}"#, nested(200), rec("")).into_bytes()),
        ("line breaks and tabs between tokens", format!("{{\n\t\"totalSize\" :\t1,\r\n \"done\":true,\n\"records\":[\n{{\n\t\"Id\" : \"{ID1}\",\r\n\t\"N\": [1, 2.50,\t-1.0e2]\n}}\n]\n}}").into_bytes()),
        ("string escapes", page_of(&rec(r#","S":"a \"q\" \\ \/ \b\f\n\r\t \u2028 \u00e9 \ud83d\ude00 \u0000""#)).into_bytes()),
        ("raw U+2028 and U+2029 in a string", page_of(&rec(",\"S\":\"a\u{2028}b\u{2029}c\"")).into_bytes()),
        ("lone leading surrogate", page_of(&rec(r#","S":"\ud800""#)).into_bytes()),
        ("lone trailing surrogate", page_of(&rec(r#","S":"x\udc00y""#)).into_bytes()),
        ("leading surrogate then a non-surrogate escape", page_of(&rec(r#","S":"\ud800\u0041""#)).into_bytes()),
        ("lone surrogate in a key", page_of(&format!(r#"{{"Id":"{ID1}","\uD800":1}}"#)).into_bytes()),
        ("lone surrogate in an unknown top-level key", format!(r#"{{"totalSize":1,"done":true,"x":"\ud800","records":[{}]}}"#, rec("")).into_bytes()),
        ("escaped backslash before ud800 (not an escape)", page_of(&rec(r#","S":"\\ud800""#)).into_bytes()),
        ("raw control character in a string", page_of(&rec(",\"S\":\"a\tb\"")).into_bytes()),
        ("invalid UTF-8 (U+FFFD)", bad_utf8),
        ("empty body", Vec::new()),
        ("whitespace body", b" \r\n ".to_vec()),
        ("JSON null body", b"null".to_vec()),
        ("JSON array body", b"[1,2]".to_vec()),
        ("cut off mid-record", ok.as_bytes()[..ok.len() - 20].to_vec()),
        ("cut off after the records", ok.as_bytes()[..ok.len() - 1].to_vec()),
        ("nextRecordsUrl with escapes", format!(r#"{{"totalSize":3,"done":false,"nextRecordsUrl":"\/services\/data\/v59.0\/query\/01gFAKE\u002D2000","records":[{}]}}"#, rec("")).into_bytes()),
        ("huge numbers in a record", page_of(&rec(r#","A":123456789012345678901234567890.125,"B":1e400,"C":-0.0e-0"#)).into_bytes()),
    ]
}

/// The new decoder against the old decision for every case, through the real transport.
#[tokio::test]
async fn every_body_gets_the_decision_it_got_before_3433e02() {
    let mut failures = Vec::new();
    for (name, body) in cases() {
        let expected = old_decision(&body);
        let (got, requests) = query_body(&body, Framing::Exact).await;
        let verdict = match (&expected, &got) {
            (Old::Page(t, d, n, recs), Ok(p)) => {
                let decoded: Vec<_> = p.records.iter().map(RawRecord::to_record).collect();
                if let Some(e) = decoded.iter().find_map(|r| r.as_ref().err()) {
                    Err(format!("a record of the accepted page does not decode: {e}"))
                } else {
                    let decoded: Vec<_> = decoded.into_iter().map(Result::unwrap).collect();
                    if (p.total_size, p.done, &p.next_records_url, &decoded) != (*t, *d, n, recs) {
                        Err(format!("page differs: {p:?} vs {expected:?}"))
                    } else if requests != 1 {
                        Err(format!("{requests} requests for a good page"))
                    } else {
                        Ok(())
                    }
                }
            }
            (Old::Retry, Err(e)) if e.kind() == ErrorKind::Protocol && requests == retried_requests() => Ok(()),
            (Old::Fail, Err(e)) if e.kind() == ErrorKind::Protocol && requests == 1 => Ok(()),
            _ => Err(format!(
                "expected {expected:?}, got {:?} after {requests} request(s)",
                got.as_ref().map(|p| &p.records).map_err(|e| (e.kind(), e.to_string()))
            )),
        };
        if let Err(why) = verdict {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(failures.is_empty(), "{} case(s) differ:\n{}", failures.len(), failures.join("\n"));
}

/// A body cut off by the connection (fewer bytes than `Content-Length`) is retried, then fails as
/// before (a transport error, never a partial page).
#[tokio::test]
async fn a_body_cut_off_by_the_connection_is_retried_and_never_a_partial_page() {
    let ok = page_of(&rec(r#","N":1.50"#));
    let (got, requests) = query_body(ok.as_bytes(), Framing::CutOff).await;
    let e = got.expect_err("a cut-off body is not a page");
    assert_eq!(requests, retried_requests());
    assert!(matches!(e.kind(), ErrorKind::Network | ErrorKind::Protocol | ErrorKind::Timeout), "{e:?}");
}

/// A 2xx body that is not valid JSON keeps the body text aside on the error, as it did before
/// 3433e02 (`with_raw_body`), whichever way the decoder reached the syntax error.
#[tokio::test]
async fn an_unreadable_body_is_kept_on_the_error() {
    for body in [&page_of(&rec(""))[..30], "{\"totalSize\":1,\"done\":true,\"records\":[]}x", "\u{feff}{}"] {
        let (got, requests) = query_body(body.as_bytes(), Framing::Exact).await;
        let e = got.expect_err("invalid JSON");
        assert_eq!((e.kind(), requests), (ErrorKind::Protocol, retried_requests()), "{body}");
        assert_eq!(e.raw_body(), Some(body), "{e:?}");
    }
}

/// `QueryPage::from_text` (no transport) agrees with the old decision too, and every record it
/// accepts decodes.
#[test]
fn from_text_accepts_exactly_what_the_old_decoder_accepted() {
    let mut failures = Vec::new();
    for (name, body) in cases() {
        let text = String::from_utf8_lossy(&body).into_owned();
        let expected = old_decision(&body);
        match (QueryPage::from_text(text), &expected) {
            (Ok(p), Old::Page(_, _, _, recs)) => {
                match p.records.iter().map(RawRecord::to_record).collect::<Result<Vec<_>, _>>() {
                    Ok(d) if &d == recs => {}
                    other => failures.push(format!("{name}: {other:?}")),
                }
            }
            (Err(e), Old::Retry | Old::Fail) if e.kind() == ErrorKind::Protocol => {}
            (got, _) => failures.push(format!("{name}: expected {expected:?}, got {got:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `RawRecord::from_json` accepts only text `to_record()` can decode.
#[test]
fn from_json_rejects_what_to_record_cannot_decode() {
    for bad in [
        r#"{"S":"\ud800"}"#.to_string(),
        r#"{"S":"\udc00"}"#.to_string(),
        format!(r#"{{"D":{}}}"#, nested(200)),
    ] {
        let e = RawRecord::from_json(bad.clone()).expect_err(&bad);
        assert_eq!(e.kind(), ErrorKind::Protocol);
    }
    for good in [
        r#"{"S":"\ud83d\ude00 \\ud800"}"#.to_string(),
        format!(r#"{{"D":{}}}"#, nested(100)),
        " {\"a\":1} \n".to_string(),
    ] {
        let r = RawRecord::from_json(good.clone()).expect(&good);
        r.to_record().expect(&good);
        assert_eq!(r.json(), good.trim());
    }
}

/// NDJSON of multi-line records has exactly one line per record, and each line is the record's
/// JSON value; the JSON array is the records' text joined.
#[test]
fn ndjson_has_one_line_per_record() {
    let body = format!(
        "{{\"totalSize\":3,\"done\":true,\"records\":[\n{{\r\n \"Id\" : \"{ID1}\",\n\t\"S\": \"a\\nb\\r\\u2028 \\\"}}\\\\\",\n \"N\": [ 1.50 ,\n -2e3 ] }},\r\n{{\"Id\":\"003000000000002AAA\",\"S\":\"\u{2028}\u{e9}\"}},\n{{ }}\n]}}"
    );
    let page = QueryPage::from_text(body).unwrap();
    let batch = RecordBatch { records: page.records.clone() };
    let mut nd = Vec::new();
    batch.write_ndjson(&mut nd);
    let nd = String::from_utf8(nd).unwrap();
    let lines: Vec<&str> = nd.split('\n').collect();
    assert_eq!(lines.len(), 4, "{nd:?}");
    assert_eq!(lines[3], "");
    for (line, r) in lines.iter().zip(&page.records) {
        assert!(!line.contains('\r'));
        assert_eq!(serde_json::from_str::<Value>(line).unwrap(), serde_json::from_str::<Value>(r.json()).unwrap());
    }
    assert_eq!(lines[0], format!("{{\"Id\":\"{ID1}\",\"S\":\"a\\nb\\r\\u2028 \\\"}}\\\\\",\"N\":[1.50,-2e3]}}"));
    let mut arr = Vec::new();
    batch.write_json_array(&mut arr);
    let arr: Value = serde_json::from_slice(&arr).unwrap();
    assert_eq!(arr, Value::Array(batch.to_records().unwrap().into_iter().map(Value::Object).collect()));
}
