//! The COUNT and keyset-anchor cache behind `export_page` (D15).
//!
//! Per (connection, sObject, filter): the `SELECT COUNT()` result with the time it was fetched,
//! and *anchors*: index of a record in `Id` order → the Id of the record just before it, so a
//! deep page starts with `WHERE Id > 'anchor'` instead of an OFFSET Salesforce refuses
//! [salesforce-api.md §4 "OFFSET"]. Anchors are dropped when a refreshed COUNT differs (records
//! were added or removed, so positions moved). One cache per client (its clones share it; other
//! clients never do); it holds Ids and counts only, no record data and no token.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::soql::{SObjectName, SalesforceId};

/// Anchors kept per (connection, sObject, filter) before the map is reset.
const MAX_ANCHORS: usize = 100_000;
/// Cache entries kept before expired ones are swept (and, if still full, all are dropped).
const MAX_ENTRIES: usize = 4096;

/// What a cached COUNT belongs to: the connection (login host, connected app, account, owner),
/// the sObject (ignoring case) and the filter's SOQL text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    login_url: String,
    client_id: String,
    account_id: String,
    owner: String,
    sobject: String,
    filter: String,
}

/// The connection part of a [`CacheKey`]: what [`QueryCache::invalidate_connection`] matches.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CacheConnection<'a> {
    /// The config's login URL.
    pub(crate) login_url: &'a str,
    /// The connected app's client id.
    pub(crate) client_id: &'a str,
    /// The connection key's account id.
    pub(crate) account_id: &'a str,
    /// The connection key's owner.
    pub(crate) owner: &'a str,
}

impl CacheKey {
    /// The key of `sobject` filtered by `filter` (its SOQL text, empty for none) on `connection`.
    pub(crate) fn new(connection: CacheConnection<'_>, sobject: &SObjectName, filter: String) -> CacheKey {
        CacheKey {
            login_url: connection.login_url.to_string(),
            client_id: connection.client_id.to_string(),
            account_id: connection.account_id.to_string(),
            owner: connection.owner.to_string(),
            sobject: sobject.as_str().to_ascii_lowercase(),
            filter,
        }
    }

    fn is_of(&self, c: &CacheConnection<'_>) -> bool {
        self.login_url == c.login_url
            && self.client_id == c.client_id
            && self.account_id == c.account_id
            && self.owner == c.owner
    }
}

struct CacheEntry {
    count: u64,
    fetched: Instant,
    /// index of the next record → Id of the record just before it.
    anchors: BTreeMap<u64, SalesforceId>,
}

/// The COUNT and anchor cache of one client (see the module docs).
#[derive(Default)]
pub(crate) struct QueryCache {
    entries: Mutex<HashMap<CacheKey, CacheEntry>>,
}

impl QueryCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<CacheKey, CacheEntry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The cached COUNT for `key` when it was fetched less than `ttl` ago.
    pub(crate) fn fresh_count(&self, key: &CacheKey, ttl: Duration) -> Option<u64> {
        self.lock().get(key).filter(|e| e.fetched.elapsed() < ttl).map(|e| e.count)
    }

    /// Records a COUNT just fetched; the anchors of `key` are dropped when it changed. When the
    /// cache is full, entries older than `ttl` are swept first (all of them if that is not enough).
    pub(crate) fn store_count(&self, key: &CacheKey, count: u64, ttl: Duration) {
        let mut c = self.lock();
        if c.len() >= MAX_ENTRIES {
            c.retain(|_, e| e.fetched.elapsed() < ttl);
            if c.len() >= MAX_ENTRIES {
                c.clear();
            }
        }
        match c.get_mut(key) {
            Some(e) => {
                if e.count != count {
                    e.anchors.clear();
                }
                e.count = count;
                e.fetched = Instant::now();
            }
            None => {
                c.insert(key.clone(), CacheEntry { count, fetched: Instant::now(), anchors: BTreeMap::new() });
            }
        }
    }

    /// The anchor at or before index `at_most`: `(index, Id of the record before it)`.
    pub(crate) fn nearest_anchor(&self, key: &CacheKey, at_most: u64) -> Option<(u64, SalesforceId)> {
        self.lock()
            .get(key)
            .and_then(|e| e.anchors.range(..=at_most).next_back().map(|(p, id)| (*p, id.clone())))
    }

    /// Notes that the record at index `position` follows the one with Id `id` (ignored when no
    /// COUNT is cached for `key`).
    pub(crate) fn record_anchor(&self, key: &CacheKey, position: u64, id: &SalesforceId) {
        if let Some(e) = self.lock().get_mut(key) {
            if e.anchors.len() >= MAX_ANCHORS {
                e.anchors.clear();
            }
            e.anchors.insert(position, id.clone());
        }
    }

    /// Forgets every COUNT and anchor of `connection`.
    pub(crate) fn invalidate_connection(&self, connection: CacheConnection<'_>) {
        self.lock().retain(|k, _| !k.is_of(&connection));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(owner: &str, sobject: &str) -> CacheKey {
        let c = CacheConnection { login_url: "https://login", client_id: "app", account_id: "a", owner };
        CacheKey::new(c, &SObjectName::new(sobject).unwrap(), String::new())
    }
    fn id(n: u32) -> SalesforceId {
        SalesforceId::new(format!("003{n:015}")).unwrap()
    }

    #[test]
    fn anchors_are_kept_until_the_count_changes() {
        let cache = QueryCache::default();
        let ttl = Duration::from_secs(60);
        let k = key("u", "Contact");
        cache.record_anchor(&k, 10, &id(1)); // no COUNT yet: ignored
        assert_eq!(cache.nearest_anchor(&k, 100), None);
        cache.store_count(&k, 50, ttl);
        assert_eq!(cache.fresh_count(&key("u", "contact"), ttl), Some(50), "the sObject ignores case");
        cache.record_anchor(&k, 10, &id(1));
        cache.record_anchor(&k, 30, &id(2));
        assert_eq!(cache.nearest_anchor(&k, 29), Some((10, id(1))));
        assert_eq!(cache.nearest_anchor(&k, 30), Some((30, id(2))));
        assert_eq!(cache.nearest_anchor(&k, 9), None);
        cache.store_count(&k, 50, ttl);
        assert_eq!(cache.nearest_anchor(&k, 30), Some((30, id(2))), "same COUNT: anchors kept");
        cache.store_count(&k, 51, ttl);
        assert_eq!(cache.nearest_anchor(&k, 30), None, "another COUNT: positions moved");
        assert_eq!(cache.fresh_count(&k, Duration::ZERO), None, "older than the ttl");
    }

    #[test]
    fn invalidation_is_per_connection() {
        let cache = QueryCache::default();
        let ttl = Duration::from_secs(60);
        cache.store_count(&key("u", "Contact"), 1, ttl);
        cache.store_count(&key("u", "Account"), 2, ttl);
        cache.store_count(&key("v", "Contact"), 3, ttl);
        let u = CacheConnection { login_url: "https://login", client_id: "app", account_id: "a", owner: "u" };
        cache.invalidate_connection(u);
        assert_eq!(cache.fresh_count(&key("u", "Contact"), ttl), None);
        assert_eq!(cache.fresh_count(&key("u", "Account"), ttl), None);
        assert_eq!(cache.fresh_count(&key("v", "Contact"), ttl), Some(3));
    }
}
