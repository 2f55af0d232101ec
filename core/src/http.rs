//! The transport: one pooled reqwest client (rustls) shared by every call of a [`crate::Client`].
//!
//! - Idempotent GETs to the instance are retried on 5xx, timeouts, connection errors and truncated
//!   or unparsable 2xx bodies, with exponential backoff and full jitter, honouring `Retry-After`
//!   (seconds or HTTP-date) capped by [`RetryPolicy::max_backoff`].
//! - Token-endpoint POSTs are retried only when the connection failed before the request was sent.
//! - Every error body shape becomes a typed [`Error`]: the REST array
//!   `[{"message","errorCode","fields"}]` (or a single such object), the OAuth object
//!   `{"error","error_description"}`, an HTML page, an empty body [salesforce-api.md §5, §2]
//!   (seed defect D5).
//! - `Sforce-Limit-Info` is parsed from every response into [`ApiUsage`] [salesforce-api.md §5].
//! - Every request is counted in [`ApiCallCounts`].

use std::time::{Duration, SystemTime};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;

use crate::config::{Config, RetryPolicy};
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;
pub use crate::usage::{ApiCallCounts, ApiUsage, CallKind, PerAppUsage};
use crate::usage::UsageMeter;

/// Characters left as-is in a query-string value: RFC 3986 unreserved. Everything else is
/// percent-encoded, so `+` → `%2B` and space → `%20` (field case BR-12).
pub const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one query-string value (e.g. a SOQL statement for `?q=`).
pub fn encode_query_value(v: &str) -> String {
    utf8_percent_encode(v, QUERY_VALUE).to_string()
}

/// A successful JSON response.
#[derive(Debug)]
pub struct JsonResponse<T = Value> {
    /// HTTP status (2xx).
    pub status: u16,
    /// Parsed body (`Value::Null` for an empty 2xx body such as 204).
    pub body: T,
    /// Parsed `Sforce-Limit-Info`, if sent.
    pub usage: Option<ApiUsage>,
}

/// What a body decoder made of a 2xx body (see [`Transport::get_decoded`]).
pub(crate) enum Decoded<T> {
    /// The body.
    Body(T),
    /// Unreadable, e.g. cut off mid-way: retried like a failed connection.
    Retry(Error),
    /// Readable but not what the endpoint promises: returned at once.
    Fail(Error),
}

/// The decoder of [`Transport::get_json`]: any JSON value; an empty body is `Value::Null`.
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

/// What one attempt produced, before retry decisions.
enum Attempt<T> {
    Done(Result<JsonResponse<T>>),
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
    pub fn last_usage(&self) -> Option<ApiUsage> {
        self.usage.last_usage()
    }

    fn count(&self, kind: CallKind, retry: bool) {
        self.usage.count(kind, retry);
    }

    fn note_usage(&self, headers: &HeaderMap) -> Option<ApiUsage> {
        self.usage
            .note_limit_info(headers.get("sforce-limit-info").and_then(|v| v.to_str().ok()))
    }

    /// Authenticated GET returning JSON, with the retry policy for idempotent requests.
    /// `headers` are extra request headers (e.g. `Sforce-Query-Options`).
    ///
    /// Errors: 401 → `SessionExpired` (status 401, errorCode usually `INVALID_SESSION_ID`; the
    /// client decides whether to refresh); 403 `REQUEST_LIMIT_EXCEEDED` → `RateLimited`; other
    /// 4xx/5xx → `Api`; connection → `Network`; timeout → `Timeout`; unparsable 2xx → `Protocol`.
    pub async fn get_json(
        &self,
        url: &str,
        bearer: &Secret,
        headers: &[(&str, String)],
        kind: CallKind,
    ) -> Result<JsonResponse> {
        self.get_decoded(url, bearer, headers, kind, decode_value).await
    }

    /// [`Transport::get_json`] with the 2xx body decoded by `decode(status, text)` (query pages
    /// are read without building values; see `export::raw`).
    pub(crate) async fn get_decoded<T>(
        &self,
        url: &str,
        bearer: &Secret,
        headers: &[(&str, String)],
        kind: CallKind,
        decode: fn(u16, String) -> Decoded<T>,
    ) -> Result<JsonResponse<T>> {
        let mut attempt: u32 = 0;
        loop {
            self.count(kind, attempt > 0);
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
                    if attempt >= self.retry.max_retries {
                        return Err(error);
                    }
                    // Retrying sooner than the server asked would not honour Retry-After: a
                    // longer wait than our backoff allows is the caller's decision (the error
                    // carries `retry_after`).
                    if retry_after.is_some_and(|ra| ra > self.retry.max_backoff) {
                        return Err(error);
                    }
                    let wait = backoff(&self.retry, attempt, retry_after);
                    tracing::debug!(target: "sfcrm::http", kind = %error.kind(), wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn read_api_response<T>(&self, resp: reqwest::Response, decode: fn(u16, String) -> Decoded<T>) -> Attempt<T> {
        let status = resp.status();
        let usage = self.note_usage(resp.headers());
        let retry_after = parse_retry_after(resp.headers());
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let text = match read_body_capped(resp, MAX_RESPONSE_BYTES).await {
            Ok(t) => t,
            Err(BodyError::TooLarge) => {
                return Attempt::Done(Err(too_large(status.as_u16(), MAX_RESPONSE_BYTES)));
            }
            Err(BodyError::Read(e)) => {
                // Body cut mid-way (connection reset, timeout while reading): retryable.
                let err = if e.is_timeout() {
                    Error::new(
                        ErrorKind::Timeout,
                        "Salesforce did not finish sending the response in time",
                    )
                } else {
                    Error::new(ErrorKind::Network, "the response body was cut off").with_source(e)
                };
                return Attempt::Retry {
                    error: err.with_status(status.as_u16()),
                    retry_after: None,
                };
            }
        };
        tracing::trace!(target: "sfcrm::http", status = status.as_u16(), bytes = text.len(), "response");
        if status.is_success() {
            return match decode(status.as_u16(), text) {
                Decoded::Body(body) => Attempt::Done(Ok(JsonResponse {
                    status: status.as_u16(),
                    body,
                    usage,
                })),
                Decoded::Retry(error) => Attempt::Retry { error, retry_after: None },
                Decoded::Fail(error) => Attempt::Done(Err(error)),
            };
        }
        let err = api_error(status, &content_type, &text, usage, retry_after);
        if status.is_server_error() {
            Attempt::Retry {
                error: err,
                retry_after,
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
    /// Returns the parsed JSON body for a 2xx (`Value::Null` when empty). Errors are
    /// `ErrorKind::OAuth` with `oauth_error` / `oauth_error_description` / status for every error
    /// body shape; the raw body is kept aside for error responses only (never for a 2xx, which
    /// holds tokens).
    pub async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        kind: CallKind,
    ) -> Result<JsonResponse> {
        self.post_form_until(url, form, kind, None).await
    }

    /// [`Transport::post_form`] that starts no new attempt unless it can finish (backoff +
    /// `token_timeout`, which covers connecting) before `deadline`. The refresh grant passes the end of its refresh lease:
    /// an attempt that outlived the lease could race another process that took the lease over,
    /// and two uses of one refresh token under rotation revoke the whole token family.
    pub async fn post_form_until(
        &self,
        url: &str,
        form: &[(&str, &str)],
        kind: CallKind,
        deadline: Option<std::time::Instant>,
    ) -> Result<JsonResponse> {
        let body = form_encode(form);
        let mut attempt: u32 = 0;
        loop {
            self.count(kind, attempt > 0);
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
            let resp = match res {
                Ok(r) => r,
                Err(e) => {
                    let err = transport_error(&e, url);
                    if e.is_connect() && attempt < self.retry.max_retries {
                        let wait = backoff(&self.retry, attempt, None);
                        let worst_case = wait + self.token_timeout;
                        if deadline.is_some_and(|d| std::time::Instant::now() + worst_case >= d) {
                            return Err(err);
                        }
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(err);
                }
            };
            let status = resp.status();
            let retry_after = parse_retry_after(resp.headers());
            let usage = self.note_usage(resp.headers());
            let content_type = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let text = match read_body_capped(resp, MAX_TOKEN_RESPONSE_BYTES).await {
                Ok(t) => t,
                Err(BodyError::TooLarge) => {
                    return Err(too_large(status.as_u16(), MAX_TOKEN_RESPONSE_BYTES));
                }
                Err(BodyError::Read(e)) => {
                    return Err(if e.is_timeout() {
                        Error::new(
                            ErrorKind::Timeout,
                            "the token endpoint did not finish its response in time",
                        )
                    } else {
                        Error::new(
                            ErrorKind::Network,
                            "the token endpoint response was cut off",
                        )
                    }
                    .with_status(status.as_u16()));
                }
            };
            if status.is_success() {
                if text.trim().is_empty() {
                    return Ok(JsonResponse {
                        status: status.as_u16(),
                        body: Value::Null,
                        usage,
                    });
                }
                // Never attach a 2xx token body to an error: it holds tokens.
                return serde_json::from_str::<Value>(&text)
                    .map(|body| JsonResponse {
                        status: status.as_u16(),
                        body,
                        usage,
                    })
                    .map_err(|_| {
                        Error::new(
                            ErrorKind::Protocol,
                            "the token endpoint returned an unreadable JSON body",
                        )
                        .with_status(status.as_u16())
                    });
            }
            let parsed = parse_error_body(status.as_u16(), &content_type, &text);
            // A maintenance page or overload (5xx, 429) without an OAuth error object is the
            // service being unavailable, not a refusal: `Api`, transient, with `Retry-After`. It is
            // still not retried here (the grant may have been processed; see above).
            let unavailable = parsed.oauth_error.is_none() && (status.is_server_error() || status.as_u16() == 429);
            let kind = if unavailable { ErrorKind::Api } else { ErrorKind::OAuth };
            let mut err = Error::new(kind, parsed.message.clone())
                .with_status(status.as_u16())
                .with_retry_after(retry_after);
            if let Some(oe) = parsed.oauth_error.clone() {
                err = err.with_oauth(oe, parsed.oauth_description.clone());
            }
            if let Some(code) = parsed.error_code.clone() {
                err = err.with_error_code(code);
            }
            return Err(err
                .with_fields(parsed.fields)
                .with_api_usage(usage)
                .with_raw_body(text));
        }
    }
}

/// The largest API response body read (bytes, 128 MiB). A query page is at most 2,000 records
/// [salesforce-api.md §4]; a longer body is refused with `Protocol` (lower the batch size) instead
/// of being buffered, so a broken or hostile server cannot exhaust memory.
pub const MAX_RESPONSE_BYTES: usize = 128 * 1024 * 1024;

/// The largest token/revoke endpoint response body read (bytes, 1 MiB).
pub const MAX_TOKEN_RESPONSE_BYTES: usize = 1024 * 1024;

enum BodyError {
    TooLarge,
    Read(reqwest::Error),
}

/// Reads a response body up to `cap` bytes (refusing at once when `Content-Length` says more),
/// then decodes it as UTF-8, replacing invalid sequences with U+FFFD.
async fn read_body_capped(mut resp: reqwest::Response, cap: usize) -> std::result::Result<String, BodyError> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(BodyError::TooLarge);
    }
    // Sized once from Content-Length when sent (capped), so a 1 MB page is not regrown and
    // copied chunk by chunk.
    let mut buf: Vec<u8> = Vec::with_capacity(resp.content_length().map_or(0, |n| n as usize).min(cap));
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Read)? {
        if buf.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

fn too_large(status: u16, cap: usize) -> Error {
    Error::new(
        ErrorKind::Protocol,
        format!("the response body is larger than {} MiB; refused (lower the batch size)", cap / (1024 * 1024)),
    )
    .with_status(status)
}

/// The parsed content of an error body, whatever its shape.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedErrorBody {
    /// Short human message (never empty).
    pub message: String,
    /// REST `errorCode` (first element of the array).
    pub error_code: Option<String>,
    /// REST `fields`.
    pub fields: Vec<String>,
    /// OAuth `error`.
    pub oauth_error: Option<String>,
    /// OAuth `error_description`.
    pub oauth_description: Option<String>,
}

/// Parses any error body Salesforce (or a proxy in front of it) sends: REST array, single REST
/// object, OAuth object, HTML page, empty body, other text. Never fails [seed defect D5].
pub fn parse_error_body(status: u16, content_type: &str, text: &str) -> ParsedErrorBody {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return ParsedErrorBody {
            message: format!("HTTP {status} with an empty body"),
            ..Default::default()
        };
    }
    if let Ok(v) = serde_json::from_str::<Value>(trimmed) {
        let first = match &v {
            Value::Array(items) => items.first().cloned(),
            Value::Object(_) => Some(v.clone()),
            _ => None,
        };
        if let Some(Value::Object(obj)) = first {
            let s = |k: &str| {
                obj.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .filter(|s| !s.is_empty())
            };
            let fields = obj
                .get("fields")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|f| f.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let error_code = s("errorCode");
            let oauth_error = s("error");
            let oauth_description = s("error_description");
            let message = s("message")
                .or_else(|| oauth_description.clone())
                .or_else(|| oauth_error.clone())
                .or_else(|| error_code.clone())
                .unwrap_or_else(|| format!("HTTP {status} with an unrecognised JSON error body"));
            let mut message = message;
            if let Value::Array(items) = &v
                && items.len() > 1
            {
                message = format!("{message} (and {} more errors)", items.len() - 1);
            }
            return ParsedErrorBody {
                message,
                error_code,
                fields,
                oauth_error,
                oauth_description,
            };
        }
        return ParsedErrorBody {
            message: format!("HTTP {status} with an unrecognised JSON error body"),
            ..Default::default()
        };
    }
    let lower_start: String = trimmed
        .chars()
        .take(200)
        .collect::<String>()
        .to_ascii_lowercase();
    if content_type.to_ascii_lowercase().contains("html")
        || lower_start.starts_with("<!doctype html")
        || lower_start.starts_with("<html")
        || lower_start.contains("<html")
    {
        return ParsedErrorBody {
            message: format!("Salesforce returned an HTML error page (HTTP {status})"),
            ..Default::default()
        };
    }
    // Plain text: keep a short first line.
    let line: String = trimmed
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    ParsedErrorBody {
        message: format!("HTTP {status}: {line}"),
        ..Default::default()
    }
}

/// Maps a non-2xx API response to an [`Error`] (see [`Transport::get_json`] for the kinds).
pub fn api_error(
    status: StatusCode,
    content_type: &str,
    text: &str,
    usage: Option<ApiUsage>,
    retry_after: Option<Duration>,
) -> Error {
    let code = status.as_u16();
    let parsed = parse_error_body(code, content_type, text);
    let kind = match (code, parsed.error_code.as_deref()) {
        (401, _) => ErrorKind::SessionExpired,
        (403, Some("REQUEST_LIMIT_EXCEEDED")) => ErrorKind::RateLimited,
        (429, _) => ErrorKind::RateLimited,
        _ => ErrorKind::Api,
    };
    let mut err = Error::new(kind, parsed.message)
        .with_status(code)
        .with_fields(parsed.fields);
    if let Some(c) = parsed.error_code {
        err = err.with_error_code(c);
    }
    if let Some(oe) = parsed.oauth_error {
        err = err.with_oauth(oe, parsed.oauth_description);
    }
    err.with_api_usage(usage)
        .with_retry_after(retry_after)
        .with_raw_body(text)
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

/// Full-jitter exponential backoff: random in `0..=min(max, initial * 2^attempt)`; a server's
/// `Retry-After` wins when present (capped by `max_backoff`).
pub fn backoff(policy: &RetryPolicy, attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(ra) = retry_after {
        return ra.min(policy.max_backoff);
    }
    let exp = policy
        .initial_backoff
        .saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX));
    let cap = exp.min(policy.max_backoff);
    let ms = cap.as_millis() as u64;
    if ms == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(rand::rng().random_range(0..=ms))
}

/// `Retry-After` as delay-seconds or an HTTP-date.
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// `application/x-www-form-urlencoded` body (space → `+`, everything else per the spec).
pub fn form_encode(form: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in form {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The URL without its query (for logs: a query may hold SOQL with customer data).
pub fn redact_url(url: &str) -> String {
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

    #[test]
    fn error_body_shapes() {
        let p = parse_error_body(
            401,
            "application/json",
            r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#,
        );
        assert_eq!(p.error_code.as_deref(), Some("INVALID_SESSION_ID"));
        assert_eq!(p.message, "Session expired or invalid");
        let p = parse_error_body(
            400,
            "",
            r#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#,
        );
        assert_eq!(p.oauth_error.as_deref(), Some("invalid_grant"));
        assert_eq!(p.message, "expired access/refresh token");
        let p = parse_error_body(503, "text/html", "<html><body>Down</body></html>");
        assert_eq!(
            p.message,
            "Salesforce returned an HTML error page (HTTP 503)"
        );
        let p = parse_error_body(401, "", "");
        assert_eq!(p.message, "HTTP 401 with an empty body");
        let p = parse_error_body(
            400,
            "",
            r#"{"message":"bad","errorCode":"X","fields":["A"]}"#,
        );
        assert_eq!(
            (p.error_code.as_deref(), p.fields.clone()),
            (Some("X"), vec!["A".to_string()])
        );
        let p = parse_error_body(400, "", "[]");
        assert!(!p.message.is_empty());
        let p = parse_error_body(502, "text/plain", "Bad gateway\nmore");
        assert_eq!(p.message, "HTTP 502: Bad gateway");
    }

    #[test]
    fn kinds_from_status() {
        let e = api_error(
            StatusCode::FORBIDDEN,
            "",
            r#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#,
            None,
            None,
        );
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        let e = api_error(
            StatusCode::FORBIDDEN,
            "",
            r#"[{"message":"The REST API is not enabled for this Organization.","errorCode":"API_DISABLED_FOR_ORG"}]"#,
            None,
            None,
        );
        assert_eq!(e.kind(), ErrorKind::Api);
        let e = api_error(StatusCode::UNAUTHORIZED, "", "", None, None);
        assert_eq!(e.kind(), ErrorKind::SessionExpired);
        assert_eq!(e.raw_body(), Some(""));
    }

    #[test]
    fn backoff_is_bounded_and_honours_retry_after() {
        let p = RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
        };
        for a in 0..30 {
            assert!(backoff(&p, a, None) <= Duration::from_millis(500));
        }
        assert_eq!(
            backoff(&p, 0, Some(Duration::from_secs(60))),
            Duration::from_millis(500)
        );
        assert_eq!(
            backoff(&p, 0, Some(Duration::from_millis(10))),
            Duration::from_millis(10)
        );
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(parse_retry_after(&h), Some(Duration::from_secs(7)));
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        h.insert(RETRY_AFTER, future.parse().unwrap());
        let d = parse_retry_after(&h).unwrap();
        assert!(d > Duration::from_secs(25) && d <= Duration::from_secs(30));
    }
}
