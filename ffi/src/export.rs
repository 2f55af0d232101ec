//! Exports: `export_page` (the seed's JSON body), export requests, the streaming export cursor, and
//! exports to a file path or a write callback.

use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use sfcrm_core::export::{
    CancelHandle, Checkpoint, ExportFormat, ExportRequest, ExportSpec, ExportStream, PageRequest,
    Progress, RecordBatch,
};

use crate::client::{key_arg, sfcrm_client};
use crate::error::{FfiError, sfcrm_error};
use crate::host::{HostProgress, HostWriter, sfcrm_progress_fn, sfcrm_write_fn};
use crate::ptr::{self, Handle, UserData};
use crate::result::sfcrm_result;
use crate::rt::Rt;

/// Exports the seed's page: the JSON body
/// `{"success":true,"message":"SUCCESS","data":[...],"pagination":{...}}` for `export_type`
/// (`contacts`, `deals` or `notes`; anything else is `SFCRM_RESULT_UNKNOWN_EXPORT_TYPE`, no request
/// made), 1-based `page` (values below 1 count as 1) and `limit` records per page (0 = every record
/// on page 1, the seed's default).
///
/// On success `*json` receives the body (owned UTF-8, free with `sfcrm_string_free`) and `*len` its
/// length in bytes (optional: pass NULL). Numbers keep Salesforce's digits. Blocking.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_client_export_page(
    client: *const sfcrm_client,
    account_id: *const c_char,
    owner: *const c_char,
    export_type: *const c_char,
    page: i64,
    limit: u64,
    json: *mut *mut c_char,
    len: *mut usize,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let c = ptr::handle(client, "client")?;
        let key = key_arg(account_id, owner)?;
        let export_type = ptr::str_arg(export_type, "export_type")?;
        let json = ptr::out(json, "json")?;
        let len = ptr::opt_out(len);
        let core = c.client.clone();
        let req = PageRequest {
            page,
            limit: (limit > 0).then_some(limit),
        };
        let body = c.rt.block_on(async move {
            Ok(core
                .export_page_by_type(&key, &export_type, req)
                .await?
                .to_seed_json()
                .to_string())
        })?;
        let (p, n) = ptr::give_string(&body);
        json.write(p);
        if let Some(l) = len {
            l.write(n);
        }
        Ok(())
    })
}

/// The seed's `paginator(items, page, per_page)` as the SDK computes it (the same function
/// `sfcrm_client_export_page` uses): `*json` receives the object
/// `{"page":..,"per_page":..,"total":..,"total_pages":..,"next_page":..,"prev_page":..,"offsetValue":..}`
/// with the keys in that order (owned UTF-8, free with `sfcrm_string_free`; `*len` its length in
/// bytes, optional: pass NULL).
///
/// `page` is the page as the seed receives it, in text: NULL when omitted, otherwise read as
/// JavaScript's `parseInt` reads it (`"3"`, `"-1"`, `"abc"`; a number is passed as its decimal
/// text). Pages below 1 are page 1 and zero items give `total_pages` 0 (seed defect D14).
/// `per_page` is records per page; 0 means omitted (every record on page 1, the seed's default).
/// A page beyond the supported range is `SFCRM_RESULT_INVALID_ARGUMENT`. Does not block.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_paginator(
    items: u64,
    page: *const c_char,
    per_page: u64,
    json: *mut *mut c_char,
    len: *mut usize,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let page = ptr::opt_str_arg(page, "page")?;
        let json = ptr::out(json, "json")?;
        let len = ptr::opt_out(len);
        let page = match page {
            None => sfcrm_core::paginator::PageArg::Missing,
            Some(t) => sfcrm_core::paginator::PageArg::Text(t),
        }
        .page()?;
        let p = sfcrm_core::paginator::paginate(items, page, (per_page > 0).then_some(per_page));
        let text = serde_json::to_string(&p)
            .map_err(|e| sfcrm_core::Error::new(sfcrm_core::ErrorKind::Internal, e.to_string()))?;
        let (ptr_out, n) = ptr::give_string(&text);
        json.write(ptr_out);
        if let Some(l) = len {
            l.write(n);
        }
        Ok(())
    })
}

/// What to export (for `sfcrm_export_cursor_open`, `sfcrm_client_export_to_path` and
/// `sfcrm_client_export_to_callback`): a built-in type or an sObject with fields, plus options.
///
/// Thread safety: setters are serialized internally; a request may be reused for several exports.
pub struct sfcrm_export_request {
    _private: [u8; 0],
}

#[derive(Clone)]
pub(crate) struct RequestData {
    spec: ExportSpec,
    since: Option<String>,
    resume_from: Option<Checkpoint>,
    include_deleted: bool,
    batch_size: Option<u32>,
    progress: Option<HostProgress>,
}

impl Handle for sfcrm_export_request {
    type Inner = Mutex<RequestData>;
    const C_NAME: &'static str = "sfcrm_export_request";
}

impl RequestData {
    fn core(&self) -> ExportRequest {
        ExportRequest {
            spec: self.spec.clone(),
            since: self.since.clone(),
            resume_from: self.resume_from.clone(),
            include_deleted: self.include_deleted,
            batch_size: self.batch_size,
            cancel: None,
        }
    }
}

fn new_request(spec: ExportSpec) -> *mut sfcrm_export_request {
    ptr::new_handle::<sfcrm_export_request>(Mutex::new(RequestData {
        spec,
        since: None,
        resume_from: None,
        include_deleted: false,
        batch_size: None,
        progress: None,
    }))
}

fn with_request(
    req: *mut sfcrm_export_request,
    f: impl FnOnce(&mut RequestData) -> Result<(), FfiError>,
) -> Result<(), FfiError> {
    let r = ptr::handle(req as *const sfcrm_export_request, "request")?;
    let mut g = r.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut g)
}

fn request_snapshot(req: *const sfcrm_export_request) -> Result<RequestData, FfiError> {
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
/// paths (`Id,Name,Account.Name`). Every identifier is validated (`SFCRM_RESULT_INVALID_IDENTIFIER`
/// naming the bad one; nothing is sent); at least one field, none twice.
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

/// Incremental mode: only records with `SystemModstamp >= since` (Salesforce's
/// `2024-01-01T00:00:00.000+0000` or RFC 3339 `2024-01-01T00:00:00Z`); NULL returns to a full
/// export. Checked when the export starts (`SFCRM_RESULT_INVALID_ARGUMENT`).
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

/// Layout of a batch returned by `sfcrm_export_cursor_next`. Either way each record is its JSON
/// object text exactly as Salesforce sent it (string escapes and number digits as received).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum sfcrm_batch_format {
    /// One JSON array of record objects: `[rec,rec,...]`.
    JsonArray = 0,
    /// One record object per line, each line ending in `\n` (a record Salesforce sent with line
    /// breaks between tokens is re-serialised on one line; its values are unchanged).
    Ndjson = 1,
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

fn export_format(v: u32) -> Result<ExportFormat, FfiError> {
    match v {
        0 => Ok(ExportFormat::Csv),
        1 => Ok(ExportFormat::Ndjson),
        2 => Ok(ExportFormat::Json),
        n => Err(FfiError::invalid_argument(format!(
            "unknown export format {n} (use an sfcrm_export_format value)"
        ))),
    }
}

/// A streaming export: batches of records in a stable order, with checkpoints to resume (even in
/// another process) and cancellation. Created by `sfcrm_export_cursor_open`, freed by
/// `sfcrm_export_cursor_free`.
///
/// Thread safety: use it from one thread at a time (calls are serialized internally: a second
/// thread waits), except `sfcrm_export_cursor_cancel`, which may be called from any thread at any
/// time, also while `sfcrm_export_cursor_next` is blocked in another thread. A cursor keeps its
/// client's runtime alive: it stays usable after `sfcrm_client_free`.
pub struct sfcrm_export_cursor {
    _private: [u8; 0],
}

/// The data behind an `sfcrm_export_cursor *`. Field order matters: the stream (and its prefetch
/// task) is dropped before the runtime.
pub(crate) struct CursorData {
    stream: Arc<tokio::sync::Mutex<ExportStream>>,
    cancel: CancelHandle,
    cancelled: AtomicBool,
    rt: Rt,
}

impl Handle for sfcrm_export_cursor {
    type Inner = CursorData;
    const C_NAME: &'static str = "sfcrm_export_cursor";
}

/// Opens a streaming export of `request` for (`account_id`, `owner`). Nothing is requested until the
/// first `sfcrm_export_cursor_next`; request errors (bad `since`, a checkpoint for another sObject)
/// are reported by that call. Non-blocking.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_cursor_open(
    client: *const sfcrm_client,
    account_id: *const c_char,
    owner: *const c_char,
    request: *const sfcrm_export_request,
    out: *mut *mut sfcrm_export_cursor,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let c = ptr::handle(client, "client")?;
        let key = key_arg(account_id, owner)?;
        let req = request_snapshot(request)?;
        let out = ptr::out(out, "out")?;
        let stream = c.client.export_stream(&key, req.core());
        let cancel = stream.cancel_handle();
        out.write(ptr::new_handle::<sfcrm_export_cursor>(CursorData {
            stream: Arc::new(tokio::sync::Mutex::new(stream)),
            cancel,
            cancelled: AtomicBool::new(false),
            rt: c.rt.clone(),
        }));
        Ok(())
    })
}

/// Encodes a batch from the records' raw text (no value is built, nothing is re-serialised):
/// one JSON array (`[rec,rec,…]`) or NDJSON (one record per line, each ending in `\n`; a record
/// Salesforce sent with line breaks is re-serialised compactly by `RawRecord::write_compact`).
///
/// The buffer is sized once (records' text + separators + the C string's NUL), so handing it to C
/// (`ptr::give_bytes`: no NUL scan, validated JSON has no raw NUL) neither grows nor shrinks it:
/// one allocation and one copy of the batch text per call (building a `serde_json` map per record
/// was most of the C client's time, BENCHMARKS.md).
fn encode_batch(batch: &RecordBatch, format: sfcrm_batch_format) -> Vec<u8> {
    // Each record's text plus one separator (a comma or the array's closing bracket; a newline).
    let text: usize = batch.records.iter().map(|r| r.json().len() + 1).sum();
    let encoded = match format {
        sfcrm_batch_format::JsonArray => (text + 1).max(2), // `[` … `]`, or `[]`
        sfcrm_batch_format::Ndjson => text,
    };
    let mut out: Vec<u8> = Vec::with_capacity(encoded + 1); // + the C string's NUL
    match format {
        sfcrm_batch_format::JsonArray => batch.write_json_array(&mut out),
        sfcrm_batch_format::Ndjson => batch.write_ndjson(&mut out),
    }
    out
}

/// The next batch of records, each exactly as Salesforce sent it (the record's JSON object text:
/// `attributes` included, Salesforce's key order, numbers with every digit such as `1.50`, string
/// escapes such as `\u00e9` as received, not re-encoded), encoded per `format` (an
/// `sfcrm_batch_format` value): still one JSON value per record. Decode the strings with any JSON
/// parser; do not compare the raw bytes with another encoder's output.
///
/// On success: `*batch` receives the encoded batch (owned UTF-8, free with `sfcrm_string_free`),
/// `*len` its length in bytes and `*count` the number of records; at the end of the export `*batch`
/// is NULL and both are 0. Blocking (a batch is prefetched while the caller handles the previous
/// one).
///
/// Errors: `SFCRM_RESULT_CANCELLED` when cancelled during the call, `SFCRM_RESULT_USE_AFTER_CANCEL`
/// when already cancelled before it, the query errors (`SESSION_EXPIRED`, `RECONNECT_REQUIRED`,
/// `RATE_LIMITED`, `API`, `NETWORK`, ...). After an error the export is over: resume with a new
/// cursor from `sfcrm_export_cursor_checkpoint`.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_cursor_next(
    cursor: *mut sfcrm_export_cursor,
    format: u32,
    batch: *mut *mut c_char,
    len: *mut usize,
    count: *mut usize,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let cur = ptr::handle(cursor as *const sfcrm_export_cursor, "cursor")?;
        let format = match format {
            0 => sfcrm_batch_format::JsonArray,
            1 => sfcrm_batch_format::Ndjson,
            n => {
                return Err(FfiError::invalid_argument(format!(
                    "unknown batch format {n} (use an sfcrm_batch_format value)"
                )));
            }
        };
        let (batch, len, count) = (
            ptr::out(batch, "batch")?,
            ptr::out(len, "len")?,
            ptr::out(count, "count")?,
        );
        if cur.cancelled.load(Ordering::SeqCst) {
            return Err(FfiError::new(
                sfcrm_result::UseAfterCancel,
                "the export cursor was cancelled; it delivers nothing more (free it, or resume from its checkpoint with a new cursor)",
            ));
        }
        let stream = Arc::clone(&cur.stream);
        let encoded = cur.rt.block_on(async move {
            let mut s = stream.lock().await;
            let b = s.next_batch().await?;
            Ok(b.map(|b| (encode_batch(&b, format), b.records.len())))
        })?;
        match encoded {
            Some((bytes, n)) => {
                let (p, l) = ptr::give_bytes(bytes);
                batch.write(p);
                len.write(l);
                count.write(n);
            }
            None => {
                batch.write(std::ptr::null_mut());
                len.write(0);
                count.write(0);
            }
        }
        Ok(())
    })
}

fn lock_stream(cur: &CursorData) -> Result<tokio::sync::MutexGuard<'_, ExportStream>, FfiError> {
    crate::rt::check_not_reentrant()?;
    Ok(cur.stream.blocking_lock())
}

/// Writes the cursor's checkpoint token (after the last delivered batch; opaque, versioned,
/// ASCII) into the caller's buffer `buf` of `cap` bytes, NUL-terminated, and its length (without
/// the NUL) into `*len`. When `cap` is too small (or `buf` is NULL with `cap` 0: a length query)
/// the result is `SFCRM_RESULT_BUFFER_TOO_SMALL` with `*len` set and `buf` untouched. Pass the
/// token to `sfcrm_export_request_set_resume_from`. Valid after cancellation and errors too.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_cursor_checkpoint(
    cursor: *const sfcrm_export_cursor,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let cur = ptr::handle(cursor, "cursor")?;
        let token = lock_stream(&cur)?.checkpoint().to_token();
        ptr::copy_to_buffer(&token, buf, cap, len)
    })
}

/// Progress of the cursor: records and batches delivered so far and the expected total
/// (`*total_size` is `UINT64_MAX` until the first response tells it).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_cursor_progress(
    cursor: *const sfcrm_export_cursor,
    records: *mut u64,
    batches: *mut u64,
    total_size: *mut u64,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let cur = ptr::handle(cursor, "cursor")?;
        let (r, b, t) = (
            ptr::out(records, "records")?,
            ptr::out(batches, "batches")?,
            ptr::out(total_size, "total_size")?,
        );
        let p: Progress = lock_stream(&cur)?.progress();
        r.write(p.records);
        b.write(p.batches);
        t.write(p.total_size.unwrap_or(u64::MAX));
        Ok(())
    })
}

/// Cancels the export from any thread: a `sfcrm_export_cursor_next` blocked in another thread
/// returns `SFCRM_RESULT_CANCELLED` promptly, later calls return `SFCRM_RESULT_USE_AFTER_CANCEL`.
/// The prefetch stops at once. Idempotent; non-blocking. Must not race with
/// `sfcrm_export_cursor_free` of the same cursor (a freed cursor gives
/// `SFCRM_RESULT_INVALID_HANDLE`).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_cursor_cancel(cursor: *const sfcrm_export_cursor) -> sfcrm_result {
    ffi_result!(std::ptr::null_mut(), {
        let cur = ptr::handle(cursor, "cursor")?;
        cur.cancelled.store(true, Ordering::SeqCst);
        cur.cancel.cancel();
        Ok(())
    })
}

/// Frees a cursor (stopping its prefetch). NULL or an already-freed cursor is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_cursor_free(cursor: *mut sfcrm_export_cursor) {
    ffi_boundary! { ptr::free_handle(cursor); }
}

/// Result of a finished export to a file or callback.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct sfcrm_export_summary {
    /// Records written by this run.
    pub records: u64,
    /// Salesforce query requests made.
    pub api_calls: u64,
}

type Sink = Box<
    dyn FnOnce(
            sfcrm_core::Client,
            sfcrm_core::ConnectionKey,
            ExportRequest,
            ExportFormat,
            Option<HostProgress>,
        ) -> futures_util::future::BoxFuture<
            'static,
            sfcrm_core::Result<sfcrm_core::export::ExportSummary>,
        > + Send,
>;

#[allow(clippy::too_many_arguments)]
fn run_export(
    client: *const sfcrm_client,
    account_id: *const c_char,
    owner: *const c_char,
    request: *const sfcrm_export_request,
    format: u32,
    summary: *mut sfcrm_export_summary,
    checkpoint: *mut *mut c_char,
    sink: Sink,
) -> Result<(), FfiError> {
    let c = ptr::handle(client, "client")?;
    let key = key_arg(account_id, owner)?;
    let req = request_snapshot(request)?;
    let format = export_format(format)?;
    let summary = ptr::out(summary, "summary")?;
    let checkpoint = ptr::opt_out(checkpoint);
    let core = c.client.clone();
    let progress = req.progress;
    let s =
        c.rt.block_on(async move { Ok(sink(core, key, req.core(), format, progress).await?) })?;
    summary.write(sfcrm_export_summary {
        records: s.records,
        api_calls: s.api_calls,
    });
    if let Some(o) = checkpoint {
        o.write(ptr::give_string(&s.checkpoint.to_token()).0);
    }
    Ok(())
}

fn progress_fn(p: Option<HostProgress>) -> Option<Box<dyn Fn(Progress) + Send + Sync>> {
    p.map(|h| {
        Box::new(move |pr: Progress| h.call(pr.records, pr.batches, pr.total_size))
            as Box<dyn Fn(Progress) + Send + Sync>
    })
}

/// Exports every record of `request` into the file at `path` in `format` (an `sfcrm_export_format`
/// value). `path` is checked before the first request: it must be a regular file (replaced) or not
/// exist yet, in an existing directory; a symbolic link, directory, FIFO, socket or device is
/// refused with `SFCRM_RESULT_IO` and left as it is. The file is written beside `path` under an
/// unpredictable temporary name (created exclusively), synced, and renamed over `path` only on
/// success: a failed export leaves any existing file untouched.
///
/// On success `*summary` is written, and `*checkpoint` (optional: NULL if not wanted) receives the
/// checkpoint token after the last record (owned; in incremental mode, resume the next run from it).
/// Errors: `SFCRM_RESULT_IO` for file errors, and those of `sfcrm_export_cursor_next`. Blocking; the
/// request's progress callback runs on an `sfcrm-worker` thread.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_client_export_to_path(
    client: *const sfcrm_client,
    account_id: *const c_char,
    owner: *const c_char,
    request: *const sfcrm_export_request,
    format: u32,
    path: *const c_char,
    summary: *mut sfcrm_export_summary,
    checkpoint: *mut *mut c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let path = ptr::str_arg(path, "path")?;
        if path.is_empty() {
            return Err(FfiError::invalid_argument("`path` must not be empty"));
        }
        let sink: Sink = Box::new(move |core, key, req, fmt, progress| {
            Box::pin(async move {
                let p = progress_fn(progress);
                core.export_to_path(
                    &key,
                    req,
                    fmt,
                    &path,
                    p.as_deref().map(|f| f as &(dyn Fn(Progress) + Send + Sync)),
                )
                .await
            })
        });
        run_export(
            client, account_id, owner, request, format, summary, checkpoint, sink,
        )
    })
}

/// Exports every record of `request` in `format` through `write` (required), which receives the
/// output in chunks with `user_data` (borrowed for the duration of the call). A non-zero return
/// from `write` stops the export with `SFCRM_RESULT_IO`. Otherwise as
/// `sfcrm_client_export_to_path`. Blocking; `write` and the progress callback run on an
/// `sfcrm-worker` thread (one at a time, in order).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_client_export_to_callback(
    client: *const sfcrm_client,
    account_id: *const c_char,
    owner: *const c_char,
    request: *const sfcrm_export_request,
    format: u32,
    write: sfcrm_write_fn,
    user_data: *mut c_void,
    summary: *mut sfcrm_export_summary,
    checkpoint: *mut *mut c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let write = write.ok_or_else(|| FfiError::null("write"))?;
        let writer = HostWriter {
            write,
            user_data: UserData(user_data),
            failed: false,
        };
        let sink: Sink = Box::new(move |core, key, req, fmt, progress| {
            Box::pin(async move {
                let p = progress_fn(progress);
                let w = std::io::BufWriter::with_capacity(64 * 1024, writer);
                core.export_to_writer(
                    &key,
                    req,
                    fmt,
                    w,
                    p.as_deref().map(|f| f as &(dyn Fn(Progress) + Send + Sync)),
                )
                .await
            })
        });
        run_export(
            client, account_id, owner, request, format, summary, checkpoint, sink,
        )
    })
}

#[cfg(test)]
mod encode_batch_tests {
    use super::*;
    use sfcrm_core::QueryPage;

    /// A query page as Salesforce could send it: escapes (`\u00e9`, a surrogate pair, `\/`),
    /// digits (`1.50`, a 20-digit integer) and, in the third record, whitespace line breaks.
    const PAGE: &str = r#"{"totalSize":3,"done":true,"records":[{"attributes":{"type":"Contact","url":"/services/data/v48.0/sobjects/Contact/003A"},"Name":"Zo\u00eb \"Q\" O'Brien \ud83d\ude00","Account":null,"Amount":12345678901234567890,"Rate":1.50,"Owner":{"attributes":{"type":"User"},"Alias":"jsm\nith\/x"}},{"Id":"003B","Title":"","Phone":"+1 555"},{
  "Id" : "003C",
  "N" : 1.50
}]}"#;

    fn batch() -> RecordBatch {
        RecordBatch {
            records: QueryPage::from_text(PAGE).unwrap().records,
        }
    }

    #[test]
    fn records_are_passed_through_as_received() {
        let b = batch();
        let first = r#"{"attributes":{"type":"Contact","url":"/services/data/v48.0/sobjects/Contact/003A"},"Name":"Zo\u00eb \"Q\" O'Brien \ud83d\ude00","Account":null,"Amount":12345678901234567890,"Rate":1.50,"Owner":{"attributes":{"type":"User"},"Alias":"jsm\nith\/x"}}"#;
        let second = r#"{"Id":"003B","Title":"","Phone":"+1 555"}"#;
        let third_as_sent = "{\n  \"Id\" : \"003C\",\n  \"N\" : 1.50\n}";
        let third_on_one_line = r#"{"Id":"003C","N":1.50}"#;

        let array = encode_batch(&b, sfcrm_batch_format::JsonArray);
        let want = format!("[{first},{second},{third_as_sent}]");
        assert_eq!(String::from_utf8(array.clone()).unwrap(), want);
        // one JSON value per record, and the values Salesforce sent
        let v: serde_json::Value = serde_json::from_slice(&array).unwrap();
        assert_eq!(v[0]["Name"], "Zoë \"Q\" O'Brien \u{1F600}");
        assert_eq!(v[0]["Rate"].to_string(), "1.50");

        let nd = String::from_utf8(encode_batch(&b, sfcrm_batch_format::Ndjson)).unwrap();
        assert_eq!(nd, format!("{first}\n{second}\n{third_on_one_line}\n"));
        for (line, rec) in nd.lines().zip(&b.records) {
            let parsed: sfcrm_core::export::Record = serde_json::from_str(line).unwrap();
            assert_eq!(parsed, rec.to_record().unwrap());
        }
    }

    #[test]
    fn empty_batches() {
        let empty = RecordBatch { records: vec![] };
        assert_eq!(encode_batch(&empty, sfcrm_batch_format::JsonArray), b"[]");
        assert_eq!(encode_batch(&empty, sfcrm_batch_format::Ndjson), b"");
    }

    #[test]
    fn the_buffer_is_allocated_once_with_room_for_the_nul() {
        // compact records (what Salesforce sends): exact size, so C gets this very buffer
        let compact = RecordBatch {
            records: batch().records.into_iter().take(2).collect(),
        };
        for (b, f) in [
            (&compact, sfcrm_batch_format::JsonArray),
            (&compact, sfcrm_batch_format::Ndjson),
            (
                &RecordBatch { records: vec![] },
                sfcrm_batch_format::JsonArray,
            ),
        ] {
            let out = encode_batch(b, f);
            assert_eq!(out.capacity(), out.len() + 1, "{f:?}");
            let before = out.as_ptr();
            let (p, _) = ptr::give_bytes(out);
            assert_eq!(p as *const u8, before, "{f:?}: handed to C without a copy");
            assert!(ptr::free_string(p));
        }
    }
}
