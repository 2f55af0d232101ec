//! The one error type of the SDK.
//!
//! Every failure is an [`Error`] with an [`ErrorKind`] (what went wrong, and so what the caller
//! should do), a short human message, and where they apply: the HTTP status, the Salesforce
//! `errorCode` (REST error array, e.g. `INVALID_SESSION_ID`), the OAuth `error` / `error_description`
//! (token endpoint object, e.g. `invalid_grant`), the fields named by Salesforce, the parsed
//! `Sforce-Limit-Info`, a `Retry-After` delay, and the raw response body kept aside (never for a
//! successful token response, so no token can leak through it).
//!
//! The kinds and their numeric codes are mirrored by the C ABI, Python exceptions and Node error
//! classes; [`ErrorKind::code`] and [`ErrorKind::name`] are stable.

use std::fmt;
use std::time::Duration;

use crate::usage::ApiUsage;

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong. Stable: values are never renumbered or reused (the C ABI exposes `code()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A caller-supplied argument is malformed (empty key, bad page value, bad checkpoint, ...).
    InvalidArgument,
    /// Configuration is missing or malformed; the message names the setting or environment variable.
    Config,
    /// `login` was called without a forward URL (the seed's "Please provide forward_url").
    MissingForwardUrl,
    /// The forward URL is not http(s) or its origin is not in the configured allow-list.
    ForwardUrlNotAllowed,
    /// The OAuth `state` is missing, tampered with, expired or signed with another algorithm
    /// (the seed's "Invalid State").
    InvalidState,
    /// The export type is not one of `contacts`, `deals`, `notes` (seed's message kept).
    UnknownExportType,
    /// An sObject or field name fails Salesforce's identifier rules; nothing was sent.
    InvalidIdentifier,
    /// No stored connection for this (account_id, owner) (the seed's "Access Token Not Found" /
    /// "Api Token Not Found").
    NotConnected,
    /// The token endpoint refused a request (`{"error","error_description"}`), other than a dead
    /// refresh token, e.g. `invalid_grant` for a reused authorization code.
    OAuth,
    /// The refresh token is revoked, expired or rotated out (`invalid_grant` on refresh), or the
    /// connection is marked invalidated: send the user through `login` again.
    ReconnectRequired,
    /// The access token was refused (401 `INVALID_SESSION_ID`) and could not be renewed (e.g. no
    /// refresh token was granted).
    SessionExpired,
    /// 403 `REQUEST_LIMIT_EXCEEDED`: the org's API quota or concurrency cap; carries `api_usage`.
    RateLimited,
    /// Salesforce answered with an error (REST error array): `status`, `error_code`, `fields`.
    Api,
    /// Connection refused/reset, DNS, TLS, or a truncated body, after the retries allowed.
    Network,
    /// A request did not complete within the configured timeout, after the retries allowed.
    Timeout,
    /// A success response that does not have the documented shape.
    Protocol,
    /// The token store failed (callback raised, I/O error, garbage document, seal/unseal failure).
    Store,
    /// Another process kept winning the compare-and-swap on the stored connection for longer than
    /// the configured bound.
    StoreConflict,
    /// The operation was cancelled by the caller.
    Cancelled,
    /// Writing an export (file, callback) failed.
    Io,
    /// A bug inside the SDK (e.g. a panic caught at the C boundary).
    Internal,
}

impl ErrorKind {
    /// Stable numeric code, grouped by area (1xx caller input, 2xx OAuth/connection, 3xx Salesforce
    /// API, 4xx transport, 5xx host integration, 9xx internal). Never reused.
    pub fn code(self) -> u32 {
        match self {
            ErrorKind::InvalidArgument => 100,
            ErrorKind::Config => 101,
            ErrorKind::MissingForwardUrl => 102,
            ErrorKind::ForwardUrlNotAllowed => 103,
            ErrorKind::UnknownExportType => 104,
            ErrorKind::InvalidIdentifier => 105,
            ErrorKind::InvalidState => 200,
            ErrorKind::NotConnected => 201,
            ErrorKind::OAuth => 202,
            ErrorKind::ReconnectRequired => 203,
            ErrorKind::SessionExpired => 204,
            ErrorKind::RateLimited => 300,
            ErrorKind::Api => 301,
            ErrorKind::Protocol => 302,
            ErrorKind::Network => 400,
            ErrorKind::Timeout => 401,
            ErrorKind::Store => 500,
            ErrorKind::StoreConflict => 501,
            ErrorKind::Io => 502,
            ErrorKind::Cancelled => 503,
            ErrorKind::Internal => 900,
        }
    }

    /// Stable snake_case name (used as `code` in Node errors and `kind` in Python).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::Config => "config",
            ErrorKind::MissingForwardUrl => "missing_forward_url",
            ErrorKind::ForwardUrlNotAllowed => "forward_url_not_allowed",
            ErrorKind::InvalidState => "invalid_state",
            ErrorKind::UnknownExportType => "unknown_export_type",
            ErrorKind::InvalidIdentifier => "invalid_identifier",
            ErrorKind::NotConnected => "not_connected",
            ErrorKind::OAuth => "oauth",
            ErrorKind::ReconnectRequired => "reconnect_required",
            ErrorKind::SessionExpired => "session_expired",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Api => "api",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Store => "store",
            ErrorKind::StoreConflict => "store_conflict",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Io => "io",
            ErrorKind::Internal => "internal",
        }
    }

    /// Stable exception class name of this kind, the same in every binding: Python's
    /// `sfcrm.<class_name>` and Node's `require('sfcrm').<class_name>` are the class of this kind
    /// (each binding's tests compare its classes with this list). The names avoid shadowing the
    /// languages' own classes: `RequestTimeout` (not `TimeoutError`, a Python builtin),
    /// `ExportWriteError` (not `IOError`), `Cancelled` (not `asyncio.CancelledError`).
    pub fn class_name(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "InvalidArgumentError",
            ErrorKind::Config => "ConfigError",
            ErrorKind::MissingForwardUrl => "MissingForwardUrl",
            ErrorKind::ForwardUrlNotAllowed => "ForwardUrlNotAllowed",
            ErrorKind::InvalidState => "InvalidState",
            ErrorKind::UnknownExportType => "UnknownExportType",
            ErrorKind::InvalidIdentifier => "InvalidIdentifier",
            ErrorKind::NotConnected => "NotConnected",
            ErrorKind::OAuth => "OAuthError",
            ErrorKind::ReconnectRequired => "ReconnectRequired",
            ErrorKind::SessionExpired => "SessionExpired",
            ErrorKind::RateLimited => "RateLimited",
            ErrorKind::Api => "ApiError",
            ErrorKind::Network => "NetworkError",
            ErrorKind::Timeout => "RequestTimeout",
            ErrorKind::Protocol => "ProtocolError",
            ErrorKind::Store => "StoreError",
            ErrorKind::StoreConflict => "StoreConflict",
            ErrorKind::Cancelled => "Cancelled",
            ErrorKind::Io => "ExportWriteError",
            ErrorKind::Internal => "InternalError",
        }
    }

    /// Every kind, in code order (for bindings that generate their exception tables).
    pub const ALL: [ErrorKind; 21] = [
        ErrorKind::InvalidArgument,
        ErrorKind::Config,
        ErrorKind::MissingForwardUrl,
        ErrorKind::ForwardUrlNotAllowed,
        ErrorKind::UnknownExportType,
        ErrorKind::InvalidIdentifier,
        ErrorKind::InvalidState,
        ErrorKind::NotConnected,
        ErrorKind::OAuth,
        ErrorKind::ReconnectRequired,
        ErrorKind::SessionExpired,
        ErrorKind::RateLimited,
        ErrorKind::Api,
        ErrorKind::Protocol,
        ErrorKind::Network,
        ErrorKind::Timeout,
        ErrorKind::Store,
        ErrorKind::StoreConflict,
        ErrorKind::Io,
        ErrorKind::Cancelled,
        ErrorKind::Internal,
    ];
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The largest raw body kept on an error (bytes); longer bodies are cut at a char boundary.
pub const RAW_BODY_LIMIT: usize = 64 * 1024;

/// An SDK error: a kind plus everything Salesforce said about it. See the module docs.
///
/// One pointer wide (the details live in one heap block), so `Result<T, Error>` stays small on
/// every hot path.
pub struct Error(Box<Details>);

struct Details {
    kind: ErrorKind,
    message: String,
    status: Option<u16>,
    error_code: Option<String>,
    oauth_error: Option<String>,
    oauth_error_description: Option<String>,
    fields: Vec<String>,
    api_usage: Option<ApiUsage>,
    retry_after: Option<Duration>,
    raw_body: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// A new error of `kind` with a short message (what happened and what to do).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error(Box::new(Details {
            kind,
            message: message.into(),
            status: None,
            error_code: None,
            oauth_error: None,
            oauth_error_description: None,
            fields: Vec::new(),
            api_usage: None,
            retry_after: None,
            raw_body: None,
            source: None,
        }))
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.0.status = Some(status);
        self
    }
    /// Sets the Salesforce `errorCode` (REST error array).
    pub fn with_error_code(mut self, code: impl Into<String>) -> Self {
        self.0.error_code = Some(code.into());
        self
    }
    /// Sets the OAuth `error` and `error_description` (token endpoint object).
    pub fn with_oauth(mut self, error: impl Into<String>, description: Option<String>) -> Self {
        self.0.oauth_error = Some(error.into());
        self.0.oauth_error_description = description;
        self
    }
    /// Sets the fields Salesforce named in the error.
    pub fn with_fields(mut self, fields: Vec<String>) -> Self {
        self.0.fields = fields;
        self
    }
    /// Sets the API usage parsed from `Sforce-Limit-Info`.
    pub fn with_api_usage(mut self, usage: Option<ApiUsage>) -> Self {
        self.0.api_usage = usage;
        self
    }
    /// Sets the `Retry-After` delay the server asked for.
    pub fn with_retry_after(mut self, d: Option<Duration>) -> Self {
        self.0.retry_after = d;
        self
    }
    /// Keeps the raw response body aside (cut to [`RAW_BODY_LIMIT`]). Never call this with a
    /// successful token response body.
    pub fn with_raw_body(mut self, body: impl Into<String>) -> Self {
        let mut body = body.into();
        if body.len() > RAW_BODY_LIMIT {
            let mut cut = RAW_BODY_LIMIT;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
        }
        self.0.raw_body = Some(body);
        self
    }
    /// Chains an underlying error (shown by `source()`; never contains secrets).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.0.source = Some(Box::new(source));
        self
    }
    /// Replaces the kind, keeping every other detail (e.g. an `OAuth` error becoming `ReconnectRequired`).
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.0.kind = kind;
        self
    }
    /// Replaces the message, keeping every other detail.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.0.message = message.into();
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }
    /// Short human message (never contains a token or secret).
    pub fn message(&self) -> &str {
        &self.0.message
    }
    /// HTTP status of the response that caused this error, if any.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }
    /// Salesforce `errorCode` (e.g. `INVALID_SESSION_ID`, `NUMBER_OUTSIDE_VALID_RANGE`).
    pub fn error_code(&self) -> Option<&str> {
        self.0.error_code.as_deref()
    }
    /// OAuth `error` (e.g. `invalid_grant`).
    pub fn oauth_error(&self) -> Option<&str> {
        self.0.oauth_error.as_deref()
    }
    /// OAuth `error_description` (e.g. `expired access/refresh token`).
    pub fn oauth_error_description(&self) -> Option<&str> {
        self.0.oauth_error_description.as_deref()
    }
    /// Fields named by Salesforce (REST error `fields`).
    pub fn fields(&self) -> &[String] {
        &self.0.fields
    }
    /// API usage from `Sforce-Limit-Info` on the failing response.
    pub fn api_usage(&self) -> Option<&ApiUsage> {
        self.0.api_usage.as_ref()
    }
    /// Delay the server asked for (`Retry-After`), if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }
    /// Raw response body (cut to [`RAW_BODY_LIMIT`]), if kept.
    pub fn raw_body(&self) -> Option<&str> {
        self.0.raw_body.as_deref()
    }

    /// True when retrying the same request later may succeed (network, timeout, 5xx, rate limit).
    pub fn is_transient(&self) -> bool {
        matches!(self.0.kind, ErrorKind::Network | ErrorKind::Timeout | ErrorKind::RateLimited)
            || (self.0.kind == ErrorKind::Api && self.0.status.is_some_and(|s| s >= 500))
    }

    // ---- constructors used across the crate -------------------------------------------------

    /// `InvalidArgument` with a message.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }
    /// `Config` naming the setting / environment variable.
    pub fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, message)
    }
    /// `Store` with a message.
    pub fn store(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Store, message)
    }
    /// `Internal` with a message.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Internal, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)?;
        let mut extra = Vec::new();
        if let Some(s) = self.0.status {
            extra.push(format!("HTTP {s}"));
        }
        if let Some(c) = &self.0.error_code {
            extra.push(c.clone());
        }
        if let Some(e) = &self.0.oauth_error {
            extra.push(e.clone());
        }
        if !extra.is_empty() {
            write!(f, " ({})", extra.join(", "))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.0.kind).field("message", &self.0.message);
        if let Some(s) = self.0.status {
            d.field("status", &s);
        }
        if let Some(c) = &self.0.error_code {
            d.field("error_code", c);
        }
        if let Some(e) = &self.0.oauth_error {
            d.field("oauth_error", e);
        }
        if let Some(e) = &self.0.oauth_error_description {
            d.field("oauth_error_description", e);
        }
        if !self.0.fields.is_empty() {
            d.field("fields", &self.0.fields);
        }
        if let Some(u) = &self.0.api_usage {
            d.field("api_usage", u);
        }
        if let Some(r) = &self.0.retry_after {
            d.field("retry_after", r);
        }
        if let Some(b) = &self.0.raw_body {
            d.field("raw_body_len", &b.len());
        }
        if let Some(s) = &self.0.source {
            d.field("source", &s.to_string());
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_all_listed() {
        let mut codes: Vec<u32> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
    }

    #[test]
    fn class_names_are_unique_identifiers() {
        let mut names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.class_name()).collect();
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_alphanumeric())
            && n.starts_with(|c: char| c.is_ascii_uppercase())));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ErrorKind::ALL.len());
    }

    #[test]
    fn raw_body_is_cut_at_char_boundary() {
        let body = "é".repeat(RAW_BODY_LIMIT);
        let e = Error::new(ErrorKind::Api, "x").with_raw_body(body);
        assert!(e.raw_body().unwrap().len() <= RAW_BODY_LIMIT);
    }

    #[test]
    fn display_names_status_and_code() {
        let e = Error::new(ErrorKind::Api, "Session expired or invalid")
            .with_status(401)
            .with_error_code("INVALID_SESSION_ID");
        assert_eq!(e.to_string(), "Session expired or invalid (HTTP 401, INVALID_SESSION_ID)");
    }
}

#[cfg(test)]
mod size_tests {
    #[test]
    fn error_is_one_pointer_wide() {
        assert_eq!(std::mem::size_of::<super::Error>(), std::mem::size_of::<usize>());
    }
}
