//! The instance host: REST versions and query resources [salesforce-api.md §4, §5, §7].

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, Response, StatusCode};

use crate::http::{self, KillSwitch, fault_response, form_pairs, get, invalid_session, rest_error, with_limit_info};
use crate::ids;
use crate::query::{self, Rows, Shape};
use crate::state::{Cursor, Endpoint, Org};

/// Which instance port a router serves (sessions are bound to the instance that issued them).
#[derive(Clone)]
pub struct Instance {
    /// The org.
    pub org: Arc<Org>,
    /// Index into the org's instance URLs.
    pub index: usize,
}

/// Release label of an API version (v32.0 = Winter '15, three releases a year) [salesforce-api.md §7].
pub fn release_label(major: u32) -> String {
    let k = major as i64 - 32;
    let year = 15 + k.div_euclid(3);
    let season = ["Winter", "Spring", "Summer"][k.rem_euclid(3) as usize];
    format!("{season} '{year:02}")
}

/// `GET /services/data/`: no auth, no `Sforce-Limit-Info` [salesforce-api.md §7].
pub async fn versions(State(inst): State<Instance>, ConnectInfo(conn): ConnectInfo<KillSwitch>) -> Response<Body> {
    let org = &inst.org;
    org.count(|c| c.versions += 1);
    if let Some(r) = fault_response(org, org.take_fault(Endpoint::Versions), &conn, false).await {
        return r;
    }
    let arr: Vec<serde_json::Value> = org
        .cfg
        .api_versions
        .clone()
        .map(|v| serde_json::json!({"label": release_label(v), "url": format!("/services/data/v{v}.0"), "version": format!("{v}.0")}))
        .collect();
    http::json(StatusCode::OK, serde_json::Value::Array(arr).to_string())
}

/// Resolve the `vNN.N` / `latest` path segment; `Err` is the response to send.
pub(crate) fn version(org: &Org, seg: &str) -> Result<String, Response<Body>> {
    let served = &org.cfg.api_versions;
    if seg == "latest" {
        return Ok(format!("v{}.0", served.end()));
    }
    let major = seg
        .strip_prefix('v')
        .and_then(|s| s.strip_suffix(".0"))
        .and_then(|s| s.parse::<u32>().ok());
    match major {
        Some(m) if served.contains(&m) => Ok(format!("v{m}.0")),
        Some(m) if m >= 21 && m < *served.start() => Err(rest_error(
            StatusCode::GONE,
            "GONE",
            &format!("API version {m}.0 has been retired and is no longer supported."),
        )),
        _ => Err(not_found()),
    }
}

/// 404 `NOT_FOUND` "The requested resource does not exist" [salesforce-api.md §5].
pub(crate) fn not_found() -> Response<Body> {
    rest_error(StatusCode::NOT_FOUND, "NOT_FOUND", "The requested resource does not exist")
}

/// Common gate for authenticated data calls: session, instance binding, daily limit, counting.
pub(crate) fn authenticate(inst: &Instance, headers: &HeaderMap) -> Result<(String, u64), Response<Body>> {
    let org = &inst.org;
    let Some((tok, s)) = crate::oauth::session_for(org, headers) else {
        return Err(with_limit_info(invalid_session(), org));
    };
    if s.instance != inst.index {
        return Err(with_limit_info(invalid_session(), org));
    }
    let limit = org.daily_limit.load(Ordering::Relaxed);
    if org.api_used.load(Ordering::Relaxed) >= limit {
        return Err(with_limit_info(
            rest_error(StatusCode::FORBIDDEN, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
            org,
        ));
    }
    org.api_used.fetch_add(1, Ordering::Relaxed);
    org.count(|c| c.api_calls += 1);
    Ok((tok, s.id))
}

/// Page size: `Sforce-Query-Options: batchSize=N` clamped to 200..=2000, then capped by the
/// configured batch size [salesforce-api.md §4 "Batch size"] (which may be below 200, to emulate
/// an org that serves short pages regardless of the header, field case BR-06).
fn batch_size(org: &Org, headers: &HeaderMap) -> u64 {
    let cfg = org.batch_size.load(Ordering::Relaxed);
    let requested = headers
        .get("sforce-query-options")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').find_map(|kv| kv.trim().strip_prefix("batchSize=").and_then(|n| n.trim().parse::<u64>().ok())));
    match requested {
        Some(n) => n.clamp(200, 2000).min(cfg),
        None => cfg,
    }
}

/// `GET /services/data/vNN.N/query?q=` and `/queryAll?q=`.
pub async fn query(inst: State<Instance>, conn: ConnectInfo<KillSwitch>, Path(v): Path<String>, q: RawQuery, headers: HeaderMap) -> Response<Body> {
    run_query(inst, conn, v, q, headers, false).await
}

/// `GET /services/data/vNN.N/queryAll?q=`.
pub async fn query_all(inst: State<Instance>, conn: ConnectInfo<KillSwitch>, Path(v): Path<String>, q: RawQuery, headers: HeaderMap) -> Response<Body> {
    run_query(inst, conn, v, q, headers, true).await
}

async fn run_query(State(inst): State<Instance>, ConnectInfo(conn): ConnectInfo<KillSwitch>, v: String, RawQuery(q): RawQuery, headers: HeaderMap, all_rows: bool) -> Response<Body> {
    let org = inst.org.clone();
    org.count(|c| c.query += 1);
    let version = match version(&org, &v) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(r) = fault_response(&org, org.take_fault(Endpoint::Query), &conn, true).await {
        return r;
    }
    let (_tok, session_id) = match authenticate(&inst, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let p = form_pairs(q.as_deref().unwrap_or(""));
    let Some(soql) = get(&p, "q") else {
        return with_limit_info(rest_error(StatusCode::BAD_REQUEST, "MALFORMED_QUERY", "A query string has to be specified"), &org);
    };
    let parsed = crate::soql::parse(soql).and_then(|q| query::plan_at(&q, all_rows, org.now_ms()));
    let plan = match parsed {
        Ok(p) => p,
        Err(e) => return with_limit_info(rest_error(StatusCode::BAD_REQUEST, e.code, &e.message), &org),
    };
    let mut batch = batch_size(&org, &headers);
    if plan.long_text_fields() >= 2 {
        batch = batch.min(200); // [salesforce-api.md §4 "Batch size"]
    }
    let org2 = org.clone();
    // Executing can touch up to millions of rows: keep it off the async workers.
    let result = tokio::task::spawn_blocking(move || {
        let ov = org2.ov.read().expect("lock");
        let rows = query::execute(&org2.ds, &ov, &plan);
        (plan, rows)
    })
    .await;
    let Ok((plan, rows)) = result else {
        return with_limit_info(rest_error(StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN_EXCEPTION", "query execution failed"), &org);
    };
    match &plan.shape {
        Shape::CountAll => {
            let body = format!("{{\"totalSize\":{},\"done\":true,\"records\":[]}}", rows.len());
            with_limit_info(http::json(StatusCode::OK, body), &org)
        }
        Shape::CountField(path) => {
            let n = {
                let ov = org.ov.read().expect("lock");
                query::count_field(&org.ds, &ov, &plan, &rows, path)
            };
            let body = format!("{{\"totalSize\":1,\"done\":true,\"records\":[{{\"attributes\":{{\"type\":\"AggregateResult\"}},\"expr0\":{n}}}]}}");
            with_limit_info(http::json(StatusCode::OK, body), &org)
        }
        Shape::Records(_) => {
            let cursor = Arc::new(Cursor { session_id, plan, rows, batch, child: false, locator: std::sync::OnceLock::new() });
            page(&org, &cursor, 0, batch, &version)
        }
    }
}

/// Register `cursor` under a new query locator, evicting the oldest cursors past the limits
/// (their locators then answer INVALID_QUERY_LOCATOR).
fn mint(org: &Org, cursor: &Arc<Cursor>) -> String {
    let mut cs = org.cursors.lock().expect("lock");
    cs.next += 1;
    let loc = ids::make_id(b"01g", b"5g0", cs.next);
    cs.map.insert(loc.clone(), cursor.clone());
    if cursor.child { cs.child_order.push_back(loc.clone()) } else { cs.order.push_back(loc.clone()) }
    cs.held_rows += cursor.held_rows();
    cs.evict();
    loc
}

/// Render rows `start..` of `cursor` into `out`: with child subqueries, inline child rows count
/// toward the page size and each parent's extra children get their own cursor [salesforce-api.md
/// §4 "Batch size", "Child subqueries"]. Returns the end row.
fn render_rows(org: &Arc<Org>, cursor: &Cursor, start: u64, batch: u64, version: &str, out: &mut String) -> u64 {
    let total = cursor.rows.len();
    let Shape::Records(nodes) = &cursor.plan.shape else { unreachable!() };
    let ov = org.ov.read().expect("lock");
    if cursor.plan.subs.is_empty() {
        let end = (start + batch).min(total);
        for i in start..end {
            if i > start {
                out.push(',');
            }
            query::render_record(&org.ds, &ov, cursor.plan.obj, cursor.rows.get(i), nodes, version, out);
        }
        return end;
    }
    let child_batch = org.child_batch_size.load(Ordering::Relaxed);
    let mut register = |sub: &query::SubPlan, rows: Vec<u32>| {
        let plan = query::Plan::for_children(sub, cursor.plan.all_rows);
        let child = Cursor { session_id: cursor.session_id, plan, rows: Rows::List(rows), batch: child_batch, child: true, locator: std::sync::OnceLock::new() };
        mint(org, &Arc::new(child))
    };
    let mut r = query::Render { ds: &org.ds, ov: &ov, version, subs: &cursor.plan.subs, all_rows: cursor.plan.all_rows, child_batch, register: &mut register };
    let (mut end, mut used) = (start, 0u64);
    while end < total && (end == start || used < batch) {
        if end > start {
            out.push(',');
        }
        used += 1 + r.record(cursor.plan.obj, cursor.rows.get(end), nodes, out);
        end += 1;
    }
    end
}

/// Render the page of `cursor` starting at row `start`, registering a locator when rows remain.
fn page(org: &Arc<Org>, cursor: &Arc<Cursor>, start: u64, batch: u64, version: &str) -> Response<Body> {
    let total = cursor.rows.len();
    let mut records = String::with_capacity((batch.min(total - start.min(total)) as usize) * 400 + 64);
    let end = render_rows(org, cursor, start, batch, version, &mut records);
    let mut body = String::with_capacity(records.len() + 200);
    body.push_str("{\"totalSize\":");
    body.push_str(&total.to_string());
    if end < total {
        let locator = cursor.locator.get_or_init(|| mint(org, cursor)).clone();
        body.push_str(",\"done\":false,\"nextRecordsUrl\":\"/services/data/");
        body.push_str(version);
        body.push_str("/query/");
        body.push_str(&locator);
        body.push('-');
        body.push_str(&end.to_string());
        body.push('"');
    } else {
        body.push_str(",\"done\":true");
    }
    body.push_str(",\"records\":[");
    body.push_str(&records);
    body.push_str("]}");
    with_limit_info(http::json(StatusCode::OK, body), org)
}

/// `GET /services/data/vNN.N/query/<locator>-<N>` [salesforce-api.md §4 "Cursors"]: the locator
/// belongs to the session that created it (another session → 401 INVALID_SESSION_ID); unknown,
/// evicted or out-of-range locators → 400 INVALID_QUERY_LOCATOR "invalid query locator" (the HTTP
/// status is UNCONFIRMED in the reference; 400 chosen as for other query errors).
pub async fn query_more(State(inst): State<Instance>, ConnectInfo(conn): ConnectInfo<KillSwitch>, Path((v, loc)): Path<(String, String)>, headers: HeaderMap) -> Response<Body> {
    let org = inst.org.clone();
    org.count(|c| c.query_more += 1);
    let version = match version(&org, &v) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(r) = fault_response(&org, org.take_fault(Endpoint::QueryMore), &conn, true).await {
        return r;
    }
    let (_tok, session_id) = match authenticate(&inst, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let bad = || with_limit_info(rest_error(StatusCode::BAD_REQUEST, "INVALID_QUERY_LOCATOR", "invalid query locator"), &org);
    let Some((id, n)) = loc.rsplit_once('-') else { return bad() };
    let Ok(start) = n.parse::<u64>() else { return bad() };
    let cursor = org.cursors.lock().expect("lock").map.get(id).cloned();
    let Some(cursor) = cursor else { return bad() };
    if cursor.session_id != session_id {
        return with_limit_info(invalid_session(), &org);
    }
    if start >= cursor.rows.len() {
        return bad();
    }
    let batch = if headers.contains_key("sforce-query-options") && !cursor.child { batch_size(&org, &headers) } else { cursor.batch };
    page(&org, &cursor, start, batch, &version)
}

/// `GET /services/data/vNN.N/sobjects/<Type>/<Id>[?fields=A,B]`: one record with all fields (or
/// the listed ones), keys in field order, `attributes` first. Unknown type or Id → 404 `NOT_FOUND`;
/// soft-deleted → 404 `ENTITY_IS_DELETED`; unknown field in `fields` → 400 `INVALID_FIELD`.
pub async fn retrieve(State(inst): State<Instance>, ConnectInfo(conn): ConnectInfo<KillSwitch>, Path((v, sobject, id)): Path<(String, String, String)>, RawQuery(q): RawQuery, headers: HeaderMap) -> Response<Body> {
    let org = inst.org.clone();
    org.count(|c| c.retrieve += 1);
    let version = match version(&org, &v) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(r) = fault_response(&org, org.take_fault(Endpoint::Retrieve), &conn, true).await {
        return r;
    }
    if let Err(r) = authenticate(&inst, &headers) {
        return r;
    }
    let nf = || with_limit_info(not_found(), &org);
    let Some(obj) = crate::data::SObject::from_name(&sobject) else { return nf() };
    let Some(idx) = org.ds.index_of(obj, &id) else { return nf() };
    let p = form_pairs(q.as_deref().unwrap_or(""));
    let nodes: Vec<query::Node> = match get(&p, "fields") {
        None => obj.fields().iter().map(query::Node::Field).collect(),
        Some(list) => {
            let mut nodes = Vec::new();
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                match obj.field(name) {
                    Some(f) => nodes.push(query::Node::Field(f)),
                    None => {
                        return with_limit_info(
                            rest_error(StatusCode::BAD_REQUEST, "INVALID_FIELD", &format!("No such column '{name}' on sobject of type {}", obj.name())),
                            &org,
                        );
                    }
                }
            }
            nodes
        }
    };
    let ov = org.ov.read().expect("lock");
    if ov.is_deleted(obj, idx) {
        drop(ov);
        return with_limit_info(rest_error(StatusCode::NOT_FOUND, "ENTITY_IS_DELETED", "entity is deleted"), &org);
    }
    let mut body = String::with_capacity(1024);
    query::render_record(&org.ds, &ov, obj, idx, &nodes, &version, &mut body);
    drop(ov);
    with_limit_info(http::json(StatusCode::OK, body), &org)
}

/// Fallback for unknown data paths on the instance host.
pub async fn data_not_found() -> Response<Body> {
    not_found()
}
