//! The one place where core errors become JavaScript errors.
//!
//! napi-rs can only reject a Promise with an `Error` built from a status and a message, so a core
//! [`sfcrm_core::Error`] crosses as:
//! - `message`: the core error's display text (short, never a token or secret), and
//! - `cause`: an `Error` whose message is [`DETAILS_PREFIX`] followed by a JSON object
//!   `{kind, kindCode, status, errorCode, oauthError, oauthErrorDescription, fields, apiUsage,
//!   retryAfterMs, rawBody}`.
//!
//! `lib/errors.js` turns that into an instance of the matching `SfcrmError` subclass
//! (`ReconnectRequiredError`, `RateLimitedError`, ...). Errors raised by the JS token store travel
//! the other way in [`store_error_from_js`].

use napi::Status;
use serde_json::{Map, Value, json};
use sfcrm_core::{Error, ErrorKind};

/// Prefix of the `cause.message` that carries the structured details (see the module docs).
pub const DETAILS_PREFIX: &str = "sfcrm-error-details:";

/// The structured details of a core error, as the JSON object described in the module docs.
pub fn details_json(err: &Error) -> Value {
    let mut m = Map::new();
    m.insert("kind".into(), json!(err.kind().name()));
    m.insert("kindCode".into(), json!(err.kind().code()));
    m.insert("message".into(), json!(err.message()));
    m.insert("status".into(), json!(err.status()));
    m.insert("errorCode".into(), json!(err.error_code()));
    m.insert("oauthError".into(), json!(err.oauth_error()));
    m.insert("oauthErrorDescription".into(), json!(err.oauth_error_description()));
    m.insert("fields".into(), json!(err.fields()));
    m.insert(
        "apiUsage".into(),
        match err.api_usage() {
            Some(u) => json!({ "used": u.used, "limit": u.limit }),
            None => Value::Null,
        },
    );
    m.insert(
        "retryAfterMs".into(),
        json!(err.retry_after().map(|d| d.as_millis() as u64)),
    );
    m.insert("rawBody".into(), json!(err.raw_body()));
    Value::Object(m)
}

/// Converts a core error into the napi error that `lib/errors.js` recognises.
pub fn to_napi(err: Error) -> napi::Error {
    let mut e = napi::Error::new(Status::GenericFailure, err.to_string());
    e.set_cause(napi::Error::new(
        Status::GenericFailure,
        format!("{DETAILS_PREFIX}{}", details_json(&err)),
    ));
    e
}

/// Shorthand: `core_result.map_err(to_napi)`.
pub trait IntoNapi<T> {
    /// Maps the error with [`to_napi`].
    fn napi(self) -> napi::Result<T>;
}

impl<T> IntoNapi<T> for Result<T, Error> {
    fn napi(self) -> napi::Result<T> {
        self.map_err(to_napi)
    }
}

/// A caller argument that does not have the documented shape (a typed `InvalidArgument`).
pub fn invalid_argument(message: impl Into<String>) -> napi::Error {
    to_napi(Error::invalid_argument(message))
}

/// A failure of the JavaScript token store (`operation` is `load`, `save` or `delete`): a rejected
/// Promise, a synchronous throw, a non-Promise return value or a result of the wrong shape. Always
/// [`ErrorKind::Store`]; the JS error's message is kept, nothing else from the JS value is.
pub fn store_error_from_js(operation: &str, err: napi::Error) -> Error {
    let reason = err.reason.trim();
    let reason = if reason.is_empty() { err.status.as_ref() } else { reason };
    Error::new(ErrorKind::Store, format!("the token store's {operation}() failed: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_carry_every_field() {
        let e = Error::new(ErrorKind::Api, "Field does not exist")
            .with_status(400)
            .with_error_code("INVALID_FIELD")
            .with_fields(vec!["Foo__c".into()]);
        let d = details_json(&e);
        assert_eq!(d["kind"], "api");
        assert_eq!(d["kindCode"], 301);
        assert_eq!(d["status"], 400);
        assert_eq!(d["errorCode"], "INVALID_FIELD");
        assert_eq!(d["fields"][0], "Foo__c");
        assert!(d["apiUsage"].is_null());
    }

    #[test]
    fn napi_error_has_message_and_cause() {
        let e = to_napi(Error::new(ErrorKind::ReconnectRequired, "reconnect").with_oauth("invalid_grant", None));
        assert_eq!(e.reason, "reconnect (invalid_grant)");
        let cause = e.cause.as_ref().expect("cause");
        assert!(cause.reason.starts_with(DETAILS_PREFIX));
        let v: Value = serde_json::from_str(&cause.reason[DETAILS_PREFIX.len()..]).unwrap();
        assert_eq!(v["kind"], "reconnect_required");
        assert_eq!(v["oauthError"], "invalid_grant");
    }
}
