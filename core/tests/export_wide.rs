//! Every-field exports against the org emulator: `Wide_Object__c` (410 fields, 250 rows) read in
//! field groups joined by Id, equal record by record to the emulator's own data; the URI limit
//! hit when the groups are too long for the org; resume from a checkpoint; CSV columns; pages.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;
use sf_org_emulator::data::{Dataset, Overlay, Volumes};
use sf_org_emulator::{EmulatorConfig, SObject};
use sfcrm_core::export::{ExportFormat, ExportRequest, ExportSpec, PageRequest, Record};
use sfcrm_core::{ConfigBuilder, ErrorKind};
use support::Env;

async fn env_with(tweak: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Env {
    let ecfg = EmulatorConfig { contacts: 30, deals: 5, notes: 5, ..EmulatorConfig::default() };
    let env = Env::start_with(ecfg, |b| tweak(b.describe_cache_ttl(Duration::from_secs(600)))).await;
    env.emu.control().reset_counters();
    env
}

/// The emulator's data for `Wide_Object__c`, by Id: every field but the compound `Location__c`,
/// each value as the JSON the emulator writes.
fn emulator_wide_rows(ecfg: &EmulatorConfig) -> Vec<(String, Vec<(&'static str, Value)>)> {
    let ds = Dataset::with_volumes(
        ecfg.seed,
        Volumes {
            contacts: ecfg.contacts as u64,
            deals: ecfg.deals as u64,
            notes: ecfg.notes as u64,
            leads: ecfg.leads as u64,
            tasks: ecfg.tasks as u64,
            events: ecfg.events as u64,
            wide_rows: ecfg.wide_rows as u64,
        },
    );
    let ov = Overlay::default();
    (0..ds.count(SObject::WideObject))
        .map(|idx| {
            let rec = ds.record(&ov, SObject::WideObject, idx);
            let values = SObject::WideObject
                .fields()
                .iter()
                .filter(|f| f.name != "Location__c")
                .map(|f| {
                    let mut text = String::new();
                    ds.field_value(&rec, f).write_json(&mut text);
                    (f.name, serde_json::from_str(&text).unwrap())
                })
                .collect();
            (ds.id(SObject::WideObject, idx), values)
        })
        .collect()
}

fn assert_equal_to_emulator(records: &[Record], ecfg: &EmulatorConfig) {
    let want = emulator_wide_rows(ecfg);
    assert_eq!(records.len(), want.len(), "every row exported");
    let mut ids: Vec<&str> = records.iter().map(|r| r["Id"].as_str().unwrap()).collect();
    let sorted = {
        let mut s = ids.clone();
        s.sort();
        s
    };
    assert_eq!(ids, sorted, "Id order");
    ids.dedup();
    assert_eq!(ids.len(), records.len(), "no record twice");
    let by_id: std::collections::HashMap<&str, &Vec<(&str, Value)>> = want.iter().map(|(id, v)| (id.as_str(), v)).collect();
    for r in records {
        let id = r["Id"].as_str().unwrap();
        let values = by_id.get(id).unwrap_or_else(|| panic!("{id} is not an emulator row"));
        let keys: Vec<&str> = r.keys().filter(|k| *k != "attributes").map(String::as_str).collect();
        let names: Vec<&str> = values.iter().map(|(n, _)| *n).collect();
        assert_eq!(keys, names, "{id}: every field, in describe order, compound Location__c left out");
        for (name, v) in values.iter() {
            assert_eq!(&r[*name], v, "{id}.{name}");
        }
        assert_eq!(r["attributes"]["type"], "Wide_Object__c");
    }
}

#[tokio::test]
async fn an_every_field_export_of_the_wide_object_equals_the_emulator_data() {
    let env = env_with(|b| b).await;
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(ExportSpec::all_fields("Wide_Object__c").unwrap()));
    assert!(s.fields().is_empty(), "not resolved before it starts");
    s.ready().await.unwrap();
    assert_eq!(s.fields().len(), 409, "410 fields but the compound Location__c");
    assert!(s.fields().iter().any(|f| f.as_str() == "Location__Latitude__s"));
    let mut records = Vec::new();
    while let Some(b) = s.next_batch().await.unwrap() {
        records.extend(b.to_records().unwrap());
    }
    assert_equal_to_emulator(&records, &env.ecfg);
    let c = env.emu.control().counters();
    assert_eq!(c.uri_too_long, 0);
    assert_eq!(c.describe, 1);
    // K groups: K queries (+ their nextRecordsUrl pages), all counted.
    assert!(c.query >= 2, "split into groups: {}", c.query);
    assert_eq!(c.query + c.query_more, s.api_calls());
    let calls = env.client.api_calls();
    assert_eq!((calls.query, calls.query_more, calls.describe), (c.query, c.query_more, 1));
    assert_eq!(s.progress().total_size, Some(250));
}

#[tokio::test]
async fn groups_too_long_for_the_org_hit_the_uri_limit_and_a_smaller_budget_splits_further() {
    // The client allows 16,384-byte URIs, the org only 8,000: the groups are refused (414).
    let env = env_with(|b| b.max_query_uri_bytes(16_384)).await;
    env.emu.control().set_max_uri_bytes(8_000);
    let spec = ExportSpec::custom("Wide_Object__c", &["*"]).unwrap();
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(spec.clone()));
    let e = s.next_batch().await.unwrap_err();
    assert_eq!(e.status(), Some(414), "{e}");
    assert!(env.emu.control().counters().uri_too_long >= 1);

    // With a budget under the org's limit (and room for headers) the export completes.
    let env = env_with(|b| b.max_query_uri_bytes(6_000)).await;
    env.emu.control().set_max_uri_bytes(8_000);
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(spec));
    let mut records = Vec::new();
    while let Some(b) = s.next_batch().await.unwrap() {
        records.extend(b.to_records().unwrap());
    }
    assert_equal_to_emulator(&records, &env.ecfg);
    assert_eq!(env.emu.control().counters().uri_too_long, 0);
    assert!(s.api_calls() >= 3, "more, smaller groups: {}", s.api_calls());
}

#[tokio::test]
async fn a_wide_export_resumes_from_a_checkpoint_and_pages_through_locators() {
    let env = env_with(|b| b).await;
    env.emu.control().set_batch_size(60);
    let spec = ExportSpec::all_fields("Wide_Object__c").unwrap();
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(spec.clone()));
    let mut records = s.next_batch().await.unwrap().unwrap().to_records().unwrap();
    let cp = s.checkpoint();
    drop(s);
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(spec).resume_from(cp));
    while let Some(b) = s.next_batch().await.unwrap() {
        records.extend(b.to_records().unwrap());
    }
    assert_equal_to_emulator(&records, &env.ecfg);
    assert!(env.emu.control().counters().query_more > 0, "group cursors followed nextRecordsUrl");
    assert_eq!(env.emu.control().counters().describe, 1, "the describe is cached across streams");
}

#[tokio::test]
async fn csv_columns_and_pages_of_every_field() {
    let env = env_with(|b| b).await;
    let mut out = Vec::new();
    let req = ExportRequest::new(ExportSpec::all_fields("Wide_Object__c").unwrap());
    let summary = env.client.export_to_writer(&env.key, req, ExportFormat::Csv, &mut out, None).await.unwrap();
    assert_eq!(summary.records, 250);
    let text = String::from_utf8(out).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    assert_eq!(header.len(), 409);
    assert_eq!(header[0], "Id");
    assert!(!header.contains(&"Location__c"));
    assert!(text.ends_with("\r\n") && text.matches("\r\n").count() >= 251, "a header and 250 rows");

    // A page of Contact with every field: address components, no compound address.
    let spec = ExportSpec::all_fields("Contact").unwrap();
    let p = env.client.export_page(&env.key, &spec, PageRequest { page: 2, limit: Some(10) }).await.unwrap();
    assert_eq!(p.data.len(), 10);
    let keys: HashSet<&str> = p.data[0].keys().map(String::as_str).collect();
    assert!(keys.contains("MailingCity") && !keys.contains("MailingAddress"), "{keys:?}");
    let d = env.client.describe(&env.key, "Contact").await.unwrap();
    assert_eq!(keys.len(), d.all_fields().len() + 1, "every field + attributes");
}

#[tokio::test]
async fn an_unknown_sobject_fails_before_any_query() {
    let env = env_with(|b| b).await;
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(ExportSpec::all_fields("Nope__c").unwrap()));
    let e = s.next_batch().await.unwrap_err();
    assert_eq!((e.kind(), e.error_code()), (ErrorKind::Api, Some("NOT_FOUND")));
    assert!(s.next_batch().await.unwrap().is_none(), "the stream is over");
    assert_eq!(env.emu.control().counters().query, 0);
    let e = ExportSpec::custom("Account", &["*", "Name"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[tokio::test]
async fn a_page_of_every_wide_field_is_read_in_groups_and_equals_the_stream() {
    let env = env_with(|b| b).await;
    let spec = ExportSpec::all_fields("Wide_Object__c").unwrap();
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(spec.clone()));
    let mut records = Vec::new();
    while let Some(b) = s.next_batch().await.unwrap() {
        records.extend(b.to_records().unwrap());
    }
    env.emu.control().reset_counters();
    let p = env.client.export_page(&env.key, &spec, PageRequest { page: 3, limit: Some(40) }).await.unwrap();
    assert_eq!(p.pagination.total, 250);
    let c = env.emu.control().counters();
    assert_eq!(c.uri_too_long, 0);
    let want: Vec<Record> = records[80..120]
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if let Some(Value::Object(a)) = r.get_mut("attributes") {
                a.remove("url");
            }
            r
        })
        .collect();
    let got: Vec<Record> = p
        .data
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if let Some(Value::Object(a)) = r.get_mut("attributes") {
                a.remove("url");
            }
            r
        })
        .collect();
    assert_eq!(got, want, "records 81..120, every field");
    // COUNT (cached from no earlier page: 1) + the Id window (1) + K group queries.
    assert_eq!(p.api_calls as u64, c.query + c.query_more);
    assert!(c.query >= 4, "{}", c.query);
}

#[tokio::test]
async fn an_incremental_every_field_export_of_the_wide_object_is_complete() {
    let env = env_with(|b| b).await;
    env.emu.control().set_batch_size(70);
    let spec = ExportSpec::all_fields("Wide_Object__c").unwrap();
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(spec.clone()).since("2000-01-01T00:00:00Z"));
    let mut records = s.next_batch().await.unwrap().unwrap().to_records().unwrap();
    // Resumed from a mid-way incremental checkpoint (SystemModstamp, Id).
    let cp = s.checkpoint();
    drop(s);
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(spec).since("2000-01-01T00:00:00Z").resume_from(cp));
    while let Some(b) = s.next_batch().await.unwrap() {
        records.extend(b.to_records().unwrap());
    }
    let keys: Vec<(String, String)> = records
        .iter()
        .map(|r| (r["SystemModstamp"].as_str().unwrap().to_owned(), r["Id"].as_str().unwrap().to_owned()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "(SystemModstamp, Id) order");
    records.sort_by(|a, b| a["Id"].as_str().cmp(&b["Id"].as_str()));
    assert_equal_to_emulator(&records, &env.ecfg);
    assert_eq!(env.emu.control().counters().uri_too_long, 0);
}

#[tokio::test]
async fn a_filtered_every_field_export_of_the_wide_object_filters_every_group() {
    let env = env_with(|b| b).await;
    let params = sfcrm_core::soql::Params::new().with("p", "W-0001%").unwrap();
    let spec = ExportSpec::all_fields("Wide_Object__c").unwrap().with_where("Name LIKE :p", &params).unwrap();
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(spec));
    let mut records = Vec::new();
    while let Some(b) = s.next_batch().await.unwrap() {
        records.extend(b.to_records().unwrap());
    }
    assert_eq!(records.len(), 100, "W-000100 .. W-000199");
    assert!(records.iter().all(|r| r["Name"].as_str().unwrap().starts_with("W-0001")));
    assert!(records.iter().all(|r| r.len() == 410), "attributes + 409 fields");
    assert!(env.emu.control().counters().query >= 2);
}
