//! The REST cursor: a [`RecordQuery`] as one REST query and its `nextRecordsUrl` chain
//! [salesforce-api.md §4], the first [`QuerySource`].
//!
//! - Full mode: `SELECT Id, … FROM X [WHERE filter] ORDER BY Id ASC`; after a position, `AND Id >
//!   'last'`.
//! - Incremental mode (`since`): `SELECT Id, SystemModstamp, … WHERE SystemModstamp >= since
//!   ORDER BY SystemModstamp ASC, Id ASC`. After a position (`t`, `last`) the rest is read in two
//!   keyset queries, without OR (not every SOQL engine in the path accepts it, and it defeats
//!   the SystemModstamp index): first the records tied at `t` (`SystemModstamp = t AND Id >
//!   'last'`), then `SystemModstamp > t`. The batch `total_size` grows when the second starts.
//! - A query locator belongs to the session that created it [salesforce-api.md §4 "Cursors"]:
//!   when following `nextRecordsUrl` fails with `INVALID_SESSION_ID` (the client has already
//!   refreshed) or `INVALID_QUERY_LOCATOR`, the cursor restarts with the keyset query after the
//!   last record it fetched, so no record is lost or repeated. If the restarted query itself
//!   fails, or the locator dies again before the restart returned any record, the error
//!   propagates.
//! - A query that ends (`done: true`) with fewer records than its `totalSize` promised is
//!   checked with one more keyset query after the last record fetched (issue 16 item 3): if that
//!   returns records, the server cut the result short (a lie, a proxy) and the cursor fails with
//!   `Protocol` (resume from the checkpoint: nothing delivered is lost or repeated); if it returns
//!   none, the rows were deleted (or became invisible) during the export, which Salesforce
//!   legitimately does: a `tracing` warning, and the shortfall is added to the `missing` counter
//!   (`Progress::missing`, `ExportSummary::missing`), not an error. (Rows deleted while others
//!   were inserted after the last record fetched end in the `Protocol` error too; the resumed
//!   export then completes.)
//! - Cost: `ceil(N / batch)` query calls (+1 per restart, +1 per query that ends short) (D15).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::BoxFuture;

use crate::error::{Error, ErrorKind, Result};
use crate::query::source::{QueryApi, QuerySource, RecordQuery, SourceBatch};
use crate::query::{Position, QueryPage};
use crate::soql::{CmpOp, Condition, Direction, FieldPath, SoqlQuery};

/// True when a `nextRecordsUrl` request failed because the locator is dead (its session expired,
/// or `INVALID_QUERY_LOCATOR`).
pub(crate) fn is_dead_locator(e: &Error) -> bool {
    e.kind() == ErrorKind::SessionExpired
        || matches!(e.error_code(), Some("INVALID_SESSION_ID") | Some("INVALID_QUERY_LOCATOR"))
}

/// The keyset query of `q` after `position` (see the module docs); in incremental mode,
/// `ties_done` selects the `SystemModstamp > t` query instead of the ties at `t`.
pub(crate) fn keyset_soql(q: &RecordQuery, position: Option<&Position>, ties_done: bool) -> Result<String> {
    let id = FieldPath::new("Id")?;
    let stamp = FieldPath::new("SystemModstamp")?;
    let mut s = SoqlQuery::new(q.sobject().clone()).select_all(q.fields().iter().cloned());
    if let Some(f) = q.filter() {
        s = s.filter(f.clone());
    }
    match q.since() {
        None => {
            if let Some(p) = position {
                s = s.filter(Condition::cmp(id.clone(), CmpOp::Gt, p.id.clone()));
            }
            s = s.order_by(id, Direction::Asc);
        }
        Some(since) => {
            s = s.filter(Condition::cmp(stamp.clone(), CmpOp::Ge, since));
            if let Some(p) = position {
                let t = p.modstamp.ok_or_else(|| Error::internal("incremental position without SystemModstamp"))?;
                if ties_done {
                    s = s.filter(Condition::cmp(stamp.clone(), CmpOp::Gt, t));
                } else {
                    s = s
                        .filter(Condition::cmp(stamp.clone(), CmpOp::Eq, t))
                        .filter(Condition::cmp(id.clone(), CmpOp::Gt, p.id.clone()));
                }
            }
            s = s.order_by(stamp, Direction::Asc).order_by(id, Direction::Asc);
        }
    }
    s.to_soql()
}

enum State {
    Start,
    More(String),
    Done,
}

/// The REST query source (see the module docs).
pub(crate) struct RestCursor {
    api: Arc<dyn QueryApi>,
    query: RecordQuery,
    state: State,
    /// Last record fetched (not necessarily delivered yet).
    position: Option<Position>,
    /// Records fetched before the current query started (earlier queries of this cursor).
    before_query: u64,
    /// Records fetched by the current query.
    in_query: u64,
    /// Incremental resume: the current query reads the records tied at the position's
    /// SystemModstamp; when it ends, the `SystemModstamp > t` query follows.
    in_ties: bool,
    /// Incremental resume: the tied records are done; the next query is `SystemModstamp > t`.
    ties_done: bool,
    /// Query requests made, shared with the driver (a failed locator request before a restart
    /// counts; other failed requests do not).
    calls: Arc<AtomicU64>,
    /// Salesforce's `totalSize` of the current query (from its first page).
    query_total: u64,
    /// Records that queries promised in `totalSize` but that no longer existed when asked again
    /// (deleted during the export), shared with the driver.
    missing: Arc<AtomicU64>,
}

impl RestCursor {
    /// A cursor over `query` through `api`, counting its requests in `calls`. Nothing is
    /// requested before the first [`QuerySource::next_batch`].
    pub(crate) fn new(api: Arc<dyn QueryApi>, query: RecordQuery, calls: Arc<AtomicU64>) -> RestCursor {
        let position = query.after().cloned();
        RestCursor {
            api,
            query,
            state: State::Start,
            position,
            before_query: 0,
            in_query: 0,
            in_ties: false,
            ties_done: false,
            calls,
            query_total: 0,
            missing: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Counts the records found missing at the end of a query (see the module docs) in `missing`.
    pub(crate) fn report_missing(mut self, missing: Arc<AtomicU64>) -> RestCursor {
        self.missing = missing;
        self
    }

    /// The keyset query that continues after `self.position` (see the module docs).
    fn soql(&self) -> Result<String> {
        keyset_soql(&self.query, self.position.as_ref(), self.ties_done)
    }

    /// Takes one page: its records become a batch, its `nextRecordsUrl` the next state.
    fn take(&mut self, mut page: QueryPage) -> Result<SourceBatch> {
        let total = self.before_query.saturating_add(page.total_size);
        self.check_order(&page)?;
        if let Some(last) = page.records.last() {
            self.position = Some(Position::after(last, self.query.is_incremental())?);
        }
        let last_position = if page.records.is_empty() { None } else { self.position.clone() };
        self.in_query += page.records.len() as u64;
        self.state = if page.done {
            State::Done
        } else {
            match page.next_records_url.take() {
                Some(url) => State::More(url),
                None => {
                    return Err(Error::new(ErrorKind::Protocol, "a query result has done=false but no nextRecordsUrl"));
                }
            }
        };
        Ok(SourceBatch { records: page.records, total_size: Some(total), last_position, page: None })
    }

    /// Every query this cursor sends orders by its keyset (`Id`, or `SystemModstamp, Id`) and
    /// starts after the last record fetched, so a page's first record must come strictly after
    /// the last one fetched (`self.position`), and its last record strictly after its first. A
    /// page that does not (a `nextRecordsUrl` page repeating an earlier Id) is a `Protocol`
    /// error: never a duplicate delivered, never a checkpoint moved backwards (issue 16 item 3).
    /// Only the first and last records are decoded (decoding every record would cost most of an
    /// export's CPU, BENCHMARKS.md); a repeat inside one page is not detected.
    fn check_order(&self, page: &QueryPage) -> Result<()> {
        let incremental = self.query.is_incremental();
        let (Some(first), Some(last)) = (page.records.first(), page.records.last()) else {
            return Ok(());
        };
        let first = Position::after(first, incremental)?;
        let last = Position::after(last, incremental)?;
        let out_of_order = |pos: &Position, prev: &Position| {
            Error::new(
                ErrorKind::Protocol,
                format!(
                    "Salesforce returned record {} out of the query's order (not after {}): a repeated or unordered record; restart from the last checkpoint",
                    pos.id.as_str(),
                    prev.id.as_str()
                ),
            )
        };
        if let Some(prev) = &self.position
            && !first.is_after(prev)
        {
            return Err(out_of_order(&first, prev));
        }
        if page.records.len() > 1 && !last.is_after(&first) {
            return Err(out_of_order(&last, &first));
        }
        Ok(())
    }

    /// Starts the next keyset query (after the last record fetched).
    async fn start_query(&mut self) -> Result<SourceBatch> {
        let soql = self.soql()?;
        self.in_ties = self.query.is_incremental() && self.position.is_some() && !self.ties_done;
        self.before_query += self.in_query;
        self.in_query = 0;
        let page = self.api.query(&soql, self.query.options()).await?;
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.query_total = page.total_size;
        self.take(page)
    }

    /// Called when a query ended (`done: true`): if it yielded fewer records than its
    /// `totalSize`, asks once for what remains after the last record fetched. Records there:
    /// `Protocol` (the result was cut short). None: the shortfall is counted as missing and
    /// logged (rows deleted during the export).
    async fn check_end(&mut self) -> Result<()> {
        let (promised, fetched) = (self.query_total, self.in_query);
        if fetched >= promised {
            return Ok(());
        }
        let soql = self.soql()?;
        let page = self.api.query(&soql, self.query.options()).await?;
        self.calls.fetch_add(1, Ordering::Relaxed);
        if let Some(first) = page.records.first() {
            let id = first.id().map(|i| i.to_string()).unwrap_or_default();
            return Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "Salesforce ended the {} query (done: true) after {fetched} of the {promised} records its totalSize \
                     announced, but asked again it returns more after the last one (first: {id:?}): the result was \
                     cut short; resume from the last checkpoint",
                    self.query.sobject()
                ),
            ));
        }
        let missing = promised - fetched;
        self.missing.fetch_add(missing, Ordering::Relaxed);
        tracing::warn!(target: "sfcrm::export", sobject = %self.query.sobject(), promised, fetched, missing,
            "a query ended with fewer records than its totalSize and none remain after the last one: rows deleted during the export");
        Ok(())
    }

    async fn next(&mut self) -> Result<Option<SourceBatch>> {
        let mut fetched_since_restart = true;
        loop {
            let batch = match std::mem::replace(&mut self.state, State::Done) {
                State::Done if self.in_ties => {
                    // The records tied at the checkpoint's SystemModstamp are done; read the rest.
                    self.in_ties = false;
                    self.ties_done = true;
                    self.state = State::Start;
                    continue;
                }
                State::Done => return Ok(None),
                State::Start => {
                    let batch = self.start_query().await?;
                    if matches!(self.state, State::Done) {
                        self.check_end().await?;
                    }
                    batch
                }
                State::More(url) => match self.api.query_more(&url, self.query.options()).await {
                    Ok(page) => {
                        self.calls.fetch_add(1, Ordering::Relaxed);
                        let batch = self.take(page)?;
                        if matches!(self.state, State::Done) {
                            self.check_end().await?;
                        }
                        batch
                    }
                    Err(e) if is_dead_locator(&e) && fetched_since_restart => {
                        self.calls.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(target: "sfcrm::export", sobject = %self.query.sobject(),
                            error_code = e.error_code().unwrap_or(""), "query locator lost; restarting from the last record fetched");
                        self.state = State::Start;
                        self.in_ties = false;
                        self.ties_done = false;
                        fetched_since_restart = false;
                        continue;
                    }
                    Err(e) => return Err(e),
                },
            };
            if batch.records.is_empty() {
                continue; // an empty page that is not the end: keep reading (never conclude early)
            }
            return Ok(Some(batch));
        }
    }
}

impl QuerySource for RestCursor {
    fn next_batch(&mut self) -> BoxFuture<'_, Result<Option<SourceBatch>>> {
        Box::pin(self.next())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use super::*;
    use crate::query::QueryOptions;
    use crate::soql::{SObjectName, SalesforceId, SoqlDateTime};

    /// A scripted connection: answers each call with the next reply and records what was asked.
    #[derive(Default)]
    struct Script {
        replies: Mutex<VecDeque<Result<QueryPage>>>,
        asked: Mutex<Vec<String>>,
    }

    impl QueryApi for Script {
        fn query<'a>(&'a self, soql: &'a str, _: &'a QueryOptions) -> BoxFuture<'a, Result<QueryPage>> {
            self.asked.lock().unwrap().push(soql.to_string());
            Box::pin(async { self.replies.lock().unwrap().pop_front().expect("a scripted reply") })
        }
        fn query_more<'a>(&'a self, url: &'a str, _: &'a QueryOptions) -> BoxFuture<'a, Result<QueryPage>> {
            self.asked.lock().unwrap().push(url.to_string());
            Box::pin(async { self.replies.lock().unwrap().pop_front().expect("a scripted reply") })
        }
    }

    fn id(n: u32) -> String {
        format!("003{n:015}")
    }
    fn page(total: u64, ids: &[u32], stamp: &str, next: Option<&str>) -> Result<QueryPage> {
        let records: Vec<String> =
            ids.iter().map(|n| format!(r#"{{"Id":"{}","SystemModstamp":"{stamp}"}}"#, id(*n))).collect();
        let next = next.map_or(String::new(), |u| format!(r#","nextRecordsUrl":"{u}""#));
        QueryPage::from_text(format!(
            r#"{{"totalSize":{total},"done":{}{next},"records":[{}]}}"#,
            next.is_empty(),
            records.join(",")
        ))
    }
    fn cursor(script: &Arc<Script>, since: Option<&str>, after: Option<Position>) -> (RestCursor, Arc<AtomicU64>) {
        let fields = [FieldPath::new("Name").unwrap()];
        let since = since.map(|s| SoqlDateTime::parse(s).unwrap());
        let q = RecordQuery::new(SObjectName::new("Contact").unwrap(), &fields, None, since).unwrap().resume_after(after);
        let calls = Arc::new(AtomicU64::new(0));
        (RestCursor::new(script.clone(), q, calls.clone()), calls)
    }
    fn ids(batch: &SourceBatch) -> Vec<String> {
        batch.records.iter().map(|r| r.id().unwrap().to_string()).collect()
    }

    #[tokio::test]
    async fn a_dead_locator_restarts_after_the_last_record_fetched() {
        let script = Arc::new(Script::default());
        let dead = Error::new(ErrorKind::Api, "dead").with_error_code("INVALID_QUERY_LOCATOR");
        script.replies.lock().unwrap().extend([
            page(4, &[1, 2], "2024-01-01T00:00:00Z", Some("/next-1")),
            Err(dead),
            page(2, &[3, 4], "2024-01-01T00:00:00Z", None),
        ]);
        let (mut c, calls) = cursor(&script, None, None);
        let b = c.next_batch().await.unwrap().unwrap();
        assert_eq!((ids(&b), b.total_size), (vec![id(1), id(2)], Some(4)));
        let b = c.next_batch().await.unwrap().unwrap();
        assert_eq!((ids(&b), b.total_size), (vec![id(3), id(4)], Some(4)), "2 before the restart + 2");
        assert_eq!(b.last_position.unwrap().id.as_str(), id(4));
        assert!(c.next_batch().await.unwrap().is_none());
        assert_eq!(calls.load(Ordering::Relaxed), 3);
        let asked = script.asked.lock().unwrap().clone();
        assert_eq!(asked[0], "SELECT Id, Name FROM Contact ORDER BY Id ASC");
        assert_eq!(asked[1], "/next-1");
        assert_eq!(asked[2], format!("SELECT Id, Name FROM Contact WHERE Id > '{}' ORDER BY Id ASC", id(2)));
    }

    #[tokio::test]
    async fn a_locator_dying_again_before_any_record_is_an_error() {
        let script = Arc::new(Script::default());
        let dead = || Err(Error::new(ErrorKind::SessionExpired, "expired"));
        script.replies.lock().unwrap().extend([
            page(4, &[1], "2024-01-01T00:00:00Z", Some("/next-1")),
            dead(),
            page(3, &[], "2024-01-01T00:00:00Z", Some("/next-2")),
            dead(),
        ]);
        let (mut c, _) = cursor(&script, None, None);
        c.next_batch().await.unwrap().unwrap();
        assert_eq!(c.next_batch().await.unwrap_err().kind(), ErrorKind::SessionExpired);
    }

    #[tokio::test]
    async fn an_incremental_resume_reads_the_ties_then_the_rest() {
        let script = Arc::new(Script::default());
        script.replies.lock().unwrap().extend([
            page(1, &[5], "2024-02-01T00:00:00.000+0000", None),
            page(1, &[2], "2024-03-01T00:00:00.000+0000", None),
        ]);
        let t = SoqlDateTime::parse("2024-02-01T00:00:00Z").unwrap();
        let after = Position { id: SalesforceId::new(id(4)).unwrap(), modstamp: Some(t) };
        let (mut c, _) = cursor(&script, Some("2024-01-01T00:00:00Z"), Some(after));
        let b = c.next_batch().await.unwrap().unwrap();
        assert_eq!((ids(&b), b.total_size), (vec![id(5)], Some(1)));
        let b = c.next_batch().await.unwrap().unwrap();
        assert_eq!((ids(&b), b.total_size), (vec![id(2)], Some(2)), "the total grows with the second query");
        assert!(c.next_batch().await.unwrap().is_none());
        let asked = script.asked.lock().unwrap().clone();
        let head = "SELECT Id, SystemModstamp, Name FROM Contact WHERE SystemModstamp >= 2024-01-01T00:00:00Z AND";
        let order = "ORDER BY SystemModstamp ASC, Id ASC";
        assert_eq!(asked[0], format!("{head} SystemModstamp = 2024-02-01T00:00:00Z AND Id > '{}' {order}", id(4)));
        assert_eq!(asked[1], format!("{head} SystemModstamp > 2024-02-01T00:00:00Z {order}"));
    }

    #[tokio::test]
    async fn a_page_repeating_an_earlier_id_is_a_protocol_error() {
        let script = Arc::new(Script::default());
        script.replies.lock().unwrap().extend([
            page(4, &[1, 2], "2024-01-01T00:00:00Z", Some("/next-1")),
            page(4, &[2, 3], "2024-01-01T00:00:00Z", None),
        ]);
        let (mut c, _) = cursor(&script, None, None);
        c.next_batch().await.unwrap().unwrap();
        let e = c.next_batch().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
        assert_eq!(c.position.as_ref().unwrap().id.as_str(), id(2), "the position never moves backwards");
        // An unordered page, and a page starting before a resumed position.
        script.replies.lock().unwrap().push_back(page(2, &[3, 1], "2024-01-01T00:00:00Z", None));
        let (mut c, _) = cursor(&script, None, None);
        assert_eq!(c.next_batch().await.unwrap_err().kind(), ErrorKind::Protocol);
        script.replies.lock().unwrap().push_back(page(2, &[4, 5], "2024-01-01T00:00:00Z", None));
        let after = Position { id: SalesforceId::new(id(5)).unwrap(), modstamp: None };
        let (mut c, _) = cursor(&script, None, Some(after));
        assert_eq!(c.next_batch().await.unwrap_err().kind(), ErrorKind::Protocol);
    }

    #[tokio::test]
    async fn a_query_ending_short_with_records_left_is_a_protocol_error() {
        // Page 2 says done after 2 of 650; asked again after the last record, the org has more.
        let script = Arc::new(Script::default());
        script.replies.lock().unwrap().extend([
            page(650, &[1, 2], "2024-01-01T00:00:00Z", Some("/next-1")),
            page(650, &[], "2024-01-01T00:00:00Z", None),
            page(648, &[3, 4], "2024-01-01T00:00:00Z", None),
        ]);
        let (mut c, calls) = cursor(&script, None, None);
        assert_eq!(ids(&c.next_batch().await.unwrap().unwrap()), vec![id(1), id(2)]);
        let e = c.next_batch().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
        assert!(e.message().contains("after 2 of the 650"), "{e}");
        assert_eq!(calls.load(Ordering::Relaxed), 3);
        let asked = script.asked.lock().unwrap().clone();
        assert_eq!(asked[2], format!("SELECT Id, Name FROM Contact WHERE Id > '{}' ORDER BY Id ASC", id(2)));
        // The issue's page: {"totalSize":1500,"done":true,"records":[]} as the first answer.
        script.replies.lock().unwrap().extend([page(1500, &[], "2024-01-01T00:00:00Z", None), page(1500, &[1], "2024-01-01T00:00:00Z", None)]);
        let (mut c, _) = cursor(&script, None, None);
        assert_eq!(c.next_batch().await.unwrap_err().kind(), ErrorKind::Protocol);
    }

    #[tokio::test]
    async fn a_query_ending_short_with_nothing_left_counts_the_missing_rows() {
        // Rows deleted during the export: the last page ends short and nothing remains after it.
        let script = Arc::new(Script::default());
        script.replies.lock().unwrap().extend([
            page(5, &[1, 2], "2024-01-01T00:00:00Z", Some("/next-1")),
            page(5, &[3], "2024-01-01T00:00:00Z", None),
            page(0, &[], "2024-01-01T00:00:00Z", None),
        ]);
        let missing = Arc::new(AtomicU64::new(0));
        let (c, calls) = cursor(&script, None, None);
        let mut c = c.report_missing(missing.clone());
        c.next_batch().await.unwrap().unwrap();
        assert_eq!(ids(&c.next_batch().await.unwrap().unwrap()), vec![id(3)], "the records fetched are delivered");
        assert!(c.next_batch().await.unwrap().is_none());
        assert_eq!(missing.load(Ordering::Relaxed), 2);
        assert_eq!(calls.load(Ordering::Relaxed), 3, "one query to check the end");
        let asked = script.asked.lock().unwrap().clone();
        assert_eq!(asked[2], format!("SELECT Id, Name FROM Contact WHERE Id > '{}' ORDER BY Id ASC", id(3)));
    }
}
