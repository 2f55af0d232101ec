//! [`MemoryStore`]: connections kept in this process's memory (tests, single-process hosts,
//! short-lived CLIs). Compare-and-swap is exact under one mutex.

use std::collections::HashMap;
use std::sync::Mutex;

use futures_util::future::BoxFuture;

use super::{ConnectionDocument, ConnectionKey, SaveOutcome, TokenStore};
use crate::error::Error;

/// An in-memory [`TokenStore`]. Cheap; share it through an `Arc` between clients.
#[derive(Default)]
pub struct MemoryStore {
    docs: Mutex<HashMap<ConnectionKey, ConnectionDocument>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.docs.lock().map(|d| d.len()).unwrap_or(0);
        f.debug_struct("MemoryStore")
            .field("documents", &n)
            .finish()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, HashMap<ConnectionKey, ConnectionDocument>>, Error> {
        self.docs
            .lock()
            .map_err(|_| Error::store("the in-memory token store is poisoned (a thread panicked)"))
    }
}

impl TokenStore for MemoryStore {
    fn load<'a>(
        &'a self,
        key: &'a ConnectionKey,
    ) -> BoxFuture<'a, Result<Option<ConnectionDocument>, Error>> {
        let r = self.lock().map(|d| d.get(key).cloned());
        Box::pin(async move { r })
    }

    fn save<'a>(
        &'a self,
        doc: &'a ConnectionDocument,
        expected_version: Option<u64>,
    ) -> BoxFuture<'a, Result<SaveOutcome, Error>> {
        let r = self.lock().map(|mut d| {
            let key = doc.key();
            let current = d.get(&key).map(|c| c.version);
            if current != expected_version {
                return SaveOutcome::Conflict;
            }
            d.insert(key, doc.clone());
            SaveOutcome::Saved
        });
        Box::pin(async move { r })
    }

    fn delete<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<bool, Error>> {
        let r = self.lock().map(|mut d| d.remove(key).is_some());
        Box::pin(async move { r })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_doc;

    #[tokio::test]
    async fn cas_semantics() {
        let s = MemoryStore::new();
        let mut d = test_doc("a", "u", 1);
        assert_eq!(s.save(&d, Some(0)).await.unwrap(), SaveOutcome::Conflict);
        assert_eq!(s.save(&d, None).await.unwrap(), SaveOutcome::Saved);
        assert_eq!(s.save(&d, None).await.unwrap(), SaveOutcome::Conflict);
        d.version = 2;
        assert_eq!(s.save(&d, Some(3)).await.unwrap(), SaveOutcome::Conflict);
        assert_eq!(s.save(&d, Some(1)).await.unwrap(), SaveOutcome::Saved);
        assert_eq!(s.load(&d.key()).await.unwrap().unwrap().version, 2);
        assert!(s.delete(&d.key()).await.unwrap());
        assert!(!s.delete(&d.key()).await.unwrap());
        assert!(s.load(&d.key()).await.unwrap().is_none());
    }
}
