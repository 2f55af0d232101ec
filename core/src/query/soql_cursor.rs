//! The SOQL cursor: a caller's SOQL SELECT ([`SoqlPlan`]) as a [`QuerySource`], following
//! `nextRecordsUrl` to the end [salesforce-api.md §4], completing child cursors
//! (`children.rs`) before the next parent page.
//!
//! - Keyset mode (the plan is eligible: `Id` selected, no ORDER BY/LIMIT/…): sent with `ORDER BY
//!   Id`; after a dead locator (`INVALID_SESSION_ID` after a refresh, `INVALID_QUERY_LOCATOR`) or
//!   on a resume it restarts with `Id > 'last'`, so no record is lost or repeated. A dead child
//!   locator restarts it after the parent before the one being completed (the page's earlier
//!   parents are delivered). A locator dying again before the restart returned a record is an
//!   error.
//! - Locator mode (any other query): one query and its `nextRecordsUrl` chain; every batch is one
//!   page and carries the page's address ([`PageRef`]) for checkpoints; a resume re-reads the
//!   checkpoint's page and skips the records already delivered. A dead locator (parent or child)
//!   is an error that keeps its kind and `errorCode` and says what to change in the query.
//! - A query that ends (`done: true`) short of its `totalSize` (issue 16, the REST cursor's check,
//!   `rest.rs`): in keyset mode one more keyset query after the last record fetched tells a cut
//!   result (records there: `Protocol`, resume from the checkpoint) from rows deleted during the
//!   read (none there: a warning and `Progress::missing`). In locator mode no query can ask
//!   "what comes after the last record" (no key to continue from), and a `COUNT()` of the bound
//!   query is no check either: it counts the rows of now, after the same deletions and
//!   insertions, and LIMIT/OFFSET/GROUP BY change what `totalSize` counts. The shortfall is
//!   counted in `Progress::missing` and logged as unverified instead, never an error: a deletion
//!   during paging is legitimate and would otherwise fail every such query.
//! - Cost: one call per page, plus one per child-cursor page ("more" calls, counted as
//!   `query_more`), plus one per restart, plus one per keyset query that ends short.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::BoxFuture;

use crate::error::{Error, ErrorKind, Result};
use crate::query::children::{ChildCursors, ChildFailure, complete_children};
use crate::query::rest::is_dead_locator;
use crate::query::soql_plan::SoqlPlan;
use crate::query::source::{PageRef, QueryApi, QuerySource, SourceBatch};
use crate::query::{Position, QueryOptions, QueryPage};

/// Where a SOQL cursor starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SoqlStart {
    /// At the beginning.
    Beginning,
    /// Keyset: after the record with this position.
    After(Position),
    /// Locator: the page fetched by `url` (`None`: the query itself), after its first `skip`
    /// records; `total_before` records were delivered before (to keep `total_size` relative).
    Page { url: Option<String>, skip: u64, total_before: u64 },
    /// Nothing is left (the checkpoint was taken at the end).
    End,
}

enum State {
    Start,
    More(String),
    Done,
}

/// The SOQL query source (see the module docs).
pub(crate) struct SoqlCursor {
    api: Arc<dyn QueryApi>,
    plan: SoqlPlan,
    options: QueryOptions,
    children: ChildCursors,
    state: State,
    /// Keyset: the last record fetched.
    position: Option<Position>,
    /// Locator resume: the page to read first and how many of its records to skip.
    skip: u64,
    /// Locator resume: records delivered before the resume (subtracted from `totalSize`).
    total_before: u64,
    before_query: u64,
    in_query: u64,
    calls: Arc<AtomicU64>,
    /// Salesforce's `totalSize` of the current query (every page carries it).
    query_total: u64,
    /// Records a query's `totalSize` announced that it did not deliver (see the module docs),
    /// shared with the driver.
    missing: Arc<AtomicU64>,
}

impl SoqlCursor {
    /// A cursor over `plan` through `api` (nothing requested before the first batch).
    pub(crate) fn new(
        api: Arc<dyn QueryApi>,
        plan: SoqlPlan,
        options: QueryOptions,
        children: ChildCursors,
        start: SoqlStart,
        calls: Arc<AtomicU64>,
    ) -> SoqlCursor {
        let mut c = SoqlCursor {
            api,
            plan,
            options,
            children,
            state: State::Start,
            position: None,
            skip: 0,
            total_before: 0,
            before_query: 0,
            in_query: 0,
            calls,
            query_total: 0,
            missing: Arc::new(AtomicU64::new(0)),
        };
        match start {
            SoqlStart::Beginning => {}
            SoqlStart::After(p) => c.position = Some(p),
            SoqlStart::Page { url, skip, total_before } => {
                c.skip = skip;
                c.total_before = total_before;
                if let Some(u) = url {
                    c.state = State::More(u);
                }
            }
            SoqlStart::End => c.state = State::Done,
        }
        c
    }

    /// Counts the records found missing at the end of the query (module docs) in `missing`.
    pub(crate) fn report_missing(mut self, missing: Arc<AtomicU64>) -> SoqlCursor {
        self.missing = missing;
        self
    }

    /// Called once the query ended (`done: true`): see the module docs.
    async fn check_end(&mut self) -> Result<()> {
        let keyset = self.plan.is_keyset();
        let fetched = if keyset { self.in_query } else { self.total_before.saturating_add(self.in_query) };
        let promised = self.query_total;
        if fetched >= promised {
            return Ok(());
        }
        if keyset {
            let soql = self.plan.soql(self.position.as_ref().map(|p| &p.id))?;
            let page = self.api.query(&soql, &self.options).await?;
            self.calls.fetch_add(1, Ordering::Relaxed);
            if let Some(first) = page.records.first() {
                let id = first.id().map(|i| i.to_string()).unwrap_or_default();
                return Err(Error::new(
                    ErrorKind::Protocol,
                    format!(
                        "Salesforce ended the query (done: true) after {fetched} of the {promised} records its totalSize \
                         announced, but asked again it returns more after the last one (first: {id:?}): the result was \
                         cut short; resume from the last checkpoint"
                    ),
                ));
            }
        }
        let missing = promised - fetched;
        self.missing.fetch_add(missing, Ordering::Relaxed);
        if keyset {
            tracing::warn!(target: "sfcrm::query", promised, fetched, missing,
                "a query ended with fewer records than its totalSize and none remain after the last one: rows deleted during the read");
        } else {
            tracing::warn!(target: "sfcrm::query", promised, fetched, missing,
                "a query ended with fewer records than its totalSize; not verifiable without a keyset (select Id, no ORDER BY/LIMIT/GROUP BY): rows deleted during the read, or a result cut short");
        }
        Ok(())
    }

    /// The error for a dead locator in locator mode: the original kind and `errorCode`, with
    /// what to change.
    fn not_resumable(&self, e: Error, what: &str) -> Error {
        let why = self.plan.not_keyset_reason().unwrap_or("it is not keyset-resumable");
        let message = format!(
            "the {what} query locator is no longer valid ({}) and this query cannot continue where it \
             stopped: {why}. Make it resumable (select Id; no ORDER BY, LIMIT, OFFSET, GROUP BY or \
             aggregates) or run it again from the start",
            e.error_code().unwrap_or(e.kind().name())
        );
        e.with_message(message)
    }

    async fn start_query(&mut self) -> Result<QueryPage> {
        let after = self.position.as_ref().map(|p| &p.id);
        let soql = self.plan.soql(after)?;
        self.before_query += self.in_query;
        self.in_query = 0;
        let page = self.api.query(&soql, &self.options).await?;
        self.calls.fetch_add(1, Ordering::Relaxed);
        Ok(page)
    }

    /// Turns one page into a batch: children completed, resume records skipped, order checked
    /// (keyset), state advanced. `Ok(None)` when a dead child locator restarted the keyset query
    /// before any record of the page.
    async fn take(&mut self, mut page: QueryPage, url: Option<String>) -> Result<Option<SourceBatch>> {
        let keyset = self.plan.is_keyset();
        let next = if page.done {
            None
        } else {
            Some(page.next_records_url.take().ok_or_else(|| {
                Error::new(ErrorKind::Protocol, "a query result has done=false but no nextRecordsUrl")
            })?)
        };
        let total = page.total_size;
        self.query_total = total;
        let skip = std::mem::take(&mut self.skip).min(page.records.len() as u64) as usize;
        let mut records: Vec<_> = page.records.drain(skip..).collect();
        let mut restart = false;
        if self.children == ChildCursors::Complete {
            for i in 0..records.len() {
                match complete_children(self.api.as_ref(), &self.options, &records[i], &self.calls).await {
                    Ok(None) => {}
                    Ok(Some(done)) => records[i] = done,
                    Err(ChildFailure::Other(e)) => return Err(e),
                    Err(ChildFailure::DeadLocator(e)) if keyset => {
                        tracing::info!(target: "sfcrm::query", error_code = e.error_code().unwrap_or(""),
                            "child query locator lost; restarting the keyset query before its parent");
                        records.truncate(i);
                        restart = true;
                        break;
                    }
                    Err(ChildFailure::DeadLocator(e)) => return Err(self.not_resumable(e, "child")),
                }
            }
        }
        if keyset {
            self.check_order(&records)?;
            if let Some(last) = records.last() {
                self.position = Some(Position::after(last, false)?);
            }
        }
        self.in_query += records.len() as u64;
        self.state = match (&next, restart) {
            (_, true) => State::Start,
            (Some(u), false) => State::More(u.clone()),
            (None, false) => State::Done,
        };
        if records.is_empty() {
            return Ok(None);
        }
        let total_size = if keyset {
            Some(self.before_query.saturating_add(total))
        } else {
            Some(total.saturating_sub(self.total_before))
        };
        let last_position = if keyset { self.position.clone() } else { None };
        let page_ref = (!keyset).then_some(PageRef { url, next, skipped: skip as u64 });
        Ok(Some(SourceBatch { records, total_size, last_position, page: page_ref }))
    }

    /// Keyset pages come in `Id` order after the last record fetched (a repeat is `Protocol`).
    fn check_order(&self, records: &[crate::query::RawRecord]) -> Result<()> {
        let (Some(first), Some(last)) = (records.first(), records.last()) else { return Ok(()) };
        let first = Position::after(first, false)?;
        let last = Position::after(last, false)?;
        let bad = |p: &Position| {
            Error::new(
                ErrorKind::Protocol,
                format!("Salesforce returned record {} out of Id order: restart from the last checkpoint", p.id),
            )
        };
        if self.position.as_ref().is_some_and(|prev| !first.is_after(prev)) {
            return Err(bad(&first));
        }
        if records.len() > 1 && !last.is_after(&first) {
            return Err(bad(&last));
        }
        Ok(())
    }

    async fn next(&mut self) -> Result<Option<SourceBatch>> {
        let mut progressed = true;
        loop {
            let (page, url) = match std::mem::replace(&mut self.state, State::Done) {
                State::Done => return Ok(None),
                State::Start => (self.start_query().await?, None),
                State::More(url) => match self.api.query_more(&url, &self.options).await {
                    Ok(page) => {
                        self.calls.fetch_add(1, Ordering::Relaxed);
                        (page, Some(url))
                    }
                    Err(e) if is_dead_locator(&e) && self.plan.is_keyset() && progressed => {
                        self.calls.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(target: "sfcrm::query", error_code = e.error_code().unwrap_or(""),
                            "query locator lost; restarting the keyset query after the last record fetched");
                        self.state = State::Start;
                        progressed = false;
                        continue;
                    }
                    Err(e) if is_dead_locator(&e) && !self.plan.is_keyset() => {
                        return Err(self.not_resumable(e, "query's"));
                    }
                    Err(e) => return Err(e),
                },
            };
            let taken = self.take(page, url).await?;
            if matches!(self.state, State::Done) {
                self.check_end().await?;
            }
            match taken {
                Some(batch) => return Ok(Some(batch)),
                // A child locator died before any record of the page: the keyset query restarts,
                // but a second restart without a record in between is an error.
                None if matches!(self.state, State::Start) => {
                    if !progressed {
                        return Err(Error::new(
                            ErrorKind::SessionExpired,
                            "the query's child locators died twice before any record could be read; run it again later",
                        )
                        .with_error_code("INVALID_QUERY_LOCATOR"));
                    }
                    progressed = false;
                }
                // An empty page that is not the end: keep reading (never conclude early).
                None => {}
            }
        }
    }
}

impl QuerySource for SoqlCursor {
    fn next_batch(&mut self) -> BoxFuture<'_, Result<Option<SourceBatch>>> {
        Box::pin(self.next())
    }
}

#[cfg(test)]
#[path = "soql_cursor_tests.rs"]
mod tests;
