//! Streaming exports: every record of a spec, in batches, resumable.
//!
//! An [`ExportStream`] reads from a `RecordSource` (today the REST query source; a Bulk API 2.0
//! source can sit behind the same interface) in a spawned task that prefetches the next batch
//! while the caller consumes the current one. Memory is bounded: at most one batch is being
//! fetched and one is ready, besides the one the caller holds.
//!
//! ## Order, checkpoints, recovery
//! - Full mode: `SELECT Id, … FROM X ORDER BY Id ASC`; a checkpoint is the last Id delivered and
//!   a resume adds `WHERE Id > 'last'`.
//! - Incremental mode (`since`): `SELECT Id, SystemModstamp, … WHERE SystemModstamp >= since
//!   ORDER BY SystemModstamp ASC, Id ASC`; a checkpoint is (last SystemModstamp `t`, last Id). A
//!   resume reads the rest in two keyset queries, without OR (not every SOQL engine in the path
//!   accepts it, and it defeats the SystemModstamp index): first the records tied at `t`
//!   (`SystemModstamp = t AND Id > 'last'`), then `SystemModstamp > t`. `Progress::total_size`
//!   grows when the second query starts.
//! - A query locator belongs to the session that created it [salesforce-api.md §4 "Cursors"]:
//!   when following `nextRecordsUrl` fails with `INVALID_SESSION_ID` (the client has already
//!   refreshed) or `INVALID_QUERY_LOCATOR`, the source restarts with the keyset query from the last
//!   record it fetched, so no record is lost or repeated. If the restarted query itself fails, or
//!   the locator dies again before the restart returned any record, the error propagates.
//! - Streaming costs `ceil(N / batch)` query calls (+1 per restart) (D15).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::Client;
use crate::query::{QueryOptions, QueryPage};
use crate::error::{Error, ErrorKind, Result};
use crate::export::ExportSpec;
use crate::query::{RawRecord, Record, record_id};
use crate::soql::{CmpOp, Condition, Direction, FieldPath, SObjectName, SalesforceId, SoqlDateTime, SoqlQuery};
use crate::store::ConnectionKey;

/// What to stream.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// The sObject, fields and filter.
    pub spec: ExportSpec,
    /// Incremental mode: only records with `SystemModstamp >= since` (inclusive). Accepts
    /// Salesforce's `2024-01-01T00:00:00.000+0000` and RFC 3339 (`2024-01-01T00:00:00Z`).
    pub since: Option<String>,
    /// Continue after this checkpoint (from [`ExportStream::checkpoint`] or
    /// [`Checkpoint::from_token`]); it must be for the same sObject and mode.
    pub resume_from: Option<Checkpoint>,
    /// Include soft-deleted and archived rows (`queryAll`) [salesforce-api.md §4].
    pub include_deleted: bool,
    /// `Sforce-Query-Options: batchSize` (200..=2000; Salesforce may return fewer); `None` uses the
    /// client's configured default.
    pub batch_size: Option<u32>,
    /// Cancel through this handle (e.g. one kept by the host before calling
    /// [`crate::Client::export_to_path`]); `None` gives the stream a handle of its own
    /// ([`ExportStream::cancel_handle`]).
    pub cancel: Option<CancelHandle>,
}

impl ExportRequest {
    /// A full export of `spec` with default options.
    pub fn new(spec: ExportSpec) -> Self {
        ExportRequest { spec, since: None, resume_from: None, include_deleted: false, batch_size: None, cancel: None }
    }
    /// Sets incremental mode.
    pub fn since(mut self, since: impl Into<String>) -> Self {
        self.since = Some(since.into());
        self
    }
    /// Resumes after a checkpoint.
    pub fn resume_from(mut self, checkpoint: Checkpoint) -> Self {
        self.resume_from = Some(checkpoint);
        self
    }
    /// Includes deleted rows (`queryAll`).
    pub fn include_deleted(mut self, yes: bool) -> Self {
        self.include_deleted = yes;
        self
    }
    /// Sets the requested batch size.
    pub fn batch_size(mut self, n: u32) -> Self {
        self.batch_size = Some(n);
        self
    }
    /// Cancels the export when `handle` is cancelled (from any thread).
    pub fn cancel_with(mut self, handle: CancelHandle) -> Self {
        self.cancel = Some(handle);
        self
    }
}

/// A batch of records, as Salesforce returned them (`attributes` included): validated JSON text
/// per record, decoded only on demand (see [`RawRecord`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordBatch {
    /// The records, in the stream's order.
    pub records: Vec<RawRecord>,
}

impl RecordBatch {
    /// Every record decoded into a [`Record`] map. `Protocol` if one cannot be (none known: the
    /// text was validated when read).
    pub fn to_records(&self) -> Result<Vec<Record>> {
        self.records.iter().map(RawRecord::to_record).collect()
    }

    /// Appends the batch as one JSON array (`[rec,rec,…]`, records as received) to `out`.
    pub fn write_json_array(&self, out: &mut Vec<u8>) {
        out.reserve(self.records.iter().map(|r| r.json().len() + 1).sum::<usize>() + 2);
        out.push(b'[');
        for (i, r) in self.records.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(r.json().as_bytes());
        }
        out.push(b']');
    }

    /// Appends the batch as NDJSON (one record per line, each line ending in `\n`) to `out`.
    pub fn write_ndjson(&self, out: &mut Vec<u8>) {
        out.reserve(self.records.iter().map(|r| r.json().len() + 1).sum::<usize>());
        for r in &self.records {
            r.write_compact(out);
            out.push(b'\n');
        }
    }
}

/// Progress of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Records delivered so far (including those before the checkpoint resumed from).
    pub records: u64,
    /// Batches delivered so far (this stream only).
    pub batches: u64,
    /// Records expected in all: Salesforce's `totalSize` of the query (plus the records before the
    /// checkpoint resumed from); `None` until the first response.
    pub total_size: Option<u64>,
}

// ---- checkpoints ----------------------------------------------------------------------------

const CHECKPOINT_VERSION: u32 = 1;

/// Where a stream stands: enough to resume it in another process.
///
/// Serialised by [`Checkpoint::to_token`] as an opaque, versioned token (base64url of a small
/// JSON document); it binds the sObject and the mode (full or incremental) so it cannot resume a
/// different export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    v: u32,
    sobject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_modstamp: Option<String>,
    records: u64,
}

/// A position in the stream's order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Position {
    id: SalesforceId,
    modstamp: Option<SoqlDateTime>,
}

impl Checkpoint {
    fn new(sobject: &SObjectName, since: Option<SoqlDateTime>, pos: Option<&Position>, records: u64) -> Self {
        Checkpoint {
            v: CHECKPOINT_VERSION,
            sobject: sobject.as_str().to_string(),
            since: since.map(|t| t.to_salesforce()),
            last_id: pos.map(|p| p.id.as_str().to_string()),
            last_modstamp: pos.and_then(|p| p.modstamp).map(|t| t.to_salesforce()),
            records,
        }
    }

    /// The opaque token (URL-safe base64 without padding).
    pub fn to_token(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Parses a token from [`Checkpoint::to_token`]; `InvalidArgument` for anything else
    /// (garbage, another version, malformed Id or datetime, inconsistent mode).
    pub fn from_token(token: &str) -> Result<Self> {
        let bad = |why: &str| Error::invalid_argument(format!("invalid checkpoint token: {why}"));
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| bad("not base64url"))?;
        let cp: Checkpoint = serde_json::from_slice(&bytes).map_err(|_| bad("not a checkpoint document"))?;
        if cp.v != CHECKPOINT_VERSION {
            return Err(bad(&format!("version {} is not supported", cp.v)));
        }
        SObjectName::new(&cp.sobject).map_err(|_| bad("bad sObject name"))?;
        if let Some(id) = &cp.last_id {
            SalesforceId::new(id).map_err(|_| bad("bad record Id"))?;
        }
        for t in [&cp.since, &cp.last_modstamp].into_iter().flatten() {
            SoqlDateTime::parse(t).map_err(|_| bad("bad datetime"))?;
        }
        // Full mode has no SystemModstamp; incremental mode has both parts of the position or neither.
        let consistent = matches!(
            (&cp.since, &cp.last_id, &cp.last_modstamp),
            (None, _, None) | (Some(_), Some(_), Some(_)) | (Some(_), None, None)
        );
        if !consistent {
            return Err(bad("inconsistent mode"));
        }
        Ok(cp)
    }

    /// The sObject this checkpoint belongs to.
    pub fn sobject(&self) -> &str {
        &self.sobject
    }
    /// Records delivered up to this checkpoint.
    pub fn records(&self) -> u64 {
        self.records
    }
    /// The last record Id delivered, if any.
    pub fn last_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }
    /// Incremental mode: the last SystemModstamp delivered (`…+0000` form). After a complete
    /// incremental export, this is the `since` for the next one.
    pub fn last_modstamp(&self) -> Option<&str> {
        self.last_modstamp.as_deref()
    }
    /// Incremental mode: the export's lower bound (`…+0000` form).
    pub fn since(&self) -> Option<&str> {
        self.since.as_deref()
    }

    fn position(&self) -> Result<Option<Position>> {
        match &self.last_id {
            None => Ok(None),
            Some(id) => Ok(Some(Position {
                id: SalesforceId::new(id)?,
                modstamp: self.last_modstamp.as_deref().map(SoqlDateTime::parse).transpose()?,
            })),
        }
    }
}

// ---- cancellation ---------------------------------------------------------------------------

/// Cancels a stream from any thread: [`CancelHandle::cancel`]. The stream's prefetch task stops at
/// once and [`ExportStream::next_batch`] returns `Cancelled`.
#[derive(Debug, Clone)]
pub struct CancelHandle {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for CancelHandle {
    fn default() -> Self {
        CancelHandle::new()
    }
}

impl CancelHandle {
    /// A new handle, not cancelled; give it to [`ExportRequest::cancel_with`].
    pub fn new() -> Self {
        CancelHandle { tx: Arc::new(watch::channel(false).0) }
    }
    /// Requests cancellation (idempotent; no runtime needed).
    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }
    /// True once cancelled.
    pub fn is_cancelled(&self) -> bool {
        *self.tx.borrow()
    }
    async fn cancelled(mut rx: watch::Receiver<bool>) {
        // Err = every sender dropped: nobody can observe the stream any more; stop too.
        let _ = rx.wait_for(|c| *c).await;
    }
}

// ---- sources --------------------------------------------------------------------------------

/// A batch from a source, with the source's total when it knows it.
pub(crate) struct SourceBatch {
    records: Vec<RawRecord>,
    total_size: Option<u64>,
    /// The position after the batch's last record (decoded by the source, off the consumer's
    /// thread).
    last_position: Option<Position>,
}

/// Where a stream's records come from: REST query + `nextRecordsUrl` today; a Bulk API 2.0 job
/// later. A source delivers records in the stream's order and never repeats one.
pub(crate) trait RecordSource: Send + 'static {
    /// The next non-empty batch, or `None` at the end.
    fn next_batch(&mut self) -> BoxFuture<'_, Result<Option<SourceBatch>>>;
}

enum RestState {
    Start,
    More(String),
    Done,
}

/// The REST query source (see the module docs).
struct RestSource {
    client: Client,
    key: ConnectionKey,
    spec: ExportSpec,
    fields: Vec<FieldPath>,
    since: Option<SoqlDateTime>,
    opts: QueryOptions,
    state: RestState,
    /// Last record fetched (not necessarily delivered yet).
    position: Option<Position>,
    /// Records fetched before the current query started (resume base + earlier queries).
    before_query: u64,
    /// Records fetched by the current query.
    in_query: u64,
    /// Incremental resume: the current query reads the records tied at the position's
    /// SystemModstamp; when it ends, the `SystemModstamp > t` query follows.
    in_ties: bool,
    /// Incremental resume: the tied records are done; the next query is `SystemModstamp > t`.
    ties_done: bool,
    calls: Arc<AtomicU64>,
}

/// True when a `nextRecordsUrl` request failed because the locator is dead (its session expired,
/// or `INVALID_QUERY_LOCATOR`).
pub(crate) fn is_dead_locator(e: &Error) -> bool {
    e.kind() == ErrorKind::SessionExpired
        || matches!(e.error_code(), Some("INVALID_SESSION_ID") | Some("INVALID_QUERY_LOCATOR"))
}

impl RestSource {
    fn query(&self) -> Result<String> {
        let id = FieldPath::new("Id")?;
        let stamp = FieldPath::new("SystemModstamp")?;
        let mut q = SoqlQuery::new(self.spec.sobject().clone()).select_all(self.fields.iter().cloned());
        if let Some(f) = self.spec.filter() {
            q = q.filter(f.clone());
        }
        match self.since {
            None => {
                if let Some(p) = &self.position {
                    q = q.filter(Condition::cmp(id.clone(), CmpOp::Gt, p.id.clone()));
                }
                q = q.order_by(id, Direction::Asc);
            }
            Some(since) => {
                q = q.filter(Condition::cmp(stamp.clone(), CmpOp::Ge, since));
                if let Some(p) = &self.position {
                    let t = p.modstamp.ok_or_else(|| Error::internal("incremental position without SystemModstamp"))?;
                    if self.ties_done {
                        q = q.filter(Condition::cmp(stamp.clone(), CmpOp::Gt, t));
                    } else {
                        q = q
                            .filter(Condition::cmp(stamp.clone(), CmpOp::Eq, t))
                            .filter(Condition::cmp(id.clone(), CmpOp::Gt, p.id.clone()));
                    }
                }
                q = q.order_by(stamp, Direction::Asc).order_by(id, Direction::Asc);
            }
        }
        q.to_soql()
    }

    fn take(&mut self, mut page: QueryPage) -> Result<SourceBatch> {
        let total = self.before_query + page.total_size;
        if let Some(last) = page.records.last() {
            self.position = Some(position_of(last, self.since.is_some())?);
        }
        let last_position = if page.records.is_empty() { None } else { self.position.clone() };
        self.in_query += page.records.len() as u64;
        self.state = if page.done {
            RestState::Done
        } else {
            match page.next_records_url.take() {
                Some(url) => RestState::More(url),
                None => {
                    return Err(Error::new(ErrorKind::Protocol, "a query result has done=false but no nextRecordsUrl"));
                }
            }
        };
        Ok(SourceBatch { records: page.records, total_size: Some(total), last_position })
    }

    async fn next(&mut self) -> Result<Option<SourceBatch>> {
        let mut fetched_since_restart = true;
        loop {
            let batch = match std::mem::replace(&mut self.state, RestState::Done) {
                RestState::Done if self.in_ties => {
                    // The records tied at the checkpoint's SystemModstamp are done; read the rest.
                    self.in_ties = false;
                    self.ties_done = true;
                    self.state = RestState::Start;
                    continue;
                }
                RestState::Done => return Ok(None),
                RestState::Start => {
                    let soql = self.query()?;
                    self.in_ties = self.since.is_some() && self.position.is_some() && !self.ties_done;
                    self.before_query += self.in_query;
                    self.in_query = 0;
                    let page = self.client.query_page(&self.key, &soql, &self.opts).await?;
                    self.calls.fetch_add(1, Ordering::Relaxed);
                    self.take(page)?
                }
                RestState::More(url) => match self.client.query_more(&self.key, &url, &self.opts).await {
                    Ok(page) => {
                        self.calls.fetch_add(1, Ordering::Relaxed);
                        self.take(page)?
                    }
                    Err(e) if is_dead_locator(&e) && fetched_since_restart => {
                        self.calls.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(target: "sfcrm::export", sobject = %self.spec.sobject(),
                            error_code = e.error_code().unwrap_or(""), "query locator lost; restarting from the last record fetched");
                        self.state = RestState::Start;
                        self.in_ties = false;
                        self.ties_done = false;
                        fetched_since_restart = false;
                        continue;
                    }
                    Err(e) => return Err(e),
                },
            };
            if batch.records.is_empty() {
                continue; // an empty page that is not the end: keep reading (never conclude early)
            }
            return Ok(Some(batch));
        }
    }
}

impl RecordSource for RestSource {
    fn next_batch(&mut self) -> BoxFuture<'_, Result<Option<SourceBatch>>> {
        Box::pin(self.next())
    }
}

fn position_of(record: &RawRecord, incremental: bool) -> Result<Position> {
    let record = &record.to_record()?;
    let id = record_id(record)?;
    let modstamp = if incremental {
        let text = record
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("SystemModstamp"))
            .and_then(|(_, v)| v.as_str())
            .ok_or_else(|| Error::new(ErrorKind::Protocol, format!("record {id} has no SystemModstamp")))?;
        Some(SoqlDateTime::parse(text).map_err(|_| {
            Error::new(ErrorKind::Protocol, format!("record {id} has a malformed SystemModstamp {text:?}"))
        })?)
    } else {
        None
    };
    Ok(Position { id, modstamp })
}

// ---- the stream -----------------------------------------------------------------------------

/// A streaming export (see the module docs). Created by [`Client::export_stream`]; nothing is
/// requested until the first [`ExportStream::next_batch`]. Dropping it stops its prefetch task.
pub struct ExportStream {
    pending: Option<Box<dyn RecordSource>>,
    rx: Option<mpsc::Receiver<Result<Option<SourceBatch>>>>,
    task: Option<JoinHandle<()>>,
    cancel: CancelHandle,
    deferred_error: Option<Error>,
    finished: bool,
    sobject: SObjectName,
    since: Option<SoqlDateTime>,
    fields: Vec<FieldPath>,
    position: Option<Position>,
    /// The last batch delivered (for record-granular checkpoints).
    last_batch: Vec<RawRecord>,
    progress: Progress,
    calls: Arc<AtomicU64>,
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

impl Client {
    /// Streams every record of `request.spec` (see [`ExportStream`] and the module docs).
    ///
    /// Invalid requests (bad `since`, a checkpoint for another sObject or mode) are reported by
    /// the first [`ExportStream::next_batch`], before any request is made.
    pub fn export_stream(&self, key: &ConnectionKey, request: ExportRequest) -> ExportStream {
        let calls = Arc::new(AtomicU64::new(0));
        let cancel = request.cancel.clone().unwrap_or_default();
        let spec = request.spec;
        let mut fields: Vec<FieldPath> = Vec::with_capacity(spec.fields().len() + 2);
        let mut stream = ExportStream {
            pending: None,
            rx: None,
            task: None,
            cancel,
            deferred_error: None,
            finished: false,
            sobject: spec.sobject().clone(),
            since: None,
            fields: Vec::new(),
            position: None,
            last_batch: Vec::new(),
            progress: Progress::default(),
            calls: calls.clone(),
        };
        let prepared = (|| -> Result<()> {
            let since = request.since.as_deref().map(SoqlDateTime::parse).transpose()?;
            if !spec.has_field("Id") {
                fields.push(FieldPath::new("Id")?);
            }
            if since.is_some() && !spec.has_field("SystemModstamp") {
                fields.push(FieldPath::new("SystemModstamp")?);
            }
            fields.extend(spec.fields().iter().cloned());
            let mut position = None;
            let mut base = 0;
            if let Some(cp) = &request.resume_from {
                if !cp.sobject.eq_ignore_ascii_case(spec.sobject().as_str()) {
                    return Err(Error::invalid_argument(format!(
                        "the checkpoint is for sObject {}, not {}",
                        cp.sobject,
                        spec.sobject()
                    )));
                }
                let cp_since = cp.since.as_deref().map(SoqlDateTime::parse).transpose()?;
                if cp_since != since {
                    return Err(Error::invalid_argument(
                        "the checkpoint was taken with a different `since` (or mode) than this request",
                    ));
                }
                position = cp.position()?;
                base = cp.records;
            }
            let opts = QueryOptions {
                include_deleted: request.include_deleted,
                batch_size: request.batch_size.or(self.config().batch_size()),
            };
            stream.since = since;
            stream.position = position.clone();
            stream.progress.records = base;
            stream.pending = Some(Box::new(RestSource {
                client: self.clone(),
                key: key.clone(),
                spec: spec.clone(),
                fields: fields.clone(),
                since,
                opts,
                state: RestState::Start,
                position,
                before_query: base,
                in_query: 0,
                in_ties: false,
                ties_done: false,
                calls,
            }));
            Ok(())
        })();
        stream.fields = fields;
        if let Err(e) = prepared {
            stream.deferred_error = Some(e);
        }
        stream
    }
}

/// Fetches ahead of the consumer. Sends `Ok(Some(batch))` per batch, then exactly one `Ok(None)`
/// at the end or one `Err`; a channel closed without either means the task stopped early
/// (cancelled, aborted or panicked), which the consumer never mistakes for the end.
async fn prefetch(mut source: Box<dyn RecordSource>, tx: mpsc::Sender<Result<Option<SourceBatch>>>, cancel: watch::Receiver<bool>) {
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
    /// The next batch; `Ok(None)` at the end. After an error or cancellation the stream is over
    /// (resume from [`ExportStream::checkpoint`] with a new stream).
    ///
    /// Errors: `Cancelled`; `InvalidArgument` for a bad request; the query errors
    /// (`SessionExpired`, `ReconnectRequired`, `RateLimited`, `Api`, `Network`, …).
    pub async fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
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
        if self.rx.is_none() {
            let Some(source) = self.pending.take() else {
                self.finished = true;
                return Ok(None);
            };
            let (tx, rx) = mpsc::channel(1);
            self.task = Some(tokio::spawn(prefetch(source, tx, self.cancel.tx.subscribe())));
            self.rx = Some(rx);
        }
        let rx = self.rx.as_mut().expect("receiver set above");
        let cancel = self.cancel.tx.subscribe();
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
                if let Some(p) = batch.last_position {
                    self.position = Some(p);
                }
                self.last_batch = batch.records.clone();
                self.progress.records += batch.records.len() as u64;
                self.progress.batches += 1;
                if batch.total_size.is_some() {
                    self.progress.total_size = batch.total_size;
                }
                Ok(Some(RecordBatch { records: batch.records }))
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
    }

    /// A checkpoint after the last delivered batch (or the one resumed from, before any batch).
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint::new(&self.sobject, self.since, self.position.as_ref(), self.progress.records)
    }

    /// A checkpoint right after `record` (record-granular, for callers that stop mid-batch).
    /// `InvalidArgument` when the record has no usable Id (or no SystemModstamp in incremental
    /// mode).
    pub fn checkpoint_after(&self, record: &RawRecord) -> Result<Checkpoint> {
        let pos = position_of(record, self.since.is_some())
            .map_err(|e| Error::invalid_argument(format!("cannot checkpoint after this record: {}", e.message())))?;
        let n = self.last_batch.len() as u64;
        let index = self.last_batch.iter().position(|r| r.same_as(record)).or_else(|| {
            self.last_batch.iter().position(|r| r.id().is_ok_and(|id| id == pos.id))
        });
        let records = match index {
            Some(i) => self.progress.records - n + i as u64 + 1,
            None => self.progress.records,
        };
        Ok(Checkpoint::new(&self.sobject, self.since, Some(&pos), records))
    }

    /// A checkpoint right after the record at `index` of the last delivered batch (0-based):
    /// what an iterator that stops mid-batch hands out, without passing records back.
    /// `InvalidArgument` when `index` is outside the last batch, or the record has no usable Id
    /// (or no SystemModstamp in incremental mode).
    pub fn checkpoint_at(&self, index: usize) -> Result<Checkpoint> {
        let record = self.last_batch.get(index).ok_or_else(|| {
            Error::invalid_argument(format!(
                "cannot checkpoint at record {index}: the last batch has {} records",
                self.last_batch.len()
            ))
        })?;
        let pos = position_of(record, self.since.is_some())
            .map_err(|e| Error::invalid_argument(format!("cannot checkpoint after this record: {}", e.message())))?;
        let records = self.progress.records - self.last_batch.len() as u64 + index as u64 + 1;
        Ok(Checkpoint::new(&self.sobject, self.since, Some(&pos), records))
    }

    /// Records and batches delivered, and the expected total.
    pub fn progress(&self) -> Progress {
        self.progress
    }

    /// A handle that cancels this stream from any thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    /// The fields the stream selects, in order (`Id` first unless the spec lists it,
    /// `SystemModstamp` next in incremental mode, then the spec's fields).
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
    }
}
