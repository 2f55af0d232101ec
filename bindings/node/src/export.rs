//! Exports for Node: the spec/options objects, record conversion, the streaming `ExportCursor`,
//! and the seed paginator as a function.
//!
//! Records cross to JavaScript as JSON text that `lib/index.js` parses with `JSON.parse`: numbers
//! then become JavaScript numbers exactly as the seed's `JSON.parse` of Salesforce's response made
//! them, key order is Salesforce's, and one batch costs one string instead of thousands of napi
//! calls. With `lossless`, every number is first replaced by its exact decimal text (the core keeps
//! numbers as written, so an 18-digit Amount keeps every digit).

use std::sync::Arc;

use napi::bindgen_prelude::Either;
use napi_derive::napi;
use serde_json::Value;
use sfcrm_core::export::{CancelHandle, Checkpoint, ExportRequest, ExportSpec, ExportStream, Record};
use sfcrm_core::paginator::{PageArg, paginate, parse_int_js};
use sfcrm_core::{Error, ErrorKind};

use crate::error::{IntoNapi, invalid_argument, to_napi};

/// What to export: a built-in `type` (`contacts`, `deals`, `notes`) or a custom `sobject` with
/// `fields` (validated against Salesforce's identifier rules; nothing is pasted into SOQL).
#[napi(object)]
pub struct ExportSpecInput {
    /// `contacts`, `deals` or `notes`.
    pub r#type: Option<String>,
    /// Any sObject API name (custom: `Invoice__c`).
    pub sobject: Option<String>,
    /// Field paths (`Name`, `Account.Name`, `Amount__c`), at least one.
    pub fields: Option<Vec<String>>,
}

impl ExportSpecInput {
    /// The core spec; `UnknownExportType` / `InvalidIdentifier` / `InvalidArgument` on bad input.
    pub fn to_spec(&self) -> Result<ExportSpec, Error> {
        match (&self.r#type, &self.sobject) {
            (Some(t), None) => ExportSpec::builtin(t),
            (None, Some(s)) => ExportSpec::custom(s, self.fields.as_deref().unwrap_or(&[])),
            _ => Err(Error::invalid_argument("an export spec has either a type or an sobject with fields")),
        }
    }
}

/// Options of a streaming export.
#[napi(object)]
pub struct ExportStreamOptions {
    /// What to export.
    pub spec: ExportSpecInput,
    /// Incremental mode: only records with `SystemModstamp >= since` (ISO-8601 / Salesforce form).
    pub since: Option<String>,
    /// A checkpoint token to resume after.
    pub resume_from: Option<String>,
    /// Include deleted and archived rows (`queryAll`).
    pub include_deleted: Option<bool>,
    /// Records per batch (Salesforce accepts 200..=2000).
    pub batch_size: Option<u32>,
}

impl ExportStreamOptions {
    /// The core request.
    pub fn to_request(&self) -> Result<ExportRequest, Error> {
        let mut r = ExportRequest::new(self.spec.to_spec()?);
        r.since = self.since.clone();
        if let Some(t) = &self.resume_from {
            r.resume_from = Some(Checkpoint::from_token(t)?);
        }
        r.include_deleted = self.include_deleted.unwrap_or(false);
        r.batch_size = self.batch_size;
        Ok(r)
    }
}

/// Progress of a streaming export.
#[napi(object)]
pub struct ExportProgress {
    /// Records delivered so far (including those before the checkpoint resumed from).
    pub records: i64,
    /// Batches delivered so far.
    pub batches: i64,
    /// Records expected in all (Salesforce's `totalSize`), null before the first batch.
    pub total_size: Option<i64>,
}

/// Replaces every number in `v` by its exact decimal text (the `lossless` option).
pub fn numbers_to_strings(v: &mut Value) {
    match v {
        Value::Number(n) => *v = Value::String(n.to_string()),
        Value::Array(a) => a.iter_mut().for_each(numbers_to_strings),
        Value::Object(o) => o.values_mut().for_each(numbers_to_strings),
        _ => {}
    }
}

/// JSON text of a batch of records (numbers as strings when `lossless`).
pub fn records_json(records: &[Record], lossless: bool) -> String {
    if lossless {
        let mut arr = Value::Array(records.iter().cloned().map(Value::Object).collect());
        numbers_to_strings(&mut arr);
        arr.to_string()
    } else {
        serde_json::to_string(records).unwrap_or_else(|_| "[]".into())
    }
}

struct CursorState {
    stream: ExportStream,
    /// The last batch handed out (kept for record-granular checkpoints); one batch at most.
    last: Vec<Record>,
}

/// A streaming export: `nextBatch()` until it resolves null. Memory is bounded by the core's
/// prefetch (one batch in flight) plus the last batch kept here for `checkpointAfter`.
#[napi]
pub struct ExportCursor {
    state: Arc<tokio::sync::Mutex<CursorState>>,
    cancel: CancelHandle,
}

impl ExportCursor {
    pub(crate) fn new(stream: ExportStream) -> Self {
        let cancel = stream.cancel_handle();
        ExportCursor { state: Arc::new(tokio::sync::Mutex::new(CursorState { stream, last: Vec::new() })), cancel }
    }

    fn try_state(&self) -> napi::Result<tokio::sync::MutexGuard<'_, CursorState>> {
        self.state
            .try_lock()
            .map_err(|_| invalid_argument("the export is fetching a batch; wait for nextBatch() to settle first"))
    }
}

#[napi]
impl ExportCursor {
    /// The next batch as a JSON array text, or null at the end. Rejects with the export's error
    /// (`CancelledError` after `cancel()`).
    #[napi]
    pub async fn next_batch(&self, lossless: Option<bool>) -> napi::Result<Option<String>> {
        let state = self.state.clone();
        let mut st = state.lock().await;
        match st.stream.next_batch().await.napi()? {
            None => {
                st.last.clear();
                Ok(None)
            }
            Some(batch) => {
                let text = records_json(&batch.records, lossless.unwrap_or(false));
                st.last = batch.records;
                Ok(Some(text))
            }
        }
    }

    /// A resume token for the position after the last batch delivered.
    #[napi]
    pub fn checkpoint(&self) -> napi::Result<String> {
        Ok(self.try_state()?.stream.checkpoint().to_token())
    }

    /// A resume token for the position right after record `index` of the last batch delivered.
    #[napi]
    pub fn checkpoint_after(&self, index: u32) -> napi::Result<String> {
        let st = self.try_state()?;
        let record = st
            .last
            .get(index as usize)
            .ok_or_else(|| invalid_argument(format!("no record {index} in the last batch")))?;
        Ok(st.stream.checkpoint_after(record).napi()?.to_token())
    }

    /// Records and batches delivered, and the expected total.
    #[napi]
    pub fn progress(&self) -> napi::Result<ExportProgress> {
        let p = self.try_state()?.stream.progress();
        Ok(ExportProgress {
            records: p.records as i64,
            batches: p.batches as i64,
            total_size: p.total_size.map(|n| n as i64),
        })
    }

    /// Cancels the export (any thread; a pending `nextBatch()` rejects with `CancelledError`).
    #[napi]
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
}

/// A page or limit argument from JavaScript: a number or query-string text.
pub type NumOrText = Either<f64, String>;

/// The seed's page argument (`(page && parseInt(page)) || 1`, then pages below 1 → 1, D14).
pub fn page_arg(page: Option<NumOrText>) -> Result<i64, Error> {
    match page {
        None => PageArg::Missing,
        Some(Either::A(n)) => PageArg::Number(n),
        Some(Either::B(s)) => PageArg::Text(s),
    }
    .page()
}

/// The seed's limit argument: missing, empty, 0 or NaN text → all records (`per_page || items`);
/// a negative or non-integer number is `InvalidArgument`.
pub fn limit_arg(limit: Option<NumOrText>) -> Result<Option<u64>, Error> {
    let n = match limit {
        None => return Ok(None),
        Some(Either::A(n)) => {
            if n.is_nan() || n == 0.0 {
                return Ok(None);
            }
            if !n.is_finite() || n.fract() != 0.0 || !(0.0..=9_007_199_254_740_991.0).contains(&n) {
                return Err(Error::invalid_argument(format!("limit {n} is not a positive integer")));
            }
            n as i64
        }
        Some(Either::B(s)) => match parse_int_js(&s)? {
            None | Some(0) => return Ok(None),
            Some(n) => n,
        },
    };
    if n < 0 {
        return Err(Error::new(ErrorKind::InvalidArgument, format!("limit {n} is negative")));
    }
    Ok(Some(n as u64))
}

/// The seed's pagination object as JSON text, for `items` records: the same function
/// `exportPage` uses (`{page, per_page, total, total_pages, next_page, prev_page, offsetValue}`).
#[napi]
pub fn paginator(
    items: f64,
    #[napi(ts_arg_type = "number | string | null")] page: Option<NumOrText>,
    #[napi(ts_arg_type = "number | string | null")] per_page: Option<NumOrText>,
) -> napi::Result<String> {
    if !(items.is_finite() && items >= 0.0 && items.fract() == 0.0) {
        return Err(invalid_argument("items must be a non-negative integer"));
    }
    let page = page_arg(page).map_err(to_napi)?;
    let per_page = limit_arg(per_page).map_err(to_napi)?;
    let p = paginate(items as u64, page, per_page);
    serde_json::to_string(&p).map_err(|e| to_napi(Error::internal(e.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossless_keeps_digits() {
        let mut v: Value = serde_json::from_str(r#"{"Amount":123456789012345678.25,"n":[1,2.5]}"#).unwrap();
        numbers_to_strings(&mut v);
        assert_eq!(v.to_string(), r#"{"Amount":"123456789012345678.25","n":["1","2.5"]}"#);
    }

    #[test]
    fn limit_parsing() {
        assert_eq!(limit_arg(None).unwrap(), None);
        assert_eq!(limit_arg(Some(Either::B("0".into()))).unwrap(), None);
        assert_eq!(limit_arg(Some(Either::B("abc".into()))).unwrap(), None);
        assert_eq!(limit_arg(Some(Either::B("100".into()))).unwrap(), Some(100));
        assert_eq!(limit_arg(Some(Either::A(25.0))).unwrap(), Some(25));
        assert!(limit_arg(Some(Either::B("-5".into()))).is_err());
        assert!(limit_arg(Some(Either::A(2.5))).is_err());
    }
}
