//! Limits of the transport's retries: a `Retry-After` longer than the backoff allows goes back to
//! the caller, and a refresh never retries past its refresh lease.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use sfcrm_core::QueryOptions;
use sfcrm_core::{Client, ConnectionKey, ErrorKind, MemoryStore, RetryPolicy, TokenStore};
use support::*;

#[tokio::test]
async fn a_retry_after_longer_than_the_backoff_cap_is_returned_not_cut_short() {
    let html = "<html><body>Down for maintenance</body></html>";
    let server = ScriptedServer::start(vec![
        Step::new("GET", "/services/data/v48.0/query", 503, html)
            .header("Content-Type", "text/html")
            .header("Retry-After", "3600"),
    ])
    .await;
    let store = Arc::new(MemoryStore::new());
    let key = ConnectionKey::new("acc", "user");
    seed_connection(store.as_ref(), &key, &server.base_url, "00DFAKE!TOKEN1", Some("5AepFAKEREFRESH1")).await;
    let client = Client::new(server.config().build().unwrap(), store).unwrap();

    let err = client.query_page(&key, "SELECT Id FROM Account", &QueryOptions::default()).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)), "the caller learns how long to wait");
    assert_eq!(server.requests().len(), 1, "no retry sooner than the server asked");
}

#[tokio::test]
async fn a_short_retry_after_is_waited_and_retried() {
    let html = "<html><body>Down for maintenance</body></html>";
    let ok = r#"{"totalSize":0,"done":true,"records":[]}"#;
    let server = ScriptedServer::start(vec![
        Step::new("GET", "/services/data/v48.0/query", 503, html)
            .header("Content-Type", "text/html")
            .header("Retry-After", "0"),
        Step::new("GET", "/services/data/v48.0/query", 200, ok),
    ])
    .await;
    let store = Arc::new(MemoryStore::new());
    let key = ConnectionKey::new("acc", "user");
    seed_connection(store.as_ref(), &key, &server.base_url, "00DFAKE!TOKEN1", Some("5AepFAKEREFRESH1")).await;
    let client = Client::new(server.config().build().unwrap(), store).unwrap();
    let page = client.query_page(&key, "SELECT Id FROM Account", &QueryOptions::default()).await.unwrap();
    assert_eq!(page.total_size, 0);
    assert_eq!(server.requests().len(), 2);
}

/// The token endpoint refuses connections; the refresh keeps retrying only while an attempt can
/// still finish inside the refresh lease, then gives up with a network error and releases the
/// lease, so no attempt can overlap another process's refresh with the same refresh token.
#[tokio::test]
async fn refresh_retries_stop_before_the_refresh_lease_lapses() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", l.local_addr().unwrap().port())
    };
    let store = Arc::new(MemoryStore::new());
    let key = ConnectionKey::new("acc", "user");
    seed_connection(store.as_ref(), &key, "http://127.0.0.1:9", "00DFAKE!TOKEN1", Some("5AepFAKEREFRESH1")).await;
    let lease = Duration::from_millis(2500);
    let config = test_config(&closed, "3MVGFAKECLIENT", "FAKESECRET")
        .retry(RetryPolicy {
            max_retries: 20,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
        })
        .connect_timeout(Duration::from_millis(500))
        .request_timeout(Duration::from_millis(1000))
        .token_timeout(Duration::from_millis(1000))
        .refresh_lease_ttl(lease)
        .build()
        .unwrap();
    let client = Client::new(config, store.clone()).unwrap();
    let started = Instant::now();
    let err = client.refresh(&key).await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Network, "{err:?}");
    assert!(elapsed < lease, "the last attempt ended {elapsed:?} after the lease was taken (lease {lease:?})");
    let attempts = client.api_calls().token_requests;
    assert!((2..=20).contains(&attempts), "retried connection failures inside the lease: {attempts} attempts");
    let doc = store.load(&key).await.unwrap().unwrap();
    assert!(doc.refresh_lease.is_none(), "the lease is released after the failure");
    assert_eq!(doc.token.refresh_token.as_ref().unwrap().expose(), "5AepFAKEREFRESH1");
}

/// Per-connection refresh locks are kept only while in use: after 20 concurrent calls on an
/// expired session (one refresh) and a disconnect, the client keeps none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_connection_locks_are_released_after_use() {
    let env = Env::start().await;
    env.emu.control().expire_sessions();
    let calls = (0..20).map(|_| {
        let (c, k) = (env.client.clone(), env.key.clone());
        tokio::spawn(async move { c.query_page(&k, "SELECT Id FROM Contact", &QueryOptions::default()).await })
    });
    for call in calls.collect::<Vec<_>>() {
        assert_eq!(call.await.unwrap().unwrap().records.len(), 50);
    }
    assert_eq!(env.client.api_calls().refreshes, 1);
    assert_eq!(env.client.connection_locks_in_use(), 0);
    env.client.disconnect(&env.key).await.unwrap();
    assert_eq!(env.client.connection_locks_in_use(), 0);
}

/// Connection failures name their cause; an untrusted TLS certificate says so and what to do.
#[tokio::test]
async fn connection_errors_name_their_cause_and_tls_trust_problems() {
    let ecfg = sf_org_emulator::EmulatorConfig { tls: true, contacts: 5, deals: 1, notes: 1, ..Default::default() };
    let emu = sf_org_emulator::Emulator::start(ecfg).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let key = ConnectionKey::new("acc", "user");
    seed_connection(store.as_ref(), &key, emu.instance_url(), "00DFAKE!TOKEN1", None).await;
    let client = Client::new(test_config(emu.login_url(), "c", "s").build().unwrap(), store.clone()).unwrap();
    let err = client.query_page(&key, "SELECT Id FROM Contact", &QueryOptions::default()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.message().contains("TLS certificate was not accepted"), "{}", err.message());
    assert!(err.message().contains("SSL_CERT_FILE"), "{}", err.message());
    assert!(!err.message().contains("/services/data"), "no URL path in the message: {}", err.message());
    emu.shutdown().await;

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", l.local_addr().unwrap().port())
    };
    let store = Arc::new(MemoryStore::new());
    seed_connection(store.as_ref(), &key, &closed, "00DFAKE!TOKEN1", None).await;
    let client = Client::new(test_config(&closed, "c", "s").build().unwrap(), store).unwrap();
    let err = client.query_page(&key, "SELECT Id FROM Contact", &QueryOptions::default()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.message().to_ascii_lowercase().contains("refused"), "{}", err.message());
}
