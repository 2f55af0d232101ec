//! Reading a response: [`read_response`], the one capped body read of every endpoint (API GETs
//! and token/revoke POSTs), and the decoders of a 2xx body.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::error_body::too_large;
use super::retry::parse_retry_after;
use crate::error::{Error, ErrorKind, Result};

/// The largest API response body read (bytes, 128 MiB). A query page is at most 2,000 records
/// [salesforce-api.md §4]; a longer body is refused with `Protocol` (lower the batch size) instead
/// of being buffered, so a broken or hostile server cannot exhaust memory.
pub const MAX_RESPONSE_BYTES: usize = 128 * 1024 * 1024;

/// The largest token/revoke endpoint response body read (bytes, 1 MiB).
pub const MAX_TOKEN_RESPONSE_BYTES: usize = 1024 * 1024;

/// A response read in full: what the callers decide on.
pub(crate) struct ReadResponse {
    /// The HTTP status.
    pub(crate) status: StatusCode,
    /// `Content-Type` (empty when absent or not text).
    pub(crate) content_type: String,
    /// `Retry-After`, when sent.
    pub(crate) retry_after: Option<Duration>,
    /// The body, as UTF-8 (invalid sequences replaced with U+FFFD).
    pub(crate) text: String,
}

/// Why a body could not be read.
pub(crate) enum ReadFailure {
    /// Over the cap: a `Protocol` error (refused at once, never retried).
    TooLarge(Error),
    /// Cut off mid-way (connection reset, timeout while reading).
    Cut(BodyCut),
}

/// A body cut off mid-way, turned into an error by the side that read it.
pub(crate) struct BodyCut {
    status: u16,
    source: reqwest::Error,
}

impl BodyCut {
    /// An instance (API) response: `Timeout` or `Network` (with the cause), retryable.
    pub(crate) fn api_error(self) -> Error {
        if self.source.is_timeout() {
            Error::new(ErrorKind::Timeout, "Salesforce did not finish sending the response in time")
        } else {
            Error::new(ErrorKind::Network, "the response body was cut off").with_source(self.source)
        }
        .with_status(self.status)
    }

    /// A token or revoke endpoint response: `Timeout` or `Network`.
    pub(crate) fn token_error(self) -> Error {
        if self.source.is_timeout() {
            Error::new(ErrorKind::Timeout, "the token endpoint did not finish its response in time")
        } else {
            Error::new(ErrorKind::Network, "the token endpoint response was cut off")
        }
        .with_status(self.status)
    }
}

/// Reads a response: status, `Content-Type`, `Retry-After`, and the body up to `cap` bytes
/// (refusing at once when `Content-Length` says more), decoded as UTF-8 with invalid sequences
/// replaced by U+FFFD. `Sforce-Limit-Info` is the transport's to note before calling this.
pub(crate) async fn read_response(resp: reqwest::Response, cap: usize) -> std::result::Result<ReadResponse, ReadFailure> {
    let (r, buf) = read_response_bytes(resp, cap).await?;
    let text = String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    tracing::trace!(target: "sfcrm::http", status = r.status.as_u16(), bytes = text.len(), "response");
    Ok(ReadResponse { text, ..r })
}

/// [`read_response`] without the UTF-8 step: the body's bytes as received (e.g. gzip), with an
/// empty `text`.
pub(crate) async fn read_response_bytes(
    mut resp: reqwest::Response,
    cap: usize,
) -> std::result::Result<(ReadResponse, Vec<u8>), ReadFailure> {
    let status = resp.status();
    let retry_after = parse_retry_after(resp.headers());
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let too_large = || ReadFailure::TooLarge(too_large(status.as_u16(), cap));
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(too_large());
    }
    // Sized once from Content-Length when sent (capped), so a 1 MB page is not regrown and
    // copied chunk by chunk.
    let mut buf: Vec<u8> = Vec::with_capacity(resp.content_length().map_or(0, |n| n as usize).min(cap));
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if buf.len() + chunk.len() > cap {
                    return Err(too_large());
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(source) => {
                return Err(ReadFailure::Cut(BodyCut { status: status.as_u16(), source }));
            }
        }
    }
    Ok((ReadResponse { status, content_type, retry_after, text: String::new() }, buf))
}

/// What a body decoder made of a 2xx body (see [`super::Transport::get_decoded`]).
pub(crate) enum Decoded<T> {
    /// The body.
    Body(T),
    /// Unreadable, e.g. cut off mid-way: retried like a failed connection.
    Retry(Error),
    /// Readable but not what the endpoint promises: returned at once.
    Fail(Error),
}

/// The decoder of any JSON resource ([`crate::Client::api_get_json`]): an empty body (204) is
/// `Value::Null`.
pub(crate) fn decode_value(status: u16, text: String) -> Decoded<Value> {
    if text.trim().is_empty() {
        return Decoded::Body(Value::Null);
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(body) => Decoded::Body(body),
        Err(e) => Decoded::Retry(unreadable_json(status, e, text)),
    }
}

/// `Protocol`: a 2xx body that is not valid JSON (kept as the error's raw body).
pub(crate) fn unreadable_json(status: u16, e: serde_json::Error, text: String) -> Error {
    Error::new(
        ErrorKind::Protocol,
        "Salesforce returned an unreadable JSON body (cut off or not JSON)",
    )
    .with_status(status)
    .with_source(e)
    .with_raw_body(text)
}

/// A 2xx token or revoke endpoint body: JSON, `Value::Null` when empty. An unreadable one is
/// `Protocol` WITHOUT the body attached: a 2xx token body holds tokens.
pub(crate) fn decode_token_body(status: u16, text: &str) -> Result<Value> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str::<Value>(text).map_err(|_| {
        Error::new(
            ErrorKind::Protocol,
            "the token endpoint returned an unreadable JSON body",
        )
        .with_status(status)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_token_body_never_keeps_the_body() {
        let e = decode_token_body(200, r#"{"access_token":"00DFAKE!TOK"#).unwrap_err();
        assert_eq!((e.kind(), e.status(), e.raw_body()), (ErrorKind::Protocol, Some(200), None));
        assert_eq!(decode_token_body(200, " ").unwrap(), Value::Null);
        assert!(matches!(decode_value(204, String::new()), Decoded::Body(Value::Null)));
        match decode_value(200, "{\"a\":".into()) {
            Decoded::Retry(e) => assert_eq!((e.kind(), e.raw_body()), (ErrorKind::Protocol, Some("{\"a\":"))),
            _ => panic!("a cut-off API body is retried"),
        }
    }
}
