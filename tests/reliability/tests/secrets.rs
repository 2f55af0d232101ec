//! Issue 7.5: secrets never leak. A full flow (login → authorize → callback, refresh with
//! rotation, export page, stream with a mid-stream expiry, faults on every endpoint, a revoked
//! connection, disconnect) runs with `tracing` at TRACE for every target, over a sealed store.
//! Every error is rendered with Display, `{:?}` and `{:#?}`, as are the client, config, stored
//! documents and API usage. No access token, refresh token, authorization code, client secret,
//! state secret or sealing key (raw or base64) may appear anywhere in the captured text.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use sf_org_emulator::{Emulator, EmulatorConfig, Endpoint, Fault, FaultKind};
use sfcrm_core::export::{ExportRequest, ExportSpec, PageRequest};
use sfcrm_core::{Client, ConnectionKey, MemoryStore, SealedStore, SealingKeyring, TokenStore};
use sfcrm_reliability::env::{FORWARD_URL, STATE_SECRET, authorize, emulator_config};
use sfcrm_reliability::stores::{FaultyStore, StoreFault};

type Render<'a> = dyn FnMut(&str, &dyn std::fmt::Debug, Option<&dyn std::fmt::Display>) + 'a;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);
impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const SEAL_KEY: [u8; 32] = *b"reliability-sealing-key-32bytes!";
const CLIENT_SECRET: &str = "reliability-client-secret-7f3a9c";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_trace_logs_errors_or_debug() {
    let cap = Capture::default();
    let writer = cap.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // The subscriber is thread-local for set_default; also install it for runtime threads.
    let cap2 = cap.clone();
    let _ = tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || cap2.clone())
            .with_ansi(false)
            .finish(),
    );

    let ecfg = EmulatorConfig {
        contacts: 450,
        deals: 5,
        notes: 5,
        rotation: true,
        client_secret: CLIENT_SECRET.into(),
        ..EmulatorConfig::default()
    };
    let emu = Emulator::start(ecfg.clone()).await.unwrap();
    let control = emu.control();
    let seal_b64 = base64::engine::general_purpose::STANDARD.encode(SEAL_KEY);
    let keyring = SealingKeyring::from_env_value(&format!("k1:{seal_b64}")).unwrap();
    let plain = Arc::new(MemoryStore::new());
    let faulty = Arc::new(FaultyStore::new(plain.clone()));
    let store = Arc::new(SealedStore::new(faulty.clone(), keyring));
    let config = emulator_config(&emu, &ecfg).request_timeout(Duration::from_millis(800)).build().unwrap();
    let client = Client::new(config.clone(), store.clone()).unwrap();
    let key = ConnectionKey::new("acc-s", "user-s");

    let mut rendered = String::new();
    let mut secrets: Vec<String> = vec![CLIENT_SECRET.into(), STATE_SECRET.into(), seal_b64.clone()];
    secrets.push(String::from_utf8_lossy(&SEAL_KEY).into_owned());
    let mut render = |label: &str, e: &dyn std::fmt::Debug, d: Option<&dyn std::fmt::Display>| {
        rendered.push_str(&format!("{label}: {e:?}\n{e:#?}\n"));
        if let Some(d) = d {
            rendered.push_str(&format!("{d}\n"));
        }
    };
    let mut errors = 0;
    let mut note_err = |label: &str, e: &sfcrm_core::Error, render: &mut Render| {
        errors += 1;
        render(label, e, Some(e));
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            render("source", &s.to_string(), Some(&s.to_string()));
            src = s.source();
        }
    };

    // login → authorize → callback (authorization code captured).
    let login = client.login(&key, Some(FORWARD_URL)).await.unwrap();
    let params = authorize(&login.url).await;
    secrets.push(params.code.clone().unwrap());
    render("callback params", &params, None);
    let cb = client.callback(&params).await.unwrap();
    render("callback", &cb, None);
    // Replaying the code: an OAuth error redirect.
    let replay = client.callback(&params).await.unwrap();
    render("replay", &replay, None);
    let collect_tokens = |doc: &sfcrm_core::ConnectionDocument, secrets: &mut Vec<String>| {
        secrets.push(doc.token.access_token.expose().to_owned());
        if let Some(r) = &doc.token.refresh_token {
            secrets.push(r.expose().to_owned());
        }
    };
    let doc = store.load(&key).await.unwrap().unwrap();
    collect_tokens(&doc, &mut secrets);
    render("doc", &doc, None);
    render("sealed doc", &plain.load(&key).await.unwrap().unwrap(), None);

    // Refresh twice (rotation), an export page, a stream with a mid-stream expiry.
    for _ in 0..2 {
        render("refresh", &client.refresh(&key).await.unwrap(), None);
        collect_tokens(&store.load(&key).await.unwrap().unwrap(), &mut secrets);
    }
    let spec = ExportSpec::builtin("contacts").unwrap();
    let page = client.export_page(&key, &spec, PageRequest { page: 3, limit: Some(50) }).await.unwrap();
    render("page", &page.pagination, None);
    let mut stream = client.export_stream(&key, ExportRequest::new(spec.clone()).batch_size(200));
    stream.next_batch().await.unwrap();
    control.expire_sessions();
    while stream.next_batch().await.unwrap().is_some() {}
    collect_tokens(&store.load(&key).await.unwrap().unwrap(), &mut secrets);

    // The store fails on the save after a refresh grant (a refresh, then a page after an expiry):
    // the tokens are kept in memory, used while the store is down, no grant is sent until they
    // are saved, and then they are saved. Every error and result is rendered.
    let one_page = PageRequest { page: 1, limit: Some(10) };
    for round in 0..2 {
        faulty.arm_after_saves(1, StoreFault::Fail(u64::MAX));
        let r = if round == 0 {
            client.refresh(&key).await.map(|_| ())
        } else {
            control.expire_sessions();
            client.export_page(&key, &spec, one_page).await.map(|_| ())
        };
        if let Err(e) = r {
            note_err("store down after the grant", &e, &mut render);
        }
        render("page, store down", &client.export_page(&key, &spec, one_page).await.map(|p| p.pagination), None);
        if let Err(e) = client.refresh(&key).await {
            note_err("refresh, kept tokens unsaved", &e, &mut render);
        }
        faulty.clear();
        render("page, store back", &client.export_page(&key, &spec, one_page).await.map(|p| p.pagination), None);
        collect_tokens(&store.load(&key).await.unwrap().unwrap(), &mut secrets);
    }

    // Every fault on every endpoint, each error rendered.
    let kinds = [
        FaultKind::Html503 { retry_after_s: 1 },
        FaultKind::Status500,
        FaultKind::Empty401,
        FaultKind::Truncated,
        FaultKind::Reset,
        FaultKind::Delay { ms: 1200 },
        FaultKind::RequestLimit,
        FaultKind::InvalidLocator,
    ];
    for kind in kinds {
        for endpoint in [Endpoint::Token, Endpoint::Query, Endpoint::QueryMore] {
            control.add_fault(Fault { endpoint, count: 20, kind: kind.clone() });
            if endpoint == Endpoint::Token {
                control.expire_sessions();
            }
            let r = client.export_page(&key, &spec, PageRequest { page: 1, limit: Some(10) }).await;
            if let Err(e) = &r {
                note_err("page", e, &mut render);
            }
            let mut s = client.export_stream(&key, ExportRequest::new(spec.clone()).batch_size(200));
            loop {
                match s.next_batch().await {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => {
                        note_err("stream", &e, &mut render);
                        break;
                    }
                }
            }
            if let Err(e) = client.refresh(&key).await {
                note_err("refresh", &e, &mut render);
            }
            control.clear_faults();
            if let Some(d) = store.load(&key).await.unwrap() {
                collect_tokens(&d, &mut secrets);
            }
        }
    }
    // Revoked: ReconnectRequired; bad API paths; disconnect (revoke fails, then succeeds).
    control.revoke_refresh_tokens();
    control.expire_sessions();
    if let Err(e) = client.export_page(&key, &spec, PageRequest { page: 1, limit: Some(10) }).await {
        note_err("revoked", &e, &mut render);
    }
    for bad in ["https://evil.example.com/services/data", "//evil.example.com/x", "\\\\evil"] {
        if let Err(e) = client.api_get_json(&key, bad).await {
            note_err("api_get_json", &e, &mut render);
        }
    }
    let login = client.login(&key, Some(FORWARD_URL)).await.unwrap();
    let params = authorize(&login.url).await;
    secrets.push(params.code.clone().unwrap());
    client.callback(&params).await.unwrap();
    collect_tokens(&store.load(&key).await.unwrap().unwrap(), &mut secrets);
    control.add_fault(Fault { endpoint: Endpoint::Revoke, count: 1, kind: FaultKind::Status500 });
    render("disconnect", &client.disconnect(&key).await.unwrap(), None);
    if let Err(e) = client.disconnect(&key).await {
        note_err("disconnect again", &e, &mut render);
    }
    render("client", &client, None);
    render("config", &config, None);
    render("usage", &client.api_usage(), None);
    render("calls", &client.api_calls(), None);
    emu.shutdown().await;

    // Control: a canary logged from a runtime worker must be found, so the search can fail.
    const CANARY: &str = "canary-5Aep861CanaryTokenValue0123456789";
    tokio::spawn(async { tracing::trace!(target: "sfcrm::control", token = CANARY, "canary") }).await.unwrap();
    let logs = String::from_utf8_lossy(&cap.0.lock().unwrap()).into_owned();
    assert!(logs.contains(CANARY), "the TRACE capture misses runtime threads");
    let logs = logs.replace(CANARY, "");
    let all = format!("{logs}\n{rendered}");
    secrets.sort();
    secrets.dedup();
    let mut leaks = Vec::new();
    for s in &secrets {
        assert!(s.len() >= 16, "secret too short to search for: {}", s.len());
        for probe in [s.clone(), url_encode(s)] {
            if all.contains(&probe) {
                leaks.push(format!("{}…", &s[..6]));
            }
        }
    }
    println!(
        "secrets: {} distinct secrets searched in {} bytes of TRACE logs ({} lines) and {} bytes of rendered values ({errors} errors): {} leaks",
        secrets.len(),
        logs.len(),
        logs.lines().count(),
        rendered.len(),
        leaks.len()
    );
    assert!(logs.lines().count() > 50, "TRACE capture is working");
    assert!(errors >= 20, "errors were produced and rendered");
    assert!(leaks.is_empty(), "secrets leaked: {leaks:?}");
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
