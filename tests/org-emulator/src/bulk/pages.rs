//! Result pages [bulk-and-parallel.md §1.4, §1.5]: `GET …/results[?locator=&maxRecords=]` (CSV,
//! `Sforce-Locator`, `Sforce-NumberOfRecords`, gzip) and `GET …/resultPages` (up to five result
//! URLs per call, in either documented shape).
//!
//! A locator is the row offset of its page: decimal text up to v48, base64 of the decimal text
//! without padding from v49 (`MTAwMDA` = offset 10,000, the observation in §1.4). So a locator can
//! be fetched again any number of times while the job exists, with the same page.

use std::io::Write;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use serde_json::{Value, json};

use super::csv::{CsvStyle, page};
use super::model::{Gzip, JobResult, JobState, NotComplete, ResultPagesShape};
use super::routes::{Call, MIN_BULK_VERSION, begin};
use crate::api::Instance;
use crate::http::{KillSwitch, form_pairs, get, with_limit_info};
use crate::state::Endpoint;

/// `resultPages` exists from v58 [bulk-and-parallel.md §1.5].
pub const MIN_RESULT_PAGES_VERSION: u32 = 58;
/// Result URLs per `resultPages` answer ("up to five" [B5]).
pub const RESULT_URLS_PER_CALL: u64 = 5;

/// The locator of the page starting at row `offset`.
pub fn encode_locator(major: u32, offset: u64) -> String {
    if major <= 48 { offset.to_string() } else { STANDARD_NO_PAD.encode(offset.to_string()) }
}

/// The row offset of a locator, if it is one.
pub fn decode_locator(major: u32, loc: &str) -> Option<u64> {
    if major <= 48 {
        return loc.parse().ok();
    }
    let bytes = STANDARD_NO_PAD.decode(loc.trim_end_matches('=')).ok()?;
    std::str::from_utf8(&bytes).ok()?.parse().ok()
}

/// What a results request may read: the job's result and how to write it.
struct Readable {
    result: Arc<JobResult>,
    style: CsvStyle,
    job_version: u32,
    gzip: Gzip,
    default_max: u64,
    shape: ResultPagesShape,
}

/// Find the job, check the version (409 when it differs from the job's [§1.1]) and that the job
/// is `JobComplete` (412 or 204, the CONFLICT in §1.4).
fn readable(call: &Call, id: &str) -> Result<Readable, Response<Body>> {
    let now = call.org.now_ms();
    let mut jobs = call.org.bulk.lock().expect("lock");
    jobs.expire(now);
    let s = &jobs.settings;
    let (gzip, default_max, shape, not_complete, quoting, datetime) = (s.gzip, s.default_max_records, s.result_pages_shape, s.not_complete, s.quoting, s.datetime);
    let Some(job) = jobs.map.get(id) else { return Err(call.not_found()) };
    if job.version != call.major {
        let msg = format!("sf-org-emulator: this job was created with API version {}.0; request its results with that version (the text is UNCONFIRMED)", job.version);
        return Err(call.error(StatusCode::CONFLICT, "INVALIDVERSION", &msg));
    }
    let state = job.effective(now).state;
    if state != JobState::JobComplete {
        return Err(match not_complete {
            NotComplete::Status412 => call.error(
                StatusCode::PRECONDITION_FAILED,
                "JOB_NOT_COMPLETE",
                &format!("can only download query results of successfully completed bulk job with status: JOB_COMPLETE. Current status: {}", state.upper()),
            ),
            NotComplete::Status204 => with_limit_info(Response::builder().status(StatusCode::NO_CONTENT).body(Body::empty()).expect("response"), &call.org),
        });
    }
    let style = CsvStyle { delimiter: job.delimiter, crlf: job.crlf, quoting, datetime };
    Ok(Readable { result: job.result.clone(), style, job_version: job.version, gzip, default_max, shape })
}

/// Whether an injected `page_fails` job fault fails this request of the page at `start` (and
/// uses one failure up).
fn page_fault(call: &Call, id: &str, start: u64) -> bool {
    let mut jobs = call.org.bulk.lock().expect("lock");
    let Some(job) = jobs.map.get_mut(id) else { return false };
    match job.page_faults.iter_mut().find(|(o, left)| *o == start && *left > 0) {
        Some((_, left)) => {
            *left -= 1;
            true
        }
        None => false,
    }
}

/// `(start row, page size, maxRecords given)` from `locator` and `maxRecords`.
fn page_args(call: &Call, q: &Option<String>, total: u64, default_max: u64) -> Result<(u64, u64, bool), Response<Body>> {
    let p = form_pairs(q.as_deref().unwrap_or(""));
    // `locator=null` is refused rather than read as "the first page": a client that sends back the
    // end marker would otherwise loop over the result forever.
    let start = match get(&p, "locator").filter(|l| !l.is_empty()) {
        None => 0,
        Some(l) => match decode_locator(call.major, l) {
            Some(n) if n < total.max(1) => n,
            // Bulk 2.0's answer to a bad locator is UNCONFIRMED; REST's code is used.
            _ => return Err(call.error(StatusCode::BAD_REQUEST, "INVALID_QUERY_LOCATOR", "invalid query locator")),
        },
    };
    let max = match get(&p, "maxRecords") {
        None => return Ok((start, default_max, false)),
        Some(m) => m.parse::<u64>().ok().filter(|n| *n > 0),
    };
    match max {
        Some(n) => Ok((start, n, true)),
        None => Err(call.error(StatusCode::BAD_REQUEST, "INVALIDJOB", "sf-org-emulator: maxRecords must be a positive integer (the text is UNCONFIRMED)")),
    }
}

fn wants_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut parts = e.split(';');
            let name = parts.next().unwrap_or("").trim();
            let q0 = parts.any(|p| matches!(p.trim().strip_prefix("q="), Some(q) if q.trim().parse::<f64>().is_ok_and(|q| q == 0.0)));
            name.eq_ignore_ascii_case("gzip") && !q0
        })
}

/// `GET …/jobs/query/{id}/results[?locator=&maxRecords=]`.
pub async fn results(State(inst): State<Instance>, ConnectInfo(conn): ConnectInfo<KillSwitch>, Path((v, id)): Path<(String, String)>, RawQuery(q): RawQuery, headers: HeaderMap) -> Response<Body> {
    let call = match begin(&inst, &conn, &headers, &v, Endpoint::BulkResults, MIN_BULK_VERSION, |c| c.bulk_results += 1).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let r = match readable(&call, &id) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let total = r.result.rows.len();
    let (start, max, _) = match page_args(&call, &q, total, r.default_max) {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    if page_fault(&call, &id, start) {
        return call.error(StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN_EXCEPTION", "sf-org-emulator: injected failure of this results page (job fault page_fails)");
    }
    let end = start.saturating_add(max).min(total);
    let gzip = match r.gzip {
        Gzip::Always => true,
        Gzip::Never => false,
        Gzip::WhenAsked => wants_gzip(&headers),
    };
    let org = call.org.clone();
    let result = r.result.clone();
    let style = r.style;
    let rendered = tokio::task::spawn_blocking(move || {
        let ov = org.ov.read().expect("lock");
        let csv = page(&org.ds, &ov, result.plan.obj, &result.rows, &result.columns, start, end, &style);
        drop(ov);
        let len = csv.len() as u64;
        let body = if gzip {
            let mut enc = flate2::write::GzEncoder::new(Vec::with_capacity(csv.len() / 4 + 64), flate2::Compression::fast());
            enc.write_all(csv.as_bytes()).and_then(|_| enc.finish())
        } else {
            Ok(csv.into_bytes())
        };
        body.map(|b| (b, len))
    })
    .await;
    let Ok(Ok((body, csv_len))) = rendered else {
        return call.error(StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN_EXCEPTION", "sf-org-emulator: rendering the page failed");
    };
    {
        let mut jobs = call.org.bulk.lock().expect("lock");
        jobs.served.push_back((call.org.now_ms(), csv_len));
    }
    let locator = if end < total { encode_locator(r.job_version, end) } else { "null".to_string() };
    let mut b = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/csv")
        .header("sforce-numberofrecords", (end - start).to_string())
        .header("sforce-locator", locator);
    if gzip {
        b = b.header(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    with_limit_info(b.body(Body::from(body)).expect("response"), &call.org)
}

/// `GET …/jobs/query/{id}/resultPages[?locator=&maxRecords=]` (also `…/resultpages`, the spelling
/// of the doc example's `nextRecordsUrl`): up to five result URLs from the page at `locator`, each
/// of `maxRecords` rows (default: the results default; UNCONFIRMED [§1.5]); `maxRecords` is
/// carried in the URLs only when it was given.
pub async fn result_pages(State(inst): State<Instance>, ConnectInfo(conn): ConnectInfo<KillSwitch>, Path((v, id)): Path<(String, String)>, RawQuery(q): RawQuery, headers: HeaderMap) -> Response<Body> {
    let call = match begin(&inst, &conn, &headers, &v, Endpoint::BulkResultPages, MIN_RESULT_PAGES_VERSION, |c| c.bulk_result_pages += 1).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let r = match readable(&call, &id) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let total = r.result.rows.len();
    let (start, size, given) = match page_args(&call, &q, total, r.default_max) {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let query = |offset: u64| {
        let mut parts = Vec::new();
        if offset > 0 {
            parts.push(format!("locator={}", encode_locator(r.job_version, offset)));
        }
        if given {
            parts.push(format!("maxRecords={size}"));
        }
        if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
    };
    let mut offsets = Vec::new();
    let mut at = start;
    while offsets.len() < RESULT_URLS_PER_CALL as usize && (at < total || (total == 0 && offsets.is_empty())) {
        offsets.push(at);
        at = at.saturating_add(size);
    }
    let done = at >= total;
    let base = format!("/services/data/v{}.0", call.major);
    let job_path = format!("/jobs/query/{id}");
    let body = match r.shape {
        ResultPagesShape::ResultPages => {
            let pages: Vec<Value> = offsets.iter().map(|o| json!({"resultUrl": format!("{base}{job_path}/results{}", query(*o))})).collect();
            let next = (!done).then(|| format!("{base}{job_path}/resultpages{}", query(at)));
            json!({"resultPages": pages, "nextRecordsUrl": next, "done": done})
        }
        ResultPagesShape::ResultChunks => {
            let chunks: Vec<Value> = offsets.iter().map(|o| json!({"resultLink": format!("{job_path}/results{}", query(*o))})).collect();
            let next = (!done).then(|| format!("{job_path}/resultPages{}", query(at)));
            json!({"resultChunks": chunks, "nextRecordsUrl": next, "done": done})
        }
    };
    call.json(StatusCode::OK, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators() {
        assert_eq!(encode_locator(58, 10_000), "MTAwMDA");
        assert_eq!(encode_locator(58, 200_000), "MjAwMDAw");
        assert_eq!(encode_locator(48, 10_000), "10000");
        assert_eq!(decode_locator(58, "MTAwMDA"), Some(10_000));
        assert_eq!(decode_locator(58, "MTAwMDA="), Some(10_000));
        assert_eq!(decode_locator(48, "10000"), Some(10_000));
        assert_eq!(decode_locator(58, "!!"), None);
    }

    #[test]
    fn accept_encoding() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, v.parse().unwrap());
            wants_gzip(&m)
        };
        assert!(h("gzip"));
        assert!(h("deflate, GZIP;q=0.5"));
        assert!(!h("gzip;q=0"));
        assert!(!h("identity"));
    }
}
