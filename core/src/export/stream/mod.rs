//! Streaming exports: every record of a spec, in batches, resumable.
//!
//! An [`ExportStream`] drives a query source (`query::source::QuerySource`; today the REST
//! cursor, `query/rest.rs`, which describes the queries, the keyset order and the recovery when a
//! query locator dies) in a spawned task that prefetches the next batch while the caller consumes
//! the current one. Memory is bounded: at most one batch is being fetched and one is ready,
//! besides the one the caller holds. The stream adds cancellation, progress and checkpoints:
//! - Full mode orders by `Id`; a checkpoint is the last Id delivered. Incremental mode (`since`
//!   a SystemModstamp) orders by `SystemModstamp, Id`; a checkpoint is both.
//!   `Progress::total_size` grows when a resumed incremental export passes the records tied at
//!   the checkpoint's SystemModstamp.
//! - Streaming costs `ceil(N / batch)` query calls (+1 per locator restart) (D15).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::export::bulk::{BulkJobSpec, BulkMark, bulk_soql, bulk_source};
use crate::export::watermark::WatermarkTracker;
use crate::export::{ExportMode, ExportRequest, Progress, RecordBatch, Watermark};
use crate::query::joined::{JoinedCursor, plan_groups};
use crate::query::rest::RestCursor;
use crate::query::bulk_cursor::BulkStart;
use crate::query::soql_cursor::SoqlStart;
use crate::query::source::{PageRef, QueryApi, QuerySource, SourceBatch};
use crate::query::{Position, QueryOptions, QueryPage, RawRecord};
use crate::soql::{FieldPath, SObjectName, SoqlDateTime};
use crate::store::ConnectionKey;

mod cancel;
mod checkpoints;

pub use cancel::CancelHandle;

/// A streaming export (see the module docs). Created by [`Client::export_stream`]; nothing is
/// requested until the first [`ExportStream::next_batch`]. Dropping it stops its prefetch task.
pub struct ExportStream {
    /// An every-field export or query waiting for its describe (see [`ExportStream::ready`]).
    pub(crate) unresolved: Option<Box<Unresolved>>,
    pending: Option<Box<dyn QuerySource>>,
    rx: Option<mpsc::Receiver<Result<Option<SourceBatch>>>>,
    task: Option<JoinHandle<()>>,
    cancel: CancelHandle,
    deferred_error: Option<Error>,
    finished: bool,
    sobject: SObjectName,
    since: Option<SoqlDateTime>,
    fields: Vec<FieldPath>,
    position: Option<Position>,
    /// Records delivered before the checkpoint resumed from.
    base: u64,
    /// The last batch delivered (for record-granular checkpoints).
    last_batch: Vec<RawRecord>,
    progress: Progress,
    calls: Arc<AtomicU64>,
    /// Set for a SOQL query's stream (`Client::query_stream`).
    pub(crate) query: Option<QueryMark>,
    /// Records found missing at the end of a query (`Progress::missing`), counted by the REST
    /// cursor of an export (`query/rest.rs`).
    missing: Arc<AtomicU64>,
    /// Incremental exports: the watermark so far, and the boundary records to skip
    /// (`export/watermark.rs`).
    tracker: Option<WatermarkTracker>,
    /// Set for a Bulk API 2.0 stream (`ExportMode::Bulk`).
    pub(crate) bulk: Option<BulkMark>,
}

/// A stream that needs an sObject's describe before its source can be built.
pub(crate) struct Unresolved {
    pub(crate) client: Client,
    pub(crate) key: ConnectionKey,
    pub(crate) then: Then,
}

/// What an [`Unresolved`] stream does with the describe.
pub(crate) enum Then {
    /// An every-field export ([`crate::export::ExportSpec::all_fields`]).
    Export(ExportRequest),
    /// A query with `*` / `FIELDS()` to expand (`export/query.rs`).
    Query(crate::export::query::QueryJob),
}

impl Unresolved {
    fn sobject(&self) -> &str {
        match &self.then {
            Then::Export(r) => r.spec.sobject().as_str(),
            Then::Query(q) => q.sobject(),
        }
    }
}

/// What a SOQL query's stream needs for its checkpoints.
#[derive(Debug, Clone)]
pub(crate) struct QueryMark {
    /// The plan hash the checkpoints bind.
    pub(crate) hash: String,
    /// Keyset mode (checkpoints by last Id) or locator mode (by page).
    pub(crate) keyset: bool,
    /// Locator mode: where the stream stands after the last delivered batch.
    pub(crate) point: SoqlStart,
    /// Locator mode: the last delivered batch's page.
    pub(crate) page: Option<PageRef>,
}

impl std::fmt::Debug for ExportStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportStream")
            .field("sobject", &self.sobject)
            .field("since", &self.since)
            .field("progress", &self.progress)
            .field("finished", &self.finished)
            .finish()
    }
}

/// The client's REST query calls for one connection: what the query layer's sources call.
pub(super) struct ConnectionQueries {
    pub(super) client: Client,
    pub(super) key: ConnectionKey,
}

impl QueryApi for ConnectionQueries {
    fn query<'a>(&'a self, soql: &'a str, options: &'a QueryOptions) -> BoxFuture<'a, Result<QueryPage>> {
        Box::pin(self.client.query_page(&self.key, soql, options))
    }
    fn query_more<'a>(&'a self, next_records_url: &'a str, options: &'a QueryOptions)
    -> BoxFuture<'a, Result<QueryPage>> {
        Box::pin(self.client.query_more(&self.key, next_records_url, options))
    }
}

impl Client {
    /// Streams every record of `request.spec` (see [`ExportStream`] and the module docs).
    ///
    /// Invalid requests (bad `since`, a checkpoint for another sObject or mode) are reported by
    /// the first [`ExportStream::next_batch`], before any request is made.
    pub fn export_stream(&self, key: &ConnectionKey, request: ExportRequest) -> ExportStream {
        let mut stream = ExportStream::unstarted(request.spec.sobject().clone(), request.cancel.clone().unwrap_or_default());
        if request.spec.is_all_fields() {
            stream.unresolved = Some(Box::new(Unresolved { client: self.clone(), key: key.clone(), then: Then::Export(request) }));
        } else if let Err(e) = stream.prepare(self, key, &request) {
            stream.deferred_error = Some(e);
        }
        stream
    }
}

/// Fetches ahead of the consumer. Sends `Ok(Some(batch))` per batch, then exactly one `Ok(None)`
/// at the end or one `Err`; a channel closed without either means the task stopped early
/// (cancelled, aborted or panicked), which the consumer never mistakes for the end.
async fn prefetch(
    mut source: Box<dyn QuerySource>,
    tx: mpsc::Sender<Result<Option<SourceBatch>>>,
    cancel: watch::Receiver<bool>,
) {
    loop {
        // Reserve the one ready slot first, so at most one batch is fetched ahead.
        let permit = tokio::select! {
            biased;
            _ = CancelHandle::cancelled(cancel.clone()) => return,
            p = tx.reserve() => match p { Ok(p) => p, Err(_) => return },
        };
        let result = tokio::select! {
            biased;
            _ = CancelHandle::cancelled(cancel.clone()) => return,
            r = source.next_batch() => r,
        };
        match result {
            Ok(Some(batch)) => permit.send(Ok(Some(batch))),
            Ok(None) => {
                permit.send(Ok(None));
                return;
            }
            Err(e) => {
                permit.send(Err(e));
                return;
            }
        }
    }
}

impl ExportStream {
    /// A stream that has not started, for `sobject` (exports and queries fill it in).
    pub(crate) fn unstarted(sobject: SObjectName, cancel: CancelHandle) -> ExportStream {
        ExportStream {
            unresolved: None,
            pending: None,
            rx: None,
            task: None,
            cancel,
            deferred_error: None,
            finished: false,
            sobject,
            since: None,
            fields: Vec::new(),
            position: None,
            base: 0,
            last_batch: Vec::new(),
            progress: Progress::default(),
            calls: Arc::new(AtomicU64::new(0)),
            query: None,
            missing: Arc::new(AtomicU64::new(0)),
            tracker: None,
            bulk: None,
        }
    }

    /// Sets up the stream to drive `source` (query streams): its columns, starting position and
    /// records delivered before (a resume), or the error its first batch reports.
    pub(crate) fn start_with(
        &mut self,
        source: Result<Box<dyn QuerySource>>,
        fields: Vec<FieldPath>,
        position: Option<Position>,
        base: u64,
    ) {
        self.fields = fields;
        self.start_at(position, base);
        match source {
            Ok(s) => self.pending = Some(s),
            Err(e) => self.deferred_error = Some(e),
        }
    }

    /// Sets where the stream starts: after `position`, with `base` records delivered before (a
    /// resumed checkpoint's), so that [`ExportStream::checkpoint`] is right before any batch.
    pub(crate) fn start_at(&mut self, position: Option<Position>, base: u64) {
        self.position = position;
        self.base = base;
        self.progress.records = base;
    }

    /// The client's query calls for `key`, as the query layer's sources call them.
    pub(crate) fn connection_api(client: &Client, key: &ConnectionKey) -> Arc<dyn QueryApi> {
        Arc::new(ConnectionQueries { client: client.clone(), key: key.clone() })
    }

    /// The stream's call counter (shared with its source).
    pub(crate) fn calls_counter(&self) -> Arc<AtomicU64> {
        self.calls.clone()
    }

    /// The stream's `missing` counter ([`Progress::missing`], shared with its source).
    pub(crate) fn missing_counter(&self) -> Arc<AtomicU64> {
        self.missing.clone()
    }

    /// Builds the source for `request` (nothing is requested yet). Errors are the first
    /// [`ExportStream::next_batch`]'s: a bad `since`, a checkpoint of another export.
    fn prepare(&mut self, client: &Client, key: &ConnectionKey, request: &ExportRequest) -> Result<()> {
        let spec = &request.spec;
        let lookback = request.lookback.unwrap_or(crate::export::DEFAULT_LOOKBACK);
        let since = match (&request.since, &request.watermark) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid_argument(
                    "give `since` (a first incremental run) or the previous run's watermark, not both",
                ));
            }
            (Some(s), None) => Some(SoqlDateTime::parse(s)?),
            (None, Some(w)) => Some(WatermarkTracker::since_for(w, lookback)?),
            (None, None) => None,
        };
        if since.is_some() {
            self.tracker = Some(WatermarkTracker::new(spec.sobject(), request.watermark.as_ref(), lookback)?);
        }
        let query = spec.record_query(since)?;
        self.fields = query.fields().to_vec();
        let bulk_start = match (&request.mode, &request.resume_from) {
            (ExportMode::Bulk, Some(cp)) => cp.resume_bulk(None)?,
            _ => None,
        };
        if let Some(cp) = &request.resume_from
            && bulk_start.is_some()
            && !cp.sobject().eq_ignore_ascii_case(spec.sobject().as_str())
        {
            return Err(Error::invalid_argument(format!("the checkpoint is for sObject {}, not {}", cp.sobject(), spec.sobject())));
        }
        let (position, base) = match &request.resume_from {
            Some(cp) if bulk_start.is_some() => (None, cp.records()),
            Some(cp) => (cp.resume_position(spec.sobject(), since)?, cp.records()),
            None => (None, 0),
        };
        let options = QueryOptions {
            include_deleted: request.include_deleted,
            batch_size: request.batch_size.or(client.config().batch_size()),
        };
        self.since = since;
        self.position = position.clone();
        self.base = base;
        self.progress.records = base;
        let api = Arc::new(ConnectionQueries { client: client.clone(), key: key.clone() });
        let query = query.resume_after(position.clone()).with_options(options);
        let config = client.config();
        let (max_uri, data_path, calls) = (config.max_query_uri_bytes(), config.data_path(), self.calls.clone());
        let missing = self.missing.clone();
        let rest_query = query.clone();
        let rest = move || -> Result<Box<dyn QuerySource>> {
            Ok(match plan_groups(&rest_query, max_uri, &data_path)? {
                None => Box::new(RestCursor::new(api, rest_query, calls).report_missing(missing)),
                Some(groups) => {
                    tracing::debug!(target: "sfcrm::export", sobject = %rest_query.sobject(), groups = groups.len(),
                        "the SELECT is longer than max_query_uri_bytes: reading the fields in groups joined by Id");
                    Box::new(JoinedCursor::new(api, rest_query, groups, calls)?.report_missing(missing))
                }
            })
        };
        if request.mode == ExportMode::Bulk {
            let rest_reason = if since.is_some() {
                Some("an incremental export (since or watermark) is read with REST: its checkpoints and watermark follow SystemModstamp order")
            } else if position.is_some() {
                Some("the checkpoint is a REST one (last Id): the export continues with REST")
            } else {
                None
            };
            if let Some(reason) = rest_reason {
                self.bulk = Some(BulkMark::rest_only(None, reason));
            } else {
                let start = bulk_start.unwrap_or(BulkStart::Beginning);
                let mark = BulkMark::new(None, start.clone());
                let job = BulkJobSpec {
                    soql: bulk_soql(&query)?,
                    all_rows: request.include_deleted,
                    columns: query.fields().iter().map(|f| f.as_str().to_owned()).collect(),
                    sobject: Some(query.sobject().as_str().to_owned()),
                    options: request.bulk.clone(),
                };
                self.pending = Some(bulk_source(client, key, job, start, &mark, self.calls.clone(), Box::new(rest))?);
                self.bulk = Some(mark);
                return Ok(());
            }
        }
        self.pending = Some(rest()?);
        Ok(())
    }

    /// Resolves an every-field export's field list, or a query's `*` / `FIELDS()`, from the
    /// sObject's describe (one describe call, cached per client; see
    /// [`crate::export::ExportSpec::all_fields`] and [`Client::query_stream`]) and builds its
    /// source, without reading records: afterwards [`ExportStream::fields`] lists the columns
    /// (what a CSV header needs). [`ExportStream::next_batch`] does it by itself; for other
    /// streams this only reports an error found before any request. Errors: the describe's
    /// (`Api` `NOT_FOUND` for an unknown sObject, …), the request's (a bad `since`, checkpoint
    /// or batch size; a query too long for one URI that cannot be split), `Cancelled`; the
    /// stream is then over.
    pub async fn ready(&mut self) -> Result<()> {
        if let Some(e) = self.deferred_error.take() {
            self.finished = true;
            return Err(e);
        }
        let Some(job) = self.unresolved.take() else {
            return Ok(());
        };
        let cancel = self.cancel.subscribe();
        let describe = tokio::select! {
            biased;
            _ = CancelHandle::cancelled(cancel) => Err(Error::new(ErrorKind::Cancelled, "the export was cancelled")),
            d = job.client.describe(&job.key, job.sobject()) => d,
        };
        let Unresolved { client, key, then } = *job;
        let result = describe.and_then(|d| match then {
            Then::Export(request) => {
                let spec = request.spec.with_fields_from(&d)?;
                self.prepare(&client, &key, &ExportRequest { spec, ..request })
            }
            Then::Query(q) => {
                q.resolve(&client, &key, &d, self);
                self.deferred_error.take().map_or(Ok(()), Err)
            }
        });
        if result.is_err() {
            self.stop();
        }
        result
    }

    /// The next batch; `Ok(None)` at the end. After an error or cancellation the stream is over
    /// (resume from [`ExportStream::checkpoint`] with a new stream).
    ///
    /// Errors: `Cancelled`; `InvalidArgument` for a bad request; the query errors
    /// (`SessionExpired`, `ReconnectRequired`, `RateLimited`, `Api`, `Network`, …).
    pub async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            match self.next_source_batch().await? {
                // Every record was a change an earlier run delivered (a watermark run's boundary).
                Some(b) if b.records.is_empty() => continue,
                other => return Ok(other),
            }
        }
    }

    /// The watermark of an incremental export after the records delivered so far: store its
    /// token and start the next run from it ([`ExportRequest::after_watermark`]). `None` for a
    /// full export. See `export/watermark.rs` for what it holds and why the next run then gets
    /// every change exactly once.
    pub fn watermark(&self) -> Option<Watermark> {
        self.tracker.as_ref().and_then(|t| t.watermark(self.since))
    }

    /// Records an incremental run skipped because an earlier run delivered the same change.
    pub fn skipped(&self) -> u64 {
        self.tracker.as_ref().map_or(0, WatermarkTracker::skipped)
    }

    async fn next_source_batch(&mut self) -> Result<Option<RecordBatch>> {
        if self.cancel.is_cancelled() {
            self.stop();
            return Err(Error::new(ErrorKind::Cancelled, "the export was cancelled"));
        }
        if let Some(e) = self.deferred_error.take() {
            self.finished = true;
            return Err(e);
        }
        if self.finished {
            return Ok(None);
        }
        if self.unresolved.is_some() {
            self.ready().await?;
        }
        if self.rx.is_none() {
            let Some(source) = self.pending.take() else {
                self.finished = true;
                return Ok(None);
            };
            let (tx, rx) = mpsc::channel(1);
            self.task = Some(tokio::spawn(prefetch(source, tx, self.cancel.subscribe())));
            self.rx = Some(rx);
        }
        let rx = self.rx.as_mut().expect("receiver set above");
        let cancel = self.cancel.subscribe();
        let msg = tokio::select! {
            biased;
            _ = CancelHandle::cancelled(cancel) => {
                self.stop();
                return Err(Error::new(ErrorKind::Cancelled, "the export was cancelled"));
            }
            m = rx.recv() => m,
        };
        match msg {
            Some(Ok(None)) => {
                self.finished = true;
                self.task = None;
                Ok(None)
            }
            // Closed without an end marker: the prefetch task stopped early.
            None if self.cancel.is_cancelled() => {
                self.stop();
                Err(Error::new(ErrorKind::Cancelled, "the export was cancelled"))
            }
            None => {
                self.stop();
                Err(Error::internal("the export's prefetch task stopped before the end of the export"))
            }
            Some(Err(e)) => {
                self.stop();
                Err(e)
            }
            Some(Ok(Some(batch))) => {
                let total_size = batch.total_size;
                if let Some(p) = batch.last_position {
                    self.position = Some(p);
                }
                let bulk_page = self.bulk.as_ref().is_some_and(|b| b.fallback().is_none());
                if let (Some(b), Some(page), true) = (&mut self.bulk, &batch.page, bulk_page) {
                    b.advance(page);
                } else if let (Some(q), Some(page)) = (&mut self.query, &batch.page) {
                    q.point = match &page.next {
                        Some(next) => SoqlStart::Page { url: Some(next.clone()), skip: 0, total_before: 0 },
                        None => SoqlStart::End,
                    };
                    q.page = Some(page.clone());
                }
                let records = match &mut self.tracker {
                    Some(t) => match t.admit(batch.records) {
                        Ok(kept) => kept,
                        Err(e) => {
                            self.stop();
                            return Err(e);
                        }
                    },
                    None => batch.records,
                };
                let batch = RecordBatch { records };
                self.last_batch = batch.records.clone();
                // `records` starts from the resumed checkpoint's count, which is caller input:
                // saturate rather than overflow.
                self.progress.records = self.progress.records.saturating_add(batch.records.len() as u64);
                self.progress.batches = self.progress.batches.saturating_add(1);
                if let Some(total) = total_size {
                    self.progress.total_size = Some(self.base.saturating_add(total));
                }
                Ok(Some(batch))
            }
        }
    }

    fn stop(&mut self) {
        self.finished = true;
        if let Some(t) = &self.task {
            t.abort();
        }
        self.rx = None;
        self.pending = None;
        self.unresolved = None;
    }

    /// Records and batches delivered, and the expected total.
    pub fn progress(&self) -> Progress {
        let mut p = Progress { missing: self.missing.load(Ordering::Relaxed), ..self.progress };
        if let Some(b) = &self.bulk {
            b.fill(&mut p);
        }
        p
    }

    /// `ExportMode::Bulk`: why the records come from the REST query API instead of a Bulk job
    /// (Salesforce's refusal with its `errorCode`, a failed job's `errorMessage`, an
    /// incremental export, a REST checkpoint); `None` while Bulk reads them, and for REST streams.
    pub fn fallback_reason(&self) -> Option<String> {
        self.bulk.as_ref().and_then(BulkMark::fallback)
    }

    /// `ExportMode::Bulk`: a handle that reads the job's state, `numberRecordsProcessed` and
    /// `retries` from any task or thread, also while [`ExportStream::next_batch`] waits for the
    /// job; `None` for a REST stream.
    pub fn bulk_watch(&self) -> Option<crate::export::BulkWatch> {
        self.bulk.as_ref().map(BulkMark::watch)
    }

    /// `ExportMode::Bulk`: the Bulk API 2.0 job's id (`750…`) once created or resumed.
    pub fn bulk_job_id(&self) -> Option<String> {
        self.bulk.as_ref().and_then(BulkMark::job_id)
    }

    /// A handle that cancels this stream from any thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    /// The fields the stream selects, in order (`Id` first unless the spec lists it,
    /// `SystemModstamp` next in incremental mode, then the spec's fields). Empty for an
    /// every-field export until [`ExportStream::ready`] or the first [`ExportStream::next_batch`].
    /// For a SOQL query, the columns derived from its SELECT list
    /// ([`crate::soql::SoqlScan::columns`]: a child subquery or a `TYPEOF` is one column holding JSON).
    pub fn fields(&self) -> &[FieldPath] {
        &self.fields
    }

    /// Query requests made so far by this stream (including a failed locator request before a
    /// restart).
    pub fn api_calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// True when the prefetch task is not running (never started, finished, or stopped).
    pub fn is_idle(&self) -> bool {
        self.task.as_ref().is_none_or(|t| t.is_finished())
    }
}

impl Drop for ExportStream {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::ExportSpec;

    #[test]
    fn stream_is_send() {
        fn is_send<T: Send>() {}
        is_send::<ExportStream>();
        is_send::<CancelHandle>();
    }

    /// Bindings drive these futures from other runtimes' threads: they must be `Send`.
    /// (Type-checked only; never called.)
    #[allow(dead_code, clippy::let_underscore_future)]
    fn export_futures_are_send(client: &Client, key: &ConnectionKey, spec: ExportSpec, stream: &mut ExportStream) {
        fn send<T: Send>(_: &T) {}
        send(&stream.next_batch());
        send(&client.export_page(key, &spec, crate::export::PageRequest { page: 1, limit: None }));
        let req = ExportRequest::new(spec);
        send(&client.export_to_writer(key, req.clone(), crate::export::ExportFormat::Csv, Vec::new(), None));
        send(&client.export_to_path(key, req, crate::export::ExportFormat::Csv, "x.csv", None));
        let q = crate::export::QueryRequest::new("SELECT Id FROM Contact");
        send(&client.query_one(key, "SELECT Id FROM Contact", &crate::soql::Params::new()));
        send(&client.query_to_writer(key, q.clone(), crate::export::ExportFormat::Csv, Vec::new(), None));
        send(&client.query_to_path(key, q, crate::export::ExportFormat::Csv, "x.csv", None));
    }
}
