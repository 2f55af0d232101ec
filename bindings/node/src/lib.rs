//! # sfcrm-node
//!
//! The native half of the `sfcrm` npm package: napi-rs glue over `sfcrm-core`, one concern per
//! file, with the same file names as the Python binding (`bindings/python/src`):
//! - [`client`]: `NativeClient`: login, callback, disconnect, refresh, exportPage, apiGet.
//! - [`config`]: `NativeConfig` from an options object or the environment.
//! - [`describe`]: `describe` / `describeGlobal` (Salesforce's JSON text, cached by the core).
//! - [`error`]: core errors → JavaScript errors (built from the error's fields for `lib/errors.js`).
//! - [`export`]: streaming exports (`ExportCursor`), specs with `where`, page/limit arguments, the
//!   seed paginator.
//! - [`params`]: bind values (`params`) as the core's JSON form; `checkParams`.
//! - [`query`]: SOQL queries (`queryStream`, `queryOne`, `queryToFile`).
//! - [`rawjson`]: record JSON text for JavaScript (ASCII batches, lossless numbers).
//! - [`runtime`]: where tokio workers and the JavaScript thread meet (awaiting JS Promises).
//! - [`store`]: `NativeStore`: core stores and the bridge to a JavaScript store object.
//! - [`usage`]: `apiUsage()` / `apiCalls()` objects.
//!
//! Every operation that touches the network or the store is an `async fn` (a Promise in
//! JavaScript) running on napi's tokio runtime; nothing blocks the JavaScript thread. The
//! idiomatic API (classes, error subclasses, async iterators) is `lib/*.js` on top of this.

#![warn(missing_docs)]

pub mod bulk;
pub mod client;
pub mod config;
pub mod describe;
pub mod error;
pub mod export;
pub mod params;
pub mod query;
pub mod rawjson;
pub mod runtime;
pub mod store;
pub mod usage;

use napi_derive::napi;

/// The SDK version (`sfcrm_core::VERSION`; the npm package reports the same string).
#[napi]
pub fn version() -> String {
    sfcrm_core::VERSION.to_string()
}

/// Every error kind as `[name, code, className]`, in code order: the kind's stable name, its
/// numeric code (shared with the C ABI) and its class name (`ErrorKind::class_name`, the same in
/// Python). `lib/errors.js` maps kinds to classes with it and the tests check every class.
#[napi]
pub fn error_kinds() -> Vec<(String, u32, String)> {
    sfcrm_core::ErrorKind::ALL
        .iter()
        .map(|k| (k.name().to_string(), k.code(), k.class_name().to_string()))
        .collect()
}
