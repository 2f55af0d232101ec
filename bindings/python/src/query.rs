//! SOQL queries (issue 11): the glue behind `Client.query`, `query_one`, `query_to_csv` and
//! `query_to_ndjson`.
//!
//! A query hands out the core's [`ExportStream`] (`Client::query_stream`), so `Client.query`
//! returns the export iterator class unchanged ([`ExportIterator`]: checkpoints, progress, cancel,
//! bounded memory). Bind values come from [`crate::params`]; the SOQL text is bound, checked and
//! resumed by the core.

use std::path::PathBuf;

use pyo3::prelude::*;
use sfcrm_core::ConnectionKey;
use sfcrm_core::export::{CancelHandle, Checkpoint, ExportFormat};
use sfcrm_core::export::{ChildCursors, QueryRequest};

use crate::error::{IntoPyResult, to_py};
use crate::export::ExportSummary;
use crate::export_cursor::ExportIterator;
use crate::export_file::file_job;
use crate::{rawjson, runtime};

/// The arguments of `query`, `query_to_csv` and `query_to_ndjson`, checked before any request.
pub struct QueryArgs {
    /// The connection.
    pub key: ConnectionKey,
    /// The request (SOQL, bind values, options).
    pub request: QueryRequest,
}

/// `children=`: `"complete"` (default: every child cursor fetched to its end, so each parent
/// carries all its children with `done: true`) or `"as_sent"` (child results exactly as
/// Salesforce sent them, `nextRecordsUrl` included).
pub fn child_cursors(children: &str) -> PyResult<ChildCursors> {
    match children {
        "complete" => Ok(ChildCursors::Complete),
        "as_sent" => Ok(ChildCursors::AsSent),
        other => Err(to_py(sfcrm_core::Error::invalid_argument(format!(
            "children must be \"complete\" or \"as_sent\", not {other:?}"
        )))),
    }
}

impl QueryArgs {
    /// Builds the request: the key (`ConnectionKey::parse`), bind values, the checkpoint token
    /// and `children` are checked here (the SOQL text and its placeholders by the core, before
    /// the first request).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        account_id: &str,
        owner: &str,
        soql: String,
        params: Option<&Bound<'_, PyAny>>,
        all_rows: bool,
        batch_size: Option<u32>,
        checkpoint: Option<String>,
        children: &str,
        mode: &str,
        bulk: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let (mode, options) = crate::bulk::bulk_args(mode, bulk)?;
        let key = crate::store::key(account_id, owner)?;
        let mut request = QueryRequest::new(soql)
            .params(crate::params::from_py(params)?)
            .all_rows(all_rows)
            .children(child_cursors(children)?)
            .mode(mode)
            .bulk_options(options);
        if let Some(n) = batch_size {
            request = request.batch_size(n);
        }
        if let Some(t) = checkpoint {
            request = request.resume_from(Checkpoint::from_token(&t).py_err()?);
        }
        Ok(QueryArgs { key, request })
    }

    /// The lazy iterator (nothing is requested before the first record is pulled).
    pub fn iterate(self, client: &sfcrm_core::Client, lossless: bool, progress: Option<Py<PyAny>>) -> ExportIterator {
        let resumed = self.request.resume_from.as_ref().map(Checkpoint::to_token);
        let stream = {
            let _g = runtime::runtime().enter();
            client.query_stream(&self.key, self.request)
        };
        ExportIterator::from_stream(stream, resumed, lossless, progress)
    }

    /// Writes the query's records to `path` (see `export::to_file`: temporary file, atomic rename).
    pub fn to_file(
        self,
        py: Python<'_>,
        client: &sfcrm_core::Client,
        format: ExportFormat,
        path: PathBuf,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<ExportSummary> {
        let cancel = CancelHandle::new();
        let QueryArgs { key, request } = self;
        let request = request.cancel_with(cancel.clone());
        let client = client.clone();
        let target = path.clone();
        file_job(py, path, progress, cancel, move |on_progress| async move {
            client.query_to_path(&key, request, format, &target, Some(&*on_progress)).await
        })
    }
}

/// `Client.query_one`: the core's `query_one` (see its docs for the "more than one row" rule),
/// the record as a dict or None.
pub fn query_one<'py>(
    py: Python<'py>,
    client: &sfcrm_core::Client,
    key: ConnectionKey,
    soql: String,
    params: sfcrm_core::soql::Params,
    lossless: bool,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let c = client.clone();
    let rec = runtime::wait(py, async move { c.query_one(&key, &soql, &params).await })?.py_err()?;
    rec.map(|r| rawjson::value(py, &serde_json::Value::Object(r), lossless)).transpose()
}
