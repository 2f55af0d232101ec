//! The Bulk API 2.0 query job model: settings (the knobs), injected job faults, the job and its
//! state over time, and its job info JSON [bulk-and-parallel.md §1.2, §1.3, §1.8, §5].

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::query::{Path, Plan, Rows};

/// The documented example job: 740,003 rows in 21,046 ms, and 500 rows in 334 ms of
/// `totalProcessingTime` [bulk-and-parallel.md §5, B8]. The straight line through both gives
/// about 35,704 rows/s after a fixed 320 ms.
pub const DOC_ROWS_PER_S: f64 = (740_003.0 - 500.0) / ((21_046.0 - 334.0) / 1000.0);
/// Fixed processing time of every job (see [`DOC_ROWS_PER_S`]).
pub const DOC_OVERHEAD_MS: u64 = 320;

/// Which of the two documented `resultPages` shapes to answer [bulk-and-parallel.md §1.5 CONFLICT].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ResultPagesShape {
    /// The doc example: `{"resultPages":[{"resultUrl":"/services/data/vXX.X/jobs/query/<id>/results?locator=…"}],
    /// "nextRecordsUrl":"/services/data/vXX.X/jobs/query/<id>/resultpages?locator=…","done":false}` [B5].
    #[default]
    ResultPages,
    /// What node-sf-bulk2 saw on a real org: `{"resultChunks":[{"resultLink":"/jobs/query/<id>/results?locator=…"}],
    /// "nextRecordsUrl":null,"done":true}`, links relative to `/services/data/vXX.X` [I22, B5b].
    ResultChunks,
}

/// What results of a job that is not `JobComplete` answer [bulk-and-parallel.md §1.4 CONFLICT].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NotComplete {
    /// 412 `JOB_NOT_COMPLETE` "can only download query results of successfully completed bulk job
    /// with status: JOB_COMPLETE. Current status: IN_PROGRESS" [B4ja 222.0].
    #[default]
    Status412,
    /// 204 with no body [B4ja 224.0/228.0].
    Status204,
}

/// When result pages are gzip-compressed [bulk-and-parallel.md §1.4 "Compression" CONFLICT].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Gzip {
    /// Only with `Accept-Encoding: gzip` [B12].
    #[default]
    WhenAsked,
    /// Always ("always compressed" [B6]), with `Content-Encoding: gzip`.
    Always,
    /// Never.
    Never,
}

/// How dateTime values are written in result CSV [bulk-and-parallel.md §1.7: UNCONFIRMED].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CsvDateTime {
    /// `2013-05-20T20:49:32.000Z` (what tools commonly see).
    #[default]
    Zulu,
    /// `2013-05-20T20:49:32.000+0000` (the REST JSON form).
    Offset,
}

/// Which CSV values are quoted [bulk-and-parallel.md §1.7].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CsvQuoting {
    /// Every header and non-null value, as the result examples show (`"Id","Name"`) [B4][B14].
    #[default]
    All,
    /// Only values holding the delimiter, a quote, CR or LF (RFC 4180 minimal).
    Minimal,
}

/// The Bulk API 2.0 knobs. Every default has a source or says that it is a knob
/// (README "Bulk API 2.0 query jobs"). Partial JSON updates go through
/// `POST /__emulator/bulk/settings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BulkSettings {
    /// Rows processed per second of `InProgress` (default [`DOC_ROWS_PER_S`]).
    pub rows_per_s: f64,
    /// Fixed processing time per job, ms (default [`DOC_OVERHEAD_MS`]).
    pub overhead_ms: u64,
    /// Time a job waits in `UploadComplete` before processing, ms. A knob: no source gives a queue
    /// time (default 500, Airbyte's first poll interval [bulk-and-parallel.md §3]).
    pub queue_delay_ms: u64,
    /// Rows per results page without `maxRecords` ("a default value based on the service" [B4];
    /// the value is UNCONFIRMED: default 50,000, simple-salesforce's page size [T4]). Also the
    /// page size behind each `resultPages` URL (UNCONFIRMED [§1.5]).
    pub default_max_records: u64,
    /// `resultPages` response shape.
    pub result_pages_shape: ResultPagesShape,
    /// Results of a job that is not complete.
    pub not_complete: NotComplete,
    /// Result compression.
    pub gzip: Gzip,
    /// dateTime form in CSV.
    pub datetime: CsvDateTime,
    /// CSV quoting.
    pub quoting: CsvQuoting,
    /// sObjects the Bulk API refuses (`INVALIDENTITY`); none of the emulator's objects is on
    /// Airbyte's list [bulk-and-parallel.md §1.9], so this is empty by default.
    pub unsupported_objects: Vec<String>,
    /// Query jobs per rolling 24 h, `DailyBulkV2QueryJobs` Max (default 10,000 [B1][B2]).
    pub daily_job_limit: u64,
    /// Result storage per 24 h in MB, `DailyBulkV2QueryFileStorageMB` Max (default 976,562 [B3]).
    pub daily_storage_mb: u64,
}

impl Default for BulkSettings {
    fn default() -> Self {
        BulkSettings {
            rows_per_s: DOC_ROWS_PER_S,
            overhead_ms: DOC_OVERHEAD_MS,
            queue_delay_ms: 500,
            default_max_records: 50_000,
            result_pages_shape: ResultPagesShape::default(),
            not_complete: NotComplete::default(),
            gzip: Gzip::default(),
            datetime: CsvDateTime::default(),
            quoting: CsvQuoting::default(),
            unsupported_objects: Vec::new(),
            daily_job_limit: 10_000,
            daily_storage_mb: 976_562,
        }
    }
}

/// What an injected job fault does to the job it lands on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobFaultKind {
    /// The job ends `Failed` halfway through processing, with `errorMessage` when given (its
    /// presence is UNCONFIRMED [bulk-and-parallel.md §1.3]: test both).
    Failed {
        /// `errorMessage` of the job info, if any.
        #[serde(default)]
        error_message: Option<String>,
    },
    /// The next `polls` job info requests answer `InProgress` whatever the clock says (and results
    /// are refused as not complete meanwhile).
    StuckInProgress {
        /// How many polls.
        polls: u32,
    },
    /// The results page starting at row `offset` (0 = the first page; a locator decodes to its
    /// offset) answers 500 `UNKNOWN_EXCEPTION` the first `times` times it is requested, then serves
    /// the page: one page of a parallel download failing alone.
    PageFails {
        /// Row offset of the page.
        offset: u64,
        /// How many requests of it fail (default 1).
        #[serde(default = "one")]
        times: u32,
    },
    /// The job reports `retries` internal retries [bulk-and-parallel.md §1.8].
    Retries {
        /// The `retries` value.
        retries: u32,
    },
}

/// "The next `count` jobs created get `kind`" (`POST /__emulator/bulk/job_faults`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobFault {
    /// How many of the next jobs (default 1).
    #[serde(default = "one")]
    pub count: u32,
    /// What happens to them.
    #[serde(flatten)]
    pub kind: JobFaultKind,
}

fn one() -> u32 {
    1
}

/// A job's state [bulk-and-parallel.md §1.3].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobState {
    /// Queued.
    UploadComplete,
    /// Processing.
    InProgress,
    /// Done; results can be downloaded.
    JobComplete,
    /// Failed.
    Failed,
    /// Aborted by the client.
    Aborted,
}

impl JobState {
    /// The state's name in job info.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::UploadComplete => "UploadComplete",
            JobState::InProgress => "InProgress",
            JobState::JobComplete => "JobComplete",
            JobState::Failed => "Failed",
            JobState::Aborted => "Aborted",
        }
    }
    /// The name in the 412 message (`IN_PROGRESS`).
    pub fn upper(self) -> &'static str {
        match self {
            JobState::UploadComplete => "UPLOAD_COMPLETE",
            JobState::InProgress => "IN_PROGRESS",
            JobState::JobComplete => "JOB_COMPLETE",
            JobState::Failed => "FAILED",
            JobState::Aborted => "ABORTED",
        }
    }
    /// `JobComplete`, `Failed` or `Aborted`.
    pub fn is_terminal(self) -> bool {
        matches!(self, JobState::JobComplete | JobState::Failed | JobState::Aborted)
    }
}

/// One CSV column: its header (the SOQL field path, `Account.Name`) and the path it reads.
#[derive(Debug, Clone)]
pub struct Column {
    /// Header text.
    pub header: String,
    /// The field path.
    pub path: Path,
}

/// What a job returns: the plan, its rows (fixed when the job was created; values are read when
/// a page is served) and the CSV columns.
#[derive(Debug)]
pub struct JobResult {
    /// The resolved query.
    pub plan: Plan,
    /// The result rows.
    pub rows: Rows,
    /// CSV columns.
    pub columns: Vec<Column>,
}

/// A query job.
#[derive(Debug)]
pub(crate) struct Job {
    pub id: String,
    /// `query` or `queryAll`.
    pub operation: &'static str,
    pub result: Arc<JobResult>,
    /// API major version that created the job.
    pub version: u32,
    pub delimiter: u8,
    pub delimiter_name: &'static str,
    pub crlf: bool,
    pub pk_chunking: bool,
    pub created_by: String,
    pub created_ms: i64,
    pub queue_ms: i64,
    pub processing_ms: i64,
    pub rows_per_s: f64,
    pub overhead_ms: i64,
    pub fail: Option<Option<String>>,
    pub stuck_polls: u32,
    pub retries: u32,
    /// `(row offset, failures left)` of result pages that fail.
    pub page_faults: Vec<(u64, u32)>,
    /// When the client aborted it (and the state it had then was not terminal).
    pub aborted_ms: Option<i64>,
}

/// A job's state at one moment, with the counters job info shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The state.
    pub state: JobState,
    /// `numberRecordsProcessed`.
    pub processed: u64,
    /// `totalProcessingTime`, ms.
    pub processing_ms: i64,
    /// `systemModstamp`, epoch ms (the last state change).
    pub modstamp: i64,
}

impl Job {
    fn processed_after(&self, ms: i64) -> u64 {
        let ms = (ms - self.overhead_ms).max(0) as f64;
        ((ms * self.rows_per_s / 1000.0) as u64).min(self.result.rows.len())
    }

    /// The state at `now` by the clock alone (no stuck polls): `UploadComplete` for the queue
    /// delay, `InProgress` for the processing time, then `JobComplete` (or `Failed` halfway
    /// through processing with a failure injected); `Aborted` from an accepted abort on.
    pub fn at(&self, now: i64) -> Snapshot {
        let start = self.created_ms + self.queue_ms;
        let (end, fails) = match self.fail {
            Some(_) => (start + self.processing_ms / 2, true),
            None => (start + self.processing_ms, false),
        };
        let t = match self.aborted_ms {
            Some(a) => a.min(now),
            None => now,
        };
        let mut s = if t < start {
            Snapshot { state: JobState::UploadComplete, processed: 0, processing_ms: 0, modstamp: self.created_ms }
        } else if t < end {
            Snapshot { state: JobState::InProgress, processed: self.processed_after(t - start), processing_ms: t - start, modstamp: start }
        } else {
            let state = if fails { JobState::Failed } else { JobState::JobComplete };
            // A complete job processed every row (the rounded processing time can make the rate
            // fall one row short).
            let processed = if fails { self.processed_after(end - start) } else { self.result.rows.len() as u64 };
            Snapshot { state, processed, processing_ms: end - start, modstamp: end }
        };
        // Aborts are only accepted while the job looks unfinished (possibly because an injected
        // stuck fault hid that the clock had finished it): from then on it is Aborted.
        if let Some(a) = self.aborted_ms {
            s.state = JobState::Aborted;
            s.modstamp = a;
        }
        s
    }

    /// The state results and aborts see: `InProgress` while stuck polls remain.
    pub fn effective(&self, now: i64) -> Snapshot {
        let mut s = self.at(now);
        if self.stuck_polls > 0 && s.state != JobState::Aborted {
            s.state = JobState::InProgress;
            s.processed = s.processed.min(self.result.rows.len().saturating_sub(1));
        }
        s
    }

    /// Job info [B8] (`full`: with the counters; else the create response's fields [D24]).
    pub fn info(&self, s: &Snapshot, full: bool) -> Value {
        let mut v = json!({
            "id": self.id,
            "operation": self.operation,
            "object": self.result.plan.obj.name(),
            "createdById": self.created_by,
            "createdDate": datetime(self.created_ms),
            "systemModstamp": datetime(s.modstamp),
            "state": s.state.as_str(),
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": api_version_number(self.version),
            "lineEnding": if self.crlf { "CRLF" } else { "LF" },
            "columnDelimiter": self.delimiter_name,
        });
        if full {
            let m = v.as_object_mut().expect("object");
            m.insert("jobType".into(), json!("V2Query"));
            m.insert("numberRecordsProcessed".into(), json!(s.processed));
            m.insert("retries".into(), json!(self.retries));
            m.insert("totalProcessingTime".into(), json!(s.processing_ms));
            m.insert("isPkChunkingSupported".into(), json!(self.pk_chunking));
            if s.state == JobState::Failed
                && let Some(Some(msg)) = &self.fail
            {
                m.insert("errorMessage".into(), json!(msg));
            }
        }
        v
    }
}

/// `apiVersion` as a JSON number with one decimal (`58.0`) [bulk-and-parallel.md §1.2].
fn api_version_number(major: u32) -> Value {
    let n: serde_json::Number = serde_json::from_str(&format!("{major}.0")).expect("number");
    Value::Number(n)
}

/// A REST-form dateTime (`2022-01-02T17:38:59.000+0000`) [D24].
pub fn datetime(ms: i64) -> String {
    let mut s = String::with_capacity(28);
    crate::time::format_datetime(ms, &mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_rate_reproduces_both_doc_examples() {
        let t = |rows: f64| DOC_OVERHEAD_MS as f64 + rows / DOC_ROWS_PER_S * 1000.0;
        assert!((t(740_003.0) - 21_046.0).abs() < 1.0, "{}", t(740_003.0));
        assert!((t(500.0) - 334.0).abs() < 1.0, "{}", t(500.0));
    }

    #[test]
    fn api_version_is_a_number_with_a_decimal() {
        assert_eq!(api_version_number(58).to_string(), "58.0");
    }
}
