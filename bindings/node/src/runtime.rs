//! Where Rust futures and the JavaScript thread meet.
//!
//! Threading model (the Node counterpart of the Python binding's `runtime.rs` and the C ABI's
//! `runtime.rs`):
//! - Every operation that touches the network or a store is an `async fn` run on napi's tokio
//!   runtime; JavaScript gets a Promise and its thread never blocks. Results and errors are turned
//!   into JavaScript values on the JavaScript thread when the Promise settles (`error.rs`'s
//!   `Settled`, `rawjson.rs`'s `AsciiJson`).
//! - JavaScript callbacks (a token store's `load`/`save`/`delete`) are called from a tokio worker
//!   through napi `ThreadsafeFunction`s: the call is queued to the JavaScript thread, and the
//!   worker awaits the Promise it returns with [`call_js`], bounded by a timeout, so a store that
//!   never settles cannot hang an operation.

use std::future::Future;
use std::time::Duration;

use napi::bindgen_prelude::{FromNapiValue, Promise};
use sfcrm_core::Error;

use crate::error::store_error_from_js;

/// Awaits a JavaScript callback's Promise from a tokio worker. `call` is the queued call
/// (`ThreadsafeFunction::call_async_catch`), resolving to the Promise the function returned.
/// A synchronous throw, a non-Promise return value, a rejection or a value that does not
/// convert to `T` is a `Store` error naming `operation` (the JavaScript error's message is kept,
/// nothing else); so is a Promise still pending after `timeout`.
pub async fn call_js<T, F>(operation: &'static str, timeout: Duration, call: F) -> Result<T, Error>
where
    F: Future<Output = napi::Result<Promise<T>>>,
    T: FromNapiValue + Send + 'static,
{
    let run = async {
        let promise = call.await.map_err(|e| store_error_from_js(operation, e))?;
        promise.await.map_err(|e| store_error_from_js(operation, e))
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(r) => r,
        Err(_) => Err(Error::store(format!(
            "the token store's {operation}() did not settle within {} ms",
            timeout.as_millis()
        ))),
    }
}
