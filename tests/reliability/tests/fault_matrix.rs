//! Issue 7.1: the fault matrix. Every fault the org emulator (and a failing store) can inject,
//! crossed with every operation (callback, refresh, export page, stream, Bulk API 2.0 stream,
//! disconnect), each in a
//! transient variant (the fault hits once) and a persistent one (it outlasts every retry).
//! Each cell asserts its expected outcome:
//! - `ok`: completes, with exactly the right records (page 2 = Ids 100..200 of the Id-ordered
//!   list; a stream = every Id once, in order);
//! - `Kind`: a typed error of that kind, the stored tokens unchanged and no refresh lease left
//!   behind (an `invalid_grant` marks the document invalidated, by design), then the operation is
//!   resumed (a stream from its checkpoint, after a reconnect when the error says so) and must
//!   complete with exactly the right records;
//! - `redirect`: the callback answers the seed's error redirect and stores nothing; a new login
//!   then succeeds;
//! - `unrevoked`: disconnect deletes the document and reports the revoke failure.
//!
//! Two rows (issue 14) put the store fault right after a successful token grant: the store fails,
//! or hangs, on the first call after the code exchange (callback) or on the save that follows the
//! refresh grant (the save taking the lease goes through). Once: the SDK tries again and completes.
//! Persistent: a `Store` error that says the tokens were refreshed and are kept in memory; an
//! export page then still works from memory while the store is down; once it is back, the
//! operation resumes. Every such cell then asserts that the stored refresh token is the live one
//! (the org's current token of its family, no lease left, no family revoked, and another SDK
//! instance refreshes from it); disconnect revokes the newest refresh token. A hung store call
//! never ends by itself: each operation must finish within `OP_BOUND`.
//!
//! Rotation is on everywhere. The matrix and its counts are printed (`--nocapture`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use sf_org_emulator::{Emulator, EmulatorConfig, Endpoint, Fault, FaultKind, RefreshTokenState, SObject};
use sfcrm_core::export::{BulkOptions, Checkpoint, ExportMode, ExportRequest, ExportSpec, PageRequest};
use sfcrm_core::{CallbackOutcome, Client, ConnectionDocument, ConnectionKey, ErrorKind, MemoryStore, RetryPolicy, TokenStore};
use sfcrm_reliability::env::{FORWARD_URL, authorize, connect, emulator_config};
use sfcrm_reliability::stores::{FaultyStore, StoreFault};

const CONTACTS: usize = 650;
const BATCH: u32 = 200;
const PERSISTENT: u32 = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum F {
    ExpiredSession,
    RevokedRefresh,
    RotatedReused,
    Html503,
    Html503RetryNow,
    Status500,
    Empty401,
    Truncated,
    Reset,
    Timeout,
    RequestLimit,
    InvalidLocator,
    StoreFails,
    StoreConflicts,
    StoreFailsAfterGrant,
    StoreHangsAfterGrant,
}
const FAULTS: [F; 16] = [
    F::ExpiredSession,
    F::RevokedRefresh,
    F::RotatedReused,
    F::Html503,
    F::Html503RetryNow,
    F::Status500,
    F::Empty401,
    F::Truncated,
    F::Reset,
    F::Timeout,
    F::RequestLimit,
    F::InvalidLocator,
    F::StoreFails,
    F::StoreConflicts,
    F::StoreFailsAfterGrant,
    F::StoreHangsAfterGrant,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Callback,
    Refresh,
    ExportPage,
    Stream,
    /// A stream read by a Bulk API 2.0 job (issue 12): faults hit the result pages after the first.
    Bulk,
    Disconnect,
}
const OPS: [Op; 6] = [Op::Callback, Op::Refresh, Op::ExportPage, Op::Stream, Op::Bulk, Op::Disconnect];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Ok,
    Err(ErrorKind),
    Redirect,
    Unrevoked,
}

fn emulator_fault(f: F) -> Option<FaultKind> {
    Some(match f {
        F::Html503 => FaultKind::Html503 { retry_after_s: 1 },
        F::Html503RetryNow => FaultKind::Html503 { retry_after_s: 0 },
        F::Status500 => FaultKind::Status500,
        F::Empty401 => FaultKind::Empty401,
        F::Truncated => FaultKind::Truncated,
        F::Reset => FaultKind::Reset,
        F::Timeout => FaultKind::Delay { ms: 1500 },
        F::RequestLimit => FaultKind::RequestLimit,
        F::InvalidLocator => FaultKind::InvalidLocator,
        _ => return None,
    })
}

/// The expected outcome of a cell. `persistent`: the fault outlasts the retry policy.
fn expect(f: F, op: Op, persistent: bool) -> Expect {
    use Expect::*;
    use ErrorKind as K;
    let transport = emulator_fault(f).is_some();
    if after_grant(f) {
        // The grant succeeded: a store that fails once is retried; one that stays down gets a
        // `Store` error, and the process keeps the new tokens until it can save them. Disconnect
        // (after such a refresh) revokes the newest refresh token.
        return if persistent && op != Op::Disconnect { Err(K::Store) } else { Ok };
    }
    match op {
        // The token endpoint is never retried once a request may have reached it (RTR), so any
        // transport fault there is an error redirect.
        Op::Callback if transport => Redirect,
        Op::Callback => match (f, persistent) {
            // The store fails right after the code grant: tried again (issue 14), so a single
            // failure is survived; a persistent one is `Store` with nothing stored.
            (F::StoreFails, false) => Ok,
            (F::StoreFails, true) => Err(K::Store),
            (F::StoreConflicts, true) => Err(K::StoreConflict),
            _ => Ok,
        },
        Op::Refresh => match f {
            F::ExpiredSession => Ok,
            F::RevokedRefresh | F::RotatedReused => Err(K::ReconnectRequired),
            // An outage at the token endpoint (5xx without an OAuth error object) is `Api`:
            // transient, with the server's Retry-After, never retried by the SDK itself (the grant
            // may have been processed). Other refusals are `OAuth` with their status.
            F::Html503 | F::Html503RetryNow | F::Status500 => Err(K::Api),
            F::Empty401 | F::RequestLimit | F::InvalidLocator => Err(K::OAuth),
            F::Truncated => Err(K::Protocol),
            F::Reset => Err(K::Network),
            F::Timeout => Err(K::Timeout),
            F::StoreFails => Err(K::Store),
            F::StoreConflicts if persistent => Err(K::StoreConflict),
            F::StoreConflicts => Ok,
            F::StoreFailsAfterGrant | F::StoreHangsAfterGrant => unreachable!("after_grant above"),
        },
        Op::ExportPage | Op::Stream => match f {
            F::ExpiredSession => Ok,
            F::RevokedRefresh | F::RotatedReused => Err(K::ReconnectRequired),
            F::RequestLimit => Err(K::RateLimited),
            F::StoreFails => Err(K::Store),
            F::StoreConflicts if persistent => Err(K::StoreConflict),
            F::StoreConflicts => Ok,
            // A dead locator restarts the stream from its last record; a page has no locator.
            F::InvalidLocator if op == Op::Stream => Ok,
            F::InvalidLocator => Err(K::Api),
            // A 401 mid-stream: refresh, then restart from the last record.
            F::Empty401 if op == Op::Stream => Ok,
            // A Retry-After (1 s) longer than the retry policy's max_backoff (20 ms) goes back to
            // the caller with `retry_after` instead of being waited out or cut short.
            F::Html503 => Err(K::Api),
            _ if !persistent => Ok,
            F::Status500 | F::Html503RetryNow => Err(K::Api),
            F::Empty401 => Err(K::SessionExpired),
            F::Truncated => Err(K::Protocol),
            F::Reset => Err(K::Network),
            F::Timeout => Err(K::Timeout),
            F::StoreFailsAfterGrant | F::StoreHangsAfterGrant => unreachable!("after_grant above"),
        },
        // A Bulk download: the job's result pages are re-fetchable, so a 401 is refreshed and the
        // page asked again (a persistent one: `SessionExpired`), an unreadable page is fetched
        // again once, and any error resumes from the checkpoint on the same job.
        Op::Bulk => match f {
            F::ExpiredSession => Ok,
            F::RevokedRefresh | F::RotatedReused => Err(K::ReconnectRequired),
            F::RequestLimit => Err(K::RateLimited),
            F::StoreFails => Err(K::Store),
            F::StoreConflicts if persistent => Err(K::StoreConflict),
            F::StoreConflicts => Ok,
            F::InvalidLocator => Err(K::Api),
            F::Html503 => Err(K::Api),
            _ if !persistent => Ok,
            F::Status500 | F::Html503RetryNow => Err(K::Api),
            F::Empty401 => Err(K::SessionExpired),
            F::Truncated => Err(K::Protocol),
            F::Reset => Err(K::Network),
            F::Timeout => Err(K::Timeout),
            F::StoreFailsAfterGrant | F::StoreHangsAfterGrant => unreachable!("after_grant above"),
        },
        Op::Disconnect => match f {
            F::StoreFails => Err(K::Store),
            F::RevokedRefresh | F::RotatedReused => Unrevoked,
            _ if transport => Unrevoked,
            _ => Ok,
        },
    }
}

struct Cell {
    emu: Emulator,
    ecfg: EmulatorConfig,
    store: Arc<FaultyStore>,
    client: Client,
    key: ConnectionKey,
    contact_ids: Vec<String>,
    /// Emulator faults armed, and consumed (counted at disarm time).
    armed: std::sync::atomic::AtomicU64,
    consumed: std::sync::atomic::AtomicU64,
}

fn cell_config(emu: &Emulator, ecfg: &EmulatorConfig) -> sfcrm_core::Config {
    emulator_config(emu, ecfg)
        .retry(RetryPolicy { max_retries: 3, initial_backoff: Duration::from_millis(1), max_backoff: Duration::from_millis(20) })
        .request_timeout(Duration::from_millis(700))
        .token_timeout(Duration::from_millis(700))
        .refresh_wait(Duration::from_secs(1))
        .build()
        .unwrap()
}

async fn cell_env() -> Cell {
    let ecfg = EmulatorConfig { contacts: CONTACTS, deals: 10, notes: 5, rotation: true, ..EmulatorConfig::default() };
    let emu = Emulator::start(ecfg.clone()).await.expect("emulator");
    let store = Arc::new(FaultyStore::new(Arc::new(MemoryStore::new())));
    let client = Client::new(cell_config(&emu, &ecfg), store.clone()).unwrap();
    let control = emu.control();
    let contact_ids = (0..CONTACTS as u64).map(|i| control.record_id(SObject::Contact, i)).collect();
    Cell {
        emu,
        ecfg,
        store,
        client,
        key: ConnectionKey::new("acc-m", "user-m"),
        contact_ids,
        armed: Default::default(),
        consumed: Default::default(),
    }
}

/// Stored state that must survive a failed operation: tokens, instance_url, invalidated flag,
/// and whether a lease is left behind.
fn essence(d: &Option<ConnectionDocument>) -> Option<(String, Option<String>, String, bool, bool)> {
    d.as_ref().map(|d| {
        (
            d.token.access_token.expose().to_owned(),
            d.token.refresh_token.as_ref().map(|s| s.expose().to_owned()),
            d.instance_url.clone(),
            d.token_invalidated,
            d.refresh_lease.is_some(),
        )
    })
}

struct Armed {
    pre_rotation: Option<ConnectionDocument>,
}

/// Arms fault `f` on the endpoint `op` uses (count 1 or [`PERSISTENT`]).
async fn arm(c: &Cell, f: F, op: Op, persistent: bool, armed: &Armed) {
    let control = c.emu.control();
    let count = if persistent { PERSISTENT } else { 1 };
    if let Some(kind) = emulator_fault(f) {
        let endpoint = match op {
            Op::Callback | Op::Refresh => Endpoint::Token,
            Op::ExportPage => Endpoint::Query,
            Op::Stream => Endpoint::QueryMore,
            Op::Bulk => Endpoint::BulkResults,
            Op::Disconnect => Endpoint::Revoke,
        };
        control.add_fault(Fault { endpoint, count, kind });
        c.armed.fetch_add(count as u64, Ordering::SeqCst);
        return;
    }
    match f {
        F::ExpiredSession => {
            control.expire_sessions();
        }
        F::RevokedRefresh => {
            control.revoke_refresh_tokens();
        }
        F::RotatedReused => {
            // A stale replica / restored backup: the store goes back to the document from before
            // the last rotation, whose refresh token Salesforce has rotated out.
            let old = armed.pre_rotation.clone().expect("pre-rotation doc");
            let cur = c.store.load(&c.key).await.unwrap();
            if let Some(cur) = cur {
                let mut back = old.clone();
                back.version = cur.version + 1;
                assert_eq!(c.store.save(&back, Some(cur.version)).await.unwrap(), sfcrm_core::SaveOutcome::Saved);
            }
            control.expire_sessions();
        }
        F::StoreFails => c.store.arm(StoreFault::Fail(if persistent { u64::MAX } else { 1 })),
        F::StoreConflicts => {
            if matches!(op, Op::ExportPage | Op::Stream | Op::Bulk) {
                control.expire_sessions(); // so the operation has to save (refresh)
            }
            c.store.arm(StoreFault::Conflict(if persistent { u64::MAX } else { 1 }));
        }
        _ => unreachable!(),
    }
}

fn disarm(c: &Cell) {
    let left: u64 = c.emu.control().pending_faults().iter().map(|x| x.count as u64).sum();
    c.consumed.fetch_add(c.armed.swap(0, Ordering::SeqCst) - left, Ordering::SeqCst);
    c.emu.control().clear_faults();
    c.store.clear();
}

fn ids(records: &[sfcrm_core::export::Record]) -> Vec<String> {
    records.iter().map(sfcrm_reliability::record_id).collect()
}

fn raw_ids(records: &[sfcrm_core::export::RawRecord]) -> Vec<String> {
    records.iter().map(sfcrm_reliability::raw_record_id).collect()
}

/// Reconnects when the error asks for it (login deletes an invalidated document).
async fn reconnect_if_needed(c: &Cell, kind: ErrorKind) {
    if kind == ErrorKind::ReconnectRequired {
        connect(&c.client, &c.key).await;
    }
}

/// Runs one cell; returns (outcome label, faults injected) or a failure description.
async fn run_cell(f: F, op: Op, persistent: bool) -> Result<(String, u64), String> {
    if after_grant(f) {
        return run_after_grant_cell(f, op, persistent).await;
    }
    let c = cell_env().await;
    let want = expect(f, op, persistent);
    let mut armed = Armed { pre_rotation: None };
    // Set-up: connected (except for the callback cell), one rotation done so a rotated-out
    // refresh token exists.
    if op != Op::Callback || f == F::RotatedReused {
        connect(&c.client, &c.key).await;
        armed.pre_rotation = c.store.load(&c.key).await.unwrap();
        c.client.refresh(&c.key).await.map_err(|e| format!("set-up refresh: {e:?}"))?;
    }
    let before = c.store.load(&c.key).await.unwrap();
    let faults_before = c.store.injected.load(Ordering::SeqCst);
    let label;
    match op {
        Op::Callback => {
            if op == Op::Callback && f == F::RotatedReused {
                c.client.disconnect(&c.key).await.map_err(|e| format!("{e:?}"))?;
            }
            let login = c.client.login(&c.key, Some(FORWARD_URL)).await.map_err(|e| format!("login {e:?}"))?;
            let params = authorize(&login.url).await;
            let before = c.store.load(&c.key).await.unwrap();
            arm(&c, f, op, persistent, &armed).await;
            let r = c.client.callback(&params).await;
            disarm(&c);
            let after = c.store.load(&c.key).await.unwrap();
            match (want, r) {
                (Expect::Ok, Ok(cb)) if cb.outcome == CallbackOutcome::Success && after.is_some() => label = "ok".into(),
                (Expect::Redirect, Ok(cb)) if matches!(cb.outcome, CallbackOutcome::Error { .. }) => {
                    if essence(&after) != essence(&before) {
                        return Err("callback error redirect changed the store".into());
                    }
                    if !cb.url.starts_with("https://app.acme.example/integrations?tab=crm&status=error&integration=salesforce&reason=") {
                        return Err(format!("bad error redirect {}", cb.url));
                    }
                    connect(&c.client, &c.key).await;
                    label = "redirect".into();
                }
                (Expect::Err(k), Err(e)) if e.kind() == k && retry_after_ok(f, &e) => {
                    if essence(&c.store.load(&c.key).await.unwrap()) != essence(&before) {
                        return Err("store changed".into());
                    }
                    connect(&c.client, &c.key).await;
                    label = format!("{k:?}→ok");
                }
                (w, r) => return Err(format!("want {w:?}, got {:?}", r.map(|cb| cb.url))),
            }
        }
        Op::Refresh => {
            arm(&c, f, op, persistent, &armed).await;
            let r = c.client.refresh(&c.key).await;
            let stale = f == F::RotatedReused;
            disarm(&c);
            match (want, r) {
                (Expect::Ok, Ok(info)) => {
                    let after = c.store.load(&c.key).await.unwrap().unwrap();
                    if after.token.access_token == before.as_ref().unwrap().token.access_token || after.refresh_lease.is_some() {
                        return Err(format!("refresh did not store a new token cleanly: {info:?}"));
                    }
                    label = "ok".into();
                }
                (Expect::Err(k), Err(e)) if e.kind() == k && retry_after_ok(f, &e) => {
                    let after = c.store.load(&c.key).await.unwrap();
                    let mut expected = essence(&before);
                    if k == ErrorKind::ReconnectRequired {
                        if stale {
                            expected = essence(&armed.pre_rotation);
                        }
                        if let Some(e) = expected.as_mut() {
                            e.3 = true; // invalidated, by design
                        }
                    }
                    if essence(&after) != expected {
                        return Err(format!("store changed after {k:?}: {:?}", essence(&after).map(|e| (e.3, e.4))));
                    }
                    reconnect_if_needed(&c, k).await;
                    match c.client.refresh(&c.key).await {
                        Ok(_) => label = format!("{k:?}→ok"),
                        // Under RTR, a refresh whose response was lost (timeout after the
                        // grant was processed) consumed the stored refresh token.
                        Err(e2) if f == F::Timeout && e2.kind() == ErrorKind::ReconnectRequired => {
                            reconnect_if_needed(&c, e2.kind()).await;
                            c.client.refresh(&c.key).await.map_err(|e| format!("after reconnect: {e:?}"))?;
                            label = format!("{k:?}→reconnect→ok");
                        }
                        Err(e2) => return Err(format!("resume refresh: {e2:?}")),
                    }
                }
                (w, r) => return Err(format!("want {w:?}, got {:?}", r.map(|_| ()))),
            }
        }
        Op::ExportPage => {
            let spec = ExportSpec::builtin("contacts").unwrap();
            let req = PageRequest { page: 2, limit: Some(100) };
            let want_ids = &c.contact_ids[100..200];
            arm(&c, f, op, persistent, &armed).await;
            let r = c.client.export_page(&c.key, &spec, req).await;
            disarm(&c);
            match (want, r) {
                (Expect::Ok, Ok(p)) if ids(&p.data) == want_ids => label = "ok".into(),
                (Expect::Err(k), Err(e)) if e.kind() == k && retry_after_ok(f, &e) => {
                    let after = c.store.load(&c.key).await.unwrap();
                    check_unchanged(&before, &after, k, f, &armed)?;
                    reconnect_if_needed(&c, k).await;
                    let p = c.client.export_page(&c.key, &spec, req).await.map_err(|e| format!("resume page: {e:?}"))?;
                    if ids(&p.data) != want_ids {
                        return Err("resumed page has the wrong records".into());
                    }
                    label = format!("{k:?}→ok");
                }
                (w, r) => return Err(format!("want {w:?}, got {:?}", r.map(|p| p.data.len()))),
            }
        }
        Op::Stream | Op::Bulk => {
            let spec = ExportSpec::builtin("contacts").unwrap();
            let mut stream = c.client.export_stream(&c.key, stream_request(op, &spec));
            let mut got = raw_ids(&stream.next_batch().await.map_err(|e| format!("first batch {e:?}"))?.unwrap().records);
            arm(&c, f, op, persistent, &armed).await;
            let mut failure = None;
            loop {
                match stream.next_batch().await {
                    Ok(Some(b)) => got.extend(raw_ids(&b.records)),
                    Ok(None) => break,
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            let checkpoint: Checkpoint = stream.checkpoint();
            drop(stream);
            disarm(&c);
            match (want, failure) {
                (Expect::Ok, None) if exactly_once(op, &got, &c.contact_ids) => label = "ok".into(),
                (Expect::Err(k), Some(e)) if e.kind() == k && retry_after_ok(f, &e) => {
                    let after = c.store.load(&c.key).await.unwrap();
                    check_unchanged(&before, &after, k, f, &armed)?;
                    reconnect_if_needed(&c, k).await;
                    let token = checkpoint.to_token();
                    let mut resumed = c.client.export_stream(
                        &c.key,
                        stream_request(op, &spec).resume_from(Checkpoint::from_token(&token).unwrap()),
                    );
                    while let Some(b) = resumed.next_batch().await.map_err(|e| format!("resume: {e:?}"))? {
                        got.extend(raw_ids(&b.records));
                    }
                    if !exactly_once(op, &got, &c.contact_ids) {
                        return Err(format!("resumed stream: {} records, want {} exactly once", got.len(), CONTACTS));
                    }
                    label = format!("{k:?}→ok");
                }
                (w, r) => {
                    return Err(format!("want {w:?}, got {:?} after {} records", r.map(|e| format!("{e:?}")), got.len()));
                }
            }
        }
        Op::Disconnect => {
            arm(&c, f, op, persistent, &armed).await;
            let r = c.client.disconnect(&c.key).await;
            disarm(&c);
            let after = c.store.load(&c.key).await.unwrap();
            match (want, r) {
                (Expect::Ok, Ok(d)) if d.revoked && after.is_none() => label = "ok".into(),
                (Expect::Unrevoked, Ok(d)) if !d.revoked && d.revoke_error.is_some() && after.is_none() => {
                    label = "unrevoked".into()
                }
                (Expect::Err(k), Err(e)) if e.kind() == k && retry_after_ok(f, &e) => {
                    if essence(&after) != essence(&before) {
                        return Err("store changed".into());
                    }
                    let d = c.client.disconnect(&c.key).await.map_err(|e| format!("resume: {e:?}"))?;
                    if !d.revoked || c.store.load(&c.key).await.unwrap().is_some() {
                        return Err("resumed disconnect did not revoke and delete".into());
                    }
                    label = format!("{k:?}→ok");
                }
                (w, r) => return Err(format!("want {w:?}, got {r:?}")),
            }
        }
    }
    // Faults injected: store faults counted by the decorator; emulator faults = armed − left.
    let mut injected = c.store.injected.load(Ordering::SeqCst) - faults_before;
    if emulator_fault(f).is_some() {
        injected += c.consumed.load(Ordering::SeqCst);
    } else if !matches!(f, F::StoreFails | F::StoreConflicts) {
        injected += 1;
    }
    let _ = &c.ecfg;
    c.emu.shutdown().await;
    Ok((label, injected))
}

// ---- the save after a successful grant (issue 14) ------------------------------------------------

/// A hung store call outlasts every cell: only the SDK's own bounds can end it.
const STORE_HANG: Duration = Duration::from_secs(3600);
/// How long one operation of an after-grant cell may take. The SDK bounds the save that follows a
/// grant by a few `token_timeout` (700 ms) attempts, within the refresh lease.
const OP_BOUND: Duration = Duration::from_secs(10);

/// The store faults that hit the first store call after a successful token grant.
fn after_grant(f: F) -> bool {
    matches!(f, F::StoreFailsAfterGrant | F::StoreHangsAfterGrant)
}

fn after_grant_fault(f: F, persistent: bool) -> StoreFault {
    let n = if persistent { u64::MAX } else { 1 };
    match f {
        F::StoreFailsAfterGrant => StoreFault::Fail(n),
        _ => StoreFault::Hang(n, STORE_HANG),
    }
}

/// Arms the fault so that it fires right after the grant: for the callback (no lease) at once,
/// the code exchange being its first step; for a refresh after the save that takes the lease.
fn arm_after_grant(c: &Cell, f: F, op: Op, persistent: bool) {
    let after_saves = if op == Op::Callback { 0 } else { 1 };
    c.store.arm_after_saves(after_saves, after_grant_fault(f, persistent));
}

async fn bounded<T>(what: &str, fut: impl std::future::Future<Output = T>) -> Result<T, String> {
    tokio::time::timeout(OP_BOUND, fut)
        .await
        .map_err(|_| format!("{what} did not finish within {OP_BOUND:?} (the store hangs)"))
}

/// The `Store` error of a refresh whose tokens could not be saved: says so, and no token in it.
fn kept_tokens_error(e: &sfcrm_core::Error) -> Result<(), String> {
    let text = format!("{e} {e:?}");
    if e.kind() != ErrorKind::Store {
        return Err(format!("want Store, got {e:?}"));
    }
    let m = e.message();
    if !(m.contains("refreshed") && m.contains("could not be saved") && m.contains("keeps")) {
        return Err(format!("the error does not say the tokens were refreshed and kept: {m}"));
    }
    // Emulator access tokens carry "!AQ", refresh tokens start with "5Aep861".
    if text.contains("!AQ") || text.contains("5Aep861") {
        return Err("a token appears in the error".into());
    }
    Ok(())
}

/// Afterwards the stored refresh token is the live one: the org knows it as its family's current
/// token, no lease is left, no family was revoked (`families` still live), and another SDK instance
/// sharing the store (another process, with no tokens in memory) refreshes from it.
async fn check_stored_token_live(c: &Cell, families: usize) -> Result<(), String> {
    let control = c.emu.control();
    let doc = c.store.load(&c.key).await.map_err(|e| format!("load: {e}"))?.ok_or("nothing stored")?;
    let rt = doc.token.refresh_token.as_ref().ok_or("no refresh token stored")?;
    let state = control.refresh_token_state(rt.expose());
    if state != RefreshTokenState::Live || doc.refresh_lease.is_some() || doc.token_invalidated {
        return Err(format!(
            "stored refresh token is {state:?} (lease left: {}, invalidated: {})",
            doc.refresh_lease.is_some(),
            doc.token_invalidated
        ));
    }
    if control.live_refresh_families() != families {
        return Err(format!("{} live token families, want {families}", control.live_refresh_families()));
    }
    let other = Client::new(cell_config(&c.emu, &c.ecfg), c.store.clone()).unwrap();
    other.refresh(&c.key).await.map_err(|e| format!("another process could not refresh from the store: {e:?}"))?;
    let doc = c.store.load(&c.key).await.unwrap().unwrap();
    let state = control.refresh_token_state(doc.token.refresh_token.as_ref().unwrap().expose());
    if state != RefreshTokenState::Live || control.live_refresh_families() != families {
        return Err(format!("after another process refreshed: {state:?}"));
    }
    Ok(())
}

/// One cell of the after-grant rows. Set-up as in [`run_cell`]: connected, one rotation done.
async fn run_after_grant_cell(f: F, op: Op, persistent: bool) -> Result<(String, u64), String> {
    let c = cell_env().await;
    if op != Op::Callback {
        connect(&c.client, &c.key).await;
        c.client.refresh(&c.key).await.map_err(|e| format!("set-up refresh: {e:?}"))?;
    }
    let faults_before = c.store.injected.load(Ordering::SeqCst);
    let mut families = 1;
    let label = match op {
        Op::Callback => {
            let login = c.client.login(&c.key, Some(FORWARD_URL)).await.map_err(|e| format!("login {e:?}"))?;
            let params = authorize(&login.url).await;
            arm_after_grant(&c, f, op, persistent);
            let r = bounded("callback", c.client.callback(&params)).await?;
            disarm(&c);
            let stored = c.store.load(&c.key).await.unwrap();
            match (persistent, r) {
                (false, Ok(cb)) if cb.outcome == CallbackOutcome::Success && stored.is_some() => "ok".to_string(),
                (true, Err(e)) if e.kind() == ErrorKind::Store && stored.is_none() => {
                    // The code grant's tokens are lost (nothing rotated out is stored), so the
                    // user connects again; the orphaned family stays live at the org.
                    connect(&c.client, &c.key).await;
                    families = 2;
                    "Store→ok".to_string()
                }
                (p, r) => return Err(format!("persistent={p}: got {:?}, stored: {}", r.map(|cb| cb.url), stored.is_some())),
            }
        }
        Op::Refresh | Op::Disconnect => {
            arm_after_grant(&c, f, op, persistent);
            let r = bounded("refresh", c.client.refresh(&c.key)).await?;
            disarm(&c);
            match (persistent, r) {
                (false, Ok(_)) => {}
                (true, Err(e)) => kept_tokens_error(&e)?,
                (p, r) => return Err(format!("persistent={p}: refresh got {:?}", r.map(|_| ()))),
            }
            if op == Op::Disconnect {
                // The newest refresh token (saved, or kept in memory) is the one revoked.
                let d = c.client.disconnect(&c.key).await.map_err(|e| format!("disconnect: {e:?}"))?;
                let live = c.emu.control().live_refresh_families();
                if !d.revoked || c.store.load(&c.key).await.unwrap().is_some() || live != 0 {
                    return Err(format!("disconnect: revoked {}, {live} live families left", d.revoked));
                }
                let faults = c.store.injected.load(Ordering::SeqCst) - faults_before;
                c.emu.shutdown().await;
                return Ok(("ok".into(), faults));
            }
            if persistent {
                c.client.refresh(&c.key).await.map_err(|e| format!("resume refresh: {e:?}"))?;
                "Store→ok".to_string()
            } else {
                "ok".to_string()
            }
        }
        Op::ExportPage => {
            let spec = ExportSpec::builtin("contacts").unwrap();
            let req = PageRequest { page: 2, limit: Some(100) };
            let want_ids = &c.contact_ids[100..200];
            c.emu.control().expire_sessions();
            arm_after_grant(&c, f, op, persistent);
            let r = bounded("export page", c.client.export_page(&c.key, &spec, req)).await?;
            match (persistent, r) {
                (false, Ok(p)) if ids(&p.data) == want_ids => {
                    disarm(&c);
                    "ok".to_string()
                }
                (true, Err(e)) => {
                    kept_tokens_error(&e)?;
                    // The store is still down: this process goes on with the tokens it keeps.
                    let p = bounded("page while the store is down", c.client.export_page(&c.key, &spec, req))
                        .await?
                        .map_err(|e| format!("page while the store is down: {e:?}"))?;
                    disarm(&c);
                    if ids(&p.data) != want_ids {
                        return Err("page while the store is down has the wrong records".into());
                    }
                    let p = c.client.export_page(&c.key, &spec, req).await.map_err(|e| format!("resume page: {e:?}"))?;
                    if ids(&p.data) != want_ids {
                        return Err("resumed page has the wrong records".into());
                    }
                    "Store→ok".to_string()
                }
                (p, r) => return Err(format!("persistent={p}: got {:?}", r.map(|p| p.data.len()))),
            }
        }
        Op::Stream | Op::Bulk => {
            let spec = ExportSpec::builtin("contacts").unwrap();
            let mut stream = c.client.export_stream(&c.key, stream_request(op, &spec));
            let mut got = raw_ids(&stream.next_batch().await.map_err(|e| format!("first batch {e:?}"))?.unwrap().records);
            c.emu.control().expire_sessions();
            arm_after_grant(&c, f, op, persistent);
            let mut failure = None;
            loop {
                match bounded("stream batch", stream.next_batch()).await? {
                    Ok(Some(b)) => got.extend(raw_ids(&b.records)),
                    Ok(None) => break,
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            let token = stream.checkpoint().to_token();
            drop(stream);
            disarm(&c);
            match (persistent, failure) {
                (false, None) if exactly_once(op, &got, &c.contact_ids) => "ok".to_string(),
                (true, Some(e)) => {
                    kept_tokens_error(&e)?;
                    let mut resumed = c.client.export_stream(
                        &c.key,
                        stream_request(op, &spec).resume_from(Checkpoint::from_token(&token).unwrap()),
                    );
                    while let Some(b) = resumed.next_batch().await.map_err(|e| format!("resume: {e:?}"))? {
                        got.extend(raw_ids(&b.records));
                    }
                    if !exactly_once(op, &got, &c.contact_ids) {
                        return Err(format!("resumed stream: {} records, want {} exactly once", got.len(), CONTACTS));
                    }
                    "Store→ok".to_string()
                }
                (p, r) => return Err(format!("persistent={p}: got {:?} after {} records", r.map(|e| format!("{e:?}")), got.len())),
            }
        }
    };
    check_stored_token_live(&c, families).await?;
    let faults = c.store.injected.load(Ordering::SeqCst) - faults_before;
    c.emu.shutdown().await;
    Ok((label, faults))
}

/// The stream of a cell: REST batches of [`BATCH`], or a Bulk API 2.0 job with pages of
/// [`BATCH`] read one after the other (so faults hit the later pages) and fast polls.
fn stream_request(op: Op, spec: &ExportSpec) -> ExportRequest {
    let request = ExportRequest::new(spec.clone()).batch_size(BATCH);
    if op != Op::Bulk {
        return request;
    }
    let bulk = BulkOptions {
        max_records: BATCH,
        concurrency: 1,
        poll_interval: Duration::from_millis(20),
        poll_max_interval: Duration::from_millis(100),
        ..BulkOptions::default()
    };
    request.mode(ExportMode::Bulk).bulk_options(bulk)
}

/// Every Id once: in Id order for REST, in any order for Bulk (its results have no order).
fn exactly_once(op: Op, got: &[String], want: &[String]) -> bool {
    if op != Op::Bulk {
        return got == want;
    }
    let mut sorted = got.to_vec();
    sorted.sort();
    let mut w = want.to_vec();
    w.sort();
    sorted == w
}

/// An HTML 503 error must carry the server's `Retry-After` (1 s).
fn retry_after_ok(f: F, e: &sfcrm_core::Error) -> bool {
    f != F::Html503 || e.retry_after() == Some(Duration::from_secs(1))
}

fn check_unchanged(
    before: &Option<ConnectionDocument>,
    after: &Option<ConnectionDocument>,
    k: ErrorKind,
    f: F,
    armed: &Armed,
) -> Result<(), String> {
    let mut expected = if f == F::RotatedReused { essence(&armed.pre_rotation) } else { essence(before) };
    if k == ErrorKind::ReconnectRequired
        && let Some(e) = expected.as_mut()
    {
        e.3 = true;
    }
    if k == ErrorKind::SessionExpired {
        // The one refresh succeeded (new tokens stored) and the retry was refused again: the
        // document must be valid, not invalidated, with no lease left.
        let ok = after.as_ref().is_some_and(|d| !d.token_invalidated && d.refresh_lease.is_none());
        return if ok { Ok(()) } else { Err("document invalidated or lease left after SessionExpired".into()) };
    }
    if essence(after) != expected {
        return Err(format!("store changed after {k:?}"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fault_matrix() {
    let started = std::time::Instant::now();
    type CellResult = Result<(String, u64), String>;
    let mut results: BTreeMap<(F, Op, bool), CellResult> = BTreeMap::new();
    for f in FAULTS {
        let mut tasks = Vec::new();
        for op in OPS {
            for persistent in [false, true] {
                tasks.push(tokio::spawn(async move { ((f, op, persistent), run_cell(f, op, persistent).await) }));
            }
        }
        for t in tasks {
            let (k, r) = t.await.expect("cell task");
            results.insert(k, r);
        }
    }
    // Print the matrix.
    let mut out = String::new();
    out.push_str(&format!("{:<20}", "fault \\ op"));
    for op in OPS {
        out.push_str(&format!(" | {:<44}", format!("{op:?} (once / persistent)")));
    }
    out.push('\n');
    let (mut passed, mut failed, mut injected) = (0, 0, 0u64);
    let (mut by_emulator, mut by_store, mut by_state) = (0u64, 0u64, 0u64);
    let mut failures = Vec::new();
    for f in FAULTS {
        out.push_str(&format!("{:<20}", format!("{f:?}")));
        for op in OPS {
            let cell: Vec<String> = [false, true]
                .iter()
                .map(|p| match &results[&(f, op, *p)] {
                    Ok((l, n)) => {
                        passed += 1;
                        injected += n;
                        match f {
                            F::StoreFails | F::StoreConflicts => by_store += n,
                            _ if after_grant(f) => by_store += n,
                            _ if emulator_fault(f).is_some() => by_emulator += n,
                            _ => by_state += n,
                        }
                        format!("{l} [{n}]")
                    }
                    Err(e) => {
                        failed += 1;
                        failures.push(format!("{f:?} × {op:?} ({}): {e}", if *p { "persistent" } else { "once" }));
                        "FAIL".into()
                    }
                })
                .collect();
            out.push_str(&format!(" | {:<44}", cell.join(" / ")));
        }
        out.push('\n');
    }
    println!("{out}");
    println!(
        "fault matrix: {} cells, {passed} passed, {failed} failed, {injected} faults injected and survived \
         ({by_emulator} emulator responses, {by_state} session/token-state faults, {by_store} store failures/conflicts), {:.1} s",
        passed + failed,
        started.elapsed().as_secs_f64()
    );
    for f in &failures {
        println!("  FAIL {f}");
    }
    assert!(failures.is_empty(), "{} cells failed", failures.len());
}
