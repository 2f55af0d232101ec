//! Fuzz target bodies. Each takes arbitrary bytes and panics only when a property of sfcrm-core is
//! violated (a crash of the core itself is a panic too). Shared by the cargo-fuzz targets in
//! `core/fuzz` (which include this file by path, so it depends on `sfcrm_core`, `serde_json` and
//! `csv` only) and by the stable replay test `tests/fuzz_replay.rs`.

use sfcrm_core::QueryPage;
use sfcrm_core::export::Record;
use sfcrm_core::export::{ExportFormat, RawRecord, RecordBatch, RecordWriter};
use sfcrm_core::protocol::{api_error, parse_error_body};
use sfcrm_core::soql::{FieldPath, SObjectName, escape_like, escape_literal};
use sfcrm_core::{Config, ConnectionDocument, ConnectionKey};

/// Names of the targets, in the order of [`run`].
pub const TARGETS: [&str; 7] = [
    "error_body", "record_writer", "soql", "state", "connection_document", "query_page", "bulk_csv",
];

/// Runs target `name` on `data`. Panics on an unknown name.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "error_body" => error_body(data),
        "record_writer" => record_writer(data),
        "soql" => soql(data),
        "state" => state(data),
        "connection_document" => connection_document(data),
        "query_page" => query_page(data),
        "bulk_csv" => bulk_csv(data),
        other => panic!("unknown fuzz target {other}"),
    }
}

/// Error-body parsing: bytes 0..2 = HTTP status (clamped to 100..=599), byte 2 picks a
/// content type, the rest is the body (lossy UTF-8). `parse_error_body` must give a non-empty
/// message; `api_error` must give a typed error whose Display/Debug render, with the raw body cut
/// to `RAW_BODY_LIMIT`.
pub fn error_body(data: &[u8]) {
    if data.len() < 3 {
        return;
    }
    let status = 100 + (u16::from_le_bytes([data[0], data[1]]) % 500);
    let ct = ["application/json", "text/html; charset=utf-8", "text/plain", ""][(data[2] % 4) as usize];
    let text = String::from_utf8_lossy(&data[3..]);
    let parsed = parse_error_body(status, ct, &text);
    assert!(!parsed.message.is_empty(), "empty message for {text:?}");
    let code = reqwest::StatusCode::from_u16(status).expect("status in range");
    let err = api_error(code, ct, &text, None, None);
    assert_eq!(err.status(), Some(status));
    assert!(err.raw_body().is_none_or(|b| b.len() <= sfcrm_core::error::RAW_BODY_LIMIT));
    let _ = format!("{err} {err:?}");
    if status == 401 {
        assert_eq!(err.kind(), sfcrm_core::ErrorKind::SessionExpired);
    }
}

/// Record writing: the input, if it is a JSON object, is a record. Its keys that are valid field
/// paths are CSV columns. CSV output must parse back to a header and exactly one row of the same
/// width; NDJSON output must be exactly one line that parses back to a JSON object.
pub fn record_writer(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(serde_json::Value::Object(record)) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    let record: Record = record;
    let mut columns: Vec<FieldPath> = record.keys().filter_map(|k| FieldPath::new(k).ok()).collect();
    columns.push(FieldPath::new("Account.Name").unwrap());
    // CSV
    let mut w = RecordWriter::new(ExportFormat::Csv, Vec::new(), &columns).expect("csv writer");
    w.write_record(&record).expect("csv write");
    let out = w.finish().expect("csv finish");
    let mut rd = csv::ReaderBuilder::new().has_headers(false).flexible(false).from_reader(out.as_slice());
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.expect("csv parses back")).collect();
    assert_eq!(rows.len(), 2, "header + one row");
    assert_eq!(rows[0].len(), columns.len());
    assert_eq!(rows[1].len(), columns.len());
    for (h, c) in rows[0].iter().zip(&columns) {
        assert_eq!(h, c.as_str());
    }
    // NDJSON
    let mut w = RecordWriter::new(ExportFormat::Ndjson, Vec::new(), &columns).expect("ndjson writer");
    w.write_record(&record).expect("ndjson write");
    let out = w.finish().expect("ndjson finish");
    let s = std::str::from_utf8(&out).expect("NDJSON is UTF-8");
    assert!(s.ends_with('\n'));
    assert_eq!(s.matches('\n').count(), 1, "one record = one line: {s:?}");
    let back: serde_json::Value = serde_json::from_str(s.trim_end()).expect("NDJSON parses back");
    assert!(back.is_object());
    // JSON
    let mut w = RecordWriter::new(ExportFormat::Json, Vec::new(), &columns).expect("json writer");
    w.write_record(&record).expect("json write");
    let out = w.finish().expect("json finish");
    let back: serde_json::Value = serde_json::from_slice(&out).expect("JSON parses back");
    assert_eq!(back.as_array().map(Vec::len), Some(1));
    // The raw path (records as received): one line each, the same JSON value as the decoded record.
    let raw = RawRecord::from_json(text).expect("a JSON object is a raw record");
    assert_eq!(raw.to_record().expect("decodes"), record);
    for keep in [true, false] {
        let mut w = RecordWriter::new(ExportFormat::Ndjson, Vec::new(), &columns).expect("ndjson writer").keep_attributes(keep);
        w.write_raw(&raw).expect("raw ndjson write");
        let out = w.finish().expect("ndjson finish");
        let s = std::str::from_utf8(&out).expect("NDJSON is UTF-8");
        assert_eq!(s.matches('\n').count(), 1, "one record = one line: {s:?}");
        let mut w = RecordWriter::new(ExportFormat::Ndjson, Vec::new(), &columns).expect("ndjson writer").keep_attributes(keep);
        w.write_record(&record).expect("ndjson write");
        let decoded_out = w.finish().expect("ndjson finish");
        let a: serde_json::Value = serde_json::from_str(s.trim_end()).expect("raw NDJSON parses back");
        let b: serde_json::Value = serde_json::from_slice(&decoded_out).expect("NDJSON parses back");
        assert_eq!(a, b, "raw and decoded writes give the same value");
    }
}

/// Query-page reading (`QueryPage::from_text`, lossy UTF-8 input): never panics; on success every
/// record is a JSON object that decodes, `done=false` always has a `nextRecordsUrl`, and the
/// batch's JSON array / NDJSON encodings parse back to the same records.
pub fn query_page(data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    let Ok(page) = QueryPage::from_text(text) else { return };
    assert!(page.done || page.next_records_url.is_some());
    let decoded: Vec<Record> = page.records.iter().map(|r| r.to_record().expect("a validated record decodes")).collect();
    let batch = RecordBatch { records: page.records };
    let mut arr = Vec::new();
    batch.write_json_array(&mut arr);
    let back: Vec<Record> = serde_json::from_slice(&arr).expect("the JSON array parses back");
    assert_eq!(back, decoded);
    let mut nd = Vec::new();
    batch.write_ndjson(&mut nd);
    let lines: Vec<&[u8]> = nd.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), decoded.len());
    for (l, d) in lines.iter().zip(&decoded) {
        assert_eq!(&serde_json::from_slice::<Record>(l).expect("an NDJSON line parses"), d);
    }
}

const BULK_DELIMITERS: [(&str, u8); 6] =
    [("COMMA", b','), ("TAB", b'\t'), ("PIPE", b'|'), ("SEMICOLON", b';'), ("CARET", b'^'), ("BACKQUOTE", b'`')];
const BULK_TYPES: [&str; 5] = ["string", "double", "boolean", "datetime", "int"];

/// Bulk API 2.0 CSV result pages (`query::bulk_csv_records`). Byte 0 picks the delimiter
/// (bits 0-2), the line ending (bit 3) and the mode (bit 4); byte 1 the width (1..=4) and the
/// column types.
/// - Raw mode: the rest is the page as received: never panics; on success every record is a
///   JSON object that decodes with one key per top-level column group.
/// - Round trip: the rest, split at 0xFF bytes (lossy UTF-8), are the cells of rows written as
///   Salesforce writes them (every value quoted, quotes doubled, embedded CR/LF kept): the page
///   must parse, with `Sforce-NumberOfRecords` = the rows, into records whose text values are the
///   cells (an empty cell null), booleans and numbers typed only when the text is one.
pub fn bulk_csv(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let (delim_name, delim) = BULK_DELIMITERS[(data[0] & 7) as usize % BULK_DELIMITERS.len()];
    let eol = if data[0] & 8 != 0 { "\r\n" } else { "\n" };
    let width = 1 + (data[1] & 3) as usize;
    let names: Vec<String> = (0..width).map(|i| format!("C{i}")).collect();
    let types: Vec<(&str, &str)> =
        names.iter().enumerate().map(|(i, n)| (n.as_str(), BULK_TYPES[((data[1] >> 2) as usize + i) % BULK_TYPES.len()])).collect();
    let rest = &data[2..];
    if data[0] & 16 != 0 {
        let text = String::from_utf8_lossy(rest);
        if let Ok(records) = sfcrm_core::query::bulk_csv_records(&text, delim_name, &types, None, None) {
            for r in records {
                let rec = r.to_record().expect("a Bulk CSV record decodes");
                assert!(!rec.is_empty());
            }
        }
        return;
    }
    let cells: Vec<String> = rest.split(|b| *b == 0xFF).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let sep = (delim as char).to_string();
    let mut csv = names.iter().map(|n| quote(n)).collect::<Vec<_>>().join(&sep) + eol;
    let rows: Vec<&[String]> = cells.chunks(width).filter(|r| r.len() == width).collect();
    for row in &rows {
        let line: Vec<String> = row.iter().map(|c| if c.is_empty() { String::new() } else { quote(c) }).collect();
        csv.push_str(&line.join(&sep));
        csv.push_str(eol);
    }
    let records = sfcrm_core::query::bulk_csv_records(&csv, delim_name, &types, None, Some(rows.len() as u64))
        .unwrap_or_else(|e| panic!("a well-formed page was refused: {e} in {csv:?}"));
    assert_eq!(records.len(), rows.len());
    for (raw, row) in records.iter().zip(&rows) {
        let rec = raw.to_record().expect("a Bulk CSV record decodes");
        for ((name, ty), cell) in types.iter().zip(row.iter()) {
            let v = &rec[*name];
            match (cell.as_str(), *ty) {
                ("", _) => assert!(v.is_null(), "{name}: {v}"),
                (c, "boolean") if c.eq_ignore_ascii_case("true") || c.eq_ignore_ascii_case("false") => {
                    assert_eq!(v.as_bool(), Some(c.eq_ignore_ascii_case("true")));
                }
                // Every digit kept: the record's text holds the number as sent (a decoded Value
                // may rewrite its exponent, `1E9` as `1e+9`).
                (c, "double" | "int") if v.is_number() => {
                    assert!(raw.json().contains(&format!("\"{name}\":{c}")), "{c} not kept in {}", raw.json());
                }
                (c, "datetime") if c.len() > 1 && c.ends_with('Z') => {
                    assert_eq!(v.as_str(), Some(format!("{}+0000", &c[..c.len() - 1]).as_str()));
                }
                (c, _) => assert_eq!(v.as_str(), Some(c), "{name}"),
            }
        }
    }
}

/// Undoes SOQL string escaping; `None` for a lone/unknown escape or an unescaped quote.
pub fn soql_unescape(s: &str, like: bool) -> Option<String> {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => out.push(match it.next()? {
                '\\' => '\\',
                '\'' => '\'',
                '"' => '"',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'b' => '\u{8}',
                'f' => '\u{c}',
                '%' if like => '%',
                '_' if like => '_',
                _ => return None,
            }),
            '\'' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// SOQL safety: an accepted identifier contains only `[A-Za-z0-9_.]` and starts with a letter;
/// an escaped literal has no bare quote or control character and unescapes to the input.
pub fn soql(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let ident_ok = |s: &str| {
        s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
            && s.split('.').all(|seg| seg.as_bytes().first().is_some_and(u8::is_ascii_alphabetic))
    };
    if let Ok(n) = SObjectName::new(text.as_ref()) {
        assert!(ident_ok(n.as_str()) && !n.as_str().contains('.'), "accepted sObject {text:?}");
    }
    if let Ok(f) = FieldPath::new(text.as_ref()) {
        assert!(ident_ok(f.as_str()), "accepted field path {text:?}");
    }
    for like in [false, true] {
        let r = if like { escape_like(&text) } else { escape_literal(&text) };
        match r {
            Ok(e) => {
                assert!(!e.chars().any(char::is_control), "control char left in {e:?}");
                assert_eq!(soql_unescape(&e, like).as_deref(), Some(text.as_ref()), "round trip of {text:?}");
                if like {
                    let unescaped_wild = e.char_indices().any(|(i, c)| {
                        (c == '%' || c == '_') && e[..i].chars().rev().take_while(|&b| b == '\\').count() % 2 == 0
                    });
                    assert!(!unescaped_wild, "LIKE wildcard left unescaped in {e:?}");
                }
            }
            Err(_) => assert!(text.chars().any(|c| c.is_control() && !"\n\r\t\u{8}\u{c}".contains(c))),
        }
    }
}

fn state_config() -> Config {
    Config::builder()
        .client_id("fuzz-client")
        .client_secret("fuzz-secret")
        .redirect_uri("http://127.0.0.1:9/callback")
        .login_url("http://127.0.0.1:9")
        .state_secret("fuzz-state-secret-0123456789abcdef-0123456789")
        .forward_origins(["https://app.acme.example"])
        .build()
        .expect("fuzz config")
}

/// State verification: the input alone must never verify; a signed state with the input's
/// bytes overwritten at input-chosen positions verifies only to the original claims (HMAC-SHA256
/// with a pinned algorithm: no other header/payload can pass).
pub fn state(data: &[u8]) {
    let config = state_config();
    let text = String::from_utf8_lossy(data);
    assert!(sfcrm_core::protocol::verify_state(&config, Some(&text)).is_err(), "forged state accepted: {text:?}");
    let key = ConnectionKey::new("acc-1", "user-1");
    let (token, claims) = sfcrm_core::protocol::sign_state(&config, &key, "https://app.acme.example/x").unwrap();
    let mut bytes = token.into_bytes();
    for pair in data.chunks(2) {
        if pair.len() == 2 && !bytes.is_empty() {
            let i = pair[0] as usize * 7 % bytes.len();
            bytes[i] = pair[1];
        }
    }
    let mutated = String::from_utf8_lossy(&bytes);
    if let Ok(c) = sfcrm_core::protocol::verify_state(&config, Some(&mutated)) {
        assert_eq!(c, claims, "mutated state verified to other claims");
    }
}

/// `ConnectionDocument::from_json`: never panics; what it accepts round-trips through `to_json`,
/// and its Debug output holds no token.
pub fn connection_document(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(doc) = ConnectionDocument::from_json(&text) {
        let again = ConnectionDocument::from_json(&doc.to_json()).expect("own JSON parses");
        assert_eq!(again, doc);
        let dbg = format!("{doc:?}");
        let at = doc.token.access_token.expose();
        if at.len() >= 8 {
            assert!(!dbg.contains(at), "access token in Debug");
        }
    }
}
