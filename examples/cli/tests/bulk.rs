//! `sfcrm query … --mode bulk` and `sfcrm export … --mode bulk` against the org emulator (issue 12):
//! the records of a Bulk API 2.0 job equal the REST query's and cost Bulk calls, not query pages;
//! a query Bulk refuses and a failed job are read with REST, the reason printed once on stderr.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};
use sf_org_emulator::bulk::{JobFault, JobFaultKind};
use sf_org_emulator::{Emulator, EmulatorConfig};
use support::{connect, sfcrm};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const FALLBACK: &str = "--mode bulk: reading with the REST query API instead: ";

async fn connected() -> (Emulator, tempfile::TempDir) {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    // Jobs complete at once (no queue delay or overhead).
    emulator.control().update_bulk_settings(&json!({"queue_delay_ms": 0, "overhead_ms": 0, "rows_per_s": 10000.0})).unwrap();
    let dir = tempfile::tempdir().unwrap();
    connect(&emulator, dir.path(), REDIRECT).await;
    (emulator, dir)
}

fn run(emulator: &Emulator, dir: &Path, args: &[&str]) -> Output {
    sfcrm(emulator, dir, REDIRECT, args).output().unwrap()
}

fn ok(o: &Output) -> (String, String) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (String::from_utf8(o.stdout.clone()).unwrap(), String::from_utf8(o.stderr.clone()).unwrap())
}

/// NDJSON records by Id, `attributes` removed at every level (Bulk's nested parents have none:
/// CSV cannot name a parent's type).
fn by_id(text: &str) -> BTreeMap<String, Value> {
    fn strip(v: &mut Value) {
        if let Value::Object(m) = v {
            m.remove("attributes");
            m.values_mut().for_each(strip);
        }
    }
    text.lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            strip(&mut v);
            (v["Id"].as_str().unwrap().to_owned(), v)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_query_equals_the_rest_query_and_costs_bulk_calls() {
    let (emulator, dir) = connected().await;
    let soql = "SELECT Id, Name, Amount, CloseDate, IsClosed, Account.Name, Owner.Alias, CreatedDate FROM Opportunity";
    let (rest, _) = ok(&run(&emulator, dir.path(), &["query", soql]));
    let before = emulator.control().counters();
    let (bulk, stderr) = ok(&run(&emulator, dir.path(), &["query", soql, "--mode", "bulk"]));
    let after = emulator.control().counters();
    assert!(!stderr.contains(FALLBACK), "{stderr}");
    let (rest, bulk) = (by_id(&rest), by_id(&bulk));
    assert!(rest.len() > 100);
    assert_eq!(bulk, rest);
    assert_eq!((after.bulk_create - before.bulk_create, after.bulk_delete - before.bulk_delete), (1, 1));
    assert_eq!((after.query - before.query, after.query_more - before.query_more), (0, 0), "no REST page read");
    assert!(emulator.control().bulk_jobs().is_empty(), "the finished job was deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_export_to_csv_holds_the_rest_exports_rows() {
    let (emulator, dir) = connected().await;
    let out = tempfile::tempdir().unwrap();
    let (rest_path, bulk_path) = (out.path().join("rest.csv"), out.path().join("bulk.csv"));
    let fields = "Name,Amount,CloseDate,IsClosed,Account.Name";
    let common = ["export", "--sobject", "Opportunity", "--fields", fields, "--format", "csv", "--out"];
    ok(&run(&emulator, dir.path(), &[&common[..], &[rest_path.to_str().unwrap()]].concat()));
    let before = emulator.control().counters();
    let (_, stderr) = ok(&run(&emulator, dir.path(), &[&common[..], &[bulk_path.to_str().unwrap(), "--mode", "bulk"]].concat()));
    assert_eq!(emulator.control().counters().bulk_create - before.bulk_create, 1);
    assert!(!stderr.contains(FALLBACK), "{stderr}");
    let lines = |p: &Path| {
        let text = std::fs::read_to_string(p).unwrap();
        let mut l: Vec<String> = text.split("\r\n").map(str::to_owned).collect();
        let header = l.remove(0);
        l.sort();
        (header, l)
    };
    let (rest, bulk) = (lines(&rest_path), lines(&bulk_path));
    assert_eq!(bulk.0, rest.0, "same columns");
    assert!(rest.1.len() > 100);
    assert_eq!(bulk.1, rest.1, "the same rows, in another order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_query_and_a_failed_job_are_read_with_rest_and_say_why_once() {
    let (emulator, dir) = connected().await;
    let soql = "SELECT Id, Name, (SELECT Id, LastName FROM Contacts) FROM Account";
    let (rest, _) = ok(&run(&emulator, dir.path(), &["query", soql]));
    let (bulk, stderr) = ok(&run(&emulator, dir.path(), &["query", soql, "--mode", "bulk"]));
    assert_eq!(bulk, rest, "REST read it: the same output");
    assert_eq!(stderr.matches(FALLBACK).count(), 1, "{stderr}");
    assert!(stderr.contains("Aggregate Relationships not supported in Bulk V2 Query with CSV content type"), "{stderr}");

    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("o.ndjson");
    let args = ["export", "--sobject", "Opportunity", "--fields", "Name", "--out", path.to_str().unwrap()];
    ok(&run(&emulator, dir.path(), &args));
    let rest = std::fs::read_to_string(&path).unwrap();
    emulator.control().add_bulk_job_fault(JobFault {
        count: 1,
        kind: JobFaultKind::Failed { error_message: Some("QUERY_TIMEOUT: Your query request was running for too long.".into()) },
    });
    let (_, stderr) = ok(&run(&emulator, dir.path(), &[&args[..], &["--mode", "bulk"]].concat()));
    assert_eq!(stderr.matches(FALLBACK).count(), 1, "{stderr}");
    assert!(stderr.contains("QUERY_TIMEOUT: Your query request was running for too long."), "{stderr}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), rest, "REST read every record");
}

#[test]
fn an_unknown_mode_is_refused_naming_the_choices() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_sfcrm")).args(["query", "SELECT Id FROM Contact", "--mode", "fast"]).output().unwrap();
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("rest") && stderr.contains("bulk"), "{stderr}");
}
