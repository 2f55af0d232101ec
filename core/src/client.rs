//! [`Client`]: the seed's login / callback / disconnect, refresh coordination, and authenticated
//! calls against the stored `instance_url`.
//!
//! ## Refresh protocol (ARCHITECTURE.md; seed defects D6–D9)
//! 1. A 401 on an API call → [`Client::refresh`]-like path with the access token that failed.
//! 2. In-process single flight: one async mutex per connection. Inside it the document is
//!    reloaded; if its access token differs from the failed one, someone already refreshed and
//!    that token is used (so a concurrent waiter never sends the same refresh token twice).
//! 3. Across processes: the document is CAS-saved with a `refresh_lease`; losers of the swap, or
//!    finders of a live foreign lease, poll the store (bounded by `refresh_wait`) until the token
//!    changes.
//! 4. The lease holder posts the refresh grant, keeps the old refresh token only when the response
//!    has none, and CAS-saves the new tokens and `instance_url` (clearing the lease) before anyone
//!    uses them.
//! 5. `invalid_grant`: reload; if the document changed meanwhile, use it; else mark it
//!    `token_invalidated` and return `ReconnectRequired` with the OAuth fields.
//! 6. The call is retried once with the new token; a second 401 is `SessionExpired`. A query
//!    locator (`nextRecordsUrl`) is never retried after a refresh: it belongs to the old session
//!    [salesforce-api.md §4 Cursors].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::RngCore;
use serde_json::Value;
use url::Url;

use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::query::{QueryOptions, QueryPage, decode_query_page};
use crate::http::{Decoded, Transport, decode_value, encode_query_value};
use crate::usage::{ApiCallCounts, ApiUsage, CallKind};
use crate::oauth;
use crate::secret::Secret;
use crate::store::{
    ConnectionDocument, ConnectionKey, DOCUMENT_SCHEMA, RefreshLease, SaveOutcome, StoredToken,
    TokenStore, now_ms,
};

/// The seed's message when no connection is stored.
pub const ACCESS_TOKEN_NOT_FOUND: &str = "Access Token Not Found";
/// How many times a compare-and-swap is retried after conflicts before giving up.
const CAS_ATTEMPTS: usize = 16;

/// Result of [`Client::login`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRedirect {
    /// Where to send the user's browser (302): the authorize URL, or the forward URL with
    /// `status=success&integration=salesforce` when already connected.
    pub url: String,
    /// True when a valid connection already existed (no OAuth flow started).
    pub already_connected: bool,
}

/// Query parameters of the OAuth callback, each URL-decoded exactly once by the host's router
/// [salesforce-api.md §1]. `Debug` hides `code` and `state`.
#[derive(Clone, Default)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<String>,
    /// The signed state returned by Salesforce.
    pub state: Option<String>,
    /// `error` (e.g. `access_denied`, or `access-denied` per Salesforce's help page).
    pub error: Option<String>,
    /// `error_description`.
    pub error_description: Option<String>,
}

impl std::fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackParams")
            .field("code", &self.code.as_ref().map(|_| "***"))
            .field("state", &self.state.as_ref().map(|_| "***"))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .finish()
    }
}

/// How a callback ended (both outcomes redirect to the forward URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// The connection is stored.
    Success,
    /// The user denied access, the code was missing, or the token endpoint refused; `reason` is in
    /// the redirect's `reason=` parameter.
    Error {
        /// Human reason (Salesforce's `error_description` when there is one).
        reason: String,
    },
}

/// Result of [`Client::callback`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackRedirect {
    /// Where to send the user's browser (302).
    pub url: String,
    /// The connection the state belonged to.
    pub key: Option<ConnectionKey>,
    /// Success or error (with its reason).
    pub outcome: CallbackOutcome,
}

/// Result of [`Client::disconnect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnected {
    /// True when Salesforce confirmed the revoke.
    pub revoked: bool,
    /// Why the revoke failed (the document is deleted anyway).
    pub revoke_error: Option<String>,
}

/// A stored connection without its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The seed's `account_id`.
    pub account_id: String,
    /// The seed's `owner`.
    pub owner: String,
    /// The org's API host.
    pub instance_url: String,
    /// When the access token was issued (ms since epoch, Salesforce's string).
    pub issued_at: String,
    /// Granted scopes.
    pub scope: Option<String>,
    /// Identity URL.
    pub id: Option<String>,
    /// Document version.
    pub version: u64,
    /// True once the refresh token is known dead.
    pub token_invalidated: bool,
    /// True when a refresh token is stored.
    pub has_refresh_token: bool,
}

impl From<&ConnectionDocument> for ConnectionInfo {
    fn from(d: &ConnectionDocument) -> Self {
        ConnectionInfo {
            account_id: d.account_id.clone(),
            owner: d.owner.clone(),
            instance_url: d.instance_url.clone(),
            issued_at: d.token.issued_at.clone(),
            scope: d.scope.clone(),
            id: d.id.clone(),
            version: d.version,
            token_invalidated: d.token_invalidated,
            has_refresh_token: d.token.refresh_token.is_some(),
        }
    }
}

struct Inner {
    config: Config,
    store: Arc<dyn TokenStore>,
    transport: Transport,
    locks: std::sync::Mutex<HashMap<ConnectionKey, Arc<tokio::sync::Mutex<()>>>>,
    holder: String,
    /// COUNT results and keyset anchors of `export_page` (see export/page.rs).
    export_cache: crate::export::ExportCache,
}

/// A held per-connection lock; see [`Client::lock_connection`].
struct ConnectionLock<'a> {
    client: &'a Client,
    key: ConnectionKey,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for ConnectionLock<'_> {
    fn drop(&mut self) {
        self.guard.take();
        let mut map = self.client.inner.locks.lock().unwrap_or_else(|p| p.into_inner());
        // Only the map's own reference left: nobody holds or waits on this lock.
        if map.get(&self.key).is_some_and(|l| Arc::strong_count(l) == 1) {
            map.remove(&self.key);
        }
    }
}

/// The SDK client. Cheap to clone (an `Arc`); `Send + Sync`; clones share the connection pool,
/// the refresh single-flight locks and the counters.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("login_url", &self.inner.config.login_url())
            .field("api_version", &self.inner.config.api_version())
            .field("calls", &self.api_calls())
            .finish_non_exhaustive()
    }
}

fn check_key(key: &ConnectionKey) -> Result<()> {
    key.validate()
}

fn not_connected() -> Error {
    Error::new(ErrorKind::NotConnected, ACCESS_TOKEN_NOT_FOUND)
}

fn invalidated() -> Error {
    Error::new(
        ErrorKind::ReconnectRequired,
        "The Salesforce connection was invalidated (its refresh token was revoked or expired); send the user through login again",
    )
}

fn no_refresh_token() -> Error {
    Error::new(
        ErrorKind::SessionExpired,
        "The Salesforce session expired and no refresh token was granted (add the refresh_token scope); send the user through login again",
    )
    .with_status(401)
    .with_error_code("INVALID_SESSION_ID")
}

impl Client {
    /// A client for `config` storing connections in `store`. Errors: `Internal` if the HTTP client
    /// cannot be built.
    pub fn new(config: Config, store: Arc<dyn TokenStore>) -> Result<Client> {
        let transport = Transport::new(&config)?;
        let mut holder = [0u8; 12];
        rand::rng().fill_bytes(&mut holder);
        let holder = holder.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                store,
                transport,
                locks: std::sync::Mutex::new(HashMap::new()),
                holder,
                export_cache: Default::default(),
            }),
        })
    }

    /// The export page cache (COUNT and anchors), shared by this client's clones only.
    pub(crate) fn export_cache(&self) -> &crate::export::ExportCache {
        &self.inner.export_cache
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The token store.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.inner.store
    }

    /// The last `Sforce-Limit-Info` seen on any response [salesforce-api.md §5].
    pub fn api_usage(&self) -> Option<ApiUsage> {
        self.inner.transport.last_usage()
    }

    /// Request counters since this client was created (shared by clones).
    pub fn api_calls(&self) -> ApiCallCounts {
        self.inner.transport.calls()
    }

    fn key_lock(&self, key: &ConnectionKey) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.inner.locks.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key.clone()).or_default().clone()
    }

    /// Takes this client's lock for one connection (refresh single flight, disconnect). The map
    /// entry is removed again when the last holder or waiter lets go, so a host serving many
    /// connections keeps one entry per connection in use, not per connection ever seen.
    async fn lock_connection(&self, key: &ConnectionKey) -> ConnectionLock<'_> {
        let guard = self.key_lock(key).lock_owned().await;
        ConnectionLock { client: self, key: key.clone(), guard: Some(guard) }
    }

    /// Number of per-connection locks currently kept (for tests).
    #[doc(hidden)]
    pub fn connection_locks_in_use(&self) -> usize {
        self.inner.locks.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Every load goes through here: a document of another key is a `Store` error, whatever the
    /// store (custom stores in every binding included).
    async fn load(&self, key: &ConnectionKey) -> Result<Option<ConnectionDocument>> {
        let doc = self.inner.store.load(key).await?;
        if let Some(d) = &doc {
            key.check_owns(d)?;
        }
        Ok(doc)
    }

    /// The stored document, ready for API calls (NotConnected / ReconnectRequired otherwise).
    async fn load_usable(&self, key: &ConnectionKey) -> Result<ConnectionDocument> {
        check_key(key)?;
        let doc = self.load(key).await?.ok_or_else(not_connected)?;
        if doc.token_invalidated {
            return Err(invalidated());
        }
        Ok(doc)
    }

    // ---- login / callback / disconnect ----------------------------------------------------------

    /// The seed's getLogin. Checks the forward URL (`MissingForwardUrl`, `ForwardUrlNotAllowed`);
    /// a valid stored connection redirects to `{forward_url}?status=success&integration=salesforce`;
    /// an invalidated one is deleted and a new flow starts; otherwise returns the authorize URL with
    /// a signed state and PKCE S256.
    pub async fn login(
        &self,
        key: &ConnectionKey,
        forward_url: Option<&str>,
    ) -> Result<LoginRedirect> {
        check_key(key)?;
        let config = &self.inner.config;
        let forward = oauth::check_forward_url(config, forward_url)?;
        if let Some(doc) = self.load(key).await? {
            if !doc.token_invalidated {
                return Ok(LoginRedirect {
                    url: oauth::success_redirect(&forward),
                    already_connected: true,
                });
            }
            self.inner.store.delete(key).await?;
        }
        let (state, claims) = oauth::sign_state(config, key, &forward)?;
        let verifier = oauth::pkce_verifier(config.state_secret(), &claims.nonce);
        let url = oauth::authorize_url(config, &state, &oauth::pkce_challenge(&verifier));
        tracing::debug!(target: "sfcrm::client", key = %key, "login: authorize URL built");
        Ok(LoginRedirect {
            url,
            already_connected: false,
        })
    }

    /// The seed's callback. The state is verified first (`Err(InvalidState)`, "Invalid State").
    /// Then: `error` (e.g. `access_denied` / `access-denied`) → error redirect with the reason
    /// (seed defect D12); no code → reason "Authentication not initiated"; token endpoint error →
    /// error redirect with its `error_description`; success → the connection is stored (version
    /// +1 through compare-and-swap) and the redirect says `status=success`.
    pub async fn callback(&self, params: &CallbackParams) -> Result<CallbackRedirect> {
        let config = &self.inner.config;
        let claims = oauth::verify_state(config, params.state.as_deref())?;
        let key = claims.key();
        let forward = oauth::check_forward_url(config, Some(&claims.forward_url))?;
        let error_out = |reason: String| CallbackRedirect {
            url: oauth::error_redirect(&forward, &reason),
            key: Some(key.clone()),
            outcome: CallbackOutcome::Error { reason },
        };
        let non_empty = |o: &Option<String>| {
            o.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        if let Some(err) = non_empty(&params.error) {
            let reason = non_empty(&params.error_description).unwrap_or(err);
            tracing::debug!(target: "sfcrm::client", key = %key, "callback: authorization refused");
            return Ok(error_out(reason));
        }
        let Some(code) = non_empty(&params.code) else {
            return Ok(error_out(oauth::AUTH_NOT_INITIATED.to_owned()));
        };
        let verifier = oauth::pkce_verifier(config.state_secret(), &claims.nonce);
        let tok = match oauth::exchange_code(&self.inner.transport, config, &code, &verifier).await
        {
            Ok(t) => t,
            Err(e) => {
                let reason = e
                    .oauth_error_description()
                    .or(e.oauth_error())
                    .map(str::to_owned)
                    .unwrap_or_else(|| e.message().to_owned());
                tracing::debug!(target: "sfcrm::client", key = %key, kind = %e.kind(), "callback: code exchange failed");
                return Ok(error_out(reason));
            }
        };
        if !self.instance_allowed(&tok.instance_url) {
            return Ok(error_out(format!(
                "Salesforce returned an instance_url ({}) outside the allowed instance hosts",
                host_of(&tok.instance_url)
            )));
        }
        let mut attempts = 0;
        loop {
            attempts += 1;
            let current = self.load(&key).await?;
            let expected = current.as_ref().map(|d| d.version);
            let doc = ConnectionDocument {
                schema: DOCUMENT_SCHEMA,
                account_id: key.account_id.clone(),
                owner: key.owner.clone(),
                token: StoredToken {
                    access_token: tok.access_token.clone(),
                    refresh_token: tok.refresh_token.clone(),
                    issued_at: tok.issued_at.clone(),
                },
                token_invalidated: false,
                instance_url: tok.instance_url.clone(),
                id: tok.id.clone(),
                scope: tok.scope.clone(),
                version: expected.unwrap_or(0) + 1,
                refresh_lease: None,
                updated_at_ms: now_ms(),
            };
            match self.inner.store.save(&doc, expected).await? {
                SaveOutcome::Saved => break,
                SaveOutcome::Conflict if attempts < CAS_ATTEMPTS => continue,
                SaveOutcome::Conflict => {
                    return Err(Error::new(
                        ErrorKind::StoreConflict,
                        "could not store the new connection: the document kept changing",
                    ));
                }
            }
        }
        tracing::debug!(target: "sfcrm::client", key = %key, "callback: connection stored");
        Ok(CallbackRedirect {
            url: oauth::success_redirect(&forward),
            key: Some(key),
            outcome: CallbackOutcome::Success,
        })
    }

    /// The seed's deleteAccessToken, plus the revoke the seed never did (defect D10): revokes the
    /// refresh token (or the access token when none) at `{login_url}/services/oauth2/revoke`, then
    /// deletes the document whatever the revoke said. `NotConnected` ("Access Token Not Found")
    /// when nothing is stored.
    pub async fn disconnect(&self, key: &ConnectionKey) -> Result<Disconnected> {
        check_key(key)?;
        let _lock = self.lock_connection(key).await;
        let doc = self.load(key).await?.ok_or_else(not_connected)?;
        let token = doc
            .token
            .refresh_token
            .clone()
            .unwrap_or_else(|| doc.token.access_token.clone());
        let (revoked, revoke_error) =
            match oauth::revoke(&self.inner.transport, &self.inner.config, &token).await {
                Ok(()) => (true, None),
                Err(e) => (false, Some(e.to_string())),
            };
        self.inner.store.delete(key).await?;
        Ok(Disconnected {
            revoked,
            revoke_error,
        })
    }

    /// Refreshes the access token now (same coordination as after a 401).
    pub async fn refresh(&self, key: &ConnectionKey) -> Result<ConnectionInfo> {
        let doc = self.load_usable(key).await?;
        let fresh = self.refresh_after_401(key, &doc.token.access_token).await?;
        Ok(ConnectionInfo::from(&fresh))
    }

    /// The stored connection without secrets, or `None`.
    pub async fn connection_info(&self, key: &ConnectionKey) -> Result<Option<ConnectionInfo>> {
        check_key(key)?;
        Ok(self.load(key).await?.as_ref().map(ConnectionInfo::from))
    }

    // ---- refresh coordination ------------------------------------------------------------------

    fn instance_allowed(&self, instance_url: &str) -> bool {
        Url::parse(instance_url)
            .map(|u| self.inner.config.instance_url_allowed(&u))
            .unwrap_or(false)
    }

    /// Steps 2–5 of the refresh protocol (module docs). Returns the document holding a token newer
    /// than `failed`.
    ///
    /// Runs on its own task: if the caller's future is dropped (a host timeout, a cancelled
    /// export) after the refresh grant was sent, the task still persists the new tokens (under
    /// rotation the old refresh token is already dead) and releases the per-connection lock.
    async fn refresh_after_401(
        &self,
        key: &ConnectionKey,
        failed: &Secret,
    ) -> Result<ConnectionDocument> {
        let this = self.clone();
        let key = key.clone();
        let failed = failed.clone();
        tokio::spawn(async move { this.refresh_coordinated(&key, &failed).await })
            .await
            .map_err(|e| Error::internal(format!("the refresh task failed: {e}")))?
    }

    async fn refresh_coordinated(
        &self,
        key: &ConnectionKey,
        failed: &Secret,
    ) -> Result<ConnectionDocument> {
        let _lock = self.lock_connection(key).await;
        let config = &self.inner.config;
        let deadline = Instant::now() + config.refresh_wait();
        let mut poll = Duration::from_millis(20);
        loop {
            let doc = self.load(key).await?.ok_or_else(not_connected)?;
            if doc.token_invalidated {
                return Err(invalidated());
            }
            if doc.token.access_token != *failed {
                tracing::debug!(target: "sfcrm::client", key = %key, "refresh: already refreshed by another caller");
                return Ok(doc);
            }
            let Some(refresh_token) = doc.token.refresh_token.clone() else {
                return Err(no_refresh_token());
            };
            let now = now_ms();
            let foreign_lease = doc
                .refresh_lease
                .as_ref()
                .is_some_and(|l| l.holder != self.inner.holder && l.expires_at_ms > now);
            if foreign_lease {
                if Instant::now() >= deadline {
                    return Err(Error::new(
                        ErrorKind::StoreConflict,
                        "another process is refreshing this Salesforce connection and did not finish within refresh_wait",
                    ));
                }
                tokio::time::sleep(poll).await;
                poll = (poll * 2).min(Duration::from_millis(250));
                continue;
            }
            let mut leased = doc.clone();
            leased.refresh_lease = Some(RefreshLease {
                holder: self.inner.holder.clone(),
                expires_at_ms: now + config.refresh_lease_ttl().as_millis() as u64,
            });
            leased.version = doc.version + 1;
            leased.updated_at_ms = now;
            match self.inner.store.save(&leased, Some(doc.version)).await? {
                SaveOutcome::Saved => {
                    return self.refresh_with_lease(key, leased, refresh_token).await;
                }
                SaveOutcome::Conflict => {
                    if Instant::now() >= deadline {
                        return Err(Error::new(
                            ErrorKind::StoreConflict,
                            "the stored Salesforce connection kept changing while taking the refresh lease",
                        ));
                    }
                    // Another writer won the swap: back off briefly (jittered) before reloading.
                    let jitter = rand::random_range(1..=10u64);
                    tokio::time::sleep(Duration::from_millis(jitter)).await;
                    continue;
                }
            }
        }
    }

    async fn refresh_with_lease(
        &self,
        key: &ConnectionKey,
        leased: ConnectionDocument,
        refresh_token: Secret,
    ) -> Result<ConnectionDocument> {
        let config = &self.inner.config;
        tracing::debug!(target: "sfcrm::client", key = %key, "refresh: sending refresh grant");
        // The lease was written just now with `refresh_lease_ttl`; keep a second of margin for
        // clock reads and the save that follows.
        let lease_end = Instant::now() + config.refresh_lease_ttl().saturating_sub(Duration::from_secs(1));
        match oauth::refresh_grant_until(&self.inner.transport, config, &refresh_token, Some(lease_end)).await {
            Ok(tok) => {
                let allowed = self.instance_allowed(&tok.instance_url);
                let mut new = leased.clone();
                new.token.access_token = tok.access_token;
                if let Some(r) = tok.refresh_token {
                    // Refresh token rotation: the old one is dead now; persist the new one first.
                    new.token.refresh_token = Some(r);
                }
                new.token.issued_at = tok.issued_at;
                if allowed {
                    new.instance_url = tok.instance_url.clone();
                }
                if tok.id.is_some() {
                    new.id = tok.id;
                }
                if tok.scope.is_some() {
                    new.scope = tok.scope;
                }
                new.refresh_lease = None;
                let saved = self.save_refreshed(key, new, leased.version).await?;
                if !allowed {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!(
                            "Salesforce returned an instance_url ({}) outside the allowed instance hosts (SFCRM_INSTANCE_HOSTS); no token was sent there",
                            host_of(&tok.instance_url)
                        ),
                    ));
                }
                Ok(saved)
            }
            Err(e) if e.oauth_error() == Some("invalid_grant") => {
                // Another process may have rotated the token meanwhile (e.g. after our lease lapsed).
                for _ in 0..CAS_ATTEMPTS {
                    let cur = self.load(key).await?.ok_or_else(not_connected)?;
                    let changed = cur.token.access_token != leased.token.access_token
                        || cur.token.refresh_token.as_ref() != Some(&refresh_token);
                    if changed && !cur.token_invalidated {
                        self.release_lease(key).await;
                        return self.load(key).await?.ok_or_else(not_connected);
                    }
                    let mut inv = cur.clone();
                    inv.token_invalidated = true;
                    inv.refresh_lease = None;
                    inv.version = cur.version + 1;
                    inv.updated_at_ms = now_ms();
                    if self.inner.store.save(&inv, Some(cur.version)).await? == SaveOutcome::Saved {
                        break;
                    }
                }
                let desc = e
                    .oauth_error_description()
                    .unwrap_or("invalid_grant")
                    .to_owned();
                Err(e.with_kind(ErrorKind::ReconnectRequired).with_message(format!(
                    "Salesforce refused the refresh token ({desc}); send the user through login again"
                )))
            }
            Err(e) => {
                self.release_lease(key).await;
                Err(e)
            }
        }
    }

    /// CAS-saves refreshed tokens; on a conflict, re-applies them to the newest document (they are
    /// the newest tokens that exist: losing a rotated refresh token would lock the user out).
    async fn save_refreshed(
        &self,
        key: &ConnectionKey,
        mut doc: ConnectionDocument,
        mut expected: u64,
    ) -> Result<ConnectionDocument> {
        for _ in 0..CAS_ATTEMPTS {
            doc.version = expected + 1;
            doc.updated_at_ms = now_ms();
            match self.inner.store.save(&doc, Some(expected)).await? {
                SaveOutcome::Saved => return Ok(doc),
                SaveOutcome::Conflict => {
                    let Some(cur) = self.load(key).await? else {
                        return Err(not_connected().with_message(
                            "the connection was removed while it was being refreshed",
                        ));
                    };
                    let mut merged = cur.clone();
                    merged.token = doc.token.clone();
                    merged.instance_url = doc.instance_url.clone();
                    merged.id = doc.id.clone();
                    merged.scope = doc.scope.clone();
                    merged.refresh_lease = None;
                    merged.token_invalidated = false;
                    expected = cur.version;
                    doc = merged;
                }
            }
        }
        Err(Error::new(
            ErrorKind::StoreConflict,
            "could not save the refreshed token: the document kept changing",
        ))
    }

    /// Clears our lease (best effort; a failure only delays other processes until it lapses).
    async fn release_lease(&self, key: &ConnectionKey) {
        for _ in 0..4 {
            let Ok(Some(cur)) = self.load(key).await else {
                return;
            };
            if cur
                .refresh_lease
                .as_ref()
                .is_none_or(|l| l.holder != self.inner.holder)
            {
                return;
            }
            let mut d = cur.clone();
            d.refresh_lease = None;
            d.version = cur.version + 1;
            d.updated_at_ms = now_ms();
            match self.inner.store.save(&d, Some(cur.version)).await {
                Ok(SaveOutcome::Conflict) => continue,
                _ => return,
            }
        }
    }

    // ---- authenticated calls -------------------------------------------------------------------

    /// Resolves a path (relative to `instance_url`) or an absolute URL, and refuses hosts outside
    /// the instance allow-list before any token is sent.
    fn resolve(&self, doc: &ConnectionDocument, path_or_url: &str) -> Result<String> {
        let target = path_or_url.trim();
        if target.is_empty() {
            return Err(Error::invalid_argument("the API path is empty"));
        }
        if !self.instance_allowed(&doc.instance_url) {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "the stored instance_url ({}) is outside the allowed instance hosts (SFCRM_INSTANCE_HOSTS); no token was sent",
                    host_of(&doc.instance_url)
                ),
            ));
        }
        let lower = target.to_ascii_lowercase();
        if lower.starts_with("https://") || lower.starts_with("http://") {
            if !self.instance_allowed(target) {
                return Err(Error::invalid_argument(format!(
                    "{} is outside the allowed instance hosts; no token was sent",
                    host_of(target)
                )));
            }
            return Ok(target.to_owned());
        }
        if target.starts_with("//") || target.contains('\\') {
            return Err(Error::invalid_argument(
                "the API path must be a path such as /services/data/v48.0/…",
            ));
        }
        let base = doc.instance_url.trim_end_matches('/');
        if target.starts_with('/') {
            Ok(format!("{base}{target}"))
        } else {
            Ok(format!("{base}/{target}"))
        }
    }

    /// Authenticated GET with exactly one refresh and one retry on a 401 (never for a locator).
    async fn authed_get<T>(
        &self,
        key: &ConnectionKey,
        target: &str,
        headers: &[(&str, String)],
        kind: CallKind,
        decode: fn(u16, String) -> Decoded<T>,
    ) -> Result<T> {
        let doc = self.load_usable(key).await?;
        let url = self.resolve(&doc, target)?;
        let transport = &self.inner.transport;
        match transport
            .get_decoded(&url, &doc.token.access_token, headers, kind, decode)
            .await
        {
            Err(e) if e.kind() == ErrorKind::SessionExpired => {
                tracing::debug!(target: "sfcrm::client", key = %key, "401 from the instance: refreshing");
            }
            other => return other,
        }
        let fresh = self.refresh_after_401(key, &doc.token.access_token).await?;
        if kind == CallKind::QueryMore {
            return Err(Error::new(
                ErrorKind::SessionExpired,
                "The session expired during a query and was refreshed, but a query locator belongs to the old session; restart the query from the last checkpoint",
            )
            .with_status(401)
            .with_error_code("INVALID_SESSION_ID"));
        }
        let url = self.resolve(&fresh, target)?;
        transport.get_decoded(&url, &fresh.token.access_token, headers, kind, decode).await.map_err(|e| {
            if e.kind() == ErrorKind::SessionExpired {
                e.with_message("Salesforce refused the freshly refreshed access token too (no further retry)")
            } else {
                e
            }
        })
    }

    fn query_headers(&self, opts: &QueryOptions) -> Result<Vec<(&'static str, String)>> {
        let batch = opts.batch_size.or(self.inner.config.batch_size());
        match batch {
            None => Ok(Vec::new()),
            Some(b) if (200..=2000).contains(&b) => {
                Ok(vec![("Sforce-Query-Options", format!("batchSize={b}"))])
            }
            Some(b) => Err(Error::invalid_argument(format!(
                "batch_size {b} is outside 200..=2000"
            ))),
        }
    }

    /// Authenticated GET of any JSON resource: `path_or_url` is relative to the stored
    /// `instance_url` (e.g. `/services/data/v48.0/sobjects`) or an absolute URL on an allowed
    /// instance host. An empty 2xx body (204) is `Value::Null`. One refresh + one retry on 401.
    pub async fn api_get_json(&self, key: &ConnectionKey, path_or_url: &str) -> Result<Value> {
        self.authed_get(key, path_or_url, &[], CallKind::OtherApi, decode_value)
            .await
    }

    /// `GET /services/data/{version}/query?q=…` (or `queryAll` with `include_deleted`), the SOQL
    /// percent-encoded (`+` → `%2B`, space → `%20`; field case BR-12). One refresh + one retry on 401.
    pub async fn query_page(
        &self,
        key: &ConnectionKey,
        soql: &str,
        opts: &QueryOptions,
    ) -> Result<QueryPage> {
        if soql.trim().is_empty() {
            return Err(Error::invalid_argument("the SOQL query is empty"));
        }
        let headers = self.query_headers(opts)?;
        let resource = if opts.include_deleted {
            "queryAll"
        } else {
            "query"
        };
        let path = format!(
            "{}/{resource}?q={}",
            self.inner.config.data_path(),
            encode_query_value(soql)
        );
        self.authed_get(key, &path, &headers, CallKind::Query, decode_query_page)
            .await
    }

    /// `GET nextRecordsUrl` as-is (relative to `instance_url`, no version rewrite). On a 401 the
    /// session is refreshed but the locator is NOT retried (it belongs to the old session
    /// [salesforce-api.md §4 Cursors]): the result is `SessionExpired` with errorCode
    /// `INVALID_SESSION_ID`, and the caller restarts the query from its checkpoint.
    pub async fn query_more(
        &self,
        key: &ConnectionKey,
        next_records_url: &str,
        opts: &QueryOptions,
    ) -> Result<QueryPage> {
        let headers = self.query_headers(opts)?;
        self.authed_get(key, next_records_url, &headers, CallKind::QueryMore, decode_query_page)
            .await
    }
}

fn host_of(url: &str) -> String {
    Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "an unparsable URL".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_send_sync_clone() {
        fn assert<T: Send + Sync + Clone + 'static>() {}
        assert::<Client>();
    }
}
