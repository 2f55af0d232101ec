//! # sfcrm-node
//!
//! The native half of the `sfcrm` npm package: napi-rs glue over `sfcrm-core`, one concern per
//! file (the same names as the other bindings):
//! - [`error`]: core errors → JavaScript errors (details for `lib/errors.js`).
//! - [`store`]: `NativeStore`: core stores and the bridge to a JavaScript store object.
//! - [`config`]: `NativeConfig` from an options object or the environment.
//! - [`client`]: `NativeClient`: login, callback, disconnect, refresh, exportPage, API usage.
//! - [`export`]: streaming exports (`ExportCursor`), export to file, record conversion.
//!
//! Every operation that touches the network or the store is an `async fn` (a Promise in
//! JavaScript) running on napi's tokio runtime; nothing blocks the JavaScript thread. The
//! idiomatic API (classes, error subclasses, async iterators) is `lib/*.js` on top of this.

pub mod client;
pub mod config;
pub mod error;
pub mod export;
pub mod store;

use napi_derive::napi;

/// The SDK version (`sfcrm_core::VERSION`; the npm package reports the same string).
#[napi]
pub fn version() -> String {
    sfcrm_core::VERSION.to_string()
}

/// Every error kind as `[name, code]`, in code order (`lib/errors.js` checks it has a class for each).
#[napi]
pub fn error_kinds() -> Vec<(String, u32)> {
    sfcrm_core::ErrorKind::ALL.iter().map(|k| (k.name().to_string(), k.code())).collect()
}
