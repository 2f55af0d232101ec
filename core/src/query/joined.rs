//! The joined source: a [`RecordQuery`] too wide for one REST query, read as K keyset
//! [`RestCursor`]s over groups of its fields and merged by key into whole records.
//!
//! A REST query is a GET: its SOQL travels in the URI, and Salesforce refuses a URI over 16,384
//! bytes (414) or a URI plus headers over 16,384 bytes (431) [salesforce-api.md §5 "HTTP
//! codes"]. [`plan_groups`] measures the URI the query would use (`{data_path}/queryAll?q=` and
//! the percent-encoded keyset SOQL with the longest conditions it can carry: a resume position
//! and, in incremental mode, the ties condition) against `max_query_uri_bytes`; when it is over,
//! the fields are split, in their order, into the fewest consecutive groups each under it.
//!
//! Each group is its own keyset query: `SELECT Id[, SystemModstamp], <group> FROM X [WHERE
//! filter] [since] [after the position] ORDER BY Id` (or `SystemModstamp, Id`), the same filter,
//! `since` and resume position for every group; a group selects `SystemModstamp` whenever the
//! whole query does. The groups are read concurrently (one page each at a time) and merged:
//!
//! - **The exact rule**: a record is delivered when every group returned it at the same key (its
//!   Id; in incremental mode its `SystemModstamp` and Id), with each group's fields, in the
//!   query's field order (`attributes`, `Id` and `SystemModstamp` from the first group). A record
//!   that some groups returned and others did not — created, deleted or (incremental mode)
//!   modified while the groups were read — is left out of this run (logged, counted in
//!   [`JoinedCursor::left_out`]). It was not present through the whole read; its
//!   `SystemModstamp` is later than the run's start, so an incremental run from a `since` no
//!   later than this run's start reads it.
//! - **Torn records** (full mode, when the query selects `SystemModstamp`): a record every group
//!   returned, but with different `SystemModstamp`s (modified between two group reads), is read
//!   again by Id in every group (`… WHERE Id = 'x'`, with the filter) until the groups agree (at
//!   most 3 rounds; then `Protocol`, "the record kept changing"); if it no longer matches, it is
//!   left out. Without `SystemModstamp` selected, tearing cannot be seen and is not checked.
//! - Order, positions and checkpoints are the REST cursor's: the records come in keyset order,
//!   the position after a batch is its last record's key, and a resume restarts every group
//!   after it.
//! - A group query that ends short of its `totalSize` is checked as the REST cursor checks it
//!   (`rest.rs`: records after the last one are `Protocol`, none are rows deleted during the
//!   read). Each group counts its own shortfall; [`JoinedCursor::report_missing`] reports the
//!   largest as `Progress::missing` (the same deleted row is short in several groups, so the sum
//!   would count it more than once; the largest is a lower bound of the rows lost).
//! - Cost: K × the REST cursor's calls (`ceil(N / batch)` per group), + K per torn record re-read;
//!   all counted in the shared call counter. `total_size` is the first group's.
//! - Memory: at most one page per group is held, plus the batch being merged.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::{BoxFuture, try_join_all};
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::http::encode_query_value;
use crate::query::rest::{RestCursor, keyset_soql};
use crate::query::source::{QueryApi, QuerySource, RecordQuery, SourceBatch};
use crate::query::{Position, RawRecord, Record};
use crate::soql::{CmpOp, Condition, FieldPath, SalesforceId, SoqlDateTime, SoqlQuery};

/// Rounds of re-reading a torn record before giving up.
const TORN_ROUNDS: usize = 3;

/// The URI length of `query`'s longest keyset SOQL (a resume position; in incremental mode the
/// ties condition), under `data_path` (`/services/data/vNN.N`) with the longer `queryAll`.
fn uri_len(query: &RecordQuery, data_path: &str) -> Result<usize> {
    let id = SalesforceId::new("000000000000000AAA")?;
    let modstamp = query.since().map(|_| SoqlDateTime::parse("2000-01-01T00:00:00.000Z")).transpose()?;
    let pos = Position { id, modstamp };
    let soql = keyset_soql(query, Some(&pos), false)?;
    Ok(data_path.len() + "/queryAll?q=".len() + encode_query_value(&soql).len())
}

/// The key fields every group selects (`Id`; `SystemModstamp` when the query selects it).
fn is_key_field(f: &FieldPath, with_stamp: bool) -> bool {
    f.is_field("Id") || (with_stamp && f.is_field("SystemModstamp"))
}

/// `None` when `query` fits in one REST query URI of at most `max_uri_bytes`; else its fields
/// (without the key fields) split, in order, into the fewest consecutive groups that each fit
/// with the key fields. `InvalidArgument` when one field alone does not fit.
pub(crate) fn plan_groups(query: &RecordQuery, max_uri_bytes: usize, data_path: &str) -> Result<Option<Vec<Vec<FieldPath>>>> {
    if uri_len(query, data_path)? <= max_uri_bytes {
        return Ok(None);
    }
    let with_stamp = query.fields().iter().any(|f| f.is_field("SystemModstamp"));
    let rest: Vec<FieldPath> = query.fields().iter().filter(|f| !is_key_field(f, with_stamp)).cloned().collect();
    let mut groups: Vec<Vec<FieldPath>> = Vec::new();
    let mut current: Vec<FieldPath> = Vec::new();
    for f in rest {
        current.push(f.clone());
        if uri_len(&group_query(query, &current, with_stamp)?, data_path)? > max_uri_bytes {
            current.pop();
            if current.is_empty() {
                return Err(Error::invalid_argument(format!(
                    "field {f} alone makes the query URI longer than max_query_uri_bytes ({max_uri_bytes})"
                )));
            }
            groups.push(std::mem::replace(&mut current, vec![f]));
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    Ok(Some(groups))
}

/// The query of one group: the key fields, then the group's fields; same sObject, filter, since,
/// position and options.
fn group_query(query: &RecordQuery, group: &[FieldPath], with_stamp: bool) -> Result<RecordQuery> {
    let mut fields = Vec::with_capacity(group.len() + 2);
    if with_stamp && query.since().is_none() {
        fields.push(FieldPath::new("SystemModstamp")?);
    }
    fields.extend(group.iter().cloned());
    Ok(RecordQuery::new(query.sobject().clone(), &fields, query.filter().cloned(), query.since())?
        .resume_after(query.after().cloned())
        .with_options(*query.options()))
}

/// One group's cursor and what it fetched but has not merged yet.
struct Group {
    cursor: RestCursor,
    query: RecordQuery,
    buffer: VecDeque<(Position, RawRecord)>,
    done: bool,
    total: Option<u64>,
    /// This group's shortfall (its RestCursor's `missing`).
    missing: Arc<AtomicU64>,
}

/// The joined source (see the module docs).
pub(crate) struct JoinedCursor {
    api: Arc<dyn QueryApi>,
    query: RecordQuery,
    groups: Vec<Group>,
    with_stamp: bool,
    calls: Arc<AtomicU64>,
    left_out: Arc<AtomicU64>,
    /// The driver's `missing` counter: the largest group shortfall.
    missing: Arc<AtomicU64>,
}

impl JoinedCursor {
    /// A cursor over `query` read in `groups` (from [`plan_groups`]) through `api`, counting its
    /// requests in `calls`. Nothing is requested before the first [`QuerySource::next_batch`].
    pub(crate) fn new(api: Arc<dyn QueryApi>, query: RecordQuery, groups: Vec<Vec<FieldPath>>, calls: Arc<AtomicU64>) -> Result<JoinedCursor> {
        let with_stamp = query.fields().iter().any(|f| f.is_field("SystemModstamp"));
        let groups = groups
            .iter()
            .map(|g| {
                let q = group_query(&query, g, with_stamp)?;
                let missing = Arc::new(AtomicU64::new(0));
                Ok(Group {
                    cursor: RestCursor::new(api.clone(), q.clone(), calls.clone()).report_missing(missing.clone()),
                    query: q,
                    buffer: VecDeque::new(),
                    done: false,
                    total: None,
                    missing,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let missing = Arc::new(AtomicU64::new(0));
        Ok(JoinedCursor { api, query, groups, with_stamp, calls, left_out: Arc::new(AtomicU64::new(0)), missing })
    }

    /// Reports the largest group shortfall (see the module docs) in `missing`.
    pub(crate) fn report_missing(mut self, missing: Arc<AtomicU64>) -> JoinedCursor {
        self.missing = missing;
        self
    }

    /// Records left out so far (present in some groups only; see the module docs).
    #[cfg(test)]
    pub(crate) fn left_out(&self) -> Arc<AtomicU64> {
        self.left_out.clone()
    }

    /// Fills every group that has nothing buffered and is not done (concurrently).
    async fn fill(&mut self) -> Result<()> {
        let incremental = self.query.is_incremental();
        let fetches = self.groups.iter_mut().filter(|g| g.buffer.is_empty() && !g.done).map(|g| async move {
            match g.cursor.next_batch().await? {
                None => g.done = true,
                Some(batch) => {
                    if g.total.is_none() {
                        g.total = batch.total_size;
                    }
                    for r in batch.records {
                        g.buffer.push_back((Position::after(&r, incremental)?, r));
                    }
                }
            }
            Ok::<(), Error>(())
        });
        try_join_all(fetches).await?;
        let largest = self.groups.iter().map(|g| g.missing.load(Ordering::Relaxed)).max().unwrap_or(0);
        self.missing.fetch_max(largest, Ordering::Relaxed);
        Ok(())
    }

    async fn next(&mut self) -> Result<Option<SourceBatch>> {
        loop {
            self.fill().await?;
            if self.groups.iter().all(|g| g.buffer.is_empty()) {
                return Ok(None); // every group is done
            }
            // Every record up to the smallest "last buffered key" of the unfinished groups is
            // known to every group (each group is in keyset order).
            let bound: Option<Position> = self
                .groups
                .iter()
                .filter(|g| !g.done)
                .filter_map(|g| g.buffer.back().map(|(p, _)| p.clone()))
                .min_by(|a, b| if a.is_after(b) { std::cmp::Ordering::Greater } else if b.is_after(a) { std::cmp::Ordering::Less } else { std::cmp::Ordering::Equal });
            let within = |p: &Position| bound.as_ref().is_none_or(|b| !p.is_after(b));
            let mut taken: Vec<Vec<(Position, RawRecord)>> = Vec::with_capacity(self.groups.len());
            for g in &mut self.groups {
                let n = g.buffer.iter().take_while(|(p, _)| within(p)).count();
                taken.push(g.buffer.drain(..n).collect());
            }
            let records = self.merge(taken).await?;
            if records.is_empty() {
                continue;
            }
            let last_position = Some(Position::after(records.last().expect("non-empty"), self.query.is_incremental())?);
            let total_size = self.groups.first().and_then(|g| g.total);
            return Ok(Some(SourceBatch { records, total_size, last_position, page: None }));
        }
    }

    /// Merges the groups' records up to one bound (each list in keyset order) by key.
    async fn merge(&mut self, taken: Vec<Vec<(Position, RawRecord)>>) -> Result<Vec<RawRecord>> {
        let k = taken.len();
        let mut iters: Vec<std::iter::Peekable<std::vec::IntoIter<(Position, RawRecord)>>> =
            taken.into_iter().map(|v| v.into_iter().peekable()).collect();
        let mut out = Vec::new();
        let mut left_out = 0u64;
        loop {
            // The smallest key at the heads.
            let mut min: Option<Position> = None;
            for it in iters.iter_mut() {
                if let Some((p, _)) = it.peek()
                    && min.as_ref().is_none_or(|m| m.is_after(p))
                {
                    min = Some(p.clone());
                }
            }
            let Some(min) = min else { break };
            let mut parts: Vec<RawRecord> = Vec::with_capacity(k);
            for it in iters.iter_mut() {
                if it.peek().is_some_and(|(p, _)| *p == min) {
                    parts.push(it.next().expect("peeked").1);
                }
            }
            if parts.len() < k {
                left_out += 1;
                tracing::info!(target: "sfcrm::export", sobject = %self.query.sobject(), id = %min.id,
                    groups = parts.len(), of = k, "a record present in some field groups only (created, deleted or modified during the export) is left out");
                continue;
            }
            let mut records: Vec<Record> = parts.iter().map(RawRecord::to_record).collect::<Result<_>>()?;
            if self.torn(&records) {
                match self.reread(&min.id).await? {
                    Some(fresh) => records = fresh,
                    None => {
                        left_out += 1;
                        continue;
                    }
                }
            }
            out.push(self.join(records)?);
        }
        self.left_out.fetch_add(left_out, Ordering::Relaxed);
        Ok(out)
    }

    /// True when the groups' versions of one record carry different `SystemModstamp`s (full mode
    /// with `SystemModstamp` selected; incremental keys already include it).
    fn torn(&self, parts: &[Record]) -> bool {
        if !self.with_stamp || self.query.is_incremental() {
            return false;
        }
        let stamp = |r: &Record| r.iter().find(|(k, _)| k.eq_ignore_ascii_case("SystemModstamp")).map(|(_, v)| v.clone());
        let first = stamp(&parts[0]);
        parts.iter().any(|p| stamp(p) != first)
    }

    /// Reads record `id` again in every group until they agree (see the module docs). `None`
    /// when a group no longer returns it (deleted, or no longer matching the filter).
    async fn reread(&self, id: &SalesforceId) -> Result<Option<Vec<Record>>> {
        for _ in 0..TORN_ROUNDS {
            let mut parts = Vec::with_capacity(self.groups.len());
            for g in &self.groups {
                let mut q = SoqlQuery::new(g.query.sobject().clone()).select_all(g.query.fields().iter().cloned());
                if let Some(f) = g.query.filter() {
                    q = q.filter(f.clone());
                }
                q = q.filter(Condition::cmp(FieldPath::new("Id")?, CmpOp::Eq, id.clone()));
                let page = self.api.query(&q.to_soql()?, g.query.options()).await?;
                self.calls.fetch_add(1, Ordering::Relaxed);
                match page.records.first() {
                    Some(r) => parts.push(r.to_record()?),
                    None => return Ok(None),
                }
            }
            if !self.torn(&parts) {
                return Ok(Some(parts));
            }
        }
        Err(Error::new(
            ErrorKind::Protocol,
            format!("record {id} kept changing while its field groups were read ({TORN_ROUNDS} rounds); retry the export from its last checkpoint"),
        ))
    }

    /// One record from its groups' parts: the first part whole, then every other part's fields
    /// but `attributes` and the key fields, then reordered to the query's field order.
    fn join(&self, parts: Vec<Record>) -> Result<RawRecord> {
        let mut parts = parts.into_iter();
        let mut merged = parts.next().expect("k >= 1");
        for p in parts {
            merge_into(&mut merged, p);
        }
        // Keys Salesforce sent that the query did not select in this case (SystemModstamp for
        // tear checks) are dropped; attributes stay first.
        let mut out = Record::new();
        if let Some(a) = merged.shift_remove("attributes") {
            out.insert("attributes".into(), a);
        }
        for f in self.query.fields() {
            let name = f.as_str();
            let key = merged.keys().find(|k| k.eq_ignore_ascii_case(name) || root_of(name).is_some_and(|r| k.eq_ignore_ascii_case(r))).cloned();
            if let Some(key) = key
                && let Some(v) = merged.shift_remove(&key)
            {
                out.insert(key, v);
            }
        }
        RawRecord::from_json(serde_json::to_string(&Value::Object(out)).map_err(|e| Error::internal(format!("joining a record: {e}")))?)
    }
}

/// Adds `part`'s keys to `into`: new keys as they are; a parent object present in both
/// (`Account` of `Account.Name` in one group and `Account.Industry` in another) merged key by
/// key; for any other key (`attributes`, the key fields) the first group's value stays.
fn merge_into(into: &mut Record, part: Record) {
    for (k, v) in part {
        match (into.get_mut(&k), v) {
            (None, v) => {
                into.insert(k, v);
            }
            (Some(Value::Object(a)), Value::Object(b)) if k != "attributes" => merge_into(a, b),
            _ => {}
        }
    }
}

/// `Account` for a relationship path `Account.Name` (its value is the nested `Account` object).
fn root_of(path: &str) -> Option<&str> {
    path.split_once('.').map(|(r, _)| r)
}

impl QuerySource for JoinedCursor {
    fn next_batch(&mut self) -> BoxFuture<'_, Result<Option<SourceBatch>>> {
        Box::pin(self.next())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::query::{QueryOptions, QueryPage};
    use crate::soql::SObjectName;

    type Answer = Box<dyn Fn(&str) -> Result<QueryPage> + Send + Sync>;

    /// Answers each query by its text (groups are read concurrently, in any order).
    struct Script {
        answer: Answer,
        asked: Mutex<Vec<String>>,
    }

    impl QueryApi for Script {
        fn query<'a>(&'a self, soql: &'a str, _: &'a QueryOptions) -> BoxFuture<'a, Result<QueryPage>> {
            self.asked.lock().unwrap().push(soql.to_string());
            Box::pin(async move { (self.answer)(soql) })
        }
        fn query_more<'a>(&'a self, url: &'a str, _: &'a QueryOptions) -> BoxFuture<'a, Result<QueryPage>> {
            Box::pin(async move { Err(Error::internal(format!("no locator expected: {url}"))) })
        }
    }

    fn id(n: u32) -> String {
        format!("a00{n:015}")
    }
    fn page(records: &[String]) -> Result<QueryPage> {
        QueryPage::from_text(format!(r#"{{"totalSize":{},"done":true,"records":[{}]}}"#, records.len(), records.join(",")))
    }
    fn rec(n: u32, fields: &[(&str, &str)]) -> String {
        let mut s = format!(r#"{{"attributes":{{"type":"W__c"}},"Id":"{}""#, id(n));
        for (k, v) in fields {
            s.push_str(&format!(r#","{k}":{v}"#));
        }
        s + "}"
    }
    fn fields(names: &[&str]) -> Vec<FieldPath> {
        names.iter().map(|n| FieldPath::new(n).unwrap()).collect()
    }
    fn query(names: &[&str]) -> RecordQuery {
        RecordQuery::new(SObjectName::new("W__c").unwrap(), &fields(names), None, None).unwrap()
    }
    async fn drain(c: &mut JoinedCursor) -> Vec<Record> {
        let mut out = Vec::new();
        while let Some(b) = c.next_batch().await.unwrap() {
            out.extend(b.records.iter().map(|r| r.to_record().unwrap()));
        }
        out
    }

    #[tokio::test]
    async fn a_record_missing_from_a_group_is_left_out_and_the_rest_are_whole() {
        let answer: Answer = Box::new(|soql: &str| {
            if soql.starts_with("SELECT Id, A__c ") {
                page(&[rec(1, &[("A__c", "\"a1\"")]), rec(2, &[("A__c", "\"a2\"")]), rec(3, &[("A__c", "1.50")])])
            } else {
                page(&[rec(1, &[("B__c", "true")]), rec(3, &[("B__c", "null")]), rec(4, &[("B__c", "false")])])
            }
        });
        let api = Arc::new(Script { answer, asked: Mutex::default() });
        let calls = Arc::new(AtomicU64::new(0));
        let mut c = JoinedCursor::new(api.clone(), query(&["A__c", "B__c"]), vec![fields(&["A__c"]), fields(&["B__c"])], calls.clone()).unwrap();
        let left_out = c.left_out();
        let out = drain(&mut c).await;
        let texts: Vec<String> = out.iter().map(|r| serde_json::to_string(r).unwrap()).collect();
        assert_eq!(
            texts,
            [
                format!(r#"{{"attributes":{{"type":"W__c"}},"Id":"{}","A__c":"a1","B__c":true}}"#, id(1)),
                format!(r#"{{"attributes":{{"type":"W__c"}},"Id":"{}","A__c":1.50,"B__c":null}}"#, id(3)),
            ]
        );
        assert_eq!(left_out.load(Ordering::Relaxed), 2, "2 (only in A) and 4 (only in B)");
        assert_eq!(calls.load(Ordering::Relaxed), 2);
        let mut asked = api.asked.lock().unwrap().clone();
        asked.sort();
        assert_eq!(asked, ["SELECT Id, A__c FROM W__c ORDER BY Id ASC", "SELECT Id, B__c FROM W__c ORDER BY Id ASC"]);
    }

    #[tokio::test]
    async fn a_torn_record_is_read_again_by_id_until_the_groups_agree() {
        let t1 = "\"2024-01-01T00:00:00.000+0000\"";
        let t2 = "\"2024-01-02T00:00:00.000+0000\"";
        let answer: Answer = Box::new(move |soql: &str| {
            let by_id = soql.contains(" WHERE Id = ");
            if soql.starts_with("SELECT Id, SystemModstamp, A__c ") {
                let stamp = if by_id { t2 } else { t1 };
                page(&[rec(1, &[("SystemModstamp", stamp), ("A__c", if by_id { "\"new\"" } else { "\"old\"" })])])
            } else {
                page(&[rec(1, &[("SystemModstamp", t2), ("B__c", "\"b\"")])])
            }
        });
        let api = Arc::new(Script { answer, asked: Mutex::default() });
        let calls = Arc::new(AtomicU64::new(0));
        let q = query(&["SystemModstamp", "A__c", "B__c"]);
        let mut c = JoinedCursor::new(api.clone(), q, vec![fields(&["A__c"]), fields(&["B__c"])], calls.clone()).unwrap();
        let out = drain(&mut c).await;
        assert_eq!(out.len(), 1);
        assert_eq!((out[0]["A__c"].as_str(), out[0]["B__c"].as_str()), (Some("new"), Some("b")));
        assert_eq!(out[0]["SystemModstamp"].as_str(), Some("2024-01-02T00:00:00.000+0000"));
        assert_eq!(calls.load(Ordering::Relaxed), 4, "2 group queries + 2 re-reads by Id");
        assert!(api.asked.lock().unwrap().iter().any(|q| q == &format!("SELECT Id, SystemModstamp, A__c FROM W__c WHERE Id = '{}'", id(1))));
    }

    #[test]
    fn groups_fit_the_budget_in_field_order() {
        let names: Vec<String> = (0..500).map(|i| format!("Some_Rather_Long_Field_Name_{i:03}__c")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let q = query(&refs);
        assert!(plan_groups(&q, 16_384, "/services/data/v59.0").unwrap().is_some(), "500 × 40 encoded bytes do not fit");
        let groups = plan_groups(&q, 4_000, "/services/data/v59.0").unwrap().unwrap();
        assert!(groups.len() > 2);
        let flat: Vec<&str> = groups.iter().flatten().map(FieldPath::as_str).collect();
        assert_eq!(flat, refs, "every field once, in order, Id only as the key");
        for g in &groups {
            let gq = group_query(&q, g, false).unwrap();
            assert!(uri_len(&gq, "/services/data/v59.0").unwrap() <= 4_000);
        }
        assert!(plan_groups(&query(&["Name"]), 4_000, "/services/data/v59.0").unwrap().is_none());
        let e = plan_groups(&q, 100, "/services/data/v59.0").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    }
}
