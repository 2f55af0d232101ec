//! Child subqueries with their own cursors, polymorphic What/Who (Name entity and TYPEOF), and
//! compound address / geolocation values.
mod common;
use common::*;
use serde_json::Value;
use sf_org_emulator::{EmulatorConfig, SObject};

async fn setup(cfg: EmulatorConfig) -> (sf_org_emulator::Emulator, String) {
    let emu = start(cfg).await;
    let at = s(&login(&emu).await, "access_token").to_string();
    (emu, at)
}

async fn json(r: reqwest::Response) -> Value {
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(|k| k.as_str()).collect()
}

/// Follow a child (or top-level) result to its end; returns every record.
async fn drain(base: &str, at: &str, mut v: Value) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut calls = 0;
    loop {
        out.extend(v["records"].as_array().unwrap().iter().cloned());
        if v["done"] == true {
            assert!(v.get("nextRecordsUrl").is_none());
            return (out, calls);
        }
        let next = s(&v, "nextRecordsUrl").to_string();
        v = json(api(base, &next, at).await).await;
        calls += 1;
    }
}

#[tokio::test]
async fn child_subquery_pages_through_its_own_cursor() {
    let (emu, at) = setup(EmulatorConfig { child_batch_size: 3, ..Default::default() }).await;
    let base = emu.instance_url();
    let v = json(query(base, &at, "SELECT Id, Name, (SELECT Id, LastName, AccountId FROM Contacts ORDER BY LastName, Id) FROM Account ORDER BY Id LIMIT 40").await).await;
    assert_eq!(v["done"], true, "40 parents and their inline children fit one page");
    let recs = v["records"].as_array().unwrap();
    let big = recs.iter().find(|r| r["Contacts"]["totalSize"].as_u64().is_some_and(|n| n > 6)).expect("an Account with more than 6 Contacts");
    assert_eq!(keys(big), ["attributes", "Id", "Name", "Contacts"]);
    let child = &big["Contacts"];
    assert_eq!(keys(child), ["totalSize", "done", "nextRecordsUrl", "records"]);
    assert_eq!(child["done"], false);
    assert_eq!(child["records"].as_array().unwrap().len(), 3);
    let next = s(child, "nextRecordsUrl");
    assert!(next.starts_with("/services/data/v66.0/query/01g") && next.ends_with("-3"), "{next}");
    emu.control().reset_counters();
    let total = child["totalSize"].as_u64().unwrap() as usize;
    let (all, calls) = drain(base, &at, child.clone()).await;
    assert_eq!(all.len(), total);
    assert_eq!(calls, total.div_ceil(3) - 1);
    let c = emu.control().counters();
    assert_eq!((c.query, c.query_more, c.api_calls), (0, calls as u64, calls as u64));
    // The same children, straight from Contact, in the subquery's order.
    let id = s(big, "Id");
    let direct = json(query(base, &at, &format!("SELECT Id, LastName FROM Contact WHERE AccountId = '{id}' ORDER BY LastName, Id")).await).await;
    let want: Vec<&str> = direct["records"].as_array().unwrap().iter().map(|r| s(r, "Id")).collect();
    let got: Vec<&str> = all.iter().map(|r| s(r, "Id")).collect();
    assert_eq!(got, want);
    assert!(all.iter().all(|r| s(r, "AccountId") == id && keys(r) == ["attributes", "Id", "LastName", "AccountId"]));
    assert_eq!(s(&all[0]["attributes"], "type"), "Contact");
    // A child cursor belongs to its session.
    let other = s(&login(&emu).await, "access_token").to_string();
    let (st, code, _) = rest_err(api(base, next, &other).await).await;
    assert_eq!((st, code.as_str()), (401, "INVALID_SESSION_ID"));
    // Small families come back whole.
    let small = recs.iter().find(|r| r["Contacts"]["totalSize"].as_u64().is_some_and(|n| (1..=3).contains(&n))).unwrap();
    assert_eq!(small["Contacts"]["done"], true);
    assert!(small["Contacts"].get("nextRecordsUrl").is_none());
}

#[tokio::test]
async fn no_children_is_null_and_subqueries_filter_order_and_limit() {
    let (emu, at) = setup(EmulatorConfig::default()).await;
    let base = emu.instance_url();
    let v = json(query(base, &at, "SELECT Id, (SELECT Id, Subject, WhatId FROM Events), (SELECT Id, Amount FROM Opportunities WHERE Amount > 1000 ORDER BY Amount DESC LIMIT 2) FROM Account").await).await;
    let recs = v["records"].as_array().unwrap();
    assert!(recs.iter().any(|r| r["Events"].is_null()), "Accounts without Events carry null");
    let with = recs.iter().find(|r| !r["Events"].is_null()).unwrap();
    assert!(with["Events"]["records"].as_array().unwrap().iter().all(|e| s(e, "WhatId") == s(with, "Id")));
    for r in recs.iter().filter(|r| !r["Opportunities"].is_null()) {
        let opps = r["Opportunities"]["records"].as_array().unwrap();
        assert!(opps.len() <= 2 && r["Opportunities"]["totalSize"].as_u64().unwrap() as usize == opps.len());
        let amounts: Vec<f64> = opps.iter().map(|o| o["Amount"].as_f64().unwrap()).collect();
        assert!(amounts.windows(2).all(|w| w[0] >= w[1]) && amounts.iter().all(|a| *a > 1000.0));
    }
    // Contacts' Tasks come through WhoId; Notes through the polymorphic ParentId.
    let v = json(query(base, &at, "SELECT Id, (SELECT Id, WhoId FROM Tasks), (SELECT Id, ParentId FROM Notes) FROM Contact").await).await;
    let recs = v["records"].as_array().unwrap();
    let t = recs.iter().find(|r| !r["Tasks"].is_null()).unwrap();
    assert!(t["Tasks"]["records"].as_array().unwrap().iter().all(|x| s(x, "WhoId") == s(t, "Id")));
    let n = recs.iter().find(|r| !r["Notes"].is_null()).unwrap();
    assert!(n["Notes"]["records"].as_array().unwrap().iter().all(|x| s(x, "ParentId") == s(n, "Id")));
}

#[tokio::test]
async fn inline_children_count_toward_the_page_size() {
    let (emu, at) = setup(EmulatorConfig::default()).await;
    let base = emu.instance_url();
    let r = http()
        .get(format!("{base}/services/data/v66.0/query"))
        .query(&[("q", "SELECT Id, (SELECT Id FROM Contacts) FROM Account")])
        .header("Sforce-Query-Options", "batchSize=200")
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    let v = json(r).await;
    let recs = v["records"].as_array().unwrap();
    let children: usize = recs.iter().map(|r| r["Contacts"]["records"].as_array().map_or(0, Vec::len)).sum();
    assert!(recs.len() < 200 && recs.len() + children >= 200, "{} parents, {children} children", recs.len());
    assert_eq!(v["done"], false);
    assert!(s(&v, "nextRecordsUrl").ends_with(&format!("-{}", recs.len())));
    let (rest, _) = drain(base, &at, v.clone()).await;
    assert_eq!(rest.len() as u64, emu.control().record_count(SObject::Account));
}

#[tokio::test]
async fn polymorphic_what_and_who_through_the_name_entity() {
    let (emu, at) = setup(EmulatorConfig::default()).await;
    let base = emu.instance_url();
    let v = json(query(base, &at, "SELECT Id, WhatId, What.Type, What.Name, Who.Name, Who.Email FROM Task").await).await;
    let recs = v["records"].as_array().unwrap();
    assert_eq!(recs.len(), 600);
    assert!(recs.iter().any(|r| r["What"].is_null() && r["WhatId"].is_null()));
    for r in recs.iter().filter(|r| !r["What"].is_null()) {
        let what = &r["What"];
        assert_eq!(keys(what), ["attributes", "Type", "Name"]);
        assert_eq!(s(&what["attributes"], "type"), "Name");
        let ty = s(what, "Type");
        let prefix = if ty == "Account" { "001" } else { "006" };
        assert!(s(r, "WhatId").starts_with(prefix), "{r}");
        assert_eq!(s(&what["attributes"], "url"), format!("/services/data/v66.0/sobjects/{ty}/{}", s(r, "WhatId")));
        assert!(what["Name"].is_string());
    }
    let types: std::collections::BTreeSet<&str> = recs.iter().filter_map(|r| r["What"]["Type"].as_str()).collect();
    assert_eq!(types.into_iter().collect::<Vec<_>>(), ["Account", "Opportunity"]);
    let opps = json(query(base, &at, "SELECT Id FROM Task WHERE What.Type = 'Opportunity'").await).await;
    assert_eq!(opps["totalSize"].as_u64().unwrap() as usize, recs.iter().filter(|r| r["What"]["Type"] == "Opportunity").count());
    let leads = json(query(base, &at, "SELECT Id, Who.Name FROM Event WHERE Who.Type = 'Lead'").await).await;
    assert!(leads["totalSize"].as_u64().unwrap() > 0);
    let (_, code, msg) = rest_err(query(base, &at, "SELECT What.Industry FROM Task").await).await;
    assert_eq!(code, "INVALID_FIELD");
    assert!(msg.contains("No such column 'Industry' on entity 'Name'"), "{msg}");
    let v = json(query(base, &at, "SELECT Parent.Type, Parent.Name FROM Note LIMIT 50").await).await;
    assert!(v["records"].as_array().unwrap().iter().all(|r| s(&r["Parent"]["attributes"], "type") == "Name"));
}

#[tokio::test]
async fn typeof_selects_fields_per_concrete_type() {
    let (emu, at) = setup(EmulatorConfig::default()).await;
    let base = emu.instance_url();
    let soql = "SELECT Id, TYPEOF What WHEN Account THEN Name, Industry WHEN Opportunity THEN Amount, StageName ELSE Name END, WhatId FROM Event";
    let v = json(query(base, &at, soql).await).await;
    let recs = v["records"].as_array().unwrap();
    assert_eq!(keys(&recs[0]), ["attributes", "Id", "What", "WhatId"]);
    let mut seen = (0, 0, 0);
    for r in recs {
        let what = &r["What"];
        if what.is_null() {
            assert!(r["WhatId"].is_null());
            seen.2 += 1;
            continue;
        }
        match s(&what["attributes"], "type") {
            "Account" => {
                assert_eq!(keys(what), ["attributes", "Name", "Industry"]);
                seen.0 += 1;
            }
            "Opportunity" => {
                assert_eq!(keys(what), ["attributes", "Amount", "StageName"]);
                seen.1 += 1;
            }
            other => panic!("{other}"),
        }
        assert!(s(&what["attributes"], "url").ends_with(s(r, "WhatId")));
    }
    assert!(seen.0 > 0 && seen.1 > 0 && seen.2 > 0, "{seen:?}");
    let (_, code, _) = rest_err(query(base, &at, "SELECT TYPEOF Account WHEN Account THEN Name END FROM Contact").await).await;
    assert_eq!(code, "MALFORMED_QUERY");
    let (_, code, _) = rest_err(query(base, &at, "SELECT What.Name, TYPEOF What WHEN Account THEN Name END FROM Task").await).await;
    assert_eq!(code, "MALFORMED_QUERY");
}

#[tokio::test]
async fn compound_address_and_geolocation_values() {
    let (emu, at) = setup(EmulatorConfig::default()).await;
    let base = emu.instance_url();
    let v = json(query(base, &at, "SELECT Id, BillingCity, BillingStreet, BillingLatitude, BillingAddress, ShippingAddress FROM Account").await).await;
    let recs = v["records"].as_array().unwrap();
    const KEYS: [&str; 8] = ["city", "country", "geocodeAccuracy", "latitude", "longitude", "postalCode", "state", "street"];
    for r in recs {
        let a = &r["BillingAddress"];
        assert_eq!(keys(a), KEYS);
        assert_eq!(a["city"], r["BillingCity"]);
        assert_eq!(a["street"], r["BillingStreet"]);
        assert_eq!(a["latitude"], r["BillingLatitude"]);
        assert!(a["latitude"].is_null() || a["latitude"].is_number());
    }
    assert!(recs.iter().any(|r| r["ShippingAddress"].is_null()));
    assert!(recs.iter().any(|r| !r["ShippingAddress"].is_null() && keys(&r["ShippingAddress"]) == KEYS));
    assert!(recs.iter().any(|r| r["BillingAddress"]["street"].as_str().is_some_and(|s| s.contains('\n'))));
    let v = json(query(base, &at, "SELECT MailingAddress, OtherAddress, MailingCountry FROM Contact LIMIT 300").await).await;
    let recs = v["records"].as_array().unwrap();
    assert!(recs.iter().any(|r| r["OtherAddress"].is_null()) && recs.iter().any(|r| !r["OtherAddress"].is_null()));
    assert!(recs.iter().filter(|r| !r["MailingAddress"].is_null()).all(|r| r["MailingAddress"]["country"] == r["MailingCountry"]));
    let v = json(query(base, &at, "SELECT Location__c, Location__Latitude__s, Location__Longitude__s FROM Wide_Object__c").await).await;
    let recs = v["records"].as_array().unwrap();
    for r in recs {
        let l = &r["Location__c"];
        if r["Location__Latitude__s"].is_null() {
            assert!(l.is_null());
        } else {
            assert_eq!(keys(l), ["latitude", "longitude"]);
            assert_eq!(l["latitude"], r["Location__Latitude__s"]);
        }
    }
    assert!(recs.iter().any(|r| r["Location__c"].is_null()) && recs.iter().any(|r| !r["Location__c"].is_null()));
    let (_, code, msg) = rest_err(query(base, &at, "SELECT Id FROM Account WHERE BillingAddress = null").await).await;
    assert_eq!(code, "INVALID_FIELD");
    assert!(msg.contains("field 'BillingAddress' can not be filtered"), "{msg}");
    let (_, code, _) = rest_err(query(base, &at, "SELECT Id FROM Account ORDER BY ShippingAddress").await).await;
    assert_eq!(code, "INVALID_FIELD");
}

#[tokio::test]
async fn unknown_child_relationship_is_invalid_type() {
    let (emu, at) = setup(EmulatorConfig::default()).await;
    let (st, code, msg) = rest_err(query(emu.instance_url(), &at, "SELECT Id, (SELECT Id FROM Contactz) FROM Account").await).await;
    assert_eq!((st, code.as_str()), (400, "INVALID_TYPE"));
    assert!(msg.contains("ERROR at Row:1:Column:28") && msg.contains("Didn't understand relationship 'Contactz' in FROM part of query call"), "{msg}");
    let (_, code, msg) = rest_err(query(emu.instance_url(), &at, "SELECT Id, (SELECT Id, Bogus FROM Contacts) FROM Account").await).await;
    assert_eq!(code, "INVALID_FIELD");
    assert!(msg.contains("No such column 'Bogus' on entity 'Contact'"), "{msg}");
}
