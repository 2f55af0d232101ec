//! REST query resources: salesforce-api.md §4, §5, §7.
mod common;
use common::*;
use serde_json::Value;
use sf_org_emulator::{EmulatorConfig, SObject};

async fn setup() -> (sf_org_emulator::Emulator, String) {
    let emu = start(EmulatorConfig::default()).await;
    let t = login(&emu).await;
    let at = s(&t, "access_token").to_string();
    (emu, at)
}

#[tokio::test]
async fn versions_resource_needs_no_auth_and_has_no_limit_header() {
    let (emu, _) = setup().await;
    let r = http().get(format!("{}/services/data/", emu.instance_url())).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("sforce-limit-info").is_none());
    let v: Value = r.json().await.unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 36);
    assert_eq!(arr[1], serde_json::json!({"label":"Winter '15","url":"/services/data/v32.0","version":"32.0"}));
    assert_eq!(s(&arr[35], "label"), "Spring '26");
    assert_eq!(emu.control().counters().versions, 1);
}

#[tokio::test]
async fn seed_contact_query_shape() {
    let (emu, at) = setup().await;
    let r = http()
        .get(format!("{}/services/data/v48.0/query", emu.instance_url()))
        .query(&[("q", "SELECT name, account.name, title, phone, email, contact.owner.alias FROM contact LIMIT 100 OFFSET 0")])
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["sforce-limit-info"], "api-usage=1/100000");
    assert_eq!(r.headers()["content-type"], "application/json;charset=UTF-8");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["totalSize"], 100);
    assert_eq!(v["done"], true);
    assert!(v.get("nextRecordsUrl").is_none());
    let recs = v["records"].as_array().unwrap();
    assert_eq!(recs.len(), 100);
    let first = &recs[0];
    let keys: Vec<&str> = first.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(keys, ["attributes", "Name", "Account", "Title", "Phone", "Email", "Owner"]);
    assert_eq!(s(&first["attributes"], "type"), "Contact");
    let url = s(&first["attributes"], "url");
    assert!(url.starts_with("/services/data/v48.0/sobjects/Contact/003") && url.len() == "/services/data/v48.0/sobjects/Contact/".len() + 18, "{url}");
    assert_eq!(s(&first["Owner"]["attributes"], "type"), "User");
    assert!(first["Owner"]["Alias"].is_string());
    // Some contacts have no Account: the key is present with null.
    assert!(recs.iter().any(|r| r["Account"].is_null()));
    assert!(recs.iter().any(|r| r["Account"]["Name"].is_string()));
    assert!(recs.iter().any(|r| r["Title"].is_null()));
    // Unicode survives.
    assert!(recs.iter().any(|r| !r["Name"].as_str().unwrap().is_ascii()));
}

#[tokio::test]
async fn opportunity_and_note_shapes() {
    let (emu, at) = setup().await;
    let v: Value = query(emu.instance_url(), &at, "SELECT name, account.name, amount, CloseDate, StageName, opportunity.owner.alias, CreatedDate, SystemModstamp FROM opportunity").await.json().await.unwrap();
    assert_eq!(v["totalSize"], 850);
    let recs = v["records"].as_array().unwrap();
    // Exact 18-significant-digit amounts (serde_json has arbitrary_precision on in this workspace).
    let big = recs.iter().filter_map(|r| r["Amount"].as_number()).map(|n| n.to_string()).find(|n| n.replace('.', "").len() == 18);
    assert!(big.is_some(), "no 18-digit Amount: {:?}", recs.iter().take(40).map(|r| r["Amount"].to_string()).collect::<Vec<_>>());
    assert!(recs.iter().any(|r| r["Amount"].is_null()));
    let cd = s(&recs[0], "CloseDate");
    assert!(cd.len() == 10 && cd.as_bytes()[4] == b'-');
    let created = s(&recs[0], "CreatedDate");
    assert!(created.ends_with("+0000") && created.len() == 28, "{created}");
    let v: Value = query(emu.instance_url(), &at, "SELECT body, IsDeleted, IsPrivate, OwnerId, ParentId, Title, note.owner.alias FROM note").await.json().await.unwrap();
    assert_eq!(v["totalSize"], 320);
    let recs = v["records"].as_array().unwrap();
    assert!(recs.iter().any(|r| r["Body"].as_str().is_some_and(|b| b.contains('<') && b.chars().any(|c| c as u32 > 0x1F000))));
    assert!(recs.iter().all(|r| s(r, "OwnerId").starts_with("005") && r["IsDeleted"] == false));
}

#[tokio::test]
async fn count_query() {
    let (emu, at) = setup().await;
    let v: Value = query(emu.instance_url(), &at, "SELECT COUNT() FROM Contact").await.json().await.unwrap();
    assert_eq!(v, serde_json::json!({"totalSize":1500,"done":true,"records":[]}));
    let v: Value = query(emu.instance_url(), &at, "select count() from CONTACT limit 10").await.json().await.unwrap();
    assert_eq!(v["totalSize"], 10);
    let v: Value = query(emu.instance_url(), &at, "SELECT COUNT(Id) FROM Note").await.json().await.unwrap();
    assert_eq!(v["records"][0]["expr0"], 320);
    let (st, code, _) = rest_err(query(emu.instance_url(), &at, "SELECT COUNT() FROM Contact ORDER BY Id").await).await;
    assert_eq!((st, code.as_str()), (400, "MALFORMED_QUERY"));
}

#[tokio::test]
async fn soql_errors() {
    let (emu, at) = setup().await;
    let base = emu.instance_url();
    let (st, code, msg) = rest_err(query(base, &at, "SELECT Id FROM Contact LIMIT 10 OFFSET 2001").await).await;
    assert_eq!((st, code.as_str(), msg.as_str()), (400, "NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed for apiName Contact is 2000"));
    assert_eq!(query(base, &at, "SELECT Id FROM Contact LIMIT 10 OFFSET 2000").await.status(), 200);
    let (st, code, msg) = rest_err(query(base, &at, "SELECT Id, Foo__c FROM Contact").await).await;
    assert_eq!((st, code.as_str()), (400, "INVALID_FIELD"));
    assert!(msg.contains("ERROR at Row:1:Column:12") && msg.contains("No such column 'Foo__c' on entity 'Contact'"), "{msg}");
    let (_, code, msg) = rest_err(query(base, &at, "SELECT Bogus.Name FROM Contact").await).await;
    assert_eq!(code, "INVALID_FIELD");
    assert!(msg.contains("Didn't understand relationship 'Bogus'"), "{msg}");
    let (st, code, msg) = rest_err(query(base, &at, "SELECT Id FROM Contactz").await).await;
    assert_eq!((st, code.as_str()), (400, "INVALID_TYPE"));
    assert!(msg.contains("sObject type 'Contactz' is not supported"), "{msg}");
    let (st, code, _) = rest_err(query(base, &at, "SELECT Id FROM").await).await;
    assert_eq!((st, code.as_str()), (400, "MALFORMED_QUERY"));
    let (_, code, _) = rest_err(query(base, &at, "SELECT Id FROM Contact WHERE SystemModstamp > '2024-01-01'").await).await;
    assert_eq!(code, "INVALID_FIELD");
    let (_, code, msg) = rest_err(query(base, &at, "SELECT Id FROM Contact WHERE Id = 'x'").await).await;
    assert_eq!(code, "INVALID_QUERY_FILTER_OPERATOR");
    assert!(msg.contains("invalid ID field: x"));
    // Errors count against the API limit too.
    assert_eq!(emu.control().counters().api_calls, 8);
}

#[tokio::test]
async fn pagination_with_batch_size_and_locators() {
    let (emu, at) = setup().await;
    let base = emu.instance_url();
    let mut ids = Vec::new();
    let r = http()
        .get(format!("{base}/services/data/v66.0/query"))
        .query(&[("q", "SELECT Id, Name FROM Contact")])
        .header("Sforce-Query-Options", "batchSize=300")
        .bearer_auth(&at)
        .send()
        .await
        .unwrap();
    let mut v: Value = r.json().await.unwrap();
    let mut pages = 1;
    let first_next = v["nextRecordsUrl"].as_str().unwrap().to_string();
    assert!(first_next.starts_with("/services/data/v66.0/query/01g") && first_next.ends_with("-300"), "{first_next}");
    loop {
        assert_eq!(v["totalSize"], 1500);
        for r in v["records"].as_array().unwrap() {
            ids.push(s(r, "Id").to_string());
        }
        if v["done"] == true {
            assert!(v.get("nextRecordsUrl").is_none());
            break;
        }
        let next = s(&v, "nextRecordsUrl").to_string();
        v = api(base, &next, &at).await.json().await.unwrap();
        pages += 1;
    }
    assert_eq!(pages, 5);
    assert_eq!(ids.len(), 1500);
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, ids, "ids unique and ascending");
    let c = emu.control().counters();
    assert_eq!((c.query, c.query_more), (1, 4));

    // Below the minimum batch size the org uses 200; the org's own cap wins over bigger requests.
    let r = http().get(format!("{base}/services/data/v66.0/query")).query(&[("q", "SELECT Id FROM Contact")]).header("Sforce-Query-Options", "batchSize=5").bearer_auth(&at).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 200);
    let r = query(base, &at, "SELECT Id FROM Contact").await;
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["records"].as_array().unwrap().len(), &v["done"]), (1500, &Value::Bool(true)));

    // A locator belongs to its session: another session gets 401; garbage gets INVALID_QUERY_LOCATOR.
    let t2 = login(&emu).await;
    let (st, code, _) = rest_err(api(base, &first_next, s(&t2, "access_token")).await).await;
    assert_eq!((st, code.as_str()), (401, "INVALID_SESSION_ID"));
    let (st, code, msg) = rest_err(api(base, "/services/data/v66.0/query/01g5g0000000ZZZAAA-300", &at).await).await;
    assert_eq!((st, code.as_str(), msg.as_str()), (400, "INVALID_QUERY_LOCATOR", "invalid query locator"));
    // Re-reading an earlier page of a live cursor works (results live 2 days since v56).
    assert_eq!(api(base, &first_next, &at).await.status(), 200);
}

#[tokio::test]
async fn configured_batch_size_caps_pages() {
    let emu = start(EmulatorConfig { batch_size: 250, contacts: 600, ..Default::default() }).await;
    let at = s(&login(&emu).await, "access_token").to_string();
    let v: Value = query(emu.instance_url(), &at, "SELECT Id FROM Contact").await.json().await.unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 250);
    assert!(s(&v, "nextRecordsUrl").ends_with("-250"));
}

#[tokio::test]
async fn keyset_where_order_and_escapes() {
    let (emu, at) = setup().await;
    let base = emu.instance_url();
    let c = emu.control();
    let id10 = c.record_id(SObject::Contact, 10);
    let v: Value = query(base, &at, &format!("SELECT Id FROM Contact WHERE Id > '{id10}' ORDER BY Id LIMIT 3")).await.json().await.unwrap();
    let got: Vec<String> = v["records"].as_array().unwrap().iter().map(|r| s(r, "Id").to_string()).collect();
    assert_eq!(got, (11..14).map(|i| c.record_id(SObject::Contact, i)).collect::<Vec<_>>());
    // 15-char Ids work too; DESC order.
    let v: Value = query(base, &at, &format!("select id from contact where id <= '{}' order by id desc limit 2", &id10[..15])).await.json().await.unwrap();
    assert_eq!(s(&v["records"][0], "Id"), id10);
    assert_eq!(s(&v["records"][1], "Id"), c.record_id(SObject::Contact, 9));
    // Datetime literal with offsets and ORDER BY SystemModstamp, Id.
    let v: Value = query(base, &at, "SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp >= 2021-01-01T00:00:00+00:00 AND SystemModstamp < 2021-06-01T00:00:00+0000 ORDER BY SystemModstamp ASC, Id ASC").await.json().await.unwrap();
    let recs = v["records"].as_array().unwrap();
    assert!(!recs.is_empty());
    let stamps: Vec<&str> = recs.iter().map(|r| s(r, "SystemModstamp")).collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]));
    assert!(stamps.iter().all(|s| s.starts_with("2021-0")));
    // A quoted literal with backslash escapes is parsed, not treated as injection.
    let v: Value = query(base, &at, "SELECT Id FROM Account WHERE Name = 'O\\'Reilly Corp\\\\' ").await.json().await.unwrap();
    assert_eq!(v["totalSize"], 0);
    let v: Value = query(base, &at, "SELECT Name FROM Contact ORDER BY Name DESC, CreatedDate LIMIT 5").await.json().await.unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 5);
    // ORDER BY a parent field.
    assert_eq!(query(base, &at, "SELECT Id, Account.Name FROM Contact ORDER BY Account.Name NULLS LAST LIMIT 5").await.status(), 200);
}

#[tokio::test]
async fn touch_and_delete_for_incremental_exports() {
    let (emu, at) = setup().await;
    let base = emu.instance_url();
    let c = emu.control();
    let since = {
        let v: Value = query(base, &at, "SELECT SystemModstamp FROM Contact ORDER BY SystemModstamp DESC LIMIT 1").await.json().await.unwrap();
        s(&v["records"][0], "SystemModstamp").to_string()
    };
    let touched = c.touch(SObject::Contact, 7);
    let deleted = c.delete(SObject::Contact, 3);
    let q = format!("SELECT Id, IsDeleted FROM Contact WHERE SystemModstamp > {} ORDER BY SystemModstamp, Id", since.replace(".000+0000", "Z").replace("+0000", "Z"));
    let v: Value = query(base, &at, &q).await.json().await.unwrap();
    let live: Vec<&str> = v["records"].as_array().unwrap().iter().map(|r| s(r, "Id")).collect();
    assert_eq!(live.len(), 7, "{v}");
    let mut expect = touched.clone();
    expect.retain(|id| !deleted.contains(id));
    assert!(expect.iter().all(|id| live.contains(&id.as_str())));
    let v: Value = http().get(format!("{base}/services/data/v66.0/queryAll")).query(&[("q", q.as_str())]).bearer_auth(&at).send().await.unwrap().json().await.unwrap();
    let all = v["records"].as_array().unwrap();
    assert_eq!(all.len(), 10);
    assert_eq!(all.iter().filter(|r| r["IsDeleted"] == true).count(), 3);
    let v: Value = query(base, &at, "SELECT COUNT() FROM Contact").await.json().await.unwrap();
    assert_eq!(v["totalSize"], 1497);
}

#[tokio::test]
async fn daily_limit_and_usage_header() {
    let (emu, at) = setup().await;
    let c = emu.control();
    c.set_daily_limit(50);
    c.set_api_usage(49);
    let r = query(emu.instance_url(), &at, "SELECT Id FROM User").await;
    assert_eq!(r.headers()["sforce-limit-info"], "api-usage=50/50");
    let r = query(emu.instance_url(), &at, "SELECT Id FROM User").await;
    assert_eq!(r.headers()["sforce-limit-info"], "api-usage=50/50");
    let (st, code, msg) = rest_err(r).await;
    assert_eq!((st, code.as_str(), msg.as_str()), (403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."));
}

#[tokio::test]
async fn versions_in_path() {
    let (emu, at) = setup().await;
    let base = emu.instance_url();
    let v: Value = api(base, "/services/data/latest/query?q=SELECT+Id+FROM+User+LIMIT+1", &at).await.json().await.unwrap();
    assert!(s(&v["records"][0]["attributes"], "url").starts_with("/services/data/v66.0/"));
    assert_eq!(api(base, "/services/data/v30.0/query?q=SELECT+Id+FROM+User", &at).await.status(), 410);
    assert_eq!(api(base, "/services/data/v99.0/query?q=SELECT+Id+FROM+User", &at).await.status(), 404);
    assert_eq!(api(base, "/services/data/v66.0/sobjects/Contact", &at).await.status(), 404);
}

#[tokio::test]
async fn data_is_deterministic_per_seed() {
    let a = start(EmulatorConfig { seed: 7, ..Default::default() }).await;
    let b = start(EmulatorConfig { seed: 7, ..Default::default() }).await;
    let ta = s(&login(&a).await, "access_token").to_string();
    let tb = s(&login(&b).await, "access_token").to_string();
    let q = "SELECT Id, Name, Email, Account.Name, CreatedDate, SystemModstamp FROM Contact LIMIT 50";
    let va: Value = query(a.instance_url(), &ta, q).await.json().await.unwrap();
    let vb: Value = query(b.instance_url(), &tb, q).await.json().await.unwrap();
    assert_eq!(va, vb);
}

/// In-process cost of executing and rendering 1,000,000 Contacts (no HTTP). Run with
/// `cargo test -p sf-org-emulator --release --test query -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_render_one_million_in_process() {
    use sf_org_emulator::data::{Dataset, Overlay};
    use sf_org_emulator::query::{Shape, execute, plan, render_record};
    let ds = Dataset::new(1, 1_000_000, 10, 10);
    let ov = Overlay::default();
    for soql in [
        "SELECT Id FROM Contact",
        "SELECT Id, Name, Title, Phone, Email, SystemModstamp FROM Contact",
        "SELECT Id, Name, Account.Name, Title, Phone, Email, Owner.Alias, SystemModstamp FROM Contact",
        "SELECT Id, SystemModstamp FROM Contact WHERE SystemModstamp >= 2020-06-01T00:00:00Z ORDER BY SystemModstamp ASC, Id ASC",
        "SELECT Id, Name FROM Contact ORDER BY Name LIMIT 10",
    ] {
        let t0 = std::time::Instant::now();
        let p = plan(&sf_org_emulator::soql::parse(soql).unwrap(), false).unwrap();
        let rows = execute(&ds, &ov, &p);
        let Shape::Records(nodes) = &p.shape else { panic!() };
        let mut out = String::with_capacity(1 << 20);
        let mut bytes = 0;
        for i in 0..rows.len() {
            render_record(&ds, &ov, p.obj, rows.get(i), nodes, "v66.0", &mut out);
            if out.len() > 1 << 19 {
                bytes += out.len();
                out.clear();
            }
        }
        bytes += out.len();
        eprintln!("{soql}: {} rows, {} MB rendered in {:?}", rows.len(), bytes / 1_000_000, t0.elapsed());
    }
}

#[tokio::test]
async fn order_by_modstamp_matches_a_client_side_sort() {
    let (emu, at) = setup().await;
    let base = emu.instance_url();
    emu.control().touch(SObject::Contact, 20);
    let get = |soql: String| {
        let at = at.clone();
        async move {
            let v: Value = query(base, &at, &soql).await.json().await.unwrap();
            v["records"].as_array().unwrap().iter().map(|r| (s(r, "SystemModstamp").to_string(), s(r, "Id").to_string())).collect::<Vec<_>>()
        }
    };
    let asc = get("SELECT Id, SystemModstamp FROM Contact ORDER BY SystemModstamp ASC, Id ASC".into()).await;
    let mut expect = get("SELECT Id, SystemModstamp FROM Contact".into()).await;
    expect.sort();
    assert_eq!(asc, expect);
    let mut desc = get("SELECT Id, SystemModstamp FROM Contact ORDER BY SystemModstamp DESC, Id DESC".into()).await;
    desc.reverse();
    assert_eq!(desc, expect);
    let tail = get("SELECT Id, SystemModstamp FROM Contact ORDER BY LastModifiedDate DESC LIMIT 20".into()).await;
    assert_eq!(tail.len(), 20);
    assert!(tail.iter().all(|(t, _)| t.as_str() > "2026"), "touched records come last in ascending order: {tail:?}");
}

#[tokio::test]
async fn sobject_retrieve() {
    let (emu, at) = setup().await;
    let base = emu.instance_url();
    let c = emu.control();
    let id = c.record_id(SObject::Contact, 3);
    let r = api(base, &format!("/services/data/v59.0/sobjects/Contact/{id}"), &at).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("sforce-limit-info"));
    let v: Value = r.json().await.unwrap();
    assert_eq!(s(&v, "Id"), id);
    assert_eq!(s(&v["attributes"], "url"), format!("/services/data/v59.0/sobjects/Contact/{id}"));
    assert!(v.get("LastName").is_some() && v.get("SystemModstamp").is_some());
    let v: Value = api(base, &format!("/services/data/v59.0/sobjects/contact/{}?fields=FirstName,Email", &id[..15]), &at).await.json().await.unwrap();
    assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), ["attributes", "FirstName", "Email"]);
    let (st, code, _) = rest_err(api(base, &format!("/services/data/v59.0/sobjects/Contact/{id}?fields=Nope"), &at).await).await;
    assert_eq!((st, code.as_str()), (400, "INVALID_FIELD"));
    let (st, code, _) = rest_err(api(base, "/services/data/v59.0/sobjects/Contact/003000000000000AAA", &at).await).await;
    assert_eq!((st, code.as_str()), (404, "NOT_FOUND"));
    c.delete_ids(SObject::Contact, std::slice::from_ref(&id)).unwrap();
    let (st, code, _) = rest_err(api(base, &format!("/services/data/v59.0/sobjects/Contact/{id}"), &at).await).await;
    assert_eq!((st, code.as_str()), (404, "ENTITY_IS_DELETED"));
    assert_eq!(c.counters().retrieve, 5);
}

/// Field case BR-06: the org serves short pages (2, 2, 1) whatever batchSize asks for.
#[tokio::test]
async fn br06_short_uneven_pages() {
    let (emu, at) = setup().await;
    let base = emu.instance_url();
    emu.control().set_batch_size(2);
    let ids: Vec<String> = (0..5).map(|i| emu.control().record_id(SObject::Contact, i)).collect();
    let soql = format!("SELECT Id, Name FROM Contact WHERE Id <= '{}' ORDER BY Id", ids[4]);
    let r = http().get(format!("{base}/services/data/v59.0/query")).query(&[("q", soql.as_str())]).header("Sforce-Query-Options", "batchSize=2000").bearer_auth(&at).send().await.unwrap();
    let mut v: Value = r.json().await.unwrap();
    let mut sizes = Vec::new();
    let mut got = Vec::new();
    loop {
        assert_eq!(v["totalSize"], 5);
        let recs = v["records"].as_array().unwrap();
        sizes.push(recs.len());
        got.extend(recs.iter().map(|r| s(r, "Id").to_string()));
        if v["done"] == true {
            break;
        }
        v = api(base, s(&v, "nextRecordsUrl"), &at).await.json().await.unwrap();
    }
    assert_eq!(sizes, [2, 2, 1]);
    assert_eq!(got, ids);
}

#[tokio::test]
async fn oldest_cursors_are_evicted() {
    let (emu, at) = setup().await;
    let base = emu.instance_url();
    let mut first = None;
    let mut last = String::new();
    for _ in 0..=sf_org_emulator::state::MAX_CURSORS {
        let r = http().get(format!("{base}/services/data/v66.0/query")).query(&[("q", "SELECT Id FROM Contact")]).header("Sforce-Query-Options", "batchSize=200").bearer_auth(&at).send().await.unwrap();
        let v: Value = r.json().await.unwrap();
        last = s(&v, "nextRecordsUrl").to_string();
        first.get_or_insert_with(|| last.clone());
    }
    let (st, code, _) = rest_err(api(base, first.as_deref().unwrap(), &at).await).await;
    assert_eq!((st, code.as_str()), (400, "INVALID_QUERY_LOCATOR"));
    assert_eq!(api(base, &last, &at).await.status(), 200);
}

/// Field case BR-09: two-level parent paths; a null parent stays `null` however deep the path.
#[tokio::test]
async fn br09_nested_and_null_parents() {
    let (emu, at) = setup().await;
    let v: Value = query(emu.instance_url(), &at, "SELECT Id, Name, Account.Name, Account.Owner.Name FROM Contact LIMIT 200").await.json().await.unwrap();
    let recs = v["records"].as_array().unwrap();
    let with = recs.iter().find(|r| !r["Account"].is_null()).unwrap();
    assert_eq!(s(&with["Account"]["attributes"], "type"), "Account");
    assert_eq!(s(&with["Account"]["Owner"]["attributes"], "type"), "User");
    assert!(with["Account"]["Owner"]["Name"].is_string());
    let keys: Vec<&str> = with["Account"].as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(keys, ["attributes", "Name", "Owner"]);
    let without = recs.iter().find(|r| r["Account"].is_null()).unwrap();
    assert_eq!(without["Account"], Value::Null);
}

/// Field case BR-12: `+` in an offset must arrive percent-encoded; a decoded space is a syntax error.
#[tokio::test]
async fn br12_datetime_literal_offsets() {
    let (emu, at) = setup().await;
    let base = emu.instance_url();
    let ok = api(base, "/services/data/v59.0/query?q=SELECT+Id+FROM+Account+WHERE+LastModifiedDate+%3E%3D+2013-12-01T12%3A00%3A00%2B00%3A00", &at).await;
    assert_eq!(ok.status(), 200);
    let v: Value = ok.json().await.unwrap();
    assert_eq!(v["totalSize"].as_u64(), Some(emu.control().record_count(SObject::Account)), "every Account was modified after 2013");
    let bad = api(base, "/services/data/v59.0/query?q=SELECT+Id+FROM+Account+WHERE+LastModifiedDate+%3E%3D+2013-12-01T12%3A00%3A00+00%3A00", &at).await;
    let (st, code, _) = rest_err(bad).await;
    assert_eq!((st, code.as_str()), (400, "MALFORMED_QUERY"));
}
