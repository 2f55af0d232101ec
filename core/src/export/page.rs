//! `export_page`: one page of an export in the seed's JSON body.
//!
//! ## How a page is fetched (and what it costs)
//! Records are totally ordered by `Id` (D3). For page `p` of `n` records the first record is at
//! index `m = (p-1)*n`:
//! - `m ≤ 2000`: `SELECT … ORDER BY Id ASC LIMIT n OFFSET m`: **1 query**.
//! - deeper: keyset. Every page served records an *anchor* (index of the next record → the Id
//!   before it). With an anchor `a ≤ m` where `m - a ≤ 2000`:
//!   `SELECT … WHERE Id > 'anchor' ORDER BY Id ASC LIMIT n OFFSET (m-a)` (no OFFSET when `a = m`):
//!   **1 query**. A sequential walk always has the exact anchor, so it costs one data query per
//!   page plus the COUNT.
//! - a cold deep page (no anchor within 2000) hops from the nearest anchor (or the start) with
//!   `SELECT Id … WHERE Id > 'anchor' ORDER BY Id ASC LIMIT 1 OFFSET 2000`, each hop advancing
//!   2001 records and recording an anchor: **`ceil((m - a - 2000) / 2001)` hops + 1 query**
//!   (page 60 of 100 over 10,000 records, cold: 2 hops + 1 query + 1 COUNT).
//! - a page larger than one batch, or no limit (all records), follows `nextRecordsUrl` until
//!   `done` (D2): +1 query per further batch. When a locator dies (session expired and refreshed,
//!   or `INVALID_QUERY_LOCATOR`), the page continues by keyset after the last record received
//!   (+1 query), so no record is lost or repeated.
//! - a page past `total_pages` makes no data query (as in the seed).
//!
//! - a wide spec, whose data query URI would exceed `max_query_uri_bytes` (every field of a
//!   wide object): the page's window is read as above selecting `Id` only, then its records are
//!   read in field groups joined by Id (`query/joined.rs`) over `Id >= first AND Id <= last`
//!   (with the filter), keeping exactly the window's Ids: **the window's queries + K queries**
//!   (+ locator pages). A record deleted between the two reads is missing from the page; one
//!   created inside the range is not added.
//!
//! No query ever carries OFFSET > 2000 (Salesforce refuses it, [salesforce-api.md §4]).
//!
//! The COUNT (`SELECT COUNT() FROM X [WHERE filter]`) is cached per (connection, sObject, filter)
//! for `count_cache_ttl` (D15, `query/cache.rs`). Anchors are kept with it; they are dropped when
//! a refreshed COUNT differs (records were added or removed, so positions moved). Pages are
//! therefore consistent with each other while the data does not change, like any OFFSET/keyset
//! paging.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::export::ExportSpec;
use crate::paginator::{Pagination, paginate};
use crate::query::cache::{CacheConnection, CacheKey};
use crate::query::joined::{JoinedCursor, plan_groups};
use crate::query::rest::is_dead_locator;
use crate::query::source::{QuerySource, RecordQuery};
use crate::query::{QueryOptions, QueryPage, RawRecord, Record};
use crate::soql::{CmpOp, Condition, Direction, FieldPath, MAX_OFFSET, SalesforceId, SoqlQuery};
use crate::store::ConnectionKey;

/// Which page to export: the seed's `page` and `limit` query parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page; values below 1 are treated as 1 (seed defect D14). Parse query-string text
    /// with [`crate::paginator::PageArg`] for the seed's `parseInt` semantics.
    pub page: i64,
    /// Records per page; `None` or `Some(0)` = all records on page 1 (the seed's default).
    pub limit: Option<u64>,
}

/// One exported page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportPage {
    /// The records, as Salesforce returned them (`attributes` included), in `Id` order.
    pub data: Vec<Record>,
    /// The seed's pagination object.
    pub pagination: Pagination,
    /// Salesforce query requests this page issued (COUNT when not cached, anchor hops, data
    /// queries, `nextRecordsUrl` follow-ups). Transport retries and token refreshes are not
    /// included; see [`Client::api_calls`] for those.
    pub api_calls: u32,
}

impl ExportPage {
    /// The seed's response body:
    /// `{"success":true,"message":"SUCCESS","data":[…],"pagination":{…}}`.
    pub fn to_seed_json(&self) -> Value {
        let mut body = Map::new();
        body.insert("success".into(), Value::Bool(true));
        body.insert("message".into(), Value::String("SUCCESS".into()));
        body.insert("data".into(), Value::Array(self.data.iter().cloned().map(Value::Object).collect()));
        body.insert(
            "pagination".into(),
            serde_json::to_value(&self.pagination).unwrap_or(Value::Null),
        );
        Value::Object(body)
    }
}

impl Client {
    fn cache_connection<'a>(&'a self, key: &'a ConnectionKey) -> CacheConnection<'a> {
        CacheConnection {
            login_url: self.config().login_url(),
            client_id: self.config().client_id(),
            account_id: &key.account_id,
            owner: &key.owner,
        }
    }

    /// Forgets the cached COUNT and anchors of every export of this connection (e.g. after the
    /// host changed data and wants fresh totals immediately).
    pub fn invalidate_export_cache(&self, key: &ConnectionKey) {
        self.export_cache().invalidate_connection(self.cache_connection(key));
    }

    /// One page of `spec` in the seed's body (see the module docs for the queries and their cost).
    ///
    /// Errors: those of the queries (`NotConnected`, `ReconnectRequired`, `SessionExpired`,
    /// `RateLimited`, `Api` with Salesforce's errorCode, `Network`, …); `InvalidArgument` for a page
    /// so deep that its index overflows.
    pub async fn export_page(&self, key: &ConnectionKey, spec: &ExportSpec, req: PageRequest) -> Result<ExportPage> {
        // An every-field spec: its fields from the (cached) describe, before any query.
        let resolved;
        let spec = if spec.is_all_fields() {
            resolved = spec.with_fields_from(&*self.describe(key, spec.sobject().as_str()).await?)?;
            &resolved
        } else {
            spec
        };
        let mut q = PageQueries {
            client: self,
            key,
            spec,
            ck: CacheKey::new(self.cache_connection(key), spec.sobject(), spec.filter_key()?),
            opts: QueryOptions { include_deleted: false, batch_size: self.config().batch_size() },
            calls: 0,
        };
        let total = q.count().await?;
        let pagination = paginate(total, req.page, req.limit);
        let mut data = Vec::new();
        if pagination.has_data() {
            let start = pagination
                .start_index()
                .ok_or_else(|| Error::invalid_argument(format!("page {} is out of range", req.page)))?;
            let limit = req.limit.filter(|n| *n > 0).map(|_| pagination.per_page);
            let wide = q.wide_groups()?;
            let raw = match wide {
                None => q.window(start, limit, total, spec.fields()).await?,
                Some(_) => q.wide_window(start, limit, total).await?,
            };
            data = raw.iter().map(RawRecord::to_record).collect::<Result<Vec<_>>>()?;
        }
        Ok(ExportPage { data, pagination, api_calls: q.calls })
    }

    /// Convenience for the seed's route: `type_name` is checked first (`UnknownExportType`, no
    /// request made, D13), then [`Client::export_page`].
    pub async fn export_page_by_type(&self, key: &ConnectionKey, type_name: &str, req: PageRequest) -> Result<ExportPage> {
        let spec = ExportSpec::builtin(type_name)?;
        self.export_page(key, &spec, req).await
    }
}

/// The queries of one `export_page` call: the connection, the spec, its cache key and options,
/// and the count of requests made.
struct PageQueries<'a> {
    client: &'a Client,
    key: &'a ConnectionKey,
    spec: &'a ExportSpec,
    ck: CacheKey,
    opts: QueryOptions,
    calls: u32,
}

impl PageQueries<'_> {
    /// The COUNT for the spec, from the cache when younger than `count_cache_ttl`.
    async fn count(&mut self) -> Result<u64> {
        let ttl = self.client.config().count_cache_ttl();
        if let Some(count) = self.client.export_cache().fresh_count(&self.ck, ttl) {
            return Ok(count);
        }
        let mut q = SoqlQuery::count(self.spec.sobject().clone());
        if let Some(f) = self.spec.filter() {
            q = q.filter(f.clone());
        }
        let page = self.query(&q).await?;
        self.client.export_cache().store_count(&self.ck, page.total_size, ttl);
        Ok(page.total_size)
    }

    async fn query(&mut self, q: &SoqlQuery) -> Result<QueryPage> {
        let page = self.client.query_page(self.key, &q.to_soql()?, &self.opts).await?;
        self.calls += 1;
        Ok(page)
    }

    /// `SELECT … FROM X [WHERE filter] [AND Id > 'after'] ORDER BY Id ASC`, no fields yet.
    fn base(&self, after: Option<&SalesforceId>) -> Result<SoqlQuery> {
        let id_field = FieldPath::new("Id")?;
        let mut q = SoqlQuery::new(self.spec.sobject().clone());
        if let Some(f) = self.spec.filter() {
            q = q.filter(f.clone());
        }
        if let Some(a) = after {
            q = q.filter(Condition::cmp(id_field.clone(), CmpOp::Gt, a.clone()));
        }
        Ok(q.order_by(id_field, Direction::Asc))
    }

    /// Where a read of record `start` begins: `(index, Id before it)` within 2000 records of
    /// `start`. Plain OFFSET in the first 2000 records, else the nearest anchor, then hops of
    /// 2001 records (recording anchors). `None` when a hop finds fewer records than counted (the
    /// page is past the end now).
    async fn start_of(&mut self, start: u64) -> Result<Option<(u64, Option<SalesforceId>)>> {
        let (mut at, mut anchor) = if start <= MAX_OFFSET {
            (0, None)
        } else {
            let nearest = self.client.export_cache().nearest_anchor(&self.ck, start);
            nearest.map_or((0, None), |(p, id)| (p, Some(id)))
        };
        while start - at > MAX_OFFSET {
            let q = self.base(anchor.as_ref())?.select(FieldPath::new("Id")?).limit(1).offset(MAX_OFFSET);
            let page = self.query(&q).await?;
            let Some(rec) = page.records.first() else {
                return Ok(None);
            };
            let id = rec.id()?;
            at += MAX_OFFSET + 1;
            self.client.export_cache().record_anchor(&self.ck, at, &id);
            anchor = Some(id);
        }
        Ok(Some((at, anchor)))
    }

    /// Records `start .. start+limit` (all from `start` when `limit` is `None`) in Id order.
    async fn window(&mut self, start: u64, limit: Option<u64>, total: u64, fields: &[FieldPath]) -> Result<Vec<RawRecord>> {
        let Some((at, mut anchor)) = self.start_of(start).await? else {
            return Ok(Vec::new());
        };
        let mut out: Vec<RawRecord> = Vec::new();
        let mut offset = start - at;
        let wanted = limit.unwrap_or(u64::MAX);
        let expected = limit.map_or(total.saturating_sub(start), |n| n.min(total.saturating_sub(start)));
        loop {
            let mut q = self.base(anchor.as_ref())?.select_all(fields.iter().cloned());
            if limit.is_some() {
                q = q.limit(wanted - out.len() as u64);
            }
            q = q.offset(offset);
            let used_offset = offset > 0;
            let page = self.query(&q).await?;
            let before = out.len();
            let lost_locator = self.follow(page, &mut out, wanted).await?;
            out.truncate(wanted.min(usize::MAX as u64) as usize);
            let got_now = out.len() - before;
            if let Some(e) = lost_locator {
                if got_now == 0 {
                    return Err(e); // no progress since the last (re)start: never loop
                }
            } else if !(used_offset && got_now > 0 && (out.len() as u64) < expected) {
                break;
            }
            // The locator died, or (Salesforce's docs leave open whether an OFFSET query continues
            // past its first batch [salesforce-api.md §4 "OFFSET"]) it stopped short: continue by
            // keyset after the last record received.
            anchor = Some(out.last().expect("non-empty").id()?);
            offset = 0;
        }
        if let Some(last) = out.last() {
            self.client.export_cache().record_anchor(&self.ck, start + out.len() as u64, &last.id()?);
        }
        Ok(out)
    }

    /// The spec's fields in groups when its data query would not fit `max_query_uri_bytes`
    /// (measured like a stream's keyset query, less 64 bytes for `LIMIT n OFFSET m`).
    fn wide_groups(&self) -> Result<Option<Vec<Vec<FieldPath>>>> {
        let config = self.client.config();
        let q = self.spec.record_query(None)?;
        plan_groups(&q, config.max_query_uri_bytes().saturating_sub(64), &config.data_path())
    }

    /// A window of a wide spec (see the module docs): its Ids first, then its records in field
    /// groups joined by Id, in the window's order, only the window's Ids.
    async fn wide_window(&mut self, start: u64, limit: Option<u64>, total: u64) -> Result<Vec<RawRecord>> {
        let id_field = FieldPath::new("Id")?;
        let ids: Vec<SalesforceId> =
            self.window(start, limit, total, std::slice::from_ref(&id_field)).await?.iter().map(RawRecord::id).collect::<Result<_>>()?;
        let (Some(first), Some(last)) = (ids.first(), ids.last()) else {
            return Ok(Vec::new());
        };
        let mut range = vec![
            Condition::cmp(id_field.clone(), CmpOp::Ge, first.clone()),
            Condition::cmp(id_field.clone(), CmpOp::Le, last.clone()),
        ];
        if let Some(f) = self.spec.filter() {
            range.insert(0, f.clone());
        }
        let query = RecordQuery::new(self.spec.sobject().clone(), self.spec.fields(), Some(Condition::And(range)), None)?
            .with_options(self.opts);
        // Planned again with the range conditions the group queries carry.
        let config = self.client.config();
        let groups = match plan_groups(&query, config.max_query_uri_bytes(), &config.data_path())? {
            Some(groups) => groups,
            None => vec![query.fields().iter().filter(|f| !f.is_field("Id")).cloned().collect()],
        };
        let calls = Arc::new(AtomicU64::new(0));
        let api = Arc::new(super::stream::ConnectionQueries { client: self.client.clone(), key: self.key.clone() });
        let mut cursor = JoinedCursor::new(api, query, groups, calls.clone())?;
        let wanted: HashSet<&SalesforceId> = ids.iter().collect();
        let listed_id = self.spec.fields().iter().any(|f| f.is_field("Id"));
        let mut out = Vec::with_capacity(ids.len());
        let result = async {
            while let Some(batch) = cursor.next_batch().await? {
                for r in batch.records {
                    if !wanted.contains(&r.id()?) {
                        continue;
                    }
                    out.push(if listed_id { r } else { without_id(&r)? });
                }
            }
            Ok::<(), Error>(())
        }
        .await;
        self.calls = self.calls.saturating_add(calls.load(Ordering::Relaxed) as u32);
        result?;
        Ok(out)
    }

    /// Appends `page` and the pages after it (`nextRecordsUrl`, D2) to `out` until `done` or
    /// `wanted` records. Returns the error when a locator died on the way (its session expired
    /// and was refreshed, or `INVALID_QUERY_LOCATOR` [salesforce-api.md §4 "Cursors"]): the
    /// caller continues by keyset.
    async fn follow(&mut self, mut page: QueryPage, out: &mut Vec<RawRecord>, wanted: u64) -> Result<Option<Error>> {
        loop {
            out.append(&mut page.records);
            if page.done || out.len() as u64 >= wanted {
                return Ok(None);
            }
            let Some(url) = page.next_records_url.take() else {
                return Err(Error::new(ErrorKind::Protocol, "a query result has done=false but no nextRecordsUrl"));
            };
            match self.client.query_more(self.key, &url, &self.opts).await {
                Ok(p) => page = p,
                Err(e) if is_dead_locator(&e) => {
                    self.calls += 1;
                    return Ok(Some(e));
                }
                Err(e) => return Err(e),
            }
            self.calls += 1;
        }
    }
}

/// `record` without the `Id` the joined read selected (the page shows the spec's fields only).
fn without_id(record: &RawRecord) -> Result<RawRecord> {
    let mut r = record.to_record()?;
    r.shift_remove("Id");
    RawRecord::from_json(serde_json::to_string(&r).map_err(|e| Error::internal(format!("a page record: {e}")))?)
}
