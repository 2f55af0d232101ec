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
//! No query ever carries OFFSET > 2000 (Salesforce refuses it, [salesforce-api.md §4]).
//!
//! The COUNT (`SELECT COUNT() FROM X [WHERE filter]`) is cached per (connection, sObject, filter)
//! for `count_cache_ttl` (D15). Anchors are kept with it; they are dropped when a refreshed COUNT
//! differs (records were added or removed, so positions moved). Pages are therefore consistent
//! with each other while the data does not change, like any OFFSET/keyset paging.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::query::{QueryOptions, QueryPage};
use crate::error::{Error, ErrorKind, Result};
use crate::export::stream::is_dead_locator;
use crate::export::{ExportSpec, RawRecord, Record};
use crate::paginator::{Pagination, paginate};
use crate::soql::{CmpOp, Condition, Direction, FieldPath, MAX_OFFSET, SalesforceId, SoqlQuery};
use crate::store::ConnectionKey;
use crate::Client;

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

// ---- the COUNT and anchor cache -------------------------------------------------------------

/// Anchors kept per (connection, sObject, filter) before the map is reset.
const MAX_ANCHORS: usize = 100_000;
/// Cache entries kept before expired ones are swept (and, if still full, all are dropped).
const MAX_ENTRIES: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    login_url: String,
    client_id: String,
    account_id: String,
    owner: String,
    sobject: String,
    filter: String,
}

pub(crate) struct CacheEntry {
    count: u64,
    fetched: Instant,
    /// index of the next record → Id of the record just before it.
    anchors: BTreeMap<u64, SalesforceId>,
}

/// The COUNT and anchor cache of one [`Client`] (its clones share it; other clients never do).
pub(crate) type ExportCache = Mutex<HashMap<CacheKey, CacheEntry>>;

fn cache(client: &Client) -> std::sync::MutexGuard<'_, HashMap<CacheKey, CacheEntry>> {
    client.export_cache().lock().unwrap_or_else(|p| p.into_inner())
}

impl Client {
    fn export_cache_key(&self, key: &ConnectionKey, spec: &ExportSpec) -> Result<CacheKey> {
        Ok(CacheKey {
            login_url: self.config().login_url().to_string(),
            client_id: self.config().client_id().to_string(),
            account_id: key.account_id.clone(),
            owner: key.owner.clone(),
            sobject: spec.sobject().as_str().to_ascii_lowercase(),
            filter: spec.filter_key()?,
        })
    }

    /// The COUNT for `spec`, from the cache when younger than `count_cache_ttl`.
    async fn export_count(
        &self,
        key: &ConnectionKey,
        spec: &ExportSpec,
        ck: &CacheKey,
        opts: &QueryOptions,
        calls: &mut u32,
    ) -> Result<u64> {
        let ttl: Duration = self.config().count_cache_ttl();
        if let Some(e) = cache(self).get(ck)
            && e.fetched.elapsed() < ttl
        {
            return Ok(e.count);
        }
        let mut q = SoqlQuery::count(spec.sobject().clone());
        if let Some(f) = spec.filter() {
            q = q.filter(f.clone());
        }
        let page = self.query_page(key, &q.to_soql()?, opts).await?;
        *calls += 1;
        let count = page.total_size;
        let mut c = cache(self);
        if c.len() >= MAX_ENTRIES {
            c.retain(|_, e| e.fetched.elapsed() < ttl);
            if c.len() >= MAX_ENTRIES {
                c.clear();
            }
        }
        match c.get_mut(ck) {
            Some(e) => {
                if e.count != count {
                    e.anchors.clear();
                }
                e.count = count;
                e.fetched = Instant::now();
            }
            None => {
                c.insert(ck.clone(), CacheEntry { count, fetched: Instant::now(), anchors: BTreeMap::new() });
            }
        }
        Ok(count)
    }

    /// Forgets the cached COUNT and anchors of every export of this connection (e.g. after the
    /// host changed data and wants fresh totals immediately).
    pub fn invalidate_export_cache(&self, key: &ConnectionKey) {
        let login = self.config().login_url().to_string();
        let client_id = self.config().client_id().to_string();
        cache(self).retain(|k, _| {
            !(k.login_url == login && k.client_id == client_id && k.account_id == key.account_id && k.owner == key.owner)
        });
    }

    /// One page of `spec` in the seed's body (see the module docs for the queries and their cost).
    ///
    /// Errors: those of the queries (`NotConnected`, `ReconnectRequired`, `SessionExpired`,
    /// `RateLimited`, `Api` with Salesforce's errorCode, `Network`, …); `InvalidArgument` for a page
    /// so deep that its index overflows.
    pub async fn export_page(&self, key: &ConnectionKey, spec: &ExportSpec, req: PageRequest) -> Result<ExportPage> {
        let opts = QueryOptions { include_deleted: false, batch_size: self.config().batch_size() };
        let ck = self.export_cache_key(key, spec)?;
        let mut calls = 0u32;
        let total = self.export_count(key, spec, &ck, &opts, &mut calls).await?;
        let pagination = paginate(total, req.page, req.limit);
        let mut data = Vec::new();
        if pagination.has_data() {
            let start = pagination
                .start_index()
                .ok_or_else(|| Error::invalid_argument(format!("page {} is out of range", req.page)))?;
            let limit = req.limit.filter(|n| *n > 0).map(|_| pagination.per_page);
            let raw = self.fetch_window(key, spec, &ck, &opts, start, limit, total, &mut calls).await?;
            data = raw.iter().map(RawRecord::to_record).collect::<Result<Vec<_>>>()?;
        }
        Ok(ExportPage { data, pagination, api_calls: calls })
    }

    /// Convenience for the seed's route: `type_name` is checked first (`UnknownExportType`, no
    /// request made, D13), then [`Client::export_page`].
    pub async fn export_page_by_type(&self, key: &ConnectionKey, type_name: &str, req: PageRequest) -> Result<ExportPage> {
        let spec = ExportSpec::builtin(type_name)?;
        self.export_page(key, &spec, req).await
    }

    /// Records `start .. start+limit` (all from `start` when `limit` is `None`) in Id order.
    #[allow(clippy::too_many_arguments)]
    async fn fetch_window(
        &self,
        key: &ConnectionKey,
        spec: &ExportSpec,
        ck: &CacheKey,
        opts: &QueryOptions,
        start: u64,
        limit: Option<u64>,
        total: u64,
        calls: &mut u32,
    ) -> Result<Vec<RawRecord>> {
        let id_field = FieldPath::new("Id")?;
        let base = |after: Option<&SalesforceId>| {
            let mut q = SoqlQuery::new(spec.sobject().clone());
            if let Some(f) = spec.filter() {
                q = q.filter(f.clone());
            }
            if let Some(a) = after {
                q = q.filter(Condition::cmp(id_field.clone(), CmpOp::Gt, a.clone()));
            }
            q.order_by(id_field.clone(), Direction::Asc)
        };

        // Where to start: plain OFFSET in the first 2000 records, else the nearest anchor.
        let (mut at, mut anchor): (u64, Option<SalesforceId>) = if start <= MAX_OFFSET {
            (0, None)
        } else {
            cache(self)
                .get(ck)
                .and_then(|e| e.anchors.range(..=start).next_back().map(|(p, id)| (*p, Some(id.clone()))))
                .unwrap_or((0, None))
        };

        // Hop towards `start`, 2001 records per query, recording anchors.
        while start - at > MAX_OFFSET {
            let q = base(anchor.as_ref()).select(id_field.clone()).limit(1).offset(MAX_OFFSET);
            let page = self.query_page(key, &q.to_soql()?, opts).await?;
            *calls += 1;
            let Some(rec) = page.records.first() else {
                return Ok(Vec::new()); // fewer records than counted: the page is past the end now
            };
            let id = rec.id()?;
            at += MAX_OFFSET + 1;
            record_anchor(self, ck, at, &id);
            anchor = Some(id);
        }

        let mut out: Vec<RawRecord> = Vec::new();
        let mut offset = start - at;
        let wanted = limit.unwrap_or(u64::MAX);
        let expected = limit.map_or(total.saturating_sub(start), |n| n.min(total.saturating_sub(start)));
        loop {
            let remaining = wanted - out.len() as u64;
            let mut q = base(anchor.as_ref()).select_all(spec.fields().iter().cloned());
            if limit.is_some() {
                q = q.limit(remaining);
            }
            q = q.offset(offset);
            let used_offset = offset > 0;
            let mut page: QueryPage = self.query_page(key, &q.to_soql()?, opts).await?;
            *calls += 1;
            let before = out.len();
            let mut lost_locator: Option<Error> = None;
            loop {
                out.append(&mut page.records);
                if page.done || out.len() as u64 >= wanted {
                    break;
                }
                let Some(url) = page.next_records_url.take() else {
                    return Err(Error::new(ErrorKind::Protocol, "a query result has done=false but no nextRecordsUrl"));
                };
                match self.query_more(key, &url, opts).await {
                    Ok(p) => page = p,
                    // The locator died with the session (the client has refreshed already) or on
                    // its own [salesforce-api.md §4 "Cursors"]: continue by keyset below.
                    Err(e) if is_dead_locator(&e) => lost_locator = Some(e),
                    Err(e) => return Err(e),
                }
                *calls += 1;
                if lost_locator.is_some() {
                    break;
                }
            }
            out.truncate(wanted.min(usize::MAX as u64) as usize);
            let got_now = out.len() - before;
            if let Some(e) = lost_locator {
                if got_now == 0 {
                    return Err(e); // no progress since the last (re)start: never loop
                }
                anchor = Some(out.last().expect("non-empty").id()?);
                offset = 0;
                continue;
            }
            // Salesforce's docs leave open whether an OFFSET query continues past its first
            // batch [salesforce-api.md §4 "OFFSET"]: if it stopped short, continue by keyset.
            if used_offset && got_now > 0 && (out.len() as u64) < expected {
                anchor = Some(out.last().expect("non-empty").id()?);
                offset = 0;
                continue;
            }
            break;
        }
        if let Some(last) = out.last() {
            record_anchor(self, ck, start + out.len() as u64, &last.id()?);
        }
        Ok(out)
    }
}

fn record_anchor(client: &Client, ck: &CacheKey, position: u64, id: &SalesforceId) {
    if let Some(e) = cache(client).get_mut(ck) {
        if e.anchors.len() >= MAX_ANCHORS {
            e.anchors.clear();
        }
        e.anchors.insert(position, id.clone());
    }
}
