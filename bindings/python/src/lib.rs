//! `sfcrm._native`: the pyo3 glue between the Rust core (`sfcrm_core`) and the pure-Python package
//! `sfcrm` (bindings/python/python/sfcrm). One file per concern, with the same file names as the
//! Node binding (`bindings/node/src`):
//! - [`client`]: `Client` (login, callback, disconnect, refresh, export_page, api_get, exports,
//!   queries, describe);
//! - [`config`]: `Config` from arguments or the environment;
//! - [`describe`]: `describe` / `describe_global` (Salesforce's JSON as dicts);
//! - [`error`]: the only place core errors become Python exceptions;
//! - [`export`]: export specs and requests from Python arguments, page/limit arguments, the seed
//!   paginator, `Progress` / `ExportSummary`;
//! - [`export_cursor`]: `ExportIterator`, the lazy record iterator of exports and queries;
//! - [`export_file`]: file exports (`export_to_*`, and `query_to_*` through `file_job`);
//! - [`params`]: Python bind values → the core's `Params`, `bind_soql`;
//! - [`query`]: SOQL queries (the export iterator over a query stream, `query_one`, files);
//! - [`rawjson`]: JSON text → Python objects (records, bodies, documents) and back;
//! - [`runtime`]: the shared tokio runtime, GIL-free waiting, Python callbacks off the workers;
//! - [`store`]: the Python store bridge, `MemoryStore`, `FileStore`, the connection key rule;
//! - [`usage`]: `ApiUsage` / `ApiCalls`.

#![warn(missing_docs)]

// The core's `Error` is deliberately rich (status, errorCode, fields, usage, raw body); results
// carrying it are large by design.
#![allow(clippy::result_large_err)]

use pyo3::prelude::*;

pub mod bulk;
pub mod client;
pub mod config;
pub mod describe;
pub mod error;
pub mod export;
pub mod export_cursor;
pub mod export_file;
pub mod params;
pub mod query;
pub mod rawjson;
pub mod runtime;
pub mod store;
pub mod usage;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", sfcrm_core::VERSION)?;
    error::register(m)?;
    m.add_function(wrap_pyfunction!(error::_raise_core_error, m)?)?;
    m.add_function(wrap_pyfunction!(error::_core_error_kinds, m)?)?;
    m.add_class::<config::Config>()?;
    m.add_class::<usage::ApiUsage>()?;
    m.add_class::<usage::ApiCalls>()?;
    m.add_class::<client::LoginRedirect>()?;
    m.add_class::<client::CallbackResult>()?;
    m.add_class::<client::Disconnected>()?;
    m.add_class::<client::ConnectionInfo>()?;
    m.add_class::<client::Client>()?;
    m.add_class::<store::MemoryStore>()?;
    m.add_class::<store::FileStore>()?;
    m.add_class::<export_cursor::ExportIterator>()?;
    m.add_class::<export::Progress>()?;
    m.add_class::<export::ExportSummary>()?;
    m.add_function(wrap_pyfunction!(export::paginator, m)?)?;
    m.add_function(wrap_pyfunction!(params::bind_soql, m)?)?;
    m.add_function(wrap_pyfunction!(rawjson::_decode_records, m)?)?;
    Ok(())
}
