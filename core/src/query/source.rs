//! The seam between where records come from and what drives them: a [`QuerySource`] yields
//! batches of [`RawRecord`]s in a keyset order, each with the [`Position`] to resume after it.
//!
//! A source is built from a [`RecordQuery`] (what to read: sObject, fields, filter, `since`, the
//! position to start after, query options) and, for the REST sources, a [`QueryApi`] (the REST
//! query calls bound to one connection: `Client::query_page` / `query_more`, adapted by the layer
//! above, `export/stream/`; this layer never names the client). `ExportStream` (export/)
//! drives any source: prefetch, cancellation, progress and checkpoints; it never looks inside
//! one. For a checkpoint in the middle of a batch it reads the position from the record itself
//! ([`Position::after`]), which holds for every keyset-ordered source.
//!
//! ## Sources
//! - [`crate::query::rest::RestCursor`] (exports): one REST query, then its
//!   `nextRecordsUrl` chain; a keyset restart after a dead query locator.
//! - [`crate::query::soql_cursor::SoqlCursor`] (`Client::query_stream`): a caller's SOQL, keyset
//!   when eligible (`ORDER BY Id` added, `Id > last` on a restart), else by query locator (its
//!   batches carry a [`PageRef`] so checkpoints name the page and the index in it); child
//!   cursors completed before the next parent page.
//! - [`crate::query::joined::JoinedCursor`]: a query too wide for one REST query URI, read as
//!   K REST cursors over consecutive groups of its fields, merged by key into whole records.
//! - Parallel Id-range cursors (next): K REST cursors over disjoint `Id` ranges of the same
//!   [`RecordQuery`] (two more conditions, `Id >= lo AND Id < hi`), fetched concurrently and
//!   yielded range after range, so that the source as a whole keeps the query's `Id` order and
//!   the position after a batch is still its last record's key (a resume skips the ranges before
//!   it and restarts the one holding it after it). Such a source provides: the split (`Id`
//!   boundaries it queries first, e.g. by anchor hops), one [`QueryApi`] shared by its cursors,
//!   the reordering (at most one batch held per range, so memory stays bounded), and a
//!   `total_size` that sums its ranges' `totalSize`. Incremental mode stays on one cursor (its
//!   order is by SystemModstamp).
//! - [`crate::query::bulk_cursor::BulkCursor`] (`ExportMode::Bulk`): a Bulk API 2.0 query job
//!   [bulk-and-parallel.md §1] of the same query without `ORDER BY`, its CSV pages converted
//!   into [`RawRecord`]s with the REST source's JSON (`bulk_csv.rs`). Its records are in no
//!   keyset order, so its batches carry a [`PageRef`] (the page's `Sforce-Locator` and the next)
//!   instead of a [`Position`]; with the job id that is its checkpoint. It reaches Salesforce
//!   through its own calls (`bulk::BulkApi`), adapted over the client like [`QueryApi`].
//!
//! Every source keeps the contract of [`QuerySource::next_batch`]: records in order, none
//! repeated, none lost, empty batches never returned, the end reported only at the end.

use futures_util::future::BoxFuture;

use crate::error::Result;
use crate::query::{Position, QueryOptions, QueryPage, RawRecord};
use crate::soql::{Condition, FieldPath, SObjectName, SoqlDateTime};

/// What a source reads: an sObject's records, some fields, an optional filter; in full mode
/// (`ORDER BY Id`) or incremental mode (`since`: `SystemModstamp >= since`, ordered by
/// `SystemModstamp, Id`); from the start or after a [`Position`].
#[derive(Debug, Clone)]
pub(crate) struct RecordQuery {
    sobject: SObjectName,
    fields: Vec<FieldPath>,
    filter: Option<Condition>,
    since: Option<SoqlDateTime>,
    after: Option<Position>,
    options: QueryOptions,
}

impl RecordQuery {
    /// Reads `fields` of `sobject` matching `filter`, incrementally from `since` when given. The
    /// selected fields are `Id` (unless listed), then `SystemModstamp` in incremental mode
    /// (unless listed), then `fields` in order: the order key must be in every record.
    pub(crate) fn new(
        sobject: SObjectName,
        fields: &[FieldPath],
        filter: Option<Condition>,
        since: Option<SoqlDateTime>,
    ) -> Result<RecordQuery> {
        let listed = |name: &str| fields.iter().any(|f| f.is_field(name));
        let mut selected: Vec<FieldPath> = Vec::with_capacity(fields.len() + 2);
        if !listed("Id") {
            selected.push(FieldPath::new("Id")?);
        }
        if since.is_some() && !listed("SystemModstamp") {
            selected.push(FieldPath::new("SystemModstamp")?);
        }
        selected.extend(fields.iter().cloned());
        Ok(RecordQuery { sobject, fields: selected, filter, since, after: None, options: QueryOptions::default() })
    }

    /// Starts after `position` (a checkpoint's); `None` starts at the beginning.
    pub(crate) fn resume_after(mut self, position: Option<Position>) -> Self {
        self.after = position;
        self
    }

    /// Sets the REST query options (`queryAll`, batch size).
    pub(crate) fn with_options(mut self, options: QueryOptions) -> Self {
        self.options = options;
        self
    }

    /// The sObject read.
    pub(crate) fn sobject(&self) -> &SObjectName {
        &self.sobject
    }
    /// The fields selected, in order (see [`RecordQuery::new`]).
    pub(crate) fn fields(&self) -> &[FieldPath] {
        &self.fields
    }
    /// The caller's WHERE condition, if any.
    pub(crate) fn filter(&self) -> Option<&Condition> {
        self.filter.as_ref()
    }
    /// Incremental mode's lower bound (inclusive).
    pub(crate) fn since(&self) -> Option<SoqlDateTime> {
        self.since
    }
    /// True in incremental mode (order `SystemModstamp, Id`).
    pub(crate) fn is_incremental(&self) -> bool {
        self.since.is_some()
    }
    /// The position the query starts after.
    pub(crate) fn after(&self) -> Option<&Position> {
        self.after.as_ref()
    }
    /// The REST query options.
    pub(crate) fn options(&self) -> &QueryOptions {
        &self.options
    }
}

/// A batch from a source.
#[derive(Debug)]
pub(crate) struct SourceBatch {
    /// The records, in the source's order (never empty).
    pub(crate) records: Vec<RawRecord>,
    /// Records the source expects to yield in all, from where it started (Salesforce's
    /// `totalSize` of the current query plus what earlier queries of the source yielded), when
    /// known.
    pub(crate) total_size: Option<u64>,
    /// The position after the batch's last record (decoded by the source, off the consumer's
    /// thread).
    pub(crate) last_position: Option<Position>,
    /// Sources that resume by query locator (not keyset): the page the batch is (part of).
    pub(crate) page: Option<PageRef>,
}

/// Where a batch's page came from, for locator checkpoints: the batch holds the page's records
/// after the first `skipped`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageRef {
    /// The `nextRecordsUrl` that fetched the page; `None` for the query's first page.
    pub(crate) url: Option<String>,
    /// The page's `nextRecordsUrl` (`None` on the last page).
    pub(crate) next: Option<String>,
    /// Records of the page before the batch's first (skipped on a resume).
    pub(crate) skipped: u64,
}

/// Where a stream's records come from (see the module docs for the sources and what each
/// provides). A source runs on the driver's prefetch task: `Send`, owned, no borrowed state.
pub(crate) trait QuerySource: Send + 'static {
    /// The next non-empty batch in the source's order, or `None` at the end. A source never
    /// repeats or skips a record, also across a restart of its queries; after an error it is not
    /// polled again (the driver resumes from a checkpoint with a new source).
    fn next_batch(&mut self) -> BoxFuture<'_, Result<Option<SourceBatch>>>;
}

/// The REST query calls a source makes, bound to one connection: `Client::query_page` and
/// `Client::query_more` with their refresh-and-retry (adapted above this layer, in
/// `export/stream/`; tests script it).
pub(crate) trait QueryApi: Send + Sync + 'static {
    /// `GET …/query?q=soql` (`queryAll` with `options.include_deleted`): the first page.
    fn query<'a>(&'a self, soql: &'a str, options: &'a QueryOptions) -> BoxFuture<'a, Result<QueryPage>>;
    /// `GET nextRecordsUrl`: the next page of a query.
    fn query_more<'a>(&'a self, next_records_url: &'a str, options: &'a QueryOptions)
    -> BoxFuture<'a, Result<QueryPage>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(q: &RecordQuery) -> Vec<&str> {
        q.fields().iter().map(FieldPath::as_str).collect()
    }

    #[test]
    fn the_order_key_is_always_selected() {
        let contact = SObjectName::new("Contact").unwrap();
        let f = |names: &[&str]| names.iter().map(|n| FieldPath::new(n).unwrap()).collect::<Vec<_>>();
        let since = Some(SoqlDateTime::parse("2024-01-01T00:00:00Z").unwrap());
        let q = RecordQuery::new(contact.clone(), &f(&["Name"]), None, None).unwrap();
        assert_eq!(paths(&q), ["Id", "Name"]);
        let q = RecordQuery::new(contact.clone(), &f(&["Name", "id"]), None, None).unwrap();
        assert_eq!(paths(&q), ["Name", "id"]);
        let q = RecordQuery::new(contact.clone(), &f(&["Name"]), None, since).unwrap();
        assert_eq!(paths(&q), ["Id", "SystemModstamp", "Name"]);
        assert!(q.is_incremental());
        let q = RecordQuery::new(contact, &f(&["systemmodstamp", "Id"]), None, since).unwrap();
        assert_eq!(paths(&q), ["systemmodstamp", "Id"]);
    }
}
