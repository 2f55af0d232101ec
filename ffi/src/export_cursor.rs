//! `sfcrm_export_cursor`: a streaming export handed to C batch by batch (each record's JSON text
//! as Salesforce sent it), with checkpoints, progress and cancellation from any thread.

use std::ffi::c_char;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sfcrm_core::export::{BulkWatch, CancelHandle, ExportStream, Progress, RecordBatch};

use crate::client::{key_arg, sfcrm_client};
use crate::error::{FfiError, sfcrm_error};
use crate::export_request::{request_snapshot, sfcrm_export_request};
use crate::ptr::{self, Handle};
use crate::result::sfcrm_result;
use crate::runtime::Rt;

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

/// A streaming export or query: batches of records in a stable order, with checkpoints to resume
/// (even in another process) and cancellation. Created by `sfcrm_export_cursor_open` (an export)
/// or `sfcrm_query_cursor_open` (any SOQL query), freed by `sfcrm_export_cursor_free`.
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
    /// The Bulk job's status (`ExportStream::bulk_watch`), kept once known so that it is read
    /// without the stream's lock (also while `sfcrm_export_cursor_next` blocks in another thread).
    watch: std::sync::Mutex<Option<BulkWatch>>,
    rt: Rt,
}

impl CursorData {
    /// The Bulk job's watch: `None` for a REST stream, or while the stream is busy before its
    /// source exists (an every-field export learns it in its first `next`).
    pub(crate) fn bulk_watch(&self) -> Option<BulkWatch> {
        let mut w = self.watch.lock().unwrap_or_else(|e| e.into_inner());
        if w.is_none() {
            if let Ok(stream) = self.stream.try_lock() {
                *w = stream.bulk_watch();
            }
        }
        w.clone()
    }
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
        out.write(new_cursor(stream, c.rt.clone()));
        Ok(())
    })
}

/// Registers a cursor over `stream` (an export's or a query's: the same stream type), run on `rt`.
pub(crate) fn new_cursor(stream: ExportStream, rt: Rt) -> *mut sfcrm_export_cursor {
    let cancel = stream.cancel_handle();
    let watch = std::sync::Mutex::new(stream.bulk_watch());
    ptr::new_handle::<sfcrm_export_cursor>(CursorData {
        watch,
        stream: Arc::new(tokio::sync::Mutex::new(stream)),
        cancel,
        cancelled: AtomicBool::new(false),
        rt,
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
    crate::runtime::check_not_reentrant()?;
    Ok(cur.stream.blocking_lock())
}

/// Writes the cursor's checkpoint token (after the last delivered batch; opaque, versioned,
/// ASCII) into the caller's buffer `buf` of `cap` bytes, NUL-terminated, and its length (without
/// the NUL) into `*len`. When `cap` is too small (or `buf` is NULL with `cap` 0: a length query)
/// the result is `SFCRM_RESULT_BUFFER_TOO_SMALL` with `*len` set and `buf` untouched. Pass the
/// token to `sfcrm_export_request_set_resume_from` (an export cursor's) or
/// `sfcrm_query_request_set_checkpoint` (a query cursor's, from `sfcrm_query_cursor_open`). Valid
/// after cancellation and errors too.
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

/// Writes the cursor's watermark token (incremental exports: `since` or a watermark) into `buf`
/// of `cap` bytes, NUL-terminated, and its length (without the NUL) into `*len`, as
/// `sfcrm_export_cursor_checkpoint` does (`SFCRM_RESULT_BUFFER_TOO_SMALL` with `*len` set when
/// `cap` is too small). It covers the records delivered so far: store it after the last batch and
/// give it to the next run's `sfcrm_export_request_set_watermark`. A full export has none: the
/// token is the empty string (`*len` 0). The token is ASCII; its size grows with the
/// records changed within 600 s of the newest (about 45 bytes each).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_export_cursor_watermark(
    cursor: *const sfcrm_export_cursor,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let cur = ptr::handle(cursor, "cursor")?;
        let token = lock_stream(&cur)?
            .watermark()
            .map(|w| w.to_token())
            .unwrap_or_default();
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
