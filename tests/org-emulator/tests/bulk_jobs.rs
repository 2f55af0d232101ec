//! Bulk API 2.0 query jobs: create and its refusals, states over time, abort, delete, 409, the job
//! list, injected failures, counters, `/limits` and `Sforce-Limit-Info`
//! [bulk-and-parallel.md §1.1–§1.3, §1.8, §1.9].
mod common;
use common::bulk::*;
use serde_json::json;
use sf_org_emulator::bulk::{JobFault, JobFaultKind};
use sf_org_emulator::{EmulatorConfig, Endpoint, Fault, FaultKind};

fn small() -> EmulatorConfig {
    EmulatorConfig { contacts: 1500, deals: 50, notes: 50, ..EmulatorConfig::default() }
}

const V: &str = "v58.0";

#[tokio::test]
async fn create_response_and_job_info_shapes() {
    let o = org(small()).await;
    let r = create_raw(&o, V, json!({"operation": "queryAll", "query": "SELECT Id, Name FROM Contact", "contentType": "CSV", "columnDelimiter": "COMMA", "lineEnding": "LF"})).await;
    assert_eq!(r.status, 200);
    assert!(r.header("sforce-limit-info").starts_with("api-usage="));
    let v = r.json();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["id", "operation", "object", "createdById", "createdDate", "systemModstamp", "state", "concurrencyMode", "contentType", "apiVersion", "lineEnding", "columnDelimiter"]);
    assert!(r.text().contains("\"apiVersion\":58.0"), "apiVersion is a JSON number with a decimal: {}", r.text());
    let id = common::s(&v, "id");
    assert!(id.starts_with("750") && id.len() == 18, "{id}");
    assert_eq!((v["operation"].as_str(), v["object"].as_str(), v["state"].as_str()), (Some("queryAll"), Some("Contact"), Some("UploadComplete")));
    assert_eq!((v["concurrencyMode"].as_str(), v["contentType"].as_str()), (Some("Parallel"), Some("CSV")));
    assert_eq!(v["createdById"].as_str(), Some(o.emu.control().user_id()));
    assert!(v["createdDate"].as_str().unwrap().ends_with("+0000"), "{v}");
    let info = poll(&o, V, id).await;
    for k in ["jobType", "numberRecordsProcessed", "retries", "totalProcessingTime", "isPkChunkingSupported"] {
        assert!(info.get(k).is_some(), "{k} in {info}");
    }
    assert_eq!(info["jobType"], "V2Query");
    assert!(info.get("errorMessage").is_none());
}

#[tokio::test]
async fn states_follow_the_processing_model() {
    let o = org(small()).await;
    let c = o.emu.control();
    // A slow, exactly known model: 1 s queue, 320 ms overhead, 1,000 rows/s.
    c.update_bulk_settings(&json!({"queue_delay_ms": 1000, "overhead_ms": 320, "rows_per_s": 1000.0})).unwrap();
    let id = create(&o, V, "SELECT Id FROM Contact", json!({})).await;
    let p = poll(&o, V, &id).await;
    assert_eq!((p["state"].as_str(), p["numberRecordsProcessed"].as_u64()), (Some("UploadComplete"), Some(0)));
    c.advance_clock_ms(1000 + 820);
    let p = poll(&o, V, &id).await;
    assert_eq!(p["state"], "InProgress");
    let n = p["numberRecordsProcessed"].as_u64().unwrap();
    assert!((500..1500).contains(&n), "{n} rows after 820 ms at 1000/s minus 320 ms");
    assert!(p["totalProcessingTime"].as_i64().unwrap() >= 820);
    let r = results(&o, V, &id, "", &[]).await;
    assert_eq!(r.error(), (412, "JOB_NOT_COMPLETE".into(), "can only download query results of successfully completed bulk job with status: JOB_COMPLETE. Current status: IN_PROGRESS".into()));
    c.advance_clock_ms(2000);
    let p = poll(&o, V, &id).await;
    assert_eq!(p["state"], "JobComplete");
    assert_eq!(p["numberRecordsProcessed"], 1500);
    assert_eq!(p["totalProcessingTime"], 320 + 1500);
    assert_eq!(p["isPkChunkingSupported"], true);
    assert_ne!(p["systemModstamp"], p["createdDate"]);
    assert_eq!(results(&o, V, &id, "", &[]).await.status, 200);
    // ORDER BY disables PK chunking [B6].
    let id = create(&o, V, "SELECT Id FROM Contact ORDER BY Name", json!({})).await;
    assert_eq!(poll(&o, V, &id).await["isPkChunkingSupported"], false);
    // The CONFLICT switch: 204 instead of 412.
    c.update_bulk_settings(&json!({"not_complete": "status204"})).unwrap();
    let r = results(&o, V, &id, "", &[]).await;
    assert_eq!((r.status, r.body.len()), (204, 0));
}

#[tokio::test]
async fn default_model_is_the_documented_example() {
    let o = org(small()).await;
    let s = o.emu.control().bulk_settings();
    let ms = s.overhead_ms as f64 + 740_003.0 / s.rows_per_s * 1000.0;
    assert!((ms - 21_046.0).abs() < 1.0, "{ms}");
    assert_eq!((s.queue_delay_ms, s.default_max_records, s.daily_job_limit, s.daily_storage_mb), (500, 50_000, 10_000, 976_562));
}

#[tokio::test]
async fn refusals_use_the_real_strings() {
    let o = org(small()).await;
    let cases = [
        ("SELECT Name, (SELECT LastName FROM Contacts) FROM Account", "FEATURENOTENABLED", "Aggregate Relationships not supported in Bulk V2 Query with CSV content type"),
        ("SELECT Id, MailingAddress FROM Contact", "FUNCTIONALITY_NOT_ENABLED", "Selecting compound data not supported in Bulk Query"),
    ];
    for (q, code, msg) in cases {
        let r = create_raw(&o, V, json!({"operation": "query", "query": q})).await;
        assert_eq!(r.error(), (400, code.into(), msg.into()), "{q}");
    }
    for q in ["SELECT COUNT() FROM Contact", "SELECT Id FROM Contact OFFSET 10", "SELECT Id FROM Contact GROUP BY Id", "SELECT FIELDS(ALL) FROM Contact", "SELECT TYPEOF What WHEN Account THEN Name END FROM Task"] {
        let (st, code, msg) = create_raw(&o, V, json!({"operation": "query", "query": q})).await.error();
        assert_eq!((st, code.as_str()), (400, "FEATURENOTENABLED"), "{q}");
        assert!(msg.contains("not supported in a Bulk API 2.0 query"), "{q}: {msg}");
    }
    o.emu.control().update_bulk_settings(&json!({"unsupported_objects": ["Note"]})).unwrap();
    let r = create_raw(&o, V, json!({"operation": "query", "query": "SELECT Id FROM Note"})).await;
    assert_eq!(r.error(), (400, "INVALIDENTITY".into(), "Entity 'Note' is not supported by the Bulk API.".into()));
    // The SOQL engine's own errors, and bad bodies.
    assert_eq!(create_raw(&o, V, json!({"operation": "query", "query": "SELECT Nope FROM Contact"})).await.error().1, "INVALID_FIELD");
    assert_eq!(create_raw(&o, V, json!({"operation": "query", "query": "SELECT Id FROM Nope"})).await.error().1, "INVALID_TYPE");
    for body in [json!({"operation": "insert", "query": "SELECT Id FROM Contact"}), json!({"operation": "query"}), json!({"operation": "query", "query": "SELECT Id FROM Contact", "contentType": "JSON"}), json!({"operation": "query", "query": "SELECT Id FROM Contact", "columnDelimiter": "COLON"}), json!({"operation": "query", "query": "SELECT Id FROM Contact", "lineEnding": "CR"})] {
        assert_eq!(create_raw(&o, V, body.clone()).await.status, 400, "{body}");
    }
    assert!(o.emu.control().bulk_jobs().is_empty(), "no job was created");
    assert_eq!(o.emu.control().counters().bulk_create, 15);
}

#[tokio::test]
async fn abort_delete_404_and_409() {
    let o = org(small()).await;
    let c = o.emu.control();
    c.update_bulk_settings(&json!({"queue_delay_ms": 0, "overhead_ms": 0, "rows_per_s": 100.0})).unwrap();
    let id = create(&o, V, "SELECT Id FROM Contact", json!({})).await;
    c.advance_clock_ms(1000);
    let path = format!("/services/data/{V}/jobs/query/{id}");
    let r = send(&o, reqwest::Method::PATCH, &path, Some(json!({"state": "Aborted"})), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["state"], "Aborted");
    c.advance_clock_ms(60_000);
    let p = poll(&o, V, &id).await;
    assert_eq!(p["state"], "Aborted");
    assert!(p["numberRecordsProcessed"].as_u64().unwrap() < 1500);
    assert_eq!(results(&o, V, &id, "", &[]).await.error().2, "can only download query results of successfully completed bulk job with status: JOB_COMPLETE. Current status: ABORTED");
    assert_eq!(send(&o, reqwest::Method::PATCH, &path, Some(json!({"state": "Aborted"})), &[]).await.error().1, "INVALIDJOBSTATE");
    // Delete: 204, then every resource of the job is 404.
    let r = send(&o, reqwest::Method::DELETE, &path, None, &[]).await;
    assert_eq!((r.status, r.body.len()), (204, 0));
    let nf = (404, "NOT_FOUND".to_string(), "The requested resource does not exist".to_string());
    assert_eq!(send(&o, reqwest::Method::GET, &path, None, &[]).await.error(), nf);
    assert_eq!(results(&o, V, &id, "", &[]).await.error(), nf);
    assert_eq!(send(&o, reqwest::Method::DELETE, &path, None, &[]).await.error(), nf);
    assert!(c.bulk_job(&id).is_none());
    // A job in progress cannot be deleted; results with another API version → 409.
    let id = create(&o, V, "SELECT Id FROM Contact", json!({})).await;
    c.advance_clock_ms(1000);
    assert_eq!(send(&o, reqwest::Method::DELETE, &format!("/services/data/{V}/jobs/query/{id}"), None, &[]).await.error().1, "INVALIDJOBSTATE");
    c.advance_clock_ms(60_000);
    assert_eq!(results(&o, "v60.0", &id, "", &[]).await.status, 409);
    assert_eq!(results(&o, "v60.0", &id, "", &[]).await.error().1, "INVALIDVERSION");
    assert_eq!(results(&o, V, &id, "", &[]).await.status, 200);
    assert_eq!(send(&o, reqwest::Method::PATCH, &format!("/services/data/{V}/jobs/query/{id}"), Some(json!({"state": "Aborted"})), &[]).await.status, 400, "a finished job cannot be aborted");
    // Terminal jobs are gone after 7 days.
    c.advance_clock_ms(7 * 86_400_000);
    assert!(c.bulk_job(&id).is_none());
}

#[tokio::test]
async fn injected_job_failures() {
    let o = org(small()).await;
    instant(&o);
    let c = o.emu.control();
    c.add_bulk_job_fault(JobFault { count: 1, kind: JobFaultKind::Failed { error_message: Some("QUERY_TIMEOUT: Your query request was running for too long.".into()) } });
    c.add_bulk_job_fault(JobFault { count: 2, kind: JobFaultKind::Retries { retries: 3 } });
    let failed = create(&o, V, "SELECT Id FROM Contact", json!({})).await;
    c.advance_clock_ms(10);
    let p = poll(&o, V, &failed).await;
    assert_eq!((p["state"].as_str(), p["errorMessage"].as_str(), p["retries"].as_u64()), (Some("Failed"), Some("QUERY_TIMEOUT: Your query request was running for too long."), Some(3)));
    assert_eq!(results(&o, V, &failed, "", &[]).await.status, 412);
    // Over HTTP: a Failed job without errorMessage, and one stuck InProgress for 3 polls.
    let http = common::http();
    let url = format!("{}/__emulator/bulk/job_faults", o.emu.login_url());
    assert_eq!(http.post(&url).body(r#"{"kind":"failed"}"#).send().await.unwrap().status(), 200);
    let silent = create(&o, V, "SELECT Id FROM Contact", json!({})).await;
    assert_eq!(http.post(&url).body(r#"{"kind":"stuck_in_progress","polls":3}"#).send().await.unwrap().status(), 200);
    let stuck = create(&o, V, "SELECT Id FROM Contact", json!({})).await;
    c.advance_clock_ms(10);
    let p = poll(&o, V, &silent).await;
    assert_eq!((p["state"].as_str(), p["retries"].as_u64()), (Some("Failed"), Some(3)));
    assert!(p.get("errorMessage").is_none(), "{p}");
    for _ in 0..3 {
        assert_eq!(results(&o, V, &stuck, "", &[]).await.status, 412, "results wait while the job is stuck");
        assert_eq!(poll(&o, V, &stuck).await["state"], "InProgress");
    }
    assert_eq!(poll(&o, V, &stuck).await["state"], "JobComplete");
    assert_eq!(poll(&o, V, &stuck).await["retries"], 0);
    assert!(c.pending_bulk_job_faults().is_empty());
    // A stuck job can be aborted although the clock has finished it: it stays Aborted.
    c.add_bulk_job_fault(JobFault { count: 1, kind: JobFaultKind::StuckInProgress { polls: 5 } });
    let stuck2 = create(&o, V, "SELECT Id FROM Contact", json!({})).await;
    c.advance_clock_ms(10);
    let path = format!("/services/data/{V}/jobs/query/{stuck2}");
    assert_eq!(send(&o, reqwest::Method::PATCH, &path, Some(json!({"state": "Aborted"})), &[]).await.json()["state"], "Aborted");
    assert_eq!(poll(&o, V, &stuck2).await["state"], "Aborted");
    // One page of a job fails twice, alone; the others are served.
    c.add_bulk_job_fault(JobFault { count: 1, kind: JobFaultKind::PageFails { offset: 500, times: 2 } });
    let paged = create(&o, V, "SELECT Id FROM Contact", json!({})).await;
    c.advance_clock_ms(10);
    let first = results(&o, V, &paged, "?maxRecords=500", &[]).await;
    assert_eq!(first.header("sforce-locator"), "NTAw");
    assert_eq!(results(&o, V, &paged, "?maxRecords=500&locator=MTAwMA", &[]).await.status, 200);
    for _ in 0..2 {
        assert_eq!(results(&o, V, &paged, "?maxRecords=500&locator=NTAw", &[]).await.error().0, 500);
    }
    let r = results(&o, V, &paged, "?maxRecords=500&locator=NTAw", &[]).await;
    assert_eq!((r.status, r.header("sforce-numberofrecords")), (200, "500"));
    assert_eq!(results(&o, V, &paged, "?maxRecords=500&locator=NTAw", &[]).await.status, 200);
    // A results page that fails once (5xx), then serves the same page.
    c.add_fault(Fault { endpoint: Endpoint::BulkResults, count: 1, kind: FaultKind::Status500 });
    let r = results(&o, V, &stuck, "?maxRecords=10&locator=MTA", &[]).await;
    assert_eq!((r.status, r.error().1.as_str()), (500, "UNKNOWN_EXCEPTION"));
    let r = results(&o, V, &stuck, "?maxRecords=10&locator=MTA", &[]).await;
    assert_eq!((r.status, r.header("sforce-numberofrecords")), (200, "10"));
}

#[tokio::test]
async fn every_call_is_counted_per_kind_in_limits_and_sforce_limit_info() {
    let o = org(small()).await;
    instant(&o);
    let c = o.emu.control();
    let used0 = c.api_usage().0;
    let id = create(&o, V, "SELECT Id FROM Contact", json!({})).await;
    c.advance_clock_ms(10);
    poll(&o, V, &id).await;
    poll(&o, V, &id).await;
    let pages = all_pages(&o, V, &id, Some(500)).await;
    assert_eq!(pages.len(), 3);
    let r = send(&o, reqwest::Method::GET, &format!("/services/data/{V}/jobs/query/{id}/resultPages?maxRecords=500"), None, &[]).await;
    assert_eq!(r.status, 200);
    let list = send(&o, reqwest::Method::GET, &format!("/services/data/{V}/jobs/query"), None, &[]).await;
    assert_eq!(list.json()["records"].as_array().unwrap().len(), 1);
    assert_eq!(list.json()["done"], true);
    assert_eq!(send(&o, reqwest::Method::GET, &format!("/services/data/{V}/jobs/query?jobType=V2Ingest"), None, &[]).await.json()["records"], json!([]));
    let del = send(&o, reqwest::Method::DELETE, &format!("/services/data/{V}/jobs/query/{id}"), None, &[]).await;
    assert_eq!(del.header("sforce-limit-info"), format!("api-usage={}/100000", used0 + 10));
    let k = c.counters();
    assert_eq!((k.bulk_create, k.bulk_poll, k.bulk_results, k.bulk_result_pages, k.bulk_list, k.bulk_abort, k.bulk_delete), (1, 2, 3, 1, 2, 0, 1));
    assert_eq!(c.api_usage().0, used0 + 10);
    // `/limits`: this call counts too; one query job used of 10,000.
    let l = send(&o, reqwest::Method::GET, &format!("/services/data/{V}/limits"), None, &[]).await.json();
    assert_eq!(l["DailyApiRequests"], json!({"Max": 100000, "Remaining": 100000 - (used0 + 11)}));
    assert_eq!(l["DailyBulkV2QueryJobs"], json!({"Max": 10000, "Remaining": 9999}));
    assert_eq!(l["DailyBulkV2QueryFileStorageMB"]["Max"], 976562);
    assert_eq!(c.counters().limits, 1);
    // The daily job allocation runs out; it frees up after 24 h.
    c.update_bulk_settings(&json!({"daily_job_limit": 2})).unwrap();
    create(&o, V, "SELECT Id FROM Contact", json!({})).await;
    let (st, code, _) = create_raw(&o, V, json!({"operation": "query", "query": "SELECT Id FROM Contact"})).await.error();
    assert_eq!((st, code.as_str()), (400, "LIMIT_EXCEEDED"));
    c.advance_clock_ms(86_400_000);
    // The session expired meanwhile: log in again.
    let relog = common::login(&o.emu).await;
    let o2 = Org { emu: o.emu, token: common::s(&relog, "access_token").to_string(), base: o.base.clone() };
    create(&o2, V, "SELECT Id FROM Contact", json!({})).await;
    // Calls without a session are refused before counting against the limit.
    let r = common::http().get(format!("{}/services/data/{V}/jobs/query", o2.base)).send().await.unwrap();
    assert_eq!(r.status(), 401);
}

/// 1,000,000 Contacts through one query job: the API calls it costs (create, one poll, 4
/// `resultPages` calls, 20 pages of 50,000, delete: 27; the locator loop needs no `resultPages`
/// calls: 23) and how fast the emulator serves it, serially and 4 pages at a time.
/// `cargo test -p sf-org-emulator --release --test bulk_jobs -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark, not a test: 1,000,000 rows print the calls and serving time; run in release with --ignored (command above)"]
async fn bench_one_million_contacts_in_one_job() {
    let o = org(EmulatorConfig { contacts: 1_000_000, ..EmulatorConfig::default() }).await;
    instant(&o);
    let c = o.emu.control();
    let soql = "SELECT Id, Name, Account.Name, Title, Phone, Email, Owner.Alias, SystemModstamp FROM Contact";
    for (gzip, parallel) in [(false, 1), (true, 1), (true, 4)] {
        let used0 = c.api_usage().0;
        let t0 = std::time::Instant::now();
        let id = create(&o, V, soql, json!({})).await;
        assert_eq!(poll(&o, V, &id).await["state"], "JobComplete");
        let r = send(&o, reqwest::Method::GET, &format!("/services/data/{V}/jobs/query/{id}/resultPages?maxRecords=50000"), None, &[]).await;
        let mut urls: Vec<String> = Vec::new();
        let mut page = r.json();
        loop {
            urls.extend(page["resultPages"].as_array().unwrap().iter().map(|p| p["resultUrl"].as_str().unwrap().to_string()));
            let Some(next) = page["nextRecordsUrl"].as_str() else { break };
            page = send(&o, reqwest::Method::GET, next, None, &[]).await.json();
        }
        let headers: &[(&str, &str)] = if gzip { &[("accept-encoding", "gzip")] } else { &[] };
        let (mut rows, mut wire) = (0u64, 0usize);
        for chunk in urls.chunks(parallel) {
            let got = futures_join(chunk.iter().map(|u| send(&o, reqwest::Method::GET, u, None, headers))).await;
            for r in got {
                assert_eq!(r.status, 200);
                rows += r.header("sforce-numberofrecords").parse::<u64>().unwrap();
                wire += r.body.len();
            }
        }
        assert_eq!(send(&o, reqwest::Method::DELETE, &format!("/services/data/{V}/jobs/query/{id}"), None, &[]).await.status, 204);
        assert_eq!(rows, 1_000_000);
        let calls = c.api_usage().0 - used0;
        eprintln!("gzip={gzip} parallel={parallel}: {rows} rows, {} pages, {} MB on the wire, {calls} API calls, {:?}", urls.len(), wire / 1_000_000, t0.elapsed());
        assert_eq!(calls, 1 + 1 + 4 + 20 + 1);
    }
}

async fn futures_join<F: std::future::Future>(fs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = fs.collect();
    let mut out = Vec::with_capacity(handles.len());
    // Poll them together: a tiny join_all without another dependency.
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = handles.into_iter().map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if done[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => done[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    out.extend(done.into_iter().map(|d| d.expect("ready")));
    out
}

#[tokio::test]
async fn control_routes_over_http() {
    let o = org(small()).await;
    let http = common::http();
    let url = |p: &str| format!("{}/__emulator/bulk/{p}", o.emu.login_url());
    let r = http.post(url("settings")).body(r#"{"queue_delay_ms": 0, "result_pages_shape": "result_chunks"}"#).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!((v["queue_delay_ms"].as_u64(), v["result_pages_shape"].as_str(), v["overhead_ms"].as_u64()), (Some(0), Some("result_chunks"), Some(320)));
    for bad in [r#"{"no_such_knob": 1}"#, r#"{"gzip": "sometimes"}"#, r#"{"rows_per_s": 0}"#, "[1]", "{"] {
        assert_eq!(http.post(url("settings")).body(bad).send().await.unwrap().status(), 400, "{bad}");
    }
    assert_eq!(o.emu.control().bulk_settings().result_pages_shape, sf_org_emulator::bulk::ResultPagesShape::ResultChunks, "a refused update changes nothing");
    let id = create(&o, V, "SELECT Id FROM Contact", json!({})).await;
    let jobs: serde_json::Value = http.get(url("jobs")).send().await.unwrap().json().await.unwrap();
    assert_eq!(jobs[0]["id"], id.as_str());
    assert!(jobs[0]["numberRecordsProcessed"].as_u64().is_some());
    assert_eq!(http.delete(url("job_faults")).send().await.unwrap().status(), 200);
    assert_eq!(http.post(url("job_faults")).body(r#"{"kind":"exploded"}"#).send().await.unwrap().status(), 400);
    // Endpoint faults on Bulk resources go through the usual fault queue.
    let f = http.post(format!("{}/__emulator/faults", o.emu.login_url())).body(r#"{"endpoint":"bulk_poll","kind":"html503","retry_after_s":2}"#).send().await.unwrap();
    assert_eq!(f.status(), 200);
    let r = send(&o, reqwest::Method::GET, &format!("/services/data/{V}/jobs/query/{id}"), None, &[]).await;
    assert_eq!((r.status, r.header("retry-after")), (503, "2"));
    assert_eq!(send(&o, reqwest::Method::GET, &format!("/services/data/{V}/jobs/query/{id}"), None, &[]).await.status, 200);
}
