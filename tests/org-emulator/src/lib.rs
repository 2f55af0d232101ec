//! `sf-org-emulator`: a Salesforce org on loopback for sfcrm's tests in every language.
//!
//! It serves a **login host** (OAuth 2.0 web-server flow with PKCE, refresh with optional rotation,
//! revoke, identity URL, userinfo [salesforce-api.md §1–3]) and an **instance host** on a different
//! port (REST versions, `query`, `queryAll`, query locators [salesforce-api.md §4, §5, §7], describe,
//! Bulk API 2.0 query jobs and `/limits` [bulk-and-parallel.md §1], see [`bulk`]), plus a second
//! instance port that a test can move the org to. Data is seeded and deterministic.
//! Test controls are methods on [`Control`] and the same operations over HTTP under `/__emulator/`
//! on the login port (see README.md).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emu = sf_org_emulator::Emulator::start(sf_org_emulator::EmulatorConfig::default()).await?;
//! println!("{} {}", emu.login_url(), emu.instance_url());
//! emu.control().expire_sessions();
//! emu.shutdown().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]
// serde_json::json! recurses per key: the describe field objects have about 60.
#![recursion_limit = "256"]
// Handlers pass ready-made error responses around in `Result::Err`; boxing them buys nothing here.
#![allow(clippy::result_large_err)]

pub mod api;
pub mod bulk;
pub mod control;
pub mod data;
pub mod describe;
pub mod http;
pub mod ids;
pub mod oauth;
pub mod query;
pub mod soql;
pub mod state;
pub mod time;
pub mod tls;

use std::ops::RangeInclusive;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use control::{Control, ControlError, RefreshTokenState};
pub use data::SObject;
pub use state::{Consent, Counters, Endpoint, Fault, FaultKind};

/// Emulator settings. `Default` gives the seed's volumes (1500 contacts, 850 deals, 320 notes, 200
/// leads, 600 tasks, 300 events, 250 wide rows).
/// `Debug` redacts `client_secret`.
#[derive(Clone)]
pub struct EmulatorConfig {
    /// Connected app consumer key (default `sfcrm-demo-client`).
    pub client_id: String,
    /// Consumer secret (default `sfcrm-demo-secret`). Required for the code grant; optional for
    /// refresh (checked when sent).
    pub client_secret: String,
    /// Callback URL allow-list, exact match. Empty: any `http` loopback URL (127.0.0.1, localhost,
    /// [::1]) is accepted.
    pub redirect_uris: Vec<String>,
    /// Number of Contacts.
    pub contacts: usize,
    /// Number of Opportunities.
    pub deals: usize,
    /// Number of Notes.
    pub notes: usize,
    /// Number of Leads (default 200).
    pub leads: usize,
    /// Number of Tasks (default 600).
    pub tasks: usize,
    /// Number of Events (default 300).
    pub events: usize,
    /// Number of `Wide_Object__c` rows (default 250; 410 fields each).
    pub wide_rows: usize,
    /// Child rows a parent carries inline per subquery; the rest are behind the child result's own
    /// `nextRecordsUrl`, served in pages of the same size (default 200; 1..=2000). See README
    /// "Facts" (UNCONFIRMED rule).
    pub child_batch_size: usize,
    /// Longest request URI (path plus `?query`) in bytes; longer → 414 URI Too Long, and a URI plus
    /// headers over the same limit → 431 (default 16,384, Salesforce's documented limit).
    pub max_uri_bytes: usize,
    /// Data and token seed (same seed, same data and tokens).
    pub seed: u64,
    /// Refresh token rotation at start (default off) [salesforce-api.md §2 RTR].
    pub rotation: bool,
    /// Largest page the org serves (default 2000; real orgs may serve less) [salesforce-api.md §4].
    pub batch_size: usize,
    /// Daily API request limit (default 100000) [salesforce-api.md §5].
    pub daily_api_limit: u64,
    /// Served REST API versions, by major number (default 31..=66; older ones answer 410)
    /// [salesforce-api.md §7]. `latest` is an alias of the last.
    pub api_versions: RangeInclusive<u32>,
    /// Login port (0 = any free port).
    pub login_port: u16,
    /// Instance port (0 = any free port).
    pub instance_port: u16,
    /// Scope granted when the authorize request has none (default `api refresh_token`).
    pub default_scope: String,
    /// Access token (session) lifetime in seconds (default 7200, Salesforce's default timeout).
    pub session_lifetime_s: u64,
    /// Serve HTTPS instead of HTTP on every port, with a CA and a `localhost`/`127.0.0.1`
    /// certificate generated at start (see [`Emulator::tls_ca_pem`]). Default off.
    pub tls: bool,
    /// Bulk API 2.0 query job knobs (processing rate, queue delay, page size, the CONFLICT
    /// switches; see [`bulk::BulkSettings`]). Changeable at run time through the control API.
    pub bulk: bulk::BulkSettings,
}

impl std::fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("redirect_uris", &self.redirect_uris)
            .field("contacts", &self.contacts)
            .field("deals", &self.deals)
            .field("notes", &self.notes)
            .field("leads", &self.leads)
            .field("tasks", &self.tasks)
            .field("events", &self.events)
            .field("wide_rows", &self.wide_rows)
            .field("child_batch_size", &self.child_batch_size)
            .field("max_uri_bytes", &self.max_uri_bytes)
            .field("seed", &self.seed)
            .field("rotation", &self.rotation)
            .field("batch_size", &self.batch_size)
            .field("daily_api_limit", &self.daily_api_limit)
            .field("api_versions", &self.api_versions)
            .field("login_port", &self.login_port)
            .field("instance_port", &self.instance_port)
            .field("default_scope", &self.default_scope)
            .field("session_lifetime_s", &self.session_lifetime_s)
            .field("tls", &self.tls)
            .field("bulk", &self.bulk)
            .finish()
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            client_id: "sfcrm-demo-client".into(),
            client_secret: "sfcrm-demo-secret".into(),
            redirect_uris: Vec::new(),
            contacts: 1500,
            deals: 850,
            notes: 320,
            leads: 200,
            tasks: 600,
            events: 300,
            wide_rows: 250,
            child_batch_size: 200,
            max_uri_bytes: 16_384,
            seed: 0x5F_C0DE,
            rotation: false,
            batch_size: 2000,
            daily_api_limit: 100_000,
            api_versions: 31..=66,
            login_port: 0,
            instance_port: 0,
            default_scope: "api refresh_token".into(),
            session_lifetime_s: 7200,
            tls: false,
            bulk: bulk::BulkSettings::default(),
        }
    }
}

/// A running emulator. Dropping it without [`Emulator::shutdown`] stops serving when the runtime
/// ends.
#[derive(Debug)]
pub struct Emulator {
    control: Control,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    tls_ca_pem: Option<String>,
}

fn login_router(org: Arc<Org>, control: Control) -> Router {
    Router::new()
        .route("/services/oauth2/authorize", get(oauth::authorize))
        .route("/services/oauth2/token", post(oauth::token))
        .route("/services/oauth2/revoke", post(oauth::revoke))
        .route("/services/oauth2/userinfo", get(oauth::userinfo))
        .route("/id/{org}/{user}", get(oauth::identity))
        .with_state(org)
        .merge(control::router(control))
}

fn instance_router(org: Arc<Org>, index: usize) -> Router {
    let inst = api::Instance { org: org.clone(), index };
    Router::new()
        .route("/services/data", get(api::versions))
        .route("/services/data/", get(api::versions))
        .route("/services/data/{v}/query", get(api::query))
        .route("/services/data/{v}/query/", get(api::query))
        .route("/services/data/{v}/queryAll", get(api::query_all))
        .route("/services/data/{v}/queryAll/", get(api::query_all))
        .route("/services/data/{v}/query/{locator}", get(api::query_more))
        .route("/services/data/{v}/sobjects", get(describe::describe_global))
        .route("/services/data/{v}/sobjects/", get(describe::describe_global))
        .route("/services/data/{v}/sobjects/{sobject}/describe", get(describe::describe_sobject))
        .route("/services/data/{v}/sobjects/{sobject}/describe/", get(describe::describe_sobject))
        .route("/services/data/{v}/sobjects/{sobject}/{id}", get(api::retrieve))
        .route("/services/data/{v}/queryAll/{locator}", get(api::query_more))
        .route("/services/data/{v}/limits", get(bulk::routes::limits))
        .route("/services/data/{v}/limits/", get(bulk::routes::limits))
        .route("/services/data/{v}/jobs/query", get(bulk::routes::list).post(bulk::routes::create))
        .route("/services/data/{v}/jobs/query/", get(bulk::routes::list).post(bulk::routes::create))
        .route("/services/data/{v}/jobs/query/{id}", get(bulk::routes::poll).patch(bulk::routes::abort).delete(bulk::routes::delete))
        .route("/services/data/{v}/jobs/query/{id}/results", get(bulk::results))
        .route("/services/data/{v}/jobs/query/{id}/resultPages", get(bulk::result_pages))
        .route("/services/data/{v}/jobs/query/{id}/resultpages", get(bulk::result_pages))
        .fallback(api::data_not_found)
        .with_state(inst)
        .merge(Router::new().route("/services/oauth2/userinfo", get(oauth::userinfo)).with_state(org.clone()))
        .layer(axum::middleware::from_fn_with_state(org, http::uri_limit))
}

use state::Org;

impl Emulator {
    /// Bind the login port, the instance port and a second instance port on 127.0.0.1 and start
    /// serving. Errors: the ports cannot be bound.
    pub async fn start(cfg: EmulatorConfig) -> std::io::Result<Emulator> {
        let login = TcpListener::bind(("127.0.0.1", cfg.login_port)).await?;
        let inst0 = TcpListener::bind(("127.0.0.1", cfg.instance_port)).await?;
        let inst1 = TcpListener::bind(("127.0.0.1", 0)).await?;
        let tls = if cfg.tls { Some(tls::generate()?) } else { None };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = |l: &TcpListener| l.local_addr().map(|a| format!("{scheme}://127.0.0.1:{}", a.port()));
        let login_url = url(&login)?;
        let instance_urls = vec![url(&inst0)?, url(&inst1)?];
        let org = Arc::new(Org::new(cfg, login_url, instance_urls));
        let control = Control { org: org.clone() };
        let (tx, rx) = watch::channel(false);
        let routers = [
            (login, login_router(org.clone(), control.clone())),
            (inst0, instance_router(org.clone(), 0)),
            (inst1, instance_router(org.clone(), 1)),
        ];
        let mut tasks = Vec::new();
        for (listener, router) in routers {
            let mut rx = rx.clone();
            let svc = router.into_make_service_with_connect_info::<http::KillSwitch>();
            let listener = http::KillableListener(listener);
            let stop = async move {
                let _ = rx.wait_for(|stop| *stop).await;
            };
            tasks.push(match &tls {
                None => tokio::spawn(async move {
                    let _ = axum::serve(listener, svc).with_graceful_shutdown(stop).await;
                }),
                Some(m) => {
                    let listener = tls::TlsListener::new(listener, m.server_config.clone());
                    tokio::spawn(async move {
                        let _ = axum::serve(listener, svc).with_graceful_shutdown(stop).await;
                    })
                }
            });
        }
        Ok(Emulator { control, shutdown: tx, tasks, tls_ca_pem: tls.map(|m| m.ca_pem) })
    }

    /// The login host, `http://127.0.0.1:P1` (OAuth endpoints, identity URL, `/__emulator/`).
    pub fn login_url(&self) -> &str {
        &self.control.org.login_url
    }

    /// The default instance host, `http://127.0.0.1:P2` (data API). Differs from the login URL.
    pub fn instance_url(&self) -> &str {
        &self.control.org.instance_urls[0]
    }

    /// The second instance host, for "the org moved" tests ([`Control::use_instance`]`(1)`).
    pub fn second_instance_url(&self) -> &str {
        &self.control.org.instance_urls[1]
    }

    /// With [`EmulatorConfig::tls`]: the generated CA certificate (PEM) that clients must trust.
    pub fn tls_ca_pem(&self) -> Option<&str> {
        self.tls_ca_pem.as_deref()
    }

    /// A cloneable control handle.
    pub fn control(&self) -> Control {
        self.control.clone()
    }

    /// Stop serving and wait for the servers to finish.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}
