//! Filters on exports: `ExportSpec::with_where` with bind values, against the org emulator —
//! the stream, pages (COUNT cached per filter), file exports, incremental mode, resume, and the
//! refusals made before any request.

mod support;

use std::time::Duration;

use sf_org_emulator::EmulatorConfig;
use sfcrm_core::export::{ExportFormat, ExportRequest, ExportSpec, PageRequest, Record};
use sfcrm_core::soql::{BindValue, Params};
use sfcrm_core::{Client, ConnectionKey, ErrorKind};
use support::Env;

async fn env() -> Env {
    let ecfg = EmulatorConfig { contacts: 400, deals: 5, notes: 5, ..EmulatorConfig::default() };
    let env = Env::start_with(ecfg, |b| b.count_cache_ttl(Duration::from_secs(600))).await;
    env.emu.control().reset_counters();
    env
}

async fn all(client: &Client, key: &ConnectionKey, req: ExportRequest) -> Vec<Record> {
    let mut s = client.export_stream(key, req);
    let mut out = Vec::new();
    while let Some(b) = s.next_batch().await.unwrap() {
        out.extend(b.to_records().unwrap());
    }
    out
}

fn ids(rs: &[Record]) -> Vec<String> {
    rs.iter().map(|r| r["Id"].as_str().unwrap().to_owned()).collect()
}

fn spec() -> ExportSpec {
    ExportSpec::custom("Contact", &["Name", "Title", "Email"]).unwrap()
}

fn title_is(r: &Record, t: &str) -> bool {
    r["Title"].as_str() == Some(t)
}

#[tokio::test]
async fn a_filtered_stream_equals_the_full_export_filtered_here() {
    let env = env().await;
    let everyone = all(&env.client, &env.key, ExportRequest::new(spec())).await;
    assert_eq!(everyone.len(), 400);
    let title = everyone.iter().find_map(|r| r["Title"].as_str()).expect("some titles").to_owned();
    let want: Vec<Record> = everyone.iter().filter(|r| title_is(r, &title) || r["Email"].is_null()).cloned().collect();
    assert!(!want.is_empty() && want.len() < 400, "a real filter: {}", want.len());

    let params = Params::new().with("t", title.as_str()).unwrap();
    let filtered = spec().with_where("Title = :t OR Email = null", &params).unwrap();
    env.emu.control().set_batch_size(50);
    let got = all(&env.client, &env.key, ExportRequest::new(filtered.clone())).await;
    assert_eq!(ids(&got), ids(&want));

    // Resumed from a checkpoint mid-way: the filter and the keyset Id > combine.
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(filtered.clone()));
    let mut first = s.next_batch().await.unwrap().unwrap().to_records().unwrap();
    let cp = s.checkpoint();
    drop(s);
    first.extend(all(&env.client, &env.key, ExportRequest::new(filtered).resume_from(cp)).await);
    assert_eq!(ids(&first), ids(&want));
}

#[tokio::test]
async fn a_hostile_value_stays_a_literal() {
    let env = env().await;
    let params = Params::new().with("n", "O'Brien \\ 100% _x_\n'; DELETE FROM Contact --").unwrap();
    let got = all(&env.client, &env.key, ExportRequest::new(spec().with_where("Name = :n", &params).unwrap())).await;
    assert!(got.is_empty());
    let list = Params::new()
        .with("names", BindValue::List(vec![BindValue::String("x') OR Name != ('".into()), BindValue::String("y".into())]))
        .unwrap();
    let got = all(&env.client, &env.key, ExportRequest::new(spec().with_where("Name IN :names", &list).unwrap())).await;
    assert!(got.is_empty(), "a list value cannot widen the IN");
}

#[tokio::test]
async fn pages_and_files_honour_the_filter_and_count_it_separately() {
    let env = env().await;
    let everyone = all(&env.client, &env.key, ExportRequest::new(spec())).await;
    let title = everyone.iter().find_map(|r| r["Title"].as_str()).unwrap().to_owned();
    let want: Vec<&Record> = everyone.iter().filter(|r| title_is(r, &title)).collect();
    let filtered = spec().with_where("Title = :t", &Params::new().with("t", title.as_str()).unwrap()).unwrap();

    let full = env.client.export_page(&env.key, &spec(), PageRequest { page: 1, limit: Some(5) }).await.unwrap();
    let page = env.client.export_page(&env.key, &filtered, PageRequest { page: 1, limit: Some(5) }).await.unwrap();
    assert_eq!(full.pagination.total, 400);
    assert_eq!(page.pagination.total, want.len() as u64, "its own COUNT, not the cached unfiltered one");
    assert!(page.data.iter().all(|r| title_is(r, &title)));
    let page2 = env.client.export_page(&env.key, &filtered, PageRequest { page: 1, limit: Some(5) }).await.unwrap();
    assert_eq!(page2.api_calls, 1, "the filtered COUNT is cached too");

    let mut out = Vec::new();
    let s = env.client.export_to_writer(&env.key, ExportRequest::new(filtered), ExportFormat::Ndjson, &mut out, None).await.unwrap();
    assert_eq!(s.records, want.len() as u64);
    let text = String::from_utf8(out).unwrap();
    assert!(text.lines().all(|l| l.contains(&serde_json::to_string(&title).unwrap())));
}

#[tokio::test]
async fn incremental_mode_keeps_working_with_a_filter() {
    let env = env().await;
    let everyone = all(&env.client, &env.key, ExportRequest::new(spec())).await;
    let title = everyone.iter().find_map(|r| r["Title"].as_str()).unwrap().to_owned();
    let filtered = spec().with_where("Title = :t", &Params::new().with("t", title.as_str()).unwrap()).unwrap();
    let req = ExportRequest::new(filtered.clone()).since("2000-01-01T00:00:00Z");
    let first = all(&env.client, &env.key, req).await;
    assert!(!first.is_empty() && first.iter().all(|r| title_is(r, &title)));
    // Touch some contacts; the next run from the newest SystemModstamp sees only touched matches.
    let stamp = first.iter().filter_map(|r| r["SystemModstamp"].as_str()).max().unwrap().to_owned();
    env.emu.control().advance_clock_ms(60_000);
    let touched = env.emu.control().touch(sf_org_emulator::SObject::Contact, 400);
    let again = all(&env.client, &env.key, ExportRequest::new(filtered).since(&stamp)).await;
    assert_eq!(again.len(), first.len(), "every match was touched: {} of {}", touched.len(), first.len());
}

#[test]
fn refusals_before_any_request() {
    let p = Params::new().with("t", "x").unwrap();
    for (text, why) in [
        ("Title = :t ORDER BY Name", "clause keyword"),
        ("Title = :t LIMIT 5", "clause keyword"),
        ("(Title = :t", "unbalanced"),
        ("Title = 'x", "unterminated literal"),
        ("", "empty"),
        ("Title = :u", "missing name"),
    ] {
        let e = spec().with_where(text, &p).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{why}: {text}");
    }
    let e = spec().with_where("Title = 'x'", &p).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "unused name");
    let s = spec().with_where("Title = :t", &p).unwrap().with_where("Email != null", &Params::new()).unwrap();
    let f = s.filter().unwrap().to_soql().unwrap();
    assert_eq!(f, "((Title = 'x') AND (Email != null))");
}
