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
//! taken only for the duration of the call. A method that raises becomes a `StoreError` whose
//! `__cause__` is the original exception (see `error.rs`).

use std::sync::Arc;

use futures_util::future::BoxFuture;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use sfcrm_core::store::{ConnectionDocument, ConnectionKey, SaveOutcome, TokenStore};
use sfcrm_core::{Error, ErrorKind};

use crate::convert;
use crate::error::PyCallbackError;

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

fn raised(method: &str, e: PyErr) -> Error {
    let shown = PyCallbackError(e);
    Error::store(format!("the Python token store's `{method}` raised {shown}")).with_source(shown)
}

/// Runs `f` with the GIL on the blocking pool (or inline when no runtime is current).
async fn call_python<T, F>(f: F) -> Result<T, Error>
where
    F: FnOnce(Python<'_>) -> Result<T, Error> + Send + 'static,
    T: Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(move || Python::attach(f))
            .await
            .map_err(|e| Error::new(ErrorKind::Store, format!("the Python token store call did not complete: {e}")))?,
        Err(_) => Python::attach(f),
    }
}

fn parse_loaded(method: &str, v: &Bound<'_, PyAny>) -> Result<Option<ConnectionDocument>, Error> {
    if v.is_none() {
        return Ok(None);
    }
    let text = if let Ok(s) = v.cast::<PyString>() {
        s.to_string()
    } else if v.is_instance_of::<PyDict>() || v.hasattr("keys").unwrap_or(false) {
        convert::dumps(v).map_err(|e| raised(method, e))?
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
                .map_err(|e| raised("load", e))?;
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
            let dict = convert::loads(py, &text, false).map_err(|e| raised("save", e))?;
            let r = obj
                .bind(py)
                .call_method1("save", (dict, expected_version))
                .map_err(|e| raised("save", e))?;
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
                .map_err(|e| raised("delete", e))?;
            if r.is_none() {
                return Ok(false);
            }
            r.extract::<bool>().map_err(|_| {
                Error::store("the Python token store's `delete` must return a bool (True if a document existed)")
            })
        }))
    }
}
