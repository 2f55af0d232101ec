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
