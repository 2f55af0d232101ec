//! File exports for Python callers (`Client.export_to_csv` / `export_to_ndjson`, and the
//! `query_to_*` methods through [`file_job`]): the core writes the file natively (no Python
//! objects per record) while the calling thread waits with the GIL released, delivering progress
//! callbacks and turning Ctrl-C into a cancel.

use std::path::PathBuf;

use pyo3::prelude::*;
use sfcrm_core::export::{CancelHandle, ExportFormat, Progress as CoreProgress};

use crate::error::IntoPyResult;
use crate::export::{CANCEL_GRACE, ExportArgs, ExportSummary, Progress};
use crate::runtime;

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
