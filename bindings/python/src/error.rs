//! The one place that maps core errors to Python exceptions.
//!
//! Every [`sfcrm_core::ErrorKind`] has one exception class (built with `create_exception!`, named
//! in `sfcrm`), grouped under a few intermediate classes so callers can catch broadly or narrowly:
//!
//! ```text
//! SfcrmError
//! ├── InvalidArgumentError ── MissingForwardUrl, ForwardUrlNotAllowed, UnknownExportType, InvalidIdentifier
//! ├── ConfigError
//! ├── AuthError ───────────── InvalidState, NotConnected, OAuthError, ReconnectRequired, SessionExpired
//! ├── ApiError ────────────── RateLimited, ProtocolError
//! ├── TransportError ──────── NetworkError, RequestTimeout
//! ├── StoreError ──────────── StoreConflict
//! ├── ExportWriteError        (ErrorKind::Io)
//! ├── Cancelled
//! └── InternalError
//! ```
//!
//! Each raised instance carries the core error's details as attributes: `kind` (stable snake_case
//! name), `code` (stable number), `message`, `status` (HTTP), `error_code` (Salesforce `errorCode`),
//! `oauth_error`, `oauth_error_description`, `fields` (list of str), `api_usage` (`ApiUsage` or
//! None), `retry_after` (seconds, float, or None) and `raw_body` (str or None; never a token
//! response). A Python exception raised by a user callback (store, progress) that travelled through
//! the core is set as `__cause__`.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyList;
use sfcrm_core::{Error, ErrorKind};

create_exception!(sfcrm, SfcrmError, PyException, "Base class of every error raised by sfcrm.");

create_exception!(sfcrm, InvalidArgumentError, SfcrmError, "A caller-supplied argument is malformed (empty key, bad page value, bad checkpoint, ...).");
create_exception!(sfcrm, MissingForwardUrl, InvalidArgumentError, "`login` was called without a forward URL (the seed's \"Please provide forward_url\").");
create_exception!(sfcrm, ForwardUrlNotAllowed, InvalidArgumentError, "The forward URL is not http(s) or its origin is not in the configured allow-list.");
create_exception!(sfcrm, UnknownExportType, InvalidArgumentError, "The export type is not one of contacts, deals, notes (or a valid custom sObject spec).");
create_exception!(sfcrm, InvalidIdentifier, InvalidArgumentError, "An sObject or field name fails Salesforce's identifier rules; nothing was sent.");

create_exception!(sfcrm, ConfigError, SfcrmError, "Configuration is missing or malformed; the message names the setting or environment variable.");

create_exception!(sfcrm, AuthError, SfcrmError, "Base class of connection and OAuth failures.");
create_exception!(sfcrm, InvalidState, AuthError, "The OAuth `state` is missing, tampered with, expired or signed with another algorithm (the seed's \"Invalid State\").");
create_exception!(sfcrm, NotConnected, AuthError, "No stored connection for this (account_id, owner).");
create_exception!(sfcrm, OAuthError, AuthError, "The token endpoint refused a request (`oauth_error`, `oauth_error_description`, `status`).");
create_exception!(sfcrm, ReconnectRequired, AuthError, "The refresh token is revoked, expired or rotated out: send the user through login again.");
create_exception!(sfcrm, SessionExpired, AuthError, "The access token was refused (401 INVALID_SESSION_ID) and could not be renewed.");

create_exception!(sfcrm, ApiError, SfcrmError, "Salesforce answered with an error: `status`, `error_code`, `fields`, `raw_body`.");
create_exception!(sfcrm, RateLimited, ApiError, "403 REQUEST_LIMIT_EXCEEDED: the org's API quota or concurrency cap; see `api_usage`.");
create_exception!(sfcrm, ProtocolError, ApiError, "A success response that does not have the documented shape.");

create_exception!(sfcrm, TransportError, SfcrmError, "Base class of network failures after the retries allowed.");
create_exception!(sfcrm, NetworkError, TransportError, "Connection refused/reset, DNS, TLS, or a truncated body, after the retries allowed.");
create_exception!(sfcrm, RequestTimeout, TransportError, "A request did not complete within the configured timeout, after the retries allowed.");

create_exception!(sfcrm, StoreError, SfcrmError, "The token store failed; a Python store's own exception is the `__cause__`.");
create_exception!(sfcrm, StoreConflict, StoreError, "Another process kept winning the compare-and-swap on the stored connection.");

create_exception!(sfcrm, ExportWriteError, SfcrmError, "Writing an export (file, callback) failed.");
create_exception!(sfcrm, Cancelled, SfcrmError, "The operation was cancelled by the caller.");
create_exception!(sfcrm, InternalError, SfcrmError, "A bug inside the SDK.");

/// The exception class of a core kind. Kinds added to the core later map to `SfcrmError` until
/// they get a class here (the test `test_every_core_kind_has_a_class` catches that).
pub fn class_for(py: Python<'_>, kind: ErrorKind) -> Bound<'_, pyo3::types::PyType> {
    use pyo3::PyTypeInfo;
    match kind {
        ErrorKind::InvalidArgument => InvalidArgumentError::type_object(py),
        ErrorKind::Config => ConfigError::type_object(py),
        ErrorKind::MissingForwardUrl => MissingForwardUrl::type_object(py),
        ErrorKind::ForwardUrlNotAllowed => ForwardUrlNotAllowed::type_object(py),
        ErrorKind::InvalidState => InvalidState::type_object(py),
        ErrorKind::UnknownExportType => UnknownExportType::type_object(py),
        ErrorKind::InvalidIdentifier => InvalidIdentifier::type_object(py),
        ErrorKind::NotConnected => NotConnected::type_object(py),
        ErrorKind::OAuth => OAuthError::type_object(py),
        ErrorKind::ReconnectRequired => ReconnectRequired::type_object(py),
        ErrorKind::SessionExpired => SessionExpired::type_object(py),
        ErrorKind::RateLimited => RateLimited::type_object(py),
        ErrorKind::Api => ApiError::type_object(py),
        ErrorKind::Network => NetworkError::type_object(py),
        ErrorKind::Timeout => RequestTimeout::type_object(py),
        ErrorKind::Protocol => ProtocolError::type_object(py),
        ErrorKind::Store => StoreError::type_object(py),
        ErrorKind::StoreConflict => StoreConflict::type_object(py),
        ErrorKind::Cancelled => Cancelled::type_object(py),
        ErrorKind::Io => ExportWriteError::type_object(py),
        ErrorKind::Internal => InternalError::type_object(py),
        _ => SfcrmError::type_object(py),
    }
}

/// A Python exception that crossed the core as the `source` of an [`Error`] (e.g. raised by a
/// Python token store). Kept so the Python side can chain it as `__cause__`. Its text (type name
/// and `str()`, no traceback) is taken once, with the GIL, when it is created, so formatting it
/// later (logs, `Display` on a worker thread) never needs the GIL.
#[derive(Debug)]
pub struct PyCallbackError {
    err: PyErr,
    text: String,
}

impl PyCallbackError {
    /// Wraps `err` (the caller holds the GIL).
    pub fn new(py: Python<'_>, err: PyErr) -> Self {
        let name = err.get_type(py).qualname().map(|n| n.to_string()).unwrap_or_else(|_| "Exception".into());
        let msg = err.value(py).str().map(|s| s.to_string()).unwrap_or_default();
        let text = if msg.is_empty() { name } else { format!("{name}: {msg}") };
        PyCallbackError { err, text }
    }
}

impl std::fmt::Display for PyCallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for PyCallbackError {}

/// Finds a Python exception in the `source()` chain of a core error.
fn python_cause(err: &Error) -> Option<PyErr> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(e) = cur {
        if let Some(p) = e.downcast_ref::<PyCallbackError>() {
            return Some(Python::attach(|py| p.err.clone_ref(py)));
        }
        cur = e.source();
    }
    None
}

/// Converts a core error into the matching Python exception, with every detail as attributes.
pub fn to_py(err: Error) -> PyErr {
    Python::attach(|py| build(py, &err))
}

fn build(py: Python<'_>, err: &Error) -> PyErr {
    let cls = class_for(py, err.kind());
    let instance = match cls.call1((err.to_string(),)) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let set = |name: &str, value: Bound<'_, PyAny>| {
        // Setting an attribute on a fresh exception instance cannot fail short of MemoryError.
        let _ = instance.setattr(name, value);
    };
    let none = || py.None().into_bound(py);
    set("kind", err.kind().name().into_pyobject(py).unwrap().into_any());
    set("code", err.kind().code().into_pyobject(py).unwrap().into_any());
    set("message", err.message().into_pyobject(py).unwrap().into_any());
    set("status", err.status().map(|s| s.into_pyobject(py).unwrap().into_any()).unwrap_or_else(none));
    set("error_code", opt_str(py, err.error_code()));
    set("oauth_error", opt_str(py, err.oauth_error()));
    set("oauth_error_description", opt_str(py, err.oauth_error_description()));
    set("fields", PyList::new(py, err.fields()).map(|l| l.into_any()).unwrap_or_else(|_| none()));
    set(
        "api_usage",
        err.api_usage()
            .and_then(|u| Bound::new(py, crate::usage::ApiUsage::from(u)).ok())
            .map(|b| b.into_any())
            .unwrap_or_else(none),
    );
    set(
        "retry_after",
        err.retry_after().map(|d| d.as_secs_f64().into_pyobject(py).unwrap().into_any()).unwrap_or_else(none),
    );
    set("raw_body", opt_str(py, err.raw_body()));
    let pyerr = PyErr::from_value(instance);
    if let Some(cause) = python_cause(err) {
        pyerr.set_cause(py, Some(cause));
    }
    pyerr
}

fn opt_str<'py>(py: Python<'py>, s: Option<&str>) -> Bound<'py, PyAny> {
    match s {
        Some(s) => pyo3::types::PyString::new(py, s).into_any(),
        None => py.None().into_bound(py),
    }
}

/// `Result<T, core::Error>` → `PyResult<T>`.
pub trait IntoPyResult<T> {
    /// Maps the error with [`to_py`].
    fn py_err(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, Error> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// Registers every exception class on the module (and `ERROR_KINDS`: name → (code, class)).
/// Fails the import when a kind's class is not named [`ErrorKind::class_name`] (the name every
/// binding gives that kind), so the table above cannot drift from the core.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    macro_rules! add {
        ($($t:ident),* $(,)?) => { $( m.add(stringify!($t), py.get_type::<$t>())?; )* };
    }
    add!(
        SfcrmError, InvalidArgumentError, MissingForwardUrl, ForwardUrlNotAllowed, UnknownExportType,
        InvalidIdentifier, ConfigError, AuthError, InvalidState, NotConnected, OAuthError,
        ReconnectRequired, SessionExpired, ApiError, RateLimited, ProtocolError, TransportError,
        NetworkError, RequestTimeout, StoreError, StoreConflict, ExportWriteError, Cancelled,
        InternalError,
    );
    let kinds = pyo3::types::PyDict::new(py);
    for kind in ErrorKind::ALL {
        let cls = class_for(py, kind);
        let name = cls.name()?;
        if name.to_str()? != kind.class_name() {
            return Err(pyo3::exceptions::PySystemError::new_err(format!(
                "sfcrm: the class of error kind {kind} is {name}, the core names it {}",
                kind.class_name()
            )));
        }
        kinds.set_item(kind.name(), (kind.code(), cls))?;
    }
    m.add("ERROR_KINDS", kinds)?;
    Ok(())
}

/// The core's error kinds as `(name, code, class_name)`, in code order (the tests compare the
/// exception classes with it).
#[pyfunction]
pub fn _core_error_kinds() -> Vec<(&'static str, u32, &'static str)> {
    ErrorKind::ALL.iter().map(|k| (k.name(), k.code(), k.class_name())).collect()
}

/// Raises the exception of `kind` (by stable name) with `message`; used by the tests to check every
/// kind's class and attributes without provoking each failure over HTTP.
#[pyfunction]
pub fn _raise_core_error(kind: &str, message: &str, status: Option<u16>, error_code: Option<String>) -> PyResult<()> {
    let Some(k) = ErrorKind::ALL.into_iter().find(|k| k.name() == kind) else {
        return Err(pyo3::exceptions::PyValueError::new_err(format!("unknown error kind {kind:?}")));
    };
    let mut e = Error::new(k, message);
    if let Some(s) = status {
        e = e.with_status(s);
    }
    if let Some(c) = error_code {
        e = e.with_error_code(c);
    }
    Err(to_py(e))
}
