//! describeGlobal and sObject describe, the wide custom object, and the URI-length refusal.
mod common;
use common::*;
use serde_json::Value;
use sf_org_emulator::{EmulatorConfig, Endpoint, Fault, FaultKind};

async fn setup(cfg: EmulatorConfig) -> (sf_org_emulator::Emulator, String) {
    let emu = start(cfg).await;
    let at = s(&login(&emu).await, "access_token").to_string();
    (emu, at)
}

async fn json(r: reqwest::Response) -> Value {
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("sforce-limit-info"));
    r.json().await.unwrap()
}

fn field<'a>(d: &'a Value, name: &str) -> &'a Value {
    d["fields"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap_or_else(|| panic!("no field {name}"))
}

fn ids(v: &Value) -> Vec<String> {
    v["records"].as_array().unwrap().iter().map(|r| s(r, "Id").to_string()).collect()
}

#[tokio::test]
async fn describe_global_lists_every_sobject() {
    let (emu, at) = setup(EmulatorConfig::default()).await;
    let base = emu.instance_url();
    let v = json(api(base, "/services/data/v66.0/sobjects", &at).await).await;
    assert_eq!((&v["encoding"], &v["maxBatchSize"]), (&Value::from("UTF-8"), &Value::from(200)));
    let objs = v["sobjects"].as_array().unwrap();
    let names: Vec<&str> = objs.iter().map(|o| s(o, "name")).collect();
    assert_eq!(names, ["Account", "Contact", "Event", "Lead", "Note", "Opportunity", "Task", "User", "Wide_Object__c"]);
    let acct = &objs[0];
    assert_eq!((s(acct, "keyPrefix"), s(acct, "label"), s(acct, "labelPlural")), ("001", "Account", "Accounts"));
    assert_eq!((&acct["queryable"], &acct["custom"]), (&Value::Bool(true), &Value::Bool(false)));
    assert_eq!(s(&acct["urls"], "describe"), "/services/data/v66.0/sobjects/Account/describe");
    assert_eq!(objs[8]["custom"], true);
    assert_eq!(s(&objs[8], "keyPrefix"), "a07");
    assert_eq!(json(api(base, "/services/data/v59.0/sobjects/", &at).await).await["sobjects"].as_array().unwrap().len(), 9);
    let c = emu.control().counters();
    assert_eq!((c.describe, c.api_calls), (2, 2));
}

#[tokio::test]
async fn sobject_describe_shapes() {
    let (emu, at) = setup(EmulatorConfig::default()).await;
    let base = emu.instance_url();
    let d = json(api(base, "/services/data/v66.0/sobjects/account/describe", &at).await).await;
    assert_eq!(s(&d, "name"), "Account");
    let keys: Vec<&String> = d.as_object().unwrap().keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "alphabetical keys");
    let id = field(&d, "Id");
    assert_eq!((s(id, "type"), &id["length"], &id["nillable"], s(id, "label")), ("id", &Value::from(18), &Value::Bool(false), "Account ID"));
    let owner = field(&d, "OwnerId");
    assert_eq!((s(owner, "type"), s(owner, "relationshipName")), ("reference", "Owner"));
    assert_eq!(owner["referenceTo"], serde_json::json!(["User"]));
    assert_eq!(owner["polymorphicForeignKey"], false);
    let rev = field(&d, "AnnualRevenue");
    assert_eq!((s(rev, "type"), &rev["precision"], &rev["scale"]), ("currency", &Value::from(18), &Value::from(0)));
    let addr = field(&d, "BillingAddress");
    assert_eq!((s(addr, "type"), &addr["compoundFieldName"], &addr["filterable"]), ("address", &Value::Null, &Value::Bool(false)));
    for part in ["BillingStreet", "BillingCity", "BillingState", "BillingPostalCode", "BillingCountry", "BillingLatitude", "BillingLongitude", "BillingGeocodeAccuracy"] {
        assert_eq!(s(field(&d, part), "compoundFieldName"), "BillingAddress", "{part}");
    }
    let lat = field(&d, "BillingLatitude");
    assert_eq!((s(lat, "type"), &lat["precision"], &lat["scale"]), ("double", &Value::from(18), &Value::from(15)));
    let name = field(&d, "Name");
    assert_eq!((s(name, "type"), &name["length"], &name["byteLength"], &name["nameField"]), ("string", &Value::from(255), &Value::from(765), &Value::Bool(true)));
    let industry = field(&d, "Industry");
    assert_eq!(s(industry, "type"), "picklist");
    assert_eq!(s(&industry["picklistValues"][0], "value"), "Technology");
    let kids = d["childRelationships"].as_array().unwrap();
    let contacts = kids.iter().find(|k| k["relationshipName"] == "Contacts").unwrap();
    assert_eq!((s(contacts, "childSObject"), s(contacts, "field")), ("Contact", "AccountId"));
    assert!(kids.iter().any(|k| k["relationshipName"] == "Tasks" && k["field"] == "WhatId"));
    // Polymorphic lookups on Task.
    let t = json(api(base, "/services/data/v66.0/sobjects/Task/describe/", &at).await).await;
    let what = field(&t, "WhatId");
    assert_eq!((s(what, "relationshipName"), &what["polymorphicForeignKey"], &what["namePointing"]), ("What", &Value::Bool(true), &Value::Bool(true)));
    assert_eq!(what["referenceTo"], serde_json::json!(["Account", "Opportunity"]));
    assert_eq!(field(&t, "WhoId")["referenceTo"], serde_json::json!(["Contact", "Lead"]));
    let desc = field(&t, "Description");
    assert_eq!((s(desc, "type"), &desc["length"], &desc["sortable"], &desc["filterable"]), ("textarea", &Value::from(32000), &Value::Bool(false), &Value::Bool(false)));
    // Unknown sObject → 404 NOT_FOUND, counted.
    let (st, code, msg) = rest_err(api(base, "/services/data/v66.0/sobjects/Nope__c/describe", &at).await).await;
    assert_eq!((st, code.as_str(), msg.as_str()), (404, "NOT_FOUND", "The requested resource does not exist"));
    assert_eq!(emu.control().counters().describe, 3);
    // Faults and auth apply as to any data call.
    emu.control().add_fault(Fault { endpoint: Endpoint::Describe, count: 1, kind: FaultKind::Status500 });
    assert_eq!(api(base, "/services/data/v66.0/sobjects", &at).await.status(), 500);
    let (st, code, _) = rest_err(api(base, "/services/data/v66.0/sobjects", "bogus").await).await;
    assert_eq!((st, code.as_str()), (401, "INVALID_SESSION_ID"));
}

/// Every described field can be selected, and describe and the query agree on what exists.
#[tokio::test]
async fn describe_and_soql_agree() {
    let (emu, at) = setup(EmulatorConfig { wide_rows: 3, ..Default::default() }).await;
    let base = emu.instance_url();
    let global = json(api(base, "/services/data/v66.0/sobjects", &at).await).await;
    for o in global["sobjects"].as_array().unwrap() {
        let name = s(o, "name");
        let d = json(api(base, &format!("/services/data/v66.0/sobjects/{name}/describe"), &at).await).await;
        let fields: Vec<&str> = d["fields"].as_array().unwrap().iter().map(|f| s(f, "name")).collect();
        for chunk in fields.chunks(120) {
            let soql = format!("SELECT {} FROM {name} LIMIT 2", chunk.join(", "));
            let v = json(query(base, &at, &soql).await).await;
            if let Some(r) = v["records"].as_array().unwrap().first() {
                let keys: Vec<&str> = r.as_object().unwrap().keys().skip(1).map(|k| k.as_str()).collect();
                assert_eq!(keys, chunk, "{name}");
            }
        }
        let (_, code, _) = rest_err(query(base, &at, &format!("SELECT Not_A_Field__c FROM {name}")).await).await;
        assert_eq!(code, "INVALID_FIELD");
    }
}

#[tokio::test]
async fn wide_object_fields_types_and_includes() {
    let (emu, at) = setup(EmulatorConfig { wide_rows: 60, ..Default::default() }).await;
    let base = emu.instance_url();
    let d = json(api(base, "/services/data/v66.0/sobjects/Wide_Object__c/describe", &at).await).await;
    let fields = d["fields"].as_array().unwrap();
    let custom: Vec<&Value> = fields.iter().filter(|f| f["custom"] == true).collect();
    assert!(custom.len() >= 400, "{}", custom.len());
    let types: std::collections::BTreeSet<&str> = custom.iter().map(|f| s(f, "type")).collect();
    for t in ["string", "textarea", "double", "currency", "percent", "date", "datetime", "boolean", "picklist", "multipicklist", "email", "phone", "url", "location"] {
        assert!(types.contains(t), "{t}");
    }
    let loc = field(&d, "Location__c");
    assert_eq!(s(loc, "type"), "location");
    assert_eq!(s(field(&d, "Location__Latitude__s"), "compoundFieldName"), "Location__c");
    let money = custom.iter().find(|f| f["type"] == "currency").unwrap();
    assert_eq!((&money["precision"], &money["scale"]), (&Value::from(16), &Value::from(2)));
    // INCLUDES / EXCLUDES on a multi-select picklist.
    let multi = s(custom.iter().find(|f| f["type"] == "multipicklist").unwrap(), "name");
    let all = json(query(base, &at, &format!("SELECT Id, {multi} FROM Wide_Object__c")).await).await;
    let rows = all["records"].as_array().unwrap();
    let has = |r: &Value, v: &str| r[multi].as_str().is_some_and(|x| x.split(';').any(|p| p == v));
    let pick = |f: &dyn Fn(&Value) -> bool| rows.iter().filter(|r| f(r)).map(|r| s(r, "Id").to_string()).collect::<Vec<_>>();
    let v = json(query(base, &at, &format!("SELECT Id FROM Wide_Object__c WHERE {multi} INCLUDES ('EMEA;APAC', 'LATAM')")).await).await;
    let want = pick(&|r| (has(r, "EMEA") && has(r, "APAC")) || has(r, "LATAM"));
    assert!(!want.is_empty());
    assert_eq!(ids(&v), want);
    let v = json(query(base, &at, &format!("SELECT Id FROM Wide_Object__c WHERE {multi} EXCLUDES ('EMEA')")).await).await;
    assert_eq!(ids(&v), pick(&|r| !has(r, "EMEA")));
    // Two or more long text areas cap a page at 200 rows.
    let longs: Vec<&str> = custom.iter().filter(|f| f["type"] == "textarea").take(2).map(|f| s(f, "name")).collect();
    let emu2 = start(EmulatorConfig { wide_rows: 450, ..Default::default() }).await;
    let at2 = s(&login(&emu2).await, "access_token").to_string();
    let v = json(query(emu2.instance_url(), &at2, &format!("SELECT Id, {} FROM Wide_Object__c", longs.join(", "))).await).await;
    assert_eq!(v["records"].as_array().unwrap().len(), 200);
    let v = json(query(emu2.instance_url(), &at2, &format!("SELECT Id, {} FROM Wide_Object__c", longs[0])).await).await;
    assert_eq!(v["records"].as_array().unwrap().len(), 450);
}

#[tokio::test]
async fn over_long_uris_are_refused_before_counting() {
    let (emu, at) = setup(EmulatorConfig { wide_rows: 5, ..Default::default() }).await;
    let base = emu.instance_url();
    let d = json(api(base, "/services/data/v66.0/sobjects/Wide_Object__c/describe", &at).await).await;
    let names: Vec<&str> = d["fields"].as_array().unwrap().iter().filter(|f| f["type"] != "location").map(|f| s(f, "name")).collect();
    emu.control().reset_counters();
    let everything = format!("SELECT {} FROM Wide_Object__c", names.join(", "));
    let r = query(base, &at, &everything).await;
    assert_eq!(r.status(), 414);
    assert!(r.url().as_str().len() > 16_384);
    let c = emu.control().counters();
    assert_eq!((c.query, c.api_calls, c.uri_too_long), (0, 0, 1));
    // Split in two, each part fits, and together they export every field of every row.
    let rest: Vec<&str> = names.iter().copied().filter(|n| *n != "Id").collect();
    let (a, b) = rest.split_at(rest.len() / 2);
    let mut seen = 0;
    for part in [a, b] {
        let r = query(base, &at, &format!("SELECT Id, {} FROM Wide_Object__c", part.join(", "))).await;
        assert!(r.url().as_str().len() < 16_384);
        let v = json(r).await;
        assert_eq!(v["totalSize"], 5);
        seen += v["records"][0].as_object().unwrap().len() - 2;
    }
    assert_eq!(seen, rest.len());
    // URI + headers over the limit → 431.
    let r = http()
        .get(format!("{base}/services/data/v66.0/query"))
        .query(&[("q", "SELECT Id FROM Account LIMIT 1")])
        .header("X-Padding", "p".repeat(16_384))
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 431);
    // The limit is configurable.
    emu.control().set_max_uri_bytes(100);
    assert_eq!(query(base, &at, "SELECT Id, Name, CreatedDate, LastModifiedDate FROM Account LIMIT 1").await.status(), 414);
    emu.control().set_max_uri_bytes(16_384);
    assert_eq!(query(base, &at, "SELECT Id, Name, CreatedDate, LastModifiedDate FROM Account LIMIT 1").await.status(), 200);
    assert_eq!(emu.control().counters().uri_too_long, 3);
}
