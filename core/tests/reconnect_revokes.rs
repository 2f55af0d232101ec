//! Issue 16 item 1: a callback that replaces a stored connection revokes the replaced refresh
//! token at Salesforce (a failed revoke is reported on the callback result, not an error), so
//! that "disconnect revokes at Salesforce" holds after two tabs or ten parallel flows.

mod support;

use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use sf_org_emulator::{Emulator, EmulatorConfig, Endpoint, Fault, FaultKind};
use sfcrm_core::store::{ConnectionDocument, TokenStore};
use sfcrm_core::{CallbackOutcome, CallbackParams, Client, ConnectionKey, Error, MemoryStore, SaveOutcome};
use support::*;

/// A memory store that records every refresh token it was asked to save.
#[derive(Default)]
struct RecordingStore {
    inner: MemoryStore,
    refresh_tokens: Mutex<Vec<String>>,
}

impl TokenStore for RecordingStore {
    fn load<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<Option<ConnectionDocument>, Error>> {
        self.inner.load(key)
    }
    fn save<'a>(
        &'a self,
        doc: &'a ConnectionDocument,
        expected_version: Option<u64>,
    ) -> BoxFuture<'a, Result<SaveOutcome, Error>> {
        if let Some(r) = &doc.token.refresh_token {
            let mut seen = self.refresh_tokens.lock().unwrap();
            if !seen.iter().any(|t| t == r.expose()) {
                seen.push(r.expose().to_owned());
            }
        }
        self.inner.save(doc, expected_version)
    }
    fn delete<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<bool, Error>> {
        self.inner.delete(key)
    }
}

struct Org {
    emu: Emulator,
    ecfg: EmulatorConfig,
    store: Arc<RecordingStore>,
    client: Client,
}

async fn org() -> Org {
    let ecfg = EmulatorConfig { contacts: 5, deals: 1, notes: 1, ..EmulatorConfig::default() };
    let emu = Emulator::start(ecfg.clone()).await.expect("emulator starts");
    let store = Arc::new(RecordingStore::default());
    let client = Client::new(emulator_config(&emu, &ecfg).build().unwrap(), store.clone()).unwrap();
    Org { emu, ecfg, store, client }
}

/// `n` OAuth flows started for `key` before any callback (n tabs), authorized at the org.
async fn flows(client: &Client, key: &ConnectionKey, n: usize) -> Vec<CallbackParams> {
    let mut out = Vec::new();
    for _ in 0..n {
        let login = client.login(key, Some(FORWARD_URL)).await.unwrap();
        assert!(!login.already_connected);
        out.push(authorize(&login.url).await);
    }
    out
}

/// True when the org still grants an access token for `refresh_token`.
async fn refresh_token_live(org: &Org, refresh_token: &str) -> bool {
    let resp = reqwest::Client::new()
        .post(format!("{}/services/oauth2/token", org.emu.login_url()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", org.ecfg.client_id.as_str()),
            ("client_secret", org.ecfg.client_secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    resp.status().is_success()
}

fn stored_refresh_tokens(org: &Org) -> Vec<String> {
    org.store.refresh_tokens.lock().unwrap().clone()
}

#[tokio::test]
async fn a_second_callback_revokes_the_refresh_token_it_replaces() {
    let org = org().await;
    let key = test_key();
    let params = flows(&org.client, &key, 2).await;
    let first = org.client.callback(&params[0]).await.unwrap();
    assert_eq!(first.outcome, CallbackOutcome::Success);
    assert_eq!(first.replaced_revoke_error, None);
    let second = org.client.callback(&params[1]).await.unwrap();
    assert_eq!(second.outcome, CallbackOutcome::Success);
    assert_eq!(second.replaced_revoke_error, None);
    let tokens = stored_refresh_tokens(&org);
    assert_eq!(tokens.len(), 2);
    assert!(!refresh_token_live(&org, &tokens[0]).await, "the replaced refresh token still works");
    assert!(refresh_token_live(&org, &tokens[1]).await, "the stored refresh token must stay valid");
    assert_eq!(org.emu.control().counters().revoke, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_parallel_callbacks_then_disconnect_leave_no_refresh_token_alive() {
    let org = org().await;
    let key = test_key();
    let params = flows(&org.client, &key, 10).await;
    let tasks: Vec<_> = params
        .into_iter()
        .map(|p| {
            let client = org.client.clone();
            tokio::spawn(async move { client.callback(&p).await })
        })
        .collect();
    for t in tasks {
        let cb = t.await.unwrap().unwrap();
        assert_eq!(cb.outcome, CallbackOutcome::Success);
        assert_eq!(cb.replaced_revoke_error, None);
    }
    let tokens = stored_refresh_tokens(&org);
    assert_eq!(tokens.len(), 10, "ten code grants, ten refresh tokens");
    let d = org.client.disconnect(&key).await.unwrap();
    assert!(d.revoked, "{d:?}");
    for (i, t) in tokens.iter().enumerate() {
        assert!(!refresh_token_live(&org, t).await, "refresh token {i} of 10 is still valid after disconnect");
    }
}

#[tokio::test]
async fn a_failed_revoke_of_the_replaced_token_is_reported_not_an_error() {
    let org = org().await;
    let key = test_key();
    let params = flows(&org.client, &key, 2).await;
    org.client.callback(&params[0]).await.unwrap();
    org.emu.control().add_fault(Fault { endpoint: Endpoint::Revoke, count: 1, kind: FaultKind::Status500 });
    let second = org.client.callback(&params[1]).await.unwrap();
    assert_eq!(second.outcome, CallbackOutcome::Success);
    let why = second.replaced_revoke_error.expect("the failed revoke is reported");
    assert!(!why.is_empty());
    let tokens = stored_refresh_tokens(&org);
    assert!(!tokens.iter().any(|t| why.contains(t.as_str())), "no token in the report");
    // The new connection is stored and usable.
    let info = org.client.connection_info(&key).await.unwrap().unwrap();
    assert_eq!(info.version, 2);
    assert!(refresh_token_live(&org, &tokens[1]).await);
}
