//! `sfcrm query` and `sfcrm export --fields '*' --where … --param …` against the org emulator
//! (issue 11): bind values that stay literals, child cursors completed, an all-fields export of
//! the wide object equal to the org's records, and bad input reported on one line with a non-zero
//! exit and no output file.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use sf_org_emulator::{Emulator, EmulatorConfig, Endpoint, Fault, FaultKind};
use support::{connect, sfcrm};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const HOSTILE: &str = "x' OR LastName != '' ; DELETE FROM Contact; --\\ 100% _\n\"q\"";

async fn connected() -> (Emulator, tempfile::TempDir) {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    connect(&emulator, dir.path(), REDIRECT).await;
    (emulator, dir)
}

fn run(emulator: &Emulator, dir: &Path, args: &[&str]) -> Output {
    sfcrm(emulator, dir, REDIRECT, args).output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// The command failed with exactly one line on stderr, which is returned.
fn one_line_failure(o: &Output) -> String {
    assert!(!o.status.success(), "succeeded: {}", String::from_utf8_lossy(&o.stdout));
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr:?}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

fn ndjson(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn o_connor_count(emulator: &Emulator, dir: &Path) -> usize {
    // The oracle: the same filter with the literal typed by hand (SOQL escapes ' with \).
    let out = run(emulator, dir, &["query", r"SELECT Id FROM Contact WHERE LastName = 'O\'Connor'"]);
    let n = ok(&out).lines().count();
    assert!(n > 0);
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_query_with_typed_params_keeps_every_value_a_literal() {
    let (emulator, dir) = connected().await;
    let expected = o_connor_count(&emulator, dir.path());
    let outdir = tempfile::tempdir().unwrap();
    let out = outdir.path().join("o.csv");
    let hostile = format!("hostile={HOSTILE}");
    let o = run(&emulator, dir.path(), &[
        "query",
        "SELECT Id, LastName, Account.Name FROM Contact WHERE (LastName = :real OR LastName = :hostile) AND CreatedDate > :since AND LastName IN :names",
        "--param", "real=O'Connor",
        "--param", &hostile,
        "--param", "since:datetime=2000-01-01T00:00:00Z",
        "--param", r"names:list:string=O'Connor,Nobody\, Else",
        "--format", "csv", "--out", out.to_str().unwrap(),
    ]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains(&format!("{expected} records")), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(&out).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("Id,LastName,Account.Name"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), expected);
    assert!(rows.iter().all(|r| r.contains(",O'Connor,")), "{csv}");
    // The hostile value alone is one literal: it matches nothing.
    let o = run(&emulator, dir.path(), &["query", "SELECT Id FROM Contact WHERE LastName = :h", "--param", &format!("h={HOSTILE}")]);
    assert_eq!(ok(&o), "");
    // Integers, json output to stdout.
    let o = run(&emulator, dir.path(), &["query", "SELECT Id, Amount FROM Opportunity WHERE Amount > :min LIMIT 3", "--param", "min:int=1000", "--format", "json"]);
    let v: Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parent_is_delivered_with_all_its_children() {
    let (emulator, dir) = connected().await;
    emulator.control().set_child_batch_size(2);
    let soql = "SELECT Id, (SELECT Id, LastName FROM Contacts) FROM Account";
    // As sent: the top-level pages only (child results keep their own cursors).
    let before = emulator.control().counters();
    let as_sent = ndjson(&ok(&run(&emulator, dir.path(), &["query", soql, "--children-as-sent"])));
    let top_level_more = emulator.control().counters().query_more - before.query_more;
    assert!(as_sent.iter().any(|p| p["Contacts"]["done"] == false && p["Contacts"]["nextRecordsUrl"].is_string()));
    // Complete (the default): every parent with all its children, each child cursor followed.
    let before = emulator.control().counters();
    let o = run(&emulator, dir.path(), &["query", soql, "--format", "ndjson"]);
    let parents = ndjson(&ok(&o));
    let after = emulator.control().counters();
    assert_eq!(parents.len() as u64, emulator.control().record_count(sf_org_emulator::SObject::Account));
    let mut cursors = 0;
    for p in &parents {
        let kids = &p["Contacts"];
        if kids.is_null() {
            continue;
        }
        assert_eq!(kids["done"], true, "{p}");
        assert!(kids.get("nextRecordsUrl").is_none());
        let n = kids["records"].as_array().unwrap().len();
        assert_eq!(kids["totalSize"].as_u64(), Some(n as u64));
        cursors += (n.div_ceil(2) - 1) as u64;
    }
    assert!(cursors > 0);
    assert_eq!(after.query_more - before.query_more, top_level_more + cursors, "one call per further child page");
    assert_eq!(after.query - before.query, 1);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_one_line_a_failure_and_leaves_no_file() {
    let (emulator, dir) = connected().await;
    let outdir = tempfile::tempdir().unwrap();
    let out = outdir.path().join("q.ndjson");
    let out = out.to_str().unwrap();
    let nothing_left = || assert_eq!(std::fs::read_dir(outdir.path()).unwrap().count(), 0, "a file was left");
    let line = one_line_failure(&run(&emulator, dir.path(), &["query", "SELECT Id FORM Contact", "--out", out]));
    assert!(line.contains("MALFORMED_QUERY") && line.contains("Row:1:Column:"), "{line}");
    nothing_left();
    let line = one_line_failure(&run(&emulator, dir.path(), &["query", "SELECT Id, Nope__c FROM Contact", "--out", out]));
    assert!(line.contains("INVALID_FIELD") && line.contains("Nope__c"), "{line}");
    nothing_left();
    // Caller mistakes are refused before any request.
    let queries = emulator.control().counters().query;
    for (args, needle) in [
        (vec!["query", "SELECT Id FROM Contact WHERE LastName = :name", "--out", out], "name"),
        (vec!["query", "SELECT Id FROM Contact", "--param", "x=1", "--out", out], "x"),
        (vec!["query", "SELECT Id FROM Contact WHERE Id = :x", "--param", "x:int=one", "--out", out], "one"),
        (vec!["query", "SELECT Id FROM Contact WHERE Id = :x", "--param", "x:money=1", "--out", out], "money"),
        (vec!["query", "SELECT Id FROM Contact WHERE Id = :x", "--param", "x", "--out", out], "NAME=VALUE"),
        (vec!["query", "SELECT Id FROM Contact", "--format", "xml", "--out", out], "xml"),
    ] {
        let line = one_line_failure(&run(&emulator, dir.path(), &args));
        assert!(line.contains(needle), "{args:?}: {line}");
        nothing_left();
    }
    assert_eq!(emulator.control().counters().query, queries);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_all_fields_export_of_the_wide_object_equals_the_orgs_records() {
    let (emulator, dir) = connected().await;
    let outdir = tempfile::tempdir().unwrap();
    let out = outdir.path().join("wide.ndjson");
    let before = emulator.control().counters();
    let o = run(&emulator, dir.path(), &["export", "--sobject", "Wide_Object__c", "--fields", "*", "--out", out.to_str().unwrap()]);
    ok(&o);
    let after = emulator.control().counters();
    assert_eq!(after.uri_too_long, before.uri_too_long, "no query over the URI limit was sent");
    let records = ndjson(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(records.len(), 250);
    let fields: Vec<String> = records[0].as_object().unwrap().keys().filter(|k| *k != "attributes").cloned().collect();
    assert!(fields.len() > 400, "{} fields", fields.len());
    // The org's own records: one query with every field, allowed by raising the URI limit.
    emulator.control().set_max_uri_bytes(1 << 20);
    let soql = format!("SELECT {} FROM Wide_Object__c ORDER BY Id", fields.join(", "));
    let org = ndjson(&ok(&run(&emulator, dir.path(), &["query", &soql])));
    emulator.control().set_max_uri_bytes(16_384);
    assert_eq!(org.len(), 250);
    let strip = |v: &Value| {
        let mut m = v.as_object().unwrap().clone();
        m.remove("attributes");
        m
    };
    for (got, want) in records.iter().zip(&org) {
        assert_eq!(strip(got), strip(want));
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_filtered_with_where_and_params() {
    let (emulator, dir) = connected().await;
    let expected = o_connor_count(&emulator, dir.path());
    let outdir = tempfile::tempdir().unwrap();
    let out = outdir.path().join("c.ndjson");
    let o = run(&emulator, dir.path(), &[
        "export", "--sobject", "Contact", "--fields", "Id,LastName", "--where", "LastName = :n AND LastName != :h",
        "--param", "n=O'Connor", "--param", &format!("h={HOSTILE}"), "--out", out.to_str().unwrap(),
    ]);
    ok(&o);
    let records = ndjson(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(records.len(), expected);
    assert!(records.iter().all(|r| r["LastName"] == "O'Connor"));
    // A clause keyword in --where is refused before any request, and no file is written.
    let queries = emulator.control().counters().query;
    let o = run(&emulator, dir.path(), &[
        "export", "--sobject", "Contact", "--fields", "Id", "--where", "LastName = 'x' LIMIT 5", "--out", outdir.path().join("x.ndjson").to_str().unwrap(),
    ]);
    let line = one_line_failure(&o);
    assert!(line.contains("LIMIT"), "{line}");
    assert!(!outdir.path().join("x.ndjson").exists());
    assert_eq!(emulator.control().counters().query, queries);
    emulator.shutdown().await;
}

/// Issue 11 item 7: compound values and polymorphic lookups reach the CSV as JSON objects (one
/// cell each), never `[object Object]` or a `{city=…}` string; NDJSON keeps them as objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compound_and_polymorphic_values_are_json_in_csv_cells() {
    let (emulator, dir) = connected().await;
    let csv = ok(&run(&emulator, dir.path(), &["query", "SELECT Id, MailingAddress FROM Contact ORDER BY Id LIMIT 20", "--format", "csv"]));
    assert!(csv.starts_with("Id,MailingAddress\r\n"), "{csv}");
    assert!(csv.contains(r#","{""city"":"#), "an address cell holds its JSON object: {csv}");
    assert!(!csv.contains("[object Object]") && !csv.contains("{city="));
    let nd = ndjson(&ok(&run(&emulator, dir.path(), &["query", "SELECT Id, MailingAddress FROM Contact ORDER BY Id LIMIT 20"])));
    assert!(nd.iter().any(|r| r["MailingAddress"]["city"].is_string()));
    let soql = "SELECT Id, TYPEOF What WHEN Account THEN Name, Industry WHEN Opportunity THEN Amount, StageName ELSE Name END FROM Event";
    let csv = ok(&run(&emulator, dir.path(), &["query", soql, "--format", "csv"]));
    assert!(csv.starts_with("Id,What\r\n"), "TYPEOF is one column: {}", csv.lines().next().unwrap_or_default());
    // Each TYPEOF cell keeps its record's sObject type (`attributes.type`, the url dropped).
    assert!(csv.contains(r#",""Industry"":"#) && csv.contains(r#",""StageName"":"#), "{}", &csv[..csv.len().min(600)]);
    assert!(csv.contains(r#""{""attributes"":{""type"":""Account""},""Name"":"#), "{}", &csv[..csv.len().min(600)]);
    assert!(csv.contains(r#""{""attributes"":{""type"":""Opportunity""},"#) && !csv.contains("/sobjects/"), "{}", &csv[..csv.len().min(600)]);
    let nd = ndjson(&ok(&run(&emulator, dir.path(), &["query", "SELECT Id, What.Type, What.Name FROM Task"])));
    let typed = nd.iter().find(|r| !r["What"].is_null()).unwrap();
    assert!(["Account", "Opportunity"].contains(&typed["What"]["Type"].as_str().unwrap()), "{typed}");
    let csv = ok(&run(&emulator, dir.path(), &["query", "SELECT Id, What.Type, What.Name FROM Task", "--format", "csv"]));
    assert!(csv.starts_with("Id,What.Type,What.Name\r\n") && csv.contains(",Opportunity,"), "{}", &csv[..csv.len().min(300)]);
    emulator.shutdown().await;
}

/// RFC 4180 records (quoted cells may hold commas, quotes and line breaks).
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell, mut quoted) = (Vec::new(), Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => { chars.next(); cell.push('"'); }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\r', false) => {}
            ('\n', false) => { row.push(std::mem::take(&mut cell)); rows.push(std::mem::take(&mut row)); }
            (c, _) => cell.push(c),
        }
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_queries_write_their_expanded_columns() {
    // `SELECT FIELDS(ALL)` / `SELECT *` learn their columns from the describe; the CSV header and
    // cells must be those fields (before: one empty column "" and a "" cell per record).
    let (emulator, dir) = connected().await;
    let outdir = tempfile::tempdir().unwrap();
    let out = outdir.path().join("all.csv");
    for (soql, to_file) in [("SELECT FIELDS(ALL) FROM Contact WHERE LastName = :n", false), ("SELECT * FROM Contact WHERE LastName = :n", true)] {
        let records = ndjson(&ok(&run(&emulator, dir.path(), &["query", soql, "--param", "n=O'Connor"])));
        assert!(!records.is_empty());
        let mut args = vec!["query", soql, "--param", "n=O'Connor", "--format", "csv"];
        if to_file {
            args.extend(["--out", out.to_str().unwrap()]);
        }
        let o = run(&emulator, dir.path(), &args);
        let csv = if to_file { ok(&o); std::fs::read_to_string(&out).unwrap() } else { ok(&o) };
        let rows = csv_records(&csv);
        let header = &rows[0];
        let want: Vec<&String> = records[0].as_object().unwrap().keys().filter(|k| *k != "attributes").collect();
        assert!(want.len() > 20, "{want:?}");
        assert_eq!(header.iter().collect::<Vec<_>>(), want, "{soql}");
        assert_eq!(rows.len() - 1, records.len(), "{soql}");
        for (row, record) in rows[1..].iter().zip(&records) {
            for (name, cell) in header.iter().zip(row) {
                let plain = match &record[name.as_str()] {
                    Value::Null => String::new(),
                    Value::String(s) => s.clone(),
                    v => v.to_string(),
                };
                assert_eq!(cell, &plain, "{soql}: {name}");
            }
        }
    }
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdout_gets_nothing_on_bad_soql_and_no_end_after_a_failure() {
    let (emulator, dir) = connected().await;
    // Bad SOQL: the one error line, and nothing on stdout (no CSV header, no `[]` that reads as
    // an empty result when piped).
    for format in ["csv", "json", "ndjson"] {
        let o = run(&emulator, dir.path(), &["query", "SELECT Id FORM Contact", "--format", format]);
        one_line_failure(&o);
        assert_eq!(String::from_utf8_lossy(&o.stdout), "", "{format}");
    }
    // A failure after the first page: the records written stay, but JSON is left unterminated so
    // that a truncated result never parses as a complete one.
    emulator.control().set_batch_size(200);
    emulator.control().add_fault(Fault { endpoint: Endpoint::QueryMore, count: 1000, kind: FaultKind::InvalidLocator });
    let o = run(&emulator, dir.path(), &["query", "SELECT Id, Name FROM Contact ORDER BY Name", "--format", "json"]);
    let line = one_line_failure(&o);
    assert!(line.contains("INVALID_QUERY_LOCATOR"), "{line}");
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(stdout.starts_with('[') && stdout.matches("\"Id\"").count() == 200, "{stdout}");
    assert!(serde_json::from_str::<Value>(&stdout).is_err(), "a truncated result parsed as JSON");
    emulator.control().clear_faults();
    emulator.shutdown().await;
}
