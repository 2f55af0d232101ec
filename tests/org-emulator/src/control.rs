//! Test controls: [`Control`] (Rust) and the same operations over HTTP under `/__emulator/` on the
//! login port (JSON in, JSON out; documented in README.md).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Response, StatusCode};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::data::SObject;
use crate::state::{Consent, Counters, Fault, Org};

/// What the org knows of one refresh token ([`Control::refresh_token_state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshTokenState {
    /// The current refresh token of a live family: a refresh grant with it succeeds.
    Live,
    /// Rotated out of a live family: presenting it revokes the whole family.
    RotatedOut,
    /// Its family is revoked (replay, revoke, or the control API).
    Revoked,
    /// Never issued by this org.
    Unknown,
}

/// A cloneable handle to steer a running emulator.
#[derive(Clone, Debug)]
pub struct Control {
    pub(crate) org: Arc<Org>,
}

/// Errors from control operations (bad input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlError(pub String);

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ControlError {}

impl Control {
    /// Invalidate every access token (sessions). API calls then get 401 INVALID_SESSION_ID; refresh
    /// tokens keep working. Returns how many sessions were live.
    pub fn expire_sessions(&self) -> usize {
        let mut a = self.org.auth.lock().expect("lock");
        let n = a.sessions.len();
        a.sessions.clear();
        for f in a.families.values_mut() {
            f.access_tokens.clear();
        }
        n
    }

    /// Revoke every refresh token (and, as a real revoke does, their access tokens). Refreshes then
    /// fail with `invalid_grant` / `expired access/refresh token`. Returns how many families died.
    pub fn revoke_refresh_tokens(&self) -> usize {
        let mut a = self.org.auth.lock().expect("lock");
        let live: Vec<u64> = a.families.iter().filter(|(_, f)| !f.revoked).map(|(k, _)| *k).collect();
        for f in &live {
            let tokens = {
                let fam = a.families.get_mut(f).expect("family");
                fam.revoked = true;
                std::mem::take(&mut fam.access_tokens)
            };
            for t in tokens {
                a.sessions.remove(&t);
            }
        }
        live.len()
    }

    /// What the org knows of `refresh_token` [salesforce-api.md §2 RTR]: the current token of a
    /// live family, one rotated out of a live family (presenting it would revoke the family), one
    /// whose family is revoked, or a token it never issued.
    pub fn refresh_token_state(&self, refresh_token: &str) -> RefreshTokenState {
        let a = self.org.auth.lock().expect("lock");
        match a.refresh.get(refresh_token) {
            None => RefreshTokenState::Unknown,
            Some((fam, _)) if a.families.get(fam).is_none_or(|f| f.revoked) => RefreshTokenState::Revoked,
            Some((_, true)) => RefreshTokenState::Live,
            Some((_, false)) => RefreshTokenState::RotatedOut,
        }
    }

    /// How many token families (one per authorization, carried on by refresh) are not revoked. A
    /// replayed rotated-out refresh token, a revoke, or [`Control::revoke_refresh_tokens`] lowers it.
    pub fn live_refresh_families(&self) -> usize {
        let a = self.org.auth.lock().expect("lock");
        a.families.values().filter(|f| !f.revoked && !f.current_refresh.is_empty()).count()
    }

    /// Refresh token rotation on/off [salesforce-api.md §2 RTR].
    pub fn set_rotation(&self, on: bool) {
        self.org.auth.lock().expect("lock").rotation = on;
    }

    /// What the authorize endpoint answers.
    pub fn set_consent(&self, c: Consent) {
        self.org.auth.lock().expect("lock").consent = c;
    }

    /// A snapshot of the request counters.
    pub fn counters(&self) -> Counters {
        self.org.counters.lock().expect("lock").clone()
    }

    /// Zero the request counters (API usage for `Sforce-Limit-Info` is separate: see
    /// [`Control::set_api_usage`]).
    pub fn reset_counters(&self) {
        *self.org.counters.lock().expect("lock") = Counters::default();
    }

    /// Queue a fault: the next `fault.count` calls to `fault.endpoint` fail with `fault.kind`.
    pub fn add_fault(&self, fault: Fault) {
        self.org.faults.lock().expect("lock").push(fault);
    }

    /// Drop all queued faults.
    pub fn clear_faults(&self) {
        self.org.faults.lock().expect("lock").clear();
    }

    /// Faults still queued.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.org.faults.lock().expect("lock").clone()
    }

    /// Largest page served from now on (1..=2000; values are clamped). Below 200 it also overrides
    /// `Sforce-Query-Options: batchSize` (an org serving short pages). Returns the value in effect.
    pub fn set_batch_size(&self, n: u64) -> u64 {
        let n = n.clamp(1, 2000);
        self.org.batch_size.store(n, Ordering::Relaxed);
        n
    }

    /// Child rows a parent carries inline per subquery from now on, and the page size of child
    /// cursors minted from now on (1..=2000; clamped). Returns the value in effect.
    pub fn set_child_batch_size(&self, n: u64) -> u64 {
        let n = n.clamp(1, 2000);
        self.org.child_batch_size.store(n, Ordering::Relaxed);
        n
    }

    /// Longest request URI (path plus query, bytes) served from now on; longer → 414, URI plus
    /// headers longer → 431.
    pub fn set_max_uri_bytes(&self, n: u64) {
        self.org.max_uri_bytes.store(n, Ordering::Relaxed);
    }

    /// Set the daily API request limit (the `LIMIT` of `api-usage=N/LIMIT`).
    pub fn set_daily_limit(&self, limit: u64) {
        self.org.daily_limit.store(limit, Ordering::Relaxed);
    }

    /// Set the API usage so far (the `N` of `api-usage=N/LIMIT`).
    pub fn set_api_usage(&self, used: u64) {
        self.org.api_used.store(used, Ordering::Relaxed);
    }

    /// Current `(used, limit)`.
    pub fn api_usage(&self) -> (u64, u64) {
        (self.org.api_used.load(Ordering::Relaxed), self.org.daily_limit.load(Ordering::Relaxed))
    }

    /// Bump `SystemModstamp`/`LastModifiedDate` of `n` live records to now (for incremental exports).
    /// Returns their Ids in ascending order.
    pub fn touch(&self, obj: SObject, n: u64) -> Vec<String> {
        let now = self.org.now_ms();
        self.org.ds.touch(&mut self.org.ov.write().expect("lock"), obj, n, now)
    }

    /// Touch the given records.
    pub fn touch_ids(&self, obj: SObject, ids: &[String]) -> Result<Vec<String>, ControlError> {
        let now = self.org.now_ms();
        self.org.ds.touch_ids(&mut self.org.ov.write().expect("lock"), obj, ids, now).map_err(ControlError)
    }

    /// Soft-delete `n` live records (`IsDeleted = true`, visible through `queryAll` only). Returns
    /// their Ids in ascending order.
    pub fn delete(&self, obj: SObject, n: u64) -> Vec<String> {
        let now = self.org.now_ms();
        self.org.ds.delete(&mut self.org.ov.write().expect("lock"), obj, n, now)
    }

    /// Soft-delete the given records.
    pub fn delete_ids(&self, obj: SObject, ids: &[String]) -> Result<Vec<String>, ControlError> {
        let now = self.org.now_ms();
        self.org.ds.delete_ids(&mut self.org.ov.write().expect("lock"), obj, ids, now).map_err(ControlError)
    }

    /// Advertise instance `index` (0 = the first instance port, 1 = the second) in later token
    /// responses. Sessions belong to the instance that was advertised when they were issued; calling
    /// another instance with them gives 401 INVALID_SESSION_ID [salesforce-api.md §1 "Hosts"].
    pub fn use_instance(&self, index: usize) -> Result<String, ControlError> {
        if index >= self.org.instance_urls.len() {
            return Err(ControlError(format!("instance index {index} out of range (0..{})", self.org.instance_urls.len())));
        }
        self.org.current_instance.store(index as u64, Ordering::Relaxed);
        Ok(self.org.instance_urls[index].clone())
    }

    /// Override the advertised `instance_url` text (e.g. an unreachable host); `None` restores it.
    pub fn set_instance_url_override(&self, url: Option<String>) {
        *self.org.instance_override.write().expect("lock") = url;
    }

    /// Lifetime of sessions issued from now on, in seconds.
    pub fn set_session_lifetime_s(&self, secs: u64) {
        self.org.auth.lock().expect("lock").session_lifetime_ms = secs as i64 * 1000;
    }

    /// Move the emulator clock forward by `ms` milliseconds (expires codes and sessions; touched
    /// records get later modstamps).
    pub fn advance_clock_ms(&self, ms: i64) {
        self.org.clock_offset_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// The login URL (`http://127.0.0.1:P1`).
    pub fn login_url(&self) -> &str {
        &self.org.login_url
    }

    /// The instance URLs (index 0 is the default `instance_url`).
    pub fn instance_urls(&self) -> &[String] {
        &self.org.instance_urls
    }

    /// The `instance_url` currently advertised.
    pub fn advertised_instance_url(&self) -> String {
        self.org.advertised_instance_url()
    }

    /// Organization Id.
    pub fn org_id(&self) -> &str {
        &self.org.ds.org_id
    }

    /// The authorizing user's Id.
    pub fn user_id(&self) -> &str {
        &self.org.user_id
    }

    /// Number of records of `obj` (including soft-deleted).
    pub fn record_count(&self, obj: SObject) -> u64 {
        self.org.ds.count(obj)
    }

    /// The Id of record `index` of `obj` (creation order).
    pub fn record_id(&self, obj: SObject, index: u64) -> String {
        self.org.ds.id(obj, index)
    }

    /// A JSON description of the emulator (URLs, ids, volumes, settings, the Bulk API 2.0 knobs).
    pub fn info(&self) -> Value {
        let a = self.org.auth.lock().expect("lock");
        json!({
            "login_url": self.org.login_url,
            "instance_urls": self.org.instance_urls,
            "advertised_instance_url": self.org.advertised_instance_url(),
            "org_id": self.org.ds.org_id,
            "user_id": self.org.user_id,
            "client_id": self.org.cfg.client_id,
            "rotation": a.rotation,
            "consent": a.consent,
            "session_lifetime_s": a.session_lifetime_ms / 1000,
            "counts": crate::data::ALL_SOBJECTS.iter().map(|o| (o.name().to_string(), json!(self.org.ds.count(*o)))).collect::<serde_json::Map<_, _>>(),
            "api_versions": [self.org.cfg.api_versions.start(), self.org.cfg.api_versions.end()],
            "batch_size": self.org.batch_size.load(Ordering::Relaxed),
            "child_batch_size": self.org.child_batch_size.load(Ordering::Relaxed),
            "max_uri_bytes": self.org.max_uri_bytes.load(Ordering::Relaxed),
            "api_usage": {"used": self.org.api_used.load(Ordering::Relaxed), "limit": self.org.daily_limit.load(Ordering::Relaxed)},
            "bulk": serde_json::to_value(self.org.bulk.lock().expect("lock").settings.clone()).expect("json"),
        })
    }
}

fn ok(v: Value) -> Response<Body> {
    crate::http::json(StatusCode::OK, v.to_string())
}

fn bad(msg: &str) -> Response<Body> {
    crate::http::json(StatusCode::BAD_REQUEST, json!({"error": msg}).to_string())
}

#[derive(Deserialize)]
struct Enabled {
    enabled: bool,
}
#[derive(Deserialize)]
struct ConsentBody {
    mode: Consent,
}
#[derive(Deserialize)]
struct Limits {
    daily_limit: Option<u64>,
    used: Option<u64>,
}
#[derive(Deserialize)]
struct Records {
    sobject: String,
    count: Option<u64>,
    ids: Option<Vec<String>>,
}
#[derive(Deserialize)]
struct InstanceBody {
    index: Option<usize>,
    url_override: Option<String>,
}
#[derive(Deserialize)]
struct RefreshTokenBody {
    refresh_token: String,
}
#[derive(Deserialize)]
struct Size {
    size: u64,
}
#[derive(Deserialize)]
struct Bytes {
    bytes: u64,
}
#[derive(Deserialize)]
struct Secs {
    seconds: u64,
}
#[derive(Deserialize)]
struct Ms {
    ms: i64,
}

fn parse<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, Response<Body>> {
    serde_json::from_str(if body.trim().is_empty() { "{}" } else { body }).map_err(|e| bad(&format!("bad JSON body: {e}")))
}

macro_rules! body_or_bad {
    ($t:ty, $b:expr) => {
        match parse::<$t>(&$b) {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

async fn records(c: Control, body: String, delete: bool) -> Response<Body> {
    let r = body_or_bad!(Records, body);
    let Some(obj) = SObject::from_name(&r.sobject) else { return bad(&format!("unknown sobject {}", r.sobject)) };
    let res = match (r.ids, r.count) {
        (Some(ids), _) => if delete { c.delete_ids(obj, &ids) } else { c.touch_ids(obj, &ids) },
        (None, Some(n)) => Ok(if delete { c.delete(obj, n) } else { c.touch(obj, n) }),
        (None, None) => return bad("give \"count\" or \"ids\""),
    };
    match res {
        Ok(ids) => ok(json!({"ids": ids})),
        Err(e) => bad(&e.0),
    }
}

/// The `/__emulator/…` routes.
pub fn router(c: Control) -> Router {
    Router::new()
        .route("/__emulator/info", get(|State(c): State<Control>| async move { ok(c.info()) }))
        .route("/__emulator/sessions/expire", post(|State(c): State<Control>| async move { ok(json!({"expired": c.expire_sessions()})) }))
        .route("/__emulator/refresh_tokens/revoke", post(|State(c): State<Control>| async move { ok(json!({"revoked": c.revoke_refresh_tokens()})) }))
        .route("/__emulator/refresh_tokens/state", post(|State(c): State<Control>, b: String| async move {
            let t = body_or_bad!(RefreshTokenBody, b);
            ok(json!({"state": c.refresh_token_state(&t.refresh_token), "live_families": c.live_refresh_families()}))
        }))
        .route("/__emulator/rotation", post(|State(c): State<Control>, b: String| async move {
            let e = body_or_bad!(Enabled, b);
            c.set_rotation(e.enabled);
            ok(json!({"rotation": e.enabled}))
        }))
        .route("/__emulator/consent", post(|State(c): State<Control>, b: String| async move {
            let m = body_or_bad!(ConsentBody, b);
            c.set_consent(m.mode);
            ok(json!({"mode": m.mode}))
        }))
        .route("/__emulator/counters", get(|State(c): State<Control>| async move { ok(serde_json::to_value(c.counters()).expect("json")) }))
        .route("/__emulator/counters/reset", post(|State(c): State<Control>| async move {
            c.reset_counters();
            ok(serde_json::to_value(c.counters()).expect("json"))
        }))
        .route("/__emulator/faults", get(|State(c): State<Control>| async move { ok(serde_json::to_value(c.pending_faults()).expect("json")) })
            .post(|State(c): State<Control>, b: String| async move {
                let f = body_or_bad!(Fault, b);
                c.add_fault(f);
                ok(serde_json::to_value(c.pending_faults()).expect("json"))
            })
            .delete(|State(c): State<Control>| async move {
                c.clear_faults();
                ok(json!([]))
            }))
        .route("/__emulator/limits", post(|State(c): State<Control>, b: String| async move {
            let l = body_or_bad!(Limits, b);
            if let Some(x) = l.daily_limit { c.set_daily_limit(x) }
            if let Some(x) = l.used { c.set_api_usage(x) }
            let (used, limit) = c.api_usage();
            ok(json!({"used": used, "limit": limit}))
        }))
        .route("/__emulator/records/touch", post(|State(c): State<Control>, b: String| records(c, b, false)))
        .route("/__emulator/records/delete", post(|State(c): State<Control>, b: String| records(c, b, true)))
        .route("/__emulator/instance", post(|State(c): State<Control>, b: String| async move {
            let i = body_or_bad!(InstanceBody, b);
            if let Some(ix) = i.index
                && let Err(e) = c.use_instance(ix) { return bad(&e.0) }
            c.set_instance_url_override(i.url_override);
            ok(json!({"instance_url": c.advertised_instance_url()}))
        }))
        .route("/__emulator/batch_size", post(|State(c): State<Control>, b: String| async move {
            let s = body_or_bad!(Size, b);
            ok(json!({"size": c.set_batch_size(s.size)}))
        }))
        .route("/__emulator/child_batch_size", post(|State(c): State<Control>, b: String| async move {
            let s = body_or_bad!(Size, b);
            ok(json!({"size": c.set_child_batch_size(s.size)}))
        }))
        .route("/__emulator/max_uri_bytes", post(|State(c): State<Control>, b: String| async move {
            let s = body_or_bad!(Bytes, b);
            c.set_max_uri_bytes(s.bytes);
            ok(json!({"bytes": s.bytes}))
        }))
        .route("/__emulator/session_lifetime", post(|State(c): State<Control>, b: String| async move {
            let s = body_or_bad!(Secs, b);
            c.set_session_lifetime_s(s.seconds);
            ok(json!({"seconds": s.seconds}))
        }))
        .route("/__emulator/clock/advance", post(|State(c): State<Control>, b: String| async move {
            let m = body_or_bad!(Ms, b);
            c.advance_clock_ms(m.ms);
            ok(json!({"advanced_ms": m.ms}))
        }))
        .with_state(c.clone())
        .merge(crate::bulk::control_routes(c))
}
