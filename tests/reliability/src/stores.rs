//! Token stores for the suite: a SQLite-backed store shared by OS processes, and a fault-injecting
//! decorator.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use rusqlite::{Connection, OptionalExtension, params};
use sfcrm_core::{ConnectionDocument, ConnectionKey, Error, SaveOutcome, TokenStore};

/// A [`TokenStore`] on a SQLite file: one row per connection
/// (`account_id`, `owner`, `version`, `doc` JSON). `save` is a compare-and-swap:
/// `UPDATE … WHERE account_id = ? AND owner = ? AND version = ?` (or `INSERT … ON CONFLICT DO
/// NOTHING` when no document is expected); one changed row = saved, none = conflict. SQLite's file
/// locks make that atomic across every process that opens the same file (WAL mode,
/// `busy_timeout` 10 s). Errors are `ErrorKind::Store` and never include the document.
pub struct SqliteStore {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish_non_exhaustive()
    }
}

fn store_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::store(format!("SQLite token store: {what}: {e}"))
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, Error> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open(&path).map_err(|e| store_err("open", e))?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(|e| store_err("busy_timeout", e))?;
        conn.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(())).map_err(|e| store_err("WAL", e))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS sfcrm_connections (
                 account_id TEXT NOT NULL, owner TEXT NOT NULL, version INTEGER NOT NULL, doc TEXT NOT NULL,
                 PRIMARY KEY (account_id, owner))",
        )
        .map_err(|e| store_err("create table", e))?;
        Ok(SqliteStore { path, conn: Arc::new(Mutex::new(conn)) })
    }

    async fn with_conn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let guard = conn.lock().map_err(|_| Error::store("SQLite token store: poisoned lock"))?;
            f(&guard)
        })
        .await
        .map_err(|e| store_err("worker", e))?
    }
}

impl TokenStore for SqliteStore {
    fn load<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<Option<ConnectionDocument>, Error>> {
        let key = key.clone();
        self.with_conn(move |c| {
            let text: Option<String> = c
                .query_row(
                    "SELECT doc FROM sfcrm_connections WHERE account_id = ?1 AND owner = ?2",
                    params![key.account_id, key.owner],
                    |r| r.get(0),
                )
                .optional()
                .map_err(|e| store_err("load", e))?;
            text.map(|t| ConnectionDocument::from_json(&t)).transpose()
        })
        .boxed()
    }

    fn save<'a>(
        &'a self,
        doc: &'a ConnectionDocument,
        expected_version: Option<u64>,
    ) -> BoxFuture<'a, Result<SaveOutcome, Error>> {
        let json = doc.to_json();
        let (acc, owner, version) = (doc.account_id.clone(), doc.owner.clone(), doc.version as i64);
        self.with_conn(move |c| {
            let changed = match expected_version {
                None => c.execute(
                    "INSERT INTO sfcrm_connections (account_id, owner, version, doc) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (account_id, owner) DO NOTHING",
                    params![acc, owner, version, json],
                ),
                Some(v) => c.execute(
                    "UPDATE sfcrm_connections SET version = ?3, doc = ?4
                     WHERE account_id = ?1 AND owner = ?2 AND version = ?5",
                    params![acc, owner, version, json, v as i64],
                ),
            }
            .map_err(|e| store_err("save", e))?;
            Ok(if changed == 1 { SaveOutcome::Saved } else { SaveOutcome::Conflict })
        })
        .boxed()
    }

    fn delete<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<bool, Error>> {
        let key = key.clone();
        self.with_conn(move |c| {
            let n = c
                .execute(
                    "DELETE FROM sfcrm_connections WHERE account_id = ?1 AND owner = ?2",
                    params![key.account_id, key.owner],
                )
                .map_err(|e| store_err("delete", e))?;
            Ok(n > 0)
        })
        .boxed()
    }
}

/// What a [`FaultyStore`] does to the next calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFault {
    /// The next N calls (load, save or delete) fail with `ErrorKind::Store` and change nothing.
    Fail(u64),
    /// The next N saves answer `Conflict` without writing (as if another process kept winning).
    Conflict(u64),
    /// The next N calls (load, save or delete) hang for the given time before doing their work; a
    /// caller that gives up first (drops the call) leaves the store unchanged.
    Hang(u64, Duration),
}

/// A fault armed to fire only after `after_saves` more saves have reached the inner store (see
/// [`FaultyStore::arm_after_saves`]).
#[derive(Debug, Clone, Copy)]
struct Deferred {
    after_saves: u64,
    fault: StoreFault,
}

/// A decorator over any [`TokenStore`] that injects failures, conflicts and hangs, and counts calls.
pub struct FaultyStore {
    inner: Arc<dyn TokenStore>,
    fail: AtomicU64,
    conflict: AtomicU64,
    hang: AtomicU64,
    hang_for: Mutex<Duration>,
    deferred: Mutex<Option<Deferred>>,
    /// Faults injected so far (failed calls + fake conflicts + hung calls).
    pub injected: AtomicU64,
    /// Calls that reached the inner store.
    pub passed: AtomicU64,
}

impl FaultyStore {
    /// Wraps `inner` with no fault armed.
    pub fn new(inner: Arc<dyn TokenStore>) -> FaultyStore {
        FaultyStore {
            inner,
            fail: AtomicU64::new(0),
            conflict: AtomicU64::new(0),
            hang: AtomicU64::new(0),
            hang_for: Mutex::new(Duration::ZERO),
            deferred: Mutex::new(None),
            injected: AtomicU64::new(0),
            passed: AtomicU64::new(0),
        }
    }

    /// Arms a fault (replacing any armed one of the same kind).
    pub fn arm(&self, fault: StoreFault) {
        match fault {
            StoreFault::Fail(n) => self.fail.store(n, Ordering::SeqCst),
            StoreFault::Conflict(n) => self.conflict.store(n, Ordering::SeqCst),
            StoreFault::Hang(n, d) => {
                *self.hang_for.lock().unwrap_or_else(|p| p.into_inner()) = d;
                self.hang.store(n, Ordering::SeqCst);
            }
        }
    }

    /// Arms `fault` once `after_saves` more saves have gone through to the inner store (0: now).
    /// With 1 during a refresh, the save that takes the refresh lease succeeds and the fault hits
    /// the save that follows the refresh grant.
    pub fn arm_after_saves(&self, after_saves: u64, fault: StoreFault) {
        if after_saves == 0 {
            self.arm(fault);
        } else {
            *self.deferred.lock().unwrap_or_else(|p| p.into_inner()) = Some(Deferred { after_saves, fault });
        }
    }

    /// Disarms every fault.
    pub fn clear(&self) {
        self.fail.store(0, Ordering::SeqCst);
        self.conflict.store(0, Ordering::SeqCst);
        self.hang.store(0, Ordering::SeqCst);
        *self.deferred.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn take(counter: &AtomicU64) -> bool {
        counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
    }

    /// A save reached the inner store: count it toward a deferred fault.
    fn saved_through(&self) {
        let mut d = self.deferred.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(x) = d.as_mut() {
            x.after_saves -= 1;
            if x.after_saves == 0 {
                let fault = x.fault;
                *d = None;
                drop(d);
                self.arm(fault);
            }
        }
    }

    fn injected_failure(&self, op: &str) -> Option<Error> {
        if Self::take(&self.fail) {
            self.injected.fetch_add(1, Ordering::SeqCst);
            return Some(Error::store(format!("injected store failure on {op}")));
        }
        self.passed.fetch_add(1, Ordering::SeqCst);
        None
    }

    /// How long this call hangs first (zero: not at all).
    fn injected_hang(&self) -> Duration {
        if Self::take(&self.hang) {
            self.injected.fetch_add(1, Ordering::SeqCst);
            return *self.hang_for.lock().unwrap_or_else(|p| p.into_inner());
        }
        Duration::ZERO
    }
}

impl TokenStore for FaultyStore {
    fn load<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<Option<ConnectionDocument>, Error>> {
        if let Some(e) = self.injected_failure("load") {
            return async move { Err(e) }.boxed();
        }
        let hang = self.injected_hang();
        async move {
            if !hang.is_zero() {
                tokio::time::sleep(hang).await;
            }
            self.inner.load(key).await
        }
        .boxed()
    }

    fn save<'a>(
        &'a self,
        doc: &'a ConnectionDocument,
        expected_version: Option<u64>,
    ) -> BoxFuture<'a, Result<SaveOutcome, Error>> {
        if let Some(e) = self.injected_failure("save") {
            return async move { Err(e) }.boxed();
        }
        if Self::take(&self.conflict) {
            self.injected.fetch_add(1, Ordering::SeqCst);
            return async { Ok(SaveOutcome::Conflict) }.boxed();
        }
        let hang = self.injected_hang();
        async move {
            if !hang.is_zero() {
                tokio::time::sleep(hang).await;
            }
            let r = self.inner.save(doc, expected_version).await;
            self.saved_through();
            r
        }
        .boxed()
    }

    fn delete<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<bool, Error>> {
        if let Some(e) = self.injected_failure("delete") {
            return async move { Err(e) }.boxed();
        }
        let hang = self.injected_hang();
        async move {
            if !hang.is_zero() {
                tokio::time::sleep(hang).await;
            }
            self.inner.delete(key).await
        }
        .boxed()
    }
}

/// A [`TokenStore`] on PostgreSQL (same table shape and compare-and-swap as [`SqliteStore`]:
/// `UPDATE … WHERE version = $n`, `INSERT … ON CONFLICT DO NOTHING`), over one pipelined
/// `tokio-postgres` connection (no TLS: the test server is on loopback).
pub struct PgStore {
    client: tokio_postgres::Client,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects (`host=… port=… user=… dbname=…`) and creates the table if needed. Must be
    /// called inside a tokio runtime (the connection task is spawned on it).
    pub async fn connect(conninfo: &str) -> Result<PgStore, Error> {
        let (client, conn) = tokio_postgres::connect(conninfo, tokio_postgres::NoTls)
            .await
            .map_err(|e| store_err("PostgreSQL connect", e))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS sfcrm_connections (
                     account_id TEXT NOT NULL, owner TEXT NOT NULL, version BIGINT NOT NULL, doc TEXT NOT NULL,
                     PRIMARY KEY (account_id, owner))",
            )
            .await
            .map_err(|e| store_err("PostgreSQL create table", e))?;
        Ok(PgStore { client })
    }
}

impl TokenStore for PgStore {
    fn load<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<Option<ConnectionDocument>, Error>> {
        async move {
            let row = self
                .client
                .query_opt(
                    "SELECT doc FROM sfcrm_connections WHERE account_id = $1 AND owner = $2",
                    &[&key.account_id, &key.owner],
                )
                .await
                .map_err(|e| store_err("PostgreSQL load", e))?;
            row.map(|r| ConnectionDocument::from_json(r.get::<_, &str>(0))).transpose()
        }
        .boxed()
    }

    fn save<'a>(
        &'a self,
        doc: &'a ConnectionDocument,
        expected_version: Option<u64>,
    ) -> BoxFuture<'a, Result<SaveOutcome, Error>> {
        async move {
            let json = doc.to_json();
            let version = doc.version as i64;
            let n = match expected_version {
                None => {
                    self.client
                        .execute(
                            "INSERT INTO sfcrm_connections (account_id, owner, version, doc) VALUES ($1, $2, $3, $4)
                             ON CONFLICT (account_id, owner) DO NOTHING",
                            &[&doc.account_id, &doc.owner, &version, &json],
                        )
                        .await
                }
                Some(v) => {
                    let v = v as i64;
                    self.client
                        .execute(
                            "UPDATE sfcrm_connections SET version = $3, doc = $4
                             WHERE account_id = $1 AND owner = $2 AND version = $5",
                            &[&doc.account_id, &doc.owner, &version, &json, &v],
                        )
                        .await
                }
            }
            .map_err(|e| store_err("PostgreSQL save", e))?;
            Ok(if n == 1 { SaveOutcome::Saved } else { SaveOutcome::Conflict })
        }
        .boxed()
    }

    fn delete<'a>(&'a self, key: &'a ConnectionKey) -> BoxFuture<'a, Result<bool, Error>> {
        async move {
            let n = self
                .client
                .execute(
                    "DELETE FROM sfcrm_connections WHERE account_id = $1 AND owner = $2",
                    &[&key.account_id, &key.owner],
                )
                .await
                .map_err(|e| store_err("PostgreSQL delete", e))?;
            Ok(n > 0)
        }
        .boxed()
    }
}

/// Opens the store named by `spec`: `postgres:<conninfo>` → [`PgStore`], anything else is a
/// SQLite file path → [`SqliteStore`].
pub async fn open_store(spec: &str) -> Result<Arc<dyn TokenStore>, Error> {
    match spec.strip_prefix("postgres:") {
        Some(conninfo) => Ok(Arc::new(PgStore::connect(conninfo).await?)),
        None => Ok(Arc::new(SqliteStore::open(spec)?)),
    }
}
