//! Exports: the export spec and request from Python arguments (`type`, `fields`, `where`,
//! `params`, `since`, `watermark`, `mode`/`bulk`, ...), page/limit arguments, the seed paginator,
//! and the result classes `Progress` and `ExportSummary`. The record iterator is in
//! `export_cursor.rs`, file exports in `export_file.rs`.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt, PyString};
use sfcrm_core::export::{BulkOptions, Checkpoint, ExportMode, ExportRequest, ExportSpec, Progress as CoreProgress};
use sfcrm_core::paginator::PageArg;
use sfcrm_core::{ConnectionKey, Error};

use crate::error::{IntoPyResult, to_py};
use crate::rawjson;

/// How long an interrupted export may take to wind down (stop its prefetch, remove its temporary
/// file) before `KeyboardInterrupt` is raised anyway. Cancellation is immediate in the core, so
/// this is normally a few milliseconds; the bound keeps Ctrl-C under a second.
pub(crate) const CANCEL_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

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

    pub(crate) fn request(self) -> PyResult<(ConnectionKey, ExportRequest)> {
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

