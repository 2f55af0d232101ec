//! The lazy record iterator of exports and queries (`Client.export`, `Client.query`):
//! `ExportIterator`, over the core's `ExportStream`.
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
//! tests/test_memory.py).

use std::sync::Arc;

use pyo3::prelude::*;
use sfcrm_core::RawRecord;
use sfcrm_core::export::{BulkWatch, CancelHandle, Checkpoint, ExportStream, Progress as CoreProgress};
use sfcrm_core::{Error, ErrorKind};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::error::{IntoPyResult, to_py};
use crate::export::{CANCEL_GRACE, ExportArgs, Progress};
use crate::rawjson::{KeyCache, RawToPy};
use crate::runtime;

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

