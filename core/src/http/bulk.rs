//! Bulk API 2.0 requests [bulk-and-parallel.md §1.1]: any method, a JSON body, `text/csv` or
//! JSON answers, gzip, and the result-page headers (`Sforce-Locator`, `Sforce-NumberOfRecords`).
//!
//! Retries follow the transport's rules: `GET`, `DELETE` and the abort `PATCH` are idempotent
//! (retried on 5xx, dropped connections, timeouts, cut or undecodable bodies); the create `POST`
//! is retried only when the connection failed before the request was sent (a second job would
//! run the query twice).
//!
//! Compression: every request sends `Accept-Encoding: gzip` and a `Content-Encoding: gzip`
//! body is decompressed here (the docs recommend it; another page says results are always
//! compressed [§1.4 CONFLICT]: both are read), the decompressed size capped like any body.

use std::io::Read;

use reqwest::Method;

use super::response::{ReadFailure, read_response_bytes};
use super::retry::next_wait;
use super::{Attempt, MAX_RESPONSE_BYTES, Transport, api_error, redact_url, transport_error};
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;
use crate::usage::CallKind;

/// A Bulk request.
pub(crate) struct BulkRequest<'a> {
    /// `GET`, `POST`, `PATCH` or `DELETE`.
    pub(crate) method: Method,
    /// The absolute URL (resolved by the client).
    pub(crate) url: &'a str,
    /// The `Accept` header (`application/json` or `text/csv`).
    pub(crate) accept: &'static str,
    /// A JSON body.
    pub(crate) body: Option<String>,
    /// What the request is, for counting.
    pub(crate) kind: CallKind,
}

/// A 2xx Bulk answer.
#[derive(Debug)]
pub(crate) struct BulkReply {
    /// The status (200, 201, 204).
    pub(crate) status: u16,
    /// The body, decompressed, as UTF-8 (invalid sequences replaced).
    pub(crate) text: String,
    /// `Sforce-Locator`, as sent.
    pub(crate) locator: Option<String>,
    /// `Sforce-NumberOfRecords`, when a number.
    pub(crate) records: Option<u64>,
}

impl Transport {
    /// Sends a Bulk request with `bearer` (see the module docs). Errors as
    /// [`Transport::get_decoded`]'s: 401 → `SessionExpired`, other non-2xx → `Api` with
    /// Salesforce's `errorCode` and message, `Network`, `Timeout`; a gzip body that does not
    /// decompress → `Protocol` (after the retries).
    pub(crate) async fn send_bulk(&self, req: &BulkRequest<'_>, bearer: &Secret) -> Result<BulkReply> {
        let idempotent = req.method != Method::POST;
        let mut attempt: u32 = 0;
        loop {
            self.usage.count(req.kind, attempt > 0);
            tracing::debug!(target: "sfcrm::http", method = %req.method, url = %redact_url(req.url), attempt, "request");
            let mut r = self
                .http
                .request(req.method.clone(), req.url)
                .timeout(self.request_timeout)
                .bearer_auth(bearer.expose())
                .header("Accept", req.accept)
                .header("Accept-Encoding", "gzip");
            if let Some(body) = &req.body {
                r = r.header("Content-Type", "application/json").body(body.clone());
            }
            let outcome = match r.send().await {
                Err(e) if !idempotent && !e.is_connect() => return Err(transport_error(&e, req.url)),
                Err(e) => Attempt::Retry { error: transport_error(&e, req.url), retry_after: None },
                Ok(resp) => self.read_bulk(resp).await,
            };
            match outcome {
                Attempt::Done(r) => return r,
                Attempt::Retry { error, retry_after } => {
                    let retryable = idempotent || attempt == 0 && error.status().is_none() && error.kind() == ErrorKind::Network;
                    let wait = if retryable { next_wait(&self.retry, attempt, retry_after) } else { None };
                    let Some(wait) = wait else { return Err(error) };
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn read_bulk(&self, resp: reqwest::Response) -> Attempt<BulkReply> {
        let usage = self.note_usage(resp.headers());
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let locator = header("sforce-locator");
        let records = header("sforce-numberofrecords").and_then(|n| n.trim().parse().ok());
        let gzip = header("content-encoding").is_some_and(|e| e.trim().eq_ignore_ascii_case("gzip"));
        let (r, bytes) = match read_response_bytes(resp, MAX_RESPONSE_BYTES).await {
            Ok(r) => r,
            Err(ReadFailure::TooLarge(e)) => return Attempt::Done(Err(e)),
            Err(ReadFailure::Cut(cut)) => return Attempt::Retry { error: cut.api_error(), retry_after: None },
        };
        let bytes = if gzip && !bytes.is_empty() {
            match gunzip(&bytes) {
                Ok(b) => b,
                Err(e) => return Attempt::Retry { error: e.with_status(r.status.as_u16()), retry_after: None },
            }
        } else {
            bytes
        };
        let text = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        if r.status.is_success() {
            return Attempt::Done(Ok(BulkReply { status: r.status.as_u16(), text, locator, records }));
        }
        let err = api_error(r.status, &r.content_type, &text, usage, r.retry_after);
        if r.status.is_server_error() {
            Attempt::Retry { error: err, retry_after: r.retry_after }
        } else {
            Attempt::Done(Err(err))
        }
    }
}

/// Decompresses a gzip body, refusing more than [`MAX_RESPONSE_BYTES`] of output.
fn gunzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4).min(MAX_RESPONSE_BYTES));
    let mut reader = flate2::read::MultiGzDecoder::new(bytes).take(MAX_RESPONSE_BYTES as u64 + 1);
    reader
        .read_to_end(&mut out)
        .map_err(|e| Error::new(ErrorKind::Protocol, format!("a gzip response body does not decompress: {e}")))?;
    if out.len() > MAX_RESPONSE_BYTES {
        return Err(Error::new(
            ErrorKind::Protocol,
            format!("a gzip response body decompresses to more than {MAX_RESPONSE_BYTES} bytes: lower maxRecords"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_bodies_decompress_and_garbage_is_protocol() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all("\"Id\"\n\"001\"\n".as_bytes()).unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(gunzip(&gz).unwrap(), b"\"Id\"\n\"001\"\n");
        assert_eq!(gunzip(b"not gzip").unwrap_err().kind(), ErrorKind::Protocol);
        assert_eq!(gunzip(&gz[..gz.len() / 2]).unwrap_err().kind(), ErrorKind::Protocol);
    }
}
