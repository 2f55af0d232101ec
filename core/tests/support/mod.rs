//! Shared helpers for sfcrm-core's integration tests (auth and export suites).
//!
//! - [`test_config`] / [`emulator_config`]: a valid [`Config`] for a loopback login host, with fast
//!   retries so fault tests stay quick.
//! - [`Env`] / [`Env::start`]: an org emulator, a [`Client`] over a [`MemoryStore`], and a
//!   connected [`ConnectionKey`] (login → authorize → callback done for real, PKCE included).
//! - [`authorize`]: follow an authorize URL on the emulator and return the callback parameters.
//! - [`ScriptedServer`]: a tiny loopback server that answers a fixed script of responses in order
//!   and records every request (for exact field-case reproductions, e.g. BR-02).
//! - [`seed_connection`]: put a connection document straight into a store.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use sf_org_emulator::{Emulator, EmulatorConfig};
use sfcrm_core::store::{ConnectionDocument, DOCUMENT_SCHEMA, StoredToken};
use sfcrm_core::{
    CallbackParams, Client, Config, ConfigBuilder, ConnectionKey, MemoryStore, RetryPolicy, Secret,
    TokenStore,
};

/// A 32+ byte state secret for tests.
pub const STATE_SECRET: &str = "test-state-secret-0123456789abcdef-0123456789";
/// The forward URL every test uses (its origin is allowed by [`test_config`]).
pub const FORWARD_URL: &str = "https://app.acme.example/integrations?tab=crm";
/// The redirect URI every test uses (any loopback http URL is accepted by the emulator).
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// Fast retries for tests: 3 retries, 1 ms initial backoff, 20 ms cap.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(20),
    }
}

/// A builder preset for a loopback login host: client id/secret as given, [`REDIRECT_URI`],
/// forward origin `https://app.acme.example`, [`fast_retry`], short timeouts. Add settings and `build()`.
pub fn test_config(login_url: &str, client_id: &str, client_secret: &str) -> ConfigBuilder {
    Config::builder()
        .client_id(client_id)
        .client_secret(client_secret)
        .redirect_uri(REDIRECT_URI)
        .login_url(login_url)
        .state_secret(STATE_SECRET)
        .forward_origins(["https://app.acme.example"])
        .retry(fast_retry())
        .connect_timeout(Duration::from_secs(5))
        .request_timeout(Duration::from_secs(20))
        .token_timeout(Duration::from_secs(10))
        .refresh_wait(Duration::from_secs(10))
}

/// [`test_config`] for a running emulator (its client id and secret).
pub fn emulator_config(emu: &Emulator, ecfg: &EmulatorConfig) -> ConfigBuilder {
    test_config(emu.login_url(), &ecfg.client_id, &ecfg.client_secret)
}

/// The test connection key.
pub fn test_key() -> ConnectionKey {
    ConnectionKey::new("acc-1", "user-1")
}

/// Follows an authorize URL on the emulator (no redirect following) and returns the callback
/// parameters parsed from the `Location` header (decoded exactly once).
pub async fn authorize(authorize_url: &str) -> CallbackParams {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http
        .get(authorize_url)
        .send()
        .await
        .expect("authorize request");
    assert!(
        resp.status().is_redirection(),
        "authorize answered {} instead of a redirect",
        resp.status()
    );
    let loc = resp
        .headers()
        .get("location")
        .expect("Location header")
        .to_str()
        .unwrap()
        .to_owned();
    let url = url::Url::parse(&loc).expect("absolute Location");
    let mut p = CallbackParams::default();
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "code" => p.code = Some(v.into_owned()),
            "state" => p.state = Some(v.into_owned()),
            "error" => p.error = Some(v.into_owned()),
            "error_description" => p.error_description = Some(v.into_owned()),
            _ => {}
        }
    }
    p
}

/// Runs login → authorize → callback for `key` and asserts success.
pub async fn connect(client: &Client, key: &ConnectionKey) {
    let login = client.login(key, Some(FORWARD_URL)).await.expect("login");
    assert!(!login.already_connected, "already connected");
    let params = authorize(&login.url).await;
    let cb = client.callback(&params).await.expect("callback");
    assert_eq!(
        cb.outcome,
        sfcrm_core::CallbackOutcome::Success,
        "callback: {}",
        cb.url
    );
}

/// A running emulator, a client over a memory store, and a connected key.
pub struct Env {
    /// The emulator.
    pub emu: Emulator,
    /// Its settings.
    pub ecfg: EmulatorConfig,
    /// The store the client uses.
    pub store: Arc<MemoryStore>,
    /// The client.
    pub client: Client,
    /// The connected key.
    pub key: ConnectionKey,
}

impl Env {
    /// Starts an emulator with `ecfg`, builds a client (optionally adjusted by `tweak`) and
    /// connects [`test_key`].
    pub async fn start_with(
        ecfg: EmulatorConfig,
        tweak: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
    ) -> Env {
        let emu = Emulator::start(ecfg.clone())
            .await
            .expect("emulator starts");
        let store = Arc::new(MemoryStore::new());
        let config = tweak(emulator_config(&emu, &ecfg)).build().expect("config");
        let client = Client::new(config, store.clone()).expect("client");
        let key = test_key();
        connect(&client, &key).await;
        Env {
            emu,
            ecfg,
            store,
            client,
            key,
        }
    }

    /// [`Env::start_with`] with small data volumes (50 contacts, 20 deals, 10 notes).
    pub async fn start() -> Env {
        let ecfg = EmulatorConfig {
            contacts: 50,
            deals: 20,
            notes: 10,
            ..EmulatorConfig::default()
        };
        Env::start_with(ecfg, |b| b).await
    }

    /// The stored document (plaintext).
    pub async fn doc(&self) -> ConnectionDocument {
        self.store
            .load(&self.key)
            .await
            .unwrap()
            .expect("document stored")
    }
}

/// Puts a document straight into `store` (version 1) for `key` with the given tokens.
pub async fn seed_connection(
    store: &dyn TokenStore,
    key: &ConnectionKey,
    instance_url: &str,
    access_token: &str,
    refresh_token: Option<&str>,
) -> ConnectionDocument {
    let doc = ConnectionDocument {
        schema: DOCUMENT_SCHEMA,
        account_id: key.account_id.clone(),
        owner: key.owner.clone(),
        token: StoredToken {
            access_token: Secret::new(access_token),
            refresh_token: refresh_token.map(Secret::new),
            issued_at: "1732950000000".into(),
        },
        token_invalidated: false,
        instance_url: instance_url.to_owned(),
        id: None,
        scope: Some("api refresh_token".into()),
        version: 1,
        refresh_lease: None,
        updated_at_ms: 0,
    };
    assert_eq!(
        store.save(&doc, None).await.unwrap(),
        sfcrm_core::SaveOutcome::Saved
    );
    doc
}

// ---- scripted server --------------------------------------------------------------------------

/// One scripted response: answered to the next request if its method and path match.
#[derive(Debug, Clone)]
pub struct Step {
    /// Expected method (`GET`, `POST`, …).
    pub method: &'static str,
    /// Expected path prefix (query excluded).
    pub path: String,
    /// Status to answer.
    pub status: u16,
    /// Headers to answer (a JSON Content-Type is added when the body starts with `{` or `[`).
    pub headers: Vec<(String, String)>,
    /// Body to answer.
    pub body: String,
}

impl Step {
    /// A step answering `status` with `body`.
    pub fn new(method: &'static str, path: &str, status: u16, body: &str) -> Step {
        Step {
            method,
            path: path.to_owned(),
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }
    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Step {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// A request the scripted server received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Method.
    pub method: String,
    /// Path and raw query, as sent.
    pub path_and_query: String,
    /// Headers (lower-case names).
    pub headers: HashMap<String, String>,
    /// Body (UTF-8 lossy).
    pub body: String,
    /// False when it did not match the next step (answered 599).
    pub matched: bool,
}

impl Recorded {
    /// The decoded form fields of an `x-www-form-urlencoded` body.
    pub fn form(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }
    /// The raw `q=` value of the query string (still percent-encoded).
    pub fn raw_query_param(&self, name: &str) -> Option<String> {
        let q = self.path_and_query.split_once('?')?.1;
        q.split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(str::to_owned))
    }
}

#[derive(Default)]
struct ScriptState {
    steps: VecDeque<Step>,
    requests: Vec<Recorded>,
}

/// A loopback server answering a script. Both the "login host" and the "instance" of a field case
/// are this one server (`base_url`).
pub struct ScriptedServer {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    state: Arc<Mutex<ScriptState>>,
    task: tokio::task::JoinHandle<()>,
}

async fn scripted(
    State(st): State<Arc<Mutex<ScriptState>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path_and_query = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let mut st = st.lock().unwrap();
    let next = st.steps.front().cloned();
    let matched = next
        .as_ref()
        .is_some_and(|s| s.method == method.as_str() && uri.path().starts_with(&s.path));
    st.requests.push(Recorded {
        method: method.to_string(),
        path_and_query,
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
        matched,
    });
    if !matched {
        return (StatusCode::from_u16(599).unwrap(), "unexpected request").into_response();
    }
    let step = st.steps.pop_front().unwrap();
    let mut resp = Response::builder().status(step.status);
    let t = step.body.trim_start();
    if (t.starts_with('{') || t.starts_with('['))
        && !step
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        resp = resp.header("content-type", "application/json;charset=UTF-8");
    }
    for (k, v) in &step.headers {
        resp = resp.header(k.as_str(), v.as_str());
    }
    resp.body(axum::body::Body::from(step.body)).unwrap()
}

impl ScriptedServer {
    /// Binds 127.0.0.1:0 and serves `steps` in order.
    pub async fn start(steps: Vec<Step>) -> ScriptedServer {
        let state = Arc::new(Mutex::new(ScriptState {
            steps: steps.into(),
            requests: Vec::new(),
        }));
        let app = Router::new().fallback(scripted).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        ScriptedServer {
            base_url,
            state,
            task,
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Requests to paths starting with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path_and_query.starts_with(prefix))
            .collect()
    }

    /// Steps not consumed yet.
    pub fn remaining(&self) -> usize {
        self.state.lock().unwrap().steps.len()
    }

    /// Appends more steps.
    pub fn push(&self, steps: Vec<Step>) {
        self.state.lock().unwrap().steps.extend(steps);
    }

    /// A [`test_config`] builder whose login host is this server (client `3MVGFAKECLIENT`, secret
    /// `FAKESECRET`, as in the field cases).
    pub fn config(&self) -> ConfigBuilder {
        test_config(&self.base_url, "3MVGFAKECLIENT", "FAKESECRET")
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
