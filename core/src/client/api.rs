//! Authenticated calls against the stored `instance_url`: URL resolution (the instance allow-list
//! checked before any token is sent), the GET with one refresh and one retry, and the public
//! calls: any JSON resource, `query` / `queryAll`, `nextRecordsUrl`.

use serde_json::Value;

use super::{Client, host_of};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Decoded, decode_value, encode_query_value};
use crate::query::{QueryOptions, QueryPage, decode_query_page};
use crate::store::{ConnectionDocument, ConnectionKey};
use crate::usage::CallKind;

impl Client {
    /// Resolves a path (relative to `instance_url`) or an absolute URL, and refuses hosts outside
    /// the instance allow-list before any token is sent.
    pub(super) fn resolve(&self, doc: &ConnectionDocument, path_or_url: &str) -> Result<String> {
        let target = path_or_url.trim();
        if target.is_empty() {
            return Err(Error::invalid_argument("the API path is empty"));
        }
        if !self.instance_allowed(&doc.instance_url) {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "the stored instance_url ({}) is outside the allowed instance hosts (SFCRM_INSTANCE_HOSTS); no token was sent",
                    host_of(&doc.instance_url)
                ),
            ));
        }
        let lower = target.to_ascii_lowercase();
        if lower.starts_with("https://") || lower.starts_with("http://") {
            if !self.instance_allowed(target) {
                return Err(Error::invalid_argument(format!(
                    "{} is outside the allowed instance hosts; no token was sent",
                    host_of(target)
                )));
            }
            return Ok(target.to_owned());
        }
        if target.starts_with("//") || target.contains('\\') {
            return Err(Error::invalid_argument(
                "the API path must be a path such as /services/data/v48.0/…",
            ));
        }
        let base = doc.instance_url.trim_end_matches('/');
        if target.starts_with('/') {
            Ok(format!("{base}{target}"))
        } else {
            Ok(format!("{base}/{target}"))
        }
    }

    /// Authenticated GET with exactly one refresh and one retry on a 401 (never for a locator;
    /// refresh protocol steps 1 and 6 in refresh.rs).
    pub(super) async fn authed_get<T>(
        &self,
        key: &ConnectionKey,
        target: &str,
        headers: &[(&str, String)],
        kind: CallKind,
        decode: fn(u16, String) -> Decoded<T>,
    ) -> Result<T> {
        let doc = self.load_usable(key).await?;
        let url = self.resolve(&doc, target)?;
        let transport = &self.inner.transport;
        match transport
            .get_decoded(&url, &doc.token.access_token, headers, kind, decode)
            .await
        {
            Err(e) if e.kind() == ErrorKind::SessionExpired => {
                tracing::debug!(target: "sfcrm::client", key = %key, "401 from the instance: refreshing");
            }
            other => return other,
        }
        self.retry_after_401(key, &doc, target, headers, kind, decode).await
    }

    fn query_headers(&self, opts: &QueryOptions) -> Result<Vec<(&'static str, String)>> {
        let batch = opts.batch_size.or(self.inner.config.batch_size());
        match batch {
            None => Ok(Vec::new()),
            Some(b) if (200..=2000).contains(&b) => {
                Ok(vec![("Sforce-Query-Options", format!("batchSize={b}"))])
            }
            Some(b) => Err(Error::invalid_argument(format!(
                "batch_size {b} is outside 200..=2000"
            ))),
        }
    }

    /// Authenticated GET of any JSON resource: `path_or_url` is relative to the stored
    /// `instance_url` (e.g. `/services/data/v48.0/sobjects`) or an absolute URL on an allowed
    /// instance host. An empty 2xx body (204) is `Value::Null`. One refresh + one retry on 401.
    pub async fn api_get_json(&self, key: &ConnectionKey, path_or_url: &str) -> Result<Value> {
        self.authed_get(key, path_or_url, &[], CallKind::OtherApi, decode_value)
            .await
    }

    /// `GET /services/data/{version}/query?q=…` (or `queryAll` with `include_deleted`), the SOQL
    /// percent-encoded (`+` → `%2B`, space → `%20`; field case BR-12). One refresh + one retry on 401.
    pub async fn query_page(
        &self,
        key: &ConnectionKey,
        soql: &str,
        opts: &QueryOptions,
    ) -> Result<QueryPage> {
        if soql.trim().is_empty() {
            return Err(Error::invalid_argument("the SOQL query is empty"));
        }
        let headers = self.query_headers(opts)?;
        let resource = if opts.include_deleted {
            "queryAll"
        } else {
            "query"
        };
        let path = format!(
            "{}/{resource}?q={}",
            self.inner.config.data_path(),
            encode_query_value(soql)
        );
        self.authed_get(key, &path, &headers, CallKind::Query, decode_query_page)
            .await
    }

    /// `GET nextRecordsUrl` as-is (relative to `instance_url`, no version rewrite). On a 401 the
    /// session is refreshed but the locator is NOT retried (it belongs to the old session
    /// [salesforce-api.md §4 Cursors]): the result is `SessionExpired` with errorCode
    /// `INVALID_SESSION_ID`, and the caller restarts the query from its checkpoint.
    pub async fn query_more(
        &self,
        key: &ConnectionKey,
        next_records_url: &str,
        opts: &QueryOptions,
    ) -> Result<QueryPage> {
        let headers = self.query_headers(opts)?;
        self.authed_get(key, next_records_url, &headers, CallKind::QueryMore, decode_query_page)
            .await
    }
}
