//! [`BulkCursor`]: a Bulk API 2.0 query job as a [`QuerySource`] (see `bulk.rs` for the calls).
//!
//! 1. Create the job (`query`/`queryAll`); while it is queued, the column types are resolved
//!    from describe ([`BulkApi::column_types`]). A refusal (`bulk::refusal_reason`) switches to
//!    the REST source when allowed, the reason kept in [`BulkStatus::fallback`].
//! 2. Poll with a doubling interval (`poll_interval` up to `poll_max_interval`), no timeout
//!    unless `poll_timeout` is set (then the job is aborted and the error is `Timeout`). A
//!    `Failed` job falls back to REST like a refusal (or is an `Api` error naming its
//!    `errorMessage`); an `Aborted` one is an `Api` error.
//! 3. Read the pages, one batch per page: through `resultPages` when the org has it and
//!    `concurrency > 1` (up to `concurrency` pages fetched at once, handed out in order), else by
//!    `Sforce-Locator` one after the other. A page that fails to parse is fetched again once
//!    (locators are re-fetchable [bulk-and-parallel.md §1.4]); the transport already retries
//!    5xx and dropped connections per request.
//! 4. After the last page the job is deleted (`delete_job`). A cursor dropped (cancel, error,
//!    host gone) while its job is still queued or running aborts the job.
//!
//! Resume: a batch's [`PageRef`] names its page's locator (`url`, `None` = the first page) and
//! the next one (`next`, `None` = the end); with the job id ([`BulkStatus::job_id`]) that is the
//! checkpoint. [`BulkStart::Page`] polls the job once (it must still exist: Salesforce deletes
//! jobs after 7 days) and reads on from that page by locator, without running the query again.
//!
//! Cost: 1 create + polls + one call per page (+ one `resultPages` call per 5 pages) + 1 delete.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::future::{BoxFuture, join_all};

use crate::error::{Error, ErrorKind, Result};
use crate::query::bulk::{BulkApi, BulkJobState, BulkOptions, JobInfo, ResultPage, refusal_reason};
use crate::query::bulk_csv::{BulkCsvReader, ColumnTypes, CsvDialect};
use crate::query::source::{PageRef, QuerySource, SourceBatch};

/// What a Bulk source reports while it runs (shared with the stream for progress and
/// checkpoints).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BulkStatus {
    /// The job's id once created (or resumed).
    pub(crate) job_id: Option<String>,
    /// The last state seen.
    pub(crate) state: Option<BulkJobState>,
    /// The last `numberRecordsProcessed` seen.
    pub(crate) records_processed: Option<u64>,
    /// The last `retries` seen.
    pub(crate) retries: Option<u64>,
    /// Why the records come from the REST source instead (refusal or failed job).
    pub(crate) fallback: Option<String>,
}

/// The status handle shared by a [`BulkCursor`] and its stream.
pub(crate) type SharedBulkStatus = Arc<Mutex<BulkStatus>>;

/// Where a Bulk cursor starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BulkStart {
    /// Create a job.
    Beginning,
    /// Read job `job` from the page at `locator` (`None`: the first), skipping its first `skip`
    /// records; `total_before` records were delivered before.
    Page { job: String, locator: Option<String>, skip: u64, total_before: u64 },
    /// Nothing is left.
    End,
}

/// Builds the REST source a Bulk cursor falls back to.
pub(crate) type Fallback = Box<dyn FnOnce() -> Result<Box<dyn QuerySource>> + Send>;

enum Phase {
    Create,
    Resume { locator: Option<String>, skip: u64 },
    Poll,
    Choose,
    Sequential(Option<String>),
    Parallel { urls: VecDeque<String>, list_next: Option<String> },
    Done,
    Rest(Box<dyn QuerySource>),
}

/// The Bulk API 2.0 source (module docs).
pub(crate) struct BulkCursor {
    api: Arc<dyn BulkApi>,
    soql: String,
    all_rows: bool,
    options: BulkOptions,
    columns: Vec<String>,
    sobject: Option<String>,
    data_path: String,
    types: Option<ColumnTypes>,
    reader: Option<BulkCsvReader>,
    status: SharedBulkStatus,
    calls: Arc<AtomicU64>,
    fallback: Option<Fallback>,
    phase: Phase,
    job: Option<String>,
    /// The job may still be queued or running: abort it when dropped.
    open: bool,
    total_before: u64,
    total: Option<u64>,
    ready: VecDeque<(Option<String>, ResultPage)>,
}

impl BulkCursor {
    /// A cursor reading `soql` (`columns`: its field paths, for key order and types; `sobject`:
    /// its FROM) through `api`; nothing is requested before the first batch.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        api: Arc<dyn BulkApi>,
        soql: String,
        all_rows: bool,
        options: BulkOptions,
        columns: Vec<String>,
        sobject: Option<String>,
        data_path: String,
        start: BulkStart,
        status: SharedBulkStatus,
        calls: Arc<AtomicU64>,
        fallback: Option<Fallback>,
    ) -> BulkCursor {
        let mut c = BulkCursor {
            api,
            soql,
            all_rows,
            options,
            columns,
            sobject,
            data_path,
            types: None,
            reader: None,
            status,
            calls,
            fallback,
            phase: Phase::Create,
            job: None,
            open: false,
            total_before: 0,
            total: None,
            ready: VecDeque::new(),
        };
        match start {
            BulkStart::Beginning => {}
            BulkStart::Page { job, locator, skip, total_before } => {
                c.set_status(|s| s.job_id = Some(job.clone()));
                c.job = Some(job);
                c.total_before = total_before;
                c.phase = Phase::Resume { locator, skip };
            }
            BulkStart::End => c.phase = Phase::Done,
        }
        c
    }

    fn set_status(&self, f: impl FnOnce(&mut BulkStatus)) {
        if let Ok(mut s) = self.status.lock() {
            f(&mut s);
        }
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    fn note(&mut self, info: &JobInfo) {
        self.open = !info.state.is_terminal();
        self.set_status(|s| {
            s.state = Some(info.state);
            s.records_processed = info.records_processed.or(s.records_processed);
            s.retries = info.retries.or(s.retries);
        });
        if info.object.is_some() && self.sobject.is_none() {
            self.sobject = info.object.clone();
        }
        if self.reader.is_none() && info.state == BulkJobState::JobComplete {
            let dialect = CsvDialect::from_column_delimiter(info.column_delimiter.as_deref());
            let attributes = self.sobject.clone().map(|s| (s, self.data_path.clone()));
            self.reader = Some(BulkCsvReader::new(dialect, self.types.clone().unwrap_or_default(), self.columns.clone(), attributes));
        }
    }

    /// Switches to the REST source for `reason` when allowed, else returns `err`.
    fn fall_back(&mut self, reason: String, err: Error) -> Result<()> {
        match (self.options.fallback_to_rest, self.fallback.take()) {
            (true, Some(make)) => {
                tracing::warn!(target: "sfcrm::bulk", reason = %reason, "Bulk API 2.0 cannot read this query; reading it with the REST query API");
                self.set_status(|s| s.fallback = Some(reason));
                self.phase = Phase::Rest(make()?);
                Ok(())
            }
            _ => Err(err),
        }
    }

    async fn create(&mut self) -> Result<()> {
        let created = self.api.create(&self.soql, self.all_rows).await;
        self.count();
        let info = match created {
            Ok(info) => info,
            Err(e) => {
                return match refusal_reason(&e) {
                    Some(reason) => self.fall_back(reason, e),
                    None => Err(e),
                };
            }
        };
        self.job = Some(info.id.clone());
        self.set_status(|s| s.job_id = Some(info.id.clone()));
        if self.sobject.is_none() {
            self.sobject = info.object.clone();
        }
        // While the job is queued: the column types from describe (cached per client).
        if let Some(sobject) = self.sobject.clone() {
            self.types = Some(self.api.column_types(&sobject, &self.columns).await?);
        }
        self.note(&info);
        self.total = info.records_processed;
        // Polled even when created complete: the create answer has no numberRecordsProcessed.
        self.phase = Phase::Poll;
        Ok(())
    }

    async fn poll(&mut self) -> Result<()> {
        let id = self.job.clone().expect("a job was created");
        let started = tokio::time::Instant::now();
        let mut wait = self.options.poll_interval;
        loop {
            let info = self.api.job(&id).await;
            self.count();
            let info = info?;
            self.note(&info);
            match info.state {
                BulkJobState::JobComplete => {
                    self.open = false;
                    self.total = info.records_processed;
                    self.phase = Phase::Choose;
                    return Ok(());
                }
                BulkJobState::Failed => {
                    self.open = false;
                    let why = info.error_message.clone().unwrap_or_else(|| "Salesforce gave no errorMessage".into());
                    let err = Error::new(ErrorKind::Api, format!("the Bulk API 2.0 job {id} failed: {why}"))
                        .with_error_code("BULK_JOB_FAILED");
                    self.finish_job().await;
                    return self.fall_back(format!("the Bulk job failed: {why}"), err);
                }
                BulkJobState::Aborted => {
                    self.open = false;
                    return Err(Error::new(ErrorKind::Api, format!("the Bulk API 2.0 job {id} was aborted (outside this export)"))
                        .with_error_code("BULK_JOB_ABORTED"));
                }
                _ => {}
            }
            if let Some(limit) = self.options.poll_timeout
                && started.elapsed() + wait > limit
            {
                let aborted = self.api.abort(&id).await;
                self.count();
                self.open = aborted.is_err();
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("the Bulk API 2.0 job {id} did not complete within the poll timeout of {} s; it was aborted (raise or remove poll_timeout)", limit.as_secs()),
                ));
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(self.options.poll_max_interval.max(self.options.poll_interval));
        }
    }

    async fn resume(&mut self, locator: Option<String>, skip: u64) -> Result<Option<SourceBatch>> {
        let id = self.job.clone().expect("a resumed job");
        let info = self.api.job(&id).await;
        self.count();
        let info = info.map_err(|e| {
            if e.status() == Some(404) {
                let m = format!("the Bulk API 2.0 job {id} of this checkpoint no longer exists (deleted, or older than 7 days): run the export again without the checkpoint");
                e.with_message(m)
            } else {
                e
            }
        })?;
        if info.state != BulkJobState::JobComplete {
            return Err(Error::invalid_argument(format!(
                "the Bulk API 2.0 job {id} of this checkpoint is {}, not JobComplete: run the export again without the checkpoint",
                info.state.as_str()
            )));
        }
        if let Some(sobject) = info.object.clone().or(self.sobject.clone()) {
            self.sobject = Some(sobject.clone());
            self.types = Some(self.api.column_types(&sobject, &self.columns).await?);
        }
        self.note(&info);
        self.total = info.records_processed.map(|n| n.saturating_sub(self.total_before));
        let page = self.fetch(locator.as_deref()).await?;
        self.phase = Phase::Sequential(page.next_locator.clone());
        self.batch(locator, page, skip).await
    }

    /// One page by locator; a `Protocol` answer (cut, no `Sforce-Locator`) is fetched again
    /// once (the transport already retried 5xx and dropped connections).
    async fn fetch(&mut self, locator: Option<&str>) -> Result<ResultPage> {
        let id = self.job.clone().expect("a job");
        let mut again = true;
        loop {
            let page = self.api.results(&id, locator, self.options.max_records).await;
            self.count();
            match page {
                Err(e) if again && e.kind() == ErrorKind::Protocol => {
                    tracing::info!(target: "sfcrm::bulk", error = %e, "a Bulk result page was unreadable; fetching it again");
                    again = false;
                }
                other => return other,
            }
        }
    }

    /// A page's records as a batch (skipping `skip`); a page that does not parse is fetched
    /// again once. `Ok(None)` for an empty page.
    async fn batch(&mut self, locator: Option<String>, page: ResultPage, skip: u64) -> Result<Option<SourceBatch>> {
        let reader = self.reader.as_mut().expect("the reader is built at JobComplete");
        let mut records = match reader.page(&page.csv, page.records) {
            Ok(r) => r,
            Err(e) => {
                tracing::info!(target: "sfcrm::bulk", error = %e, "a Bulk result page did not parse; fetching it again");
                let again = self.fetch(locator.as_deref()).await?;
                self.reader.as_mut().expect("set").page(&again.csv, again.records)?
            }
        };
        let skip = (skip as usize).min(records.len());
        records.drain(..skip);
        if records.is_empty() {
            return Ok(None);
        }
        Ok(Some(SourceBatch {
            records,
            total_size: self.total,
            last_position: None,
            page: Some(PageRef { url: locator, next: page.next_locator, skipped: skip as u64 }),
        }))
    }

    async fn choose(&mut self) -> Result<()> {
        let id = self.job.clone().expect("a job");
        // One page holds everything: no resultPages call (it would cost one more request).
        let one_page = self.total.is_some_and(|t| t <= u64::from(self.options.max_records));
        if self.options.concurrency > 1 && !one_page {
            let list = self.api.result_pages(&id, None, self.options.max_records).await;
            self.count();
            match list {
                Ok(Some(l)) => {
                    self.phase = Phase::Parallel { urls: l.urls.into(), list_next: l.next };
                    return Ok(());
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::info!(target: "sfcrm::bulk", error = %e, "resultPages failed; reading the pages by locator");
                }
            }
        }
        let page = self.fetch(None).await?;
        self.phase = Phase::Sequential(page.next_locator.clone());
        self.ready.push_back((None, page));
        Ok(())
    }

    /// Parallel mode: up to `concurrency` pages fetched at once, kept in order.
    async fn fill(&mut self) -> Result<bool> {
        let Phase::Parallel { urls, list_next } = &mut self.phase else { return Ok(false) };
        let id = self.job.clone().expect("a job");
        while urls.len() < self.options.concurrency
            && let Some(next) = list_next.take()
        {
            let l = self.api.result_pages(&id, Some(&next), self.options.max_records).await;
            self.calls.fetch_add(1, Ordering::Relaxed);
            let l = l?.ok_or_else(|| Error::new(ErrorKind::Protocol, "a resultPages URL answered 404 midway"))?;
            urls.extend(l.urls);
            *list_next = l.next;
        }
        let take: Vec<String> = (0..self.options.concurrency).filter_map(|_| urls.pop_front()).collect();
        if take.is_empty() {
            return Ok(false);
        }
        let after = urls.front().map(|u| locator_of(u));
        let (api, calls) = (&self.api, &self.calls);
        let pages = join_all(take.iter().map(|u| async move {
            let page = api.result_url(u).await;
            calls.fetch_add(1, Ordering::Relaxed);
            page
        }))
        .await;
        let locators: Vec<Option<String>> = take.iter().map(|u| locator_of(u)).collect();
        for (i, page) in pages.into_iter().enumerate() {
            let mut page = page?;
            // The next page's locator, for checkpoints, when the answer has no Sforce-Locator.
            if page.next_locator.is_none() {
                page.next_locator = locators.get(i + 1).cloned().or(after.clone()).flatten();
            }
            self.ready.push_back((locators[i].clone(), page));
        }
        Ok(true)
    }

    async fn finish_job(&mut self) {
        if !self.options.delete_job {
            return;
        }
        if let Some(id) = self.job.clone() {
            let deleted = self.api.delete(&id).await;
            self.count();
            if let Err(e) = deleted {
                tracing::info!(target: "sfcrm::bulk", job = %id, error = %e, "the finished Bulk job could not be deleted (Salesforce deletes it after 7 days)");
            }
        }
    }

    async fn next(&mut self) -> Result<Option<SourceBatch>> {
        loop {
            if let Some((locator, page)) = self.ready.pop_front() {
                if let Some(b) = self.batch(locator, page, 0).await? {
                    return Ok(Some(b));
                }
                continue;
            }
            match std::mem::replace(&mut self.phase, Phase::Done) {
                Phase::Done => return Ok(None),
                Phase::Rest(mut rest) => {
                    let r = rest.next_batch().await;
                    self.phase = Phase::Rest(rest);
                    return r;
                }
                Phase::Create => self.create().await?,
                Phase::Poll => self.poll().await?,
                Phase::Choose => self.choose().await?,
                Phase::Resume { locator, skip } => {
                    if let Some(b) = self.resume(locator, skip).await? {
                        return Ok(Some(b));
                    }
                }
                Phase::Sequential(Some(loc)) => {
                    let page = self.fetch(Some(&loc)).await?;
                    self.phase = Phase::Sequential(page.next_locator.clone());
                    self.ready.push_back((Some(loc), page));
                }
                Phase::Sequential(None) if self.ready.is_empty() => {
                    // The last page was handed out (or there was none).
                    self.finish_job().await;
                    return Ok(None);
                }
                Phase::Sequential(None) => self.phase = Phase::Sequential(None),
                p @ Phase::Parallel { .. } => {
                    self.phase = p;
                    if !self.fill().await? {
                        self.phase = Phase::Done;
                        self.finish_job().await;
                        return Ok(None);
                    }
                }
            }
        }
    }
}

/// The `locator` query parameter of a result URL (`None`: the first page).
fn locator_of(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "locator").map(|(_, v)| v.into_owned())
}

impl QuerySource for BulkCursor {
    fn next_batch(&mut self) -> BoxFuture<'_, Result<Option<SourceBatch>>> {
        Box::pin(self.next())
    }
}

impl Drop for BulkCursor {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let (Some(id), Ok(rt)) = (self.job.take(), tokio::runtime::Handle::try_current()) else { return };
        let api = self.api.clone();
        let calls = self.calls.clone();
        tracing::info!(target: "sfcrm::bulk", job = %id, "the export stopped while its Bulk job runs: aborting the job");
        rt.spawn(async move {
            let r = api.abort(&id).await;
            calls.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = r {
                tracing::info!(target: "sfcrm::bulk", job = %id, error = %e, "the Bulk job could not be aborted");
            }
        });
    }
}

#[cfg(test)]
#[path = "bulk_cursor_tests.rs"]
mod tests;
