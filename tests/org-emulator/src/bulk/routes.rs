//! HTTP handlers of the query job resources [bulk-and-parallel.md §1.1] and `/limits`. Every call
//! goes through [`begin`]: counted per kind, API version checked (Bulk 2.0 query exists from v47;
//! `resultPages` from v58), injected endpoint faults, then authenticated and counted against
//! `DailyApiRequests` (whether Bulk 2.0 calls count is UNCONFIRMED [§1.8]; the emulator counts
//! every one) with `Sforce-Limit-Info` on the answer.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, Response, StatusCode};
use serde_json::{Value, json};

use super::model::{Job, JobResult, JobState};
use super::validate::{CreateBody, validate};
use crate::api::{Instance, authenticate, not_found, version};
use crate::http::{self, KillSwitch, fault_response, form_pairs, get, rest_error, with_limit_info};
use crate::state::{Counters, Endpoint, Org};

/// A call that passed the common checks.
pub(super) struct Call {
    pub org: Arc<Org>,
    /// API major version of the request path.
    pub major: u32,
}

impl Call {
    /// An error array response with `Sforce-Limit-Info`.
    pub fn error(&self, status: StatusCode, code: &str, message: &str) -> Response<Body> {
        with_limit_info(rest_error(status, code, message), &self.org)
    }
    /// A JSON response with `Sforce-Limit-Info`.
    pub fn json(&self, status: StatusCode, v: &Value) -> Response<Body> {
        with_limit_info(http::json(status, v.to_string()), &self.org)
    }
    /// 404 NOT_FOUND "The requested resource does not exist" (a deleted or unknown job [B8]).
    pub fn not_found(&self) -> Response<Body> {
        with_limit_info(not_found(), &self.org)
    }
}

/// Count, check the version (at least `min_major`), apply a pending fault, authenticate.
pub(super) async fn begin(inst: &Instance, conn: &KillSwitch, headers: &HeaderMap, v: &str, ep: Endpoint, min_major: u32, count: fn(&mut Counters)) -> Result<Call, Response<Body>> {
    let org = inst.org.clone();
    org.count(count);
    let ver = version(&org, v)?;
    let major: u32 = ver.trim_start_matches('v').trim_end_matches(".0").parse().unwrap_or(0);
    if major < min_major {
        return Err(not_found());
    }
    if let Some(r) = fault_response(&org, org.take_fault(ep), conn, true).await {
        return Err(r);
    }
    authenticate(inst, headers)?;
    Ok(Call { org, major })
}

/// First Bulk 2.0 query version [bulk-and-parallel.md §1.1].
pub const MIN_BULK_VERSION: u32 = 47;

/// `POST /services/data/vXX.X/jobs/query`: create a job (200 with the create response [D24]).
pub async fn create(State(inst): State<Instance>, ConnectInfo(conn): ConnectInfo<KillSwitch>, Path(v): Path<String>, headers: HeaderMap, body: String) -> Response<Body> {
    let call = match begin(&inst, &conn, &headers, &v, Endpoint::BulkCreate, MIN_BULK_VERSION, |c| c.bulk_create += 1).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let org = call.org.clone();
    let parsed: CreateBody = match serde_json::from_str(&body) {
        Ok(b) => b,
        Err(e) => return call.error(StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR", &format!("sf-org-emulator: the body is not a job request: {e}")),
    };
    let now = org.now_ms();
    let settings = {
        let mut jobs = org.bulk.lock().expect("lock");
        jobs.expire(now);
        let (max, remaining) = jobs.job_allocation();
        if remaining == 0 {
            // Airbyte treats LIMIT_EXCEEDED on create as "Bulk not available" [T2]; the text is UNCONFIRMED.
            return call.error(StatusCode::BAD_REQUEST, "LIMIT_EXCEEDED", &format!("sf-org-emulator: Max bulk v2 query jobs ({max}) per 24 hrs has been reached"));
        }
        jobs.settings.clone()
    };
    let valid = match validate(&parsed, &settings.unsupported_objects, now) {
        Ok(v) => v,
        Err(r) => return call.error(StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST), r.code, &r.message),
    };
    let org2 = org.clone();
    let plan = valid.plan;
    let executed = tokio::task::spawn_blocking(move || {
        let rows = crate::query::execute(&org2.ds, &org2.ov.read().expect("lock"), &plan);
        (plan, rows)
    })
    .await;
    let Ok((plan, rows)) = executed else {
        return call.error(StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN_EXCEPTION", "query execution failed");
    };
    let mut columns = valid.columns;
    if call.major < 50 {
        // Alphabetical columns up to v49 [bulk-and-parallel.md §1.4].
        columns.sort_by_key(|c| c.header.to_ascii_lowercase());
    }
    let n = rows.len();
    let processing_ms = settings.overhead_ms as i64 + (n as f64 / settings.rows_per_s * 1000.0).round() as i64;
    let mut jobs = org.bulk.lock().expect("lock");
    jobs.next += 1;
    let id = crate::ids::make_id(b"750", b"5g0", jobs.next - 1);
    let mut job = Job {
        id: id.clone(),
        operation: valid.operation,
        result: Arc::new(JobResult { plan, rows, columns }),
        version: call.major,
        delimiter: valid.delimiter.0,
        delimiter_name: valid.delimiter.1,
        crlf: valid.crlf,
        pk_chunking: valid.pk_chunking,
        created_by: org.user_id.clone(),
        created_ms: now,
        queue_ms: settings.queue_delay_ms as i64,
        processing_ms,
        rows_per_s: settings.rows_per_s,
        overhead_ms: settings.overhead_ms as i64,
        fail: None,
        stuck_polls: 0,
        retries: 0,
        page_faults: Vec::new(),
        aborted_ms: None,
    };
    jobs.apply_faults(&mut job);
    let info = job.info(&job.at(now), false);
    jobs.created.push_back(now);
    jobs.order.push(id.clone());
    jobs.map.insert(id, job);
    drop(jobs);
    call.json(StatusCode::OK, &info)
}

/// `GET …/jobs/query/{id}`: job info [B8]; a stuck job answers `InProgress` (one stuck poll used).
pub async fn poll(State(inst): State<Instance>, ConnectInfo(conn): ConnectInfo<KillSwitch>, Path((v, id)): Path<(String, String)>, headers: HeaderMap) -> Response<Body> {
    let call = match begin(&inst, &conn, &headers, &v, Endpoint::BulkPoll, MIN_BULK_VERSION, |c| c.bulk_poll += 1).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let now = call.org.now_ms();
    let mut jobs = call.org.bulk.lock().expect("lock");
    jobs.expire(now);
    let Some(job) = jobs.map.get_mut(&id) else { return call.not_found() };
    let snap = job.effective(now);
    if job.stuck_polls > 0 && snap.state != JobState::Aborted {
        job.stuck_polls -= 1;
    }
    let info = job.info(&snap, true);
    drop(jobs);
    call.json(StatusCode::OK, &info)
}

/// `GET …/jobs/query[?jobType=&concurrencyMode=&queryLocator=]`: the jobs, 1,000 per page
/// [bulk-and-parallel.md §1.1]; `jobType=V2Ingest|Classic` lists none (there are only query jobs).
pub async fn list(State(inst): State<Instance>, ConnectInfo(conn): ConnectInfo<KillSwitch>, Path(v): Path<String>, RawQuery(q): RawQuery, headers: HeaderMap) -> Response<Body> {
    let call = match begin(&inst, &conn, &headers, &v, Endpoint::BulkList, MIN_BULK_VERSION, |c| c.bulk_list += 1).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    const PAGE: usize = 1000;
    let p = form_pairs(q.as_deref().unwrap_or(""));
    let start: usize = match get(&p, "queryLocator") {
        None => 0,
        Some(l) => match l.parse() {
            Ok(n) => n,
            Err(_) => return call.error(StatusCode::BAD_REQUEST, "INVALID_QUERY_LOCATOR", "invalid query locator"),
        },
    };
    let type_ok = get(&p, "jobType").is_none_or(|t| t == "V2Query");
    let mode_ok = get(&p, "concurrencyMode").is_none_or(|m| m == "Parallel");
    let now = call.org.now_ms();
    let mut jobs = call.org.bulk.lock().expect("lock");
    jobs.expire(now);
    let all: Vec<Value> = if type_ok && mode_ok {
        jobs.order.iter().filter_map(|id| jobs.map.get(id)).map(|j| j.info(&j.effective(now), false)).collect()
    } else {
        Vec::new()
    };
    drop(jobs);
    let end = (start + PAGE).min(all.len());
    let records: Vec<Value> = all.get(start.min(end)..end).unwrap_or_default().to_vec();
    let next = (end < all.len()).then(|| format!("/services/data/v{}.0/jobs/query?queryLocator={end}", call.major));
    call.json(StatusCode::OK, &json!({"done": next.is_none(), "records": records, "nextRecordsUrl": next}))
}

/// `PATCH …/jobs/query/{id}` `{"state":"Aborted"}`: abort a job that is queued or in progress
/// (200 with its job info); a finished job → 400 `INVALIDJOBSTATE` (text UNCONFIRMED).
pub async fn abort(State(inst): State<Instance>, ConnectInfo(conn): ConnectInfo<KillSwitch>, Path((v, id)): Path<(String, String)>, headers: HeaderMap, body: String) -> Response<Body> {
    let call = match begin(&inst, &conn, &headers, &v, Endpoint::BulkAbort, MIN_BULK_VERSION, |c| c.bulk_abort += 1).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let wanted = serde_json::from_str::<Value>(&body).ok().and_then(|b| b.get("state").and_then(Value::as_str).map(str::to_string));
    let now = call.org.now_ms();
    let mut jobs = call.org.bulk.lock().expect("lock");
    jobs.expire(now);
    let Some(job) = jobs.map.get_mut(&id) else { return call.not_found() };
    if wanted.as_deref() != Some("Aborted") {
        return call.error(StatusCode::BAD_REQUEST, "INVALIDJOBSTATE", "sf-org-emulator: a query job can only be set to {\"state\":\"Aborted\"}");
    }
    let snap = job.effective(now);
    if snap.state.is_terminal() {
        let msg = format!("sf-org-emulator: the job is already {}; only UploadComplete or InProgress jobs can be aborted", snap.state.as_str());
        return call.error(StatusCode::BAD_REQUEST, "INVALIDJOBSTATE", &msg);
    }
    job.aborted_ms = Some(now);
    job.stuck_polls = 0;
    let info = job.info(&job.at(now), true);
    drop(jobs);
    call.json(StatusCode::OK, &info)
}

/// `DELETE …/jobs/query/{id}`: 204; the job and its results are gone (404 afterwards [B8]). A job
/// still `InProgress` → 400 `INVALIDJOBSTATE` (abort it first; UNCONFIRMED).
pub async fn delete(State(inst): State<Instance>, ConnectInfo(conn): ConnectInfo<KillSwitch>, Path((v, id)): Path<(String, String)>, headers: HeaderMap) -> Response<Body> {
    let call = match begin(&inst, &conn, &headers, &v, Endpoint::BulkDelete, MIN_BULK_VERSION, |c| c.bulk_delete += 1).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let now = call.org.now_ms();
    let mut jobs = call.org.bulk.lock().expect("lock");
    jobs.expire(now);
    let Some(job) = jobs.map.get(&id) else { return call.not_found() };
    if job.effective(now).state == JobState::InProgress {
        return call.error(StatusCode::BAD_REQUEST, "INVALIDJOBSTATE", "sf-org-emulator: the job is InProgress; abort it before deleting it");
    }
    jobs.remove(&id);
    drop(jobs);
    with_limit_info(Response::builder().status(StatusCode::NO_CONTENT).body(Body::empty()).expect("response"), &call.org)
}

/// `GET /services/data/vXX.X/limits`: `DailyApiRequests` (the `Sforce-Limit-Info` numbers, this
/// call included), `DailyBulkV2QueryJobs` and `DailyBulkV2QueryFileStorageMB` (rolling 24 h), and
/// `DailyBulkApiBatches`, which query jobs do not consume [bulk-and-parallel.md §1.8].
pub async fn limits(State(inst): State<Instance>, ConnectInfo(conn): ConnectInfo<KillSwitch>, Path(v): Path<String>, headers: HeaderMap) -> Response<Body> {
    let call = match begin(&inst, &conn, &headers, &v, Endpoint::Limits, 0, |c| c.limits += 1).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let org = &call.org;
    let used = org.api_used.load(std::sync::atomic::Ordering::Relaxed);
    let limit = org.daily_limit.load(std::sync::atomic::Ordering::Relaxed);
    let now = org.now_ms();
    let mut jobs = org.bulk.lock().expect("lock");
    jobs.expire(now);
    let (jmax, jrem) = jobs.job_allocation();
    let (smax, srem) = jobs.storage_allocation();
    drop(jobs);
    let pair = |max: u64, rem: u64| json!({"Max": max, "Remaining": rem});
    call.json(StatusCode::OK, &json!({
        "DailyApiRequests": pair(limit, limit.saturating_sub(used)),
        "DailyBulkApiBatches": pair(15_000, 15_000),
        "DailyBulkV2QueryFileStorageMB": pair(smax, srem),
        "DailyBulkV2QueryJobs": pair(jmax, jrem),
    }))
}
