//! Tokens that Salesforce granted but the token store did not save (issue 14).
//!
//! Under refresh token rotation the refresh token a grant replaces is dead at once, and presenting
//! it again revokes the whole token family [salesforce-api.md §2 RTR]. So once a grant succeeded,
//! its tokens must not be lost:
//! 1. The save that follows the grant is tried up to [`SAVE_TRIES`] times, each try bounded by
//!    `token_timeout`, with a jittered backoff from [`FIRST_BACKOFF`], and never retried past the
//!    refresh lease (a store that hangs cannot hold the call longer).
//! 2. If every try fails, the client keeps the refreshed document in memory for that connection
//!    (one per key) and returns a `Store` error (`StoreConflict` when the swap kept losing) saying
//!    the tokens were refreshed, could not be saved, and are kept by this process.
//! 3. Every later call of this client for that connection first tries to save them again (one
//!    try, bounded by `token_timeout`); while that fails, the call goes on with the kept access
//!    token. Before any new refresh grant the save is tried too, and if it still fails no grant is
//!    sent (it would replay nothing, but rotate again tokens nobody else can know).
//! 4. Reconciling with what is stored: the kept tokens are written when the store still holds the
//!    tokens the grant replaced (ours are the newest); they are dropped when the stored document
//!    already has them, holds other tokens (another process or a new login wrote newer ones), is
//!    invalidated, or is gone. Every write clears this client's stale refresh lease.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use super::{CAS_ATTEMPTS, Client};
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;
use crate::store::{ConnectionDocument, ConnectionKey, SaveOutcome, now_ms};

/// Tries of the save that follows a successful grant, the first included.
pub(super) const SAVE_TRIES: u32 = 4;
/// Pause before the second try; doubled (with jitter) before each later one.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

/// A refreshed document that is not saved yet, and the tokens its grant replaced.
pub(super) struct Unsaved {
    /// The refreshed document (new tokens, `instance_url`, `id`, `scope`; no lease).
    doc: ConnectionDocument,
    /// The access token the grant replaced.
    replaced_access: Secret,
    /// The refresh token sent in the grant.
    replaced_refresh: Option<Secret>,
    /// Tells apart two kept documents of one key (a newer one must not be dropped by mistake).
    generation: u64,
}

/// The kept documents of one client, by connection.
#[derive(Default)]
pub(super) struct UnsavedTokens {
    map: std::sync::Mutex<HashMap<ConnectionKey, Unsaved>>,
    next_generation: std::sync::atomic::AtomicU64,
}

impl UnsavedTokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ConnectionKey, Unsaved>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn snapshot(&self, key: &ConnectionKey) -> Option<Unsaved> {
        self.lock().get(key).map(|u| Unsaved {
            doc: u.doc.clone(),
            replaced_access: u.replaced_access.clone(),
            replaced_refresh: u.replaced_refresh.clone(),
            generation: u.generation,
        })
    }

    fn keep(&self, key: &ConnectionKey, doc: ConnectionDocument, replaced: &ConnectionDocument) {
        let generation = self.next_generation.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let u = Unsaved {
            doc,
            replaced_access: replaced.token.access_token.clone(),
            replaced_refresh: replaced.token.refresh_token.clone(),
            generation,
        };
        self.lock().insert(key.clone(), u);
    }

    /// Forgets the kept document of `key` if it is still the one of `generation`.
    fn forget_generation(&self, key: &ConnectionKey, generation: u64) {
        let mut map = self.lock();
        if map.get(key).is_some_and(|u| u.generation == generation) {
            map.remove(key);
        }
    }

    /// Forgets whatever is kept for `key` (a new login, a disconnect).
    pub(super) fn forget(&self, key: &ConnectionKey) {
        self.lock().remove(key);
    }

    /// Number of connections with kept tokens.
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }
}

/// What to do with kept tokens given the stored document.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    /// The store still holds the tokens the grant replaced: ours are the newest; write them.
    Write,
    /// The store already has them, or holds newer ones, or the connection is invalidated.
    Drop,
}

fn decide(stored: &ConnectionDocument, u: &Unsaved) -> Decision {
    if stored.token_invalidated {
        return Decision::Drop;
    }
    let rotated = u.doc.token.refresh_token != u.replaced_refresh;
    let refresh_replaced = stored.token.refresh_token == u.replaced_refresh;
    if rotated && refresh_replaced {
        // The stored refresh token was rotated out by our grant: only ours is live.
        return Decision::Write;
    }
    if !rotated && refresh_replaced && stored.token.access_token == u.replaced_access {
        return Decision::Write;
    }
    Decision::Drop
}

/// The stored document with the kept tokens applied and no lease.
fn merged(stored: &ConnectionDocument, kept: &ConnectionDocument) -> ConnectionDocument {
    let mut d = stored.clone();
    d.token = kept.token.clone();
    d.instance_url = kept.instance_url.clone();
    d.id = kept.id.clone();
    d.scope = kept.scope.clone();
    d.refresh_lease = None;
    d.version = stored.version + 1;
    d.updated_at_ms = now_ms();
    d
}

/// Outcome of [`Client::save_unsaved`].
pub(super) enum Flushed {
    /// Nothing kept for this connection.
    Nothing,
    /// Nothing kept any more: the stored document (`None` if the connection is gone).
    Stored(Option<ConnectionDocument>),
    /// Still not saved: the kept document, and why.
    Kept(ConnectionDocument, Error),
}

fn store_timeout(bound: Duration) -> Error {
    Error::store(format!("the token store did not answer within {} ms", bound.as_millis()))
}

/// `fut`, or a `Store` error once `bound` has passed (the store call is dropped).
pub(super) async fn within<T>(bound: Duration, fut: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::time::timeout(bound, fut).await.unwrap_or_else(|_| Err(store_timeout(bound)))
}

fn kept_message(key: &ConnectionKey, cause: &Error) -> String {
    format!(
        "Salesforce refreshed the tokens of {key}, but they could not be saved in the token store ({}); \
         this process keeps them in memory, uses them for its calls and saves them before any new refresh",
        cause.message()
    )
}

impl Client {
    /// Saves the document of a successful grant over `replaced` (the leased document, see
    /// `save_refreshed`): up to [`SAVE_TRIES`] tries, each bounded by `token_timeout`, none
    /// started after `lease_end`. When every try fails the document is kept (module docs) and the
    /// error says so.
    pub(super) async fn save_after_grant(
        &self,
        key: &ConnectionKey,
        refreshed: &ConnectionDocument,
        replaced: &ConnectionDocument,
        lease_end: Instant,
    ) -> Result<ConnectionDocument> {
        let save = || self.save_refreshed(key, refreshed.clone(), replaced.version);
        let last = match self.retry_store(Some(lease_end), save).await {
            Ok(saved) => {
                self.inner.unsaved.forget(key);
                return Ok(saved);
            }
            Err(e) if matches!(e.kind(), ErrorKind::Store | ErrorKind::StoreConflict) => e,
            Err(e) => return Err(e),
        };
        tracing::warn!(target: "sfcrm::client", key = %key, kind = %last.kind(),
            "refresh: the refreshed tokens could not be saved; kept in memory");
        self.inner.unsaved.keep(key, refreshed.clone(), replaced);
        let message = kept_message(key, &last);
        Err(last.with_message(message))
    }

    /// Runs `op` up to [`SAVE_TRIES`] times while it fails with `Store` (a failure or a timeout),
    /// each try bounded by `token_timeout` (and by `until`, after the first try), with a jittered
    /// doubling backoff.
    pub(super) async fn retry_store<T, F, Fut>(&self, until: Option<Instant>, op: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let per_try = self.inner.config.token_timeout();
        let mut backoff = FIRST_BACKOFF;
        let mut tries = 0;
        loop {
            let mut bound = per_try;
            if tries > 0
                && let Some(until) = until
            {
                bound = bound.min(until.saturating_duration_since(Instant::now()));
            }
            tries += 1;
            let e = match within(bound, op()).await {
                Err(e) if e.kind() == ErrorKind::Store => e,
                other => return other,
            };
            let pause = backoff.mul_f64(rand::random_range(0.5..=1.0));
            let out_of_time = until.is_some_and(|u| Instant::now() + pause + Duration::from_millis(10) >= u);
            if tries >= SAVE_TRIES || out_of_time {
                return Err(e);
            }
            tracing::debug!(target: "sfcrm::client", tries, "token store failed; trying again");
            tokio::time::sleep(pause).await;
            backoff *= 2;
        }
    }

    /// One try (bounded by `token_timeout`) to save the tokens kept for `key`. The caller holds
    /// the connection's lock, so no refresh of this client runs meanwhile.
    pub(super) async fn save_unsaved(&self, key: &ConnectionKey) -> Flushed {
        let Some(u) = self.inner.unsaved.snapshot(key) else {
            return Flushed::Nothing;
        };
        let bound = self.inner.config.token_timeout();
        match within(bound, self.reconcile(key, &u)).await {
            Ok(stored) => {
                self.inner.unsaved.forget_generation(key, u.generation);
                tracing::debug!(target: "sfcrm::client", key = %key, "kept tokens reconciled with the store");
                Flushed::Stored(stored)
            }
            Err(e) => Flushed::Kept(u.doc, e),
        }
    }

    /// Writes the kept tokens when they are the newest (see [`decide`]); clears this client's
    /// stale lease either way. Returns the stored document afterwards.
    async fn reconcile(&self, key: &ConnectionKey, u: &Unsaved) -> Result<Option<ConnectionDocument>> {
        for _ in 0..CAS_ATTEMPTS {
            let Some(stored) = self.load(key).await? else {
                return Ok(None);
            };
            let ours = stored.refresh_lease.as_ref().is_some_and(|l| l.holder == self.inner.holder);
            let next = match decide(&stored, u) {
                Decision::Write => merged(&stored, &u.doc),
                Decision::Drop if ours => {
                    let mut d = stored.clone();
                    d.refresh_lease = None;
                    d.version = stored.version + 1;
                    d.updated_at_ms = now_ms();
                    d
                }
                Decision::Drop => return Ok(Some(stored)),
            };
            if self.inner.store.save(&next, Some(stored.version)).await? == SaveOutcome::Saved {
                return Ok(Some(next));
            }
        }
        Err(Error::new(
            ErrorKind::StoreConflict,
            "could not save the kept Salesforce tokens: the stored connection kept changing",
        ))
    }

    /// The document for an API call when tokens are kept for `key`: saved now if the store
    /// answers (then the stored document), else the kept one. `None`: nothing is kept.
    /// A refresh of this client in flight (its lock taken) is left alone: the kept document is used.
    pub(super) async fn kept_for_call(&self, key: &ConnectionKey) -> Option<Result<Option<ConnectionDocument>>> {
        let u = self.inner.unsaved.snapshot(key)?;
        let Some(_lock) = self.try_lock_connection(key) else {
            return Some(Ok(Some(u.doc)));
        };
        match self.save_unsaved(key).await {
            Flushed::Nothing => None,
            Flushed::Stored(doc) => Some(Ok(doc)),
            Flushed::Kept(doc, e) => {
                tracing::debug!(target: "sfcrm::client", key = %key, kind = %e.kind(),
                    "kept tokens still not saved; using them");
                Some(Ok(Some(doc)))
            }
        }
    }

    /// Before a refresh grant (connection lock held): kept tokens must be saved first. `Ok(None)`:
    /// nothing kept (any more), go on. `Ok(Some(doc))`: the kept tokens are newer than the one
    /// that failed; use them. `Err`: they could not be saved, so no grant may be sent.
    pub(super) async fn save_before_grant(
        &self,
        key: &ConnectionKey,
        failed: &Secret,
    ) -> Result<Option<ConnectionDocument>> {
        match self.save_unsaved(key).await {
            Flushed::Nothing | Flushed::Stored(_) => Ok(None),
            Flushed::Kept(doc, _) if doc.token.access_token != *failed => Ok(Some(doc)),
            Flushed::Kept(_, e) => {
                let message = format!(
                    "the Salesforce tokens of {key} were refreshed but could not be saved, and the token store still fails ({}); \
                     no new refresh was sent: this process keeps the current tokens and saves them first",
                    e.message()
                );
                Err(e.with_message(message))
            }
        }
    }

    /// For a disconnect (connection lock held): the kept document when its tokens are newer than
    /// the stored ones (`stored` is the loaded document); forgets it either way.
    pub(super) fn take_newer_unsaved(&self, key: &ConnectionKey, stored: &ConnectionDocument) -> Option<ConnectionDocument> {
        let u = self.inner.unsaved.snapshot(key)?;
        self.inner.unsaved.forget(key);
        (decide(stored, &u) == Decision::Write).then_some(u.doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_doc;

    fn unsaved(replaced: &ConnectionDocument, access: &str, refresh: Option<&str>) -> Unsaved {
        let mut doc = replaced.clone();
        doc.token.access_token = Secret::new(access);
        doc.token.refresh_token = refresh.map(Secret::new);
        Unsaved {
            doc,
            replaced_access: replaced.token.access_token.clone(),
            replaced_refresh: replaced.token.refresh_token.clone(),
            generation: 0,
        }
    }

    #[test]
    fn the_newest_rotated_refresh_token_wins() {
        let stored = test_doc("a", "u", 3);
        // Rotated: the store still holds the refresh token our grant rotated out → write ours.
        let u = unsaved(&stored, "00DNEW!A", Some("5AepNEW"));
        assert_eq!(decide(&stored, &u), Decision::Write);
        // ...even if its access token changed meanwhile (only ours can be live).
        let mut other_access = stored.clone();
        other_access.token.access_token = Secret::new("00DOTHER!A");
        assert_eq!(decide(&other_access, &u), Decision::Write);
        // Already saved (a save that timed out but landed) → drop.
        assert_eq!(decide(&u.doc, &u), Decision::Drop);
        // Another process or a new login stored other tokens → they are newer: drop ours.
        let mut newer = stored.clone();
        newer.token.refresh_token = Some(Secret::new("5AepNEWER"));
        assert_eq!(decide(&newer, &u), Decision::Drop);
        // The family died (someone replayed the rotated-out token) → drop.
        let mut dead = stored.clone();
        dead.token_invalidated = true;
        assert_eq!(decide(&dead, &u), Decision::Drop);
    }

    #[test]
    fn without_rotation_only_an_untouched_document_is_overwritten() {
        let stored = test_doc("a", "u", 3);
        let rt = stored.token.refresh_token.as_ref().map(|s| s.expose().to_owned());
        let u = unsaved(&stored, "00DNEW!A", rt.as_deref());
        assert_eq!(decide(&stored, &u), Decision::Write);
        let mut refreshed_elsewhere = stored.clone();
        refreshed_elsewhere.token.access_token = Secret::new("00DOTHER!A");
        assert_eq!(decide(&refreshed_elsewhere, &u), Decision::Drop);
    }

    #[test]
    fn merged_keeps_the_stored_identity_and_clears_the_lease() {
        let mut stored = test_doc("a", "u", 7);
        stored.refresh_lease = Some(crate::store::RefreshLease { holder: "h".into(), expires_at_ms: u64::MAX });
        let u = unsaved(&stored, "00DNEW!A", Some("5AepNEW"));
        let m = merged(&stored, &u.doc);
        assert_eq!((m.version, m.refresh_lease.is_none()), (8, true));
        assert_eq!(m.token, u.doc.token);
        assert_eq!((m.account_id.as_str(), m.owner.as_str()), ("a", "u"));
    }

    #[test]
    fn the_kept_message_names_no_token() {
        let key = ConnectionKey::new("acc", "usr");
        let m = kept_message(&key, &Error::store("injected"));
        assert!(m.contains("refreshed") && m.contains("could not be saved") && m.contains("keeps"), "{m}");
        assert!(!m.contains("00D") && !m.contains("5Aep"));
    }
}
