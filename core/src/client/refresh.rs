//! The refresh protocol (ARCHITECTURE.md "Refresh protocol"; seed defects D6–D9), one section per
//! step:
//!
//! 1. A 401 on an API call ([`Client::retry_after_401`], called by `api.rs`) or [`Client::refresh`]
//!    → [`Client::refresh_after_401`] with the access token that failed.
//! 2. In-process single flight: one async mutex per connection. Inside it the document is
//!    reloaded; if its access token differs from the failed one, someone already refreshed and
//!    that token is used (so a concurrent waiter never sends the same refresh token twice).
//! 3. Across processes: the document is CAS-saved with a `refresh_lease`; losers of the swap, or
//!    finders of a live foreign lease, poll the store (bounded by `refresh_wait`) until the token
//!    changes.
//! 4. The lease holder posts the refresh grant, keeps the old refresh token only when the response
//!    has none, and CAS-saves the new tokens and `instance_url` (clearing the lease) before anyone
//!    uses them.
//! 5. `invalid_grant`: reload; if the document changed meanwhile, use it; else mark it
//!    `token_invalidated` and return `ReconnectRequired` with the OAuth fields.
//! 6. The call is retried once with the new token; a second 401 is `SessionExpired`. A query
//!    locator (`nextRecordsUrl`) is never retried after a refresh: it belongs to the old session
//!    [salesforce-api.md §4 Cursors].
//! 7. A store that fails or hangs on the save after a successful grant: bounded tries, then the
//!    tokens are kept in memory and saved before anything else (`unsaved.rs`).

use std::time::{Duration, Instant};

use super::{CAS_ATTEMPTS, Client, ConnectionInfo, host_of, invalidated, not_connected};
use crate::error::{Error, ErrorKind, Result};
use crate::http::Decoded;
use crate::oauth;
use crate::secret::Secret;
use crate::store::{ConnectionDocument, ConnectionKey, RefreshLease, SaveOutcome, next_version, now_ms};
use crate::usage::CallKind;

/// `now + wait`, or far in the future when that is not representable (the configuration bounds
/// every duration by `MAX_DURATION`; this keeps a deadline from ever panicking on overflow).
fn deadline_after(wait: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(wait)
        .unwrap_or_else(|| now + crate::config::MAX_DURATION)
}

/// Clock difference tolerated between processes sharing a store when judging a lease's expiry.
const LEASE_CLOCK_SKEW_MS: u64 = 5_000;

/// Whether another process's refresh lease still holds at `now` (ms since the epoch). A lease is
/// taken for `refresh_lease_ttl` (`ttl_ms`), so one that ends later than that from now (plus
/// [`LEASE_CLOCK_SKEW_MS`]) was never written by a client (a hand-edited or corrupt document, a
/// clock years ahead): it is stale and may be taken over, rather than making every refresh wait
/// `refresh_wait` and fail with `StoreConflict` until someone fixes the document.
fn lease_holds(expires_at_ms: u64, now: u64, ttl_ms: u64) -> bool {
    expires_at_ms > now && expires_at_ms <= now.saturating_add(ttl_ms).saturating_add(LEASE_CLOCK_SKEW_MS)
}

fn no_refresh_token() -> Error {
    Error::new(
        ErrorKind::SessionExpired,
        "The Salesforce session expired and no refresh token was granted (add the refresh_token scope); send the user through login again",
    )
    .with_status(401)
    .with_error_code("INVALID_SESSION_ID")
}

impl Client {
    /// Refreshes the access token now (same coordination as after a 401). Errors include
    /// `ReconnectRequired` (the refresh token is dead), `StoreConflict` (another process kept the
    /// connection), and `Store` when the grant succeeded but the store could not save the new
    /// tokens: this client keeps them, uses them, and saves them before any new refresh (module
    /// docs, step 7).
    pub async fn refresh(&self, key: &ConnectionKey) -> Result<ConnectionInfo> {
        let doc = self.load_usable(key).await?;
        let fresh = self.refresh_after_401(key, &doc.token.access_token).await?;
        Ok(ConnectionInfo::from(&fresh))
    }

    // ---- steps 1 and 6: a 401, one refresh, one retry ---------------------------------------

    /// Steps 1 and 6: an API call to `target` made with `failed`'s access token got a 401
    /// (`SessionExpired`): refresh once (steps 2–5), then retry once with the new token.
    pub(super) async fn retry_after_401<T>(
        &self,
        key: &ConnectionKey,
        failed: &ConnectionDocument,
        target: &str,
        headers: &[(&str, String)],
        kind: CallKind,
        decode: fn(u16, String) -> Decoded<T>,
    ) -> Result<T> {
        // Step 1: refresh with the access token that failed (steps 2-5 below).
        let fresh = self.refresh_after_401(key, &failed.token.access_token).await?;
        // Step 6: one retry with the new token; a second 401 is final. A query locator is not
        // retried at all: it belongs to the old session [salesforce-api.md §4 Cursors].
        if kind == CallKind::QueryMore {
            return Err(Error::new(
                ErrorKind::SessionExpired,
                "The session expired during a query and was refreshed, but a query locator belongs to the old session; restart the query from the last checkpoint",
            )
            .with_status(401)
            .with_error_code("INVALID_SESSION_ID"));
        }
        let url = self.resolve(&fresh, target)?;
        self.inner.transport.get_decoded(&url, &fresh.token.access_token, headers, kind, decode).await.map_err(|e| {
            if e.kind() == ErrorKind::SessionExpired {
                e.with_message("Salesforce refused the freshly refreshed access token too (no further retry)")
            } else {
                e
            }
        })
    }

    // ---- steps 2 and 3: single flight in this process, a lease across processes -------------

    /// Steps 2–5 (module docs). Returns the document holding a token newer
    /// than `failed`.
    ///
    /// Runs on its own task: if the caller's future is dropped (a host timeout, a cancelled
    /// export) after the refresh grant was sent, the task still persists the new tokens (under
    /// rotation the old refresh token is already dead) and releases the per-connection lock.
    pub(super) async fn refresh_after_401(
        &self,
        key: &ConnectionKey,
        failed: &Secret,
    ) -> Result<ConnectionDocument> {
        let this = self.clone();
        let key = key.clone();
        let failed = failed.clone();
        tokio::spawn(async move { this.refresh_coordinated(&key, &failed).await })
            .await
            .map_err(|e| Error::internal(format!("the refresh task failed: {e}")))?
    }

    /// Steps 2 and 3: the per-connection lock, then the lease in the store (or waiting for the
    /// process that holds it).
    async fn refresh_coordinated(
        &self,
        key: &ConnectionKey,
        failed: &Secret,
    ) -> Result<ConnectionDocument> {
        let _lock = self.lock_connection(key).await;
        // Step 7: tokens kept unsaved are saved before any new grant (or are the fresh ones).
        if let Some(kept) = self.save_before_grant(key, failed).await? {
            return Ok(kept);
        }
        let config = &self.inner.config;
        let deadline = deadline_after(config.refresh_wait());
        let mut poll = Duration::from_millis(20);
        loop {
            // Step 2: reload inside the lock; a token other than the failed one is already fresh.
            let doc = self.load(key).await?.ok_or_else(not_connected)?;
            if doc.token_invalidated {
                return Err(invalidated());
            }
            if doc.token.access_token != *failed {
                tracing::debug!(target: "sfcrm::client", key = %key, "refresh: already refreshed by another caller");
                return Ok(doc);
            }
            let Some(refresh_token) = doc.token.refresh_token.clone() else {
                return Err(no_refresh_token());
            };
            // Step 3: a live lease of another process: wait for its result (bounded).
            let now = now_ms();
            let ttl_ms = u64::try_from(config.refresh_lease_ttl().as_millis()).unwrap_or(u64::MAX);
            let foreign_lease = doc.refresh_lease.as_ref().is_some_and(|l| {
                l.holder != self.inner.holder && lease_holds(l.expires_at_ms, now, ttl_ms)
            });
            if foreign_lease {
                if Instant::now() >= deadline {
                    return Err(Error::new(
                        ErrorKind::StoreConflict,
                        "another process is refreshing this Salesforce connection and did not finish within refresh_wait",
                    ));
                }
                tokio::time::sleep(poll).await;
                poll = (poll * 2).min(Duration::from_millis(250));
                continue;
            }
            // Step 3: take the lease by compare-and-swap; a lost swap reloads.
            let mut leased = doc.clone();
            leased.refresh_lease = Some(RefreshLease {
                holder: self.inner.holder.clone(),
                expires_at_ms: now.saturating_add(config.refresh_lease_ttl().as_millis().try_into().unwrap_or(u64::MAX)),
            });
            leased.version = next_version(doc.version)?;
            leased.updated_at_ms = now;
            match self.inner.store.save(&leased, Some(doc.version)).await? {
                SaveOutcome::Saved => {
                    return self.refresh_with_lease(key, leased, refresh_token).await;
                }
                SaveOutcome::Conflict => {
                    if Instant::now() >= deadline {
                        return Err(Error::new(
                            ErrorKind::StoreConflict,
                            "the stored Salesforce connection kept changing while taking the refresh lease",
                        ));
                    }
                    // Another writer won the swap: back off briefly (jittered) before reloading.
                    let jitter = rand::random_range(1..=10u64);
                    tokio::time::sleep(Duration::from_millis(jitter)).await;
                    continue;
                }
            }
        }
    }

    // ---- step 4: the refresh grant and the save of its tokens -------------------------------

    /// Step 4: the lease holder posts the refresh grant and saves the new tokens (step 5 on
    /// `invalid_grant`).
    async fn refresh_with_lease(
        &self,
        key: &ConnectionKey,
        leased: ConnectionDocument,
        refresh_token: Secret,
    ) -> Result<ConnectionDocument> {
        let config = &self.inner.config;
        tracing::debug!(target: "sfcrm::client", key = %key, "refresh: sending refresh grant");
        // The lease was written just now with `refresh_lease_ttl`; keep a second of margin for
        // clock reads and the save that follows.
        let lease_end = deadline_after(config.refresh_lease_ttl().saturating_sub(Duration::from_secs(1)));
        match oauth::refresh_grant_until(&self.inner.transport, config, &refresh_token, Some(lease_end)).await {
            Ok(tok) => {
                let allowed = self.instance_allowed(&tok.instance_url);
                let mut new = leased.clone();
                new.token.access_token = tok.access_token;
                if let Some(r) = tok.refresh_token {
                    // Refresh token rotation: the old one is dead now; persist the new one first.
                    new.token.refresh_token = Some(r);
                }
                new.token.issued_at = tok.issued_at;
                if allowed {
                    new.instance_url = tok.instance_url.clone();
                }
                if tok.id.is_some() {
                    new.id = tok.id;
                }
                if tok.scope.is_some() {
                    new.scope = tok.scope;
                }
                new.refresh_lease = None;
                // Step 7 when the store fails or hangs here.
                let saved = self.save_after_grant(key, &new, &leased, lease_end).await?;
                if !allowed {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!(
                            "Salesforce returned an instance_url ({}) outside the allowed instance hosts (SFCRM_INSTANCE_HOSTS); no token was sent there",
                            host_of(&tok.instance_url)
                        ),
                    ));
                }
                Ok(saved)
            }
            Err(e) if e.oauth_error() == Some("invalid_grant") => {
                self.after_invalid_grant(key, &leased, &refresh_token, e).await
            }
            Err(e) => {
                self.release_lease(key).await;
                Err(e)
            }
        }
    }

    /// CAS-saves refreshed tokens; on a conflict, re-applies them to the newest document (they are
    /// the newest tokens that exist: losing a rotated refresh token would lock the user out).
    pub(super) async fn save_refreshed(
        &self,
        key: &ConnectionKey,
        mut doc: ConnectionDocument,
        mut expected: u64,
    ) -> Result<ConnectionDocument> {
        for _ in 0..CAS_ATTEMPTS {
            doc.version = next_version(expected)?;
            doc.updated_at_ms = now_ms();
            match self.inner.store.save(&doc, Some(expected)).await? {
                SaveOutcome::Saved => return Ok(doc),
                SaveOutcome::Conflict => {
                    let Some(cur) = self.load(key).await? else {
                        return Err(not_connected().with_message(
                            "the connection was removed while it was being refreshed",
                        ));
                    };
                    let mut merged = cur.clone();
                    merged.token = doc.token.clone();
                    merged.instance_url = doc.instance_url.clone();
                    merged.id = doc.id.clone();
                    merged.scope = doc.scope.clone();
                    merged.refresh_lease = None;
                    merged.token_invalidated = false;
                    expected = cur.version;
                    doc = merged;
                }
            }
        }
        Err(Error::new(
            ErrorKind::StoreConflict,
            "could not save the refreshed token: the document kept changing",
        ))
    }

    // ---- step 5: invalid_grant --------------------------------------------------------------

    /// Step 5: the refresh token was refused (`invalid_grant`). If another process rotated the
    /// tokens meanwhile (e.g. after our lease lapsed), their document is used; else the connection is
    /// marked `token_invalidated` and the result is `ReconnectRequired` with the OAuth fields.
    async fn after_invalid_grant(
        &self,
        key: &ConnectionKey,
        leased: &ConnectionDocument,
        refresh_token: &Secret,
        e: Error,
    ) -> Result<ConnectionDocument> {
        for _ in 0..CAS_ATTEMPTS {
            let cur = self.load(key).await?.ok_or_else(not_connected)?;
            let changed = cur.token.access_token != leased.token.access_token
                || cur.token.refresh_token.as_ref() != Some(refresh_token);
            if changed && !cur.token_invalidated {
                self.release_lease(key).await;
                return self.load(key).await?.ok_or_else(not_connected);
            }
            let mut inv = cur.clone();
            inv.token_invalidated = true;
            inv.refresh_lease = None;
            inv.version = next_version(cur.version)?;
            inv.updated_at_ms = now_ms();
            if self.inner.store.save(&inv, Some(cur.version)).await? == SaveOutcome::Saved {
                break;
            }
        }
        let desc = e
            .oauth_error_description()
            .unwrap_or("invalid_grant")
            .to_owned();
        Err(e.with_kind(ErrorKind::ReconnectRequired).with_message(format!(
            "Salesforce refused the refresh token ({desc}); send the user through login again"
        )))
    }

    // ---- the lease, when no new tokens come of it -------------------------------------------

    /// Clears our lease (best effort; a failure only delays other processes until it lapses).
    async fn release_lease(&self, key: &ConnectionKey) {
        for _ in 0..4 {
            let Ok(Some(cur)) = self.load(key).await else {
                return;
            };
            if cur
                .refresh_lease
                .as_ref()
                .is_none_or(|l| l.holder != self.inner.holder)
            {
                return;
            }
            let mut d = cur.clone();
            d.refresh_lease = None;
            let Ok(version) = next_version(cur.version) else {
                return;
            };
            d.version = version;
            d.updated_at_ms = now_ms();
            match self.inner.store.save(&d, Some(cur.version)).await {
                Ok(SaveOutcome::Conflict) => continue,
                _ => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_holds_until_it_lapses_and_never_longer_than_the_ttl() {
        let (now, ttl) = (1_700_000_000_000u64, 60_000u64);
        assert!(lease_holds(now + 1, now, ttl));
        assert!(lease_holds(now + ttl, now, ttl));
        assert!(lease_holds(now + ttl + LEASE_CLOCK_SKEW_MS, now, ttl), "a clock a little ahead");
        assert!(!lease_holds(now, now, ttl), "lapsed");
        assert!(!lease_holds(now + ttl + LEASE_CLOCK_SKEW_MS + 1, now, ttl), "longer than any lease");
        assert!(!lease_holds(u64::MAX, now, ttl));
    }
}
