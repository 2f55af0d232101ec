//! `sfcrm_result`: the one result code of the C ABI, and `sfcrm_result_name`.

use std::ffi::{CStr, c_char};

use sfcrm_core::ErrorKind;

/// Result code of every fallible `sfcrm_*` function.
///
/// Values are stable and never reused. They are grouped by area: 0 success; 1xx caller input
/// (150-159: C ABI misuse); 2xx OAuth / connection; 3xx Salesforce API; 4xx transport; 5xx host
/// integration (token store, writers, cancellation); 9xx internal. Every value except the C-ABI-only
/// ones (150-159, 901) equals the core's `ErrorKind::code()`, and `sfcrm_result_name()` returns
/// the core's `ErrorKind::name()` for it. In C the type is `uint32_t`, so a newer library may return
/// a value this header does not list: treat an unknown value as an error.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types)]
pub enum sfcrm_result {
    /// Success.
    Ok = 0,
    /// A caller-supplied argument is malformed (empty key, bad page number, bad checkpoint token...).
    InvalidArgument = 100,
    /// Configuration is missing or malformed; the message names the setting or environment variable.
    Config = 101,
    /// `sfcrm_client_login` was called without a forward URL.
    MissingForwardUrl = 102,
    /// The forward URL is not http(s) or its origin is not allowed by the configuration.
    ForwardUrlNotAllowed = 103,
    /// The export type is not `contacts`, `deals` or `notes` (nor a valid custom sObject export).
    UnknownExportType = 104,
    /// An sObject or field name fails Salesforce's identifier rules; nothing was sent.
    InvalidIdentifier = 105,
    /// C ABI: a required pointer argument was NULL.
    NullPointer = 150,
    /// C ABI: a string argument (or a string returned by a callback) is not valid UTF-8.
    InvalidUtf8 = 151,
    /// C ABI: the caller's buffer is too small; the required length was written to the length
    /// out-parameter (the one exception to "out-parameters are written only on success").
    BufferTooSmall = 152,
    /// C ABI: the export cursor was cancelled by `sfcrm_export_cursor_cancel` before this call; it
    /// delivers nothing more (free it). A call that was in flight when cancelled returns
    /// `SFCRM_RESULT_CANCELLED` instead.
    UseAfterCancel = 153,
    /// C ABI: the handle is not a live handle of the expected type (already freed, never returned by
    /// this library, or of another type). Detected without reading the pointed-to memory.
    InvalidHandle = 154,
    /// C ABI: a blocking `sfcrm_*` call was made from a thread of the SDK's own runtime (e.g. from
    /// inside a token store or write callback); it would deadlock, so it is refused.
    Reentrant = 155,
    /// The OAuth `state` is missing, tampered with, expired or signed with another algorithm.
    InvalidState = 200,
    /// No stored connection for this (account_id, owner).
    NotConnected = 201,
    /// The token endpoint refused a request (`error` / `error_description` on the error object).
    Oauth = 202,
    /// The refresh token is dead (revoked, expired, rotated out): send the user through login again.
    ReconnectRequired = 203,
    /// The access token was refused and could not be renewed.
    SessionExpired = 204,
    /// The org's API quota or concurrency cap (403 `REQUEST_LIMIT_EXCEEDED`); see the API usage and
    /// retry-after on the error object.
    RateLimited = 300,
    /// Salesforce answered with an error: HTTP status, `errorCode` and fields on the error object.
    Api = 301,
    /// A success response that does not have the documented shape.
    Protocol = 302,
    /// Connection refused/reset, DNS, TLS, or a truncated body, after the retries allowed.
    Network = 400,
    /// A request did not complete within the configured timeout, after the retries allowed.
    Timeout = 401,
    /// The token store failed: a callback returned an error status, an unknown status, a document
    /// that is not valid JSON / not the documented schema / for another key, or invalid UTF-8.
    Store = 500,
    /// Another process kept winning the compare-and-swap on the stored connection.
    StoreConflict = 501,
    /// Writing an export (file, write callback) failed.
    Io = 502,
    /// The operation was cancelled (`sfcrm_export_cursor_cancel` while it was in flight).
    Cancelled = 503,
    /// A bug inside the SDK.
    Internal = 900,
    /// C ABI: a panic was caught at the C boundary (a bug; the handle stays usable but the
    /// operation did not complete).
    Panic = 901,
}

impl sfcrm_result {
    /// Every variant, in code order.
    pub(crate) const ALL: [sfcrm_result; 29] = [
        sfcrm_result::Ok,
        sfcrm_result::InvalidArgument,
        sfcrm_result::Config,
        sfcrm_result::MissingForwardUrl,
        sfcrm_result::ForwardUrlNotAllowed,
        sfcrm_result::UnknownExportType,
        sfcrm_result::InvalidIdentifier,
        sfcrm_result::NullPointer,
        sfcrm_result::InvalidUtf8,
        sfcrm_result::BufferTooSmall,
        sfcrm_result::UseAfterCancel,
        sfcrm_result::InvalidHandle,
        sfcrm_result::Reentrant,
        sfcrm_result::InvalidState,
        sfcrm_result::NotConnected,
        sfcrm_result::Oauth,
        sfcrm_result::ReconnectRequired,
        sfcrm_result::SessionExpired,
        sfcrm_result::RateLimited,
        sfcrm_result::Api,
        sfcrm_result::Protocol,
        sfcrm_result::Network,
        sfcrm_result::Timeout,
        sfcrm_result::Store,
        sfcrm_result::StoreConflict,
        sfcrm_result::Io,
        sfcrm_result::Cancelled,
        sfcrm_result::Internal,
        sfcrm_result::Panic,
    ];

    /// The result for a core error kind: the variant whose value is `kind.code()`. A kind added to
    /// the core after this library was built maps to `Internal` (the unit tests fail first).
    pub fn from_kind(kind: ErrorKind) -> Self {
        let code = kind.code();
        Self::ALL
            .iter()
            .copied()
            .find(|r| *r as u32 == code && r.ffi_only_name().is_none())
            .unwrap_or(sfcrm_result::Internal)
    }

    /// Names of the C-ABI-only values (None for the values shared with the core and for `Ok`).
    fn ffi_only_name(self) -> Option<&'static str> {
        Some(match self {
            sfcrm_result::NullPointer => "null_pointer",
            sfcrm_result::InvalidUtf8 => "invalid_utf8",
            sfcrm_result::BufferTooSmall => "buffer_too_small",
            sfcrm_result::UseAfterCancel => "use_after_cancel",
            sfcrm_result::InvalidHandle => "invalid_handle",
            sfcrm_result::Reentrant => "reentrant",
            sfcrm_result::Panic => "panic",
            _ => return None,
        })
    }

    /// Stable snake_case name: `"ok"`, the core's `ErrorKind::name()`, or the C-ABI-only name.
    pub fn name(self) -> &'static str {
        if self == sfcrm_result::Ok {
            return "ok";
        }
        if let Some(n) = self.ffi_only_name() {
            return n;
        }
        let code = self as u32;
        ErrorKind::ALL
            .iter()
            .find(|k| k.code() == code)
            .map(|k| k.name())
            .unwrap_or("internal")
    }

    /// The variant with this numeric value, if any.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| *r as u32 == code)
    }

    /// The same name as a NUL-terminated static C string (checked against [`Self::name`] by a test).
    pub(crate) fn c_name(self) -> &'static CStr {
        match self {
            sfcrm_result::Ok => c"ok",
            sfcrm_result::InvalidArgument => c"invalid_argument",
            sfcrm_result::Config => c"config",
            sfcrm_result::MissingForwardUrl => c"missing_forward_url",
            sfcrm_result::ForwardUrlNotAllowed => c"forward_url_not_allowed",
            sfcrm_result::UnknownExportType => c"unknown_export_type",
            sfcrm_result::InvalidIdentifier => c"invalid_identifier",
            sfcrm_result::NullPointer => c"null_pointer",
            sfcrm_result::InvalidUtf8 => c"invalid_utf8",
            sfcrm_result::BufferTooSmall => c"buffer_too_small",
            sfcrm_result::UseAfterCancel => c"use_after_cancel",
            sfcrm_result::InvalidHandle => c"invalid_handle",
            sfcrm_result::Reentrant => c"reentrant",
            sfcrm_result::InvalidState => c"invalid_state",
            sfcrm_result::NotConnected => c"not_connected",
            sfcrm_result::Oauth => c"oauth",
            sfcrm_result::ReconnectRequired => c"reconnect_required",
            sfcrm_result::SessionExpired => c"session_expired",
            sfcrm_result::RateLimited => c"rate_limited",
            sfcrm_result::Api => c"api",
            sfcrm_result::Protocol => c"protocol",
            sfcrm_result::Network => c"network",
            sfcrm_result::Timeout => c"timeout",
            sfcrm_result::Store => c"store",
            sfcrm_result::StoreConflict => c"store_conflict",
            sfcrm_result::Io => c"io",
            sfcrm_result::Cancelled => c"cancelled",
            sfcrm_result::Internal => c"internal",
            sfcrm_result::Panic => c"panic",
        }
    }
}

/// The stable snake_case name of a result code (`"ok"`, `"store"`, `"null_pointer"`, ...), or
/// `"unknown"` for a value this library does not define.
///
/// Returns a static NUL-terminated string: never NULL, never freed. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_result_name(result: u32) -> *const c_char {
    ffi_boundary! {
        match sfcrm_result::from_code(result) {
            Some(r) => r.c_name().as_ptr(),
            None => c"unknown".as_ptr(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_kind_has_a_result_with_the_same_code_and_name() {
        for kind in ErrorKind::ALL {
            let r = sfcrm_result::from_kind(kind);
            assert_eq!(r as u32, kind.code(), "{kind:?}");
            assert_eq!(r.name(), kind.name(), "{kind:?}");
        }
    }

    #[test]
    fn c_names_match_names() {
        for r in sfcrm_result::ALL {
            assert_eq!(r.c_name().to_str().unwrap(), r.name());
        }
    }

    #[test]
    fn values_are_unique_and_names_unique() {
        let mut seen = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for r in sfcrm_result::ALL {
            seen.insert(r as u32);
            names.insert(r.name());
        }
        // every distinct variant appears once; values and names are 1:1
        assert_eq!(seen.len(), names.len());
        assert_eq!(seen.len(), 29);
    }

    #[test]
    fn ffi_only_values_do_not_collide_with_core_codes() {
        for kind in ErrorKind::ALL {
            let r = sfcrm_result::from_code(kind.code()).unwrap();
            assert!(
                r.ffi_only_name().is_none(),
                "{kind:?} collides with an ffi-only code"
            );
        }
    }
}
