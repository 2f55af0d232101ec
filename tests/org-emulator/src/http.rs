//! HTTP plumbing: the connection wrapper that lets a handler drop its connection (the `reset`
//! fault), response helpers for Salesforce's two error formats, and fault responses.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::http::{HeaderValue, Response, StatusCode, header};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::data::write_json_str;
use crate::state::{FaultKind, Org};

/// Per-connection switch: once set, the connection fails all further I/O and is dropped by the
/// server without a response.
#[derive(Clone, Debug, Default)]
pub struct KillSwitch(Arc<AtomicBool>);

impl KillSwitch {
    /// Drop the connection instead of answering.
    pub fn kill(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    fn killed(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A TCP stream that honours its [`KillSwitch`].
pub struct KillableStream {
    inner: TcpStream,
    switch: KillSwitch,
}

fn reset() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionReset, "sf-org-emulator: connection reset fault")
}

impl AsyncRead for KillableStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.switch.killed() {
            return Poll::Ready(Err(reset()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.switch.killed() {
            return Poll::Ready(Err(reset()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.switch.killed() {
            return Poll::Ready(Err(reset()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A TCP listener whose connections carry a [`KillSwitch`] (available to handlers as
/// `ConnectInfo<KillSwitch>`).
pub struct KillableListener(pub TcpListener);

impl axum::serve::Listener for KillableListener {
    type Io = KillableStream;
    type Addr = KillSwitch;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((inner, _)) => {
                    let _ = inner.set_nodelay(true);
                    let switch = KillSwitch::default();
                    return (KillableStream { inner, switch: switch.clone() }, switch);
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(KillSwitch::default())
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, KillableListener>> for KillSwitch {
    fn connect_info(stream: axum::serve::IncomingStream<'_, KillableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// `application/json;charset=UTF-8`, Salesforce's JSON content type.
pub const JSON: &str = "application/json;charset=UTF-8";

/// A JSON response.
pub fn json(status: StatusCode, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, JSON)
        .body(Body::from(body))
        .expect("response")
}

/// The REST error array `[{"message":…,"errorCode":…}]` [salesforce-api.md §5].
pub fn rest_error_body(code: &str, message: &str) -> String {
    let mut s = String::from("[{\"message\":");
    write_json_str(message, &mut s);
    s.push_str(",\"errorCode\":");
    write_json_str(code, &mut s);
    s.push_str("}]");
    s
}

/// A REST error response.
pub fn rest_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    json(status, rest_error_body(code, message))
}

/// 401 INVALID_SESSION_ID [salesforce-api.md §5].
pub fn invalid_session() -> Response<Body> {
    rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID", "Session expired or invalid")
}

/// An OAuth error `{"error":…,"error_description":…}`, HTTP 400, `Cache-Control: no-store`
/// [salesforce-api.md §2 "Error body"].
pub fn oauth_error(error: &str, description: &str) -> Response<Body> {
    let mut s = String::from("{\"error\":");
    write_json_str(error, &mut s);
    s.push_str(",\"error_description\":");
    write_json_str(description, &mut s);
    s.push('}');
    no_store(json(StatusCode::BAD_REQUEST, s))
}

/// Add `Cache-Control: no-store` and `Pragma: no-cache`.
pub fn no_store(mut r: Response<Body>) -> Response<Body> {
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

/// Add `Sforce-Limit-Info`.
pub fn with_limit_info(mut r: Response<Body>, org: &Org) -> Response<Body> {
    if let Ok(v) = HeaderValue::from_str(&org.limit_info()) {
        r.headers_mut().insert("sforce-limit-info", v);
    }
    r
}

/// Refuse over-long requests before routing, as Salesforce's edge does: a URI (path and query)
/// longer than the org's `max_uri_bytes` (default 16,384) → 414 URI Too Long; a URI plus headers
/// longer than that → 431 Request Header Fields Too Large [salesforce-api.md §5 "HTTP codes";
/// help article 000386264]. Not an API call. The bodies are plain HTML (Salesforce's are
/// UNCONFIRMED).
pub async fn uri_limit(State(org): State<Arc<Org>>, req: Request, next: Next) -> Response<Body> {
    let limit = org.max_uri_bytes.load(Ordering::Relaxed) as usize;
    let uri = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    let headers: usize = req.headers().iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    let refused = if uri > limit {
        Some((StatusCode::URI_TOO_LONG, "414 URI Too Long"))
    } else if uri + headers > limit {
        Some((StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "431 Request Header Fields Too Large"))
    } else {
        None
    };
    match refused {
        None => next.run(req).await,
        Some((status, title)) => {
            org.count(|c| c.uri_too_long += 1);
            Response::builder()
                .status(status)
                .header(header::CONTENT_TYPE, "text/html;charset=UTF-8")
                .body(Body::from(format!("<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>")))
                .expect("response")
        }
    }
}

/// Apply a pending fault: `None` means "handle normally" (after any delay).
pub async fn fault_response(org: &Org, kind: Option<FaultKind>, conn: &KillSwitch, data_api: bool) -> Option<Response<Body>> {
    let kind = kind?;
    let r = match kind {
        FaultKind::Delay { ms } => {
            tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            return None;
        }
        FaultKind::Html503 { retry_after_s } => Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .header(header::CONTENT_TYPE, "text/html;charset=UTF-8")
            .header(header::RETRY_AFTER, retry_after_s.to_string())
            .body(Body::from(
                "<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later.</p></body></html>",
            ))
            .expect("response"),
        FaultKind::Status500 => rest_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNKNOWN_EXCEPTION",
            "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)",
        ),
        FaultKind::Empty401 => Response::builder().status(StatusCode::UNAUTHORIZED).body(Body::empty()).expect("response"),
        FaultKind::Truncated => {
            let full = "{\"totalSize\":2,\"done\":true,\"records\":[{\"attributes\":{\"type\":\"Contact\",\"url\":\"/services/data/v66.0/sobjects/Contact/0035g0000000001AAA\"},\"Id\":\"0035g0000000001AAA\",\"Name\":\"Trunc Ated\"}]}";
            json(StatusCode::OK, full[..full.len() / 2].to_string())
        }
        FaultKind::Reset => {
            conn.kill();
            Response::builder().status(StatusCode::OK).body(Body::empty()).expect("response")
        }
        FaultKind::RequestLimit => rest_error(StatusCode::FORBIDDEN, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
        FaultKind::InvalidLocator => rest_error(StatusCode::BAD_REQUEST, "INVALID_QUERY_LOCATOR", "invalid query locator"),
        FaultKind::ApiDisabled => rest_error(StatusCode::FORBIDDEN, "API_DISABLED_FOR_ORG", "The REST API is not enabled for this Organization."),
        FaultKind::Custom { status, body, content_type } => {
            let mut b = Response::builder().status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
            if let Some(ct) = content_type {
                b = b.header(header::CONTENT_TYPE, ct);
            }
            b.body(Body::from(body)).expect("response")
        }
    };
    Some(if data_api { with_limit_info(r, org) } else { r })
}

/// Parse `application/x-www-form-urlencoded` text into pairs (first occurrence wins on lookup).
pub fn form_pairs(s: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(s.as_bytes()).into_owned().collect()
}

/// First value of `key`.
pub fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}
