//! Real multi-process tests: this test binary re-runs itself as child processes (the ignored
//! `child_worker` test, driven by environment variables) that share one `FileStore` directory.
//!
//! - CAS: several processes increment one document through load → compare-and-swap; no update
//!   may be lost (the `flock` around read-compare-write is what makes that true).
//! - Refresh (seed defect D7): two processes, each with its own `Client`, hit an expired session
//!   at once under refresh token rotation; exactly one refresh grant reaches the org and both
//!   processes' calls succeed.

mod support;

use std::process::{Command, Stdio};
use std::sync::Arc;

use sf_org_emulator::{Emulator, EmulatorConfig, Endpoint, Fault, FaultKind};
use sfcrm_core::store::TokenStore;
use sfcrm_core::{Client, ConnectionKey, FileStore, QueryOptions, SaveOutcome};
use support::*;

const SOQL: &str = "SELECT Id FROM Contact ORDER BY Id";

fn spawn_child(envs: &[(&str, String)]) -> std::process::Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "child_worker",
        "--nocapture",
        "--test-threads=1",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.spawn().expect("spawn child test process")
}

async fn wait_all(children: Vec<std::process::Child>) -> Vec<String> {
    tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| {
                let out = c.wait_with_output().unwrap();
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                assert!(out.status.success(), "child failed:\n{text}");
                assert!(
                    text.contains("1 passed"),
                    "the child worker did not run:\n{text}"
                );
                text
            })
            .collect()
    })
    .await
    .unwrap()
}

/// Entry point of the child processes (not a test on its own: it refuses to run without the
/// parent's environment).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process helper, run by the other tests of this file"]
async fn child_worker() {
    let mode = std::env::var("SFCRM_CHILD_MODE")
        .expect("run by a parent test, which sets SFCRM_CHILD_MODE");
    let dir = std::env::var("SFCRM_CHILD_DIR").unwrap();
    let store: Arc<dyn TokenStore> = Arc::new(FileStore::new(&dir).unwrap());
    let key = ConnectionKey::new("acc-mp", "user-mp");
    match mode.as_str() {
        "cas" => {
            let n: usize = std::env::var("SFCRM_CHILD_N").unwrap().parse().unwrap();
            let tag = std::process::id();
            for i in 0..n {
                loop {
                    let cur = store.load(&key).await.unwrap().unwrap();
                    let mut next = cur.clone();
                    next.version = cur.version + 1;
                    next.token.access_token = format!("00DFAKE!P{tag}-{i}").into();
                    if store.save(&next, Some(cur.version)).await.unwrap() == SaveOutcome::Saved {
                        break;
                    }
                }
            }
        }
        "refresh" => {
            let login_url = std::env::var("SFCRM_CHILD_LOGIN_URL").unwrap();
            let ecfg = EmulatorConfig::default();
            let config = test_config(&login_url, &ecfg.client_id, &ecfg.client_secret)
                .build()
                .unwrap();
            let client = Client::new(config, store).unwrap();
            let tasks: Vec<_> = (0..8)
                .map(|_| {
                    let (c, k) = (client.clone(), key.clone());
                    tokio::spawn(
                        async move { c.query_page(&k, SOQL, &QueryOptions::default()).await },
                    )
                })
                .collect();
            for t in tasks {
                let page = t.await.unwrap().expect("query after the shared refresh");
                assert_eq!(page.total_size, 40);
            }
            println!("child refreshes={}", client.api_calls().refreshes);
        }
        other => panic!("unknown SFCRM_CHILD_MODE {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_sharing_a_file_store_never_lose_a_cas_update() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path()).unwrap();
    let key = ConnectionKey::new("acc-mp", "user-mp");
    seed_connection(
        &store,
        &key,
        "https://acme.my.salesforce.com",
        "00DFAKE!TOKEN0",
        Some("5AepFAKE"),
    )
    .await;
    let dir_s = dir.path().to_string_lossy().into_owned();
    let children: Vec<_> = (0..3)
        .map(|_| {
            spawn_child(&[
                ("SFCRM_CHILD_MODE", "cas".into()),
                ("SFCRM_CHILD_DIR", dir_s.clone()),
                ("SFCRM_CHILD_N", "40".into()),
            ])
        })
        .collect();
    wait_all(children).await;
    let doc = store.load(&key).await.unwrap().unwrap();
    assert_eq!(
        doc.version,
        1 + 3 * 40,
        "every compare-and-swap from every process landed exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_an_expired_session_cause_exactly_one_refresh_under_rotation() {
    let ecfg = EmulatorConfig {
        contacts: 40,
        deals: 5,
        notes: 5,
        rotation: true,
        ..EmulatorConfig::default()
    };
    let emu = Emulator::start(ecfg.clone()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::new(dir.path()).unwrap());
    let client = Client::new(emulator_config(&emu, &ecfg).build().unwrap(), store.clone()).unwrap();
    let key = ConnectionKey::new("acc-mp", "user-mp");
    connect(&client, &key).await;
    emu.control().expire_sessions();
    emu.control().reset_counters();
    // Keep the winner's refresh in flight long enough for the other process to hit its 401.
    emu.control().add_fault(Fault {
        endpoint: Endpoint::Token,
        count: 1,
        kind: FaultKind::Delay { ms: 1000 },
    });
    let dir_s = dir.path().to_string_lossy().into_owned();
    let children: Vec<_> = (0..2)
        .map(|_| {
            spawn_child(&[
                ("SFCRM_CHILD_MODE", "refresh".into()),
                ("SFCRM_CHILD_DIR", dir_s.clone()),
                ("SFCRM_CHILD_LOGIN_URL", emu.login_url().to_owned()),
            ])
        })
        .collect();
    let outputs = wait_all(children).await;
    let refreshes: u64 = outputs
        .iter()
        .map(|o| {
            o.split("child refreshes=")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse::<u64>().ok())
                .expect("child printed its refresh count")
        })
        .sum();
    let c = emu.control().counters();
    assert_eq!(
        c.token_refresh_token, 1,
        "one refresh grant across both processes"
    );
    assert_eq!(refreshes, 1);
    // The family is alive (a duplicate refresh with the rotated-out token would have revoked it).
    emu.control().expire_sessions();
    client
        .query_page(&key, SOQL, &QueryOptions::default())
        .await
        .unwrap();
    let doc = store.load(&key).await.unwrap().unwrap();
    assert!(!doc.token_invalidated && doc.refresh_lease.is_none());
}
