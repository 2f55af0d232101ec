//! Helpers for the Bulk API 2.0 query job tests.

use std::io::Read;

use serde_json::{Value, json};
use sf_org_emulator::{Emulator, EmulatorConfig};

use super::{http, login, s, start};

/// An emulator, an access token and the instance URL.
pub struct Org {
    pub emu: Emulator,
    pub token: String,
    pub base: String,
}

pub async fn org(cfg: EmulatorConfig) -> Org {
    let emu = start(cfg).await;
    let t = login(&emu).await;
    let base = emu.instance_url().to_string();
    Org { emu, token: s(&t, "access_token").to_string(), base }
}

/// Jobs finish as soon as they are created (no queue, no overhead, a huge rate).
pub fn instant(o: &Org) {
    o.emu.control().update_bulk_settings(&json!({"queue_delay_ms": 0, "overhead_ms": 0, "rows_per_s": 1e12})).unwrap();
}

/// A response's status, headers and raw body.
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("utf-8")
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).unwrap_or_else(|| panic!("no {name} header")).to_str().unwrap()
    }
    /// `(status, errorCode, message)` of a REST error array.
    pub fn error(&self) -> (u16, String, String) {
        let v = self.json();
        let e = &v.as_array().expect("error array")[0];
        (self.status, s(e, "errorCode").to_string(), s(e, "message").to_string())
    }
}

pub async fn send(o: &Org, method: reqwest::Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Resp {
    let mut rb = http().request(method, format!("{}{path}", o.base)).bearer_auth(&o.token);
    if let Some(b) = body {
        rb = rb.header("content-type", "application/json").body(b.to_string());
    }
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    Resp { status, headers, body: r.bytes().await.unwrap().to_vec() }
}

pub async fn create_raw(o: &Org, v: &str, body: Value) -> Resp {
    send(o, reqwest::Method::POST, &format!("/services/data/{v}/jobs/query"), Some(body), &[]).await
}

/// Create a `query` job over `soql` with extra body fields; returns its id.
pub async fn create(o: &Org, v: &str, soql: &str, extra: Value) -> String {
    let mut body = json!({"operation": "query", "query": soql});
    if let Some(m) = extra.as_object() {
        for (k, x) in m {
            body[k] = x.clone();
        }
    }
    let r = create_raw(o, v, body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    s(&r.json(), "id").to_string()
}

pub async fn poll(o: &Org, v: &str, id: &str) -> Value {
    let r = send(o, reqwest::Method::GET, &format!("/services/data/{v}/jobs/query/{id}"), None, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

pub async fn results(o: &Org, v: &str, id: &str, query: &str, headers: &[(&str, &str)]) -> Resp {
    send(o, reqwest::Method::GET, &format!("/services/data/{v}/jobs/query/{id}/results{query}"), None, headers).await
}

/// Every page of a job's results by the locator loop: the pages' bodies.
pub async fn all_pages(o: &Org, v: &str, id: &str, max_records: Option<u64>) -> Vec<String> {
    let mut pages = Vec::new();
    let mut locator: Option<String> = None;
    loop {
        let mut q = Vec::new();
        if let Some(l) = &locator {
            q.push(format!("locator={l}"));
        }
        if let Some(m) = max_records {
            q.push(format!("maxRecords={m}"));
        }
        let qs = if q.is_empty() { String::new() } else { format!("?{}", q.join("&")) };
        let r = results(o, v, id, &qs, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text());
        pages.push(r.text());
        let next = r.header("sforce-locator").to_string();
        if next == "null" {
            return pages;
        }
        locator = Some(next);
    }
}

pub fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b).read_to_end(&mut out).expect("gzip");
    out
}

/// Parse CSV text: (header, rows).
pub fn parse_csv(text: &str, delimiter: u8) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new().delimiter(delimiter).has_headers(true).from_reader(text.as_bytes());
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r.records().map(|rec| rec.unwrap().iter().map(str::to_string).collect()).collect();
    (header, rows)
}

/// Every record of a REST query (following `nextRecordsUrl`).
pub async fn rest_records(o: &Org, soql: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let r = super::query(&o.base, &o.token, soql).await;
    assert_eq!(r.status(), 200);
    let mut page: Value = r.json().await.unwrap();
    loop {
        out.extend(page["records"].as_array().unwrap().iter().cloned());
        let Some(next) = page["nextRecordsUrl"].as_str() else { return out };
        page = super::api(&o.base, next, &o.token).await.json().await.unwrap();
    }
}

/// The CSV cell Salesforce writes for the REST JSON value at `header` (`Account.Name`): empty for
/// null (also a null parent), `true`/`false`, numbers with every digit, dateTimes with `Z`.
pub fn expected_cell(rec: &Value, header: &str) -> String {
    let mut v = rec;
    for seg in header.split('.') {
        if v.is_null() {
            return String::new();
        }
        v = &v[seg];
    }
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.len() == 28 && s.ends_with("+0000") && s.as_bytes()[10] == b'T' => format!("{}Z", &s[..23]),
        Value::String(s) => s.clone(),
        other => panic!("{header}: unexpected {other}"),
    }
}
