//! The transport: one pooled reqwest client (rustls) shared by every call of a [`crate::Client`].
//!
//! - Idempotent GETs to the instance are retried on 5xx, timeouts, connection errors and truncated
//!   or unparsable 2xx bodies, with exponential backoff and full jitter, honouring `Retry-After`
//!   (seconds or HTTP-date) capped by [`RetryPolicy::max_backoff`] (`retry.rs`).
//! - Token-endpoint POSTs are retried only when the connection failed before the request was sent.
//! - Every response body, API or token endpoint, is read by one capped reader (`response.rs`).
//! - Every error body shape becomes a typed [`Error`] (`error_body.rs`): the REST array
//!   `[{"message","errorCode","fields"}]` (or a single such object), the OAuth object
//!   `{"error","error_description"}`, an HTML page, an empty body [salesforce-api.md §5, §2]
//!   (seed defect D5).
//! - `Sforce-Limit-Info` is parsed from every response into [`ApiUsage`] [salesforce-api.md §5],
//!   and every request is counted in [`ApiCallCounts`] ([`crate::usage`]).

mod bulk;
mod error_body;
mod response;
mod retry;

use std::time::{Duration, Instant};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::config::{Config, RetryPolicy};
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;
use crate::usage::UsageMeter;
use crate::usage::{ApiCallCounts, ApiUsage, CallKind};

use error_body::token_endpoint_error;
pub use error_body::{ParsedErrorBody, api_error, parse_error_body};
use response::{ReadFailure, decode_token_body, read_response};
pub(crate) use response::{Decoded, decode_value, unreadable_json};
pub use response::{MAX_RESPONSE_BYTES, MAX_TOKEN_RESPONSE_BYTES};
use retry::{backoff, next_wait};
pub(crate) use bulk::{BulkReply, BulkRequest};

/// Characters left as-is in a query-string value: RFC 3986 unreserved. Everything else is
/// percent-encoded, so `+` → `%2B` and space → `%20` (field case BR-12).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one query-string value (e.g. a SOQL statement for `?q=`).
pub(crate) fn encode_query_value(v: &str) -> String {
    utf8_percent_encode(v, QUERY_VALUE).to_string()
}

/// The shared HTTP transport. See the module docs.
pub struct Transport {
    http: reqwest::Client,
    retry: RetryPolicy,
    request_timeout: Duration,
    token_timeout: Duration,
    usage: UsageMeter,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("calls", &self.calls())
            .finish_non_exhaustive()
    }
}

/// What one GET attempt produced, before retry decisions.
enum Attempt<T> {
    Done(Result<T>),
    Retry {
        error: Error,
        retry_after: Option<Duration>,
    },
}

impl Transport {
    /// Builds the pooled client (rustls, no redirects followed so a bearer token never travels
    /// to a host it was not meant for).
    pub fn new(config: &Config) -> Result<Transport> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout())
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("sfcrm/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(Transport {
            http,
            retry: config.retry(),
            request_timeout: config.request_timeout(),
            token_timeout: config.token_timeout(),
            usage: UsageMeter::default(),
        })
    }

    /// A snapshot of the request counters.
    pub fn calls(&self) -> ApiCallCounts {
        self.usage.calls()
    }

    /// The last `Sforce-Limit-Info` seen on any response.
    pub(crate) fn last_usage(&self) -> Option<ApiUsage> {
        self.usage.last_usage()
    }

    fn note_usage(&self, headers: &HeaderMap) -> Option<ApiUsage> {
        self.usage
            .note_limit_info(headers.get("sforce-limit-info").and_then(|v| v.to_str().ok()))
    }

    /// Authenticated GET with the retry policy for idempotent requests; the 2xx body is decoded by
    /// `decode(status, text)` (query pages are read without building values; see `query::raw`).
    /// `headers` are extra request headers (e.g. `Sforce-Query-Options`).
    ///
    /// Errors: 401 → `SessionExpired` (status 401, errorCode usually `INVALID_SESSION_ID`; the
    /// client decides whether to refresh); 403 `REQUEST_LIMIT_EXCEEDED` → `RateLimited`; other
    /// 4xx/5xx → `Api`; connection → `Network`; timeout → `Timeout`; unparsable 2xx → `Protocol`.
    pub(crate) async fn get_decoded<T>(
        &self,
        url: &str,
        bearer: &Secret,
        headers: &[(&str, String)],
        kind: CallKind,
        decode: fn(u16, String) -> Decoded<T>,
    ) -> Result<T> {
        let mut attempt: u32 = 0;
        loop {
            self.usage.count(kind, attempt > 0);
            tracing::debug!(target: "sfcrm::http", method = "GET", url = %redact_url(url), attempt, "request");
            let mut req = self
                .http
                .get(url)
                .timeout(self.request_timeout)
                .bearer_auth(bearer.expose())
                .header("Accept", "application/json");
            for (k, v) in headers {
                req = req.header(*k, v.as_str());
            }
            let outcome = match req.send().await {
                Err(e) => Attempt::Retry {
                    error: transport_error(&e, url),
                    retry_after: None,
                },
                Ok(resp) => self.read_api_response(resp, decode).await,
            };
            match outcome {
                Attempt::Done(r) => return r,
                Attempt::Retry { error, retry_after } => {
                    let Some(wait) = next_wait(&self.retry, attempt, retry_after) else {
                        return Err(error);
                    };
                    tracing::debug!(target: "sfcrm::http", kind = %error.kind(), wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn read_api_response<T>(&self, resp: reqwest::Response, decode: fn(u16, String) -> Decoded<T>) -> Attempt<T> {
        let usage = self.note_usage(resp.headers());
        let r = match read_response(resp, MAX_RESPONSE_BYTES).await {
            Ok(r) => r,
            Err(ReadFailure::TooLarge(e)) => return Attempt::Done(Err(e)),
            // Body cut mid-way (connection reset, timeout while reading): retryable.
            Err(ReadFailure::Cut(cut)) => {
                return Attempt::Retry {
                    error: cut.api_error(),
                    retry_after: None,
                };
            }
        };
        let status = r.status;
        if status.is_success() {
            return match decode(status.as_u16(), r.text) {
                Decoded::Body(body) => Attempt::Done(Ok(body)),
                Decoded::Retry(error) => Attempt::Retry { error, retry_after: None },
                Decoded::Fail(error) => Attempt::Done(Err(error)),
            };
        }
        let err = api_error(status, &r.content_type, &r.text, usage, r.retry_after);
        if status.is_server_error() {
            Attempt::Retry {
                error: err,
                retry_after: r.retry_after,
            }
        } else {
            Attempt::Done(Err(err))
        }
    }

    /// POSTs a form to the token or revoke endpoint. Retried only when the connection failed
    /// before the request was sent: once a refresh request has reached Salesforce, a lost response
    /// under refresh token rotation would already have consumed the old refresh token, and a
    /// retry would present a rotated-out token, which revokes the whole token family
    /// [salesforce-api.md §2 RTR].
    ///
    /// Returns the parsed JSON body of a 2xx (`Value::Null` when empty). Errors are
    /// `ErrorKind::OAuth` with `oauth_error` / `oauth_error_description` / status for every error
    /// body shape (`Api` for a 5xx/429 without an OAuth error object); the raw body is kept aside
    /// for error responses only (never for a 2xx, which holds tokens).
    pub(crate) async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        kind: CallKind,
    ) -> Result<Value> {
        self.post_form_until(url, form, kind, None).await
    }

    /// [`Transport::post_form`] that starts no new attempt unless it can finish (backoff +
    /// `token_timeout`, which covers connecting) before `deadline`. The refresh grant passes the end of its refresh lease:
    /// an attempt that outlived the lease could race another process that took the lease over,
    /// and two uses of one refresh token under rotation revoke the whole token family.
    pub(crate) async fn post_form_until(
        &self,
        url: &str,
        form: &[(&str, &str)],
        kind: CallKind,
        deadline: Option<Instant>,
    ) -> Result<Value> {
        let body = form_encode(form);
        let mut attempt: u32 = 0;
        let resp = loop {
            self.usage.count(kind, attempt > 0);
            tracing::debug!(target: "sfcrm::http", method = "POST", url = %redact_url(url), ?kind, attempt, "request");
            let res = self
                .http
                .post(url)
                .timeout(self.token_timeout)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "application/json")
                .body(body.clone())
                .send()
                .await;
            let e = match res {
                Ok(r) => break r,
                Err(e) => e,
            };
            let err = transport_error(&e, url);
            if !e.is_connect() || attempt >= self.retry.max_retries {
                return Err(err);
            }
            let wait = backoff(&self.retry, attempt, None);
            let attempt_end = Instant::now().checked_add(wait.saturating_add(self.token_timeout));
            if deadline.is_some_and(|d| attempt_end.is_none_or(|end| end >= d)) {
                return Err(err);
            }
            tokio::time::sleep(wait).await;
            attempt += 1;
        };
        let usage = self.note_usage(resp.headers());
        let r = match read_response(resp, MAX_TOKEN_RESPONSE_BYTES).await {
            Ok(r) => r,
            Err(ReadFailure::TooLarge(e)) => return Err(e),
            Err(ReadFailure::Cut(cut)) => return Err(cut.token_error()),
        };
        if r.status.is_success() {
            return decode_token_body(r.status.as_u16(), &r.text);
        }
        // Not retried even when unavailable (5xx): the grant may have been processed (see above).
        Err(token_endpoint_error(r.status, &r.content_type, r.text, usage, r.retry_after))
    }
}

fn transport_error(e: &reqwest::Error, url: &str) -> Error {
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    if e.is_timeout() {
        Error::new(
            ErrorKind::Timeout,
            format!("the request to {host} timed out"),
        )
    } else if e.is_connect() {
        let cause = innermost_cause(e);
        if cause.to_ascii_lowercase().contains("certificate") {
            Error::new(
                ErrorKind::Network,
                format!(
                    "could not connect to {host}: its TLS certificate was not accepted ({cause}); \
                     if the host uses a private CA, trust it through SSL_CERT_FILE"
                ),
            )
        } else if cause.is_empty() {
            Error::new(ErrorKind::Network, format!("could not connect to {host}"))
        } else {
            Error::new(ErrorKind::Network, format!("could not connect to {host} ({cause})"))
        }
    } else {
        Error::new(ErrorKind::Network, format!("the request to {host} failed"))
    }
    // reqwest errors carry the URL (which may hold a query but never a token); keep them out anyway.
}

/// The text of the innermost error under a reqwest error (e.g. `Connection refused (os error 111)`
/// or rustls' `invalid peer certificate: UnknownIssuer`): never the URL, which only the outer
/// reqwest error carries.
fn innermost_cause(e: &reqwest::Error) -> String {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    let mut text = String::new();
    while let Some(c) = cause {
        text = c.to_string();
        cause = c.source();
    }
    text
}

/// `application/x-www-form-urlencoded` body (space → `+`, everything else per the spec).
fn form_encode(form: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in form {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The URL without its query (for logs: a query may hold SOQL with customer data).
fn redact_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?…"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_encoding_br12() {
        let q = "SELECT Id FROM Account WHERE LastModifiedDate >= 2013-12-01T12:00:00+00:00";
        let e = encode_query_value(q);
        assert!(e.contains("%2B00%3A00"));
        assert!(e.contains("SELECT%20Id"));
        assert!(!e.contains('+'));
        assert!(!e.contains(' '));
    }
}
