//! `*` and `FIELDS(ALL | STANDARD | CUSTOM)` in queries against the org emulator (issue 11 item
//! 5, queries): expanded from describe by the export's compound rule; `Wide_Object__c` (409
//! selectable fields, 250 rows) read in field groups joined by Id and equal to the every-field
//! export; mixed lists in place without duplicates; STANDARD + CUSTOM = ALL; no `LIMIT 200`;
//! resume from a checkpoint; the typed error when the expanded query cannot be split.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use sf_org_emulator::EmulatorConfig;
use sfcrm_core::export::{ExportRequest, ExportSpec, QueryRequest, Record};
use sfcrm_core::{ErrorKind, Result};
use support::Env;

async fn env(contacts: usize) -> Env {
    let ecfg = EmulatorConfig { contacts, deals: 5, notes: 5, ..EmulatorConfig::default() };
    let env = Env::start_with(ecfg, |b| b.describe_cache_ttl(Duration::from_secs(600))).await;
    env.emu.control().reset_counters();
    env
}

async fn query(env: &Env, request: QueryRequest) -> Result<Vec<Record>> {
    let mut s = env.client.query_stream(&env.key, request);
    let mut out = Vec::new();
    while let Some(b) = s.next_batch().await? {
        out.extend(b.to_records()?);
    }
    Ok(out)
}

fn keys(r: &Record) -> Vec<&str> {
    r.keys().filter(|k| *k != "attributes").map(String::as_str).collect()
}

#[tokio::test]
async fn fields_all_of_the_wide_object_equals_the_every_field_export() {
    let env = env(20).await;
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(ExportSpec::all_fields("Wide_Object__c").unwrap()));
    let mut exported = Vec::new();
    while let Some(b) = s.next_batch().await.unwrap() {
        exported.extend(b.to_records().unwrap());
    }
    assert_eq!(exported.len(), 250);
    env.emu.control().reset_counters();

    let mut q = env.client.query_stream(&env.key, QueryRequest::new("SELECT FIELDS(ALL) FROM Wide_Object__c"));
    assert!(q.fields().is_empty(), "not expanded before it starts");
    q.ready().await.unwrap();
    assert_eq!(q.fields().len(), 409, "410 fields but the compound Location__c");
    let mut queried = Vec::new();
    while let Some(b) = q.next_batch().await.unwrap() {
        queried.extend(b.to_records().unwrap());
    }
    assert_eq!(queried, exported, "record by record, key order included");
    let c = env.emu.control().counters();
    assert_eq!((c.uri_too_long, c.describe), (0, 0), "the export's describe is cached; no 414");
    assert!(c.query >= 2, "field groups joined by Id: {} queries", c.query);
    assert_eq!(c.query + c.query_more, q.api_calls());
    assert_eq!(q.progress().total_size, Some(250));

    // `*` with a WHERE and bind values: the same records, filtered, in every group.
    let names: Vec<String> = exported[..40].iter().map(|r| r["Name"].as_str().unwrap().to_string()).collect();
    let params = sfcrm_core::soql::Params::new().with("names", names).unwrap();
    let got = query(&env, QueryRequest::new("SELECT * FROM Wide_Object__c WHERE Name IN :names").params(params)).await.unwrap();
    let want: Vec<&Record> = exported.iter().filter(|r| got.iter().any(|g| g["Id"] == r["Id"])).collect();
    assert!(got.len() >= 40, "{}", got.len());
    assert_eq!(got.iter().collect::<Vec<_>>(), want);
}

#[tokio::test]
async fn standard_and_custom_split_the_fields_and_a_mixed_list_expands_in_place() {
    let env = env(20).await;
    let d = env.client.describe(&env.key, "Wide_Object__c").await.unwrap();
    let standard = query(&env, QueryRequest::new("SELECT FIELDS(STANDARD) FROM Wide_Object__c")).await.unwrap();
    let want_standard: Vec<&str> = d.all_fields().iter().filter(|f| !f.custom).map(|f| f.name.as_str()).collect();
    assert_eq!(keys(&standard[0]), want_standard);
    assert_eq!(want_standard.len(), 7);
    let custom = query(&env, QueryRequest::new("SELECT Id, FIELDS(CUSTOM) FROM Wide_Object__c")).await.unwrap();
    assert_eq!(keys(&custom[0]).len(), 1 + 402, "Id, the location's components and 400 custom fields");
    assert!(keys(&custom[0]).iter().skip(1).all(|k| k.ends_with("__c") || k.ends_with("__s")));
    assert_eq!((standard.len(), custom.len()), (250, 250));
    let all = query(&env, QueryRequest::new("SELECT FIELDS(ALL) FROM Wide_Object__c")).await.unwrap();
    for ((s, c), a) in standard.iter().zip(&custom).zip(&all) {
        let mut union: HashSet<&str> = keys(s).into_iter().collect();
        union.extend(keys(c));
        assert_eq!(union, keys(a).into_iter().collect::<HashSet<_>>());
        assert!(keys(a).iter().all(|k| &a[*k] == if s.contains_key(*k) { &s[*k] } else { &c[*k] }));
    }

    // Mixed: Id, then the standard fields but Id and Name (written later), the subquery, Name.
    let soql = "SELECT Id, FIELDS(STANDARD), (SELECT Id, LastName FROM Contacts), name FROM Account";
    let mut q = env.client.query_stream(&env.key, QueryRequest::new(soql));
    q.ready().await.unwrap();
    let account = env.client.describe(&env.key, "Account").await.unwrap();
    let mut want: Vec<String> = vec!["Id".into()];
    want.extend(account.all_fields().iter().filter(|f| !f.custom && f.name != "Id" && f.name != "Name").map(|f| f.name.clone()));
    want.push("Contacts".into());
    want.push("name".into());
    assert_eq!(q.fields().iter().map(|f| f.as_str().to_string()).collect::<Vec<_>>(), want, "columns in place");
    let b = q.next_batch().await.unwrap().unwrap().to_records().unwrap();
    let got: Vec<&str> = keys(&b[0]);
    assert_eq!(got.len(), want.len(), "no field twice: {got:?}");
    assert!(got.iter().any(|k| k.eq_ignore_ascii_case("BillingCity")) && !got.contains(&"BillingAddress"), "{got:?}");
    assert!(b[0]["Contacts"].is_null() || b[0]["Contacts"]["records"].is_array());
}

#[tokio::test]
async fn no_limit_200_resume_from_a_checkpoint_and_the_error_when_it_cannot_split() {
    // Salesforce's own FIELDS(ALL) needs LIMIT 200; the expanded query reads all 450 Contacts.
    let env = env(450).await;
    let all = query(&env, QueryRequest::new("SELECT FIELDS(ALL) FROM Contact")).await.unwrap();
    assert_eq!(all.len(), 450);
    assert!(keys(&all[0]).contains(&"MailingCity") && !keys(&all[0]).contains(&"MailingAddress"));

    // A wide keyset query resumes from a mid-stream checkpoint: every record once.
    env.emu.control().set_batch_size(60);
    let request = QueryRequest::new("SELECT * FROM Wide_Object__c");
    let mut s = env.client.query_stream(&env.key, request.clone());
    let mut records = s.next_batch().await.unwrap().unwrap().to_records().unwrap();
    let cp = s.checkpoint_at(9).unwrap();
    records.truncate(10);
    drop(s);
    records.extend(query(&env, request.resume_from(cp)).await.unwrap());
    let ids: HashSet<&str> = records.iter().map(|r| r["Id"].as_str().unwrap()).collect();
    assert_eq!((records.len(), ids.len()), (250, 250));
    assert_eq!(keys(&records[0]), keys(&records[249]));
    // Another query's checkpoint is refused (the hash binds the text as written).
    let mut s = env.client.query_stream(&env.key, QueryRequest::new("SELECT * FROM Wide_Object__c"));
    s.next_batch().await.unwrap();
    let cp = s.checkpoint();
    let e = query(&env, QueryRequest::new("SELECT FIELDS(ALL) FROM Wide_Object__c").resume_from(cp)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);

    // ORDER BY keeps it from being split: a typed error naming fields to drop, no query sent.
    env.emu.control().reset_counters();
    let e = query(&env, QueryRequest::new("SELECT FIELDS(ALL) FROM Wide_Object__c ORDER BY Name")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let m = e.message();
    assert!(m.contains("max_query_uri_bytes") && m.contains("ORDER BY") && m.contains("leaving out at least"), "{m}");
    assert!(m.contains("__c"), "names fields: {m}");
    assert_eq!(env.emu.control().counters().query, 0);

    // FIELDS() in a subquery is Salesforce's (the emulator refuses it as unsupported).
    let e = query(&env, QueryRequest::new("SELECT Id, (SELECT FIELDS(ALL) FROM Contacts) FROM Account")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Api, "{e}");
    // An unknown sObject: the describe's NOT_FOUND, before any query.
    let e = query(&env, QueryRequest::new("SELECT * FROM Nope__c")).await.unwrap_err();
    assert_eq!(e.error_code(), Some("NOT_FOUND"), "{e}");
}
