//! `sfcrm_error`: the detailed error object, and the crate-internal error type that becomes it.
//!
//! This file owns the mapping of core errors ([`sfcrm_core::Error`]) to C: the result code is the
//! core kind's code, and every detail the core carries is copied onto the error object.

use std::ffi::{CStr, CString, c_char};

use crate::ptr::{self, Handle};
use crate::result::sfcrm_result;

/// An error inside the C ABI layer, before it is handed to C.
pub(crate) struct FfiError {
    pub(crate) result: sfcrm_result,
    pub(crate) message: String,
    pub(crate) core: Option<sfcrm_core::Error>,
}

impl FfiError {
    pub(crate) fn new(result: sfcrm_result, message: impl Into<String>) -> Self {
        FfiError {
            result,
            message: message.into(),
            core: None,
        }
    }
    pub(crate) fn null(arg: &str) -> Self {
        FfiError::new(
            sfcrm_result::NullPointer,
            format!("`{arg}` must not be NULL"),
        )
    }
    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        FfiError::new(sfcrm_result::InvalidArgument, message)
    }
}

impl From<sfcrm_core::Error> for FfiError {
    fn from(e: sfcrm_core::Error) -> Self {
        FfiError {
            result: sfcrm_result::from_kind(e.kind()),
            message: e.message().to_owned(),
            core: Some(e),
        }
    }
}

impl std::fmt::Debug for FfiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.result.name(), self.message)
    }
}

/// A detailed error, returned through the `sfcrm_error **error` out-parameter that every fallible
/// function takes last (pass NULL when the result code is enough). Written only on failure: set
/// the pointer to NULL before the call. Free with `sfcrm_error_free`.
///
/// Strings returned by the accessors are borrowed from the error object: valid until
/// `sfcrm_error_free`, never freed by the caller. An error object is immutable and may be read from
/// any thread.
pub struct sfcrm_error {
    _private: [u8; 0],
}

/// The data behind an `sfcrm_error *`.
pub(crate) struct ErrorObject {
    result: sfcrm_result,
    message: CString,
    status: u16,
    salesforce_error_code: Option<CString>,
    oauth_error: Option<CString>,
    oauth_error_description: Option<CString>,
    fields_json: CString,
    retry_after_ms: Option<u64>,
    api_usage: Option<(u64, u64)>,
    raw_body: Option<CString>,
}

impl Handle for sfcrm_error {
    type Inner = ErrorObject;
    const C_NAME: &'static str = "sfcrm_error";
}

impl ErrorObject {
    pub(crate) fn from_ffi(e: &FfiError) -> Self {
        let c = e.core.as_ref();
        let fields: Vec<&str> = c
            .map(|c| c.fields().iter().map(String::as_str).collect())
            .unwrap_or_default();
        ErrorObject {
            result: e.result,
            message: ptr::cstring_lossy(&e.message),
            status: c.and_then(|c| c.status()).unwrap_or(0),
            salesforce_error_code: c.and_then(|c| c.error_code()).map(ptr::cstring_lossy),
            oauth_error: c.and_then(|c| c.oauth_error()).map(ptr::cstring_lossy),
            oauth_error_description: c
                .and_then(|c| c.oauth_error_description())
                .map(ptr::cstring_lossy),
            fields_json: ptr::cstring_lossy(&serde_json::Value::from(fields).to_string()),
            retry_after_ms: c
                .and_then(|c| c.retry_after())
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            api_usage: c.and_then(|c| c.api_usage()).map(|u| (u.used, u.limit)),
            raw_body: c.and_then(|c| c.raw_body()).map(ptr::cstring_lossy),
        }
    }
}

/// Hands `e` to C through `err_out` (if non-NULL) and returns its result code.
pub(crate) fn report(e: FfiError, err_out: *mut *mut sfcrm_error) -> sfcrm_result {
    let result = e.result;
    if let Some(out) = ptr::opt_out(err_out) {
        out.write(ptr::new_handle::<sfcrm_error>(ErrorObject::from_ffi(&e)));
    }
    result
}

fn opt_ptr(s: &Option<CString>) -> *const c_char {
    s.as_deref().map_or(std::ptr::null(), CStr::as_ptr)
}

/// The result code of the error (an `sfcrm_result` value); `SFCRM_RESULT_INVALID_HANDLE` when
/// `error` is NULL or not a live error object.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_error_code(error: *const sfcrm_error) -> u32 {
    ffi_boundary! {
        match ptr::handle(error, "error") {
            Ok(e) => e.result as u32,
            Err(_) => sfcrm_result::InvalidHandle as u32,
        }
    }
}

/// The stable snake_case name of the error's kind (same as `sfcrm_result_name(sfcrm_error_code(e))`).
/// Static string; `"invalid_handle"` when `error` is NULL or not a live error object.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_error_kind_name(error: *const sfcrm_error) -> *const c_char {
    ffi_boundary! {
        match ptr::handle(error, "error") {
            Ok(e) => e.result.c_name().as_ptr(),
            Err(_) => sfcrm_result::InvalidHandle.c_name().as_ptr(),
        }
    }
}

/// Human-readable message (never contains a token or secret). Borrowed; never NULL (an empty string
/// when `error` is NULL or not a live error object).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_error_message(error: *const sfcrm_error) -> *const c_char {
    ffi_boundary! {
        match ptr::handle(error, "error") {
            // The CString lives inside the registered Arc, so the pointer stays valid until
            // sfcrm_error_free.
            Ok(e) => e.message.as_ptr(),
            Err(_) => c"".as_ptr(),
        }
    }
}

/// HTTP status of the response that caused the error, or 0 when no response was involved.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_error_http_status(error: *const sfcrm_error) -> u16 {
    ffi_boundary! { ptr::handle(error, "error").map(|e| e.status).unwrap_or(0) }
}

/// Salesforce `errorCode` from the REST error array (e.g. `"INVALID_SESSION_ID"`,
/// `"REQUEST_LIMIT_EXCEEDED"`), or NULL. Borrowed.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_error_salesforce_code(error: *const sfcrm_error) -> *const c_char {
    ffi_boundary! { ptr::handle(error, "error").map(|e| opt_ptr(&e.salesforce_error_code)).unwrap_or(std::ptr::null()) }
}

/// OAuth `error` from the token endpoint (e.g. `"invalid_grant"`), or NULL. Borrowed.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_error_oauth_error(error: *const sfcrm_error) -> *const c_char {
    ffi_boundary! { ptr::handle(error, "error").map(|e| opt_ptr(&e.oauth_error)).unwrap_or(std::ptr::null()) }
}

/// OAuth `error_description` (e.g. `"expired access/refresh token"`), or NULL. Borrowed.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_error_oauth_error_description(error: *const sfcrm_error) -> *const c_char {
    ffi_boundary! { ptr::handle(error, "error").map(|e| opt_ptr(&e.oauth_error_description)).unwrap_or(std::ptr::null()) }
}

/// Fields named by Salesforce in the error, as a JSON array of strings (`"[]"` when none). Borrowed;
/// never NULL for a live error (NULL otherwise).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_error_fields_json(error: *const sfcrm_error) -> *const c_char {
    ffi_boundary! { ptr::handle(error, "error").map(|e| e.fields_json.as_ptr()).unwrap_or(std::ptr::null()) }
}

/// The delay the server asked for (`Retry-After`), in milliseconds. Returns true and writes
/// `*retry_after_ms` when there is one; false (nothing written) otherwise.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_error_retry_after_ms(
    error: *const sfcrm_error,
    retry_after_ms: *mut u64,
) -> bool {
    ffi_boundary! {
        let (Ok(e), Some(out)) = (ptr::handle(error, "error"), ptr::opt_out(retry_after_ms)) else { return false };
        match e.retry_after_ms {
            Some(ms) => { out.write(ms); true }
            None => false,
        }
    }
}

/// API usage from the `Sforce-Limit-Info: api-usage=<used>/<limit>` header of the failing response
/// (requests in the org's rolling 24 h window). Returns true and writes both values when known;
/// false (nothing written) otherwise. Both out-pointers are required.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_error_api_usage(
    error: *const sfcrm_error,
    used: *mut u64,
    limit: *mut u64,
) -> bool {
    ffi_boundary! {
        let (Ok(e), Some(u), Some(l)) = (ptr::handle(error, "error"), ptr::opt_out(used), ptr::opt_out(limit)) else { return false };
        match e.api_usage {
            Some((a, b)) => { u.write(a); l.write(b); true }
            None => false,
        }
    }
}

/// The raw body of the failed HTTP response, as the server sent it (decoded as UTF-8, invalid
/// bytes replaced with U+FFFD), or NULL when none was kept.
///
/// Kept for error responses from the instance and the token endpoint (a Salesforce REST error
/// array such as `[{"message":…,"errorCode":"NOT_FOUND"}]`, an OAuth `{"error":…}` object, an HTML
/// maintenance page) and for a 2xx query body that could not be read. Never kept for a successful
/// token response, so it never holds an access or refresh token; NULL for errors that had no
/// response (network, timeout, caller input, store errors).
///
/// At most 65,536 bytes (the core's `RAW_BODY_LIMIT`): a longer body is cut at a UTF-8 character
/// boundary. A NUL byte in the body is replaced with U+FFFD, so `strlen` gives the whole length.
/// Borrowed from the error object: valid until `sfcrm_error_free`, never freed by the caller.
/// NULL as well when `error` is NULL or not a live error object.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_error_raw_body(error: *const sfcrm_error) -> *const c_char {
    ffi_boundary! { ptr::handle(error, "error").map(|e| opt_ptr(&e.raw_body)).unwrap_or(std::ptr::null()) }
}

/// Frees an error object. NULL, or an already-freed error, is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_error_free(error: *mut sfcrm_error) {
    ffi_boundary! { ptr::free_handle(error); }
}
