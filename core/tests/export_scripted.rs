//! Export behaviours where the exact exchange matters, against a scripted loopback server:
//! field cases BR-06 (uneven batches), BR-08 (OFFSET error), BR-12 (`+0000` datetimes, `+` in a
//! literal), the keyset/hop queries of deep pages, and the restart after a dead query locator.

mod support;

use std::sync::Arc;

use serde_json::Value;
use sfcrm_core::export::{ExportFormat, ExportRequest, ExportSpec, PageRequest, RecordWriter};
use sfcrm_core::soql::{FieldPath, SObjectName, SoqlDateTime, SoqlQuery};
use sfcrm_core::{Client, ConnectionKey, ErrorKind, MemoryStore, QueryOptions};
use support::{Recorded, ScriptedServer, Step, seed_connection};

const QUERY: &str = "/services/data/v48.0/query";

fn id(n: u32) -> String {
    format!("003{n:012}AAA")
}

/// A Contact as Salesforce returns it for `SELECT Id, Name …` (or without Id for the seed's lists).
fn contact(n: u32, with_id: bool) -> String {
    let idf = if with_id { format!(r#""Id":"{}","#, id(n)) } else { String::new() };
    format!(
        r#"{{"attributes":{{"type":"Contact","url":"/services/data/v48.0/sobjects/Contact/{}"}},{idf}"Name":"Contact {n}"}}"#,
        id(n)
    )
}

fn page(total: u64, records: &[String], next: Option<&str>) -> String {
    match next {
        Some(u) => format!(r#"{{"totalSize":{total},"done":false,"nextRecordsUrl":"{u}","records":[{}]}}"#, records.join(",")),
        None => format!(r#"{{"totalSize":{total},"done":true,"records":[{}]}}"#, records.join(",")),
    }
}

/// The decoded `q` parameter of a recorded request.
fn soql_of(r: &Recorded) -> String {
    let q = r.path_and_query.split_once('?').map(|x| x.1).unwrap_or("");
    url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "q").map(|(_, v)| v.into_owned()).unwrap_or_default()
}

async fn client_for(server: &ScriptedServer) -> (Client, ConnectionKey) {
    let store = Arc::new(MemoryStore::new());
    let key = ConnectionKey::new("acc-1", "user-1");
    seed_connection(store.as_ref(), &key, &server.base_url, "00DFAKE!TOKEN1", Some("5AepFAKEREFRESH1")).await;
    let client = Client::new(server.config().build().unwrap(), store).unwrap();
    (client, key)
}

fn names(records: &[sfcrm_core::export::Record]) -> Vec<String> {
    records.iter().map(|r| r["Name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn br06_stream_follows_uneven_batches_and_never_finishes_on_a_short_page() {
    let more2 = "/services/data/v59.0/query/01gFAKE000000001AA-2";
    let more4 = "/services/data/v59.0/query/01gFAKE000000001AA-4";
    let server = ScriptedServer::start(vec![
        Step::new("GET", QUERY, 200, &page(5, &[contact(1, true), contact(2, true)], Some(more2))),
        Step::new("GET", more2, 200, &page(5, &[contact(3, true), contact(4, true)], Some(more4))),
        Step::new("GET", more4, 200, &page(5, &[contact(5, true)], None)),
    ])
    .await;
    let (client, key) = client_for(&server).await;
    let spec = ExportSpec::custom("Contact", &["Name"]).unwrap();
    let mut stream = client.export_stream(&key, ExportRequest::new(spec).batch_size(2000));
    let mut sizes = Vec::new();
    let mut all = Vec::new();
    while let Some(b) = stream.next_batch().await.unwrap() {
        sizes.push(b.records.len());
        all.extend(b.to_records().unwrap());
    }
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(names(&all), ["Contact 1", "Contact 2", "Contact 3", "Contact 4", "Contact 5"]);
    assert!(stream.next_batch().await.unwrap().is_none());
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3, "exactly 3 GETs, none after done=true: {reqs:?}");
    assert!(reqs.iter().all(|r| r.matched));
    // Locators are used as given (relative to the instance, no version rewrite).
    assert_eq!(reqs[1].path_and_query, more2);
    assert_eq!(reqs[2].path_and_query, more4);
    assert_eq!(soql_of(&reqs[0]), "SELECT Id, Name FROM Contact ORDER BY Id ASC");
    assert_eq!(reqs[0].headers.get("sforce-query-options").map(String::as_str), Some("batchSize=2000"));
    let p = stream.progress();
    assert_eq!((p.records, p.batches, p.total_size), (5, 3, Some(5)));
    assert_eq!(stream.api_calls(), 3);
    assert_eq!(stream.checkpoint().last_id(), Some(id(5).as_str()));
}

#[tokio::test]
async fn br06_page_larger_than_one_batch_follows_next_records_url() {
    let more2 = "/services/data/v48.0/query/01gFAKE000000002AA-2";
    let more4 = "/services/data/v48.0/query/01gFAKE000000002AA-4";
    let server = ScriptedServer::start(vec![
        Step::new("GET", QUERY, 200, r#"{"totalSize":5,"done":true,"records":[]}"#),
        Step::new("GET", QUERY, 200, &page(5, &[contact(1, false), contact(2, false)], Some(more2))),
        Step::new("GET", more2, 200, &page(5, &[contact(3, false), contact(4, false)], Some(more4))),
        Step::new("GET", more4, 200, &page(5, &[contact(5, false)], None)),
    ])
    .await;
    let (client, key) = client_for(&server).await;
    let spec = ExportSpec::custom("Contact", &["Name"]).unwrap();
    let p = client.export_page(&key, &spec, PageRequest { page: 1, limit: Some(5) }).await.unwrap();
    assert_eq!(names(&p.data), ["Contact 1", "Contact 2", "Contact 3", "Contact 4", "Contact 5"]);
    assert_eq!(p.api_calls, 4);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4);
    assert_eq!(soql_of(&reqs[0]), "SELECT COUNT() FROM Contact");
    assert_eq!(soql_of(&reqs[1]), "SELECT Name FROM Contact ORDER BY Id ASC LIMIT 5");
    // The body is the seed's, records untouched (attributes kept, no Id added).
    let body = p.to_seed_json();
    assert_eq!(body["success"], Value::Bool(true));
    assert_eq!(body["message"], "SUCCESS");
    assert_eq!(body["data"][0], serde_json::from_str::<Value>(&contact(1, false)).unwrap());
    assert_eq!(
        body["pagination"],
        serde_json::json!({"page":1,"per_page":5,"total":5,"total_pages":1,"next_page":null,"prev_page":null,"offsetValue":0})
    );
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["success", "message", "data", "pagination"]);
}

#[tokio::test]
async fn deep_pages_hop_by_keyset_and_never_send_offset_above_2000() {
    let a = id(2001); // the record at index 2000
    let b = id(4002); // the record at index 4001
    let page60: Vec<String> = (5901..=6000).map(|n| contact(n, false)).collect();
    let page61: Vec<String> = (6001..=6100).map(|n| contact(n, false)).collect();
    let page59: Vec<String> = (5801..=5900).map(|n| contact(n, false)).collect();
    let server = ScriptedServer::start(vec![
        Step::new("GET", QUERY, 200, r#"{"totalSize":10000,"done":true,"records":[]}"#),
        Step::new("GET", QUERY, 200, &page(1, &[contact(2001, true)], None)),
        Step::new("GET", QUERY, 200, &page(1, &[contact(4002, true)], None)),
        Step::new("GET", QUERY, 200, &page(100, &page60, None)),
        Step::new("GET", QUERY, 200, &page(100, &page61, None)),
        Step::new("GET", QUERY, 200, &page(100, &page59, None)),
    ])
    .await;
    let (client, key) = client_for(&server).await;
    let spec = ExportSpec::custom("Contact", &["Name"]).unwrap();

    // Cold page 60 of 100: COUNT + 2 hops + 1 data query.
    let p60 = client.export_page(&key, &spec, PageRequest { page: 60, limit: Some(100) }).await.unwrap();
    assert_eq!(p60.data.len(), 100);
    assert_eq!(p60.api_calls, 4);
    assert_eq!(p60.pagination.offset_value, 5900);
    // Page 61 continues from the anchor page 60 left: 1 query, no OFFSET.
    let p61 = client.export_page(&key, &spec, PageRequest { page: 61, limit: Some(100) }).await.unwrap();
    assert_eq!(p61.api_calls, 1);
    assert_eq!(names(&p61.data)[0], "Contact 6001");
    // Page 59 starts 1798 records after the second hop's anchor: 1 query.
    let p59 = client.export_page(&key, &spec, PageRequest { page: 59, limit: Some(100) }).await.unwrap();
    assert_eq!(p59.api_calls, 1);

    let q: Vec<String> = server.requests().iter().map(soql_of).collect();
    assert_eq!(
        q,
        [
            "SELECT COUNT() FROM Contact".to_owned(),
            "SELECT Id FROM Contact ORDER BY Id ASC LIMIT 1 OFFSET 2000".to_owned(),
            format!("SELECT Id FROM Contact WHERE Id > '{a}' ORDER BY Id ASC LIMIT 1 OFFSET 2000"),
            format!("SELECT Name FROM Contact WHERE Id > '{b}' ORDER BY Id ASC LIMIT 100 OFFSET 1898"),
            format!("SELECT Name FROM Contact WHERE Id > '{}' ORDER BY Id ASC LIMIT 100", id(6000)),
            format!("SELECT Name FROM Contact WHERE Id > '{b}' ORDER BY Id ASC LIMIT 100 OFFSET 1798"),
        ]
    );
    assert_eq!(server.remaining(), 0);
}

#[tokio::test]
async fn br08_offset_error_is_kept_after_one_request() {
    let body = r#"[{"message":"Maximum SOQL offset allowed for apiName Contact is 2000","errorCode":"NUMBER_OUTSIDE_VALID_RANGE"}]"#;
    let server = ScriptedServer::start(vec![Step::new("GET", QUERY, 400, body)]).await;
    let (client, key) = client_for(&server).await;
    let err = client
        .query_page(&key, "SELECT Id FROM Contact ORDER BY Id LIMIT 200 OFFSET 2200", &QueryOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.error_code(), Some("NUMBER_OUTSIDE_VALID_RANGE"));
    assert_eq!(err.message(), "Maximum SOQL offset allowed for apiName Contact is 2000");
    assert_eq!(server.requests().len(), 1, "a 4xx is not retried");
    // The SDK's own builder never produces that query.
    let q = SoqlQuery::new(SObjectName::new("Contact").unwrap()).select(FieldPath::new("Id").unwrap()).limit(200).offset(2200);
    assert_eq!(q.to_soql().unwrap_err().kind(), ErrorKind::InvalidArgument);
}

#[tokio::test]
async fn br12_plus0000_datetimes_are_kept_and_plus_is_percent_encoded() {
    let event = r#"{"attributes":{"type":"Event","url":"/services/data/v48.0/sobjects/Event/00U000000000001AAA"},"Subject":"Demo for Jane Roe","CreatedDate":"2016-05-06T15:57:34.000+0000","LastModifiedDate":"2024-02-29T23:59:59.999+0000","ActivityDate":"2024-03-01"}"#;
    let server = ScriptedServer::start(vec![
        Step::new("GET", QUERY, 200, r#"{"totalSize":1,"done":true,"records":[]}"#),
        Step::new("GET", QUERY, 200, &page(1, &[event.to_owned()], None)),
        Step::new("GET", QUERY, 200, r#"{"totalSize":0,"done":true,"records":[]}"#),
        Step::new("GET", QUERY, 200, r#"{"totalSize":0,"done":true,"records":[]}"#),
    ])
    .await;
    let (client, key) = client_for(&server).await;
    let spec = ExportSpec::custom("Event", &["Subject", "CreatedDate", "LastModifiedDate", "ActivityDate"]).unwrap();
    let p = client.export_page(&key, &spec, PageRequest { page: 1, limit: None }).await.unwrap();
    let r = &p.data[0];
    assert_eq!(r["CreatedDate"], "2016-05-06T15:57:34.000+0000");
    assert_eq!(SoqlDateTime::parse(r["CreatedDate"].as_str().unwrap()).unwrap().to_soql(), "2016-05-06T15:57:34Z");
    let lm = SoqlDateTime::parse(r["LastModifiedDate"].as_str().unwrap()).unwrap();
    assert_eq!(lm.to_soql(), "2024-02-29T23:59:59.999Z");
    assert_eq!(r["ActivityDate"], "2024-03-01");
    let mut w = RecordWriter::new(ExportFormat::Ndjson, Vec::new(), &[]).unwrap();
    w.write_record(r).unwrap();
    let line = String::from_utf8(w.finish().unwrap()).unwrap();
    assert!(line.contains(r#""CreatedDate":"2016-05-06T15:57:34.000+0000""#) && line.contains(r#""ActivityDate":"2024-03-01""#));

    // A datetime literal with '+' goes out as %2B (never a space).
    client
        .query_page(&key, "SELECT Id FROM Account WHERE LastModifiedDate >= 2013-12-01T12:00:00+00:00", &QueryOptions::default())
        .await
        .unwrap();
    // `since` given with an offset is normalised to UTC in the SOQL.
    let mut s = client.export_stream(
        &key,
        ExportRequest::new(ExportSpec::custom("Account", &["Name"]).unwrap()).since("2013-12-01T13:00:00+01:00"),
    );
    assert!(s.next_batch().await.unwrap().is_none());
    let reqs = server.requests();
    let raw = reqs[2].raw_query_param("q").unwrap();
    assert!(raw.contains("%2B00%3A00") && !raw.contains('+'), "{raw}");
    assert_eq!(soql_of(&reqs[2]), "SELECT Id FROM Account WHERE LastModifiedDate >= 2013-12-01T12:00:00+00:00");
    assert_eq!(
        soql_of(&reqs[3]),
        "SELECT Id, SystemModstamp, Name FROM Account WHERE SystemModstamp >= 2013-12-01T12:00:00Z ORDER BY SystemModstamp ASC, Id ASC"
    );
}

fn token_response(base: &str, access: &str) -> String {
    format!(
        r#"{{"access_token":"{access}","signature":"c2lnMg==","scope":"api refresh_token","instance_url":"{base}","id":"{base}/id/00D000000000001EAA/005000000000001AAA","token_type":"Bearer","issued_at":"1732953600000"}}"#
    )
}

#[tokio::test]
async fn stream_restarts_by_keyset_when_the_locator_dies_with_the_session() {
    let more = "/services/data/v48.0/query/01gFAKE000000003AA-2";
    let expired = r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
    let server = ScriptedServer::start(vec![
        Step::new("GET", QUERY, 200, &page(5, &[contact(1, true), contact(2, true)], Some(more))),
        Step::new("GET", more, 401, expired),
    ])
    .await;
    server.push(vec![
        Step::new("POST", "/services/oauth2/token", 200, &token_response(&server.base_url, "00DFAKE!TOKEN2")),
        Step::new("GET", QUERY, 200, &page(3, &[contact(3, true), contact(4, true), contact(5, true)], None)),
    ]);
    let (client, key) = client_for(&server).await;
    let spec = ExportSpec::custom("Contact", &["Name"]).unwrap();
    let mut stream = client.export_stream(&key, ExportRequest::new(spec));
    let mut all = Vec::new();
    while let Some(b) = stream.next_batch().await.unwrap() {
        all.extend(b.to_records().unwrap());
    }
    assert_eq!(names(&all), ["Contact 1", "Contact 2", "Contact 3", "Contact 4", "Contact 5"]);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4, "{reqs:?}");
    assert_eq!(soql_of(&reqs[3]), format!("SELECT Id, Name FROM Contact WHERE Id > '{}' ORDER BY Id ASC", id(2)));
    assert_eq!(reqs[3].headers["authorization"], "Bearer 00DFAKE!TOKEN2");
    assert_eq!(stream.progress().total_size, Some(5));
}

#[tokio::test]
async fn a_restart_that_fails_again_propagates() {
    let more = "/services/data/v48.0/query/01gFAKE000000004AA-2";
    let expired = r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
    let server = ScriptedServer::start(vec![
        Step::new("GET", QUERY, 200, &page(5, &[contact(1, true), contact(2, true)], Some(more))),
        Step::new("GET", more, 401, expired),
    ])
    .await;
    server.push(vec![
        Step::new("POST", "/services/oauth2/token", 200, &token_response(&server.base_url, "00DFAKE!TOKEN2")),
        Step::new("GET", QUERY, 400, r#"[{"message":"sObject type 'Contact' is not supported.","errorCode":"INVALID_TYPE"}]"#),
    ]);
    let (client, key) = client_for(&server).await;
    let mut stream = client.export_stream(&key, ExportRequest::new(ExportSpec::custom("Contact", &["Name"]).unwrap()));
    assert_eq!(stream.next_batch().await.unwrap().unwrap().records.len(), 2);
    let err = stream.next_batch().await.unwrap_err();
    assert_eq!(err.error_code(), Some("INVALID_TYPE"));
    // The checkpoint still points after the last delivered record, for a later resume.
    assert_eq!(stream.checkpoint().last_id(), Some(id(2).as_str()));
    assert!(stream.next_batch().await.unwrap().is_none());
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn an_incremental_resume_reads_tied_records_then_later_ones_without_or() {
    let t = "2024-05-01T10:00:00.000+0000";
    let rec = |n: u32, stamp: &str| {
        format!(
            r#"{{"attributes":{{"type":"Contact","url":"/services/data/v48.0/sobjects/Contact/{0}"}},"Id":"{0}","SystemModstamp":"{stamp}","Name":"Contact {n}"}}"#,
            id(n)
        )
    };
    let server = ScriptedServer::start(vec![
        Step::new("GET", QUERY, 200, &page(1, &[rec(7, t)], None)),
        Step::new("GET", QUERY, 200, &page(2, &[rec(3, "2024-05-01T10:00:00.001+0000"), rec(1, "2024-05-02T00:00:00.000+0000")], None)),
    ])
    .await;
    let (client, key) = client_for(&server).await;
    let spec = ExportSpec::custom("Contact", &["Name"]).unwrap();
    // A checkpoint taken after Contact 5 at time t, 10 records into an export since 2024-01-01.
    let cp_json = format!(r#"{{"v":1,"sobject":"Contact","since":"2024-01-01T00:00:00.000+0000","last_id":"{}","last_modstamp":"{t}","records":10}}"#, id(5));
    use base64::Engine;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(cp_json);
    let cp = sfcrm_core::export::Checkpoint::from_token(&token).unwrap();
    let mut s = client.export_stream(&key, ExportRequest::new(spec).since("2024-01-01T00:00:00Z").resume_from(cp));
    let mut all = Vec::new();
    while let Some(b) = s.next_batch().await.unwrap() {
        all.extend(b.to_records().unwrap());
    }
    assert_eq!(names(&all), ["Contact 7", "Contact 3", "Contact 1"]);
    let q: Vec<String> = server.requests().iter().map(soql_of).collect();
    let head = "SELECT Id, SystemModstamp, Name FROM Contact WHERE SystemModstamp >= 2024-01-01T00:00:00Z AND";
    let order = "ORDER BY SystemModstamp ASC, Id ASC";
    assert_eq!(
        q,
        [
            format!("{head} SystemModstamp = 2024-05-01T10:00:00Z AND Id > '{}' {order}", id(5)),
            format!("{head} SystemModstamp > 2024-05-01T10:00:00Z {order}"),
        ]
    );
    let p = s.progress();
    assert_eq!((p.records, p.total_size), (13, Some(13)));
    let end = s.checkpoint();
    assert_eq!(end.last_modstamp(), Some("2024-05-02T00:00:00.000+0000"));
    assert_eq!(end.records(), 13);
}
