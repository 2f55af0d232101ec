//! The one place where core errors become JavaScript errors.
//!
//! A core [`sfcrm_core::Error`] reaches JavaScript as an `Error` object built here, on the
//! JavaScript thread, from the error's fields (no text to parse back):
//! - `message`: the core error's display text (short, never a token or secret);
//! - `code`: the kind's stable name (`reconnect_required`, as Node errors carry a `code`);
//! - `sfcrmDetails`: a plain object `{kind, kindCode, className, message, status, errorCode,
//!   oauthError, oauthErrorDescription, fields, apiUsage, retryAfterMs, rawBody}` of strings,
//!   numbers, arrays and nulls.
//!
//! `lib/errors.js` turns it into an instance of the kind's class (`className`, the name
//! [`ErrorKind::class_name`] gives every binding). Errors raised by the JS token store travel the
//! other way in [`store_error_from_js`].
//!
//! Two ways in, because building a JavaScript value needs the JavaScript thread:
//! - synchronous functions take napi's [`Env`] and map with [`to_js`] (the error thrown is the
//!   object built here);
//! - `async fn`s, whose errors appear on a tokio worker, return [`Settled<T>`]: it carries the
//!   core result to the JavaScript thread, where resolving the Promise builds the error object and
//!   rejects with it.

use napi::bindgen_prelude::{Object, ToNapiValue, TypeName};
use napi::{Env, JsValue, Status, sys};
use sfcrm_core::{Error, ErrorKind};

use crate::usage::ApiUsageObject;

/// The name of the details property (see the module docs).
pub const DETAILS_PROPERTY: &str = "sfcrmDetails";

/// Builds the JavaScript error object of `err` (see the module docs).
fn build<'env>(env: &'env Env, err: &Error) -> napi::Result<Object<'env>> {
    let mut details = Object::new(env)?;
    let kind = err.kind();
    details.set("kind", kind.name())?;
    details.set("kindCode", kind.code())?;
    details.set("className", kind.class_name())?;
    details.set("message", err.message())?;
    details.set("status", err.status().map(u32::from))?;
    details.set("errorCode", err.error_code())?;
    details.set("oauthError", err.oauth_error())?;
    details.set("oauthErrorDescription", err.oauth_error_description())?;
    details.set("fields", err.fields().to_vec())?;
    details.set("apiUsage", err.api_usage().map(ApiUsageObject::from))?;
    details.set("retryAfterMs", err.retry_after().map(|d| d.as_millis() as f64))?;
    details.set("rawBody", err.raw_body())?;
    let mut e = env.create_error(napi::Error::new(Status::GenericFailure, err.to_string()))?;
    e.set("code", kind.name())?;
    e.set(DETAILS_PROPERTY, details)?;
    Ok(e)
}

/// The napi error that throws (or rejects with) the JavaScript error object of `err`.
pub fn to_js(env: &Env, err: &Error) -> napi::Error {
    match build(env, err) {
        Ok(obj) => napi::Error::from(obj.to_unknown()),
        // Out of memory or a dying environment: the message alone.
        Err(e) => napi::Error::new(Status::GenericFailure, format!("{err} ({e})")),
    }
}

/// Shorthand for synchronous functions: `core_result.map_err(|e| to_js(env, &e))`.
pub trait IntoJs<T> {
    /// Maps the error with [`to_js`].
    fn js(self, env: &Env) -> napi::Result<T>;
}

impl<T> IntoJs<T> for Result<T, Error> {
    fn js(self, env: &Env) -> napi::Result<T> {
        self.map_err(|e| to_js(env, &e))
    }
}

/// The result of an `async fn`: `T` resolves the Promise, a core error rejects it with the error
/// object of [`to_js`], built when the result reaches the JavaScript thread. Declare the method
/// with `ts_return_type = "Promise<T>"` (napi's typings do not know this wrapper).
pub struct Settled<T>(pub Result<T, Error>);

impl<T> From<Result<T, Error>> for Settled<T> {
    fn from(r: Result<T, Error>) -> Self {
        Settled(r)
    }
}

impl<T: TypeName> TypeName for Settled<T> {
    fn type_name() -> &'static str {
        T::type_name()
    }
    fn value_type() -> napi::ValueType {
        T::value_type()
    }
}

impl<T: ToNapiValue> ToNapiValue for Settled<T> {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        match val.0 {
            // SAFETY: napi calls this on the JavaScript thread with its live `env`.
            Ok(v) => unsafe { T::to_napi_value(env, v) },
            Err(e) => Err(to_js(&Env::from_raw(env), &e)),
        }
    }
}

/// A failure of the JavaScript token store (`operation` is `load`, `save` or `delete`): a rejected
/// Promise, a synchronous throw, a non-Promise return value or a result of the wrong shape. Always
/// [`ErrorKind::Store`]; the JS error's message is kept, nothing else from the JS value is.
pub fn store_error_from_js(operation: &str, err: napi::Error) -> Error {
    let reason = err.reason.trim();
    let reason = if reason.is_empty() { err.status.as_ref() } else { reason };
    Error::new(ErrorKind::Store, format!("the token store's {operation}() failed: {reason}"))
}
