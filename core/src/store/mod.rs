//! The pluggable token store.
//!
//! A host keeps one [`ConnectionDocument`] per (account_id, owner): the seed's MongoDB document
//! (`account_id`, `owner`, `token{access_token, refresh_token, issued_at}`, `token_invalidated`)
//! plus `instance_url`, the identity URL `id`, `scope`, a monotonic `version` and a refresh lease.
//!
//! Writes are compare-and-swap on `version` ([`TokenStore::save`]), which is what lets several
//! processes share one store and still refresh a connection exactly once (seed defect D7): the
//! process that wins the swap that takes the lease refreshes; the others wait for its result.
//!
//! Shipped stores: [`MemoryStore`] (one process), [`FileStore`] (one JSON file per connection,
//! atomic replace, mode 0600, a lock file for the swap) and [`SealedStore`] which wraps any store
//! and encrypts the token fields (XChaCha20-Poly1305) before they reach it.
//!
//! ## Document schema (version 1), as JSON
//! ```json
//! {"schema":1,"account_id":"acc-1","owner":"user-1",
//!  "token":{"access_token":"00D…","refresh_token":"5Aep…","issued_at":"1704844800000"},
//!  "token_invalidated":false,"instance_url":"https://na1.salesforce.com",
//!  "id":"https://login.salesforce.com/id/00D…/005…","scope":"api id web refresh_token",
//!  "version":3,"refresh_lease":null,"updated_at_ms":1704844800123}
//! ```
//! `refresh_token` may be `null` (no refresh scope granted). `refresh_lease` is
//! `{"holder":"<random id>","expires_at_ms":<epoch ms>}` while a refresh is in flight.
//! Unknown fields are ignored on read, so hosts may add their own (e.g. MongoDB's `_id`).

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::secret::Secret;

mod file;
mod memory;
mod sealed;

pub use file::FileStore;
pub use memory::MemoryStore;
pub use sealed::{SEALED_PREFIX, SealedStore, SealingKey, SealingKeyring};

/// The schema version written in [`ConnectionDocument::schema`].
pub const DOCUMENT_SCHEMA: u32 = 1;

/// Identifies one connection: the seed's (`account_id`, `owner`) pair (owner = user id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ConnectionKey {
    /// The host platform's account id (the seed's `req.auth.account_id`).
    pub account_id: String,
    /// The host platform's user id (the seed's `req.auth.uid`, stored as `owner`).
    pub owner: String,
}

impl ConnectionKey {
    /// A key, unchecked (the client checks it with [`ConnectionKey::validate`] before any use).
    /// Use [`ConnectionKey::parse`] to check at construction.
    pub fn new(account_id: impl Into<String>, owner: impl Into<String>) -> Self {
        ConnectionKey { account_id: account_id.into(), owner: owner.into() }
    }

    /// A checked key: the one rule for connection keys, used by the client and every binding.
    /// Errors: `InvalidArgument` when `account_id` or `owner` is empty or only whitespace.
    /// The parts are kept as given (not trimmed): they name the stored document.
    pub fn parse(account_id: impl Into<String>, owner: impl Into<String>) -> Result<Self> {
        let key = ConnectionKey::new(account_id, owner);
        key.validate()?;
        Ok(key)
    }

    /// Checks the rule of [`ConnectionKey::parse`] on an existing key.
    pub fn validate(&self) -> Result<()> {
        if self.account_id.trim().is_empty() || self.owner.trim().is_empty() {
            return Err(Error::invalid_argument("account_id and owner must both be non-empty"));
        }
        Ok(())
    }

    /// `Store` error unless `doc` is this key's document: a store's `load()` that hands back
    /// another connection's document (a bug in a custom store) must never lend user A's tokens
    /// to user B. The client applies it to every load, whatever the store.
    pub fn check_owns(&self, doc: &ConnectionDocument) -> Result<()> {
        if doc.account_id != self.account_id || doc.owner != self.owner {
            return Err(Error::store(format!(
                "the token store's load for {self} returned the document of another connection ({}/{})",
                doc.account_id, doc.owner
            )));
        }
        Ok(())
    }
}

impl std::fmt::Display for ConnectionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.account_id, self.owner)
    }
}

/// The token part of a stored connection (the seed's `token` sub-document).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredToken {
    /// Bearer token for API calls against `instance_url`.
    pub access_token: Secret,
    /// Refresh token; `None` when the refresh scope was not granted. Rotated by Salesforce when the
    /// app has Refresh Token Rotation on; the newest one is the only valid one.
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// Milliseconds since the Unix epoch, as the string Salesforce sends (`"1704844800000"`).
    #[serde(default)]
    pub issued_at: String,
}

/// A refresh in flight: the process holding it is calling the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshLease {
    /// Random id of the holding client instance.
    pub holder: String,
    /// When the lease lapses (ms since epoch); after that another process may take it.
    pub expires_at_ms: u64,
}

/// One stored connection. See the module docs for the JSON schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionDocument {
    /// Schema version of this document ([`DOCUMENT_SCHEMA`]).
    #[serde(default = "default_schema")]
    pub schema: u32,
    /// The seed's `account_id`.
    pub account_id: String,
    /// The seed's `owner` (user id).
    pub owner: String,
    /// The seed's `token` sub-document.
    pub token: StoredToken,
    /// The seed's flag: true once the refresh token is known dead; the next `login` starts over.
    #[serde(default)]
    pub token_invalidated: bool,
    /// The org's API host from the token response (seed defect D4: never a hard-coded host).
    pub instance_url: String,
    /// Identity URL (`https://login.salesforce.com/id/<orgId>/<userId>`).
    #[serde(default)]
    pub id: Option<String>,
    /// Granted scopes, space-separated.
    #[serde(default)]
    pub scope: Option<String>,
    /// Monotonic version; every save writes `previous + 1` (first save: 1).
    pub version: u64,
    /// Set while a refresh is in flight (cross-process coordination).
    #[serde(default)]
    pub refresh_lease: Option<RefreshLease>,
    /// When this version was written (ms since epoch).
    #[serde(default)]
    pub updated_at_ms: u64,
}

fn default_schema() -> u32 {
    DOCUMENT_SCHEMA
}

impl ConnectionDocument {
    /// The key of this document.
    pub fn key(&self) -> ConnectionKey {
        ConnectionKey::new(self.account_id.clone(), self.owner.clone())
    }

    /// Serializes to the documented JSON schema (what crosses the C ABI and the bindings).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("ConnectionDocument serializes")
    }

    /// Parses the documented JSON schema; garbage is a typed [`crate::ErrorKind::Store`] error.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let doc: ConnectionDocument = serde_json::from_str(text).map_err(|e| {
            Error::store(format!("the token store returned a document that is not a valid connection document: {e}"))
        })?;
        if doc.schema > DOCUMENT_SCHEMA {
            return Err(Error::store(format!(
                "the stored connection document has schema {} but this SDK reads up to {DOCUMENT_SCHEMA}; upgrade the SDK",
                doc.schema
            )));
        }
        Ok(doc)
    }
}

/// Result of a compare-and-swap save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveOutcome {
    /// The document was written.
    Saved,
    /// The stored version was not the expected one (or a document existed when none was
    /// expected); nothing was written. The caller reloads and decides again.
    Conflict,
}

/// A store of [`ConnectionDocument`]s keyed by [`ConnectionKey`], with compare-and-swap writes.
///
/// Implementations must make `save` atomic with respect to other `save`/`delete` calls on the same
/// key, across every process sharing the store. Errors are [`crate::ErrorKind::Store`].
/// The SDK calls these from its runtime's worker threads.
///
/// After a token grant the SDK gives each try of its save (a load and a compare-and-swap)
/// `token_timeout` and then stops waiting (drops the futures); a save that still completes later is harmless (the version it expected is gone,
/// so the next compare-and-swap conflicts and the SDK reconciles). The save that follows a grant
/// is tried up to 4 times; if it keeps failing the client keeps the new tokens in memory and saves
/// them on its next call (ARCHITECTURE.md, refresh protocol step 7).
pub trait TokenStore: Send + Sync + 'static {
    /// The current document for `key`, or `None`.
    fn load<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<Option<ConnectionDocument>, Error>>;

    /// Writes `doc` (whose `version` is already `expected_version + 1`, or 1 for an insert) if the
    /// stored version equals `expected_version`; `expected_version: None` means "only if absent".
    fn save<'a>(
        &'a self,
        doc: &'a ConnectionDocument,
        expected_version: Option<u64>,
    ) -> BoxFuture<'a, Result<SaveOutcome, Error>>;

    /// Removes the document; `Ok(true)` if one existed.
    fn delete<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<bool, Error>>;
}

/// The version a save over `version` writes (`version + 1`). A stored version of `u64::MAX`
/// cannot be incremented: that is a typed [`crate::ErrorKind::Store`] error, never a wrap to 0
/// (which would defeat compare-and-swap) nor a panic.
pub(crate) fn next_version(version: u64) -> Result<u64, Error> {
    version.checked_add(1).ok_or_else(|| {
        Error::store(format!(
            "the stored connection document has version {version}, which cannot be incremented; delete the connection and connect again"
        ))
    })
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A plaintext document for unit tests of the stores.
#[cfg(test)]
pub(crate) fn test_doc(account: &str, owner: &str, version: u64) -> ConnectionDocument {
    ConnectionDocument {
        schema: DOCUMENT_SCHEMA,
        account_id: account.into(),
        owner: owner.into(),
        token: StoredToken {
            access_token: Secret::new("00DFAKE!TOKEN1"),
            refresh_token: Some(Secret::new("5AepFAKEREFRESH1")),
            issued_at: "1732950000000".into(),
        },
        token_invalidated: false,
        instance_url: "https://acme.my.salesforce.com".into(),
        id: None,
        scope: Some("api refresh_token".into()),
        version,
        refresh_lease: None,
        updated_at_ms: 0,
    }
}
