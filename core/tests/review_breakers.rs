//! Reviewer's regression tests (issue 2 review): cases the other suites did not pin down.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use sf_org_emulator::{EmulatorConfig, Endpoint, Fault, FaultKind};
use sfcrm_core::export::{PageRequest, Record};
use support::Env;

async fn env_with(contacts: usize) -> Env {
    let ecfg = EmulatorConfig { contacts, deals: 10, notes: 10, ..EmulatorConfig::default() };
    let env = Env::start_with(ecfg, |b| b.count_cache_ttl(Duration::from_secs(600))).await;
    env.emu.control().reset_counters();
    env
}

fn url_ids(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["attributes"]["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned())
        .collect()
}

const SESSION_401: &str = r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;

/// A session that expires while `export_page` follows `nextRecordsUrl` (no limit, 5000 records in
/// 2000-row batches) must not fail the page: the locator died with the session, so the page
/// continues by keyset after the last record received; every record once, one refresh.
#[tokio::test]
async fn a_session_expiry_inside_a_multi_batch_page_loses_and_repeats_nothing() {
    let env = env_with(5_000).await;
    let reference = env.client.export_page_by_type(&env.key, "contacts", PageRequest { page: 1, limit: None }).await.unwrap();
    assert_eq!(reference.data.len(), 5_000);
    env.emu.control().reset_counters();
    env.emu.control().add_fault(Fault {
        endpoint: Endpoint::QueryMore,
        count: 1,
        kind: FaultKind::Custom { status: 401, body: SESSION_401.into(), content_type: Some("application/json".into()) },
    });
    let p = env.client.export_page_by_type(&env.key, "contacts", PageRequest { page: 1, limit: None }).await.unwrap();
    assert_eq!(p.data.len(), 5_000);
    assert_eq!(url_ids(&p.data).into_iter().collect::<HashSet<_>>().len(), 5_000);
    assert!(p.data == reference.data, "same records, same order");
    assert_eq!(env.emu.control().counters().token_refresh_token, 1);

    // Same for a page larger than one batch, deep enough to use a keyset anchor.
    env.emu.control().add_fault(Fault {
        endpoint: Endpoint::QueryMore,
        count: 1,
        kind: FaultKind::Custom { status: 401, body: SESSION_401.into(), content_type: Some("application/json".into()) },
    });
    let p2 = env.client.export_page_by_type(&env.key, "contacts", PageRequest { page: 2, limit: Some(2500) }).await.unwrap();
    assert!(p2.data == reference.data[2500..], "page 2 of 2500 equals the slice");
}

// ---- scripted exchanges -------------------------------------------------------------------------

use std::sync::Arc;

use sfcrm_core::export::{ExportFormat, ExportRequest, ExportSpec};
use sfcrm_core::{Client, ConnectionKey, MemoryStore};
use support::{Recorded, ScriptedServer, Step, seed_connection};

const QUERY: &str = "/services/data/v48.0/query";

async fn scripted_client(server: &ScriptedServer) -> (Client, ConnectionKey, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let key = ConnectionKey::new("acc-1", "user-1");
    seed_connection(store.as_ref(), &key, &server.base_url, "00DFAKE!TOKEN1", Some("5AepFAKEREFRESH1")).await;
    let client = Client::new(server.config().build().unwrap(), store.clone()).unwrap();
    (client, key, store)
}

fn soql_of(r: &Recorded) -> String {
    let q = r.path_and_query.split_once('?').map(|x| x.1).unwrap_or("");
    url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "q").map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// A custom, namespaced sObject with a namespaced field, a custom relationship path, an 18-digit
/// amount, a null parent, a zero-children subquery as `null` and a COUNT() whose `records` is
/// `null` (then `[]`, then absent): the SOQL is built from validated names only, the CSV keeps every
/// digit and writes nulls as empty cells, the NDJSON keeps the records as sent.
#[tokio::test]
async fn custom_namespaced_sobject_exports_exactly() {
    let inv = |n: u32, amount: &str, parent: &str| {
        format!(
            r#"{{"attributes":{{"type":"ns__Invoice__c","url":"/services/data/v48.0/sobjects/ns__Invoice__c/a01{n:012}AAA"}},"Id":"a01{n:012}AAA","ns__Total__c":{amount},"Account__r":{parent},"Name":"INV-{n}"}}"#
        )
    };
    let acct = r#"{"attributes":{"type":"Account","url":"/services/data/v48.0/sobjects/Account/001000000000001AAA"},"Name":"Acme, \"Intl\""}"#;
    let body = format!(
        r#"{{"totalSize":2,"done":true,"records":[{},{}]}}"#,
        inv(1, "123456789012345678", acct),
        inv(2, "null", "null")
    );
    let count_bodies = [
        r#"{"totalSize":2,"done":true,"records":null}"#,
        r#"{"totalSize":2,"done":true,"records":[]}"#,
        r#"{"totalSize":2,"done":true}"#,
    ];
    for count_body in count_bodies {
        let server = ScriptedServer::start(vec![
            Step::new("GET", QUERY, 200, &body),
            Step::new("GET", QUERY, 200, &body),
            Step::new("GET", QUERY, 200, count_body),
            Step::new("GET", QUERY, 200, &body),
        ])
        .await;
        let (client, key, _) = scripted_client(&server).await;
        let spec = ExportSpec::custom("ns__Invoice__c", &["ns__Total__c", "Account__r.Name", "Name"]).unwrap();
        let mut csv = Vec::new();
        let s = client
            .export_to_writer(&key, ExportRequest::new(spec.clone()), ExportFormat::Csv, &mut csv, None)
            .await
            .unwrap();
        assert_eq!(s.records, 2);
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "Id,ns__Total__c,Account__r.Name,Name\r\n\
             a01000000000001AAA,123456789012345678,\"Acme, \"\"Intl\"\"\",INV-1\r\n\
             a01000000000002AAA,,,INV-2\r\n"
        );
        let mut nd = Vec::new();
        client.export_to_writer(&key, ExportRequest::new(spec.clone()), ExportFormat::Ndjson, &mut nd, None).await.unwrap();
        let nd = String::from_utf8(nd).unwrap();
        assert!(nd.starts_with(r#"{"Id":"a01000000000001AAA","ns__Total__c":123456789012345678,"Account__r":{"Name":"Acme, \"Intl\""},"Name":"INV-1"}"#), "{nd}");
        assert!(nd.contains(r#"{"Id":"a01000000000002AAA","ns__Total__c":null,"Account__r":null,"Name":"INV-2"}"#), "{nd}");
        let p = client.export_page(&key, &spec, sfcrm_core::export::PageRequest { page: 1, limit: Some(10) }).await.unwrap();
        assert_eq!(p.data.len(), 2, "{count_body}");
        assert_eq!(p.pagination.total, 2);
        let reqs = server.requests();
        assert_eq!(reqs.len(), 4, "{reqs:?}");
        assert_eq!(soql_of(&reqs[0]), "SELECT Id, ns__Total__c, Account__r.Name, Name FROM ns__Invoice__c ORDER BY Id ASC");
        assert_eq!(soql_of(&reqs[2]), "SELECT COUNT() FROM ns__Invoice__c");
        assert_eq!(soql_of(&reqs[3]), "SELECT ns__Total__c, Account__r.Name, Name FROM ns__Invoice__c ORDER BY Id ASC LIMIT 10");
    }
}

/// A token response without `issued_at` (it is optional in practice) still parses; the SDK stamps
/// the time it received it, in milliseconds since the epoch, as a string like Salesforce's.
#[test]
fn a_token_response_without_issued_at_gets_the_receipt_time_in_ms() {
    use sfcrm_core::protocol::TokenResponse;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let t = TokenResponse::from_json(&serde_json::json!({"access_token":"00DFAKE!TOKEN2","instance_url":"https://acme.my.salesforce.example","token_type":"Bearer"}))
        .unwrap();
    let issued: u64 = t.issued_at.parse().expect("issued_at is a decimal ms string");
    assert!(issued >= now && issued < now + 60_000, "{issued} vs {now}");
    assert!(t.refresh_token.is_none());
}

fn contact_no_id(n: u32) -> String {
    format!(
        r#"{{"attributes":{{"type":"Contact","url":"/services/data/v48.0/sobjects/Contact/003{n:012}AAA"}},"Name":"Contact {n}"}}"#
    )
}

/// salesforce-api.md §4 leaves open whether an OFFSET query returns only its first batch (as SOSL
/// does). If it stops short (`done:true` with fewer rows than LIMIT while the COUNT says more
/// exist), the page continues by keyset after the last row instead of coming back short.
#[tokio::test]
async fn an_offset_query_that_stops_after_its_first_batch_is_completed_by_keyset() {
    let rows = |r: std::ops::RangeInclusive<u32>| r.map(contact_no_id).collect::<Vec<_>>().join(",");
    let server = ScriptedServer::start(vec![
        Step::new("GET", QUERY, 200, r#"{"totalSize":10,"done":true,"records":[]}"#),
        Step::new("GET", QUERY, 200, &format!(r#"{{"totalSize":2,"done":true,"records":[{}]}}"#, rows(5..=6))),
        Step::new("GET", QUERY, 200, &format!(r#"{{"totalSize":2,"done":true,"records":[{}]}}"#, rows(7..=8))),
    ])
    .await;
    let (client, key, _) = scripted_client(&server).await;
    let spec = ExportSpec::custom("Contact", &["Name"]).unwrap();
    let p = client.export_page(&key, &spec, sfcrm_core::export::PageRequest { page: 2, limit: Some(4) }).await.unwrap();
    let names: Vec<&str> = p.data.iter().map(|r| r["Name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Contact 5", "Contact 6", "Contact 7", "Contact 8"]);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3, "{reqs:?}");
    assert_eq!(soql_of(&reqs[1]), "SELECT Name FROM Contact ORDER BY Id ASC LIMIT 4 OFFSET 4");
    assert_eq!(soql_of(&reqs[2]), "SELECT Name FROM Contact WHERE Id > '003000000000006AAA' ORDER BY Id ASC LIMIT 2");
    assert_eq!(p.api_calls, 3);
}

/// The host's store is the SDK's refresh "event": field case BR-02 wants it to fire once with the
/// new token. Exactly one save carries `00DFAKE!TOKEN2` (the lease save before it still holds
/// TOKEN1), and nothing is saved after it for this one call.
#[tokio::test]
async fn br_02_the_store_sees_the_new_token_exactly_once() {
    use futures_util::future::BoxFuture;
    use sfcrm_core::store::{ConnectionDocument, SaveOutcome, TokenStore};
    use std::sync::Mutex;

    struct Recording {
        inner: MemoryStore,
        saved: Mutex<Vec<String>>,
    }
    impl TokenStore for Recording {
        fn load<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, sfcrm_core::Result<Option<ConnectionDocument>>> {
            self.inner.load(key)
        }
        fn save<'a>(&'a self, doc: &'a ConnectionDocument, expected: Option<u64>) -> BoxFuture<'a, sfcrm_core::Result<SaveOutcome>> {
            self.saved.lock().unwrap().push(doc.token.access_token.expose().to_owned());
            self.inner.save(doc, expected)
        }
        fn delete<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, sfcrm_core::Result<bool>> {
            self.inner.delete(key)
        }
    }

    let server = ScriptedServer::start(vec![]).await;
    let store = Arc::new(Recording { inner: MemoryStore::new(), saved: Mutex::new(Vec::new()) });
    let key = ConnectionKey::new("acc-1", "user-1");
    seed_connection(&store.inner, &key, &server.base_url, "00DFAKE!TOKEN1", Some("5AepFAKEREFRESH1")).await;
    let client = Client::new(server.config().build().unwrap(), store.clone()).unwrap();
    let token = format!(
        r#"{{"access_token":"00DFAKE!TOKEN2","signature":"c2lnMg==","scope":"api refresh_token","instance_url":"{}","id":"https://login.example/id/00D000000000001EAA/005000000000001AAA","token_type":"Bearer","issued_at":"1732953600000"}}"#,
        server.base_url
    );
    server.push(vec![
        Step::new("GET", QUERY, 401, SESSION_401),
        Step::new("POST", "/services/oauth2/token", 200, &token),
        Step::new("GET", QUERY, 200, r#"{"totalSize":0,"done":true,"records":[]}"#),
    ]);
    client.query_page(&key, "SELECT Id FROM Account", &Default::default()).await.unwrap();
    let saved = store.saved.lock().unwrap().clone();
    assert_eq!(saved.iter().filter(|t| *t == "00DFAKE!TOKEN2").count(), 1, "{saved:?}");
    assert_eq!(saved.last().map(String::as_str), Some("00DFAKE!TOKEN2"), "{saved:?}");
}
