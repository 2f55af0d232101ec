//! A small axum server that behaves like a broken or malicious Salesforce: a token endpoint with a
//! chosen `instance_url`, and data responses that are oversized, deeply nested, invalid UTF-8, or
//! trickled byte by byte. It records every request (path and whether a bearer token came with it).

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

/// How the data endpoints answer.
#[derive(Debug, Clone)]
pub enum Mode {
    /// A valid one-record query page.
    Normal,
    /// A response of `bytes` bytes with `status` (JSON array of padding; never ends for `u64::MAX`).
    Oversized {
        /// HTTP status.
        status: u16,
        /// Body length in bytes.
        bytes: u64,
    },
    /// `[[[[…]]]]` nested `depth` deep, status 200.
    DeepNesting {
        /// Nesting depth.
        depth: usize,
    },
    /// Status `status` with a body that is not valid UTF-8.
    InvalidUtf8 {
        /// HTTP status.
        status: u16,
    },
    /// Status 200, a valid-looking JSON body sent one byte every `interval_ms` ms.
    Trickle {
        /// Milliseconds between bytes.
        interval_ms: u64,
    },
    /// 401 INVALID_SESSION_ID (makes the client refresh).
    Expired,
}

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method and path.
    pub line: String,
    /// The `Authorization` header value, if any.
    pub authorization: Option<String>,
}

#[derive(Debug)]
struct Shared {
    mode: Mutex<Mode>,
    token_instance_url: Mutex<String>,
    seen: Mutex<Vec<Seen>>,
}

/// A running hostile server on 127.0.0.1.
#[derive(Debug, Clone)]
pub struct Hostile {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    shared: Arc<Shared>,
}

/// The access token the hostile token endpoint hands out.
pub const HOSTILE_ACCESS_TOKEN: &str = "00DHOSTILE!AQ0AQHostileAccessTokenValue0123456789";
/// The refresh token the hostile token endpoint hands out.
pub const HOSTILE_REFRESH_TOKEN: &str = "5Aep861HostileRefreshTokenValue0123456789";

impl Hostile {
    /// Starts a server in `mode`; its token endpoint advertises `instance_url` = itself until
    /// [`Hostile::set_token_instance_url`].
    pub async fn start(mode: Mode) -> Hostile {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let shared = Arc::new(Shared {
            mode: Mutex::new(mode),
            token_instance_url: Mutex::new(url.clone()),
            seen: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        let app = Router::new().fallback(move |method: axum::http::Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let s = s.clone();
            async move { handle(s, method, uri, headers, body).await }
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Hostile { url, shared }
    }

    /// Changes the data mode.
    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = mode;
    }

    /// Sets the `instance_url` of later token responses.
    pub fn set_token_instance_url(&self, url: &str) {
        *self.shared.token_instance_url.lock().unwrap() = url.to_owned();
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }
}

async fn handle(s: Arc<Shared>, method: axum::http::Method, uri: Uri, headers: HeaderMap, _body: Bytes) -> Response {
    s.seen.lock().unwrap().push(Seen {
        line: format!("{method} {}", uri.path()),
        authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned),
    });
    let path = uri.path();
    if path == "/services/oauth2/token" {
        let inst = s.token_instance_url.lock().unwrap().clone();
        let body = serde_json::json!({
            "access_token": HOSTILE_ACCESS_TOKEN, "refresh_token": HOSTILE_REFRESH_TOKEN,
            "signature": "c2ln", "scope": "api refresh_token", "instance_url": inst,
            "id": "https://login.salesforce.com/id/00D000000000001AAA/005000000000001AAA",
            "token_type": "Bearer", "issued_at": "1732950000000"
        });
        return ([("content-type", "application/json")], body.to_string()).into_response();
    }
    if path == "/services/oauth2/revoke" {
        return StatusCode::OK.into_response();
    }
    let mode = s.mode.lock().unwrap().clone();
    match mode {
        Mode::Normal => {
            let body = serde_json::json!({"totalSize":1,"done":true,"records":[
                {"attributes":{"type":"Contact","url":"/services/data/v48.0/sobjects/Contact/0035g00000ABCDEAA1"},
                 "Id":"0035g00000ABCDEAA1","LastName":"Ok"}]});
            ([("content-type", "application/json")], body.to_string()).into_response()
        }
        Mode::Expired => (
            StatusCode::UNAUTHORIZED,
            [("content-type", "application/json")],
            r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#,
        )
            .into_response(),
        Mode::Oversized { status, bytes } => {
            let chunk = Bytes::from(vec![b' '; 64 * 1024]);
            let n = bytes / chunk.len() as u64;
            let head = futures_util::stream::once(async { Ok::<Bytes, Infallible>(Bytes::from_static(b"[")) });
            let pad = futures_util::stream::iter((0..n).map(move |_| Ok::<Bytes, Infallible>(chunk.clone())));
            let tail = futures_util::stream::once(async { Ok::<Bytes, Infallible>(Bytes::from_static(b"]")) });
            use futures_util::StreamExt;
            let mut resp = Response::new(Body::from_stream(head.chain(pad).chain(tail)));
            *resp.status_mut() = StatusCode::from_u16(status).unwrap();
            resp.headers_mut().insert("content-type", "application/json".parse().unwrap());
            resp
        }
        Mode::DeepNesting { depth } => {
            let mut body = "[".repeat(depth);
            body.push_str(&"]".repeat(depth));
            ([("content-type", "application/json")], body).into_response()
        }
        Mode::InvalidUtf8 { status } => {
            let mut body = br#"{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Contact"},"Id":"0035g00000ABCDEAA1","LastName":""#.to_vec();
            body.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]);
            body.extend_from_slice(br#""}]}"#);
            (StatusCode::from_u16(status).unwrap(), [("content-type", "application/json")], body).into_response()
        }
        Mode::Trickle { interval_ms } => {
            let body = br#"{"totalSize":1,"done":true,"records":[]}"#.to_vec();
            let stream = futures_util::stream::unfold(0usize, move |i| {
                let body = body.clone();
                async move {
                    if i >= body.len() {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_millis(interval_ms)).await;
                    Some((Ok::<Bytes, Infallible>(Bytes::from(vec![body[i]])), i + 1))
                }
            });
            let mut resp = Response::new(Body::from_stream(stream));
            resp.headers_mut().insert("content-type", "application/json".parse().unwrap());
            resp
        }
    }
}
