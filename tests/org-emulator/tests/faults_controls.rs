//! Faults, HTTP controls, counters and the binary.
mod common;
use common::*;
use serde_json::{Value, json};
use sf_org_emulator::{Endpoint, EmulatorConfig, Fault, FaultKind};

fn fault(endpoint: Endpoint, count: u32, kind: FaultKind) -> Fault {
    Fault { endpoint, count, kind }
}

#[tokio::test]
async fn each_fault_kind() {
    let emu = start(EmulatorConfig::default()).await;
    let at = s(&login(&emu).await, "access_token").to_string();
    let c = emu.control();
    let base = emu.instance_url();
    let q = "SELECT Id FROM User";

    c.add_fault(fault(Endpoint::Query, 2, FaultKind::Html503 { retry_after_s: 7 }));
    for _ in 0..2 {
        let r = query(base, &at, q).await;
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "7");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    }
    assert_eq!(query(base, &at, q).await.status(), 200, "only the next N calls fail");

    c.add_fault(fault(Endpoint::Query, 1, FaultKind::Status500));
    let (st, code, _) = rest_err(query(base, &at, q).await).await;
    assert_eq!((st, code.as_str()), (500, "UNKNOWN_EXCEPTION"));

    c.add_fault(fault(Endpoint::Query, 1, FaultKind::Empty401));
    let r = query(base, &at, q).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.bytes().await.unwrap().len(), 0);

    c.add_fault(fault(Endpoint::Query, 1, FaultKind::Truncated));
    let r = query(base, &at, q).await;
    assert_eq!(r.status(), 200);
    let len: usize = r.headers()["content-length"].to_str().unwrap().parse().unwrap();
    let body = r.bytes().await.unwrap();
    assert_eq!(body.len(), len);
    assert!(serde_json::from_slice::<Value>(&body).is_err());

    c.add_fault(fault(Endpoint::Query, 1, FaultKind::Delay { ms: 300 }));
    let t0 = std::time::Instant::now();
    assert_eq!(query(base, &at, q).await.status(), 200);
    assert!(t0.elapsed() >= std::time::Duration::from_millis(300));

    c.add_fault(fault(Endpoint::Query, 1, FaultKind::Reset));
    let err = http().get(format!("{base}/services/data/v66.0/query?q=SELECT+Id+FROM+User")).bearer_auth(&at).send().await;
    assert!(err.is_err(), "connection must close without a response: {err:?}");
    assert_eq!(query(base, &at, q).await.status(), 200, "server keeps serving after a reset");

    c.add_fault(fault(Endpoint::Query, 1, FaultKind::RequestLimit));
    let r = query(base, &at, q).await;
    assert!(r.headers()["sforce-limit-info"].to_str().unwrap().starts_with("api-usage="));
    let (st, code, _) = rest_err(r).await;
    assert_eq!((st, code.as_str()), (403, "REQUEST_LIMIT_EXCEEDED"));

    // invalid_locator on query_more.
    let r = http().get(format!("{base}/services/data/v66.0/query")).query(&[("q", "SELECT Id FROM Contact")]).header("Sforce-Query-Options", "batchSize=200").bearer_auth(&at).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    let next = s(&v, "nextRecordsUrl").to_string();
    c.add_fault(fault(Endpoint::QueryMore, 1, FaultKind::InvalidLocator));
    let (st, code, _) = rest_err(api(base, &next, &at).await).await;
    assert_eq!((st, code.as_str()), (400, "INVALID_QUERY_LOCATOR"));
    assert_eq!(api(base, &next, &at).await.status(), 200);

    c.add_fault(fault(Endpoint::Query, 1, FaultKind::ApiDisabled));
    let (st, code, _) = rest_err(query(base, &at, q).await).await;
    assert_eq!((st, code.as_str()), (403, "API_DISABLED_FOR_ORG"));
    c.add_fault(fault(Endpoint::Query, 1, FaultKind::Custom { status: 204, body: String::new(), content_type: None }));
    let r = query(base, &at, q).await;
    assert_eq!(r.status(), 204);
    assert!(r.headers().get("content-type").is_none());

    // Token endpoint faults keep no-store and are counted by grant type.
    c.reset_counters();
    c.add_fault(fault(Endpoint::Token, 1, FaultKind::Status500));
    let r = refresh(&emu, "whatever").await;
    assert_eq!(r.status(), 500);
    assert_eq!(c.counters().token_refresh_token, 1);
    assert!(c.pending_faults().is_empty());
}

#[tokio::test]
async fn http_controls() {
    let emu = start(EmulatorConfig::default()).await;
    let ctl = |path: &str, body: Value| {
        http().post(format!("{}/__emulator/{path}", emu.login_url())).json(&body).send()
    };
    let t = login(&emu).await;
    let at = s(&t, "access_token").to_string();

    let v: Value = http().get(format!("{}/__emulator/info", emu.login_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["counts"]["Contact"], 1500);
    assert_eq!(s(&v, "advertised_instance_url"), emu.instance_url());

    let v: Value = ctl("faults", json!({"endpoint":"query","count":1,"kind":"html503","retry_after_s":3})).await.unwrap().json().await.unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(query(emu.instance_url(), &at, "SELECT Id FROM User").await.status(), 503);
    ctl("faults", json!({"endpoint":"versions","count":5,"kind":"status500"})).await.unwrap();
    let r = http().delete(format!("{}/__emulator/faults", emu.login_url())).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(emu.control().pending_faults().is_empty());
    let r = ctl("faults", json!({"endpoint":"nope","kind":"reset"})).await.unwrap();
    assert_eq!(r.status(), 400);
    // Aliases from the brief's vocabulary.
    ctl("faults", json!({"endpoint":"query","kind":"500"})).await.unwrap();
    ctl("faults", json!({"endpoint":"query","kind":"delay_ms","ms":1})).await.unwrap();
    let pending = emu.control().pending_faults();
    assert_eq!(pending[0].kind, FaultKind::Status500);
    assert_eq!(pending[1].kind, FaultKind::Delay { ms: 1 });
    assert_eq!(query(emu.instance_url(), &at, "SELECT Id FROM User").await.status(), 500);
    emu.control().clear_faults();

    let v: Value = ctl("limits", json!({"daily_limit": 10, "used": 10})).await.unwrap().json().await.unwrap();
    assert_eq!(v, json!({"used":10,"limit":10}));
    assert_eq!(query(emu.instance_url(), &at, "SELECT Id FROM User").await.status(), 403);
    ctl("limits", json!({"used": 0})).await.unwrap();

    let v: Value = ctl("records/touch", json!({"sobject":"contact","count":4})).await.unwrap().json().await.unwrap();
    assert_eq!(v["ids"].as_array().unwrap().len(), 4);
    let v: Value = ctl("records/delete", json!({"sobject":"Note","ids":[emu.control().record_id(sf_org_emulator::SObject::Note, 0)]})).await.unwrap().json().await.unwrap();
    assert_eq!(v["ids"].as_array().unwrap().len(), 1);
    let v: Value = query(emu.instance_url(), &at, "SELECT COUNT() FROM Note").await.json().await.unwrap();
    assert_eq!(v["totalSize"], 319);
    assert_eq!(ctl("records/delete", json!({"sobject":"Note","ids":["003000000000001AAA"]})).await.unwrap().status(), 400);

    ctl("consent", json!({"mode":"deny_hyphen"})).await.unwrap();
    let r = authorize(&emu, "api", "s").await;
    assert!(r.headers()["location"].to_str().unwrap().contains("error=access-denied"));
    ctl("consent", json!({"mode":"approve"})).await.unwrap();

    ctl("rotation", json!({"enabled": true})).await.unwrap();
    let v: Value = refresh(&emu, s(&t, "refresh_token")).await.json().await.unwrap();
    let rt2 = s(&v, "refresh_token").to_string();
    let v: Value = ctl("instance", json!({"index": 1})).await.unwrap().json().await.unwrap();
    assert_eq!(s(&v, "instance_url"), emu.second_instance_url());
    let v: Value = refresh(&emu, &rt2).await.json().await.unwrap();
    assert_eq!(s(&v, "instance_url"), emu.second_instance_url());

    let v: Value = ctl("sessions/expire", json!({})).await.unwrap().json().await.unwrap();
    assert!(v["expired"].as_u64().unwrap() >= 1);
    let v: Value = ctl("refresh_tokens/revoke", json!({})).await.unwrap().json().await.unwrap();
    assert_eq!(v["revoked"], 1);
    ctl("session_lifetime", json!({"seconds": 5})).await.unwrap();
    let v: Value = ctl("batch_size", json!({"size": 2})).await.unwrap().json().await.unwrap();
    assert_eq!(v["size"], 2);
    ctl("clock/advance", json!({"ms": 1000})).await.unwrap();

    let v: Value = http().get(format!("{}/__emulator/counters", emu.login_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["authorize"], 2);
    assert_eq!(v["token_refresh_token"], 2);
    let v: Value = ctl("counters/reset", json!({})).await.unwrap().json().await.unwrap();
    assert_eq!(v["authorize"], 0);
    // Controls are not on the instance port.
    let r = http().get(format!("{}/__emulator/info", emu.instance_url())).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn binary_prints_urls_and_exits_on_stdin_close() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_sf-org-emulator"))
        .args(["--contacts", "1000000", "--exit-on-stdin-close", "--rotation", "--session-lifetime-s", "60"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut l1 = String::new();
    let mut l2 = String::new();
    out.read_line(&mut l1).unwrap();
    out.read_line(&mut l2).unwrap();
    assert!(t0.elapsed() < std::time::Duration::from_secs(3), "start-up took {:?}", t0.elapsed());
    let login = l1.trim().strip_prefix("SF_ORG_EMULATOR_LOGIN_URL=").expect("line 1").to_string();
    let inst = l2.trim().strip_prefix("SF_ORG_EMULATOR_INSTANCE_URL=").expect("line 2").to_string();
    assert_ne!(login, inst);
    let v: Value = http().get(format!("{login}/__emulator/info")).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["counts"]["Contact"], 1_000_000);
    assert_eq!(v["rotation"], true);
    assert_eq!(v["session_lifetime_s"], 60);
    drop(child.stdin.take());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success());
            break;
        }
        assert!(std::time::Instant::now() < deadline, "emulator did not exit after stdin closed");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Pages all Ids of 1,000,000 contacts through query locators. Run with
/// `cargo test -p sf-org-emulator --release --test faults_controls -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark, not a test: pages 1,000,000 Contacts and prints the time; run in release with --ignored"]
async fn bench_page_one_million_contacts() {
    let emu = start(EmulatorConfig { contacts: 1_000_000, ..Default::default() }).await;
    let at = s(&login(&emu).await, "access_token").to_string();
    let base = emu.instance_url().to_string();
    for soql in ["SELECT Id FROM Contact", "SELECT Id, Name, Account.Name, Title, Phone, Email, Owner.Alias, SystemModstamp FROM Contact"] {
        let t0 = std::time::Instant::now();
        let mut n = 0u64;
        let mut bytes = 0usize;
        let mut next: Option<String> = None;
        loop {
            let r = match &next {
                None => query(&base, &at, soql).await,
                Some(u) => api(&base, u, &at).await,
            };
            let body = r.bytes().await.unwrap();
            bytes += body.len();
            // Cheap scan instead of a full JSON parse, so the figure is the emulator's cost.
            let text = std::str::from_utf8(&body).unwrap();
            n += text.matches("{\"attributes\":{\"type\":\"Contact\"").count() as u64;
            let head = &text[..text.find("\"records\"").unwrap_or_else(|| panic!("{}", &text[..text.len().min(300)]))];
            match head.find("\"nextRecordsUrl\":\"") {
                Some(i) => {
                    let rest = &head[i + "\"nextRecordsUrl\":\"".len()..];
                    next = Some(rest[..rest.find('"').unwrap()].to_string());
                }
                None => break,
            }
        }
        assert_eq!(n, 1_000_000);
        eprintln!("{soql}: {n} records, {} MB in {:?} (no client JSON parse)", bytes / 1_000_000, t0.elapsed());
    }
}
