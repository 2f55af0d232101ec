//! Bulk API 2.0 (issue 12): the `mode` and `bulk` options of `export`, `query` and the file
//! variants, read into the core's [`ExportMode`] and [`BulkOptions`] (the core runs the job,
//! falls back to REST and reports progress; nothing about Bulk is decided here)
//! [bulk-and-parallel.md §1].

use std::time::Duration;

use napi_derive::napi;
use sfcrm_core::Error;
use sfcrm_core::export::{BulkOptions, ExportMode};

/// `bulk` options of a Bulk API 2.0 job (`mode: 'bulk'`); every field optional.
#[napi(object)]
pub struct BulkOptionsInput {
    /// Rows per result page (`maxRecords`; default 50,000) [bulk-and-parallel.md §1.4].
    pub max_records: Option<u32>,
    /// Result pages downloaded at once (default 4; up to this many are held in memory).
    pub concurrency: Option<u32>,
    /// Delete the job after its last page (default true; Salesforce keeps it 7 days otherwise).
    pub delete_job: Option<bool>,
    /// Read with REST when Bulk refuses the query or the job fails (default true; the reason is
    /// `fallbackReason()`); false rejects instead.
    pub fallback_to_rest: Option<bool>,
    /// Milliseconds to wait for the job (default: as long as it runs).
    pub poll_timeout_ms: Option<f64>,
}

/// `mode` (`rest`, the default, or `bulk`) and its `bulk` options. `InvalidArgument` for another
/// mode, `bulk` options with `mode: 'rest'` (they would be ignored silently), or a negative
/// timeout; 0 pages or 0 parallel pages are refused by the core before any request.
pub fn bulk_mode(mode: Option<&str>, bulk: Option<&BulkOptionsInput>) -> Result<(ExportMode, BulkOptions), Error> {
    let mode = match mode {
        None | Some("rest") => ExportMode::Rest,
        Some("bulk") => ExportMode::Bulk,
        Some(other) => return Err(Error::invalid_argument(format!("mode must be 'rest' or 'bulk', not {other:?}"))),
    };
    let mut o = BulkOptions::default();
    let Some(b) = bulk else { return Ok((mode, o)) };
    if mode == ExportMode::Rest {
        return Err(Error::invalid_argument("bulk options need mode: 'bulk'"));
    }
    if let Some(n) = b.max_records {
        o.max_records = n;
    }
    if let Some(n) = b.concurrency {
        o.concurrency = n as usize;
    }
    if let Some(v) = b.delete_job {
        o.delete_job = v;
    }
    if let Some(v) = b.fallback_to_rest {
        o.fallback_to_rest = v;
    }
    if let Some(ms) = b.poll_timeout_ms {
        let d = Duration::try_from_secs_f64(ms / 1000.0)
            .map_err(|_| Error::invalid_argument("bulk.pollTimeoutMs must be a number of milliseconds >= 0"))?;
        o.poll_timeout = Some(d);
    }
    Ok((mode, o))
}
