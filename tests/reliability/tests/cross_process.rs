//! Issue 7.2: cross-process refresh. Four OS processes (this crate's `sfcrm-reliability-worker`),
//! each running 25 concurrent contact exports, share one connection in one SQLite file
//! ([`SqliteStore`], compare-and-swap `UPDATE … WHERE version = ?`). Refresh token rotation is
//! on and every session is expired just before the start signal, so all 100 exports hit
//! `INVALID_SESSION_ID` at once. Expected: exactly one refresh grant at the org (emulator
//! counters), no revoked token family (the stored refresh token still works afterwards), the
//! document not invalidated and without a lease, every export complete with every Id once.

use std::process::Stdio;
use std::time::{Duration, Instant};

use sf_org_emulator::{Emulator, EmulatorConfig};
use sfcrm_core::{Client, ConnectionKey, TokenStore};
use sfcrm_reliability::env::{connect, emulator_config};
use sfcrm_reliability::stores::{SqliteStore, open_store};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

const PROCESSES: usize = 4;
const EXPORTS_PER_PROCESS: usize = 25;
const CONTACTS: usize = 600;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_one_refresh_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tokens.sqlite");
    four_processes_one_refresh(db.to_str().unwrap(), ConnectionKey::new("acc-x", "user-x")).await;
}

/// The same on PostgreSQL, when `SFCRM_PG_URL` names a server (scripts/test-reliability.sh
/// starts one with scripts/reliability-pg.sh when the Debian server binaries are installed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_one_refresh_on_postgresql() {
    let Ok(url) = std::env::var("SFCRM_PG_URL") else {
        println!("cross-process on PostgreSQL: SKIPPED (SFCRM_PG_URL not set; run scripts/test-reliability.sh)");
        return;
    };
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    four_processes_one_refresh(&format!("postgres:{url}"), ConnectionKey::new(format!("acc-pg-{nanos}"), "user-pg")).await;
}

async fn four_processes_one_refresh(store_spec: &str, key: ConnectionKey) {
    let ecfg = EmulatorConfig { contacts: CONTACTS, deals: 5, notes: 5, rotation: true, ..EmulatorConfig::default() };
    let emu = Emulator::start(ecfg.clone()).await.unwrap();
    let store = open_store(store_spec).await.unwrap();
    let setup = Client::new(emulator_config(&emu, &ecfg).build().unwrap(), store.clone()).unwrap();
    connect(&setup, &key).await;
    // One rotation first, so the stored refresh token is already a rotated one.
    setup.refresh(&key).await.unwrap();
    let before = store.load(&key).await.unwrap().unwrap();

    let exe = env!("CARGO_BIN_EXE_sfcrm-reliability-worker");
    let mut children = Vec::new();
    for _ in 0..PROCESSES {
        let mut child = Command::new(exe)
            .args([
                emu.login_url(),
                store_spec,
                &key.account_id,
                &key.owner,
                &EXPORTS_PER_PROCESS.to_string(),
                &CONTACTS.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn worker");
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = out.next_line().await.unwrap();
        assert_eq!(ready.as_deref(), Some("ready"));
        children.push((child, out));
    }
    let control = emu.control();
    control.reset_counters();
    let expired = control.expire_sessions();
    assert!(expired >= 1);
    let started = Instant::now();
    for (child, _) in children.iter_mut() {
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"go\n").await.unwrap();
        drop(stdin);
    }
    let mut reports = Vec::new();
    for (mut child, mut out) in children {
        let line = tokio::time::timeout(Duration::from_secs(120), out.next_line()).await.expect("worker finished in time");
        let status = child.wait().await.unwrap();
        let report: serde_json::Value = serde_json::from_str(&line.unwrap().expect("report line")).unwrap();
        reports.push((status.success(), report));
    }
    let elapsed = started.elapsed();
    let counters = control.counters();
    for (ok, r) in &reports {
        println!("worker: ok={ok} {r}");
    }
    println!(
        "cross-process ({}): {PROCESSES} processes x {EXPORTS_PER_PROCESS} exports x {CONTACTS} contacts in {:.1} s; \
         token requests at the org: refresh_token={} other={}; query={} query_more={}",
        store_spec.split(':').next().filter(|s| *s == "postgres").unwrap_or("sqlite"),
        elapsed.as_secs_f64(),
        counters.token_refresh_token,
        counters.token_other,
        counters.query,
        counters.query_more
    );
    let complete: u64 = reports.iter().map(|(_, r)| r["complete"].as_u64().unwrap()).sum();
    assert_eq!(complete as usize, PROCESSES * EXPORTS_PER_PROCESS, "every export complete");
    assert!(reports.iter().all(|(ok, _)| *ok));
    assert_eq!(counters.token_refresh_token, 1, "exactly one refresh grant across 4 processes");
    let sdk_refreshes: u64 = reports.iter().map(|(_, r)| r["refreshes"].as_u64().unwrap()).sum();
    assert_eq!(sdk_refreshes, 1, "exactly one process sent the refresh grant");
    let after = store.load(&key).await.unwrap().unwrap();
    assert!(!after.token_invalidated);
    assert!(after.refresh_lease.is_none(), "lease released");
    assert_ne!(after.token.refresh_token, before.token.refresh_token, "the rotated refresh token was stored");
    // No revoked family: the stored refresh token still refreshes.
    control.reset_counters();
    setup.refresh(&key).await.expect("the token family is alive");
    assert_eq!(control.counters().token_refresh_token, 1);
    emu.shutdown().await;
}

/// The SQLite store's compare-and-swap: a stale expected version conflicts and writes nothing;
/// an insert over an existing row conflicts.
#[tokio::test]
async fn sqlite_store_cas() {
    use sfcrm_core::SaveOutcome;
    let dir = tempfile::tempdir().unwrap();
    let a = SqliteStore::open(dir.path().join("s.db")).unwrap();
    let b = SqliteStore::open(dir.path().join("s.db")).unwrap();
    let mut doc = sfcrm_core::ConnectionDocument::from_json(
        r#"{"account_id":"a","owner":"o","token":{"access_token":"t1","refresh_token":"r1"},"instance_url":"https://x.my.salesforce.com","version":1}"#,
    )
    .unwrap();
    assert_eq!(a.save(&doc, None).await.unwrap(), SaveOutcome::Saved);
    assert_eq!(b.save(&doc, None).await.unwrap(), SaveOutcome::Conflict);
    doc.version = 2;
    assert_eq!(b.save(&doc, Some(1)).await.unwrap(), SaveOutcome::Saved);
    doc.version = 2;
    doc.token.access_token = sfcrm_core::Secret::new("t-stale");
    assert_eq!(a.save(&doc, Some(1)).await.unwrap(), SaveOutcome::Conflict);
    let cur = a.load(&doc.key()).await.unwrap().unwrap();
    assert_eq!(cur.version, 2);
    assert_eq!(cur.token.access_token.expose(), "t1");
    assert!(b.delete(&doc.key()).await.unwrap());
    assert!(a.load(&doc.key()).await.unwrap().is_none());
    assert!(!a.delete(&doc.key()).await.unwrap());
}
