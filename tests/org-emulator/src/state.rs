//! Shared org state: OAuth grants and sessions, query cursors, counters, limits, faults.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::data::{Dataset, Overlay, Volumes};
use crate::query::{Plan, Rows};
use crate::EmulatorConfig;

/// What `/services/oauth2/authorize` does once the request is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Consent {
    /// Auto-approve: redirect with `code` and `state`.
    #[default]
    Approve,
    /// The user denies: `error=access_denied` [salesforce-api.md §1 "Callback"].
    Deny,
    /// The help page's variant: `error=access-denied` (hyphen) [salesforce-api.md §1].
    DenyHyphen,
}

/// Endpoints that have counters and can be given faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `GET /services/oauth2/authorize`
    Authorize,
    /// `POST /services/oauth2/token` (any grant)
    Token,
    /// `POST /services/oauth2/revoke`
    Revoke,
    /// `GET /id/<org>/<user>`
    Identity,
    /// `GET /services/oauth2/userinfo`
    Userinfo,
    /// `GET /services/data/vNN.N/query` and `/queryAll`
    Query,
    /// `GET /services/data/vNN.N/query/<locator>-<N>`
    QueryMore,
    /// `GET /services/data/`
    Versions,
    /// `GET /services/data/vNN.N/sobjects/<Type>/<Id>`
    Retrieve,
    /// `GET /services/data/vNN.N/sobjects` and `/sobjects/<Type>/describe`
    Describe,
    /// `POST /services/data/vNN.N/jobs/query` (create a Bulk API 2.0 query job)
    BulkCreate,
    /// `GET /services/data/vNN.N/jobs/query/<id>` (job info: a poll)
    BulkPoll,
    /// `GET /services/data/vNN.N/jobs/query` (the job list)
    BulkList,
    /// `GET /services/data/vNN.N/jobs/query/<id>/results`
    BulkResults,
    /// `GET /services/data/vNN.N/jobs/query/<id>/resultPages`
    BulkResultPages,
    /// `PATCH /services/data/vNN.N/jobs/query/<id>` (abort)
    BulkAbort,
    /// `DELETE /services/data/vNN.N/jobs/query/<id>`
    BulkDelete,
    /// `GET /services/data/vNN.N/limits`
    Limits,
}

/// Per-endpoint request counters (every request that reached the handler, including failures and
/// injected faults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counters {
    /// `GET /services/oauth2/authorize`
    pub authorize: u64,
    /// token requests with `grant_type=authorization_code`
    pub token_authorization_code: u64,
    /// token requests with `grant_type=refresh_token`
    pub token_refresh_token: u64,
    /// token requests with any other or no grant type
    pub token_other: u64,
    /// `POST /services/oauth2/revoke`
    pub revoke: u64,
    /// identity URL requests
    pub identity: u64,
    /// userinfo requests
    pub userinfo: u64,
    /// `query` and `queryAll` requests
    pub query: u64,
    /// `nextRecordsUrl` (query locator) requests
    pub query_more: u64,
    /// versions resource requests
    pub versions: u64,
    /// sObject record retrieve requests
    pub retrieve: u64,
    /// describeGlobal and sObject describe requests
    pub describe: u64,
    /// requests refused before routing because the URI (414) or URI plus headers (431) were too long
    pub uri_too_long: u64,
    /// Bulk API 2.0 query job creations (`POST …/jobs/query`)
    pub bulk_create: u64,
    /// job info requests (`GET …/jobs/query/<id>`: polls)
    pub bulk_poll: u64,
    /// job list requests (`GET …/jobs/query`)
    pub bulk_list: u64,
    /// result page requests (`GET …/jobs/query/<id>/results`)
    pub bulk_results: u64,
    /// `resultPages` requests
    pub bulk_result_pages: u64,
    /// abort requests (`PATCH …/jobs/query/<id>`)
    pub bulk_abort: u64,
    /// delete requests (`DELETE …/jobs/query/<id>`)
    pub bulk_delete: u64,
    /// `GET …/limits` requests
    pub limits: u64,
    /// authenticated data API calls counted against the daily limit (the `N` of `api-usage=N/LIMIT`
    /// also includes any usage set through the control API)
    pub api_calls: u64,
}

/// A kind of injected failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// 503 with an HTML body and `Retry-After: <retry_after_s>` (maintenance page).
    Html503 {
        /// seconds for `Retry-After`
        #[serde(default = "one")]
        retry_after_s: u64,
    },
    /// 500 `[{"message":…,"errorCode":"UNKNOWN_EXCEPTION"}]` (also accepted as `"500"`).
    #[serde(alias = "500", alias = "http500")]
    Status500,
    /// 401 with a zero-length body.
    Empty401,
    /// 200 with a JSON body cut in the middle (Content-Length matches the cut).
    Truncated,
    /// Wait `ms` milliseconds, then handle the request normally (also accepted as `delay_ms`).
    #[serde(alias = "delay_ms")]
    Delay {
        /// milliseconds
        ms: u64,
    },
    /// Close the connection without sending any response (also accepted as `close`).
    #[serde(alias = "close")]
    Reset,
    /// 403 `REQUEST_LIMIT_EXCEEDED` with `Sforce-Limit-Info`.
    RequestLimit,
    /// 400 `INVALID_QUERY_LOCATOR` (for query locator requests; on other endpoints the same body).
    InvalidLocator,
    /// 403 `API_DISABLED_FOR_ORG` "The REST API is not enabled for this Organization."
    /// [salesforce-api.md §5].
    ApiDisabled,
    /// Any scripted response: `status`, `body` (default empty), `content_type` (default none).
    Custom {
        /// HTTP status code.
        status: u16,
        /// Body text.
        #[serde(default)]
        body: String,
        /// `Content-Type` header, if any.
        #[serde(default)]
        content_type: Option<String>,
    },
}

fn one() -> u64 {
    1
}

/// "Make the next `count` calls to `endpoint` fail with `kind`".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// How many of the next calls (default 1).
    #[serde(default = "one_u32")]
    pub count: u32,
    /// What happens.
    #[serde(flatten)]
    pub kind: FaultKind,
}

fn one_u32() -> u32 {
    1
}

#[derive(Debug, Clone)]
pub(crate) struct CodeGrant {
    pub redirect_uri: String,
    pub challenge: Option<(String, String)>,
    pub scope: String,
    pub expires_at: i64,
    pub used: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub id: u64,
    pub expires_at: i64,
    pub instance: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct Family {
    pub current_refresh: String,
    pub access_tokens: Vec<String>,
    pub revoked: bool,
    pub scope: String,
}

#[derive(Debug)]
pub(crate) struct Auth {
    pub rng: StdRng,
    pub codes: HashMap<String, CodeGrant>,
    pub sessions: HashMap<String, Session>,
    /// refresh token -> (family, is current)
    pub refresh: HashMap<String, (u64, bool)>,
    pub families: HashMap<u64, Family>,
    pub rotation: bool,
    pub consent: Consent,
    pub session_lifetime_ms: i64,
    pub next_id: u64,
}

impl Auth {
    pub fn token_chars(&mut self, n: usize, alphabet: &[u8]) -> String {
        (0..n).map(|_| alphabet[self.rng.random_range(0..alphabet.len())] as char).collect()
    }
}

pub(crate) const TOKEN_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A query cursor (what a query locator points at) [salesforce-api.md §4 "Cursors"].
#[derive(Debug)]
pub(crate) struct Cursor {
    pub session_id: u64,
    pub plan: Plan,
    pub rows: Rows,
    pub batch: u64,
    /// A child subquery's cursor (pages of `batch` rows whatever `Sforce-Query-Options` says).
    pub child: bool,
    /// The locator, once minted.
    pub locator: std::sync::OnceLock<String>,
}

impl Cursor {
    /// Row indices held in memory.
    pub fn held_rows(&self) -> u64 {
        match &self.rows {
            Rows::List(v) => v.len() as u64,
            _ => 0,
        }
    }
}

/// Cursors kept at once (oldest evicted; its locator then answers INVALID_QUERY_LOCATOR).
pub const MAX_CURSORS: usize = 512;

/// Child subquery cursors kept at once (oldest evicted first).
pub const MAX_CHILD_CURSORS: usize = 100_000;

/// Row indices that cursors may hold in total (4 bytes each) before the oldest are evicted; results
/// that are plain Id ranges hold none.
pub const MAX_CURSOR_ROWS: u64 = 16_000_000;

#[derive(Debug, Default)]
pub(crate) struct Cursors {
    pub map: HashMap<String, Arc<Cursor>>,
    pub order: VecDeque<String>,
    /// Child subquery cursors, oldest first.
    pub child_order: VecDeque<String>,
    pub next: u64,
    /// Sum of `Cursor::held_rows` over `map`.
    pub held_rows: u64,
}

impl Cursors {
    fn drop_oldest(&mut self, child: bool) {
        let q = if child { &mut self.child_order } else { &mut self.order };
        if let Some(old) = q.pop_front()
            && let Some(c) = self.map.remove(&old)
        {
            self.held_rows -= c.held_rows();
        }
    }

    /// Evict the oldest cursors past [`MAX_CURSORS`] / [`MAX_CHILD_CURSORS`], then (children first)
    /// while more than [`MAX_CURSOR_ROWS`] row indices are held.
    pub fn evict(&mut self) {
        while self.order.len() > MAX_CURSORS {
            self.drop_oldest(false);
        }
        while self.child_order.len() > MAX_CHILD_CURSORS {
            self.drop_oldest(true);
        }
        while self.held_rows > MAX_CURSOR_ROWS && self.order.len() + self.child_order.len() > 1 {
            let child = !self.child_order.is_empty();
            self.drop_oldest(child);
        }
    }
}

/// The whole emulated org. `Debug` shows URLs and ids only, never tokens, codes or the secret.
pub struct Org {
    pub(crate) cfg: EmulatorConfig,
    pub(crate) ds: Dataset,
    pub(crate) ov: RwLock<Overlay>,
    pub(crate) auth: Mutex<Auth>,
    pub(crate) cursors: Mutex<Cursors>,
    /// Bulk API 2.0 query jobs, their knobs and pending job faults.
    pub(crate) bulk: Mutex<crate::bulk::Jobs>,
    pub(crate) counters: Mutex<Counters>,
    pub(crate) api_used: AtomicU64,
    pub(crate) daily_limit: AtomicU64,
    /// Largest page served (runtime-adjustable copy of `EmulatorConfig::batch_size`).
    pub(crate) batch_size: AtomicU64,
    /// Child rows returned inline per parent (runtime-adjustable copy of
    /// `EmulatorConfig::child_batch_size`).
    pub(crate) child_batch_size: AtomicU64,
    /// Longest request URI (path and query) served; longer → 414 (copy of
    /// `EmulatorConfig::max_uri_bytes`).
    pub(crate) max_uri_bytes: AtomicU64,
    pub(crate) faults: Mutex<Vec<Fault>>,
    pub(crate) clock_offset_ms: AtomicI64,
    pub(crate) login_url: String,
    pub(crate) instance_urls: Vec<String>,
    /// Index into `instance_urls` advertised in token responses.
    pub(crate) current_instance: AtomicU64,
    /// Overrides the advertised `instance_url` text (sessions still belong to `current_instance`).
    pub(crate) instance_override: RwLock<Option<String>>,
    pub(crate) user_id: String,
}

impl std::fmt::Debug for Org {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Org")
            .field("login_url", &self.login_url)
            .field("instance_urls", &self.instance_urls)
            .field("org_id", &self.ds.org_id)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

impl Org {
    pub(crate) fn new(cfg: EmulatorConfig, login_url: String, instance_urls: Vec<String>) -> Org {
        let ds = Dataset::with_volumes(cfg.seed, Volumes {
            contacts: cfg.contacts as u64,
            deals: cfg.deals as u64,
            notes: cfg.notes as u64,
            leads: cfg.leads as u64,
            tasks: cfg.tasks as u64,
            events: cfg.events as u64,
            wide_rows: cfg.wide_rows as u64,
        });
        let user_id = ds.login_user_id();
        Org {
            auth: Mutex::new(Auth {
                rng: StdRng::seed_from_u64(cfg.seed ^ 0x0A07_4000),
                codes: HashMap::new(),
                sessions: HashMap::new(),
                refresh: HashMap::new(),
                families: HashMap::new(),
                rotation: cfg.rotation,
                consent: Consent::Approve,
                session_lifetime_ms: cfg.session_lifetime_s as i64 * 1000,
                next_id: 1,
            }),
            daily_limit: AtomicU64::new(cfg.daily_api_limit),
            batch_size: AtomicU64::new(cfg.batch_size.clamp(1, 2000) as u64),
            child_batch_size: AtomicU64::new(cfg.child_batch_size.clamp(1, 2000) as u64),
            max_uri_bytes: AtomicU64::new(cfg.max_uri_bytes as u64),
            ds,
            ov: RwLock::new(Overlay::default()),
            cursors: Mutex::new(Cursors::default()),
            bulk: Mutex::new(crate::bulk::Jobs::new(cfg.bulk.clone())),
            counters: Mutex::new(Counters::default()),
            api_used: AtomicU64::new(0),
            faults: Mutex::new(Vec::new()),
            clock_offset_ms: AtomicI64::new(0),
            login_url,
            instance_urls,
            current_instance: AtomicU64::new(0),
            instance_override: RwLock::new(None),
            user_id,
            cfg,
        }
    }

    /// Emulator clock: wall clock plus the offset set by `advance_clock`.
    pub fn now_ms(&self) -> i64 {
        crate::time::now_ms() + self.clock_offset_ms.load(Ordering::Relaxed)
    }

    /// The `instance_url` advertised in token responses.
    pub fn advertised_instance_url(&self) -> String {
        if let Some(o) = self.instance_override.read().expect("lock").clone() {
            return o;
        }
        self.instance_urls[self.current_instance.load(Ordering::Relaxed) as usize].clone()
    }

    /// The identity URL of the emulated user.
    pub fn identity_url(&self) -> String {
        format!("{}/id/{}/{}", self.login_url, self.ds.org_id, self.user_id)
    }

    pub(crate) fn count(&self, f: impl FnOnce(&mut Counters)) {
        f(&mut self.counters.lock().expect("lock"));
    }

    /// Take the next pending fault for `ep`, if any.
    pub(crate) fn take_fault(&self, ep: Endpoint) -> Option<FaultKind> {
        let mut faults = self.faults.lock().expect("lock");
        let i = faults.iter().position(|f| f.endpoint == ep && f.count > 0)?;
        let kind = faults[i].kind.clone();
        faults[i].count -= 1;
        if faults[i].count == 0 {
            faults.remove(i);
        }
        Some(kind)
    }

    /// `Sforce-Limit-Info` value [salesforce-api.md §5].
    pub(crate) fn limit_info(&self) -> String {
        format!(
            "api-usage={}/{}",
            self.api_used.load(Ordering::Relaxed),
            self.daily_limit.load(Ordering::Relaxed)
        )
    }
}
