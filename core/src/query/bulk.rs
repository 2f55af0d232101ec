//! Bulk API 2.0 query jobs [bulk-and-parallel.md §1; salesforce-api.md §6]: the job calls
//! ([`BulkApi`], adapted over the client in `client/bulk.rs`), the job's public types
//! ([`BulkOptions`], [`BulkJobState`], [`BulkLimits`]), and the source that reads a job
//! (`bulk_cursor.rs`).
//!
//! A job is created with the query (`query` or `queryAll`), polled until `JobComplete` with a
//! backoff and no default timeout (a big job can take many minutes; jsforce's 30 s default is a
//! known footgun [§3]), then its CSV result pages are read by `Sforce-Locator` with an explicit
//! `maxRecords`, or through `resultPages` (v58+) several at a time. Pages are re-fetchable while
//! the job exists [§1.4], so a failed page is fetched again alone and a download resumes after a
//! crash from (job id, locator, index in page).

use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::query::bulk_csv::ColumnTypes;

/// A Bulk API 2.0 job's `state` [bulk-and-parallel.md §1.3].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BulkJobState {
    /// `UploadComplete`: queued.
    UploadComplete,
    /// `InProgress`: the server is running the query.
    InProgress,
    /// `JobComplete`: results can be downloaded.
    JobComplete,
    /// `Failed` (see the job's `errorMessage` when Salesforce sends one).
    Failed,
    /// `Aborted`.
    Aborted,
    /// A state this SDK does not know (e.g. the beta event's `Open`); polled like `InProgress`.
    Other,
}

impl BulkJobState {
    /// Parses Salesforce's state name (`Aborted`/`Abort` both read as aborted [§1.3]).
    pub fn parse(name: &str) -> BulkJobState {
        match name {
            "UploadComplete" => BulkJobState::UploadComplete,
            "InProgress" => BulkJobState::InProgress,
            "JobComplete" => BulkJobState::JobComplete,
            "Failed" => BulkJobState::Failed,
            "Aborted" | "Abort" => BulkJobState::Aborted,
            _ => BulkJobState::Other,
        }
    }
    /// Salesforce's name of the state (`Other` is `"Other"`).
    pub fn as_str(self) -> &'static str {
        match self {
            BulkJobState::UploadComplete => "UploadComplete",
            BulkJobState::InProgress => "InProgress",
            BulkJobState::JobComplete => "JobComplete",
            BulkJobState::Failed => "Failed",
            BulkJobState::Aborted => "Aborted",
            BulkJobState::Other => "Other",
        }
    }
    /// True for `JobComplete`, `Failed` and `Aborted`.
    pub fn is_terminal(self) -> bool {
        matches!(self, BulkJobState::JobComplete | BulkJobState::Failed | BulkJobState::Aborted)
    }
}

/// How a Bulk API 2.0 export or query runs (`ExportRequest::bulk_options`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkOptions {
    /// `maxRecords` of every result page (default 50,000, simple-salesforce's page size [§1.4];
    /// Salesforce documents no maximum and recommends setting it: very large pages time out).
    pub max_records: u32,
    /// Result pages downloaded at once when the job offers `resultPages` (v58+) (default 4;
    /// 1 reads one page at a time). Memory: up to this many pages are held.
    pub concurrency: usize,
    /// First wait between two polls (default 500 ms); doubled after each poll up to
    /// `poll_max_interval`.
    pub poll_interval: Duration,
    /// Longest wait between two polls (default 5 s) [§6.3].
    pub poll_max_interval: Duration,
    /// Give up polling after this long (`Timeout`, the job aborted); `None` (default) waits as
    /// long as the job runs.
    pub poll_timeout: Option<Duration>,
    /// Delete the job once its last page was read (default true; frees the result storage
    /// early [§6.2]). A job left behind is deleted by Salesforce after 7 days [§1.8].
    pub delete_job: bool,
    /// When Bulk refuses the query or the job fails, read the records with the REST source
    /// instead (default true); the reason is in [`crate::export::Progress`]'s `fallback` and
    /// logged. False: the refusal or failure is the stream's error.
    pub fallback_to_rest: bool,
}

impl Default for BulkOptions {
    fn default() -> Self {
        BulkOptions {
            max_records: 50_000,
            concurrency: 4,
            poll_interval: Duration::from_millis(500),
            poll_max_interval: Duration::from_secs(5),
            poll_timeout: None,
            delete_job: true,
            fallback_to_rest: true,
        }
    }
}

impl BulkOptions {
    /// `InvalidArgument` for a `max_records` or `concurrency` of 0.
    pub(crate) fn check(&self) -> Result<()> {
        if self.max_records == 0 {
            return Err(Error::invalid_argument("bulk max_records must be at least 1"));
        }
        if self.concurrency == 0 {
            return Err(Error::invalid_argument("bulk concurrency must be at least 1"));
        }
        Ok(())
    }
}

/// The org's Bulk API 2.0 query allocations from `GET /limits` [bulk-and-parallel.md §1.8]:
/// `(max, remaining)` pairs, `None` when the org does not list one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BulkLimits {
    /// `DailyBulkV2QueryJobs`: query jobs per rolling 24 h (10,000).
    pub daily_query_jobs: Option<(u64, u64)>,
    /// `DailyBulkV2QueryFileStorageMB`: result MB per rolling 24 h (976,562 ≈ 1 TB).
    pub daily_query_storage_mb: Option<(u64, u64)>,
    /// `DailyApiRequests`.
    pub daily_api_requests: Option<(u64, u64)>,
}

impl BulkLimits {
    /// Reads the `/limits` body (`{"DailyBulkV2QueryJobs":{"Max":…,"Remaining":…},…}`).
    pub fn from_limits(body: &Value) -> BulkLimits {
        let pair = |name: &str| {
            let v = body.get(name)?;
            Some((v.get("Max")?.as_u64()?, v.get("Remaining")?.as_u64()?))
        };
        BulkLimits {
            daily_query_jobs: pair("DailyBulkV2QueryJobs"),
            daily_query_storage_mb: pair("DailyBulkV2QueryFileStorageMB"),
            daily_api_requests: pair("DailyApiRequests"),
        }
    }
}

/// A job's info (create response or poll) [bulk-and-parallel.md §1.2, §1.3].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JobInfo {
    /// `id` (`750…`).
    pub(crate) id: String,
    /// `state`.
    pub(crate) state: BulkJobState,
    /// `object`: the sObject queried.
    pub(crate) object: Option<String>,
    /// `columnDelimiter` (`COMMA` when absent).
    pub(crate) column_delimiter: Option<String>,
    /// `numberRecordsProcessed`.
    pub(crate) records_processed: Option<u64>,
    /// `retries`.
    pub(crate) retries: Option<u64>,
    /// `errorMessage` (Failed jobs; presence UNCONFIRMED [§1.3]).
    pub(crate) error_message: Option<String>,
}

impl JobInfo {
    /// Reads a job info body; `Protocol` without a string `id` and `state`.
    pub(crate) fn from_json(v: &Value) -> Result<JobInfo> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let (Some(id), Some(state)) = (s("id"), s("state")) else {
            return Err(Error::new(ErrorKind::Protocol, "a Bulk job info has no id or state"));
        };
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::new(ErrorKind::Protocol, "a Bulk job id is not an Id"));
        }
        Ok(JobInfo {
            id,
            state: BulkJobState::parse(&state),
            object: s("object"),
            column_delimiter: s("columnDelimiter"),
            records_processed: v.get("numberRecordsProcessed").and_then(Value::as_u64),
            retries: v.get("retries").and_then(Value::as_u64),
            error_message: s("errorMessage").filter(|m| !m.is_empty()),
        })
    }
}

/// One CSV result page [bulk-and-parallel.md §1.4].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResultPage {
    /// The CSV body (decompressed), header row first; empty for a 204.
    pub(crate) csv: String,
    /// `Sforce-Locator` of the next page; `None` when it is the string `null` (or absent).
    pub(crate) next_locator: Option<String>,
    /// `Sforce-NumberOfRecords`.
    pub(crate) records: Option<u64>,
}

/// One `resultPages` answer [bulk-and-parallel.md §1.5]: result URLs (either documented shape,
/// `resultPages[].resultUrl` or `resultChunks[].resultLink`, relative to `/services/data/vNN.N`
/// or absolute paths) and the next `resultPages` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResultPageList {
    /// Result page paths, each `…/results?locator=…` (absolute paths).
    pub(crate) urls: Vec<String>,
    /// The next `resultPages` path, `None` when done.
    pub(crate) next: Option<String>,
}

impl ResultPageList {
    /// Parses leniently [§1.5 CONFLICT]: `resultPages|resultChunks` × `resultUrl|resultLink`;
    /// a path not starting with `/services/` is made absolute under `data_path`.
    pub(crate) fn from_json(v: &Value, data_path: &str) -> Result<ResultPageList> {
        let abs = |p: &str| -> String {
            if p.starts_with("/services/") || p.starts_with("http://") || p.starts_with("https://") {
                p.to_owned()
            } else if p.starts_with('/') {
                format!("{data_path}{p}")
            } else {
                format!("{data_path}/{p}")
            }
        };
        let list = v.get("resultPages").or_else(|| v.get("resultChunks")).and_then(Value::as_array).ok_or_else(|| {
            Error::new(ErrorKind::Protocol, "a Bulk resultPages answer has neither resultPages nor resultChunks")
        })?;
        let mut urls = Vec::with_capacity(list.len());
        for item in list {
            let url = item.get("resultUrl").or_else(|| item.get("resultLink")).and_then(Value::as_str).ok_or_else(|| {
                Error::new(ErrorKind::Protocol, "a Bulk result page entry has neither resultUrl nor resultLink")
            })?;
            urls.push(abs(url));
        }
        let done = v.get("done").and_then(Value::as_bool);
        let next = v
            .get("nextRecordsUrl")
            .or_else(|| v.get("nextRecordUrl"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && done != Some(true))
            .map(abs);
        Ok(ResultPageList { urls, next })
    }
}

/// The Bulk API 2.0 calls a source makes, bound to one connection (adapted over the client in
/// `client/bulk.rs`; tests script it). Each call counts as one request of its kind
/// (`ApiCallCounts::bulk_*`).
pub(crate) trait BulkApi: Send + Sync + 'static {
    /// `POST …/jobs/query` with `query` or `queryAll` (`all_rows`), CSV, COMMA, LF.
    fn create<'a>(&'a self, soql: &'a str, all_rows: bool) -> BoxFuture<'a, Result<JobInfo>>;
    /// `GET …/jobs/query/{id}`.
    fn job<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<JobInfo>>;
    /// `GET …/jobs/query/{id}/results?maxRecords=…[&locator=…]` (gzip accepted).
    fn results<'a>(&'a self, id: &'a str, locator: Option<&'a str>, max_records: u32) -> BoxFuture<'a, Result<ResultPage>>;
    /// `GET …/jobs/query/{id}/resultPages?maxRecords=…` or its `next` URL; `Ok(None)` when the
    /// org has no `resultPages` (404: before v58).
    fn result_pages<'a>(&'a self, id: &'a str, next: Option<&'a str>, max_records: u32)
    -> BoxFuture<'a, Result<Option<ResultPageList>>>;
    /// `GET` of one URL of a [`ResultPageList`].
    fn result_url<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<ResultPage>>;
    /// The value types of `columns` (field paths of `sobject`) and the lookup field of each
    /// relationship, from describe (cached by the client).
    fn column_types<'a>(&'a self, sobject: &'a str, columns: &'a [String]) -> BoxFuture<'a, Result<ColumnTypes>>;
    /// `PATCH …/jobs/query/{id}` `{"state":"Aborted"}`.
    fn abort<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>>;
    /// `DELETE …/jobs/query/{id}`.
    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>>;
}

/// Why Salesforce's answer to a job creation means "Bulk cannot run this query" (so the REST
/// source may), from the errors Airbyte handles and the refusals seen in the wild
/// [bulk-and-parallel.md §1.9]; `None` for any other error (a bad field is bad in REST too).
pub(crate) fn refusal_reason(e: &Error) -> Option<String> {
    if e.kind() != ErrorKind::Api || !matches!(e.status(), Some(400 | 403 | 404 | 405)) {
        return None;
    }
    let code = e.error_code().unwrap_or("").to_ascii_uppercase();
    let msg = e.message();
    let lower = msg.to_ascii_lowercase();
    let refused = matches!(code.as_str(), "FEATURENOTENABLED" | "FUNCTIONALITY_NOT_ENABLED" | "INVALIDENTITY" | "LIMIT_EXCEEDED")
        || (code == "API_ERROR" && lower.contains("implementation restriction"))
        || lower.contains("not supported in bulk")
        || lower.contains("not supported by the bulk api")
        || lower.contains("does not support query")
        || (e.status() == Some(404) && code == "NOT_FOUND");
    refused.then(|| match e.error_code() {
        Some(c) => format!("{c}: {msg}"),
        None => msg.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn result_pages_in_both_documented_shapes() {
        let dp = "/services/data/v58.0";
        let doc = json!({"resultPages":[{"resultUrl":"/services/data/v58.0/jobs/query/750A/results?locator=MQ"}],
                         "nextRecordsUrl":"/services/data/v58.0/jobs/query/750A/resultpages?locator=Mg","done":false});
        let l = ResultPageList::from_json(&doc, dp).unwrap();
        assert_eq!(l.urls, ["/services/data/v58.0/jobs/query/750A/results?locator=MQ"]);
        assert_eq!(l.next.as_deref(), Some("/services/data/v58.0/jobs/query/750A/resultpages?locator=Mg"));
        let chunks = json!({"resultChunks":[{"resultLink":"/jobs/query/750A/results"},{"resultLink":"jobs/query/750A/results?locator=MQ"}],
                            "nextRecordsUrl":null,"done":true});
        let l = ResultPageList::from_json(&chunks, dp).unwrap();
        assert_eq!(l.urls, ["/services/data/v58.0/jobs/query/750A/results", "/services/data/v58.0/jobs/query/750A/results?locator=MQ"]);
        assert_eq!(l.next, None);
        assert_eq!(ResultPageList::from_json(&json!({"done":true}), dp).unwrap_err().kind(), ErrorKind::Protocol);
        assert_eq!(ResultPageList::from_json(&json!({"resultPages":[{"url":"x"}]}), dp).unwrap_err().kind(), ErrorKind::Protocol);
    }

    #[test]
    fn job_info_and_limits() {
        let j = JobInfo::from_json(&json!({"id":"750R0000000zxr8IAA","state":"Failed","object":"Account","numberRecordsProcessed":740003,"retries":2,"errorMessage":"boom"})).unwrap();
        assert_eq!((j.state, j.records_processed, j.retries, j.error_message.as_deref()), (BulkJobState::Failed, Some(740003), Some(2), Some("boom")));
        assert_eq!(JobInfo::from_json(&json!({"id":"750/../x","state":"Failed"})).unwrap_err().kind(), ErrorKind::Protocol);
        assert_eq!(BulkJobState::parse("Abort"), BulkJobState::Aborted);
        assert_eq!(BulkJobState::parse("Open"), BulkJobState::Other);
        let l = BulkLimits::from_limits(&json!({"DailyBulkV2QueryJobs":{"Max":10000,"Remaining":9998},"DailyApiRequests":{"Max":15000,"Remaining":14000}}));
        assert_eq!((l.daily_query_jobs, l.daily_query_storage_mb, l.daily_api_requests), (Some((10000, 9998)), None, Some((15000, 14000))));
    }

    #[test]
    fn refusals_are_told_from_other_errors() {
        let api = |status: u16, code: &str, msg: &str| Error::new(ErrorKind::Api, msg).with_status(status).with_error_code(code);
        for e in [
            api(400, "FEATURENOTENABLED", "Aggregate Relationships not supported in Bulk V2 Query with CSV content type"),
            api(400, "FUNCTIONALITY_NOT_ENABLED", "Selecting compound data not supported in Bulk Query"),
            api(400, "INVALIDENTITY", "Entity 'CaseStatus' is not supported by the Bulk API."),
            api(400, "API_ERROR", "Implementation restriction: ..."),
            api(400, "INVALIDJOB", "Entity Foo does not support query"),
        ] {
            assert!(refusal_reason(&e).is_some_and(|r| r.contains(e.message())), "{e:?}");
        }
        for e in [
            api(400, "INVALID_FIELD", "No such column 'Nope' on entity 'Contact'"),
            api(400, "MALFORMED_QUERY", "unexpected token"),
            api(500, "FEATURENOTENABLED", "x"),
            Error::new(ErrorKind::RateLimited, "REQUEST_LIMIT_EXCEEDED").with_status(403),
        ] {
            assert_eq!(refusal_reason(&e), None, "{e:?}");
        }
    }
}
