//! [`Client`]: the seed's login / callback / disconnect, refresh coordination, and authenticated
//! calls against the stored `instance_url`.
//!
//! Files: this one (the client, its shared state, per-connection locks, the store load path),
//! `auth.rs` (login, callback, disconnect, connection_info and their result types), `refresh.rs`
//! (the refresh protocol, steps 1–6 of ARCHITECTURE.md, one section each), `api.rs` (URL
//! resolution and the authenticated GETs: any JSON resource, query, queryMore), `unsaved.rs`
//! (step 7: refreshed tokens the store could not save, kept and saved before anything else),
//! `describe.rs` (describeGlobal and sObject describe, cached per org and user).

mod api;
mod auth;
pub(crate) mod bulk;
mod describe;
mod refresh;
mod unsaved;

use std::collections::HashMap;
use std::sync::Arc;

use rand::RngCore;
use url::Url;

use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::http::Transport;
use crate::store::{ConnectionDocument, ConnectionKey, TokenStore};
use crate::usage::{ApiCallCounts, ApiUsage};

pub use auth::{CallbackOutcome, CallbackParams, CallbackRedirect, ConnectionInfo, Disconnected, LoginRedirect};

/// The seed's message when no connection is stored.
pub const ACCESS_TOKEN_NOT_FOUND: &str = "Access Token Not Found";
/// How many times a compare-and-swap is retried after conflicts before giving up.
const CAS_ATTEMPTS: usize = 16;

struct Inner {
    config: Config,
    store: Arc<dyn TokenStore>,
    transport: Transport,
    locks: std::sync::Mutex<HashMap<ConnectionKey, Arc<tokio::sync::Mutex<()>>>>,
    holder: String,
    /// Refreshed tokens the store could not save yet, by connection (see `unsaved.rs`).
    unsaved: unsaved::UnsavedTokens,
    /// COUNT results and keyset anchors of `export_page` (see export/page.rs).
    export_cache: crate::query::cache::QueryCache,
    /// sObject describes by (org scope, sObject) (see describe.rs).
    describe_cache: crate::describe::cache::TtlCache<crate::describe::SObjectDescribe>,
    /// describeGlobal by org scope.
    describe_global_cache: crate::describe::cache::TtlCache<crate::describe::DescribeGlobal>,
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
                unsaved: Default::default(),
                export_cache: Default::default(),
                describe_cache: Default::default(),
                describe_global_cache: Default::default(),
            }),
        })
    }

    /// The export page cache (COUNT and anchors), shared by this client's clones only.
    pub(crate) fn export_cache(&self) -> &crate::query::cache::QueryCache {
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

    /// This client's lock for one connection if nobody holds it now.
    fn try_lock_connection(&self, key: &ConnectionKey) -> Option<ConnectionLock<'_>> {
        let guard = self.key_lock(key).try_lock_owned().ok();
        // Built even when the lock is busy, so that Drop tidies the map entry.
        let lock = ConnectionLock { client: self, key: key.clone(), guard };
        lock.guard.is_some().then_some(lock)
    }

    /// Number of connections whose refreshed tokens this client keeps because the store could
    /// not save them (for tests and health checks; see the refresh protocol, step 7).
    #[doc(hidden)]
    pub fn connections_with_unsaved_tokens(&self) -> usize {
        self.inner.unsaved.len()
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
    /// Tokens this client keeps unsaved are saved first, or used while the store still fails.
    async fn load_usable(&self, key: &ConnectionKey) -> Result<ConnectionDocument> {
        check_key(key)?;
        let doc = match self.kept_for_call(key).await {
            Some(kept) => kept?,
            None => self.load(key).await?,
        };
        let doc = doc.ok_or_else(not_connected)?;
        if doc.token_invalidated {
            return Err(invalidated());
        }
        Ok(doc)
    }

    /// True when `instance_url` parses and is allowed by the configuration's instance hosts.
    fn instance_allowed(&self, instance_url: &str) -> bool {
        Url::parse(instance_url)
            .map(|u| self.inner.config.instance_url_allowed(&u))
            .unwrap_or(false)
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
