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
//! settle within the configured timeout all become a typed [`ErrorKind::Store`] error (never a
//! crash, an unhandled rejection or a hung process).

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use napi::Status;
use napi::bindgen_prelude::{FnArgs, FromNapiValue, Promise};
use napi::threadsafe_function::ThreadsafeFunction;
use napi_derive::napi;
use sfcrm_core::store::{FileStore, MemoryStore, SealedStore, SealingKeyring};
use sfcrm_core::{ConnectionDocument, ConnectionKey, Error, ErrorKind, SaveOutcome, TokenStore};

use crate::error::{IntoNapi, invalid_argument, store_error_from_js, to_napi};

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

impl JsStore {
    async fn settle<T, F>(&self, operation: &'static str, fut: F) -> Result<T, Error>
    where
        F: std::future::Future<Output = napi::Result<Promise<T>>>,
        T: FromNapiValue + Send + 'static,
    {
        let run = async {
            let promise = fut.await.map_err(|e| store_error_from_js(operation, e))?;
            promise.await.map_err(|e| store_error_from_js(operation, e))
        };
        match tokio::time::timeout(self.timeout, run).await {
            Ok(r) => r,
            Err(_) => Err(Error::new(
                ErrorKind::Store,
                format!(
                    "the token store's {operation}() did not settle within {} ms",
                    self.timeout.as_millis()
                ),
            )),
        }
    }
}

fn key_json(key: &ConnectionKey) -> String {
    serde_json::json!({ "account_id": key.account_id, "owner": key.owner }).to_string()
}

impl TokenStore for JsStore {
    fn load<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<Option<ConnectionDocument>, Error>> {
        Box::pin(async move {
            let text = self.settle("load", self.load.call_async_catch(key_json(key))).await?;
            let Some(text) = text else { return Ok(None) };
            let doc = ConnectionDocument::from_json(&text)?;
            if doc.account_id != key.account_id || doc.owner != key.owner {
                return Err(Error::store(format!(
                    "the token store's load() for {key} returned the document of {}",
                    doc.key()
                )));
            }
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
            let outcome = self.settle("save", self.save.call_async_catch((doc.to_json(), expected).into())).await?;
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
        Box::pin(async move { self.settle("delete", self.delete.call_async_catch(key_json(key))).await })
    }
}

/// A token store held natively: a core store ([`MemoryStore`], [`FileStore`]) or a JavaScript store
/// object bridged through Promises. Pass it to `NativeClient`; its methods expose the same
/// compare-and-swap contract to JavaScript (documents as JSON strings).
#[napi]
pub struct NativeStore {
    pub(crate) inner: Arc<dyn TokenStore>,
}

/// Parses `{"account_id": "...", "owner": "..."}`.
pub(crate) fn parse_key(account_id: String, owner: String) -> napi::Result<ConnectionKey> {
    if account_id.is_empty() || owner.is_empty() {
        return Err(invalid_argument("a connection key needs a non-empty account_id and owner"));
    }
    Ok(ConnectionKey::new(account_id, owner))
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
    pub fn file(dir: String) -> napi::Result<Self> {
        Ok(NativeStore { inner: Arc::new(FileStore::new(dir).napi()?) })
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
    pub fn sealed(inner: &NativeStore, keys: String) -> napi::Result<Self> {
        let keyring = SealingKeyring::from_env_value(&keys).napi()?;
        Ok(NativeStore { inner: Arc::new(SealedStore::new(inner.inner.clone(), keyring)) })
    }

    /// The stored document JSON for (accountId, owner), or null.
    #[napi]
    pub async fn load(&self, account_id: String, owner: String) -> napi::Result<Option<String>> {
        let key = parse_key(account_id, owner)?;
        Ok(self.inner.load(&key).await.napi()?.map(|d| d.to_json()))
    }

    /// Compare-and-swap write of a document JSON: `"saved"` or `"conflict"`.
    #[napi]
    pub async fn save(&self, doc_json: String, expected_version: Option<i64>) -> napi::Result<String> {
        let doc = ConnectionDocument::from_json(&doc_json).map_err(to_napi)?;
        let expected = match expected_version {
            Some(v) if v < 0 => return Err(invalid_argument("expectedVersion must be >= 0 or null")),
            Some(v) => Some(v as u64),
            None => None,
        };
        Ok(match self.inner.save(&doc, expected).await.napi()? {
            SaveOutcome::Saved => "saved".into(),
            SaveOutcome::Conflict => "conflict".into(),
        })
    }

    /// Removes the document; whether one existed.
    #[napi]
    pub async fn delete(&self, account_id: String, owner: String) -> napi::Result<bool> {
        let key = parse_key(account_id, owner)?;
        self.inner.delete(&key).await.napi()
    }
}
