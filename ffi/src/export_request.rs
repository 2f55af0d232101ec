//! `sfcrm_export_request`: what to export (a built-in type or an sObject with fields) and how
//! (since or the previous run's watermark, resume checkpoint, queryAll, batch size, progress
//! callback), for the cursor and the
//! file/callback exports; and `sfcrm_export_format`, the format of those exports.

use std::ffi::{c_char, c_void};
use std::sync::Mutex;

use sfcrm_core::export::{BulkOptions, Checkpoint, ExportFormat, ExportMode, ExportRequest, ExportSpec, Watermark};
use sfcrm_core::soql::Params;

use crate::error::{FfiError, sfcrm_error};
use crate::host::{HostProgress, sfcrm_progress_fn};
use crate::ptr::{self, Handle, UserData};
use crate::result::sfcrm_result;

/// What to export (for `sfcrm_export_cursor_open`, `sfcrm_client_export_to_path` and
/// `sfcrm_client_export_to_callback`): a built-in type or an sObject with fields, plus options.
///
/// Thread safety: setters are serialized internally; a request may be reused for several exports.
pub struct sfcrm_export_request {
    _private: [u8; 0],
}

/// The data behind an `sfcrm_export_request *` (exports take a snapshot of it).
#[derive(Clone)]
pub(crate) struct RequestData {
    /// The spec as created (type or sObject and fields), before any `where`.
    base: ExportSpec,
    /// `base` with the current `where` condition applied.
    spec: ExportSpec,
    since: Option<String>,
    resume_from: Option<Checkpoint>,
    /// Incremental state from the previous run (`sfcrm_export_request_set_watermark`).
    watermark: Option<Watermark>,
    include_deleted: bool,
    batch_size: Option<u32>,
    /// REST or Bulk (`sfcrm_export_request_set_mode`).
    pub(crate) mode: ExportMode,
    /// How a Bulk job runs (`sfcrm_export_request_set_bulk_options`).
    pub(crate) bulk: BulkOptions,
    /// The progress callback of file and callback exports.
    pub(crate) progress: Option<HostProgress>,
}

impl Handle for sfcrm_export_request {
    type Inner = Mutex<RequestData>;
    const C_NAME: &'static str = "sfcrm_export_request";
}

impl RequestData {
    pub(crate) fn core(&self) -> ExportRequest {
        ExportRequest {
            spec: self.spec.clone(),
            since: self.since.clone(),
            resume_from: self.resume_from.clone(),
            include_deleted: self.include_deleted,
            batch_size: self.batch_size,
            cancel: None,
            watermark: self.watermark.clone(),
            lookback: None,
            mode: self.mode,
            bulk: self.bulk.clone(),
            ..ExportRequest::new(self.spec.clone())
        }
    }
}

fn new_request(spec: ExportSpec) -> *mut sfcrm_export_request {
    ptr::new_handle::<sfcrm_export_request>(Mutex::new(RequestData {
        base: spec.clone(),
        spec,
        since: None,
        resume_from: None,
        watermark: None,
        include_deleted: false,
        batch_size: None,
        mode: ExportMode::Rest,
        bulk: BulkOptions::default(),
        progress: None,
    }))
}

pub(crate) fn with_request(
    req: *mut sfcrm_export_request,
    f: impl FnOnce(&mut RequestData) -> Result<(), FfiError>,
) -> Result<(), FfiError> {
    let r = ptr::handle(req as *const sfcrm_export_request, "request")?;
    let mut g = r.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut g)
}

pub(crate) fn request_snapshot(req: *const sfcrm_export_request) -> Result<RequestData, FfiError> {
    let r = ptr::handle(req, "request")?;
    let g = r.lock().unwrap_or_else(|e| e.into_inner());
    Ok(g.clone())
}

/// A request for a built-in export type: `contacts` (Contact: Name, Account.Name, Title, Phone,
/// Email, Owner.Alias), `deals` (Opportunity) or `notes` (Note), the seed's field lists.
/// `SFCRM_RESULT_UNKNOWN_EXPORT_TYPE` otherwise.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_request_new(
    export_type: *const c_char,
    out: *mut *mut sfcrm_export_request,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let t = ptr::str_arg(export_type, "export_type")?;
        let out = ptr::out(out, "out")?;
        out.write(new_request(ExportSpec::builtin(&t)?));
        Ok(())
    })
}

/// A request for any sObject with the given fields: `fields` is a comma-separated list of field
/// paths (`Id,Name,Account.Name`), or `*` for every field of the sObject (expanded from its
/// describe when the export starts; a compound field and its components are not both selected, and
/// an sObject whose field list would not fit one query URI is read in several queries joined by
/// Id, so every field of every record is exported). Every identifier is validated
/// (`SFCRM_RESULT_INVALID_IDENTIFIER` naming the bad one; nothing is sent); at least one field,
/// none twice.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_request_new_custom(
    sobject: *const c_char,
    fields: *const c_char,
    out: *mut *mut sfcrm_export_request,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let sobject = ptr::str_arg(sobject, "sobject")?;
        let fields = ptr::str_arg(fields, "fields")?;
        let out = ptr::out(out, "out")?;
        let list: Vec<&str> = fields
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .collect();
        out.write(new_request(ExportSpec::custom(&sobject, &list)?));
        Ok(())
    })
}

/// Filters the export with a SOQL condition (the text of a WHERE clause, without `WHERE`:
/// `Industry = :industry AND CreatedDate = LAST_N_DAYS:30`) whose `:name` placeholders are filled
/// from `params_json` (a JSON object; the same rules as `sfcrm_query_request_set_params_json`;
/// NULL for none). NULL `soql_where` removes the filter. The condition is checked now
/// (`SFCRM_RESULT_INVALID_ARGUMENT`: unbalanced quotes or parentheses, a clause keyword such as
/// `ORDER BY` or `LIMIT` at its top level, a missing or unused bind value; nothing is sent) and by
/// Salesforce when the export runs. It combines with `since` (incremental) and with resuming.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_request_set_where(
    request: *mut sfcrm_export_request,
    soql_where: *const c_char,
    params_json: *const c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let condition = ptr::opt_str_arg(soql_where, "soql_where")?;
        let params = match ptr::opt_str_arg(params_json, "params_json")? {
            Some(text) => Params::from_json_text(&text)?,
            None => Params::new(),
        };
        with_request(request, |r| {
            r.spec = match &condition {
                Some(c) => r.base.clone().with_where(c, &params)?,
                None => {
                    if !params.is_empty() {
                        return Err(FfiError::invalid_argument(
                            "`params_json` has values but `soql_where` is NULL: pass the condition that uses them",
                        ));
                    }
                    r.base.clone()
                }
            };
            Ok(())
        })
    })
}

/// Incremental mode: only records with `SystemModstamp >= since` (Salesforce's
/// `2024-01-01T00:00:00.000+0000` or RFC 3339 `2024-01-01T00:00:00Z`); NULL returns to a full
/// export. Checked when the export starts (`SFCRM_RESULT_INVALID_ARGUMENT`). This is the first
/// run of an incremental sync; later runs start from the watermark it returns
/// (`sfcrm_export_request_set_watermark`), not from a time: a time misses rows committed late.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_request_set_since(
    request: *mut sfcrm_export_request,
    since: *const c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let since = ptr::opt_str_arg(since, "since")?;
        with_request(request, |r| {
            r.since = since;
            Ok(())
        })
    })
}

/// Resume after a checkpoint token (from `sfcrm_export_cursor_checkpoint` or an export summary),
/// possibly taken in another process; NULL clears it. A malformed token is
/// `SFCRM_RESULT_INVALID_ARGUMENT` now; a token for another sObject or mode fails when the export
/// starts.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_request_set_resume_from(
    request: *mut sfcrm_export_request,
    checkpoint: *const c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let cp = ptr::opt_str_arg(checkpoint, "checkpoint")?
            .map(|t| Checkpoint::from_token(&t))
            .transpose()?;
        with_request(request, |r| {
            r.resume_from = cp;
            Ok(())
        })
    })
}

/// Incremental mode from the previous run's watermark token (from
/// `sfcrm_export_cursor_watermark` or the `watermark` of `sfcrm_client_export_to_path` /
/// `_to_callback`); NULL clears it. The export reads `SystemModstamp >=` the watermark minus a
/// 600 s lookback and skips the changes the previous runs already delivered, so every change
/// arrives exactly once, also one committed late (core `export/watermark.rs`;
/// [bulk-and-parallel.md §3, §4 item 6]). Start the first run with `sfcrm_export_request_set_since`
/// instead; giving both fails when the export starts. A malformed token, or a resume checkpoint
/// given as a watermark, is `SFCRM_RESULT_INVALID_ARGUMENT` now (the message says which token goes
/// where); a watermark of another sObject fails when the export starts.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_request_set_watermark(
    request: *mut sfcrm_export_request,
    watermark: *const c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let w = ptr::opt_str_arg(watermark, "watermark")?
            .map(|t| Watermark::from_token(&t))
            .transpose()?;
        with_request(request, |r| {
            r.watermark = w;
            Ok(())
        })
    })
}

/// Include soft-deleted and archived rows (`queryAll`) [salesforce-api.md §4].
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_request_set_include_deleted(
    request: *mut sfcrm_export_request,
    include_deleted: bool,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        with_request(request, |r| {
            r.include_deleted = include_deleted;
            Ok(())
        })
    })
}

/// Requested records per batch (`Sforce-Query-Options: batchSize`, 200..=2000; Salesforce may return
/// fewer); 0 uses the client's default. Out of range is `SFCRM_RESULT_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_request_set_batch_size(
    request: *mut sfcrm_export_request,
    batch_size: u32,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        if batch_size != 0 && !(200..=2000).contains(&batch_size) {
            return Err(FfiError::invalid_argument(format!(
                "batch_size must be 0 or 200..=2000, got {batch_size}"
            )));
        }
        with_request(request, |r| {
            r.batch_size = (batch_size != 0).then_some(batch_size);
            Ok(())
        })
    })
}

/// Progress callback for `sfcrm_client_export_to_path` / `sfcrm_client_export_to_callback` with
/// this request (called after each batch on an `sfcrm-worker` thread; `user_data` is borrowed and
/// must stay valid while the request is used). NULL `progress` removes it.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_request_set_progress(
    request: *mut sfcrm_export_request,
    progress: sfcrm_progress_fn,
    user_data: *mut c_void,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        with_request(request, |r| {
            r.progress = progress.map(|p| HostProgress {
                progress: p,
                user_data: UserData(user_data),
            });
            Ok(())
        })
    })
}

/// Frees an export request. NULL or an already-freed request is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_request_free(request: *mut sfcrm_export_request) {
    ffi_boundary! { ptr::free_handle(request); }
}

/// File / stream format of `sfcrm_client_export_to_path` and `sfcrm_client_export_to_callback`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sfcrm_export_format {
    /// RFC 4180 CSV: a header row of field paths (`Account.Name`), CRLF line ends, quoting as
    /// needed, null as an empty field.
    Csv = 0,
    /// One JSON object per line (`\n`), `attributes` dropped.
    Ndjson = 1,
    /// One JSON array of record objects, `attributes` dropped.
    Json = 2,
}

pub(crate) fn export_format(v: u32) -> Result<ExportFormat, FfiError> {
    match v {
        0 => Ok(ExportFormat::Csv),
        1 => Ok(ExportFormat::Ndjson),
        2 => Ok(ExportFormat::Json),
        n => Err(FfiError::invalid_argument(format!(
            "unknown export format {n} (use an sfcrm_export_format value)"
        ))),
    }
}
