//! SOQL queries as streams (issue 11 item 1): [`QueryRequest`], [`Client::query_stream`] (the same
//! [`ExportStream`] as exports), [`Client::query_one`], [`Client::query_to_writer`] and
//! [`Client::query_to_path`].
//!
//! The SOQL is bound first ([`crate::soql::bind`]: a missing or unused name is `InvalidArgument`
//! before any request), then planned (`query/soql_plan.rs`: keyset when it selects `Id` and has no
//! ORDER BY, LIMIT, OFFSET, GROUP BY, HAVING or aggregate; else by query locator) and read by the
//! SOQL cursor (`query/soql_cursor.rs`), which completes child-relationship cursors
//! ([`ChildCursors::Complete`]) before the next parent page.
//!
//! Every field: `SELECT * FROM X …` and `FIELDS(ALL)` / `FIELDS(STANDARD)` / `FIELDS(CUSTOM)` in
//! the top-level select list are expanded from X's describe when the stream starts
//! (`query/soql_fields.rs`: the export's compound rule, in place, no duplicates, no `LIMIT 200`).
//! When the expanded query's URI is over `max_query_uri_bytes`, a keyset-eligible query of plain
//! fields is read in field groups joined by Id (`query/joined.rs`), one query call per group;
//! any other (child subqueries, ORDER BY, functions, …) is `InvalidArgument` naming the fields
//! to drop. Checkpoints bind the text as written, so a resume survives a describe change.

use std::io::Write;
use std::path::Path;

use crate::Client;
use crate::describe::SObjectDescribe;
use crate::error::{Error, ErrorKind, Result};
use crate::export::bulk::{BulkJobSpec, BulkMark, bulk_source};
use crate::export::stream::{QueryMark, Then, Unresolved};
use crate::export::{CancelHandle, Checkpoint, ExportFormat, ExportMode, ExportStream, ExportSummary, Progress};
use crate::query::bulk_cursor::BulkStart;
use crate::query::joined::{JoinedCursor, plan_groups};
use crate::query::soql_cursor::{SoqlCursor, SoqlStart};
use crate::query::soql_fields::{ExpandedSelect, FieldsQuery};
use crate::query::soql_plan::SoqlPlan;
use crate::query::source::QuerySource;
use crate::query::{BulkOptions, ChildCursors, Position, QueryOptions, Record};
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
    /// REST (default) or a Bulk API 2.0 job ([`ExportMode::Bulk`]: no child subqueries, which
    /// Bulk refuses and REST then reads).
    pub mode: ExportMode,
    /// How a Bulk job runs.
    pub bulk: BulkOptions,
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
            mode: ExportMode::Rest,
            bulk: BulkOptions::default(),
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
    /// Reads with REST or a Bulk API 2.0 job.
    pub fn mode(mut self, mode: ExportMode) -> Self {
        self.mode = mode;
        self
    }
    /// Sets the Bulk job's options.
    pub fn bulk_options(mut self, options: BulkOptions) -> Self {
        self.bulk = options;
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

/// The position and record count a stream starts from (a resumed checkpoint's).
fn resumed(start: &Result<SoqlStart>, request: &QueryRequest) -> (Option<Position>, u64) {
    match (start, &request.resume_from) {
        (Ok(SoqlStart::After(p)), Some(cp)) => (Some(p.clone()), cp.records()),
        (_, Some(cp)) => (None, cp.records()),
        _ => (None, 0),
    }
}

/// A query with `*` / `FIELDS()` waiting for its sObject's describe ([`ExportStream::ready`]),
/// and the source-building step every query goes through.
pub(crate) struct QueryJob {
    request: QueryRequest,
    /// The plan of the text as written (bound, not expanded): what checkpoints bind.
    written: SoqlPlan,
    fields: FieldsQuery,
    start: Result<SoqlStart>,
}

impl QueryJob {
    /// The sObject to describe.
    pub(crate) fn sobject(&self) -> &str {
        self.fields.sobject()
    }

    /// Expands the query with `describe` and starts `stream` on it (an error goes to the
    /// stream's first batch).
    pub(crate) fn resolve(self, client: &Client, key: &ConnectionKey, describe: &SObjectDescribe, stream: &mut ExportStream) {
        let QueryJob { request, written, fields, start } = self;
        let expanded = match fields.expand(describe) {
            Ok(e) => e,
            Err(e) => return stream.start_with(Err(e), Vec::new(), None, 0),
        };
        let plan = SoqlPlan::new(expanded.soql(), request.all_rows).hashing(written.bound().to_string());
        if let Some(q) = &mut stream.query {
            q.keyset = plan.is_keyset();
        }
        match too_long(client, &plan, &expanded) {
            Ok(()) => QueryJob::start(client, key, &request, plan, start, stream),
            Err(e) => stream.start_with(Err(e), Vec::new(), None, 0),
        }
    }

    /// Builds the source of `plan` (nothing is requested yet) and starts `stream` on it: the SOQL
    /// cursor, or the field-group reader when the plan's URI is over `max_query_uri_bytes` and
    /// it can be read that way ([`SoqlPlan::record_query`]).
    fn start(client: &Client, key: &ConnectionKey, request: &QueryRequest, plan: SoqlPlan, start: Result<SoqlStart>, stream: &mut ExportStream) {
        let (position, base) = resumed(&start, request);
        let keyset = plan.is_keyset();
        let columns = plan.columns();
        let source = start.and_then(|start| {
            if matches!(start, SoqlStart::After(_)) && !keyset {
                return Err(Error::invalid_argument("the checkpoint resumes by Id but this query is not keyset-resumable"));
            }
            let options = QueryOptions {
                include_deleted: request.all_rows,
                batch_size: request.batch_size.or(client.config().batch_size()),
            };
            if let Some(b) = options.batch_size
                && !(200..=2000).contains(&b)
            {
                return Err(Error::invalid_argument(format!("batch_size {b} is outside 200..=2000")));
            }
            let api = ExportStream::connection_api(client, key);
            let config = client.config();
            if plan.uri_len(&config.data_path())? > config.max_query_uri_bytes()
                && let Ok(query) = plan.record_query()
            {
                let after = match &start {
                    SoqlStart::After(p) => Some(p.clone()),
                    _ => None,
                };
                let query = query.resume_after(after).with_options(options);
                if let Some(groups) = plan_groups(&query, config.max_query_uri_bytes(), &config.data_path())? {
                    tracing::debug!(target: "sfcrm::query", sobject = %query.sobject(), groups = groups.len(),
                        "the expanded SELECT is longer than max_query_uri_bytes: reading the fields in groups joined by Id");
                    let cursor = JoinedCursor::new(api, query, groups, stream.calls_counter())?.report_missing(stream.missing_counter());
                    return Ok(Box::new(cursor) as Box<dyn QuerySource>);
                }
            }
            let cursor = SoqlCursor::new(api, plan, options, request.children, start, stream.calls_counter())
                .report_missing(stream.missing_counter());
            Ok(Box::new(cursor) as Box<dyn QuerySource>)
        });
        stream.start_with(source, columns, position, base);
    }
}

/// `Ok(())` when the expanded `plan` fits one query URI or can be read in field groups joined by
/// Id; else `InvalidArgument` saying why it cannot be split and which expanded fields to drop
/// (the fewest from the end of the expansion that make it fit).
fn too_long(client: &Client, plan: &SoqlPlan, expanded: &ExpandedSelect) -> Result<()> {
    let config = client.config();
    let (max, data_path) = (config.max_query_uri_bytes(), config.data_path());
    let len = plan.uri_len(&data_path)?;
    if len <= max {
        return Ok(());
    }
    let why = match plan.record_query() {
        Ok(_) => return Ok(()),
        Err(why) => why,
    };
    let added = expanded.added();
    let fits = |n: usize| -> Result<bool> {
        let p = SoqlPlan::new(expanded.render_without_last(n), false);
        Ok(p.uri_len(&data_path)? <= max)
    };
    // The fewest fields to drop from the end (binary search; dropping all may still not fit).
    let (mut lo, mut hi) = (0usize, added.len());
    let drop = if fits(hi)? {
        while lo < hi {
            let mid = (lo + hi) / 2;
            if fits(mid)? { hi = mid } else { lo = mid + 1 }
        }
        Some(hi)
    } else {
        None
    };
    let advice = match drop {
        Some(n) => {
            let gone = &added[added.len() - n..];
            let shown: Vec<&str> = gone.iter().take(20).copied().collect();
            let more = if gone.len() > shown.len() { format!(" and {} more", gone.len() - shown.len()) } else { String::new() };
            format!(
                "list the fields instead of *, FIELDS(), leaving out at least {n} of the {} it adds, e.g. {}{more}",
                added.len(),
                shown.join(", ")
            )
        }
        None => "the rest of the query is too long even without the expanded fields; shorten it".to_string(),
    };
    Err(Error::invalid_argument(format!(
        "the query with every field expanded needs a {len}-byte URI, over max_query_uri_bytes ({max}), and cannot \
         be read in field groups joined by Id because {why}: {advice} (or drop what prevents the split)"
    )))
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
    /// `INVALID_TYPE`, …); `*` / `FIELDS()` with several sObjects in FROM, or expanded past
    /// `max_query_uri_bytes` in a query that cannot be split, is `InvalidArgument` (the describe's
    /// `NOT_FOUND` for an unknown sObject); for a locator-mode query whose locator died (session refresh,
    /// `INVALID_QUERY_LOCATOR`), the error keeps its kind and `errorCode` and says what to change
    /// to make the query resumable.
    pub fn query_stream(&self, key: &ConnectionKey, request: QueryRequest) -> ExportStream {
        let fallback = SObjectName::new("SOQL").expect("a valid name");
        let cancel = request.cancel.clone().unwrap_or_default();
        let fail = |e: Error, sobject: SObjectName, cancel: CancelHandle| {
            let mut stream = ExportStream::unstarted(sobject, cancel);
            stream.start_with(Err(e), Vec::new(), None, 0);
            stream
        };
        let bound = match bound_soql(&request) {
            Ok(b) => b,
            Err(e) => return fail(e, fallback, cancel),
        };
        let fields = match FieldsQuery::find(&bound) {
            Ok(f) => f,
            Err(e) => return fail(e, fallback, cancel),
        };
        let plan = SoqlPlan::new(bound, request.all_rows);
        let sobject = plan.sobject().and_then(|s| SObjectName::new(s).ok()).unwrap_or(fallback);
        let mut fresh = ExportStream::unstarted(sobject, cancel);
        let hash = plan.hash();
        if request.mode == ExportMode::Bulk && fields.is_none() {
            match request.resume_from.as_ref().map(|cp| cp.resume_bulk(Some(&hash))).transpose() {
                Err(e) => {
                    fresh.start_with(Err(e), plan.columns(), None, 0);
                    return fresh;
                }
                Ok(Some(None)) => {} // a REST checkpoint: REST goes on (below)
                Ok(bulk_start) => return self.bulk_query_stream(key, request, plan, hash, fresh, bulk_start.flatten()),
            }
        }
        let start = match &request.resume_from {
            Some(cp) => cp.resume_query(&hash),
            None => Ok(SoqlStart::Beginning),
        };
        if request.mode == ExportMode::Bulk {
            let why = if fields.is_some() {
                "SELECT * / FIELDS() is expanded from describe and read with REST"
            } else {
                "the checkpoint is a REST one: the query continues with REST"
            };
            fresh.bulk = Some(BulkMark::rest_only(Some(hash.clone()), why));
        }
        let point = start.as_ref().ok().cloned().unwrap_or(SoqlStart::Beginning);
        // Until a `*` / FIELDS() query is expanded, its mode is the checkpoint's.
        let keyset = match &fields {
            None => plan.is_keyset(),
            Some(_) => matches!(point, SoqlStart::After(_)),
        };
        fresh.query = Some(QueryMark { hash, keyset, point, page: None });
        match fields {
            None => QueryJob::start(self, key, &request, plan, start, &mut fresh),
            Some(fields) => {
                let (position, base) = resumed(&start, &request);
                fresh.start_at(position, base);
                let job = QueryJob { request, written: plan, fields, start };
                fresh.unresolved = Some(Box::new(Unresolved { client: self.clone(), key: key.clone(), then: Then::Query(job) }));
            }
        }
        fresh
    }

    /// `query_stream` in `ExportMode::Bulk`: a job of the bound SOQL as written, falling back to
    /// the SOQL cursor (from the beginning) when Bulk refuses it or the job fails.
    fn bulk_query_stream(
        &self,
        key: &ConnectionKey,
        request: QueryRequest,
        plan: SoqlPlan,
        hash: String,
        mut fresh: ExportStream,
        start: Option<BulkStart>,
    ) -> ExportStream {
        let base = request.resume_from.as_ref().map_or(0, Checkpoint::records);
        let start = start.unwrap_or(BulkStart::Beginning);
        let mark = BulkMark::new(Some(hash.clone()), start.clone());
        fresh.query = Some(QueryMark { hash, keyset: plan.is_keyset(), point: SoqlStart::Beginning, page: None });
        let columns = plan.columns();
        let options = QueryOptions {
            include_deleted: request.all_rows,
            batch_size: request.batch_size.or(self.config().batch_size()),
        };
        let job = BulkJobSpec {
            soql: plan.bound_soql().to_owned(),
            all_rows: request.all_rows,
            columns: columns.iter().map(|c| c.as_str().to_owned()).collect(),
            sobject: plan.sobject().map(str::to_owned),
            options: request.bulk.clone(),
        };
        let (api, calls, children) = (ExportStream::connection_api(self, key), fresh.calls_counter(), request.children);
        let missing = fresh.missing_counter();
        let rest: crate::query::bulk_cursor::Fallback = Box::new(move || {
            Ok(Box::new(SoqlCursor::new(api, plan, options, children, SoqlStart::Beginning, calls).report_missing(missing))
                as Box<dyn QuerySource>)
        });
        let source = bulk_source(self, key, job, start, &mark, fresh.calls_counter(), rest);
        fresh.bulk = Some(mark);
        fresh.start_with(source, columns, None, base);
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
