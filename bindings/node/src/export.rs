//! Exports for Node: the spec/options objects, the streaming `ExportCursor`, the page and limit
//! arguments, and the seed paginator as a function.
//!
//! Records cross to JavaScript as JSON text (see [`crate::rawjson`]): a streamed batch is one
//! ASCII JSON array built from the core's raw records, a page (`exportPage`) the seed's body.

use std::sync::Arc;

use napi::Env;
use napi::bindgen_prelude::Either;
use napi_derive::napi;
use sfcrm_core::Error;
use sfcrm_core::export::{BulkWatch, CancelHandle, Checkpoint, ExportRequest, ExportSpec, ExportStream};
use sfcrm_core::paginator::{PageArg, paginate};

use crate::bulk::{BulkOptionsInput, bulk_mode};
use crate::error::{IntoJs, Settled, to_js};
use crate::params::params_from_json;
use crate::rawjson::{AsciiJson, batch_js_json};

/// What to export: a built-in `type` (`contacts`, `deals`, `notes`) or a custom `sobject` with
/// `fields` (validated against Salesforce's identifier rules; nothing is pasted into SOQL; `["*"]`
/// is every field, expanded from describe by the core), optionally filtered by `where`.
#[napi(object)]
pub struct ExportSpecInput {
    /// `contacts`, `deals` or `notes`.
    pub r#type: Option<String>,
    /// Any sObject API name (custom: `Invoice__c`).
    pub sobject: Option<String>,
    /// Field paths (`Name`, `Account.Name`, `Amount__c`), at least one; `["*"]`: every field.
    pub fields: Option<Vec<String>>,
    /// One SOQL condition (`Industry = :industry AND CreatedDate = LAST_N_DAYS:30`), its values
    /// bound from `params_json` (core `ExportSpec::with_where`: checked to be one balanced
    /// condition with no clause keyword, before any request).
    pub r#where: Option<String>,
    /// Bind values of `where` in the core's JSON form (see `crate::query`).
    pub params_json: Option<String>,
}

impl ExportSpecInput {
    /// The core spec; `UnknownExportType` / `InvalidIdentifier` / `InvalidArgument` on bad input.
    pub fn to_spec(&self) -> Result<ExportSpec, Error> {
        let spec = match (&self.r#type, &self.sobject) {
            (Some(t), None) => ExportSpec::builtin(t)?,
            (None, Some(s)) => ExportSpec::custom(s, self.fields.as_deref().unwrap_or(&[]))?,
            _ => return Err(Error::invalid_argument("an export spec has either a type or an sobject with fields")),
        };
        let params = params_from_json(self.params_json.as_deref())?;
        match &self.r#where {
            Some(condition) => spec.with_where(condition, &params),
            None if !params.is_empty() => {
                Err(Error::invalid_argument("params were given without a where condition to bind them to"))
            }
            None => Ok(spec),
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
    /// Incremental mode from the previous run's watermark token (not with `since`).
    pub watermark: Option<String>,
    /// A checkpoint token to resume after.
    pub resume_from: Option<String>,
    /// Include deleted and archived rows (`queryAll`).
    pub include_deleted: Option<bool>,
    /// Records per batch (Salesforce accepts 200..=2000).
    pub batch_size: Option<u32>,
    /// `rest` (default) or `bulk`: a Bulk API 2.0 query job (see [`crate::bulk`]).
    pub mode: Option<String>,
    /// The Bulk job's options (`mode: 'bulk'` only).
    pub bulk: Option<BulkOptionsInput>,
}

impl ExportStreamOptions {
    /// The core request.
    pub fn to_request(&self) -> Result<ExportRequest, Error> {
        let mut r = ExportRequest::new(self.spec.to_spec()?);
        r.since = self.since.clone();
        if let Some(w) = &self.watermark {
            r.watermark = Some(sfcrm_core::export::Watermark::from_token(w)?);
        }
        if let Some(t) = &self.resume_from {
            r.resume_from = Some(Checkpoint::from_token(t)?);
        }
        r.include_deleted = self.include_deleted.unwrap_or(false);
        r.batch_size = self.batch_size;
        (r.mode, r.bulk) = bulk_mode(self.mode.as_deref(), self.bulk.as_ref())?;
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
    /// Records `totalSize` announced that were deleted during the export (asked again at the end
    /// of a query, none remained); 0 normally. A query cut short rejects with `ProtocolError`.
    pub missing: i64,
    /// `mode: 'bulk'`: the Bulk API 2.0 job's last state seen (`UploadComplete`, `InProgress`,
    /// `JobComplete`, `Failed`, `Aborted`); absent for REST and after a fallback to REST
    /// [bulk-and-parallel.md §1.3].
    pub job_state: Option<String>,
    /// `mode: 'bulk'`: the job's last `numberRecordsProcessed` seen (grows while the server works).
    pub records_processed: Option<i64>,
    /// `mode: 'bulk'`: the job's last `retries` seen (Salesforce's internal retries).
    pub job_retries: Option<i64>,
}

/// A streaming export: `nextBatch()` until it resolves null. Memory is bounded by the core's
/// prefetch (one batch in flight) plus the batch being handed out, which the core's stream keeps
/// for `checkpointAt`.
#[napi]
pub struct ExportCursor {
    stream: Arc<tokio::sync::Mutex<ExportStream>>,
    cancel: CancelHandle,
    /// `mode: 'bulk'`: the job's live state, readable while `nextBatch()` holds the stream.
    watch: Option<BulkWatch>,
}

impl ExportCursor {
    pub(crate) fn new(stream: ExportStream) -> Self {
        let cancel = stream.cancel_handle();
        let watch = stream.bulk_watch();
        ExportCursor { stream: Arc::new(tokio::sync::Mutex::new(stream)), cancel, watch }
    }

    /// The stream, unless a `nextBatch()` holds it (an `InvalidArgument`: the caller must wait).
    fn try_stream(&self) -> Result<tokio::sync::MutexGuard<'_, ExportStream>, Error> {
        self.stream
            .try_lock()
            .map_err(|_| Error::invalid_argument("the export is fetching a batch; wait for nextBatch() to settle first"))
    }
}

#[napi]
impl ExportCursor {
    /// The next batch as a JSON array text (ASCII: non-ASCII characters as `\u` escapes; numbers
    /// as strings with `lossless`), or null at the end. Rejects with the export's error
    /// (`Cancelled` after `cancel()`).
    #[napi(ts_return_type = "Promise<string | null>")]
    pub async fn next_batch(&self, lossless: Option<bool>) -> Settled<Option<AsciiJson>> {
        let stream = self.stream.clone();
        let mut stream = stream.lock().await;
        let batch = stream.next_batch().await;
        Settled(batch.map(|b| b.map(|b| AsciiJson::new(batch_js_json(&b.records, lossless.unwrap_or(false))))))
    }

    /// Incremental exports: the watermark token after the batches delivered (the next run's
    /// `watermark`); null for a full export.
    #[napi]
    pub fn watermark(&self, env: Env) -> napi::Result<Option<String>> {
        Ok(self.try_stream().js(&env)?.watermark().map(|w| w.to_token()))
    }

    /// A resume token for the position after the last batch delivered.
    #[napi]
    pub fn checkpoint(&self, env: Env) -> napi::Result<String> {
        Ok(self.try_stream().js(&env)?.checkpoint().to_token())
    }

    /// A resume token for the position right after record `index` (0-based) of the last batch
    /// delivered (the core's `checkpoint_at`). `InvalidArgument` when the batch has no such record.
    #[napi]
    pub fn checkpoint_at(&self, env: Env, index: u32) -> napi::Result<String> {
        let stream = self.try_stream().js(&env)?;
        Ok(stream.checkpoint_at(index as usize).js(&env)?.to_token())
    }

    /// Records and batches delivered, and the expected total; with `mode: 'bulk'` the job's
    /// state, `numberRecordsProcessed` and retries (live: also while the job runs).
    #[napi]
    pub fn progress(&self, env: Env) -> napi::Result<ExportProgress> {
        let mut p = self.try_stream().js(&env)?.progress();
        if let Some(w) = self.watch.as_ref().filter(|w| w.fallback_reason().is_none()) {
            p.job_state = w.state().or(p.job_state);
            p.records_processed = w.records_processed().or(p.records_processed);
            p.job_retries = w.retries().or(p.job_retries);
        }
        Ok(ExportProgress {
            records: p.records as i64,
            batches: p.batches as i64,
            total_size: p.total_size.map(|n| n as i64),
            missing: p.missing as i64,
            job_state: p.job_state.map(|s| s.as_str().to_owned()),
            records_processed: p.records_processed.map(|n| n as i64),
            job_retries: p.job_retries.map(|n| n as i64),
        })
    }

    /// `mode: 'bulk'`: why the records come from the REST query API instead of a Bulk API 2.0
    /// job (Salesforce's refusal with its `errorCode`, e.g. a child subquery's
    /// `FEATURENOTENABLED`; a failed job's `errorMessage`; an incremental export); null while a
    /// job reads them, before that is known, and for `mode: 'rest'` [bulk-and-parallel.md §1.9].
    #[napi]
    pub fn fallback_reason(&self) -> Option<String> {
        self.watch.as_ref().and_then(BulkWatch::fallback_reason)
    }

    /// `mode: 'bulk'`: the Bulk API 2.0 job's id (`750…`) once created; null otherwise.
    #[napi]
    pub fn bulk_job_id(&self) -> Option<String> {
        self.watch.as_ref().and_then(BulkWatch::job_id)
    }

    /// Cancels the export (any thread; a pending `nextBatch()` rejects with `Cancelled`).
    #[napi]
    pub fn cancel(&self) {
        self.cancel.cancel();
    }
}

/// A page or limit argument from JavaScript: a number or query-string text.
pub type NumOrText = Either<f64, String>;

fn num_or_text(v: Option<NumOrText>) -> PageArg {
    match v {
        None => PageArg::Missing,
        Some(Either::A(n)) => PageArg::Number(n),
        Some(Either::B(s)) => PageArg::Text(s),
    }
}

/// The seed's page argument (`(page && parseInt(page)) || 1`, then pages below 1 → 1, D14).
pub fn page_arg(page: Option<NumOrText>) -> Result<i64, Error> {
    num_or_text(page).page()
}

/// The seed's limit argument (the core's `PageArg::limit`, the same rule as Python's): missing,
/// empty, 0 or NaN text → all records (`per_page || items`); a negative or non-integer number is
/// `InvalidArgument`.
pub fn limit_arg(limit: Option<NumOrText>) -> Result<Option<u64>, Error> {
    num_or_text(limit).limit()
}

/// The seed's pagination object as JSON text, for `items` records: the same function
/// `exportPage` uses (`{page, per_page, total, total_pages, next_page, prev_page, offsetValue}`).
#[napi]
pub fn paginator(
    env: Env,
    items: f64,
    #[napi(ts_arg_type = "number | string | null")] page: Option<NumOrText>,
    #[napi(ts_arg_type = "number | string | null")] per_page: Option<NumOrText>,
) -> napi::Result<String> {
    if !(items.is_finite() && items >= 0.0 && items.fract() == 0.0) {
        return Err(to_js(&env, &Error::invalid_argument("items must be a non-negative integer")));
    }
    let page = page_arg(page).js(&env)?;
    let per_page = limit_arg(per_page).js(&env)?;
    let p = paginate(items as u64, page, per_page);
    serde_json::to_string(&p).map_err(|e| Error::internal(e.to_string())).js(&env)
}

#[cfg(test)]
mod tests {
    use super::*;

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
