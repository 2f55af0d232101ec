//! Issue 7.4: hostile or broken servers. A loopback server ([`Hostile`]) plays the org: oversized
//! bodies (success and error), deeply nested JSON, invalid UTF-8, a trickling body, and token
//! responses whose `instance_url` points outside the allow-list or uses plain http to a
//! non-loopback host. Every case ends in a typed error (or, for invalid UTF-8 in a string, a
//! lossless-as-possible record), within a bounded time, with peak RSS growth bounded, and no
//! bearer token ever reaches a host outside the allow-list.
//!
//! The tests run one at a time (one `#[test]` driving them) so the RSS figures are not mixed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sfcrm_core::store::{ConnectionDocument, DOCUMENT_SCHEMA, StoredToken};
use sfcrm_core::{CallbackOutcome, CallbackParams, Client, ConnectionKey, ErrorKind, MemoryStore, QueryOptions, Secret, TokenStore};
use sfcrm_reliability::env::{FORWARD_URL, fast_retry, test_config};
use sfcrm_reliability::hostile::{HOSTILE_ACCESS_TOKEN, Hostile, Mode};
use sfcrm_reliability::rss;

const ACCESS: &str = "00DSEEDED!AccessTokenForHostileTests0123456789";
const REFRESH: &str = "5Aep861SeededRefreshTokenForHostileTests01";

async fn seeded(instance_url: &str, login_url: &str, tweak: impl FnOnce(sfcrm_core::ConfigBuilder) -> sfcrm_core::ConfigBuilder) -> (Client, Arc<MemoryStore>, ConnectionKey) {
    let store = Arc::new(MemoryStore::new());
    let key = ConnectionKey::new("acc-h", "user-h");
    let doc = ConnectionDocument {
        schema: DOCUMENT_SCHEMA,
        account_id: key.account_id.clone(),
        owner: key.owner.clone(),
        token: StoredToken { access_token: Secret::new(ACCESS), refresh_token: Some(Secret::new(REFRESH)), issued_at: "1".into() },
        token_invalidated: false,
        instance_url: instance_url.into(),
        id: None,
        scope: Some("api refresh_token".into()),
        version: 1,
        refresh_lease: None,
        updated_at_ms: 0,
    };
    store.save(&doc, None).await.unwrap();
    let config = tweak(test_config(login_url, "c", "client-secret-hostile").retry(fast_retry())).build().unwrap();
    (Client::new(config, store.clone()).unwrap(), store, key)
}

const Q: &str = "SELECT Id FROM Contact";

async fn query(client: &Client, key: &ConnectionKey) -> sfcrm_core::Result<sfcrm_core::QueryPage> {
    client.query_page(key, Q, &QueryOptions::default()).await
}

struct Figures {
    rows: Vec<String>,
}

impl Figures {
    fn row(&mut self, case: &str, outcome: String, ms: u128, rss_growth_kib: u64) {
        println!("hostile: {case:<48} -> {outcome:<40} {ms:>6} ms, peak RSS +{} MiB", rss_growth_kib / 1024);
        self.rows.push(case.to_owned());
    }
}

/// Runs `f`, returning its result, elapsed ms and peak RSS growth (KiB).
async fn measured<T>(f: impl std::future::Future<Output = T>) -> (T, u128, u64) {
    rss::reset_peak();
    let base = rss::current_kib();
    let t = Instant::now();
    let r = f.await;
    (r, t.elapsed().as_millis(), rss::peak_kib().saturating_sub(base))
}

/// The body cap (128 MiB, `sfcrm_core::protocol::MAX_RESPONSE_BYTES`) must keep memory bounded: a
/// 1 GiB body may not raise peak RSS by more than this.
const RSS_BUDGET_KIB: u64 = 200 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_servers() {
    let mut fig = Figures { rows: Vec::new() };
    let h = Hostile::start(Mode::Normal).await;
    let (client, _store, key) = seeded(&h.url, &h.url, |b| b.request_timeout(Duration::from_secs(60))).await;
    let page = query(&client, &key).await.expect("normal page");
    assert_eq!(page.records.len(), 1);

    // 1. Oversized bodies: 1 GiB of JSON padding, as a success and as an error.
    for status in [200u16, 500] {
        h.set_mode(Mode::Oversized { status, bytes: 1 << 30 });
        let (r, ms, grow) = measured(query(&client, &key)).await;
        let e = r.expect_err("oversized body refused");
        assert!(matches!(e.kind(), ErrorKind::Protocol | ErrorKind::Api | ErrorKind::Network), "{e:?}");
        assert!(e.raw_body().is_none_or(|b| b.len() <= sfcrm_core::error::RAW_BODY_LIMIT));
        fig.row(&format!("1 GiB body, HTTP {status}"), format!("{:?} {}", e.kind(), e.message()), ms, grow);
        assert!(grow < RSS_BUDGET_KIB, "peak RSS grew by {} MiB on a 1 GiB body", grow / 1024);
    }
    // 2. Deeply nested JSON (success and error status).
    for status_mode in [Mode::DeepNesting { depth: 200_000 }] {
        h.set_mode(status_mode);
        let (r, ms, grow) = measured(query(&client, &key)).await;
        let e = r.expect_err("deep nesting refused");
        assert_eq!(e.kind(), ErrorKind::Protocol, "{e:?}");
        fig.row("JSON nested 200,000 deep", format!("{:?}", e.kind()), ms, grow);
    }
    // 3. Invalid UTF-8: inside a success body's string (replacement characters, no panic) and
    // in an error body (typed Api error).
    h.set_mode(Mode::InvalidUtf8 { status: 200 });
    let (r, ms, grow) = measured(query(&client, &key)).await;
    match &r {
        Ok(p) => {
            let first = p.records[0].to_record().unwrap();
            let name = first["LastName"].as_str().unwrap();
            assert!(name.contains('\u{FFFD}'), "{name:?}");
            fig.row("invalid UTF-8 in a 200 body", "Ok (U+FFFD replacement)".into(), ms, grow);
        }
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Protocol, "{e:?}");
            fig.row("invalid UTF-8 in a 200 body", format!("{:?}", e.kind()), ms, grow);
        }
    }
    h.set_mode(Mode::InvalidUtf8 { status: 400 });
    let (r, ms, grow) = measured(query(&client, &key)).await;
    let e = r.expect_err("400");
    assert_eq!((e.kind(), e.status()), (ErrorKind::Api, Some(400)), "{e:?}");
    fig.row("invalid UTF-8 in a 400 body", format!("{:?} {}", e.kind(), e.message()), ms, grow);

    // 4. A trickling server: one byte every 150 ms; request timeout 1 s, 3 retries → bounded.
    let (slow, _s, skey) = seeded(&h.url, &h.url, |b| b.request_timeout(Duration::from_secs(1))).await;
    h.set_mode(Mode::Trickle { interval_ms: 150 });
    let (r, ms, grow) = measured(query(&slow, &skey)).await;
    let e = r.expect_err("trickle times out");
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e:?}");
    assert!(ms < 8_000, "trickle held the caller {ms} ms (4 attempts x 1 s + backoff expected)");
    fig.row("trickle 1 byte / 150 ms (timeout 1 s, 3 retries)", format!("{:?}", e.kind()), ms, grow);

    // 5. Token responses whose instance_url leaves the allow-list. The "evil" host is a second
    // recording server reached as `localhost`, which the explicit allow-list (127.0.0.1 only)
    // does not include; it must never see a request.
    let evil = Hostile::start(Mode::Normal).await;
    let evil_port = evil.url.rsplit(':').next().unwrap().to_owned();
    let evil_url = format!("http://localhost:{evil_port}");
    for (label, inst, strict) in [
        ("instance_url on a host outside the allow-list", evil_url.as_str(), true),
        ("instance_url https://evil.example.com", "https://evil.example.com", false),
        ("instance_url https://na1.salesforce.com.evil.example", "https://na1.salesforce.com.evil.example", false),
        ("instance_url plain http to a Salesforce host", "http://na1.salesforce.com", false),
        ("instance_url plain http to 10.1.2.3", "http://10.1.2.3:8080", false),
        ("instance_url with userinfo", "https://user@na1.salesforce.com", false),
    ] {
        h.set_token_instance_url(inst);
        h.set_mode(Mode::Expired);
        let tweak = |b: sfcrm_core::ConfigBuilder| if strict { b.instance_hosts(["127.0.0.1"]).unwrap() } else { b };
        // (a) callback: error redirect, nothing stored.
        let (c, store, key) = seeded(&h.url, &h.url, tweak).await;
        store.delete(&key).await.unwrap();
        let login = c.login(&key, Some(FORWARD_URL)).await.unwrap();
        let state = url::Url::parse(&login.url).unwrap().query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
        let cb = c
            .callback(&CallbackParams { code: Some("aPrxCODE==".into()), state: Some(state), ..Default::default() })
            .await
            .unwrap();
        assert!(matches!(cb.outcome, CallbackOutcome::Error { .. }), "{label}: {}", cb.url);
        assert!(store.load(&key).await.unwrap().is_none(), "{label}: stored");
        // (b) refresh after a 401: typed Protocol error, the old instance kept, the new token
        // never sent to the refused host.
        let (c, store, key) = seeded(&h.url, &h.url, tweak).await;
        let (r, ms, grow) = measured(query(&c, &key)).await;
        let e = r.expect_err("refused instance_url");
        assert_eq!(e.kind(), ErrorKind::Protocol, "{label}: {e:?}");
        let doc = store.load(&key).await.unwrap().unwrap();
        assert_eq!(doc.instance_url, h.url, "{label}: instance_url replaced");
        assert!(!format!("{e}{e:?}").contains(HOSTILE_ACCESS_TOKEN));
        fig.row(label, format!("redirect + {:?}", e.kind()), ms, grow);
    }
    assert!(evil.seen().is_empty(), "a request reached the refused host: {:?}", evil.seen().iter().map(|s| &s.line).collect::<Vec<_>>());

    // 6. A stored instance_url with plain http to a non-loopback host: refused before any I/O.
    for inst in ["http://na1.salesforce.com", "http://10.1.2.3:8080", "ftp://na1.salesforce.com", "https://evil.example.com"] {
        let (c, _s, key) = seeded(inst, &h.url, |b| b).await;
        let (r, ms, grow) = measured(query(&c, &key)).await;
        let e = r.expect_err(inst);
        assert_eq!(e.kind(), ErrorKind::Protocol, "{inst}: {e:?}");
        assert!(ms < 500, "{inst}: no network I/O expected ({ms} ms)");
        fig.row(&format!("stored instance_url {inst}"), format!("{:?}", e.kind()), ms, grow);
    }
    // 7. Plain http login URL to a non-loopback host: a Config error naming the setting.
    for lu in ["http://login.salesforce.com", "http://10.0.0.1"] {
        let e = test_config(lu, "c", "s").build().expect_err(lu);
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.message().contains("login_url"), "{e:?}");
        fig.row(&format!("login_url {lu}"), "Config".into(), 0, 0);
    }
    println!("hostile: {} cases, all typed and bounded", fig.rows.len());
}
