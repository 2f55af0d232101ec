//! Exports to a C caller: `sfcrm_client_export_page` (the seed's JSON body), `sfcrm_paginator`,
//! and whole exports into a file path or a write callback. The export request is
//! [`crate::export_request`], the streaming cursor [`crate::export_cursor`].

use std::ffi::{c_char, c_void};

use sfcrm_core::export::{ExportFormat, ExportRequest, PageRequest, Progress};

use crate::client::{key_arg, sfcrm_client};
use crate::error::{FfiError, sfcrm_error};
use crate::export_request::{export_format, request_snapshot, sfcrm_export_request};
use crate::host::{HostProgress, HostWriter, sfcrm_write_fn};
use crate::ptr::{self, UserData};
use crate::result::sfcrm_result;

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

/// Result of a finished export to a file or callback.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct sfcrm_export_summary {
    /// Records written by this run.
    pub records: u64,
    /// Salesforce query requests made.
    pub api_calls: u64,
    /// Records the queries' `totalSize` announced that were deleted while the export ran (so
    /// not written); 0 normally.
    pub missing: u64,
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
    watermark: *mut *mut c_char,
    sink: Sink,
) -> Result<(), FfiError> {
    let c = ptr::handle(client, "client")?;
    let key = key_arg(account_id, owner)?;
    let req = request_snapshot(request)?;
    let format = export_format(format)?;
    let summary = ptr::out(summary, "summary")?;
    let checkpoint = ptr::opt_out(checkpoint);
    let watermark = ptr::opt_out(watermark);
    let core = c.client.clone();
    let progress = req.progress;
    let s =
        c.rt.block_on(async move { Ok(sink(core, key, req.core(), format, progress).await?) })?;
    summary.write(sfcrm_export_summary {
        records: s.records,
        api_calls: s.api_calls,
        missing: s.missing,
    });
    if let Some(o) = checkpoint {
        o.write(ptr::give_string(&s.checkpoint.to_token()).0);
    }
    if let Some(o) = watermark {
        o.write(match &s.watermark {
            Some(w) => ptr::give_string(&w.to_token()).0,
            None => std::ptr::null_mut(),
        });
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
/// On success `*summary` is written, `*checkpoint` (optional: NULL if not wanted) receives the
/// checkpoint token after the last record (owned; it resumes this export if a later call with the
/// same request stops, it is not the next incremental run's start), and `*watermark` (optional)
/// the incremental state for the next run (owned; NULL for a full export): store it only once
/// this call succeeded and give it to `sfcrm_export_request_set_watermark` next time. Free both
/// with `sfcrm_string_free`.
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
    watermark: *mut *mut c_char,
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
            client, account_id, owner, request, format, summary, checkpoint, watermark, sink,
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
    watermark: *mut *mut c_char,
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
            client, account_id, owner, request, format, summary, checkpoint, watermark, sink,
        )
    })
}
