//! Bulk API 2.0 on the C ABI (issue 12): the read mode of export and query requests
//! (`sfcrm_export_mode`), the Bulk options that matter to a caller (records per result page, pages
//! downloaded at once, deleting the finished job), and what a cursor says about its job
//! (`sfcrm_bulk_status`: state, `numberRecordsProcessed`, `retries`; the REST fallback's reason).
//! Every rule (job calls, polling, CSV to records, refusals and fallback) is the core's
//! (`sfcrm_core::export::ExportMode::Bulk`, `core/src/export/bulk.rs`).

use std::ffi::c_char;

use sfcrm_core::export::{BulkJobState, BulkOptions, ExportMode};

use crate::error::{FfiError, sfcrm_error};
use crate::export_cursor::sfcrm_export_cursor;
use crate::export_request::{self, sfcrm_export_request};
use crate::ptr;
use crate::query_request::{self, sfcrm_query_request};
use crate::result::sfcrm_result;

/// Where an export or query reads its records (`sfcrm_export_request_set_mode`,
/// `sfcrm_query_request_set_mode`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sfcrm_export_mode {
    /// The REST query API: `query` / `queryAll` and `nextRecordsUrl` pages (the default).
    Rest = 0,
    /// A Bulk API 2.0 query job [bulk-and-parallel.md §1]: a few calls for millions of records,
    /// result pages downloaded in parallel. The records are the REST source's (same JSON objects;
    /// no `attributes` on nested parents; empty text reads as null: CSV cannot tell them apart),
    /// in no particular order. A query Bulk refuses (child subqueries, compound fields, an
    /// unsupported object), a failed job, an incremental export (`since`) or a REST checkpoint
    /// is read with REST instead: `sfcrm_export_cursor_fallback_reason` says why.
    Bulk = 1,
}

fn mode_arg(mode: u32) -> Result<ExportMode, FfiError> {
    match mode {
        0 => Ok(ExportMode::Rest),
        1 => Ok(ExportMode::Bulk),
        n => Err(FfiError::invalid_argument(format!(
            "unknown export mode {n} (use an sfcrm_export_mode value: SFCRM_EXPORT_MODE_REST or SFCRM_EXPORT_MODE_BULK)"
        ))),
    }
}

/// The core's options from the C arguments (0 keeps a default).
fn options_arg(max_records: u32, concurrency: u32, delete_job: bool) -> BulkOptions {
    let mut o = BulkOptions::default();
    if max_records != 0 {
        o.max_records = max_records;
    }
    if concurrency != 0 {
        o.concurrency = concurrency as usize;
    }
    o.delete_job = delete_job;
    o
}

/// Reads the export with REST (`SFCRM_EXPORT_MODE_REST`, the default) or a Bulk API 2.0 query job
/// (`SFCRM_EXPORT_MODE_BULK`), for the cursor and the file/callback exports alike. Another value is
/// `SFCRM_RESULT_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_request_set_mode(
    request: *mut sfcrm_export_request,
    mode: u32,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let mode = mode_arg(mode)?;
        export_request::with_request(request, |r| {
            r.mode = mode;
            Ok(())
        })
    })
}

/// How a Bulk job of this export runs (`SFCRM_EXPORT_MODE_BULK` only):
/// - `max_records`: records per result page (`maxRecords`; 0: 50,000, simple-salesforce's page
///   size; Salesforce sets no maximum but very large pages time out) [bulk-and-parallel.md §1.4];
///   a cursor batch is one page;
/// - `parallel_pages`: result pages downloaded at once when the job lists them (`resultPages`,
///   API v58.0+; 0: 4; 1 reads one page at a time); up to this many pages are held in memory;
/// - `delete_job`: delete the job once its last page was read (frees its result storage early;
///   a job left behind is deleted by Salesforce after 7 days) [bulk-and-parallel.md §1.8].
///
/// Polling backs off from 500 ms to 5 s with no time limit (a big job may run for many minutes).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_request_set_bulk_options(
    request: *mut sfcrm_export_request,
    max_records: u32,
    parallel_pages: u32,
    delete_job: bool,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let options = options_arg(max_records, parallel_pages, delete_job);
        export_request::with_request(request, |r| {
            r.bulk = options;
            Ok(())
        })
    })
}

/// Reads the query with REST (`SFCRM_EXPORT_MODE_REST`, the default) or a Bulk API 2.0 query job
/// of the bound SOQL (`SFCRM_EXPORT_MODE_BULK`; what Bulk refuses, such as a child subquery, is
/// read with REST: `sfcrm_export_cursor_fallback_reason`). Another value is
/// `SFCRM_RESULT_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_query_request_set_mode(
    request: *mut sfcrm_query_request,
    mode: u32,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let mode = mode_arg(mode)?;
        query_request::with_request(request, |r| {
            r.mode = mode;
            Ok(())
        })
    })
}

/// How a Bulk job of this query runs: the arguments of `sfcrm_export_request_set_bulk_options`.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_query_request_set_bulk_options(
    request: *mut sfcrm_query_request,
    max_records: u32,
    parallel_pages: u32,
    delete_job: bool,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let options = options_arg(max_records, parallel_pages, delete_job);
        query_request::with_request(request, |r| {
            r.bulk = options;
            Ok(())
        })
    })
}

/// A Bulk API 2.0 job's state [bulk-and-parallel.md §1.1] (`sfcrm_bulk_status.job_state`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sfcrm_bulk_job_state {
    /// No job state: a REST cursor, a Bulk cursor before its job was created, or one whose records
    /// come from REST (the fallback).
    None = 0,
    /// `UploadComplete`: the job is queued.
    UploadComplete = 1,
    /// `InProgress`: the server runs the query.
    InProgress = 2,
    /// `JobComplete`: the results are being downloaded.
    JobComplete = 3,
    /// `Failed` (the cursor falls back to REST, or reports the error).
    Failed = 4,
    /// `Aborted` (e.g. by `sfcrm_export_cursor_cancel`).
    Aborted = 5,
    /// A state this SDK does not know; polled like `InProgress`.
    Other = 6,
}

/// What a cursor knows of its Bulk job (`sfcrm_export_cursor_bulk_status`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct sfcrm_bulk_status {
    /// True when the cursor was opened in `SFCRM_EXPORT_MODE_BULK`.
    pub is_bulk: bool,
    /// True when its records come from REST instead (`sfcrm_export_cursor_fallback_reason`).
    pub fell_back: bool,
    /// The job's last state seen (an `sfcrm_bulk_job_state` value).
    pub job_state: u32,
    /// The job's last `numberRecordsProcessed` seen; `UINT64_MAX` before the first poll.
    pub records_processed: u64,
    /// The job's last `retries` seen; `UINT64_MAX` before the first poll.
    pub retries: u64,
}

fn state_code(s: Option<BulkJobState>) -> sfcrm_bulk_job_state {
    match s {
        None => sfcrm_bulk_job_state::None,
        Some(BulkJobState::UploadComplete) => sfcrm_bulk_job_state::UploadComplete,
        Some(BulkJobState::InProgress) => sfcrm_bulk_job_state::InProgress,
        Some(BulkJobState::JobComplete) => sfcrm_bulk_job_state::JobComplete,
        Some(BulkJobState::Failed) => sfcrm_bulk_job_state::Failed,
        Some(BulkJobState::Aborted) => sfcrm_bulk_job_state::Aborted,
        Some(BulkJobState::Other) => sfcrm_bulk_job_state::Other,
    }
}

/// Writes the cursor's Bulk job status to `*out`: its state, `numberRecordsProcessed` and
/// `retries` as last polled (what a progress display shows while the server works, before the
/// first records). Non-blocking and callable from any thread, also while
/// `sfcrm_export_cursor_next` waits for the job in another one (it must not race with
/// `sfcrm_export_cursor_free`). A REST cursor gives `is_bulk` false.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_cursor_bulk_status(
    cursor: *const sfcrm_export_cursor,
    out: *mut sfcrm_bulk_status,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let cur = ptr::handle(cursor, "cursor")?;
        let out = ptr::out(out, "out")?;
        let status = match cur.bulk_watch() {
            None => sfcrm_bulk_status {
                is_bulk: false,
                fell_back: false,
                job_state: sfcrm_bulk_job_state::None as u32,
                records_processed: u64::MAX,
                retries: u64::MAX,
            },
            Some(w) => sfcrm_bulk_status {
                is_bulk: true,
                fell_back: w.fallback_reason().is_some(),
                job_state: state_code(w.state()) as u32,
                records_processed: w.records_processed().unwrap_or(u64::MAX),
                retries: w.retries().unwrap_or(u64::MAX),
            },
        };
        out.write(status);
        Ok(())
    })
}

/// Why a `SFCRM_EXPORT_MODE_BULK` cursor reads its records with REST instead of a Bulk job:
/// Salesforce's refusal with its `errorCode` (a child subquery, a compound field, an unsupported
/// object), a failed job's `errorMessage`, an incremental export, a REST checkpoint. Known after
/// the first `sfcrm_export_cursor_next`. Copied into `buf` like `sfcrm_export_cursor_checkpoint`
/// (`*len` without the NUL; `SFCRM_RESULT_BUFFER_TOO_SMALL` with `*len` set when `cap` is too
/// small); no fallback (or a REST cursor) gives the empty string, `*len` 0. Non-blocking.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_cursor_fallback_reason(
    cursor: *const sfcrm_export_cursor,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let cur = ptr::handle(cursor, "cursor")?;
        let reason = cur.bulk_watch().and_then(|w| w.fallback_reason()).unwrap_or_default();
        ptr::copy_to_buffer(&reason, buf, cap, len)
    })
}
