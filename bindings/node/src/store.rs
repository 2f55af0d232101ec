//! Token stores for the Node addon: the bridge to a JavaScript store object, and the native
//! handle (`NativeStore`) that wraps any store the core ships.
//!
//! ## The JavaScript store contract (what `lib/store.js` adapts a user's object to)
//! - `load(keyJson: string) => Promise<string | null>`: the document as JSON (core schema), or null.
//! - `save(docJson: string, expectedVersion: number | null) => Promise<"saved" | "conflict">`:
//!   compare-and-swap on `version` ([`TokenStore::save`]).
//! - `delete(keyJson: string) => Promise<boolean>`: whether a document existed.
//!
//! Each function is held as a `ThreadsafeFunction` with `Weak = true`, so the addon never keeps the
//! event loop alive on its own (toolchain-notes Gotcha 3), and `CalleeHandled = false`, so JS gets
//! plain arguments. Calls use `call_async_catch`: a synchronous throw, a non-Promise return value, a
//! rejected Promise, a result of the wrong type, a garbage document and a Promise that does not
//! settle within the configured timeout all become a typed `Store` error (never a crash, an
//! unhandled rejection or a hung process). A document of another key is refused by the client
//! (the core's `ConnectionKey::check_owns`, applied to every store's load).

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use napi::bindgen_prelude::{FnArgs, Promise};
use napi::{Env, Status};
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;
use sfcrm_core::store::{FileStore, MemoryStore, SealedStore, SealingKeyring};
use sfcrm_core::{ConnectionDocument, ConnectionKey, Error, SaveOutcome, TokenStore};

use crate::error::{IntoJs, Settled};
use crate::runtime::call_js;

/// `load(keyJson)`: resolves to the document JSON or null.
type LoadFn = ThreadsafeFunction<String, Promise<Option<String>>, String, Status, false, true>;
/// `save(docJson, expectedVersion)`: resolves to `"saved"` or `"conflict"`.
/// (`FnArgs` spreads the tuple into two JavaScript arguments.)
type SaveFn = ThreadsafeFunction<
    FnArgs<(String, Option<i64>)>,
    Promise<String>,
    FnArgs<(String, Option<i64>)>,
    Status,
    false,
    true,
>;
/// `delete(keyJson)`: resolves to whether a document existed.
type DeleteFn = ThreadsafeFunction<String, Promise<bool>, String, Status, false, true>;

/// Default bound on one JS store call (load/save/delete), in milliseconds.
pub const DEFAULT_STORE_TIMEOUT_MS: u32 = 30_000;

/// A [`TokenStore`] whose operations are JavaScript functions returning Promises.
struct JsStore {
    load: LoadFn,
    save: SaveFn,
    delete: DeleteFn,
    timeout: Duration,
}

fn key_json(key: &ConnectionKey) -> String {
    serde_json::json!({ "account_id": key.account_id, "owner": key.owner }).to_string()
}

impl TokenStore for JsStore {
    fn load<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<Option<ConnectionDocument>, Error>> {
        Box::pin(async move {
            let text = call_js("load", self.timeout, self.load.call_async_catch(key_json(key))).await?;
            let Some(text) = text else { return Ok(None) };
            // The client checks that the document is this key's (`ConnectionKey::check_owns`).
            let doc = ConnectionDocument::from_json(&text)?;
            Ok(Some(doc))
        })
    }

    fn save<'a>(
        &'a self,
        doc: &'a ConnectionDocument,
        expected_version: Option<u64>,
    ) -> BoxFuture<'a, Result<SaveOutcome, Error>> {
        Box::pin(async move {
            let expected = expected_version.map(|v| v as i64);
            let outcome = call_js("save", self.timeout, self.save.call_async_catch((doc.to_json(), expected).into())).await?;
            match outcome.as_str() {
                "saved" => Ok(SaveOutcome::Saved),
                "conflict" => Ok(SaveOutcome::Conflict),
                other => Err(Error::store(format!(
                    "the token store's save() resolved to {other:?}; expected \"saved\" or \"conflict\""
                ))),
            }
        })
    }

    fn delete<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move { call_js("delete", self.timeout, self.delete.call_async_catch(key_json(key))).await })
    }
}

/// A token store held natively: a core store ([`MemoryStore`], [`FileStore`]) or a JavaScript store
/// object bridged through Promises. Pass it to `NativeClient`; its methods expose the same
/// compare-and-swap contract to JavaScript (documents as JSON strings).
#[napi]
pub struct NativeStore {
    pub(crate) inner: Arc<dyn TokenStore>,
}

/// The connection key of (accountId, owner): the core's one rule ([`ConnectionKey::parse`]),
/// `InvalidArgument` when either part is empty or only whitespace.
pub(crate) fn key(account_id: String, owner: String) -> Result<ConnectionKey, Error> {
    ConnectionKey::parse(account_id, owner)
}

#[napi]
impl NativeStore {
    /// An in-process store (lost when the process exits).
    #[napi(factory)]
    pub fn memory() -> Self {
        NativeStore { inner: Arc::new(MemoryStore::new()) }
    }

    /// One JSON file per connection under `dir` (created if missing; files mode 0600).
    #[napi(factory)]
    pub fn file(env: Env, dir: String) -> napi::Result<Self> {
        Ok(NativeStore { inner: Arc::new(FileStore::new(dir).js(&env)?) })
    }

    /// A store whose operations are the given JavaScript functions (see the module docs for the
    /// contract). `timeoutMs` bounds each call (default 30000).
    #[napi(factory)]
    pub fn from_callbacks(
        #[napi(ts_arg_type = "(keyJson: string) => Promise<string | null>")] load: LoadFn,
        #[napi(ts_arg_type = "(docJson: string, expectedVersion: number | null) => Promise<string>")]
        save: SaveFn,
        #[napi(ts_arg_type = "(keyJson: string) => Promise<boolean>")] remove: DeleteFn,
        timeout_ms: Option<u32>,
    ) -> Self {
        let timeout = Duration::from_millis(u64::from(timeout_ms.unwrap_or(DEFAULT_STORE_TIMEOUT_MS).max(1)));
        NativeStore { inner: Arc::new(JsStore { load, save, delete: remove, timeout }) }
    }

    /// `inner`, with the token fields sealed (XChaCha20-Poly1305, seed defect D17) before they reach
    /// it. `keys` is `kid:base64key[,kid:base64key…]`: the first key seals, the others only open
    /// (rotation); each key is 32 bytes. A malformed value is a `ConfigError` without key material.
    #[napi(factory)]
    pub fn sealed(env: Env, inner: &NativeStore, keys: String) -> napi::Result<Self> {
        let keyring = SealingKeyring::from_env_value(&keys).js(&env)?;
        Ok(NativeStore { inner: Arc::new(SealedStore::new(inner.inner.clone(), keyring)) })
    }

    /// The stored document JSON for (accountId, owner), or null. A document of another key is a
    /// `StoreError` (the check every client load makes, [`ConnectionKey::check_owns`]).
    #[napi(ts_return_type = "Promise<string | null>")]
    pub async fn load(&self, account_id: String, owner: String) -> Settled<Option<String>> {
        let load = async {
            let key = key(account_id, owner)?;
            let doc = self.inner.load(&key).await?;
            if let Some(d) = &doc {
                key.check_owns(d)?;
            }
            Ok(doc.map(|d| d.to_json()))
        };
        Settled(load.await)
    }

    /// Compare-and-swap write of a document JSON: `"saved"` or `"conflict"`.
    #[napi(ts_return_type = "Promise<string>")]
    pub async fn save(&self, doc_json: String, expected_version: Option<i64>) -> Settled<String> {
        let save = async {
            let doc = ConnectionDocument::from_json(&doc_json)?;
            let expected = match expected_version {
                Some(v) if v < 0 => return Err(Error::invalid_argument("expectedVersion must be >= 0 or null")),
                Some(v) => Some(v as u64),
                None => None,
            };
            Ok(match self.inner.save(&doc, expected).await? {
                SaveOutcome::Saved => "saved".to_string(),
                SaveOutcome::Conflict => "conflict".to_string(),
            })
        };
        Settled(save.await)
    }

    /// Removes the document; whether one existed.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub async fn delete(&self, account_id: String, owner: String) -> Settled<bool> {
        let delete = async { self.inner.delete(&key(account_id, owner)?).await };
        Settled(delete.await)
    }
}
