//! Exports: the lazy record iterator (`Client.export`), file exports (`Client.export_to_csv` /
//! `export_to_ndjson`), the export spec from Python arguments, and the seed paginator.
//!
//! Records: the core delivers each record as the JSON text Salesforce sent ([`RawRecord`]); `next`
//! builds that record's dict straight from the text ([`crate::rawjson`]: no `serde_json` value in
//! between, object keys interned for the whole export), with the GIL held. Fetching and reading
//! pages happens on the core's runtime with the GIL released, the next page prefetched meanwhile.
//!
//! Memory: the iterator holds the batch being handed out (as raw records: the page text plus one
//! range per record; one Python dict exists per record only while the caller holds it) plus what
//! the core's prefetch holds (one queued batch and one in flight), each at most `batch_size`
//! records (2000 by default): bounded whatever the export's size (measured in
//! tests/test_memory.py). A file export never builds Python objects for records at all.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt, PyString};
use sfcrm_core::RawRecord;
use sfcrm_core::export::{
    BulkOptions, BulkWatch, CancelHandle, Checkpoint, ExportFormat, ExportMode, ExportRequest, ExportSpec, ExportStream,
    Progress as CoreProgress,
};
use sfcrm_core::paginator::PageArg;
use sfcrm_core::ConnectionKey;
use sfcrm_core::{Error, ErrorKind};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::error::{IntoPyResult, to_py};
use crate::rawjson::{self, KeyCache, RawToPy};
use crate::runtime;

/// How long an interrupted export may take to wind down (stop its prefetch, remove its temporary
/// file) before `KeyboardInterrupt` is raised anyway. Cancellation is immediate in the core, so
/// this is normally a few milliseconds; the bound keeps Ctrl-C under a second.
const CANCEL_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

/// The export spec from `type` and `fields`.
///
/// - `fields=None`: `type` must be a built-in (`contacts`, `deals`, `notes`: the seed's queries);
///   anything else is `UnknownExportType` naming the three and the `fields=` form, before any request.
/// - `fields=[...]`: `type` is a built-in name (its sObject) or any sObject API name
///   (`Account`, `Invoice__c`); every name is validated (`InvalidIdentifier`).
pub fn spec(type_name: &str, fields: Option<Vec<String>>) -> PyResult<ExportSpec> {
    match fields {
        None => ExportSpec::builtin(type_name).py_err(),
        Some(fields) => {
            let sobject = match ExportSpec::builtin(type_name) {
                Ok(b) => b.sobject().to_string(),
                Err(_) => type_name.to_owned(),
            };
            ExportSpec::custom(&sobject, &fields).py_err()
        }
    }
}

/// The `fields=` argument: None, a list (or tuple) of field paths, or `"*"` (every field, expanded
/// by the core from describe; a list `["*"]` means the same). Any other `str` is refused: a str is
/// a sequence of characters in Python, so `fields="Name"` would otherwise read as `N`, `a`, ...
pub fn fields_arg(fields: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<String>>> {
    let Some(f) = fields else { return Ok(None) };
    if f.is_none() {
        return Ok(None);
    }
    if let Ok(s) = f.cast::<PyString>() {
        let s = s.to_str()?;
        if s.trim() == "*" {
            return Ok(Some(vec!["*".to_owned()]));
        }
        return Err(to_py(Error::invalid_argument(format!(
            "fields must be a list of field names or \"*\" (every field), not the string {s:?}: write fields=[{s:?}]"
        ))));
    }
    f.extract::<Vec<String>>().map(Some).map_err(|_| {
        to_py(Error::invalid_argument("fields must be a list of field names (str) or \"*\" (every field)"))
    })
}

/// The export spec with an optional `where` condition and its bind values (`where` is one SOQL
/// condition such as `Industry = :industry AND CreatedDate = LAST_N_DAYS:30`, checked by the
/// core: balanced, no clause keyword at its top level). `params` without `where` is refused.
pub fn filtered_spec(
    type_name: &str,
    fields: Option<Vec<String>>,
    r#where: Option<String>,
    params: Option<&Bound<'_, PyAny>>,
) -> PyResult<ExportSpec> {
    let spec = spec(type_name, fields)?;
    let params = crate::params::from_py(params)?;
    match r#where {
        Some(w) => spec.with_where(&w, &params).py_err(),
        None if params.is_empty() => Ok(spec),
        None => Err(to_py(Error::invalid_argument(
            "params= needs where=: the bind values fill :name placeholders of the where condition",
        ))),
    }
}

/// A Python page or limit argument (`name` in messages): None, an int, a float, or query-string
/// text, read by the core's `PageArg` rules (`page()`, `limit()`), the same as Node's. A bool is
/// `InvalidArgumentError` (it is an int in Python, but never a page or a size).
pub fn page_arg(name: &str, value: Option<&Bound<'_, PyAny>>) -> PyResult<PageArg> {
    let Some(p) = value else { return Ok(PageArg::Missing) };
    if p.is_none() {
        return Ok(PageArg::Missing);
    }
    if p.is_instance_of::<pyo3::types::PyBool>() {
        return Err(to_py(Error::invalid_argument(format!("{name} must be an int or a string, not a bool"))));
    }
    if let Ok(s) = p.cast::<PyString>() {
        return Ok(PageArg::Text(s.to_string()));
    }
    if p.is_instance_of::<PyInt>() {
        // Beyond i128 the value is far out of range either way: +-infinity then fails the rule.
        let n = p.extract::<i128>().map(|n| n as f64).unwrap_or_else(|_| {
            if p.lt(0).unwrap_or(false) { f64::NEG_INFINITY } else { f64::INFINITY }
        });
        return Ok(PageArg::Number(n));
    }
    if let Ok(f) = p.cast::<PyFloat>() {
        return Ok(PageArg::Number(f.value()));
    }
    Err(to_py(Error::invalid_argument(format!("{name} must be an int or a string"))))
}

/// The seed's `paginator(items, page, per_page)` as the SDK computes it (the core's
/// `paginator::paginate`): a dict with the keys `page, per_page, total, total_pages, next_page,
/// prev_page, offsetValue`, in that order. `page` follows JavaScript `parseInt` for strings; pages
/// below 1 are 1 and zero items give `total_pages` 0 (seed defect D14). `per_page` follows the
/// `limit` rule of `Client.export_page`.
#[pyfunction]
#[pyo3(signature = (items, page=None, per_page=None))]
pub fn paginator<'py>(
    py: Python<'py>,
    items: u64,
    page: Option<&Bound<'py, PyAny>>,
    per_page: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let page = page_arg("page", page)?.page().py_err()?;
    let per_page = page_arg("per_page", per_page)?.limit().py_err()?;
    let p = sfcrm_core::paginator::paginate(items, page, per_page);
    let v = serde_json::to_value(&p).map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    rawjson::value(py, &v, false)
}

/// Progress of an export.
#[pyclass(module = "sfcrm._native", name = "Progress", frozen, get_all)]
#[derive(Clone)]
pub struct Progress {
    /// Records delivered so far (including those before the checkpoint resumed from).
    pub records: u64,
    /// Batches delivered so far (this run only).
    pub batches: u64,
    /// Records expected in all (Salesforce's `totalSize`), None until the first response.
    pub total_size: Option<u64>,
    /// Records `totalSize` announced that were deleted during the export (asked again at the end
    /// of a query, none remained); 0 normally. A query cut short is a `ProtocolError` instead.
    pub missing: u64,
    /// `mode="bulk"`: the Bulk API 2.0 job's last state seen (`"UploadComplete"`, `"InProgress"`,
    /// `"JobComplete"`, `"Failed"`, `"Aborted"`); None for REST and after a fallback to REST
    /// [bulk-and-parallel.md §1.3].
    pub job_state: Option<String>,
    /// `mode="bulk"`: the job's last `numberRecordsProcessed` seen (grows while the server works).
    pub records_processed: Option<u64>,
    /// `mode="bulk"`: the job's last `retries` seen (Salesforce's internal retries).
    pub job_retries: Option<u64>,
}

impl From<CoreProgress> for Progress {
    fn from(p: CoreProgress) -> Self {
        Progress {
            records: p.records,
            batches: p.batches,
            total_size: p.total_size,
            missing: p.missing,
            job_state: p.job_state.map(|s| s.as_str().to_owned()),
            records_processed: p.records_processed,
            job_retries: p.job_retries,
        }
    }
}

/// `p` with a Bulk job's live state (from [`BulkWatch`], also while a batch is awaited).
fn with_watch(mut p: CoreProgress, watch: Option<&BulkWatch>) -> CoreProgress {
    if let Some(w) = watch {
        if w.fallback_reason().is_none() {
            p.job_state = w.state().or(p.job_state);
            p.records_processed = w.records_processed().or(p.records_processed);
            p.job_retries = w.retries().or(p.job_retries);
        }
    }
    p
}

#[pymethods]
impl Progress {
    fn __repr__(&self) -> String {
        let total = self.total_size.map(|n| n.to_string()).unwrap_or_else(|| "None".into());
        let mut r = format!("Progress(records={}, batches={}, total_size={total}, missing={}", self.records, self.batches, self.missing);
        if let Some(s) = &self.job_state {
            let n = self.records_processed.map(|n| n.to_string()).unwrap_or_else(|| "None".into());
            r.push_str(&format!(", job_state='{s}', records_processed={n}"));
        }
        r + ")"
    }
}

/// The result of a file export.
#[pyclass(module = "sfcrm._native", name = "ExportSummary", frozen, get_all)]
pub struct ExportSummary {
    /// Records written by this run.
    pub records: u64,
    /// Salesforce query requests made.
    pub api_calls: u64,
    /// Checkpoint token after the last record: resumes *this* export if it stopped
    /// (`checkpoint=`); not the start of the next incremental run (that is `watermark`).
    pub checkpoint: String,
    /// The file written.
    pub path: PathBuf,
    /// Incremental exports (`since=` or `watermark=`): the token the next run passes as
    /// `watermark=` to get every later change exactly once; None for a full export.
    pub watermark: Option<String>,
    /// Records `totalSize` announced that were deleted during the export (0 normally).
    pub missing: u64,
}

#[pymethods]
impl ExportSummary {
    fn __repr__(&self) -> String {
        format!("ExportSummary(records={}, api_calls={}, path={:?}, missing={})", self.records, self.api_calls, self.path, self.missing)
    }
}

/// The `where=` and `params=` arguments of an export (see [`filtered_spec`]).
pub struct Filter<'a, 'py> {
    /// One SOQL condition, or None.
    pub r#where: Option<String>,
    /// Its bind values (a mapping), or None.
    pub params: Option<&'a Bound<'py, PyAny>>,
}

/// Arguments shared by `export`, `export_to_csv`, `export_to_ndjson`.
pub struct ExportArgs {
    /// The connection.
    pub key: ConnectionKey,
    /// What to export (see [`spec`]).
    pub spec: ExportSpec,
    /// Incremental mode: `SystemModstamp >= since`.
    pub since: Option<String>,
    /// Incremental mode from the previous run's watermark token.
    pub watermark: Option<String>,
    /// A checkpoint token to resume after.
    pub checkpoint: Option<String>,
    /// `queryAll` instead of `query`.
    pub include_deleted: bool,
    /// Requested batch size (200..=2000).
    pub batch_size: Option<u32>,
    /// REST or Bulk API 2.0, and the job's options (`crate::bulk::bulk_args`).
    pub bulk: (ExportMode, BulkOptions),
}

impl ExportArgs {
    /// The arguments of an export call: the key (`ConnectionKey::parse`) and the spec (see
    /// [`spec`]) are checked here.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        account_id: &str,
        owner: &str,
        type_name: &str,
        fields: Option<&Bound<'_, PyAny>>,
        filter: Filter<'_, '_>,
        since: Option<String>,
        checkpoint: Option<String>,
        include_deleted: bool,
        batch_size: Option<u32>,
    ) -> PyResult<Self> {
        Ok(ExportArgs {
            key: crate::store::key(account_id, owner)?,
            spec: filtered_spec(type_name, fields_arg(fields)?, filter.r#where, filter.params)?,
            since,
            watermark: None,
            checkpoint,
            include_deleted,
            batch_size,
            bulk: (ExportMode::Rest, BulkOptions::default()),
        })
    }

    /// Sets `mode=` and `bulk=` (see [`crate::bulk::bulk_args`]).
    pub fn with_bulk(mut self, mode: &str, bulk: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        self.bulk = crate::bulk::bulk_args(mode, bulk)?;
        Ok(self)
    }

    /// Sets the previous run's watermark token (`watermark=`).
    pub fn with_watermark(mut self, watermark: Option<String>) -> Self {
        self.watermark = watermark;
        self
    }

    fn request(self) -> PyResult<(ConnectionKey, ExportRequest)> {
        let mut r = ExportRequest::new(self.spec)
            .include_deleted(self.include_deleted)
            .mode(self.bulk.0)
            .bulk_options(self.bulk.1);
        if let Some(s) = self.since {
            r = r.since(s);
        }
        if let Some(w) = self.watermark {
            r = r.after_watermark(sfcrm_core::export::Watermark::from_token(&w).py_err()?);
        }
        if let Some(t) = self.checkpoint {
            r = r.resume_from(Checkpoint::from_token(&t).py_err()?);
        }
        if let Some(n) = self.batch_size {
            r = r.batch_size(n);
        }
        Ok((self.key, r))
    }
}

struct State {
    /// The stream; `None` while a batch is being fetched by another call, and after the end.
    stream: Option<ExportStream>,
    /// The batch being handed out (the records' JSON text, as received), and how many of its
    /// records were handed out.
    batch: Vec<RawRecord>,
    pos: usize,
    /// Python `str` objects of the object keys seen so far (shared across batches).
    keys: KeyCache,
    /// Checkpoint token after every record handed out before the current batch.
    base: String,
    done: bool,
    /// The stream reached its end (as opposed to an error, a cancel or `close`).
    completed: bool,
    /// `close()` was called: iteration just ends.
    closed: bool,
    progress: CoreProgress,
    /// The watermark token, once the export has ended (incremental exports).
    watermark: Option<String>,
    /// An error `ready` (or `fields`) raised: the next `next` raises it, then the iteration ends.
    failed: Option<PyErr>,
}

/// A lazy iterator over the records of an export or a SOQL query (`Client.export`,
/// `Client.query`: dicts, in Salesforce's key order, `attributes` included). Batches are fetched
/// on demand with the GIL released; only a few batches are held at any time (see the module
/// docs). `checkpoint` is the token to resume right after the last record handed out. Usable as a
/// context manager (closing cancels the prefetch).
#[pyclass(module = "sfcrm._native", name = "ExportIterator", frozen)]
pub struct ExportIterator {
    state: Arc<AsyncMutex<State>>,
    cancel: CancelHandle,
    lossless: bool,
    progress: Option<Py<PyAny>>,
    /// `mode="bulk"`: the job's live state, readable without waiting for a batch.
    watch: Option<BulkWatch>,
}

impl ExportIterator {
    /// Starts an export (nothing is requested before the first `next`).
    pub fn start(client: &sfcrm_core::Client, args: ExportArgs, lossless: bool, progress: Option<Py<PyAny>>) -> PyResult<Self> {
        let (key, request) = args.request()?;
        let resumed = request.resume_from.as_ref().map(Checkpoint::to_token);
        let stream = {
            let _g = runtime::runtime().enter();
            client.export_stream(&key, request)
        };
        Ok(Self::from_stream(stream, resumed, lossless, progress))
    }

    /// The iterator over any core [`ExportStream`] (an export's, or a SOQL query's: the core hands
    /// out the same stream type for both). `resumed` is the checkpoint token the stream was
    /// started from, if any.
    pub fn from_stream(stream: ExportStream, resumed: Option<String>, lossless: bool, progress: Option<Py<PyAny>>) -> Self {
        // Before any record: the checkpoint resumed from, or the fresh stream's own.
        let base = resumed.unwrap_or_else(|| stream.checkpoint().to_token());
        let cancel = stream.cancel_handle();
        let watch = stream.bulk_watch();
        let state = State { stream: Some(stream), batch: Vec::new(), pos: 0, keys: KeyCache::default(), base, done: false, completed: false, closed: false, progress: CoreProgress::default(), watermark: None, failed: None };
        ExportIterator { state: Arc::new(AsyncMutex::new(state)), cancel, lossless, progress, watch }
    }

    /// Locks the state: at once when it is free (the common case, once per record), else waiting
    /// with the GIL released (another thread may hold it during a fetch).
    fn lock(&self, py: Python<'_>) -> OwnedMutexGuard<State> {
        let m = self.state.clone();
        match m.try_lock_owned() {
            Ok(g) => g,
            Err(_) => {
                let m = self.state.clone();
                py.detach(move || m.blocking_lock_owned())
            }
        }
    }

    /// The checkpoint token after the last record handed out: the core's `checkpoint_at` on the
    /// batch being handed out (the stream keeps it), or the token from before the batch.
    fn checkpoint_of(st: &State) -> PyResult<String> {
        match &st.stream {
            Some(s) if st.pos > 0 => Ok(s.checkpoint_at(st.pos - 1).py_err()?.to_token()),
            _ => Ok(st.base.clone()),
        }
    }

    /// Makes sure `st.batch[st.pos..]` is non-empty, fetching batches as needed. False at the end.
    /// Progress reports for the callback are queued in `events`; the caller delivers them after
    /// releasing the state lock (a callback may read `checkpoint` or `progress`).
    fn fill(&self, py: Python<'_>, st: &mut State, events: &mut Vec<CoreProgress>) -> PyResult<bool> {
        if let Some(e) = st.failed.take() {
            st.done = true;
            return Err(e);
        }
        while st.pos >= st.batch.len() {
            if st.done {
                if !st.completed && !st.closed && self.cancel.is_cancelled() {
                    return Err(to_py(Error::new(ErrorKind::Cancelled, "the export was cancelled")));
                }
                return Ok(false);
            }
            let Some(mut stream) = st.stream.take() else {
                st.done = true;
                return Ok(false);
            };
            // Everything handed out so far is now before the next batch.
            st.base = if st.batch.is_empty() {
                st.base.clone()
            } else {
                stream.checkpoint().to_token()
            };
            st.batch = Vec::new();
            st.pos = 0;
            let cancel = self.cancel.clone();
            let got = runtime::wait_hooked(
                py,
                async move {
                    let r = stream.next_batch().await;
                    (stream, r)
                },
                |_| Ok(()),
                // Ctrl-C: the stream stops its prefetch and answers `Cancelled` at once; the task
                // then ends and drops it. Store writes in flight (spawn_blocking) still complete.
                move |_| {
                    cancel.cancel();
                    Some(CANCEL_GRACE)
                },
            );
            let (stream, result) = match got {
                Ok(v) => v,
                Err(e) => {
                    st.done = true;
                    return Err(e);
                }
            };
            match result {
                Ok(Some(batch)) => {
                    st.progress = stream.progress();
                    st.batch = batch.records;
                    st.stream = Some(stream);
                    if self.progress.is_some() {
                        events.push(st.progress);
                    }
                }
                Ok(None) if self.cancel.is_cancelled() => {
                    // The core's stream can report its end instead of `Cancelled` when a cancel
                    // races with its prefetch task stopping; an end seen after a cancel is a
                    // cancel (resuming from the checkpoint loses nothing either way).
                    st.done = true;
                    st.stream = Some(stream);
                    return Err(to_py(Error::new(ErrorKind::Cancelled, "the export was cancelled")));
                }
                Ok(None) => {
                    st.progress = stream.progress();
                    st.watermark = stream.watermark().map(|w| w.to_token());
                    st.base = stream.checkpoint().to_token();
                    st.done = true;
                    st.completed = true;
                    // Keep the stream for `checkpoint`; it is idle.
                    st.stream = Some(stream);
                    return Ok(false);
                }
                Err(e) => {
                    st.done = true;
                    st.stream = Some(stream);
                    return Err(to_py(e));
                }
            }
        }
        Ok(true)
    }
}

impl ExportIterator {
    /// Makes records available (fetching as needed), delivers queued progress reports with the
    /// lock released (a record is handed out only after they all returned: a raising callback
    /// loses no record), then runs `take` on the state.
    fn with_filled<'py, T>(&self, py: Python<'py>, take: impl Fn(&mut State) -> PyResult<T>) -> PyResult<Option<T>> {
        loop {
            let mut events = Vec::new();
            let mut st = self.lock(py);
            let filled = self.fill(py, &mut st, &mut events);
            if events.is_empty() {
                return if filled? { take(&mut st).map(Some) } else { Ok(None) };
            }
            drop(st);
            if let Some(cb) = &self.progress {
                for p in events {
                    cb.bind(py).call1((Progress::from(p),))?;
                }
            }
            filled?;
        }
    }
}

#[pymethods]
impl ExportIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.with_filled(py, |st| {
            let rec = RawToPy::new(py, self.lossless, &mut st.keys)?.convert(st.batch[st.pos].json())?;
            st.pos += 1;
            Ok(rec)
        })
    }

    /// The rest of the current batch, or the next batch; None at the end. Faster than iterating
    /// one record at a time when the caller processes batches (e.g. `DataFrame.from_records`).
    fn next_batch<'py>(&self, py: Python<'py>) -> PyResult<Option<Vec<Bound<'py, PyAny>>>> {
        self.with_filled(py, |st| {
            let mut out = Vec::with_capacity(st.batch.len() - st.pos);
            let mut conv = RawToPy::new(py, self.lossless, &mut st.keys)?;
            for r in &st.batch[st.pos..] {
                out.push(conv.convert(r.json())?);
            }
            st.pos = st.batch.len();
            Ok(out)
        })
    }

    /// Opaque token to resume right after the last record handed out (`export(..., checkpoint=)`).
    #[getter]
    fn checkpoint(&self, py: Python<'_>) -> PyResult<String> {
        let st = self.lock(py);
        Self::checkpoint_of(&st)
    }

    /// The checkpoint after record `index` (0-based) of the batch last returned by `next_batch`
    /// (used by the asyncio wrapper, which hands out records of a batch one by one).
    fn _checkpoint_at(&self, py: Python<'_>, index: usize) -> PyResult<String> {
        let st = self.lock(py);
        if index >= st.batch.len() {
            return Err(pyo3::exceptions::PyIndexError::new_err("no such record in the current batch"));
        }
        match &st.stream {
            Some(s) => Ok(s.checkpoint_at(index).py_err()?.to_token()),
            None => Ok(st.base.clone()),
        }
    }

    /// The field paths the records carry, in order (`Id` first, then the requested fields; for a
    /// query, the columns of its SELECT list, a child subquery or `TYPEOF` being one column). For
    /// `fields="*"` and a query's `*` / `FIELDS(...)`, reading this resolves the describe first
    /// (the core's `ExportStream::ready`: one describe call, cached; no records read), so the
    /// list is complete before the first record. A describe error is raised here and again by
    /// the next `next`.
    #[getter]
    fn fields(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.ready(py)?;
        let st = self.lock(py);
        Ok(st.stream.as_ref().map(|s| s.fields().iter().map(|f| f.as_str().to_owned()).collect()).unwrap_or_default())
    }

    /// The field paths as known now, without a request (the asyncio wrapper's `fields`: empty for
    /// an every-field export until `await it.ready()` or the first record).
    #[getter]
    fn _fields_now(&self, py: Python<'_>) -> Vec<String> {
        let st = self.lock(py);
        st.stream.as_ref().map(|s| s.fields().iter().map(|f| f.as_str().to_owned()).collect()).unwrap_or_default()
    }

    /// Resolves an every-field export's (or a `*` / `FIELDS(...)` query's) field list from the
    /// describe without reading records (blocking, GIL released; Ctrl-C cancels). Does nothing
    /// for other exports, or once records were read. Raises the describe's error (e.g. ApiError
    /// NOT_FOUND) or one found before any request (a missing bind name); the next `next` raises
    /// it again.
    fn ready(&self, py: Python<'_>) -> PyResult<()> {
        let mut st = self.lock(py);
        if let Some(e) = &st.failed {
            return Err(e.clone_ref(py));
        }
        if st.done || st.progress.batches > 0 {
            return Ok(());
        }
        let Some(mut stream) = st.stream.take() else { return Ok(()) };
        let cancel = self.cancel.clone();
        let got = runtime::wait_hooked(
            py,
            async move {
                let r = stream.ready().await;
                (stream, r)
            },
            |_| Ok(()),
            move |_| {
                cancel.cancel();
                Some(CANCEL_GRACE)
            },
        );
        match got {
            Ok((stream, result)) => {
                st.stream = Some(stream);
                result.map_err(|e| {
                    let err = to_py(e);
                    st.failed = Some(err.clone_ref(py));
                    err
                })
            }
            Err(e) => {
                st.done = true;
                Err(e)
            }
        }
    }

    /// Records and batches fetched so far, and the expected total.
    #[getter]
    fn progress(&self, py: Python<'_>) -> Progress {
        with_watch(self.lock(py).progress, self.watch.as_ref()).into()
    }

    /// Incremental exports (`since=` or `watermark=`): once the iteration has ended, the token
    /// the next run passes as `watermark=` (every later change then arrives exactly once, also
    /// rows committed late); None before the end and for full exports. Not `checkpoint`, which
    /// resumes this export if it stops.
    /// `mode="bulk"`: why the records come from the REST query API instead of a Bulk API 2.0
    /// job (Salesforce's refusal with its `errorCode`, e.g. a child subquery's
    /// `FEATURENOTENABLED`; a failed job's `errorMessage`; an incremental export); None while a
    /// job reads them, before it is known, and for `mode="rest"` [bulk-and-parallel.md §1.9].
    #[getter]
    fn fallback_reason(&self) -> Option<String> {
        self.watch.as_ref().and_then(BulkWatch::fallback_reason)
    }

    /// `mode="bulk"`: the Bulk API 2.0 job's id (`750…`) once created; None otherwise.
    #[getter]
    fn bulk_job_id(&self) -> Option<String> {
        self.watch.as_ref().and_then(BulkWatch::job_id)
    }

    #[getter]
    fn watermark(&self, py: Python<'_>) -> Option<String> {
        self.lock(py).watermark.clone()
    }

    /// Stops the export from any thread: records already fetched are still handed out, then
    /// `next` raises `Cancelled` (unless the export had already completed).
    fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Cancels the prefetch and ends the iteration (idempotent).
    fn close(&self, py: Python<'_>) {
        self.cancel.cancel();
        let mut st = self.lock(py);
        st.done = true;
        st.closed = true;
        st.batch = Vec::new();
        st.pos = 0;
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }
}

/// Writes an export to `path` natively (no Python objects per record) through the core's
/// `Client::export_to_path`: into a temporary file beside `path`, renamed over it only on success;
/// on error or Ctrl-C the temporary file is removed and any existing file at `path` is untouched.
/// `progress(Progress)` is called from the calling thread after each batch.
pub fn to_file(
    py: Python<'_>,
    client: &sfcrm_core::Client,
    args: ExportArgs,
    format: ExportFormat,
    path: PathBuf,
    progress: Option<Py<PyAny>>,
) -> PyResult<ExportSummary> {
    let (key, request) = args.request()?;
    let cancel = CancelHandle::new();
    let request = request.cancel_with(cancel.clone());
    let client = client.clone();
    let target = path.clone();
    file_job(py, path, progress, cancel, move |on_progress| async move {
        client.export_to_path(&key, request, format, &target, Some(&*on_progress)).await
    })
}

/// A progress callback handed to a core file writer (it forwards to the waiting Python thread).
pub type ProgressFn = Box<dyn Fn(CoreProgress) + Send + Sync>;

/// Runs a core file export (`job`, given the progress forwarder; its request must be cancelled
/// through `cancel`) for a Python caller: `progress(Progress)` is called on the calling thread
/// after each batch; Ctrl-C or a raising callback cancels the job (the core then removes its
/// temporary file). Shared by `export_to_*` and `query_to_*`.
pub fn file_job<F, Fut>(py: Python<'_>, path: PathBuf, progress: Option<Py<PyAny>>, cancel: CancelHandle, job: F) -> PyResult<ExportSummary>
where
    F: FnOnce(ProgressFn) -> Fut,
    Fut: std::future::Future<Output = sfcrm_core::Result<sfcrm_core::export::ExportSummary>> + Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel::<CoreProgress>();
    let on_progress: ProgressFn = Box::new(move |p: CoreProgress| {
        let _ = tx.send(p);
    });
    let fut = job(on_progress);
    let job = async move {
        fut.await.map(|s| (s.records, s.api_calls, s.checkpoint.to_token(), s.watermark.map(|w| w.to_token()), s.missing))
    };
    let cb = progress;
    let deliver = |py: Python<'_>| -> PyResult<()> {
        while let Ok(p) = rx.try_recv() {
            if let Some(cb) = &cb {
                cb.bind(py).call1((Progress::from(p),))?;
            }
        }
        Ok(())
    };
    let result = runtime::wait_hooked(py, job, deliver, move |_| {
        // Ctrl-C or a raising progress callback: cancel the export; the core then removes its
        // temporary file (within one batch).
        cancel.cancel();
        Some(CANCEL_GRACE)
    });
    let (records, api_calls, checkpoint, watermark, missing) = result?.py_err()?;
    while let Ok(p) = rx.try_recv() {
        if let Some(cb) = &cb {
            cb.bind(py).call1((Progress::from(p),))?;
        }
    }
    Ok(ExportSummary { records, api_calls, checkpoint, path, watermark, missing })
}
