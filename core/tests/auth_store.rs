//! Token store behaviours shared by every store: compare-and-swap under contention (several
//! `FileStore` instances on one directory stand in for several processes), sealing over a file
//! store, and the refresh lease protocol seen through the store.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use sf_org_emulator::EmulatorConfig;
use sfcrm_core::store::{ConnectionDocument, RefreshLease, SealingKeyring, TokenStore};
use sfcrm_core::{
    ConnectionKey, ErrorKind, FileStore, MemoryStore, QueryOptions, SaveOutcome, SealedStore,
};
use support::*;

/// `threads` workers, each with its own store instance from `make`, each adding `per_thread`
/// increments through load → CAS save → retry on conflict. Returns the final version.
async fn race(make: impl Fn() -> Arc<dyn TokenStore>, threads: usize, per_thread: usize) -> u64 {
    let key = ConnectionKey::new("acc-race", "user-race");
    let first = make();
    seed_connection(
        first.as_ref(),
        &key,
        "https://acme.my.salesforce.com",
        "00DFAKE!TOKEN0",
        Some("5AepFAKE"),
    )
    .await;
    let mut handles = Vec::new();
    for t in 0..threads {
        let store = make();
        let key = key.clone();
        // Separate OS threads with their own runtimes: nothing is shared but the directory.
        handles.push(std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let mut conflicts = 0u64;
                for i in 0..per_thread {
                    loop {
                        let cur = store.load(&key).await.unwrap().unwrap();
                        let mut next: ConnectionDocument = cur.clone();
                        next.version = cur.version + 1;
                        next.token.access_token = format!("00DFAKE!T{t}-{i}").into();
                        match store.save(&next, Some(cur.version)).await.unwrap() {
                            SaveOutcome::Saved => break,
                            SaveOutcome::Conflict => conflicts += 1,
                        }
                    }
                }
                conflicts
            })
        }));
    }
    let conflicts: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let last = first.load(&key).await.unwrap().unwrap();
    eprintln!("race: {threads}x{per_thread} saves, {conflicts} conflicts");
    last.version
}

#[tokio::test]
async fn file_store_instances_on_one_directory_never_lose_an_update() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let v = race(move || Arc::new(FileStore::new(&path).unwrap()), 6, 40).await;
    assert_eq!(v, 1 + 6 * 40, "every CAS save landed exactly once");
}

#[tokio::test]
async fn sealed_file_store_instances_never_lose_an_update() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let ring =
        SealingKeyring::from_env_value("k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=").unwrap();
    let v = race(
        move || {
            Arc::new(SealedStore::new(
                Arc::new(FileStore::new(&path).unwrap()),
                ring.clone(),
            ))
        },
        4,
        25,
    )
    .await;
    assert_eq!(v, 1 + 4 * 25);
}

#[tokio::test]
async fn memory_store_shared_between_threads_never_loses_an_update() {
    let store = Arc::new(MemoryStore::new());
    let v = race(move || store.clone(), 6, 40).await;
    assert_eq!(v, 1 + 6 * 40);
}

/// Puts a foreign refresh lease on the stored document.
async fn add_foreign_lease(env: &Env, ttl: Duration) {
    let cur = env.doc().await;
    let mut d = cur.clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    d.refresh_lease = Some(RefreshLease {
        holder: "another-process".into(),
        expires_at_ms: now + ttl.as_millis() as u64,
    });
    d.version = cur.version + 1;
    assert_eq!(
        env.store.save(&d, Some(cur.version)).await.unwrap(),
        SaveOutcome::Saved
    );
}

#[tokio::test]
async fn a_lapsed_foreign_lease_is_taken_over_after_waiting() {
    let env = Env::start().await;
    env.emu.control().expire_sessions();
    let t0 = Instant::now();
    add_foreign_lease(&env, Duration::from_millis(600)).await;
    let page = env
        .client
        .query_page(&env.key, "SELECT Id FROM Contact", &QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(page.total_size, 50);
    assert!(
        t0.elapsed() >= Duration::from_millis(450),
        "waited for the foreign lease: {:?}",
        t0.elapsed()
    );
    assert_eq!(env.emu.control().counters().token_refresh_token, 1);
    assert!(env.doc().await.refresh_lease.is_none());
}

#[tokio::test]
async fn a_live_foreign_lease_is_waited_for_at_most_refresh_wait() {
    let env = Env::start_with(
        EmulatorConfig {
            contacts: 10,
            deals: 1,
            notes: 1,
            ..EmulatorConfig::default()
        },
        |b| b.refresh_wait(Duration::from_millis(300)),
    )
    .await;
    env.emu.control().expire_sessions();
    add_foreign_lease(&env, Duration::from_secs(60)).await;
    let t0 = Instant::now();
    let e = env
        .client
        .query_page(&env.key, "SELECT Id FROM Contact", &QueryOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::StoreConflict);
    assert!(t0.elapsed() < Duration::from_secs(3));
    assert_eq!(
        env.emu.control().counters().token_refresh_token,
        0,
        "never refreshes under a live foreign lease"
    );
}

#[tokio::test]
async fn a_foreign_refresh_finishing_during_the_wait_is_used_without_a_token_request() {
    let env = Env::start().await;
    env.emu.control().expire_sessions();
    add_foreign_lease(&env, Duration::from_secs(60)).await;
    // "Another process" holding the lease finishes its refresh after 300 ms: it posts the refresh
    // grant and CAS-saves the new token with the lease cleared, in one write.
    let config = env.client.config().clone();
    let key = env.key.clone();
    let store = env.store.clone();
    let finisher = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let transport = sfcrm_core::protocol::Transport::new(&config).unwrap();
        let cur = store.load(&key).await.unwrap().unwrap();
        let tok = sfcrm_core::protocol::refresh_grant(
            &transport,
            &config,
            cur.token.refresh_token.as_ref().unwrap(),
        )
        .await
        .unwrap();
        let mut d = cur.clone();
        d.token.access_token = tok.access_token;
        d.refresh_lease = None;
        d.version = cur.version + 1;
        assert_eq!(
            store.save(&d, Some(cur.version)).await.unwrap(),
            SaveOutcome::Saved
        );
    });
    let page = env
        .client
        .query_page(&env.key, "SELECT Id FROM Contact", &QueryOptions::default())
        .await
        .unwrap();
    finisher.await.unwrap();
    assert_eq!(page.total_size, 50);
    assert_eq!(
        env.client.api_calls().token_requests,
        1,
        "only the code exchange; the refresh was the other client's"
    );
    assert_eq!(env.emu.control().counters().token_refresh_token, 1);
}

/// A store whose `load()` answers every key with one fixed connection's document (a custom store
/// with a broken lookup).
struct WrongKeyStore {
    inner: MemoryStore,
    answer: ConnectionKey,
}

impl TokenStore for WrongKeyStore {
    fn load<'a>(
        &'a self,
        _key: &'a ConnectionKey,
    ) -> futures_util::future::BoxFuture<'a, sfcrm_core::Result<Option<ConnectionDocument>>> {
        self.inner.load(&self.answer)
    }
    fn save<'a>(
        &'a self,
        doc: &'a ConnectionDocument,
        expected: Option<u64>,
    ) -> futures_util::future::BoxFuture<'a, sfcrm_core::Result<SaveOutcome>> {
        self.inner.save(doc, expected)
    }
    fn delete<'a>(&'a self, key: &'a ConnectionKey) -> futures_util::future::BoxFuture<'a, sfcrm_core::Result<bool>> {
        self.inner.delete(key)
    }
}

#[tokio::test]
async fn a_store_that_loads_another_connections_document_is_a_store_error() {
    let env = Env::start().await;
    let victim = env.doc().await;
    let store = Arc::new(WrongKeyStore { inner: MemoryStore::new(), answer: env.key.clone() });
    store.inner.save(&victim, None).await.unwrap();
    let config = emulator_config(&env.emu, &env.ecfg).build().unwrap();
    let client = sfcrm_core::Client::new(config, store).unwrap();
    let other = ConnectionKey::new("acc-other", "user-other");
    for err in [
        client.connection_info(&other).await.unwrap_err(),
        client.refresh(&other).await.unwrap_err(),
        client.query_page(&other, "SELECT Id FROM Contact", &QueryOptions::default()).await.unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::Store, "{err}");
        assert!(err.message().contains("another connection"), "{err}");
    }
    // The key's own document still works through the same store.
    assert!(client.connection_info(&env.key).await.unwrap().is_some());
}

#[test]
fn connection_key_parse_is_the_one_key_rule() {
    assert!(ConnectionKey::parse("acc-1", "user-1").is_ok());
    for (a, o) in [("", "u"), ("a", ""), ("  ", "u"), ("a", "\t\n")] {
        assert_eq!(ConnectionKey::parse(a, o).unwrap_err().kind(), ErrorKind::InvalidArgument, "{a:?}/{o:?}");
    }
    // Kept as given: the parts name the stored document.
    assert_eq!(ConnectionKey::parse(" acc ", "u").unwrap().account_id, " acc ");
}
