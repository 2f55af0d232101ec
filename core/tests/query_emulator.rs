//! SOQL queries against the org emulator (issue 11 item 1-3): bind values (hostile strings stay
//! literals), child cursors completed in counted calls, queryAll, resuming after a session
//! expiry, Salesforce's errors for bad SOQL, and the typed error of a dead locator.

mod support;

use std::collections::HashSet;

use sf_org_emulator::{EmulatorConfig, SObject};
use sfcrm_core::export::{ChildCursors, ExportFormat, QueryRequest, Record};
use sfcrm_core::soql::{BindValue, Params};
use sfcrm_core::{ErrorKind, Result};
use support::Env;

async fn env(contacts: usize) -> Env {
    let ecfg = EmulatorConfig { contacts, deals: 10, notes: 10, ..EmulatorConfig::default() };
    let env = Env::start_with(ecfg, |b| b).await;
    env.emu.control().reset_counters();
    env
}

async fn collect(env: &Env, request: QueryRequest) -> Result<Vec<Record>> {
    let mut s = env.client.query_stream(&env.key, request);
    let mut out = Vec::new();
    while let Some(b) = s.next_batch().await? {
        out.extend(b.to_records()?);
    }
    Ok(out)
}

fn id_of(r: &Record) -> String {
    r["Id"].as_str().unwrap().to_string()
}

const HOSTILE: &str = "O'Brien \\ 100% _x_ \"q\"\nline2\t'; DELETE FROM Contact WHERE Id != null --";

#[tokio::test]
async fn a_filtered_query_with_bind_values_and_a_hostile_string() {
    let env = env(120).await;
    let all = collect(&env, QueryRequest::new("SELECT Id, LastName FROM Contact")).await.unwrap();
    assert_eq!(all.len(), 120);
    let name = all[7]["LastName"].as_str().unwrap().to_string();
    let want: Vec<String> = all.iter().filter(|r| r["LastName"].as_str() == Some(&name)).map(id_of).collect();
    let ids: Vec<String> = all[..60].iter().map(id_of).collect();

    // The hostile string is one literal: it matches nothing and breaks nothing.
    let params = Params::new()
        .with("name", name.as_str()).unwrap()
        .with("hostile", HOSTILE).unwrap()
        .with("ids", ids.clone()).unwrap();
    let soql = "SELECT Id, LastName FROM Contact WHERE (LastName = :name OR LastName = :hostile) \
                AND Id IN :ids AND CreatedDate = LAST_N_DAYS:36500 AND LastName != 'a :b'";
    let got = collect(&env, QueryRequest::new(soql).params(params)).await.unwrap();
    let want_in: Vec<String> = want.iter().filter(|i| ids.contains(i)).cloned().collect();
    assert!(!want_in.is_empty());
    assert_eq!(got.iter().map(id_of).collect::<Vec<_>>(), want_in);

    let only_hostile = Params::new().with("v", HOSTILE).unwrap();
    let got = collect(&env, QueryRequest::new("SELECT Id FROM Contact WHERE LastName = :v").params(only_hostile)).await.unwrap();
    assert!(got.is_empty());
    assert_eq!(env.client.query_one(&env.key, "SELECT Id FROM Contact WHERE LastName = :v LIMIT 1",
        &Params::new().with("v", HOSTILE).unwrap()).await.unwrap(), None);

    // Missing and unused names: InvalidArgument before any request.
    env.emu.control().reset_counters();
    let e = collect(&env, QueryRequest::new("SELECT Id FROM Contact WHERE LastName = :nope")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let extra = Params::new().with("unused", 1i64).unwrap();
    let e = collect(&env, QueryRequest::new("SELECT Id FROM Contact").params(extra)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let empty = Params::new().with("l", BindValue::List(vec![])).unwrap();
    let e = collect(&env, QueryRequest::new("SELECT Id FROM Contact WHERE Id IN :l").params(empty)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert_eq!(env.emu.control().counters().query, 0, "no request was made");
}

#[tokio::test]
async fn a_parent_with_3_children_comes_complete_in_2_calls() {
    let env = env(300).await;
    // Find an Account with exactly 3 Contacts (children as sent: counted from totalSize).
    let parents = collect(&env, QueryRequest::new("SELECT Id, (SELECT Id FROM Contacts) FROM Account")
        .children(ChildCursors::AsSent)).await.unwrap();
    let parent = parents.iter().find(|p| p["Contacts"].get("totalSize").and_then(|t| t.as_u64()) == Some(3))
        .expect("an Account with 3 Contacts");
    let parent_id = id_of(parent);

    env.emu.control().set_child_batch_size(2);
    env.emu.control().reset_counters();
    let before = env.client.api_calls();
    let soql = "SELECT Id, Name, (SELECT Id, LastName FROM Contacts) FROM Account WHERE Id = :id";
    let params = Params::new().with("id", parent_id.as_str()).unwrap();
    let mut stream = env.client.query_stream(&env.key, QueryRequest::new(soql).params(params.clone()));
    let batch = stream.next_batch().await.unwrap().unwrap();
    assert!(stream.next_batch().await.unwrap().is_none());
    let rec = batch.records[0].to_record().unwrap();
    let contacts = &rec["Contacts"];
    assert_eq!(contacts["totalSize"], 3);
    assert_eq!(contacts["done"], true);
    assert!(contacts.get("nextRecordsUrl").is_none());
    assert_eq!(contacts["records"].as_array().unwrap().len(), 3);
    let keys: Vec<&String> = contacts.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["totalSize", "done", "records"]);
    assert_eq!(stream.api_calls(), 2);
    let c = env.emu.control().counters();
    assert_eq!((c.query, c.query_more), (1, 1));
    let after = env.client.api_calls();
    assert_eq!((after.query - before.query, after.query_more - before.query_more), (1, 1));
    let cols: Vec<&str> = stream.fields().iter().map(|f| f.as_str()).collect();
    assert_eq!(cols, ["Id", "Name", "Contacts"]);

    // As sent: the child cursor stays open, and a "more" call on the nested URL works.
    let mut stream = env.client.query_stream(&env.key, QueryRequest::new(soql).params(params).children(ChildCursors::AsSent));
    let rec = stream.next_batch().await.unwrap().unwrap().records[0].to_record().unwrap();
    assert_eq!(rec["Contacts"]["done"], false);
    let url = rec["Contacts"]["nextRecordsUrl"].as_str().unwrap();
    let more = env.client.query_more(&env.key, url, &Default::default()).await.unwrap();
    assert_eq!((more.done, more.records.len()), (true, 1));

    // CSV: the child subquery is one column holding JSON.
    let mut out = Vec::new();
    let soql = format!("SELECT Id, (SELECT LastName FROM Contacts) FROM Account WHERE Id = '{parent_id}'");
    env.client.query_to_writer(&env.key, QueryRequest::new(soql), ExportFormat::Csv, &mut out, None).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("Id,Contacts\r\n"), "{text}");
    assert!(text.contains("\"{\"\"totalSize\"\":3,\"\"done\"\":true,\"\"records\"\":[{\"\"LastName\"\""), "{text}");
}

#[tokio::test]
async fn query_all_sees_deleted_rows() {
    let env = env(50).await;
    let deleted = env.emu.control().delete(SObject::Contact, 3);
    let live = collect(&env, QueryRequest::new("SELECT Id FROM Contact")).await.unwrap();
    let all = collect(&env, QueryRequest::new("SELECT Id, IsDeleted FROM Contact").all_rows(true)).await.unwrap();
    assert_eq!((live.len(), all.len()), (47, 50));
    let flagged: Vec<String> = all.iter().filter(|r| r["IsDeleted"] == true).map(id_of).collect();
    assert_eq!(flagged, deleted);
    assert!(live.iter().all(|r| !deleted.contains(&id_of(r))));
}

#[tokio::test]
async fn a_keyset_query_resumes_from_a_checkpoint_after_a_session_expiry() {
    let env = env(1000).await;
    env.emu.control().set_batch_size(200);
    let soql = "SELECT Id, LastName FROM Contact WHERE LastName != :x";
    let params = Params::new().with("x", "nobody").unwrap();
    let request = || QueryRequest::new(soql).params(params.clone()).batch_size(200);
    let mut s = env.client.query_stream(&env.key, request());
    let mut got: Vec<String> = Vec::new();
    for _ in 0..2 {
        got.extend(s.next_batch().await.unwrap().unwrap().to_records().unwrap().iter().map(id_of));
    }
    // Stop mid-batch: resume after record 349 (index 149 of the second batch).
    got.truncate(350);
    let token = s.checkpoint_at(149).unwrap().to_token();
    drop(s);
    env.emu.control().expire_sessions();
    let cp = sfcrm_core::export::Checkpoint::from_token(&token).unwrap();
    let mut s = env.client.query_stream(&env.key, request().resume_from(cp.clone()));
    while let Some(b) = s.next_batch().await.unwrap() {
        got.extend(b.to_records().unwrap().iter().map(id_of));
    }
    assert_eq!(s.progress().records, 1000);
    assert_eq!(got.len(), 1000);
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), 1000, "no record repeated");
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(got, sorted, "in Id order");
    // A checkpoint resumes only its own query.
    let other = QueryRequest::new(soql).params(Params::new().with("x", "else").unwrap()).resume_from(cp);
    let e = collect(&env, other).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[tokio::test]
async fn a_locator_query_resumes_by_page_and_a_dead_locator_is_a_typed_error() {
    let env = env(700).await;
    env.emu.control().set_batch_size(200);
    let soql = "SELECT LastName, Email FROM Contact ORDER BY Email";
    let all = collect(&env, QueryRequest::new(soql).batch_size(200)).await.unwrap();
    assert_eq!(all.len(), 700);
    // Stop after record 250 and resume from the checkpoint while the locator lives.
    let mut s = env.client.query_stream(&env.key, QueryRequest::new(soql).batch_size(200));
    let mut got: Vec<Record> = s.next_batch().await.unwrap().unwrap().to_records().unwrap();
    got.extend(s.next_batch().await.unwrap().unwrap().to_records().unwrap().into_iter().take(50));
    let cp = s.checkpoint_at(49).unwrap();
    drop(s);
    let mut s = env.client.query_stream(&env.key, QueryRequest::new(soql).batch_size(200).resume_from(cp.clone()));
    while let Some(b) = s.next_batch().await.unwrap() {
        got.extend(b.to_records().unwrap());
    }
    assert_eq!(got, all);
    // After a session expiry the locator is dead: a typed error saying what to change.
    env.emu.control().expire_sessions();
    let e = collect(&env, QueryRequest::new(soql).batch_size(200).resume_from(cp)).await.unwrap_err();
    assert_eq!(e.error_code(), Some("INVALID_SESSION_ID"), "{e}");
    assert!(e.message().contains("ORDER BY") && e.message().contains("select Id"), "{}", e.message());
}

#[tokio::test]
async fn bad_soql_gets_salesforce_errors() {
    let env = env(10).await;
    for (soql, code) in [
        ("SELEC Id FROM Contact", "MALFORMED_QUERY"),
        ("SELECT Id FROM Contact WHERE Name = 'x", "MALFORMED_QUERY"),
        ("SELECT Nope__c FROM Contact", "INVALID_FIELD"),
        ("SELECT Id FROM Nope__c", "INVALID_TYPE"),
    ] {
        let e = collect(&env, QueryRequest::new(soql)).await.unwrap_err();
        assert_eq!((e.kind(), e.error_code()), (ErrorKind::Api, Some(code)), "{soql}: {e}");
        assert!(!e.message().is_empty());
    }
    let e = collect(&env, QueryRequest::new("SELECT Nope__c FROM Contact")).await.unwrap_err();
    assert!(e.message().contains("Nope__c"), "{}", e.message());
}

#[tokio::test]
async fn query_one_and_query_to_path() {
    let env = env(30).await;
    let all = collect(&env, QueryRequest::new("SELECT Id, LastName FROM Contact")).await.unwrap();
    let id = id_of(&all[3]);
    let one = env.client.query_one(&env.key, "SELECT Id, LastName FROM Contact WHERE Id = :id",
        &Params::new().with("id", id.as_str()).unwrap()).await.unwrap().unwrap();
    assert_eq!(one["LastName"], all[3]["LastName"]);
    let e = env.client.query_one(&env.key, "SELECT Id FROM Contact", &Params::new()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.ndjson");
    let summary = env.client.query_to_path(&env.key, QueryRequest::new("SELECT Id FROM Contact"), ExportFormat::Ndjson, &path, None)
        .await.unwrap();
    assert_eq!(summary.records, 30);
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 30);
    // A failing query leaves no file behind.
    let bad = dir.path().join("bad.csv");
    assert!(env.client.query_to_path(&env.key, QueryRequest::new("SELECT Nope__c FROM Contact"), ExportFormat::Csv, &bad, None)
        .await.is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[tokio::test]
async fn datetimes_with_offsets_and_polymorphic_or_compound_columns() {
    let env = env(20).await;
    // A bound datetime (rendered in UTC) and a literal with a `+` offset (sent percent-encoded).
    let t = BindValue::parse_typed("datetime", "1990-01-01T05:00:00+05:00").unwrap();
    let soql = "SELECT Id FROM Contact WHERE CreatedDate > :t AND CreatedDate < 2999-01-01T00:00:00+05:00";
    let got = collect(&env, QueryRequest::new(soql).params(Params::new().with("t", t).unwrap())).await.unwrap();
    assert_eq!(got.len(), 20);

    // TYPEOF and a compound address are one CSV column each, holding JSON objects.
    let soql = "SELECT Id, TYPEOF What WHEN Account THEN Name ELSE Name END FROM Task WHERE What.Type = 'Account' LIMIT 2";
    let mut out = Vec::new();
    env.client.query_to_writer(&env.key, QueryRequest::new(soql), ExportFormat::Csv, &mut out, None).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("Id,What"));
    let row = lines.next().expect("a Task on an Account");
    // The cell keeps its record's sObject type (`attributes.type`), not its url.
    assert!(row.contains(",\"{\"\"attributes\"\":{\"\"type\"\":\"\"Account\"\"},\"\"Name\"\":"), "{text}");
    assert!(!row.contains("/sobjects/"), "{text}");
    let mut out = Vec::new();
    let soql = "SELECT Id, BillingAddress FROM Account LIMIT 1";
    env.client.query_to_writer(&env.key, QueryRequest::new(soql), ExportFormat::Csv, &mut out, None).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("Id,BillingAddress\r\n"), "{text}");
    assert!(text.contains("\"{\"\"") && !text.contains("[object Object]"), "{text}");
}
