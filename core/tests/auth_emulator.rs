//! Auth behaviours of issue 2 (Core items 3–7) against the org emulator: login, callback, PKCE,
//! disconnect/revoke, refresh coordination (in-process and across processes sharing a store),
//! rotation, invalidation, transport faults and rate limits.

mod support;

use std::sync::Arc;
use std::time::Duration;

use sf_org_emulator::{Consent, Emulator, EmulatorConfig, Endpoint, Fault, FaultKind, SObject};
use sfcrm_core::store::{SealingKeyring, TokenStore};
use sfcrm_core::{
    CallbackOutcome, CallbackParams, Client, ErrorKind, FileStore, MemoryStore, QueryOptions,
    SealedStore, protocol,
};
use support::*;

const SOQL: &str = "SELECT Id FROM Contact ORDER BY Id";

fn small() -> EmulatorConfig {
    EmulatorConfig {
        contacts: 50,
        deals: 20,
        notes: 10,
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn login_callback_stores_the_connection_and_a_second_login_is_already_connected() {
    let env = Env::start().await;
    let c = env.emu.control().counters();
    assert_eq!((c.authorize, c.token_authorization_code), (1, 1));
    let doc = env.doc().await;
    assert_eq!(doc.instance_url, env.emu.instance_url());
    assert_ne!(doc.instance_url, env.emu.login_url());
    assert!(doc.id.as_deref().unwrap().starts_with(env.emu.login_url()));
    assert_eq!(doc.version, 1);
    assert!(doc.token.refresh_token.is_some());
    assert!(!doc.token.issued_at.is_empty());

    let again = env.client.login(&env.key, Some(FORWARD_URL)).await.unwrap();
    assert!(again.already_connected);
    assert_eq!(
        again.url,
        format!("{FORWARD_URL}&status=success&integration=salesforce")
    );
    assert_eq!(env.emu.control().counters().authorize, 1);

    let page = env
        .client
        .query_page(&env.key, SOQL, &QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (page.total_size, page.done, page.records.len()),
        (50, true, 50)
    );
    let info = env.client.connection_info(&env.key).await.unwrap().unwrap();
    assert_eq!(info.instance_url, env.emu.instance_url());
    assert!(info.has_refresh_token && !info.token_invalidated);
    let u = env.client.api_usage().expect("Sforce-Limit-Info seen");
    assert!(u.used >= 1 && u.limit == 100_000);
}

#[tokio::test]
async fn login_checks_the_forward_url_before_anything_else() {
    let env = Env::start().await;
    let e = env.client.login(&env.key, None).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.message()),
        (ErrorKind::MissingForwardUrl, "Please provide forward_url")
    );
    for bad in [
        "https://evil.example/x",
        "javascript:alert(1)",
        "https://app.acme.example@evil.example/",
    ] {
        let e = env.client.login(&env.key, Some(bad)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ForwardUrlNotAllowed, "{bad}");
    }
    let e = env
        .client
        .login(&sfcrm_core::ConnectionKey::new("", "u"), Some(FORWARD_URL))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[tokio::test]
async fn callback_user_denial_redirects_to_the_forward_url_with_the_reason() {
    for consent in [Consent::Deny, Consent::DenyHyphen] {
        let emu = Emulator::start(small()).await.unwrap();
        emu.control().set_consent(consent);
        let store = Arc::new(MemoryStore::new());
        let client = Client::new(
            emulator_config(&emu, &small()).build().unwrap(),
            store.clone(),
        )
        .unwrap();
        let key = test_key();
        let login = client.login(&key, Some(FORWARD_URL)).await.unwrap();
        let params = authorize(&login.url).await;
        assert!(params.error.as_deref().unwrap().starts_with("access"));
        let cb = client.callback(&params).await.unwrap();
        assert_eq!(
            cb.outcome,
            CallbackOutcome::Error {
                reason: "end-user denied authorization".into()
            }
        );
        assert!(cb.url.starts_with("https://app.acme.example/integrations?tab=crm&status=error&integration=salesforce&reason="));
        assert_eq!(cb.key.as_ref(), Some(&key));
        assert!(store.load(&key).await.unwrap().is_none());
        assert_eq!(emu.control().counters().token_authorization_code, 0);
    }
}

#[tokio::test]
async fn callback_without_code_or_with_a_bad_state() {
    let emu = Emulator::start(small()).await.unwrap();
    let client = Client::new(
        emulator_config(&emu, &small()).build().unwrap(),
        Arc::new(MemoryStore::new()),
    )
    .unwrap();
    let login = client.login(&test_key(), Some(FORWARD_URL)).await.unwrap();
    let mut params = authorize(&login.url).await;
    let code = params.code.take();
    let cb = client.callback(&params).await.unwrap();
    assert_eq!(
        cb.outcome,
        CallbackOutcome::Error {
            reason: "Authentication not initiated".into()
        }
    );
    assert!(cb.url.ends_with("&reason=Authentication%20not%20initiated"));

    for state in [
        None,
        Some("garbage".to_string()),
        Some(format!("{}x", params.state.clone().unwrap())),
    ] {
        let p = CallbackParams {
            code: code.clone(),
            state,
            ..Default::default()
        };
        let e = client.callback(&p).await.unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (ErrorKind::InvalidState, "Invalid State")
        );
    }
    assert_eq!(
        emu.control().counters().token_authorization_code,
        0,
        "state is verified before the code is used"
    );
}

#[tokio::test]
async fn pkce_verifier_is_bound_to_the_state_that_started_the_flow() {
    let emu = Emulator::start(small()).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let client = Client::new(
        emulator_config(&emu, &small()).build().unwrap(),
        store.clone(),
    )
    .unwrap();
    let key = test_key();
    let first = authorize(&client.login(&key, Some(FORWARD_URL)).await.unwrap().url).await;
    let second = authorize(&client.login(&key, Some(FORWARD_URL)).await.unwrap().url).await;
    // The first flow's code with the second flow's state: the derived code_verifier does not match
    // the first code_challenge, so Salesforce (the emulator) refuses the exchange.
    let mixed = CallbackParams {
        code: first.code.clone(),
        state: second.state.clone(),
        ..Default::default()
    };
    let cb = client.callback(&mixed).await.unwrap();
    assert!(
        matches!(cb.outcome, CallbackOutcome::Error { .. }),
        "{cb:?}"
    );
    assert!(store.load(&key).await.unwrap().is_none());
    // The matching pair works.
    let cb = client.callback(&second).await.unwrap();
    assert_eq!(cb.outcome, CallbackOutcome::Success);
}

#[tokio::test]
async fn disconnect_revokes_the_refresh_token_then_deletes() {
    let env = Env::start().await;
    let d = env.client.disconnect(&env.key).await.unwrap();
    assert!(d.revoked, "{d:?}");
    assert_eq!(d.revoke_error, None);
    assert_eq!(env.emu.control().counters().revoke, 1);
    assert!(env.store.load(&env.key).await.unwrap().is_none());
    let e = env.client.disconnect(&env.key).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.message()),
        (ErrorKind::NotConnected, "Access Token Not Found")
    );
    let e = env
        .client
        .query_page(&env.key, SOQL, &QueryOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotConnected);
}

#[tokio::test]
async fn disconnect_reports_a_failed_revoke_and_still_deletes() {
    let env = Env::start().await;
    env.emu.control().add_fault(Fault {
        endpoint: Endpoint::Revoke,
        count: 1,
        kind: FaultKind::Status500,
    });
    let d = env.client.disconnect(&env.key).await.unwrap();
    assert!(!d.revoked);
    assert!(d.revoke_error.is_some());
    assert!(env.store.load(&env.key).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_calls_on_an_expired_session_cause_exactly_one_token_request() {
    let env = Env::start().await;
    env.emu.control().expire_sessions();
    env.emu.control().reset_counters();
    let before = env.client.api_calls();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let client = env.client.clone();
            let key = env.key.clone();
            tokio::spawn(async move {
                client
                    .query_page(&key, SOQL, &QueryOptions::default())
                    .await
            })
        })
        .collect();
    for t in tasks {
        let page = t.await.unwrap().expect("every call succeeds");
        assert_eq!(page.records.len(), 50);
    }
    assert_eq!(env.emu.control().counters().token_refresh_token, 1);
    let d = env.client.api_calls() - before;
    assert_eq!(d.refreshes, 1);
    assert_eq!(d.token_requests, 1);
    assert_eq!(
        env.doc().await.version,
        3,
        "lease taken (v2), tokens saved (v3)"
    );
}

#[tokio::test]
async fn a_rotated_refresh_token_survives_two_expiries_in_a_row() {
    let env = Env::start_with(
        EmulatorConfig {
            rotation: true,
            ..small()
        },
        |b| b,
    )
    .await;
    let original = env.doc().await.token.refresh_token.unwrap();
    let mut seen = vec![original];
    for round in 0..2 {
        env.emu.control().expire_sessions();
        let page = env
            .client
            .query_page(&env.key, SOQL, &QueryOptions::default())
            .await
            .expect("refreshed");
        assert_eq!(page.total_size, 50, "round {round}");
        let rt = env.doc().await.token.refresh_token.unwrap();
        assert!(
            !seen.contains(&rt),
            "round {round}: the rotated refresh token was persisted"
        );
        seen.push(rt);
    }
    assert_eq!(env.emu.control().counters().token_refresh_token, 2);
    // Still alive: a third explicit refresh works too.
    env.client.refresh(&env.key).await.unwrap();
}

#[tokio::test]
async fn a_revoked_refresh_token_yields_reconnect_required_and_an_invalidated_document() {
    let env = Env::start().await;
    env.emu.control().revoke_refresh_tokens();
    let e = env
        .client
        .query_page(&env.key, SOQL, &QueryOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReconnectRequired);
    assert_eq!(e.oauth_error(), Some("invalid_grant"));
    assert_eq!(
        e.oauth_error_description(),
        Some("expired access/refresh token")
    );
    assert_eq!(e.status(), Some(400));
    let doc = env.doc().await;
    assert!(doc.token_invalidated);
    assert!(doc.refresh_lease.is_none());
    let counters = env.emu.control().counters();
    let e = env
        .client
        .query_page(&env.key, SOQL, &QueryOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReconnectRequired);
    assert_eq!(
        env.emu.control().counters(),
        counters,
        "fails fast without network"
    );
    let e = env.client.refresh(&env.key).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReconnectRequired);
    // login starts over: the invalidated document is deleted and a new flow connects again.
    connect(&env.client, &env.key).await;
    assert!(!env.doc().await.token_invalidated);
}

async fn two_clients_one_store(store_for: impl Fn(&std::path::Path) -> Arc<dyn TokenStore>) {
    let ecfg = EmulatorConfig {
        rotation: true,
        ..small()
    };
    let emu = Emulator::start(ecfg.clone()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = Client::new(
        emulator_config(&emu, &ecfg).build().unwrap(),
        store_for(dir.path()),
    )
    .unwrap();
    let b = Client::new(
        emulator_config(&emu, &ecfg).build().unwrap(),
        store_for(dir.path()),
    )
    .unwrap();
    let key = test_key();
    connect(&a, &key).await;
    assert!(
        b.connection_info(&key).await.unwrap().is_some(),
        "b sees a's connection"
    );
    // Warm both sessions, then expire them.
    a.query_page(&key, SOQL, &QueryOptions::default())
        .await
        .unwrap();
    b.query_page(&key, SOQL, &QueryOptions::default())
        .await
        .unwrap();
    emu.control().expire_sessions();
    emu.control().reset_counters();
    // A slow token endpoint keeps the refresh in flight while the other client hits its 401.
    emu.control().add_fault(Fault {
        endpoint: Endpoint::Token,
        count: 1,
        kind: FaultKind::Delay { ms: 400 },
    });
    let mut tasks = Vec::new();
    for i in 0..20 {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            c.query_page(&key, SOQL, &QueryOptions::default()).await
        }));
    }
    for t in tasks {
        assert_eq!(
            t.await.unwrap().expect("every call succeeds").total_size,
            50
        );
    }
    assert_eq!(
        emu.control().counters().token_refresh_token,
        1,
        "one refresh across both clients"
    );
    assert_eq!((a.api_calls().refreshes + b.api_calls().refreshes), 1);
    // Under rotation a second refresh with the old token would have revoked the family: prove it is alive.
    emu.control().expire_sessions();
    b.query_page(&key, SOQL, &QueryOptions::default())
        .await
        .unwrap();
    a.query_page(&key, SOQL, &QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(emu.control().counters().token_refresh_token, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_clients_sharing_a_file_store_refresh_once_under_rotation() {
    two_clients_one_store(|dir| Arc::new(FileStore::new(dir).unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_clients_sharing_a_sealed_file_store_refresh_once_under_rotation() {
    let keys = "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    two_clients_one_store(|dir| {
        Arc::new(SealedStore::new(
            Arc::new(FileStore::new(dir).unwrap()),
            SealingKeyring::from_env_value(keys).unwrap(),
        ))
    })
    .await;
}

#[tokio::test]
async fn sealed_file_store_never_holds_plaintext_tokens() {
    let ecfg = small();
    let emu = Emulator::start(ecfg.clone()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = Arc::new(FileStore::new(dir.path()).unwrap());
    let sealed = Arc::new(SealedStore::new(
        files.clone(),
        SealingKeyring::from_env_value("k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=").unwrap(),
    ));
    let client = Client::new(
        emulator_config(&emu, &ecfg).build().unwrap(),
        sealed.clone(),
    )
    .unwrap();
    let key = test_key();
    connect(&client, &key).await;
    let plain = sealed.load(&key).await.unwrap().unwrap();
    let on_disk = std::fs::read_to_string(files.path_for(&key)).unwrap();
    assert!(!on_disk.contains(plain.token.access_token.expose()));
    assert!(!on_disk.contains(plain.token.refresh_token.as_ref().unwrap().expose()));
    assert!(on_disk.contains("sfcrm-sealed:v1:k1:"));
    client
        .query_page(&key, SOQL, &QueryOptions::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn query_more_after_expiry_refreshes_but_does_not_retry_the_locator() {
    let ecfg = EmulatorConfig {
        contacts: 500,
        ..small()
    };
    let env = Env::start_with(ecfg, |b| b).await;
    let opts = QueryOptions {
        include_deleted: false,
        batch_size: Some(200),
    };
    let page = env.client.query_page(&env.key, SOQL, &opts).await.unwrap();
    assert_eq!(
        (page.total_size, page.done, page.records.len()),
        (500, false, 200)
    );
    let next = page.next_records_url.clone().unwrap();
    assert!(next.starts_with("/services/data/v48.0/query/"));
    let p2 = env.client.query_more(&env.key, &next, &opts).await.unwrap();
    assert_eq!(p2.records.len(), 200);
    env.emu.control().expire_sessions();
    env.emu.control().reset_counters();
    let e = env
        .client
        .query_more(&env.key, p2.next_records_url.as_deref().unwrap(), &opts)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SessionExpired);
    assert_eq!(e.error_code(), Some("INVALID_SESSION_ID"));
    let c = env.emu.control().counters();
    assert_eq!(
        (c.query_more, c.token_refresh_token),
        (1, 1),
        "refreshed once, locator not retried"
    );
    // The caller restarts the query: no further refresh is needed.
    let again = env.client.query_page(&env.key, SOQL, &opts).await.unwrap();
    assert_eq!(again.records.len(), 200);
    assert_eq!(env.emu.control().counters().token_refresh_token, 1);
}

#[tokio::test]
async fn query_all_includes_deleted_rows_and_batch_size_is_sent() {
    let env = Env::start_with(
        EmulatorConfig {
            contacts: 450,
            ..small()
        },
        |b| b.batch_size(Some(300)),
    )
    .await;
    env.emu.control().delete(SObject::Contact, 5);
    let live = env
        .client
        .query_page(&env.key, SOQL, &QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (live.total_size, live.records.len()),
        (445, 300),
        "config batch size used"
    );
    let all = env
        .client
        .query_page(
            &env.key,
            SOQL,
            &QueryOptions {
                include_deleted: true,
                batch_size: Some(2000),
            },
        )
        .await
        .unwrap();
    assert_eq!((all.total_size, all.records.len()), (450, 450));
    let e = env
        .client
        .query_page(
            &env.key,
            SOQL,
            &QueryOptions {
                include_deleted: false,
                batch_size: Some(100),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[tokio::test]
async fn transport_faults_are_retried_with_backoff() {
    // The backoff cap admits the HTML 503's `Retry-After: 1` (a longer one goes back to the
    // caller: see transport_limits.rs).
    let ecfg = EmulatorConfig { contacts: 50, deals: 20, notes: 10, ..EmulatorConfig::default() };
    let env = Env::start_with(ecfg, |b| {
        b.retry(sfcrm_core::RetryPolicy { max_retries: 3, initial_backoff: Duration::from_millis(1), max_backoff: Duration::from_millis(1500) })
    })
    .await;
    let control = env.emu.control();
    for kind in [
        FaultKind::Html503 { retry_after_s: 1 },
        FaultKind::Status500,
        FaultKind::Truncated,
        FaultKind::Reset,
    ] {
        control.add_fault(Fault {
            endpoint: Endpoint::Query,
            count: 1,
            kind: kind.clone(),
        });
        let before = env.client.api_calls();
        let page = env
            .client
            .query_page(&env.key, SOQL, &QueryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e:?}"));
        assert_eq!(page.records.len(), 50);
        let d = env.client.api_calls() - before;
        assert_eq!((d.query, d.retries), (2, 1), "{kind:?}");
    }
    // More faults than retries: a typed error after max_retries + 1 attempts.
    control.add_fault(Fault {
        endpoint: Endpoint::Query,
        count: 4,
        kind: FaultKind::Html503 { retry_after_s: 0 },
    });
    let e = env
        .client
        .query_page(&env.key, SOQL, &QueryOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Api);
    assert_eq!(e.status(), Some(503));
    assert_eq!(e.message(), "Salesforce returned an HTML error page");
    assert_eq!(e.to_string(), "Salesforce returned an HTML error page (HTTP 503)");
    assert!(e.raw_body().is_some());
}

#[tokio::test]
async fn an_empty_401_on_the_api_refreshes_once_and_retries() {
    let env = Env::start().await;
    env.emu.control().add_fault(Fault {
        endpoint: Endpoint::Query,
        count: 1,
        kind: FaultKind::Empty401,
    });
    let page = env
        .client
        .query_page(&env.key, SOQL, &QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(page.records.len(), 50);
    assert_eq!(env.emu.control().counters().token_refresh_token, 1);
    // Two 401s in a row: one refresh, one retry, then SessionExpired (no loop).
    env.emu.control().add_fault(Fault {
        endpoint: Endpoint::Query,
        count: 2,
        kind: FaultKind::Empty401,
    });
    let e = env
        .client
        .query_page(&env.key, SOQL, &QueryOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SessionExpired);
    assert_eq!(e.status(), Some(401));
    assert_eq!(env.emu.control().counters().token_refresh_token, 2);
}

#[tokio::test]
async fn daily_limit_is_rate_limited_with_usage_and_never_refreshes() {
    let env = Env::start().await;
    env.emu.control().set_daily_limit(1000);
    env.emu.control().set_api_usage(1000);
    let e = env
        .client
        .query_page(&env.key, SOQL, &QueryOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.error_code(), Some("REQUEST_LIMIT_EXCEEDED"));
    let u = e.api_usage().expect("usage on the error");
    assert_eq!(u.limit, 1000);
    assert!(u.used >= 1000);
    assert_eq!(env.emu.control().counters().token_refresh_token, 0);
    assert_eq!(env.client.api_calls().refreshes, 0);
}

#[tokio::test]
async fn a_refresh_that_moves_the_org_updates_instance_url() {
    let env = Env::start().await;
    let second = env.emu.control().use_instance(1).unwrap();
    env.emu.control().expire_sessions();
    let page = env
        .client
        .query_page(&env.key, SOQL, &QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(page.total_size, 50);
    assert_eq!(env.doc().await.instance_url, second);
    assert_eq!(
        env.client
            .connection_info(&env.key)
            .await
            .unwrap()
            .unwrap()
            .instance_url,
        second
    );
}

#[tokio::test]
async fn a_refresh_advertising_a_foreign_instance_is_refused_but_keeps_the_new_tokens() {
    let env = Env::start_with(
        EmulatorConfig {
            rotation: true,
            ..small()
        },
        |b| b,
    )
    .await;
    let before = env.doc().await;
    env.emu
        .control()
        .set_instance_url_override(Some("https://evil.example".into()));
    let e = env.client.refresh(&env.key).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol);
    let after = env.doc().await;
    assert_eq!(after.instance_url, before.instance_url);
    assert_ne!(
        after.token.refresh_token, before.token.refresh_token,
        "the rotated token is not lost"
    );
}

#[tokio::test]
async fn api_get_json_reads_any_resource_relative_to_the_instance() {
    let env = Env::start().await;
    let versions = env
        .client
        .api_get_json(&env.key, "/services/data/")
        .await
        .unwrap();
    assert!(versions.as_array().is_some_and(|a| !a.is_empty()));
    let identity = env.doc().await.id.unwrap();
    // The identity URL lives on the login host, which is loopback here (allowed).
    let me = env.client.api_get_json(&env.key, &identity).await.unwrap();
    assert_eq!(me["user_id"], env.emu.control().user_id());
    let e = env
        .client
        .api_get_json(&env.key, "/services/data/v48.0/nope")
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.status(), e.error_code()),
        (ErrorKind::Api, Some(404), Some("NOT_FOUND"))
    );
}

// ---- secrets ------------------------------------------------------------------------------------

#[derive(Clone, Default)]
struct LogBuf(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuf {
    type Writer = LogBuf;
    fn make_writer(&'a self) -> LogBuf {
        self.clone()
    }
}

#[tokio::test]
async fn no_token_secret_or_code_appears_in_errors_debug_output_or_logs() {
    let logs = LogBuf::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let ecfg = EmulatorConfig {
        rotation: true,
        contacts: 300,
        ..small()
    };
    let emu = Emulator::start(ecfg.clone()).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let config = emulator_config(&emu, &ecfg).build().unwrap();
    let client = Client::new(config.clone(), store.clone()).unwrap();
    let key = test_key();
    let mut out: Vec<String> = Vec::new();
    let mut secrets: Vec<String> = vec![ecfg.client_secret.clone(), STATE_SECRET.to_string()];

    let login = client.login(&key, Some(FORWARD_URL)).await.unwrap();
    out.push(format!("{login:?}"));
    let params = authorize(&login.url).await;
    secrets.push(params.code.clone().unwrap());
    let claims = protocol::verify_state(&config, params.state.as_deref()).unwrap();
    secrets.push(
        protocol::pkce_verifier(config.state_secret(), &claims.nonce)
            .expose()
            .to_owned(),
    );
    out.push(format!("{params:?}"));
    let cb = client.callback(&params).await.unwrap();
    out.push(format!("{cb:?}"));
    // Replaying the code: error redirect.
    out.push(format!("{:?}", client.callback(&params).await.unwrap()));
    let doc = store.load(&key).await.unwrap().unwrap();
    secrets.push(doc.token.access_token.expose().to_owned());
    secrets.push(
        doc.token
            .refresh_token
            .as_ref()
            .unwrap()
            .expose()
            .to_owned(),
    );
    out.push(format!("{doc:?}"));

    let opts = QueryOptions {
        include_deleted: false,
        batch_size: Some(200),
    };
    let page = client.query_page(&key, SOQL, &opts).await.unwrap();
    emu.control().expire_sessions();
    let e = client
        .query_more(&key, page.next_records_url.as_deref().unwrap(), &opts)
        .await
        .unwrap_err();
    out.push(format!("{e:?} {e}"));
    let doc = store.load(&key).await.unwrap().unwrap();
    secrets.push(doc.token.access_token.expose().to_owned());
    secrets.push(
        doc.token
            .refresh_token
            .as_ref()
            .unwrap()
            .expose()
            .to_owned(),
    );
    out.push(format!("{doc:?}"));
    out.push(format!("{:?}", client.refresh(&key).await.unwrap()));
    let doc = store.load(&key).await.unwrap().unwrap();
    secrets.push(doc.token.access_token.expose().to_owned());
    secrets.push(
        doc.token
            .refresh_token
            .as_ref()
            .unwrap()
            .expose()
            .to_owned(),
    );
    emu.control().add_fault(Fault {
        endpoint: Endpoint::Query,
        count: 4,
        kind: FaultKind::Status500,
    });
    let e = client.query_page(&key, SOQL, &opts).await.unwrap_err();
    out.push(format!("{e:?} {e}"));
    emu.control().revoke_refresh_tokens();
    let e = client.query_page(&key, SOQL, &opts).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReconnectRequired);
    out.push(format!("{e:?} {e} {:?}", e.raw_body()));
    out.push(format!("{:?}", client.connection_info(&key).await.unwrap()));
    out.push(format!("{client:?} {config:?} {store:?}"));
    out.push(format!("{:?}", client.disconnect(&key).await.unwrap()));
    let e = client
        .callback(&CallbackParams {
            code: Some("x".into()),
            state: Some("y".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    out.push(format!("{e:?} {e}"));

    let log_text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(log_text.contains("sfcrm::"), "the SDK logged something");
    out.push(log_text);
    let all = out.join("\n");
    for s in &secrets {
        assert!(s.len() >= 8);
        assert!(
            !all.contains(s.as_str()),
            "a secret leaked into errors, Debug output or logs"
        );
    }
}

#[tokio::test]
async fn state_expires_after_state_ttl() {
    let emu = Emulator::start(small()).await.unwrap();
    let config = emulator_config(&emu, &small())
        .state_ttl(Duration::from_secs(1))
        .build()
        .unwrap();
    let client = Client::new(config, Arc::new(MemoryStore::new())).unwrap();
    let login = client.login(&test_key(), Some(FORWARD_URL)).await.unwrap();
    let params = authorize(&login.url).await;
    tokio::time::sleep(Duration::from_millis(7_100)).await; // ttl 1 s + leeway 5 s
    let e = client.callback(&params).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState);
}

#[tokio::test]
async fn slow_responses_are_a_timeout_and_refused_connections_a_network_error() {
    let env = Env::start_with(small(), |b| b.request_timeout(Duration::from_millis(300))).await;
    env.emu.control().add_fault(Fault {
        endpoint: Endpoint::Query,
        count: 4,
        kind: FaultKind::Delay { ms: 1500 },
    });
    let before = env.client.api_calls();
    let e = env
        .client
        .query_page(&env.key, SOQL, &QueryOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    let d = env.client.api_calls() - before;
    assert_eq!((d.query, d.retries), (4, 3), "max_retries = 3");

    // A connection document whose instance does not listen: Network after the retries.
    let store = Arc::new(MemoryStore::new());
    let client = Client::new(env.client.config().clone(), store.clone()).unwrap();
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_url = format!("http://127.0.0.1:{}", dead.local_addr().unwrap().port());
    drop(dead);
    seed_connection(
        store.as_ref(),
        &env.key,
        &dead_url,
        "00DFAKE!TOKEN1",
        Some("5AepFAKEREFRESH1"),
    )
    .await;
    let e = client
        .query_page(&env.key, SOQL, &QueryOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network);
    assert_eq!(client.api_calls().api_requests, 4);
    assert_eq!(client.api_calls().token_requests, 0);
}

#[tokio::test]
async fn a_caller_cancelled_mid_refresh_does_not_lose_the_rotated_token() {
    let env = Env::start_with(
        EmulatorConfig {
            rotation: true,
            ..small()
        },
        |b| b,
    )
    .await;
    let original = env.doc().await.token.refresh_token.unwrap();
    env.emu.control().expire_sessions();
    env.emu.control().add_fault(Fault {
        endpoint: Endpoint::Token,
        count: 1,
        kind: FaultKind::Delay { ms: 400 },
    });
    let caller = {
        let (client, key) = (env.client.clone(), env.key.clone());
        tokio::spawn(async move {
            client
                .query_page(&key, SOQL, &QueryOptions::default())
                .await
        })
    };
    // Cancel the caller once the refresh grant has reached the (slow) token endpoint.
    let t0 = std::time::Instant::now();
    while env.emu.control().counters().token_refresh_token == 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the refresh grant was never sent"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    caller.abort();
    assert!(caller.await.unwrap_err().is_cancelled());
    tokio::time::sleep(Duration::from_millis(700)).await;
    let doc = env.doc().await;
    assert_ne!(
        doc.token.refresh_token.as_ref(),
        Some(&original),
        "the rotated refresh token was persisted"
    );
    assert!(doc.refresh_lease.is_none());
    let page = env
        .client
        .query_page(&env.key, SOQL, &QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(page.total_size, 50);
    assert_eq!(env.emu.control().counters().token_refresh_token, 1);
}
