//! SOQL queries for Node: the options object, bind values, and the native calls behind
//! `client.query` / `queryOne` / `queryToFile` (core `Client::query_stream`, `query_one`,
//! `query_to_path`).
//!
//! A query hands out the same stream as an export (core `ExportStream`), so `client.query(...)`
//! is an [`ExportCursor`] and `lib/index.js` iterates it with the export's iterator unchanged
//! (batches as ASCII JSON text, `checkpoint()`, `checkpointAt()`, `progress()`, `cancel()`).
//!
//! Bind values cross as JSON text (see [`crate::params`]).

use napi::Env;
use napi_derive::napi;
use sfcrm_core::Error;
use sfcrm_core::export::{Checkpoint, ExportFormat, QueryRequest};
use sfcrm_core::query::ChildCursors;

use crate::bulk::{BulkOptionsInput, bulk_mode};
use crate::client::{ExportFileSummary, NativeClient};
use crate::error::{IntoJs, Settled};
use crate::export::ExportCursor;
use crate::params::params_from_json;
use crate::rawjson::numbers_to_strings;
use crate::store::key;

/// Options of `query` / `queryToFile` (the native half; `lib/index.js` builds it).
#[napi(object)]
pub struct QueryOptionsInput {
    /// Bind values for the `:name` placeholders, as JSON text in the core's form (see the module
    /// docs); absent or `null`: no placeholders.
    pub params_json: Option<String>,
    /// Include deleted and archived rows (`queryAll`) [salesforce-api.md §4].
    pub all_rows: Option<bool>,
    /// `Sforce-Query-Options: batchSize` (200..=2000; Salesforce may return fewer).
    pub batch_size: Option<u32>,
    /// A checkpoint token (from `checkpoint()` of the same query) to resume after.
    pub resume_from: Option<String>,
    /// Child-relationship subqueries: `complete` (default: the rest of every child cursor is
    /// fetched, each parent arrives with all its children) or `asSent` (nested cursors as
    /// Salesforce sent them).
    pub children: Option<String>,
    /// `rest` (default) or `bulk`: a Bulk API 2.0 query job (see [`crate::bulk`]; a child
    /// subquery makes Bulk refuse, REST reads it).
    pub mode: Option<String>,
    /// The Bulk job's options (`mode: 'bulk'` only).
    pub bulk: Option<BulkOptionsInput>,
}

/// `complete` / `asSent` (also `as_sent`, the Python spelling) → [`ChildCursors`].
pub fn child_cursors(value: Option<&str>) -> Result<ChildCursors, Error> {
    match value {
        None | Some("complete") => Ok(ChildCursors::Complete),
        Some("asSent") | Some("as_sent") => Ok(ChildCursors::AsSent),
        Some(other) => Err(Error::invalid_argument(format!(
            "children must be 'complete' (fetch the rest of every child cursor) or 'asSent' (leave \
             nested cursors as Salesforce sent them), not {other:?}"
        ))),
    }
}

impl QueryOptionsInput {
    /// The core request for `soql` with these options; errors (bad bind values, a bad checkpoint
    /// token, a bad `children`) before any request.
    pub fn to_request(&self, soql: String) -> Result<QueryRequest, Error> {
        let mut request = QueryRequest::new(soql)
            .params(params_from_json(self.params_json.as_deref())?)
            .all_rows(self.all_rows.unwrap_or(false))
            .children(child_cursors(self.children.as_deref())?);
        let (mode, options) = bulk_mode(self.mode.as_deref(), self.bulk.as_ref())?;
        request = request.mode(mode).bulk_options(options);
        if let Some(n) = self.batch_size {
            request = request.batch_size(n);
        }
        if let Some(t) = &self.resume_from {
            request = request.resume_from(Checkpoint::from_token(t)?);
        }
        Ok(request)
    }
}

#[napi]
impl NativeClient {
    /// Starts a SOQL query (core `Client::query_stream`): the same cursor as an export
    /// (requests start with the first `nextBatch()`). Bad options (bind values, checkpoint,
    /// `children`) throw here; SOQL that does not bind (a missing or unused `:name`) rejects the
    /// first `nextBatch()` before any request, Salesforce's refusals (`MALFORMED_QUERY`,
    /// `INVALID_FIELD`, ...) reject it as `api` errors with `errorCode`.
    #[napi]
    pub fn query_stream(
        &self,
        env: Env,
        account_id: String,
        owner: String,
        soql: String,
        options: QueryOptionsInput,
    ) -> napi::Result<ExportCursor> {
        let key = key(account_id, owner).js(&env)?;
        let request = options.to_request(soql).js(&env)?;
        Ok(ExportCursor::new(self.inner.query_stream(&key, request)))
    }

    /// The one record of `soql` as JSON text, or null when there is none (core
    /// `Client::query_one`: more than one record is `InvalidArgument`, add `LIMIT 1` or narrow
    /// the WHERE). With `lossless` every number is its exact decimal text as a string.
    #[napi(ts_return_type = "Promise<string | null>")]
    pub async fn query_one(
        &self,
        account_id: String,
        owner: String,
        soql: String,
        params_json: Option<String>,
        lossless: Option<bool>,
    ) -> Settled<Option<String>> {
        let one = async {
            let key = key(account_id, owner)?;
            let params = params_from_json(params_json.as_deref())?;
            let Some(record) = self.inner.query_one(&key, &soql, &params).await? else {
                return Ok(None);
            };
            let mut value = serde_json::Value::Object(record);
            if lossless.unwrap_or(false) {
                numbers_to_strings(&mut value);
            }
            Ok(Some(value.to_string()))
        };
        Settled(one.await)
    }

    /// Streams a query into `path` (`csv`, `ndjson` or `json`), written atomically as exports
    /// are (core `Client::query_to_path`: the path is checked before the first request).
    #[napi(ts_return_type = "Promise<ExportFileSummary>")]
    pub async fn query_to_file(
        &self,
        account_id: String,
        owner: String,
        soql: String,
        options: QueryOptionsInput,
        path: String,
        format: String,
    ) -> Settled<ExportFileSummary> {
        let export = async {
            let key = key(account_id, owner)?;
            let request = options.to_request(soql)?;
            let format = ExportFormat::parse(&format)?;
            let s = self.inner.query_to_path(&key, request, format, &path, None).await?;
            Ok::<_, Error>(ExportFileSummary {
                records: s.records as i64,
                api_calls: s.api_calls as i64,
                checkpoint: s.checkpoint.to_token(),
                path: path.clone(),
                watermark: s.watermark.map(|w| w.to_token()),
                missing: s.missing as i64,
            })
        };
        Settled(export.await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_option() {
        assert!(matches!(child_cursors(None).unwrap(), ChildCursors::Complete));
        assert!(matches!(child_cursors(Some("complete")).unwrap(), ChildCursors::Complete));
        assert!(matches!(child_cursors(Some("asSent")).unwrap(), ChildCursors::AsSent));
        assert!(matches!(child_cursors(Some("as_sent")).unwrap(), ChildCursors::AsSent));
        let e = child_cursors(Some("all")).unwrap_err();
        assert_eq!(e.kind(), sfcrm_core::ErrorKind::InvalidArgument);
    }
}
