//! Exports against the org emulator: deep pages, page-walk cost, no-limit exports, pages larger
//! than a batch, unknown types, session loss mid-stream, checkpoints, incremental mode,
//! cancellation and file output.

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;
use sf_org_emulator::{EmulatorConfig, Endpoint, Fault, FaultKind, SObject};
use sfcrm_core::export::{
    Checkpoint, ExportFormat, ExportRequest, ExportSpec, PageRequest, Progress, Record,
};
use sfcrm_core::soql::SoqlDateTime;
use sfcrm_core::{Client, ConnectionKey, ErrorKind};
use support::Env;

async fn env_with(contacts: usize, deals: usize) -> Env {
    let ecfg = EmulatorConfig { contacts, deals, notes: 10, ..EmulatorConfig::default() };
    let env = Env::start_with(ecfg, |b| b.count_cache_ttl(Duration::from_secs(600))).await;
    env.emu.control().reset_counters();
    env
}

/// Every record of `spec`, streamed (Id selected first), in Id order.
async fn all_records(client: &Client, key: &ConnectionKey, spec: &ExportSpec) -> Vec<Record> {
    let mut s = client.export_stream(key, ExportRequest::new(spec.clone()));
    let mut out = Vec::new();
    while let Some(b) = s.next_batch().await.unwrap() {
        out.extend(b.to_records().unwrap());
    }
    out
}

fn url_id(r: &Record) -> String {
    r["attributes"]["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned()
}

fn without_id(r: &Record) -> Record {
    let mut r = r.clone();
    r.shift_remove("Id");
    r
}

fn ids(records: &[Record]) -> Vec<String> {
    records.iter().map(url_id).collect()
}

#[tokio::test]
async fn page_60_of_100_over_10000_contacts_equals_the_same_slice_of_the_full_list() {
    let env = env_with(10_000, 10).await;
    let spec = ExportSpec::builtin("contacts").unwrap();
    let full = all_records(&env.client, &env.key, &spec).await;
    assert_eq!(full.len(), 10_000);
    let sorted: Vec<String> = {
        let mut v = ids(&full);
        v.sort();
        v
    };
    assert_eq!(ids(&full), sorted, "the stream is in Id order");

    env.emu.control().reset_counters();
    let before = env.client.api_calls();
    let p = env.client.export_page(&env.key, &spec, PageRequest { page: 60, limit: Some(100) }).await.unwrap();
    let want: Vec<Record> = full[5900..6000].iter().map(without_id).collect();
    assert_eq!(p.data, want);
    // Cold deep page: COUNT + 2 anchor hops + 1 data query, no locator follow-ups.
    assert_eq!(p.api_calls, 4);
    let c = env.emu.control().counters();
    assert_eq!((c.query, c.query_more), (4, 0));
    assert_eq!((env.client.api_calls() - before).query, 4);
    let pg = serde_json::to_value(&p.pagination).unwrap();
    assert_eq!(
        pg,
        serde_json::json!({"page":60,"per_page":100,"total":10000,"total_pages":100,"next_page":61,"prev_page":59,"offsetValue":5900})
    );
    // The body the seed served: data records carry attributes and exactly the seed's fields.
    let body = p.to_seed_json();
    let keys: Vec<&String> = body["data"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["attributes", "Name", "Account", "Title", "Phone", "Email", "Owner"]);
}

#[tokio::test]
async fn a_sequential_walk_of_100_pages_costs_100_data_queries_and_one_count() {
    let env = env_with(10_000, 10).await;
    let spec = ExportSpec::builtin("contacts").unwrap();
    let mut seen = Vec::new();
    let mut page = 1i64;
    let mut pages = 0;
    loop {
        let p = env.client.export_page(&env.key, &spec, PageRequest { page, limit: Some(100) }).await.unwrap();
        assert_eq!(p.data.len(), 100, "page {page}");
        seen.extend(ids(&p.data));
        pages += 1;
        match p.pagination.next_page {
            Some(n) => page = n,
            None => break,
        }
    }
    assert_eq!(pages, 100);
    let c = env.emu.control().counters();
    assert_eq!((c.query, c.query_more), (101, 0), "100 data queries + 1 COUNT");
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 10_000, "no record repeated or skipped");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    // Past the last page: empty data and no data query (the COUNT is cached).
    let p = env.client.export_page(&env.key, &spec, PageRequest { page: 101, limit: Some(100) }).await.unwrap();
    assert!(p.data.is_empty());
    assert_eq!(p.api_calls, 0);
    assert_eq!(env.emu.control().counters().query, 101);
}

#[tokio::test]
async fn an_export_of_5000_records_with_no_limit_returns_all_of_them() {
    let env = env_with(5_000, 10).await;
    let p = env.client.export_page_by_type(&env.key, "contacts", PageRequest { page: 1, limit: None }).await.unwrap();
    assert_eq!(p.data.len(), 5_000);
    assert_eq!(ids(&p.data).into_iter().collect::<HashSet<_>>().len(), 5_000);
    assert_eq!((p.pagination.total, p.pagination.per_page, p.pagination.total_pages), (5_000, 5_000, 1));
    // COUNT + query + 2 nextRecordsUrl (2000-row batches).
    let c = env.emu.control().counters();
    assert_eq!((c.query, c.query_more), (2, 2));
    assert_eq!(p.api_calls, 4);
    // limit 0 means "all" too (the seed's `per_page || items`).
    let p0 = env.client.export_page_by_type(&env.key, "contacts", PageRequest { page: 1, limit: Some(0) }).await.unwrap();
    assert_eq!(p0.data.len(), 5_000);
}

#[tokio::test]
async fn pages_larger_than_one_batch_are_complete_at_any_depth() {
    let env = env_with(5_000, 10).await;
    let spec = ExportSpec::builtin("contacts").unwrap();
    let full = all_records(&env.client, &env.key, &spec).await;
    for (page, range) in [(1i64, 0..2500), (2, 2500..5000)] {
        let p = env.client.export_page(&env.key, &spec, PageRequest { page, limit: Some(2500) }).await.unwrap();
        let want: Vec<Record> = full[range].iter().map(without_id).collect();
        assert_eq!(p.data.len(), 2500);
        assert!(p.data == want, "page {page} differs from the ordered slice");
    }
    // 4 pages of 1500: the last one is short.
    let p = env.client.export_page(&env.key, &spec, PageRequest { page: 4, limit: Some(1500) }).await.unwrap();
    assert_eq!(ids(&p.data), ids(&full[4500..]));
}

#[tokio::test]
async fn an_unknown_type_makes_no_request() {
    let env = env_with(50, 10).await;
    let before = env.client.api_calls();
    let err = env.client.export_page_by_type(&env.key, "accounts", PageRequest { page: 1, limit: Some(10) }).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownExportType);
    assert_eq!(
        err.message(),
        "unknown export type \"accounts\": the built-in types are contacts, deals and notes; to export any other \
         sObject (Account, Invoice__c, ...), give its API name with the fields to select"
    );
    assert_eq!(env.client.api_calls() - before, Default::default());
    assert_eq!(env.emu.control().counters(), Default::default());
}

#[tokio::test]
async fn a_session_expiry_in_the_middle_of_a_20000_record_stream_yields_every_id_once() {
    let env = env_with(20_000, 10).await;
    let spec = ExportSpec::builtin("contacts").unwrap();
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(spec).batch_size(2000));
    let mut seen = Vec::new();
    let mut batches = 0;
    while let Some(b) = s.next_batch().await.unwrap() {
        batches += 1;
        seen.extend(ids(&b.to_records().unwrap()));
        if batches == 3 {
            env.emu.control().expire_sessions();
        }
        if batches == 6 {
            // The locator can also die on its own.
            env.emu.control().add_fault(Fault { endpoint: Endpoint::QueryMore, count: 1, kind: FaultKind::InvalidLocator });
        }
    }
    assert_eq!(seen.len(), 20_000);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 20_000, "every Id exactly once");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    let c = env.emu.control().counters();
    assert_eq!(c.token_refresh_token, 1, "exactly one refresh");
    assert_eq!(s.progress().records, 20_000);
    assert_eq!(s.progress().total_size, Some(20_000));
    // 10 batches of 2000 (two of them served by restarted queries instead of a locator) plus the
    // 2 locator requests that failed.
    assert_eq!((c.query, c.query_more), (3, 9), "{c:?}");
    assert_eq!(s.api_calls(), 12);
}

#[tokio::test]
async fn a_stream_resumes_from_a_checkpoint_token() {
    let env = env_with(3_000, 10).await;
    let spec = ExportSpec::builtin("contacts").unwrap();
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(spec.clone()).batch_size(500));
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.extend(ids(&s.next_batch().await.unwrap().unwrap().to_records().unwrap()));
    }
    // Record-granular: stop in the middle of the third batch.
    let third = s.next_batch().await.unwrap().unwrap();
    seen.extend(ids(&third.to_records().unwrap()[..100]));
    let token = s.checkpoint_after(&third.records[99]).unwrap().to_token();
    drop(s);
    assert!(!token.contains('='), "base64url without padding");

    let cp = Checkpoint::from_token(&token).unwrap();
    assert_eq!(cp.records(), 1100);
    let mut r = env.client.export_stream(&env.key, ExportRequest::new(spec.clone()).resume_from(cp));
    while let Some(b) = r.next_batch().await.unwrap() {
        seen.extend(ids(&b.to_records().unwrap()));
    }
    assert_eq!(seen.len(), 3_000);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 3_000);
    assert_eq!(r.progress().records, 3_000);
    assert_eq!(r.progress().total_size, Some(3_000));

    // A checkpoint binds the sObject and the mode; garbage is refused.
    for bad in ["", "not-a-token", "eyJ2IjoyfQ", &token[..token.len() - 3]] {
        assert_eq!(Checkpoint::from_token(bad).unwrap_err().kind(), ErrorKind::InvalidArgument, "{bad:?}");
    }
    let cp = Checkpoint::from_token(&token).unwrap();
    let deals = ExportSpec::builtin("deals").unwrap();
    let mut wrong = env.client.export_stream(&env.key, ExportRequest::new(deals).resume_from(cp.clone()));
    assert_eq!(wrong.next_batch().await.unwrap_err().kind(), ErrorKind::InvalidArgument);
    let mut wrong_mode =
        env.client.export_stream(&env.key, ExportRequest::new(spec).since("2020-01-01T00:00:00Z").resume_from(cp));
    assert_eq!(wrong_mode.next_batch().await.unwrap_err().kind(), ErrorKind::InvalidArgument);
}

#[tokio::test]
async fn checkpoint_at_an_index_of_the_last_batch_resumes_right_after_that_record() {
    let env = env_with(1_200, 10).await;
    let spec = ExportSpec::builtin("contacts").unwrap();
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(spec.clone()).batch_size(500));
    let none_yet = s.checkpoint_at(0).unwrap_err();
    assert_eq!(none_yet.kind(), ErrorKind::InvalidArgument, "no batch delivered yet");
    let first = ids(&s.next_batch().await.unwrap().unwrap().to_records().unwrap());
    let second = ids(&s.next_batch().await.unwrap().unwrap().to_records().unwrap());
    assert_eq!((first.len(), second.len()), (500, 500));

    // In range: 500 delivered before the batch + index + 1, positioned on that record.
    let cp = s.checkpoint_at(99).unwrap();
    assert_eq!(cp.records(), 500 + 99 + 1);
    assert_eq!(cp.last_id(), Some(second[99].as_str()));
    assert_eq!(s.checkpoint_at(0).unwrap().records(), 501);
    assert_eq!(s.checkpoint_at(499).unwrap(), s.checkpoint(), "the last index is the batch's checkpoint");
    // Out of range: the last batch has indices 0..500 only.
    for index in [500, usize::MAX] {
        assert_eq!(s.checkpoint_at(index).unwrap_err().kind(), ErrorKind::InvalidArgument, "{index}");
    }
    drop(s);

    // Resuming (through the token) continues with the record right after index 99.
    let token = cp.to_token();
    let resume = ExportRequest::new(spec).batch_size(500).resume_from(Checkpoint::from_token(&token).unwrap());
    let mut r = env.client.export_stream(&env.key, resume);
    let mut rest = Vec::new();
    while let Some(b) = r.next_batch().await.unwrap() {
        rest.extend(ids(&b.to_records().unwrap()));
    }
    assert_eq!(rest[0], second[100]);
    assert_eq!(rest[..400], second[100..]);
    assert_eq!(rest.len(), 1_200 - 600);
    assert_eq!(r.progress().records, 1_200);
    assert_eq!(r.progress().total_size, Some(1_200));
    let all: HashSet<&String> = first.iter().chain(&second[..100]).chain(&rest).collect();
    assert_eq!(all.len(), 1_200, "every record exactly once");
}

#[tokio::test]
async fn incremental_since_returns_the_touched_records_and_resumes() {
    let env = env_with(2_000, 10).await;
    let spec = ExportSpec::custom("Contact", &["Name", "SystemModstamp"]).unwrap();
    let full = all_records(&env.client, &env.key, &spec).await;
    let max = full
        .iter()
        .map(|r| SoqlDateTime::parse(r["SystemModstamp"].as_str().unwrap()).unwrap())
        .max()
        .unwrap();
    let since = SoqlDateTime::from_epoch_ms(max.epoch_ms() + 1).to_salesforce();

    let touched: HashSet<String> = env.emu.control().touch(SObject::Contact, 450).into_iter().collect();
    assert_eq!(touched.len(), 450);
    // First run: one batch of 200, then stop with a checkpoint.
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(spec.clone()).since(since.clone()).batch_size(200));
    let first = s.next_batch().await.unwrap().unwrap();
    let mut seen: Vec<String> = first.to_records().unwrap().iter().map(|r| r["Id"].as_str().unwrap().to_owned()).collect();
    let stamps: Vec<i64> =
        first.to_records().unwrap().iter().map(|r| SoqlDateTime::parse(r["SystemModstamp"].as_str().unwrap()).unwrap().epoch_ms()).collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "ordered by SystemModstamp");
    let token = s.checkpoint().to_token();
    drop(s);
    let cp = Checkpoint::from_token(&token).unwrap();
    assert!(cp.last_modstamp().is_some() && cp.since().is_some());
    let mut r = env.client.export_stream(
        &env.key,
        ExportRequest::new(spec).since(since).batch_size(200).resume_from(cp),
    );
    let mut last: Option<Checkpoint> = None;
    while let Some(b) = r.next_batch().await.unwrap() {
        seen.extend(b.to_records().unwrap().iter().map(|x| x["Id"].as_str().unwrap().to_owned()));
        last = Some(r.checkpoint());
    }
    assert_eq!(seen.len(), 450, "no record repeated");
    assert_eq!(seen.into_iter().collect::<HashSet<_>>(), touched);
    assert!(last.unwrap().last_modstamp().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_is_cancelled_from_another_thread() {
    let env = env_with(20_000, 10).await;
    let spec = ExportSpec::builtin("contacts").unwrap();
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(spec));
    assert!(s.is_idle(), "nothing runs before the first batch");
    assert_eq!(s.next_batch().await.unwrap().unwrap().records.len(), 2000);
    // Slow the org down so the prefetch is in flight when the cancel arrives.
    env.emu.control().add_fault(Fault { endpoint: Endpoint::QueryMore, count: 5, kind: FaultKind::Delay { ms: 300 } });
    let handle = s.cancel_handle();
    std::thread::spawn(move || handle.cancel()).join().unwrap();
    assert_eq!(s.next_batch().await.unwrap_err().kind(), ErrorKind::Cancelled);
    assert_eq!(s.next_batch().await.unwrap_err().kind(), ErrorKind::Cancelled);
    for _ in 0..100 {
        if s.is_idle() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(s.is_idle(), "the prefetch task stopped");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let requests = env.emu.control().counters();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let later = env.emu.control().counters();
    assert_eq!(requests.query + requests.query_more, later.query + later.query_more, "no request after cancel");
    assert!(later.query_more <= 2);
}

#[tokio::test]
async fn export_to_path_writes_csv_and_ndjson_exactly() {
    let env = env_with(50, 850).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = ExportSpec::builtin("deals").unwrap();
    let records = all_records(&env.client, &env.key, &spec).await;
    assert_eq!(records.len(), 850);

    let calls = Arc::new(AtomicU64::new(0));
    let seen = calls.clone();
    let cb = move |p: Progress| {
        seen.store(p.records, Ordering::SeqCst);
    };
    let csv_path = dir.path().join("deals.csv");
    let summary = env
        .client
        .export_to_path(&env.key, ExportRequest::new(spec.clone()), ExportFormat::Csv, &csv_path, Some(&cb))
        .await
        .unwrap();
    assert_eq!(summary.records, 850);
    assert_eq!(calls.load(Ordering::SeqCst), 850);
    assert_eq!(summary.checkpoint.records(), 850);
    let mut rd = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header, ["Id", "Name", "Account.Name", "Amount", "CloseDate", "StageName", "Owner.Alias"]);
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 850);
    let (mut null_parents, mut long_amounts) = (0, 0);
    for (row, rec) in rows.iter().zip(&records) {
        assert_eq!(&row[0], rec["Id"].as_str().unwrap());
        assert_eq!(&row[1], rec["Name"].as_str().unwrap(), "UTF-8 kept exactly");
        match &rec["Account"] {
            Value::Null => {
                null_parents += 1;
                assert_eq!(&row[2], "");
            }
            a => assert_eq!(&row[2], a["Name"].as_str().unwrap_or("")),
        }
        match &rec["Amount"] {
            Value::Number(n) => {
                assert_eq!(&row[3], n.to_string(), "amount digits kept");
                if n.to_string().trim_start_matches('-').replace('.', "").len() >= 16 {
                    long_amounts += 1;
                }
            }
            Value::Null => assert_eq!(&row[3], ""),
            other => panic!("Amount {other}"),
        }
    }
    println!("deals: {null_parents} null Account parents, {long_amounts} amounts with 16+ digits");
    assert!(null_parents > 0 && long_amounts > 0, "the data exercises null parents and long amounts");

    let nd_path = dir.path().join("deals.ndjson");
    env.client.export_to_path(&env.key, ExportRequest::new(spec), ExportFormat::Ndjson, &nd_path, None).await.unwrap();
    let text = std::fs::read_to_string(&nd_path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 850);
    assert!(!text.contains("\"attributes\""));
    for (line, rec) in lines.iter().zip(&records) {
        let mut expected = rec.clone();
        expected.shift_remove("attributes");
        let v: Record = serde_json::from_str(line).unwrap();
        assert_eq!(v["Id"], expected["Id"]);
        assert_eq!(v["Amount"].to_string(), expected["Amount"].to_string());
    }
    // Only the two outputs: no temporary file left behind.
    let names: HashSet<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, HashSet::from(["deals.csv".to_owned(), "deals.ndjson".to_owned()]));

    // A failing export leaves an existing file untouched and no partial file.
    std::fs::write(&csv_path, "old").unwrap();
    env.emu.control().revoke_refresh_tokens();
    env.emu.control().expire_sessions();
    let err = env
        .client
        .export_to_path(&env.key, ExportRequest::new(ExportSpec::builtin("deals").unwrap()), ExportFormat::Csv, &csv_path, None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReconnectRequired);
    assert_eq!(std::fs::read_to_string(&csv_path).unwrap(), "old");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[tokio::test]
async fn the_stream_prefetches_one_batch_and_no_more() {
    let env = env_with(20_000, 10).await;
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(ExportSpec::builtin("contacts").unwrap()));
    let requests = |env: &Env| {
        let c = env.emu.control().counters();
        c.query + c.query_more
    };
    assert_eq!(requests(&env), 0, "nothing is requested before the first next_batch");
    // Waits (bounded) until the org has seen `n` requests, then gives the task time to overreach.
    async fn settle(env: &Env, n: u64, requests: &dyn Fn(&Env) -> u64) -> u64 {
        for _ in 0..500 {
            if requests(env) >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        requests(env)
    }
    s.next_batch().await.unwrap().unwrap();
    assert_eq!(settle(&env, 2, &requests).await, 2, "the batch delivered + one prefetched, then the task waits");
    s.next_batch().await.unwrap().unwrap();
    assert_eq!(settle(&env, 3, &requests).await, 3);
    drop(s);
}

#[tokio::test]
async fn br14_note_bodies_with_html_and_unicode_are_written_byte_for_byte() {
    let ecfg = EmulatorConfig { contacts: 50, deals: 10, notes: 320, ..EmulatorConfig::default() };
    let env = Env::start_with(ecfg, |b| b).await;
    let spec = ExportSpec::builtin("notes").unwrap();
    let records = all_records(&env.client, &env.key, &spec).await;
    let mut out = Vec::new();
    let summary = env
        .client
        .export_to_writer(&env.key, ExportRequest::new(spec), ExportFormat::Json, &mut out, None)
        .await
        .unwrap();
    assert_eq!(summary.records, 320);
    let written: Vec<Record> = serde_json::from_slice(&out).unwrap();
    let mut html = 0;
    let mut non_ascii = 0;
    for (w, r) in written.iter().zip(&records) {
        assert_eq!(w["Body"], r["Body"]);
        if let Some(body) = r["Body"].as_str() {
            html += usize::from(body.contains('<') || body.contains("&amp;"));
            non_ascii += usize::from(!body.is_ascii());
            // The raw bytes appear verbatim in the output (serde_json escapes neither HTML nor UTF-8).
            let needle = serde_json::to_string(body).unwrap();
            assert!(out.windows(needle.len()).any(|x| x == needle.as_bytes()));
        }
    }
    println!("notes: {html} bodies with HTML, {non_ascii} with non-ASCII text");
    assert!(html > 0 && non_ascii > 0, "the emulator's notes exercise HTML and unicode");
}

#[tokio::test]
async fn the_count_is_cached_per_filter_and_anchors_reset_when_the_count_changes() {
    use sfcrm_core::soql::{CmpOp, Condition, FieldPath, SalesforceId};
    let env = env_with(6_000, 10).await;
    let spec = ExportSpec::builtin("contacts").unwrap();
    let full = all_records(&env.client, &env.key, &spec).await;
    let pivot = SalesforceId::new(full[499]["Id"].as_str().unwrap()).unwrap();
    let filtered = spec.clone().with_filter(Condition::cmp(FieldPath::new("Id").unwrap(), CmpOp::Gt, pivot));

    // Two specs on the same sObject: two COUNTs, each cached.
    env.emu.control().reset_counters();
    let a = env.client.export_page(&env.key, &spec, PageRequest { page: 1, limit: Some(100) }).await.unwrap();
    let b = env.client.export_page(&env.key, &filtered, PageRequest { page: 1, limit: Some(100) }).await.unwrap();
    let b2 = env.client.export_page(&env.key, &filtered, PageRequest { page: 2, limit: Some(100) }).await.unwrap();
    assert_eq!((a.api_calls, b.api_calls, b2.api_calls), (2, 2, 1));
    assert_eq!(a.pagination.total, 6_000);
    assert_eq!(b.pagination.total, 5_500);
    assert_eq!(ids(&b.data), ids(&full[500..600]));
    assert_eq!(ids(&b2.data), ids(&full[600..700]));

    // Walk deep (anchors recorded), then delete records before that point: the refreshed COUNT
    // differs, the anchors are dropped, and the deep page is right for the new data.
    let p50 = env.client.export_page(&env.key, &spec, PageRequest { page: 50, limit: Some(100) }).await.unwrap();
    assert_eq!(ids(&p50.data), ids(&full[4900..5000]));
    let deleted: HashSet<String> = env.emu.control().delete(SObject::Contact, 30).into_iter().collect();
    env.client.invalidate_export_cache(&env.key);
    let now: Vec<Record> = all_records(&env.client, &env.key, &spec).await;
    assert_eq!(now.len(), 5_970);
    assert!(now.iter().all(|r| !deleted.contains(r["Id"].as_str().unwrap())));
    let p50 = env.client.export_page(&env.key, &spec, PageRequest { page: 50, limit: Some(100) }).await.unwrap();
    assert_eq!(p50.pagination.total, 5_970);
    assert_eq!(ids(&p50.data), ids(&now[4900..5000]));
}

#[tokio::test]
async fn a_zero_count_cache_ttl_counts_every_page_but_keeps_valid_anchors() {
    let ecfg = EmulatorConfig { contacts: 3_000, deals: 10, notes: 10, ..EmulatorConfig::default() };
    let env = Env::start_with(ecfg, |b| b.count_cache_ttl(Duration::ZERO)).await;
    let spec = ExportSpec::builtin("contacts").unwrap();
    let full = all_records(&env.client, &env.key, &spec).await;
    env.emu.control().reset_counters();
    for page in 21..=25 {
        let p = env.client.export_page(&env.key, &spec, PageRequest { page, limit: Some(100) }).await.unwrap();
        let start = (page as usize - 1) * 100;
        assert_eq!(ids(&p.data), ids(&full[start..start + 100]));
        assert_eq!(p.api_calls, 2, "COUNT + 1 data query (page {page})");
    }
    assert_eq!(env.emu.control().counters().query, 10);

    // Records deleted before the anchors: the next COUNT differs, so the anchors (positions) are
    // dropped and page 25 is computed afresh (by OFFSET hops) rather than from a shifted anchor.
    let deleted: HashSet<String> = env.emu.control().delete(SObject::Contact, 40).into_iter().collect();
    let before_2400 = full[..2400].iter().filter(|r| deleted.contains(r["Id"].as_str().unwrap())).count();
    assert!(before_2400 > 0, "the deletions shift page 25");
    let now = all_records(&env.client, &env.key, &spec).await;
    let p = env.client.export_page(&env.key, &spec, PageRequest { page: 25, limit: Some(100) }).await.unwrap();
    assert_eq!(p.pagination.total, 2_960);
    assert_eq!(ids(&p.data), ids(&now[2400..2500]));
}

#[tokio::test]
async fn the_count_cache_belongs_to_one_client_and_its_clones() {
    let env = env_with(300, 10).await;
    let spec = ExportSpec::builtin("contacts").unwrap();
    let page = |c: &Client| {
        let (c, key, spec) = (c.clone(), env.key.clone(), spec.clone());
        async move { c.export_page(&key, &spec, PageRequest { page: 2, limit: Some(100) }).await.unwrap() }
    };
    let first = page(&env.client).await;
    assert_eq!(first.api_calls, 2, "COUNT + data on a cold client");
    let clone = env.client.clone();
    assert_eq!(page(&clone).await.api_calls, 1, "a clone shares the cached COUNT");
    // Another client over the same store and connection keeps its own cache.
    let other = Client::new(env.client.config().clone(), env.store.clone()).unwrap();
    let second = page(&other).await;
    assert_eq!(second.api_calls, 2, "a different client does not see this client's cache");
    assert_eq!(second.data, first.data);
}

/// A cancel that races the prefetch (landing before, during or after a batch is fetched) always
/// surfaces as `Cancelled` unless every record was already delivered: a cut-short export never
/// looks finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_racing_the_prefetch_never_looks_like_the_end() {
    let env = env_with(6_000, 10).await;
    let spec = ExportSpec::builtin("contacts").unwrap();
    for round in 0..40u64 {
        let mut s = env.client.export_stream(&env.key, ExportRequest::new(spec.clone()));
        let mut delivered = s.next_batch().await.unwrap().unwrap().records.len();
        let handle = s.cancel_handle();
        // Cancel from another thread after 0–4 ms while the next batch is being fetched.
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_micros(round * 100));
            handle.cancel();
        });
        let outcome = loop {
            match s.next_batch().await {
                Ok(Some(b)) => delivered += b.records.len(),
                other => break other,
            }
        };
        canceller.join().unwrap();
        match outcome {
            Ok(None) => assert_eq!(delivered, 6_000, "round {round}: the stream ended early without an error"),
            Err(e) => assert_eq!(e.kind(), ErrorKind::Cancelled, "round {round}: {e}"),
            Ok(Some(_)) => unreachable!(),
        }
    }
}

/// A file export is cancelled through a handle the host kept: `Cancelled`, the target file is
/// never created and no partial file is left beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_export_is_cancelled_through_the_request_handle() {
    let env = env_with(20_000, 10).await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("contacts.csv");
    env.emu.control().add_fault(Fault { endpoint: Endpoint::QueryMore, count: 20, kind: FaultKind::Delay { ms: 100 } });
    let handle = sfcrm_core::export::CancelHandle::new();
    let request = ExportRequest::new(ExportSpec::builtin("contacts").unwrap()).cancel_with(handle.clone());
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        handle.cancel();
    });
    let err = env.client.export_to_path(&env.key, request, ExportFormat::Csv, &target, None).await.unwrap_err();
    canceller.join().unwrap();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err:?}");
    assert!(!target.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no partial file left");
    // A handle cancelled before the export starts stops it before any request.
    let before = env.emu.control().counters();
    let handle = sfcrm_core::export::CancelHandle::new();
    handle.cancel();
    let request = ExportRequest::new(ExportSpec::builtin("contacts").unwrap()).cancel_with(handle);
    let err = env.client.export_to_path(&env.key, request, ExportFormat::Csv, &target, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert_eq!(env.emu.control().counters().query, before.query);
}
