//! Issue 14: a refresh grant succeeded but the token store failed (or hung) on the save after it.
//! Under rotation the refresh token the grant replaced is dead, and presenting it again revokes
//! the whole family [salesforce-api.md §2 RTR]. The client keeps the new tokens, uses them, sends
//! no grant before they are saved, and reconciles with whatever the store holds once it answers.
//! (The fault matrix in tests/reliability crosses the same faults with every operation.)

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use sf_org_emulator::{Emulator, EmulatorConfig, RefreshTokenState};
use sfcrm_core::store::{ConnectionDocument, TokenStore};
use sfcrm_core::{CallbackOutcome, CallbackParams, Client, ConnectionKey, Error, ErrorKind, MemoryStore, QueryOptions, SaveOutcome};
use support::*;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Up,
    /// Every call fails.
    Down,
    /// Saves answer only after the delay, and land then even if the caller gave up.
    Late(Duration),
}

/// A store that goes down (or slow) after a given number of saves.
struct FlakyStore {
    inner: Arc<MemoryStore>,
    mode: Mutex<Mode>,
    /// (saves still to let through, mode after them)
    armed: Mutex<Option<(u64, Mode)>>,
    failures: AtomicU64,
}

impl FlakyStore {
    fn new() -> Arc<FlakyStore> {
        Arc::new(FlakyStore {
            inner: Arc::new(MemoryStore::new()),
            mode: Mutex::new(Mode::Up),
            armed: Mutex::new(None),
            failures: AtomicU64::new(0),
        })
    }
    fn set(&self, m: Mode) {
        *self.mode.lock().unwrap() = m;
        *self.armed.lock().unwrap() = None;
    }
    /// `m` from the save after the next one (the next one takes the refresh lease).
    fn after_lease(&self, m: Mode) {
        *self.armed.lock().unwrap() = Some((1, m));
    }
    fn mode(&self) -> Mode {
        *self.mode.lock().unwrap()
    }
    fn down(&self) -> Option<Error> {
        (self.mode() == Mode::Down).then(|| {
            self.failures.fetch_add(1, Ordering::SeqCst);
            Error::store("test store is down")
        })
    }
    fn count_save(&self) {
        let mut armed = self.armed.lock().unwrap();
        if let Some((n, m)) = armed.as_mut() {
            *n -= 1;
            if *n == 0 {
                *self.mode.lock().unwrap() = *m;
                *armed = None;
            }
        }
    }
}

impl TokenStore for FlakyStore {
    fn load<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, sfcrm_core::Result<Option<ConnectionDocument>>> {
        match self.down() {
            Some(e) => async move { Err(e) }.boxed(),
            None => self.inner.load(key),
        }
    }
    fn save<'a>(&'a self, doc: &'a ConnectionDocument, expected: Option<u64>) -> BoxFuture<'a, sfcrm_core::Result<SaveOutcome>> {
        if let Some(e) = self.down() {
            return async move { Err(e) }.boxed();
        }
        if let Mode::Late(d) = self.mode() {
            let (inner, doc) = (self.inner.clone(), doc.clone());
            let landing = tokio::spawn(async move {
                tokio::time::sleep(d).await;
                inner.save(&doc, expected).await
            });
            return async move { landing.await.unwrap() }.boxed();
        }
        async move {
            let r = self.inner.save(doc, expected).await;
            self.count_save();
            r
        }
        .boxed()
    }
    fn delete<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, sfcrm_core::Result<bool>> {
        match self.down() {
            Some(e) => async move { Err(e) }.boxed(),
            None => self.inner.delete(key),
        }
    }
}

struct Setup {
    emu: Emulator,
    ecfg: EmulatorConfig,
    store: Arc<FlakyStore>,
    client: Client,
    key: ConnectionKey,
}

const TOKEN_TIMEOUT: Duration = Duration::from_millis(300);

fn client_over(emu: &Emulator, ecfg: &EmulatorConfig, store: Arc<FlakyStore>) -> Client {
    let config = emulator_config(emu, ecfg).token_timeout(TOKEN_TIMEOUT).build().unwrap();
    Client::new(config, store).unwrap()
}

async fn setup() -> Setup {
    setup_with_second_tab().await.0
}

/// [`setup`], and the callback parameters of a second OAuth flow (a second tab) started before
/// the connection was made.
async fn setup_with_second_tab() -> (Setup, CallbackParams) {
    let ecfg = EmulatorConfig { contacts: 5, deals: 1, notes: 1, rotation: true, ..EmulatorConfig::default() };
    let emu = Emulator::start(ecfg.clone()).await.unwrap();
    let store = FlakyStore::new();
    let client = client_over(&emu, &ecfg, store.clone());
    let key = test_key();
    let tab = client.login(&key, Some(FORWARD_URL)).await.unwrap();
    let tab = authorize(&tab.url).await;
    connect(&client, &key).await;
    (Setup { emu, ecfg, store, client, key }, tab)
}

async fn query(s: &Setup) -> sfcrm_core::Result<u64> {
    s.client.query_page(&s.key, "SELECT Id FROM Contact", &QueryOptions::default()).await.map(|p| p.total_size)
}

async fn stored(s: &Setup) -> ConnectionDocument {
    s.store.inner.load(&s.key).await.unwrap().unwrap()
}

fn refresh_grants(s: &Setup) -> u64 {
    s.emu.control().counters().token_refresh_token
}

async fn assert_stored_token_live(s: &Setup) {
    let doc = stored(s).await;
    let rt = doc.token.refresh_token.as_ref().unwrap().expose().to_owned();
    assert_eq!(s.emu.control().refresh_token_state(&rt), RefreshTokenState::Live);
    assert!(doc.refresh_lease.is_none() && !doc.token_invalidated);
    assert_eq!(s.emu.control().live_refresh_families(), 1);
}

#[tokio::test]
async fn kept_tokens_serve_calls_and_no_grant_is_sent_before_they_are_saved() {
    let s = setup().await;
    let before = stored(&s).await;
    s.emu.control().expire_sessions();
    s.store.after_lease(Mode::Down);
    let e = query(&s).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Store, "{e:?}");
    assert!(e.message().contains("could not be saved") && e.message().contains("keeps"), "{}", e.message());
    assert_eq!((refresh_grants(&s), s.client.connections_with_unsaved_tokens()), (1, 1));
    // The store still holds the rotated-out token and our lease: nothing else could be written.
    let rt_before = before.token.refresh_token.as_ref().unwrap().expose().to_owned();
    assert_eq!(s.emu.control().refresh_token_state(&rt_before), RefreshTokenState::RotatedOut);

    // Store still down: calls go on with the kept access token.
    assert_eq!(query(&s).await.unwrap(), 5);
    // The kept access token expires too: a new grant would be needed, but not before the kept
    // tokens are saved, so nothing is sent and the error says why.
    s.emu.control().expire_sessions();
    let e = query(&s).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Store, "{e:?}");
    assert!(e.message().contains("no new refresh was sent"), "{}", e.message());
    assert_eq!(refresh_grants(&s), 1);
    assert_eq!(s.emu.control().live_refresh_families(), 1);

    // The store is back: the kept tokens are saved first, then one refresh with the live token.
    s.store.set(Mode::Up);
    assert_eq!(query(&s).await.unwrap(), 5);
    assert_eq!((refresh_grants(&s), s.client.connections_with_unsaved_tokens()), (2, 0));
    assert_stored_token_live(&s).await;
    assert!(s.store.failures.load(Ordering::SeqCst) >= 4);
}

#[tokio::test]
async fn a_late_save_then_newer_tokens_of_another_process_win_over_the_kept_ones() {
    let s = setup().await;
    // Every save after the lease answers only after 1.5 s (each try gives up after 300 ms), but
    // the first one lands then.
    s.store.after_lease(Mode::Late(Duration::from_millis(1500)));
    let started = Instant::now();
    let e = s.client.refresh(&s.key).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Store, "{e:?}");
    assert!(e.message().contains("did not answer within 300 ms"), "{}", e.message());
    assert!(started.elapsed() < Duration::from_secs(3), "bounded: {:?}", started.elapsed());
    assert_eq!(s.client.connections_with_unsaved_tokens(), 1);
    tokio::time::sleep(Duration::from_millis(1700)).await;
    s.store.set(Mode::Up);
    let landed = stored(&s).await;
    assert!(landed.refresh_lease.is_none(), "the landed save cleared the lease");

    // Another process (no tokens in memory) refreshes from what landed: its tokens are newer.
    let other = client_over(&s.emu, &s.ecfg, s.store.clone());
    other.refresh(&s.key).await.unwrap();
    let newest = stored(&s).await;
    assert_ne!(newest.token.refresh_token, landed.token.refresh_token);

    // This process's kept tokens are rotated out now: the stored ones win, no grant is sent.
    let grants = refresh_grants(&s);
    assert_eq!(query(&s).await.unwrap(), 5);
    assert_eq!(refresh_grants(&s), grants);
    assert_eq!(s.client.connections_with_unsaved_tokens(), 0);
    assert_eq!(stored(&s).await.token, newest.token);
    assert_stored_token_live(&s).await;
}

#[tokio::test]
async fn a_connection_deleted_meanwhile_drops_the_kept_tokens() {
    let s = setup().await;
    s.store.after_lease(Mode::Down);
    assert_eq!(s.client.refresh(&s.key).await.unwrap_err().kind(), ErrorKind::Store);
    s.store.set(Mode::Up);
    s.store.inner.delete(&s.key).await.unwrap();
    assert_eq!(query(&s).await.unwrap_err().kind(), ErrorKind::NotConnected);
    assert_eq!(s.client.connections_with_unsaved_tokens(), 0);
}

#[tokio::test]
async fn disconnect_revokes_the_kept_refresh_token() {
    let s = setup().await;
    s.store.after_lease(Mode::Down);
    assert_eq!(s.client.refresh(&s.key).await.unwrap_err().kind(), ErrorKind::Store);
    s.store.set(Mode::Up);
    let d = s.client.disconnect(&s.key).await.unwrap();
    assert!(d.revoked, "{:?}", d.revoke_error);
    assert_eq!(s.emu.control().live_refresh_families(), 0);
    assert_eq!(s.client.connections_with_unsaved_tokens(), 0);
}

#[tokio::test]
async fn a_new_login_revokes_the_kept_tokens_of_the_connection_it_replaces() {
    let (s, tab) = setup_with_second_tab().await;
    s.store.after_lease(Mode::Down);
    assert_eq!(s.client.refresh(&s.key).await.unwrap_err().kind(), ErrorKind::Store);
    s.store.set(Mode::Up);
    // The second tab's callback replaces the stored connection, whose refresh token our kept
    // grant rotated out: the kept (live) one is the grant to revoke (issue 16 item 1).
    let cb = s.client.callback(&tab).await.unwrap();
    assert_eq!(cb.outcome, CallbackOutcome::Success);
    assert_eq!(cb.replaced_revoke_error, None);
    assert_eq!(s.client.connections_with_unsaved_tokens(), 0);
    assert_stored_token_live(&s).await;
}
