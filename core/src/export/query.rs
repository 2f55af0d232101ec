//! SOQL queries as streams (issue 11 item 1): [`QueryRequest`], [`Client::query_stream`] (the same
//! [`ExportStream`] as exports), [`Client::query_one`], [`Client::query_to_writer`] and
//! [`Client::query_to_path`].
//!
//! The SOQL is bound first ([`crate::soql::bind`]: a missing or unused name is `InvalidArgument`
//! before any request), then planned (`query/soql_plan.rs`: keyset when it selects `Id` and has no
//! ORDER BY, LIMIT, OFFSET, GROUP BY, HAVING or aggregate; else by query locator) and read by the
//! SOQL cursor (`query/soql_cursor.rs`), which completes child-relationship cursors
//! ([`ChildCursors::Complete`]) before the next parent page.

use std::io::Write;
use std::path::Path;

use crate::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::export::stream::QueryMark;
use crate::export::{CancelHandle, Checkpoint, ExportFormat, ExportStream, ExportSummary, Progress};
use crate::query::soql_cursor::{SoqlCursor, SoqlStart};
use crate::query::soql_plan::SoqlPlan;
use crate::query::source::QuerySource;
use crate::query::{ChildCursors, QueryOptions, Record};
use crate::soql::{Params, SObjectName, bind};
use crate::store::ConnectionKey;

/// A SOQL query to stream ([`Client::query_stream`]).
#[derive(Debug, Clone)]
pub struct QueryRequest {
    /// Any SOQL SELECT, with `:name` placeholders for `params` ([`crate::soql::bind`]).
    pub soql: String,
    /// The placeholders' values.
    pub params: Params,
    /// `queryAll`: soft-deleted and archived rows too [salesforce-api.md §4].
    pub all_rows: bool,
    /// `Sforce-Query-Options: batchSize` (200..=2000; Salesforce may return fewer); `None` uses
    /// the client's configured default.
    pub batch_size: Option<u32>,
    /// Continue after this checkpoint (of the same query: same bound text and `all_rows`).
    pub resume_from: Option<Checkpoint>,
    /// Child-relationship subqueries completed (default) or as sent.
    pub children: ChildCursors,
    /// Cancel through this handle; `None` gives the stream a handle of its own.
    pub cancel: Option<CancelHandle>,
}

impl QueryRequest {
    /// A query with no params and default options.
    pub fn new(soql: impl Into<String>) -> Self {
        QueryRequest {
            soql: soql.into(),
            params: Params::new(),
            all_rows: false,
            batch_size: None,
            resume_from: None,
            children: ChildCursors::Complete,
            cancel: None,
        }
    }
    /// Sets the bind values.
    pub fn params(mut self, params: Params) -> Self {
        self.params = params;
        self
    }
    /// Uses `queryAll` (deleted and archived rows too).
    pub fn all_rows(mut self, yes: bool) -> Self {
        self.all_rows = yes;
        self
    }
    /// Sets the requested batch size.
    pub fn batch_size(mut self, n: u32) -> Self {
        self.batch_size = Some(n);
        self
    }
    /// Resumes after a checkpoint of the same query.
    pub fn resume_from(mut self, checkpoint: Checkpoint) -> Self {
        self.resume_from = Some(checkpoint);
        self
    }
    /// Sets how child-relationship cursors are handed out.
    pub fn children(mut self, children: ChildCursors) -> Self {
        self.children = children;
        self
    }
    /// Cancels the query when `handle` is cancelled (from any thread).
    pub fn cancel_with(mut self, handle: CancelHandle) -> Self {
        self.cancel = Some(handle);
        self
    }
}

/// Binds the request's SOQL. With no params, a text the SDK cannot lex (an unterminated literal,
/// unbalanced parentheses) is sent as written, for Salesforce's `MALFORMED_QUERY` and message.
fn bound_soql(request: &QueryRequest) -> Result<String> {
    if request.soql.trim().is_empty() {
        return Err(Error::invalid_argument("the SOQL query is empty"));
    }
    match bind(&request.soql, &request.params) {
        Ok(s) => Ok(s),
        Err(_) if request.params.is_empty() && crate::soql::lex_fails(&request.soql) => Ok(request.soql.clone()),
        Err(e) => Err(e),
    }
}

impl Client {
    /// Streams every record of a SOQL SELECT: the same [`ExportStream`] as exports (batches,
    /// checkpoints, `checkpoint_at`, progress, cancel handle, `fields()` = the columns of its
    /// SELECT list). See the module docs for keyset vs locator mode and child cursors.
    ///
    /// Errors (from the first [`ExportStream::next_batch`], before any request when they are the
    /// caller's): `InvalidArgument` for an empty query, a missing or unused bind name, a bad value,
    /// a checkpoint of another query or of an export, a bad batch size; then Salesforce's errors
    /// as `Api` with its `errorCode` and message (`MALFORMED_QUERY`, `INVALID_FIELD`,
    /// `INVALID_TYPE`, …); for a locator-mode query whose locator died (session refresh,
    /// `INVALID_QUERY_LOCATOR`), the error keeps its kind and `errorCode` and says what to change
    /// to make the query resumable.
    pub fn query_stream(&self, key: &ConnectionKey, request: QueryRequest) -> ExportStream {
        let fallback = SObjectName::new("SOQL").expect("a valid name");
        let cancel = request.cancel.clone().unwrap_or_default();
        let bound = match bound_soql(&request) {
            Ok(b) => b,
            Err(e) => {
                let mut stream = ExportStream::unstarted(fallback, cancel);
                stream.start_with(Err(e), Vec::new(), None, 0);
                return stream;
            }
        };
        let plan = SoqlPlan::new(bound, request.all_rows);
        let sobject = plan.sobject().and_then(|s| SObjectName::new(s).ok()).unwrap_or(fallback);
        let mut fresh = ExportStream::unstarted(sobject, cancel);
        let hash = plan.hash();
        let start = match &request.resume_from {
            Some(cp) => cp.resume_query(&hash),
            None => Ok(SoqlStart::Beginning),
        };
        let (position, base) = match (&start, &request.resume_from) {
            (Ok(SoqlStart::After(p)), Some(cp)) => (Some(p.clone()), cp.records()),
            (_, Some(cp)) => (None, cp.records()),
            _ => (None, 0),
        };
        let keyset = plan.is_keyset();
        let point = start.as_ref().ok().cloned().unwrap_or(SoqlStart::Beginning);
        fresh.query = Some(QueryMark { hash, keyset, point: point.clone(), page: None });
        let columns = plan.columns();
        let source = start.and_then(|start| {
            if matches!(start, SoqlStart::After(_)) && !keyset {
                return Err(Error::invalid_argument("the checkpoint resumes by Id but this query is not keyset-resumable"));
            }
            let options = QueryOptions {
                include_deleted: request.all_rows,
                batch_size: request.batch_size.or(self.config().batch_size()),
            };
            if let Some(b) = options.batch_size
                && !(200..=2000).contains(&b)
            {
                return Err(Error::invalid_argument(format!("batch_size {b} is outside 200..=2000")));
            }
            let api = ExportStream::connection_api(self, key);
            let cursor = SoqlCursor::new(api, plan, options, request.children, start, fresh.calls_counter());
            Ok(Box::new(cursor) as Box<dyn QuerySource>)
        });
        fresh.start_with(source, columns, position, base);
        fresh
    }

    /// The first record of a SOQL SELECT, or `None` when it has none. More than one record is
    /// `InvalidArgument` (add `LIMIT 1` or a narrower WHERE) — a lookup that matched several
    /// records is a bug worth seeing. Reads the first page (the stream may prefetch a second).
    pub async fn query_one(&self, key: &ConnectionKey, soql: &str, params: &Params) -> Result<Option<Record>> {
        let mut stream = self.query_stream(key, QueryRequest::new(soql).params(params.clone()).children(ChildCursors::Complete));
        let Some(batch) = stream.next_batch().await? else { return Ok(None) };
        let total = stream.progress().total_size.unwrap_or(batch.records.len() as u64);
        if batch.records.len() > 1 || total > 1 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("query_one: the query matched {} records, not one (add LIMIT 1 or narrow the WHERE)", total.max(batch.records.len() as u64)),
            ));
        }
        batch.records.first().map(|r| r.to_record()).transpose()
    }

    /// Streams a SOQL query into `out` in `format` (the CSV columns are
    /// [`ExportStream::fields`]); `progress` is called after each batch. Errors: those of
    /// [`Client::query_stream`]; `Io` when writing fails.
    pub async fn query_to_writer<W: Write + Send>(
        &self,
        key: &ConnectionKey,
        request: QueryRequest,
        format: ExportFormat,
        out: W,
        progress: Option<&(dyn Fn(Progress) + Send + Sync)>,
    ) -> Result<ExportSummary> {
        let stream = self.query_stream(key, request);
        crate::export::sink::write_stream(stream, format, out, progress).await
    }

    /// Like [`Client::query_to_writer`], into the file at `path` through an
    /// [`crate::export::ExportFile`] (checked before the first request, written to a temporary
    /// file, renamed over `path` only on success: a failed query leaves no partial output).
    pub async fn query_to_path(
        &self,
        key: &ConnectionKey,
        request: QueryRequest,
        format: ExportFormat,
        path: impl AsRef<Path>,
        progress: Option<&(dyn Fn(Progress) + Send + Sync)>,
    ) -> Result<ExportSummary> {
        let stream = self.query_stream(key, request);
        crate::export::sink::write_stream_to_path(stream, format, path.as_ref(), progress).await
    }
}
