//! The describe cache of one client: results reused for a lifetime (`describe_cache_ttl`), per
//! (org scope, sObject), fetched once at a time per entry (single flight: concurrent callers of a
//! missing or expired entry wait for the one request in flight and share its result; a failed
//! fetch is not cached, the next caller tries again).
//!
//! The scope names the org and user the describe was read for (the client derives it from the
//! connection: instance URL + identity URL's org and user ids). A describe is never shared across
//! orgs; it is not shared across users either, because describe lists only the fields the user
//! can see (field-level security), so another user's list could select fields this one cannot.
//!
//! Memory: one entry per (scope, sObject) read within the lifetime; expired entries nobody is
//! fetching are dropped whenever an entry is added.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::Result;

type Slot<T> = Arc<tokio::sync::Mutex<Option<(Instant, Arc<T>)>>>;

/// A cache of `Arc<T>` by (scope, name), with a lifetime and single flight (see the module docs).
pub(crate) struct TtlCache<T> {
    entries: Mutex<HashMap<(String, String), Slot<T>>>,
}

impl<T> Default for TtlCache<T> {
    fn default() -> Self {
        TtlCache { entries: Mutex::new(HashMap::new()) }
    }
}

impl<T> TtlCache<T> {
    /// The cached value for (`scope`, `name`) when younger than `ttl`, else `fetch()`'s result
    /// (cached when `ttl` is not zero). `name` is compared ignoring ASCII case (sObject names).
    pub(crate) async fn get_or_fetch<F, Fut>(&self, scope: &str, name: &str, ttl: Duration, fetch: F) -> Result<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        if ttl.is_zero() {
            return fetch().await.map(Arc::new);
        }
        let slot = self.slot(scope, name, ttl);
        let mut guard = slot.lock().await;
        if let Some((at, value)) = guard.as_ref()
            && at.elapsed() < ttl
        {
            return Ok(value.clone());
        }
        let value = Arc::new(fetch().await?);
        *guard = Some((Instant::now(), value.clone()));
        Ok(value)
    }

    fn slot(&self, scope: &str, name: &str, ttl: Duration) -> Slot<T> {
        let key = (scope.to_owned(), name.to_ascii_lowercase());
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = map.get(&key) {
            return s.clone();
        }
        // Drop expired entries nobody is fetching (try_lock fails while a fetch runs).
        map.retain(|_, s| match s.try_lock() {
            Ok(g) => g.as_ref().is_some_and(|(at, _)| at.elapsed() < ttl),
            Err(_) => true,
        });
        map.entry(key).or_default().clone()
    }

    /// Forgets every entry (fetches in flight finish into entries no later caller sees).
    pub(crate) fn clear(&self) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Entries held (tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::error::{Error, ErrorKind};

    #[tokio::test]
    async fn reuses_within_the_lifetime_per_scope_and_ignoring_case() {
        let cache = TtlCache::<u32>::default();
        let calls = AtomicU32::new(0);
        let fetch = || async { Ok(calls.fetch_add(1, Ordering::SeqCst)) };
        let ttl = Duration::from_secs(60);
        assert_eq!(*cache.get_or_fetch("org1", "Account", ttl, fetch).await.unwrap(), 0);
        assert_eq!(*cache.get_or_fetch("org1", "ACCOUNT", ttl, fetch).await.unwrap(), 0);
        assert_eq!(*cache.get_or_fetch("org2", "Account", ttl, fetch).await.unwrap(), 1, "another org");
        cache.clear();
        assert_eq!(*cache.get_or_fetch("org1", "Account", ttl, fetch).await.unwrap(), 2, "cleared");
        let zero = Duration::ZERO;
        assert_eq!(*cache.get_or_fetch("org1", "Account", zero, fetch).await.unwrap(), 3, "ttl 0 disables");
        assert_eq!(*cache.get_or_fetch("org1", "Account", zero, fetch).await.unwrap(), 4);
    }

    #[tokio::test]
    async fn expires_and_does_not_cache_errors() {
        let cache = TtlCache::<u32>::default();
        let ttl = Duration::from_millis(30);
        let e = cache
            .get_or_fetch("o", "A", ttl, || async { Err(Error::new(ErrorKind::Network, "down")) })
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Network);
        assert_eq!(*cache.get_or_fetch("o", "A", ttl, || async { Ok(1) }).await.unwrap(), 1);
        assert_eq!(*cache.get_or_fetch("o", "A", ttl, || async { Ok(2) }).await.unwrap(), 1);
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(*cache.get_or_fetch("o", "B", ttl, || async { Ok(3) }).await.unwrap(), 3);
        assert_eq!(cache.len(), 1, "the expired entry was dropped when B was added");
        assert_eq!(*cache.get_or_fetch("o", "A", ttl, || async { Ok(4) }).await.unwrap(), 4, "expired");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_fetch() {
        let cache = Arc::new(TtlCache::<u32>::default());
        let calls = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (cache, calls) = (cache.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_fetch("o", "Wide__c", Duration::from_secs(60), || async {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok(calls.fetch_add(1, Ordering::SeqCst))
                    })
                    .await
                    .map(|v| *v)
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), 0);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
