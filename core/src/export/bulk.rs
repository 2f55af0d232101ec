//! `ExportMode::Bulk` for streams: the Bulk API 2.0 source (`query/bulk_cursor.rs`) built for an
//! export or a SOQL query, with the REST source it falls back to, and what the stream keeps for
//! its checkpoints and progress ([`BulkMark`]).
//!
//! - An export's job runs `SELECT <fields> FROM <sObject> [WHERE <filter>]`: no `ORDER BY`,
//!   which disables Salesforce's server-side chunking [bulk-and-parallel.md §2.2, §6.5]. Wide
//!   objects need no field groups (the SOQL travels in the POST body, not the URI).
//! - A query's job runs the bound SOQL as written.
//! - Incremental exports (`since`) and resumes from a REST checkpoint are read with REST (their
//!   checkpoints need REST's order), the reason reported like a fallback.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use crate::Client;
use crate::client::bulk::ConnectionBulk;
use crate::error::Result;
use crate::export::{Checkpoint, Progress};
use crate::query::{BulkJobState, BulkOptions};
use crate::query::bulk_cursor::{BulkCursor, BulkStart, BulkStatus, Fallback, SharedBulkStatus};
use crate::query::source::{PageRef, QuerySource, RecordQuery};
use crate::soql::{SObjectName, SoqlQuery};
use crate::store::ConnectionKey;

/// What a Bulk-mode stream keeps: the source's status and where the stream stands.
#[derive(Debug, Clone)]
pub(crate) struct BulkMark {
    /// Shared with the source.
    pub(crate) status: SharedBulkStatus,
    /// A query's plan hash (`None` for an export).
    pub(crate) hash: Option<String>,
    /// After the last delivered batch.
    pub(crate) point: BulkStart,
    /// The last delivered batch's page.
    pub(crate) page: Option<PageRef>,
}

impl BulkMark {
    /// A mark starting at `point`.
    pub(crate) fn new(hash: Option<String>, point: BulkStart) -> BulkMark {
        let status = SharedBulkStatus::default();
        if let BulkStart::Page { job, .. } = &point
            && let Ok(mut s) = status.lock()
        {
            s.job_id = Some(job.clone());
        }
        BulkMark { status, hash, point, page: None }
    }

    /// A mark whose records come from REST from the start, for `reason`.
    pub(crate) fn rest_only(hash: Option<String>, reason: &str) -> BulkMark {
        tracing::info!(target: "sfcrm::bulk", reason, "reading with the REST query API");
        let status = Arc::new(Mutex::new(BulkStatus { fallback: Some(reason.to_owned()), ..BulkStatus::default() }));
        BulkMark { status, hash, point: BulkStart::Beginning, page: None }
    }

    fn snapshot(&self) -> BulkStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The fallback reason, when the records come from REST.
    pub(crate) fn fallback(&self) -> Option<String> {
        self.snapshot().fallback
    }

    /// The job's id, when one was created or resumed.
    pub(crate) fn job_id(&self) -> Option<String> {
        self.snapshot().job_id
    }

    /// Notes a delivered batch's page.
    pub(crate) fn advance(&mut self, page: &PageRef) {
        let Some(job) = self.job_id() else { return };
        self.point = match &page.next {
            Some(l) => BulkStart::Page { job, locator: Some(l.clone()), skip: 0, total_before: 0 },
            None => BulkStart::End,
        };
        self.page = Some(page.clone());
    }

    /// The checkpoint after the last batch (`records` delivered); `None` when the stream reads
    /// REST (the REST checkpoint applies) or no job exists yet.
    pub(crate) fn checkpoint(&self, sobject: &SObjectName, records: u64) -> Option<Checkpoint> {
        let s = self.snapshot();
        if s.fallback.is_some() {
            return None;
        }
        let job = s.job_id?;
        Some(Checkpoint::for_bulk(sobject, self.hash.as_deref(), &job, &self.point, records))
    }

    /// The checkpoint after record `index` of the last batch of `len` records.
    pub(crate) fn checkpoint_at(&self, sobject: &SObjectName, index: usize, len: usize, records: u64) -> Option<Checkpoint> {
        let s = self.snapshot();
        if s.fallback.is_some() {
            return None;
        }
        let job = s.job_id?;
        let point = match &self.page {
            Some(page) if index + 1 < len => BulkStart::Page {
                job: job.clone(),
                locator: page.url.clone(),
                skip: page.skipped + index as u64 + 1,
                total_before: 0,
            },
            _ => self.point.clone(),
        };
        Some(Checkpoint::for_bulk(sobject, self.hash.as_deref(), &job, &point, records))
    }

    /// Adds the job's state, `numberRecordsProcessed` and `retries` to `p` (not after a fallback).
    pub(crate) fn fill(&self, p: &mut Progress) {
        let s = self.snapshot();
        if s.fallback.is_none() {
            p.job_state = s.state;
            p.records_processed = s.records_processed;
            p.job_retries = s.retries;
        }
    }
}

/// A Bulk stream's job status, readable from another task or thread while
/// [`crate::export::ExportStream::next_batch`] waits for the job (a progress bar that shows the
/// job's state while the server works). From [`crate::export::ExportStream::bulk_watch`].
#[derive(Debug, Clone)]
pub struct BulkWatch {
    status: SharedBulkStatus,
}

impl BulkWatch {
    fn read<T>(&self, f: impl FnOnce(&BulkStatus) -> T) -> T {
        let s = self.status.lock().map(|s| s.clone()).unwrap_or_default();
        f(&s)
    }
    /// The job's last state seen (`None` before the job exists, or when REST reads the records).
    pub fn state(&self) -> Option<BulkJobState> {
        self.read(|s| if s.fallback.is_some() { None } else { s.state })
    }
    /// The job's last `numberRecordsProcessed` seen.
    pub fn records_processed(&self) -> Option<u64> {
        self.read(|s| s.records_processed)
    }
    /// The job's last `retries` seen.
    pub fn retries(&self) -> Option<u64> {
        self.read(|s| s.retries)
    }
    /// The job's id, once created (or resumed).
    pub fn job_id(&self) -> Option<String> {
        self.read(|s| s.job_id.clone())
    }
    /// Why REST reads the records instead, if it does.
    pub fn fallback_reason(&self) -> Option<String> {
        self.read(|s| s.fallback.clone())
    }
}

impl BulkMark {
    /// A watch on this stream's job.
    pub(crate) fn watch(&self) -> BulkWatch {
        BulkWatch { status: self.status.clone() }
    }
}

/// The Bulk SOQL of an export's query: its fields and filter, no ORDER BY.
pub(crate) fn bulk_soql(q: &RecordQuery) -> Result<String> {
    let mut s = SoqlQuery::new(q.sobject().clone()).select_all(q.fields().iter().cloned());
    if let Some(f) = q.filter() {
        s = s.filter(f.clone());
    }
    s.to_soql()
}

/// What a Bulk source reads.
pub(crate) struct BulkJobSpec {
    pub(crate) soql: String,
    pub(crate) all_rows: bool,
    pub(crate) columns: Vec<String>,
    pub(crate) sobject: Option<String>,
    pub(crate) options: BulkOptions,
}

/// The Bulk source of `spec` for `key`, starting at `start`, reporting into `mark`, falling
/// back to `rest`.
pub(crate) fn bulk_source(
    client: &Client,
    key: &ConnectionKey,
    spec: BulkJobSpec,
    start: BulkStart,
    mark: &BulkMark,
    calls: Arc<AtomicU64>,
    rest: Fallback,
) -> Result<Box<dyn QuerySource>> {
    spec.options.check()?;
    let api = Arc::new(ConnectionBulk { client: client.clone(), key: key.clone() });
    Ok(Box::new(BulkCursor::new(
        api,
        spec.soql,
        spec.all_rows,
        spec.options,
        spec.columns,
        spec.sobject,
        client.config().data_path(),
        start,
        mark.status.clone(),
        calls,
        Some(rest),
    )))
}
