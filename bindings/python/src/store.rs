//! Token stores: the bridge that lets any Python object be the core's [`TokenStore`], and the
//! built-in `MemoryStore` / `FileStore` classes.
//!
//! ## The Python store protocol (`sfcrm.TokenStore` in `sfcrm/store.py` documents it too)
//! - `load(account_id: str, owner: str) -> dict | str | None`: the stored connection document
//!   (the JSON schema of `sfcrm_core::store`, as a dict or as JSON text), or None.
//! - `save(document: dict, expected_version: int | None) -> bool`: compare-and-swap. Write
//!   `document` only if the stored version equals `expected_version` (`None`: only if absent), and
//!   return True; return False (a conflict) otherwise. The strings `"saved"` / `"conflict"` are
//!   accepted too.
//! - `delete(account_id: str, owner: str) -> bool`: True if a document existed.
//!
//! Calls arrive on tokio's blocking pool (`spawn_blocking`), never on a runtime worker, with the GIL
//! taken only for the duration of the call (`runtime::call_python`). A method that raises becomes a
//! `StoreError` whose `__cause__` is the original exception (see `error.rs`). A `load` that returns
//! another connection's document is refused by the client, as for every store (the core's
//! `ConnectionKey::check_owns`).

use std::sync::Arc;

use futures_util::future::BoxFuture;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use sfcrm_core::{ConnectionDocument, ConnectionKey, Error, SaveOutcome, TokenStore};

use crate::error::PyCallbackError;
use crate::rawjson;
use crate::runtime::call_python;

/// A Python object implementing the store protocol, seen by the core as a [`TokenStore`].
pub struct PyStore {
    obj: Arc<Py<PyAny>>,
}

impl PyStore {
    /// Wraps `obj` after checking it has callable `load`, `save` and `delete`.
    pub fn new(obj: &Bound<'_, PyAny>) -> PyResult<Self> {
        for name in ["load", "save", "delete"] {
            let ok = obj.getattr(name).map(|m| m.is_callable()).unwrap_or(false);
            if !ok {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "store must have callable load(account_id, owner), save(document, expected_version) \
                     and delete(account_id, owner); {} has no callable `{name}`",
                    obj.get_type().qualname().map(|q| q.to_string()).unwrap_or_default()
                )));
            }
        }
        Ok(PyStore { obj: Arc::new(obj.clone().unbind()) })
    }
}

fn raised(py: Python<'_>, method: &str, e: PyErr) -> Error {
    let shown = PyCallbackError::new(py, e);
    Error::store(format!("the Python token store's `{method}` raised {shown}")).with_source(shown)
}

fn parse_loaded(method: &str, v: &Bound<'_, PyAny>) -> Result<Option<ConnectionDocument>, Error> {
    if v.is_none() {
        return Ok(None);
    }
    let text = if let Ok(s) = v.cast::<PyString>() {
        s.to_string()
    } else if v.is_instance_of::<PyDict>() || v.hasattr("keys").unwrap_or(false) {
        rawjson::dumps(v).map_err(|e| raised(v.py(), method, e))?
    } else {
        return Err(Error::store(format!(
            "the Python token store's `{method}` returned {}; expected a dict, a JSON string or None",
            v.get_type().qualname().map(|q| q.to_string()).unwrap_or_default()
        )));
    };
    ConnectionDocument::from_json(&text).map(Some)
}

impl TokenStore for PyStore {
    fn load<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<Option<ConnectionDocument>, Error>> {
        let obj = self.obj.clone();
        let key = key.clone();
        Box::pin(call_python(move |py| {
            let v = obj
                .bind(py)
                .call_method1("load", (key.account_id.as_str(), key.owner.as_str()))
                .map_err(|e| raised(py, "load", e))?;
            parse_loaded("load", &v)
        }))
    }

    fn save<'a>(
        &'a self,
        doc: &'a ConnectionDocument,
        expected_version: Option<u64>,
    ) -> BoxFuture<'a, Result<SaveOutcome, Error>> {
        let obj = self.obj.clone();
        let text = doc.to_json();
        Box::pin(call_python(move |py| {
            let dict = rawjson::loads(py, &text, false).map_err(|e| raised(py, "save", e))?;
            let r = obj
                .bind(py)
                .call_method1("save", (dict, expected_version))
                .map_err(|e| raised(py, "save", e))?;
            if let Ok(b) = r.extract::<bool>() {
                return Ok(if b { SaveOutcome::Saved } else { SaveOutcome::Conflict });
            }
            match r.extract::<String>().as_deref() {
                Ok("saved") => Ok(SaveOutcome::Saved),
                Ok("conflict") => Ok(SaveOutcome::Conflict),
                _ => Err(Error::store(format!(
                    "the Python token store's `save` returned {}; expected True (saved) or False (conflict)",
                    r.repr().map(|s| s.to_string()).unwrap_or_default()
                ))),
            }
        }))
    }

    fn delete<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<bool, Error>> {
        let obj = self.obj.clone();
        let key = key.clone();
        Box::pin(call_python(move |py| {
            let r = obj
                .bind(py)
                .call_method1("delete", (key.account_id.as_str(), key.owner.as_str()))
                .map_err(|e| raised(py, "delete", e))?;
            if r.is_none() {
                return Ok(false);
            }
            r.extract::<bool>().map_err(|_| {
                Error::store("the Python token store's `delete` must return a bool (True if a document existed)")
            })
        }))
    }
}

/// Turns the `store=` argument into the core store: a built-in store is used directly (no GIL on
/// the hot path); any other object must follow the Python store protocol.
pub fn from_py(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Arc<dyn TokenStore>> {
    let Some(obj) = obj else {
        return Ok(Arc::new(sfcrm_core::store::MemoryStore::new()));
    };
    if let Ok(s) = obj.cast::<MemoryStore>() {
        return Ok(s.get().inner.clone());
    }
    if let Ok(s) = obj.cast::<FileStore>() {
        return Ok(s.get().inner.clone());
    }
    Ok(Arc::new(PyStore::new(obj)?))
}

/// The connection key of (account_id, owner): the core's one rule ([`ConnectionKey::parse`]),
/// `InvalidArgumentError` when either part is empty or only whitespace (kept as given).
pub(crate) fn key(account_id: &str, owner: &str) -> PyResult<ConnectionKey> {
    ConnectionKey::parse(account_id, owner).map_err(crate::error::to_py)
}

/// The Python-facing `load`/`save`/`delete` of a built-in store (same protocol as a Python store).
macro_rules! native_store_methods {
    ($ty:ident, { $($extra:tt)* }) => {
        #[pymethods]
        impl $ty {
            $($extra)*

            /// The stored connection document for the key, as a dict, or None. A document of
            /// another key is a `StoreError` (the check every client load makes).
            fn load<'py>(&self, py: Python<'py>, account_id: &str, owner: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
                let k = key(account_id, owner)?;
                let store = self.inner.clone();
                let doc = crate::runtime::wait(py, async move {
                    let doc = store.load(&k).await?;
                    if let Some(d) = &doc {
                        k.check_owns(d)?;
                    }
                    Ok::<_, Error>(doc)
                })?
                .map_err(crate::error::to_py)?;
                doc.map(|d| rawjson::loads(py, &d.to_json(), false)).transpose()
            }

            /// Compare-and-swap write: True when written, False when the stored version is not
            /// `expected_version` (None: only if absent).
            #[pyo3(signature = (document, expected_version))]
            fn save(&self, py: Python<'_>, document: &Bound<'_, PyAny>, expected_version: Option<u64>) -> PyResult<bool> {
                let text = if let Ok(s) = document.cast::<PyString>() { s.to_string() } else { rawjson::dumps(document)? };
                let doc = ConnectionDocument::from_json(&text).map_err(crate::error::to_py)?;
                let store = self.inner.clone();
                let out = crate::runtime::wait(py, async move {
                    store.save(&doc, expected_version).await
                })?
                .map_err(crate::error::to_py)?;
                Ok(out == SaveOutcome::Saved)
            }

            /// Removes the document; True if one existed.
            fn delete(&self, py: Python<'_>, account_id: &str, owner: &str) -> PyResult<bool> {
                let k = key(account_id, owner)?;
                let store = self.inner.clone();
                crate::runtime::wait(py, async move { store.delete(&k).await })?
                    .map_err(crate::error::to_py)
            }
        }
    };
}

/// Connections kept in this process's memory (tests, single-process scripts). Share one instance
/// between clients to share connections.
#[pyclass(module = "sfcrm._native", name = "MemoryStore", frozen)]
pub struct MemoryStore {
    inner: Arc<dyn TokenStore>,
}

native_store_methods!(MemoryStore, {
    /// An empty store.
    #[new]
    fn new() -> Self {
        MemoryStore { inner: Arc::new(sfcrm_core::store::MemoryStore::new()) }
    }

    fn __repr__(&self) -> &'static str {
        "MemoryStore()"
    }
});

/// Connections kept as one JSON file per (account_id, owner) in a directory (created with mode
/// 0700; files 0600, replaced atomically; compare-and-swap under a lock file, safe across
/// processes). With `sealing_keys`, the token fields are sealed (XChaCha20-Poly1305) before they
/// reach the disk.
#[pyclass(module = "sfcrm._native", name = "FileStore", frozen)]
pub struct FileStore {
    inner: Arc<dyn TokenStore>,
    dir: std::path::PathBuf,
    sealed: bool,
}

fn keyring(keys: &Bound<'_, PyAny>) -> PyResult<sfcrm_core::store::SealingKeyring> {
    use sfcrm_core::store::{SealingKey, SealingKeyring};
    if let Ok(s) = keys.cast::<PyString>() {
        return SealingKeyring::from_env_value(&s.to_string()).map_err(crate::error::to_py);
    }
    let pairs: Vec<(String, Vec<u8>)> = keys.extract().map_err(|_| {
        crate::error::ConfigError::new_err(
            "sealing_keys must be \"kid:base64key[,kid:base64key...]\" or a list of (kid, 32-byte key) pairs, primary first",
        )
    })?;
    let mut out = Vec::with_capacity(pairs.len());
    for (kid, raw) in pairs {
        out.push(SealingKey::new(kid, &raw).map_err(crate::error::to_py)?);
    }
    if out.is_empty() {
        return Err(crate::error::to_py(Error::config("no sealing key given")));
    }
    let primary = out.remove(0);
    SealingKeyring::new(primary, out).map_err(crate::error::to_py)
}

native_store_methods!(FileStore, {
    /// A store in directory `path`. `sealing_keys`: None (plaintext tokens), the
    /// `SFCRM_SEALING_KEYS` format `"kid1:base64key,kid0:base64key"`, or a list of
    /// `(kid, key_bytes)` pairs with 32-byte keys; the first key seals, the others only open
    /// (key rotation). Raises `StoreError` (directory unusable) or `ConfigError` (bad keys).
    #[new]
    #[pyo3(signature = (path, sealing_keys=None))]
    fn new(path: std::path::PathBuf, sealing_keys: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let files: Arc<dyn TokenStore> =
            Arc::new(sfcrm_core::store::FileStore::new(&path).map_err(crate::error::to_py)?);
        match sealing_keys {
            None => Ok(FileStore { inner: files, dir: path, sealed: false }),
            Some(k) if k.is_none() => Ok(FileStore { inner: files, dir: path, sealed: false }),
            Some(k) => {
                let ring = keyring(k)?;
                Ok(FileStore { inner: Arc::new(sfcrm_core::store::SealedStore::new(files, ring)), dir: path, sealed: true })
            }
        }
    }

    /// The directory holding the documents.
    #[getter]
    fn path(&self) -> std::path::PathBuf {
        self.dir.clone()
    }

    /// True when token fields are sealed.
    #[getter]
    fn sealed(&self) -> bool {
        self.sealed
    }

    fn __repr__(&self) -> String {
        format!("FileStore({:?}, sealed={})", self.dir, if self.sealed { "True" } else { "False" })
    }
});
