//! Error responses: every body shape Salesforce (or a proxy in front of it) sends becomes a typed
//! [`Error`]: the REST array `[{"message","errorCode","fields"}]` (or a single such object), the
//! OAuth object `{"error","error_description"}`, an HTML page, an empty body, other text
//! [salesforce-api.md §5, §2] (seed defect D5); and a body over the size cap.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind};
use crate::usage::ApiUsage;

/// The parsed content of an error body, whatever its shape.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedErrorBody {
    /// Short human message (never empty). It does not repeat the HTTP status where the status is
    /// all it would add: the [`Error`]'s `Display` appends `(HTTP nnn)`.
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
        return parse_json_error(status, &v);
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
        // No status here: the error's Display adds "(HTTP 503)" once.
        return ParsedErrorBody {
            message: "Salesforce returned an HTML error page".to_owned(),
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

/// A JSON error body: the REST array (its first element, counting the others), a single REST
/// object, or the OAuth object.
fn parse_json_error(status: u16, v: &Value) -> ParsedErrorBody {
    let first = match v {
        Value::Array(items) => items.first(),
        Value::Object(_) => Some(v),
        _ => None,
    };
    let Some(Value::Object(obj)) = first else {
        return ParsedErrorBody {
            message: format!("HTTP {status} with an unrecognised JSON error body"),
            ..Default::default()
        };
    };
    let s = |k: &str| non_empty_str(obj, k);
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
    let mut message = s("message")
        .or_else(|| oauth_description.clone())
        .or_else(|| oauth_error.clone())
        .or_else(|| error_code.clone())
        .unwrap_or_else(|| format!("HTTP {status} with an unrecognised JSON error body"));
    if let Value::Array(items) = v
        && items.len() > 1
    {
        message = format!("{message} (and {} more errors)", items.len() - 1);
    }
    ParsedErrorBody {
        message,
        error_code,
        fields,
        oauth_error,
        oauth_description,
    }
}

fn non_empty_str(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .filter(|s| !s.is_empty())
}

/// Maps a non-2xx API response to an [`Error`]: 401 → `SessionExpired` (errorCode usually
/// `INVALID_SESSION_ID`); 403 `REQUEST_LIMIT_EXCEEDED` and 429 → `RateLimited`; any other → `Api`.
/// The raw body is kept aside.
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

/// Maps a non-2xx token or revoke endpoint response to an [`Error`]: `OAuth` with
/// `oauth_error` / `oauth_error_description` for every body shape; a maintenance page or overload
/// (5xx, 429) without an OAuth error object is the service being unavailable, not a refusal:
/// `Api`, transient, with `Retry-After`. The raw body is kept aside (error bodies hold no token).
pub(crate) fn token_endpoint_error(
    status: StatusCode,
    content_type: &str,
    text: String,
    usage: Option<ApiUsage>,
    retry_after: Option<Duration>,
) -> Error {
    let parsed = parse_error_body(status.as_u16(), content_type, &text);
    let unavailable = parsed.oauth_error.is_none() && (status.is_server_error() || status.as_u16() == 429);
    let kind = if unavailable { ErrorKind::Api } else { ErrorKind::OAuth };
    let mut err = Error::new(kind, parsed.message)
        .with_status(status.as_u16())
        .with_retry_after(retry_after);
    if let Some(oe) = parsed.oauth_error {
        err = err.with_oauth(oe, parsed.oauth_description);
    }
    if let Some(code) = parsed.error_code {
        err = err.with_error_code(code);
    }
    err.with_fields(parsed.fields)
        .with_api_usage(usage)
        .with_raw_body(text)
}

/// `Protocol`: a response body over `cap` bytes, refused without buffering it.
pub(crate) fn too_large(status: u16, cap: usize) -> Error {
    Error::new(
        ErrorKind::Protocol,
        format!("the response body is larger than {} MiB; refused (lower the batch size)", cap / (1024 * 1024)),
    )
    .with_status(status)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(p.message, "Salesforce returned an HTML error page");
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
    fn json_error_bodies_beyond_the_first_element() {
        let p = parse_error_body(400, "", r#"[{"message":"a","errorCode":"X"},{"message":"b"}]"#);
        assert_eq!((p.message.as_str(), p.error_code.as_deref()), ("a (and 1 more errors)", Some("X")));
        let p = parse_error_body(400, "", "42");
        assert_eq!(p.message, "HTTP 400 with an unrecognised JSON error body");
        let p = parse_error_body(400, "", r#"{"detail":"x"}"#);
        assert_eq!(p.message, "HTTP 400 with an unrecognised JSON error body");
    }

    /// The status is named once: the message does not repeat what `Display` appends.
    #[test]
    fn an_html_error_page_names_its_status_once() {
        let html = "<!DOCTYPE html><html><body>Down for maintenance</body></html>";
        let e = api_error(StatusCode::SERVICE_UNAVAILABLE, "text/html", html, None, None);
        assert_eq!(e.to_string(), "Salesforce returned an HTML error page (HTTP 503)");
        assert_eq!(e.to_string().matches("HTTP 503").count(), 1);
        let e = token_endpoint_error(StatusCode::SERVICE_UNAVAILABLE, "", html.to_owned(), None, None);
        assert_eq!(e.to_string(), "Salesforce returned an HTML error page (HTTP 503)");
        assert_eq!(e.kind(), ErrorKind::Api);
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
    fn token_endpoint_kinds() {
        let body = r#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#;
        let e = token_endpoint_error(StatusCode::BAD_REQUEST, "application/json", body.into(), None, None);
        assert_eq!(e.kind(), ErrorKind::OAuth);
        assert_eq!(e.oauth_error(), Some("invalid_grant"));
        assert_eq!(e.oauth_error_description(), Some("expired access/refresh token"));
        assert_eq!(e.raw_body(), Some(body));
        let e = token_endpoint_error(StatusCode::TOO_MANY_REQUESTS, "", String::new(), None, Some(Duration::from_secs(3)));
        assert_eq!((e.kind(), e.retry_after()), (ErrorKind::Api, Some(Duration::from_secs(3))));
        let e = token_endpoint_error(StatusCode::SERVICE_UNAVAILABLE, "", r#"{"error":"unknown_error"}"#.into(), None, None);
        assert_eq!(e.kind(), ErrorKind::OAuth, "an OAuth error object is a refusal whatever the status");
    }
}
