//! Issue 16 item 4: numbers that come from callers, stores or tokens never panic or wrap.
//! Every duration setting has a maximum (`MAX_DURATION`, a `Config` error naming the setting); a
//! stored `version` of `u64::MAX` is a `Store` error; a checkpoint's `records` of `u64::MAX`
//! saturates.

mod support;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sfcrm_core::config::MAX_DURATION;
use sfcrm_core::export::{Checkpoint, ExportRequest, ExportSpec};
use sfcrm_core::{Client, Config, ConfigBuilder, ErrorKind, MemoryStore, RetryPolicy, TokenStore};
use support::*;

fn base() -> ConfigBuilder {
    test_config("http://127.0.0.1:9", "cid", "csecret")
}

#[test]
fn every_duration_setting_over_the_maximum_is_a_config_error_naming_it() {
    let over = MAX_DURATION + Duration::from_secs(1);
    let cases: [(&str, fn(ConfigBuilder, Duration) -> ConfigBuilder); 9] = [
        ("state_ttl", |b, d| b.state_ttl(d)),
        ("connect_timeout", |b, d| b.connect_timeout(d)),
        ("request_timeout", |b, d| b.request_timeout(d)),
        ("token_timeout", |b, d| b.token_timeout(d)),
        ("refresh_wait", |b, d| b.refresh_wait(d)),
        ("refresh_lease_ttl", |b, d| b.refresh_lease_ttl(d)),
        ("count_cache_ttl", |b, d| b.count_cache_ttl(d)),
        ("retry.initial_backoff", |b, d| {
            b.retry(RetryPolicy { initial_backoff: d, max_backoff: d, ..RetryPolicy::default() })
        }),
        ("retry.max_backoff", |b, d| b.retry(RetryPolicy { max_backoff: d, ..RetryPolicy::default() })),
    ];
    for (setting, set) in cases {
        for d in [over, Duration::MAX] {
            let e = set(base(), d).build().expect_err(setting);
            assert_eq!(e.kind(), ErrorKind::Config, "{setting}: {e}");
            assert!(e.message().starts_with(&format!("{setting}:")), "{setting}: {}", e.message());
        }
    }
    // The maximum itself is accepted.
    base().request_timeout(MAX_DURATION).refresh_wait(MAX_DURATION).state_ttl(MAX_DURATION).build().unwrap();
}

#[test]
fn environment_values_of_u64_max_are_config_errors_naming_the_variable() {
    for var in [
        "SFCRM_STATE_TTL_SECS",
        "SFCRM_COUNT_CACHE_TTL_SECS",
        "SFCRM_REQUEST_TIMEOUT_MS",
        "SFCRM_REFRESH_WAIT_MS",
        "SFCRM_REFRESH_LEASE_TTL_MS",
    ] {
        let e = Config::from_lookup(|name| {
            Some(match name {
                "SALESFORCE_CLIENT_ID" => "cid".into(),
                "SALESFORCE_SECRET_ID" => "csecret".into(),
                "SALESFORCE_REDIRECT_URL" => REDIRECT_URI.into(),
                "SFCRM_STATE_SECRET" => STATE_SECRET.into(),
                "SFCRM_FORWARD_ORIGINS" => "*".into(),
                n if n == var => u64::MAX.to_string(),
                _ => return None,
            })
        })
        .expect_err(var);
        assert_eq!(e.kind(), ErrorKind::Config, "{var}: {e}");
        assert!(e.message().starts_with(&format!("{var}:")), "{var}: {}", e.message());
    }
}

/// A document stored with `version` (tokens that would need a refresh).
async fn store_with_version(version: u64) -> (Arc<MemoryStore>, Client) {
    let store = Arc::new(MemoryStore::new());
    let key = test_key();
    let mut doc = seed_connection(store.as_ref(), &key, "http://127.0.0.1:9", "00DFAKE!OLD", Some("5AepFAKE")).await;
    doc.version = version;
    store.save(&doc, Some(1)).await.unwrap();
    let client = Client::new(base().build().unwrap(), store.clone()).unwrap();
    (store, client)
}

#[tokio::test]
async fn a_stored_version_that_cannot_be_incremented_is_a_store_error() {
    let (store, client) = store_with_version(u64::MAX).await;
    let e = client.refresh(&test_key()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Store, "{e}");
    assert!(e.message().contains("cannot be incremented"), "{e}");
    // Nothing was written (no wrap to version 0, no lease).
    let doc = store.load(&test_key()).await.unwrap().unwrap();
    assert_eq!((doc.version, doc.refresh_lease.is_none()), (u64::MAX, true));
}

#[tokio::test]
async fn a_callback_over_a_document_at_u64_max_is_a_store_error() {
    let env = Env::start().await;
    env.store.delete(&env.key).await.unwrap();
    let login = env.client.login(&env.key, Some(FORWARD_URL)).await.unwrap();
    let params = authorize(&login.url).await;
    let mut doc = seed_connection(env.store.as_ref(), &env.key, "http://127.0.0.1:9", "00DFAKE!X", None).await;
    doc.version = u64::MAX;
    env.store.save(&doc, Some(1)).await.unwrap();
    let e = env.client.callback(&params).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Store, "{e}");
    assert_eq!(env.doc().await.version, u64::MAX);
}

#[tokio::test]
async fn a_checkpoint_with_records_u64_max_saturates() {
    let env = Env::start().await;
    let token = URL_SAFE_NO_PAD.encode(format!(r#"{{"v":1,"sobject":"Contact","records":{}}}"#, u64::MAX));
    let cp = Checkpoint::from_token(&token).unwrap();
    let spec = ExportSpec::builtin("contacts").unwrap();
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(spec).resume_from(cp));
    let mut n = 0;
    let mut last = None;
    while let Some(b) = s.next_batch().await.unwrap() {
        n += b.records.len();
        last = Some(b.records.len());
    }
    assert_eq!(n, 50);
    assert_eq!(s.progress().records, u64::MAX);
    assert_eq!(s.checkpoint().records(), u64::MAX);
    assert_eq!(s.checkpoint_at(last.unwrap() - 1).unwrap().records(), u64::MAX);
    assert!(s.progress().total_size.is_some_and(|t| t == u64::MAX));
}
