//! `sfcrm.Client`: the core [`sfcrm_core::Client`] with blocking methods that release the GIL.

use std::path::PathBuf;

use pyo3::prelude::*;
use sfcrm_core as core;
use sfcrm_core::export::ExportFormat;

use crate::config::Config;
use crate::error::IntoPyResult;
use crate::export::{ExportArgs, ExportSummary, Filter};
use crate::export_cursor::ExportIterator;
use crate::query::QueryArgs;
use crate::store::key;
use crate::usage::{ApiCalls, ApiUsage};
use crate::{rawjson, runtime};

/// Result of `Client.login`: where to send the user's browser.
#[pyclass(module = "sfcrm._native", name = "LoginRedirect", frozen, get_all)]
pub struct LoginRedirect {
    /// The Salesforce authorize URL, or the forward URL with `status=success&integration=salesforce`
    /// when the connection already exists.
    pub url: String,
    /// True when a valid connection already existed (no OAuth flow started).
    pub already_connected: bool,
}

#[pymethods]
impl LoginRedirect {
    fn __repr__(&self) -> String {
        format!("LoginRedirect(already_connected={})", if self.already_connected { "True" } else { "False" })
    }
}

/// Result of `Client.callback`: where to send the user's browser, and how the flow ended.
#[pyclass(module = "sfcrm._native", name = "CallbackResult", frozen, get_all)]
pub struct CallbackResult {
    /// The forward URL with `status=success|error&integration=salesforce[&reason=...]`.
    pub url: String,
    /// True when the connection is stored.
    pub success: bool,
    /// Why it failed (Salesforce's `error_description`, "Authentication not initiated", ...).
    pub reason: Option<String>,
    /// The connection's `account_id` (from the verified state).
    pub account_id: Option<String>,
    /// The connection's `owner` (from the verified state).
    pub owner: Option<String>,
}

/// An optional string as Python's `repr` shows it: `None` or a quoted string (not Rust's `Some("…")`).
fn py_optional_str(value: &Option<String>) -> String {
    match value {
        Some(v) => format!("{v:?}"),
        None => "None".to_owned(),
    }
}

#[pymethods]
impl CallbackResult {
    fn __repr__(&self) -> String {
        format!("CallbackResult(success={}, reason={})", if self.success { "True" } else { "False" }, py_optional_str(&self.reason))
    }
}

/// Result of `Client.disconnect`.
#[pyclass(module = "sfcrm._native", name = "Disconnected", frozen, get_all)]
pub struct Disconnected {
    /// True when Salesforce confirmed the token revoke.
    pub revoked: bool,
    /// Why the revoke failed (the stored connection is deleted anyway).
    pub revoke_error: Option<String>,
}

#[pymethods]
impl Disconnected {
    fn __repr__(&self) -> String {
        format!("Disconnected(revoked={}, revoke_error={})", if self.revoked { "True" } else { "False" }, py_optional_str(&self.revoke_error))
    }
}

/// A stored connection, without its secrets.
#[pyclass(module = "sfcrm._native", name = "ConnectionInfo", frozen, get_all)]
pub struct ConnectionInfo {
    /// The seed's `account_id`.
    pub account_id: String,
    /// The seed's `owner` (user id).
    pub owner: String,
    /// The org's API host from the token response.
    pub instance_url: String,
    /// When the access token was issued (ms since epoch, as Salesforce's string).
    pub issued_at: String,
    /// Granted scopes, space separated.
    pub scope: Option<String>,
    /// Identity URL.
    pub id: Option<String>,
    /// Document version (compare-and-swap counter).
    pub version: u64,
    /// True once the refresh token is known dead (the next login starts over).
    pub token_invalidated: bool,
    /// True when a refresh token is stored.
    pub has_refresh_token: bool,
}

impl From<core::ConnectionInfo> for ConnectionInfo {
    fn from(c: core::ConnectionInfo) -> Self {
        ConnectionInfo {
            account_id: c.account_id,
            owner: c.owner,
            instance_url: c.instance_url,
            issued_at: c.issued_at,
            scope: c.scope,
            id: c.id,
            version: c.version,
            token_invalidated: c.token_invalidated,
            has_refresh_token: c.has_refresh_token,
        }
    }
}

#[pymethods]
impl ConnectionInfo {
    fn __repr__(&self) -> String {
        format!(
            "ConnectionInfo(account_id={:?}, owner={:?}, instance_url={:?}, version={})",
            self.account_id, self.owner, self.instance_url, self.version
        )
    }
}

/// Connects users' Salesforce orgs (OAuth 2.0 web-server flow with PKCE) and exports their CRM
/// data. Every method blocks the calling thread with the GIL released; one client may be used from
/// many threads at once (it is cheap to share, and clones share connections and counters).
#[pyclass(module = "sfcrm._native", name = "Client", frozen)]
pub struct Client {
    pub(crate) inner: core::Client,
}

/// Runs a core future for a Python caller (GIL released, Ctrl-C honoured within ~50 ms; on an
/// interrupt the operation finishes in the background so the store stays consistent).
fn run<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: std::future::Future<Output = Result<T, sfcrm_core::Error>> + Send + 'static,
    T: Send + 'static,
{
    runtime::wait(py, fut)?.py_err()
}

#[pymethods]
impl Client {
    /// A client for `config`, keeping connections in `store`: a `MemoryStore` (default), a
    /// `FileStore`, or any object with `load`/`save`/`delete` (see `sfcrm.store.TokenStore`).
    #[new]
    #[pyo3(signature = (config, store=None))]
    fn new(config: &Config, store: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let store = crate::store::from_py(store)?;
        let _guard = runtime::runtime().enter();
        let inner = core::Client::new(config.inner.clone(), store).py_err()?;
        Ok(Client { inner })
    }

    /// Starts (or short-cuts) the OAuth flow for (account_id, owner): the seed's
    /// `GET /auth/login?forward_url=...`. Raises `MissingForwardUrl`, `ForwardUrlNotAllowed`,
    /// `StoreError`.
    #[pyo3(signature = (account_id, owner, forward_url=None))]
    fn login(&self, py: Python<'_>, account_id: &str, owner: &str, forward_url: Option<String>) -> PyResult<LoginRedirect> {
        let k = key(account_id, owner)?;
        let c = self.inner.clone();
        let r = run(py, async move { c.login(&k, forward_url.as_deref()).await })?;
        Ok(LoginRedirect { url: r.url, already_connected: r.already_connected })
    }

    /// Completes the OAuth flow with the callback's query parameters (each URL-decoded once).
    /// Raises `InvalidState` when the state does not verify (the seed's "Invalid State"); a
    /// refused authorization or code exchange is a `CallbackResult` with `success=False`.
    #[pyo3(signature = (code=None, state=None, error=None, error_description=None))]
    fn callback(
        &self,
        py: Python<'_>,
        code: Option<String>,
        state: Option<String>,
        error: Option<String>,
        error_description: Option<String>,
    ) -> PyResult<CallbackResult> {
        let params = core::CallbackParams { code, state, error, error_description };
        let c = self.inner.clone();
        let r = run(py, async move { c.callback(&params).await })?;
        let (success, reason) = match r.outcome {
            core::CallbackOutcome::Success => (true, None),
            core::CallbackOutcome::Error { reason } => (false, Some(reason)),
        };
        Ok(CallbackResult {
            url: r.url,
            success,
            reason,
            account_id: r.key.as_ref().map(|k| k.account_id.clone()),
            owner: r.key.map(|k| k.owner),
        })
    }

    /// Revokes the connection's token at Salesforce, then deletes it from the store. Raises
    /// `NotConnected` when there is none.
    fn disconnect(&self, py: Python<'_>, account_id: &str, owner: &str) -> PyResult<Disconnected> {
        let k = key(account_id, owner)?;
        let c = self.inner.clone();
        let r = run(py, async move { c.disconnect(&k).await })?;
        Ok(Disconnected { revoked: r.revoked, revoke_error: r.revoke_error })
    }

    /// Refreshes the access token now (coordinated with other threads and processes sharing the
    /// store). Raises `NotConnected`, `ReconnectRequired` (refresh token dead), `OAuthError`, ...
    fn refresh(&self, py: Python<'_>, account_id: &str, owner: &str) -> PyResult<ConnectionInfo> {
        let k = key(account_id, owner)?;
        let c = self.inner.clone();
        Ok(run(py, async move { c.refresh(&k).await })?.into())
    }

    /// The stored connection without secrets, or None.
    fn connection_info(&self, py: Python<'_>, account_id: &str, owner: &str) -> PyResult<Option<ConnectionInfo>> {
        let k = key(account_id, owner)?;
        let c = self.inner.clone();
        Ok(run(py, async move { c.connection_info(&k).await })?.map(Into::into))
    }

    /// Authenticated GET of a REST path (`/services/data/v48.0/limits`) or absolute instance URL;
    /// the parsed JSON body. One refresh and one retry on an expired session.
    #[pyo3(signature = (account_id, owner, path, *, lossless=false))]
    fn api_get<'py>(&self, py: Python<'py>, account_id: &str, owner: &str, path: String, lossless: bool) -> PyResult<Bound<'py, PyAny>> {
        let k = key(account_id, owner)?;
        let c = self.inner.clone();
        let v = run(py, async move { c.api_get_json(&k, &path).await })?;
        rawjson::value(py, &v, lossless)
    }

    /// The last `Sforce-Limit-Info` usage seen on any response, or None.
    fn api_usage(&self) -> Option<ApiUsage> {
        self.inner.api_usage().as_ref().map(ApiUsage::from)
    }

    /// Request counters since this client was created.
    fn api_calls(&self) -> ApiCalls {
        self.inner.api_calls().into()
    }

    /// One page in the seed's JSON body: `{"success": True, "message": "SUCCESS", "data": [...],
    /// "pagination": {...}}` (`GET /export/:type?page=&limit=`). `page` and `limit` may be ints or
    /// the query-string text (JavaScript `parseInt` semantics, as in Node): pages below 1 mean 1;
    /// `limit` None, 0 or text without digits = all. A negative `limit` or a bool for either is
    /// `InvalidArgumentError`. `fields`, `where` and `params` as for `export`. Raises
    /// `UnknownExportType` (no request made), `NotConnected`, `ApiError`, ...
    #[pyo3(signature = (account_id, owner, r#type, page=None, limit=None, *, fields=None, lossless=false, r#where=None, params=None))]
    #[allow(clippy::too_many_arguments)]
    fn export_page<'py>(
        &self,
        py: Python<'py>,
        account_id: &str,
        owner: &str,
        r#type: &str,
        page: Option<&Bound<'py, PyAny>>,
        limit: Option<&Bound<'py, PyAny>>,
        fields: Option<&Bound<'py, PyAny>>,
        lossless: bool,
        r#where: Option<String>,
        params: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let k = key(account_id, owner)?;
        let spec = crate::export::filtered_spec(r#type, crate::export::fields_arg(fields)?, r#where, params)?;
        let page = crate::export::page_arg("page", page)?.page().py_err()?;
        let limit = crate::export::page_arg("limit", limit)?.limit().py_err()?;
        let c = self.inner.clone();
        let p = run(py, async move { c.export_page(&k, &spec, core::export::PageRequest { page, limit }).await })?;
        rawjson::value(py, &p.to_seed_json(), lossless)
    }

    /// Streams every record of `type` (`contacts`, `deals`, `notes`, or any sObject with
    /// `fields`) as a lazy iterator of dicts (Salesforce's key order, `attributes` included).
    ///
    /// - `since`: incremental mode, only records with `SystemModstamp >= since`: a timezone-aware
    ///   `datetime`, or text (`2024-01-01T00:00:00Z` or Salesforce's `2024-01-01T00:00:00.000+0000`).
    ///   The first run of an incremental sync; later runs pass `watermark`.
    /// - `watermark`: the previous incremental run's `ExportIterator.watermark` /
    ///   `ExportSummary.watermark` token: reads from it minus a 600 s lookback and skips what was
    ///   delivered, so every change arrives exactly once (also rows committed late). Not with
    ///   `since`; a checkpoint token is refused here (`InvalidArgumentError`).
    /// - `checkpoint`: resume after a token from `ExportIterator.checkpoint`.
    /// - `progress`: called as `progress(Progress)` after each batch, on the iterating thread.
    /// - `lossless`: numbers become `decimal.Decimal` built from Salesforce's exact digits.
    /// - `include_deleted`: `queryAll` (soft-deleted and archived rows).
    /// - `batch_size`: requested batch size (200..2000; Salesforce may send fewer).
    /// - `fields`: a list of field paths, or `"*"` for every field of the sObject (expanded from
    ///   describe by the core; compound fields follow the core's rule; a wide object's SELECT is
    ///   split into several queries joined by Id when one would exceed the URI limit).
    /// - `where`: one SOQL condition (`"Industry = :industry AND CreatedDate = LAST_N_DAYS:30"`)
    ///   with `params` filling its `:name` placeholders (as for `query`); `since` still applies
    ///   (both conditions hold).
    ///
    /// - `mode`: `"rest"` (default) or `"bulk"`: a Bulk API 2.0 query job (a few calls for
    ///   millions of records, result pages downloaded in parallel; records in no particular
    ///   order). A query Bulk refuses, a failed job or an incremental export is read with REST
    ///   instead: `fallback_reason` says why. `progress` adds the job's `job_state` and
    ///   `records_processed` [bulk-and-parallel.md §1].
    /// - `bulk`: the job's options, a dict (`sfcrm.BulkOptions`): `max_records`, `concurrency`,
    ///   `delete_job`, `fallback_to_rest`, `poll_timeout`.
    ///
    /// Nothing is requested until the first record is pulled.
    #[pyo3(signature = (account_id, owner, r#type, fields=None, since=None, checkpoint=None, progress=None, lossless=false, *, include_deleted=false, batch_size=None, r#where=None, params=None, watermark=None, mode="rest", bulk=None))]
    #[allow(clippy::too_many_arguments)]
    fn export(
        &self,
        account_id: &str,
        owner: &str,
        r#type: &str,
        fields: Option<&Bound<'_, PyAny>>,
        since: Option<&Bound<'_, PyAny>>,
        checkpoint: Option<String>,
        progress: Option<Py<PyAny>>,
        lossless: bool,
        include_deleted: bool,
        batch_size: Option<u32>,
        r#where: Option<String>,
        params: Option<&Bound<'_, PyAny>>,
        watermark: Option<String>,
        mode: &str,
        bulk: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ExportIterator> {
        let since = crate::params::since_arg(since)?;
        let args = ExportArgs::new(account_id, owner, r#type, fields, Filter { r#where, params }, since, checkpoint, include_deleted, batch_size)?
            .with_watermark(watermark)
            .with_bulk(mode, bulk)?;
        ExportIterator::start(&self.inner, args, lossless, progress)
    }

    /// Writes the whole export to a CSV file natively (RFC 4180, header of field paths such as
    /// `Account.Name`, CRLF, null as an empty field). The file appears only when complete (written
    /// beside `path`, then renamed). Same options as `export`; returns an `ExportSummary`.
    #[pyo3(signature = (account_id, owner, r#type, path, fields=None, since=None, checkpoint=None, progress=None, *, include_deleted=false, batch_size=None, r#where=None, params=None, watermark=None, mode="rest", bulk=None))]
    #[allow(clippy::too_many_arguments)]
    fn export_to_csv(
        &self,
        py: Python<'_>,
        account_id: &str,
        owner: &str,
        r#type: &str,
        path: PathBuf,
        fields: Option<&Bound<'_, PyAny>>,
        since: Option<&Bound<'_, PyAny>>,
        checkpoint: Option<String>,
        progress: Option<Py<PyAny>>,
        include_deleted: bool,
        batch_size: Option<u32>,
        r#where: Option<String>,
        params: Option<&Bound<'_, PyAny>>,
        watermark: Option<String>,
        mode: &str,
        bulk: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ExportSummary> {
        let since = crate::params::since_arg(since)?;
        let args = ExportArgs::new(account_id, owner, r#type, fields, Filter { r#where, params }, since, checkpoint, include_deleted, batch_size)?
            .with_watermark(watermark)
            .with_bulk(mode, bulk)?;
        crate::export_file::to_file(py, &self.inner, args, ExportFormat::Csv, path, progress)
    }

    /// Writes the whole export as newline-delimited JSON (one record object per line, `attributes`
    /// dropped, numbers with Salesforce's exact digits), natively. Otherwise as `export_to_csv`
    /// (the same implementation with another format).
    #[pyo3(signature = (account_id, owner, r#type, path, fields=None, since=None, checkpoint=None, progress=None, *, include_deleted=false, batch_size=None, r#where=None, params=None, watermark=None, mode="rest", bulk=None))]
    #[allow(clippy::too_many_arguments)]
    fn export_to_ndjson(
        &self,
        py: Python<'_>,
        account_id: &str,
        owner: &str,
        r#type: &str,
        path: PathBuf,
        fields: Option<&Bound<'_, PyAny>>,
        since: Option<&Bound<'_, PyAny>>,
        checkpoint: Option<String>,
        progress: Option<Py<PyAny>>,
        include_deleted: bool,
        batch_size: Option<u32>,
        r#where: Option<String>,
        params: Option<&Bound<'_, PyAny>>,
        watermark: Option<String>,
        mode: &str,
        bulk: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ExportSummary> {
        let since = crate::params::since_arg(since)?;
        let args = ExportArgs::new(account_id, owner, r#type, fields, Filter { r#where, params }, since, checkpoint, include_deleted, batch_size)?
            .with_watermark(watermark)
            .with_bulk(mode, bulk)?;
        crate::export_file::to_file(py, &self.inner, args, ExportFormat::Ndjson, path, progress)
    }

    /// Runs a SOQL SELECT and streams its records as a lazy iterator of dicts (the same
    /// `ExportIterator` exports return: `checkpoint`, `progress`, `next_batch`, `cancel`, `close`),
    /// following `nextRecordsUrl` to the end.
    ///
    /// - `params`: bind values for `:name` placeholders (`WHERE Name = :name AND Id IN :ids`),
    ///   a dict of None, bool, int, float, Decimal, str, date, aware datetime, or list/tuple/set;
    ///   a missing or unused name is `InvalidArgumentError` before any request.
    /// - `all_rows`: `queryAll` (deleted and archived rows too).
    /// - `batch_size`: requested page size (200..2000; Salesforce may send fewer).
    /// - `checkpoint`: resume after a token from `checkpoint` of a run of the same query.
    /// - `children`: `"complete"` (each parent with all its child rows, child cursors fetched and
    ///   counted) or `"as_sent"` (child results as Salesforce sent them).
    /// - `progress`, `lossless`: as for `export`.
    /// - `mode`, `bulk`: as for `export` (a child subquery makes Bulk refuse: REST reads it).
    ///
    /// Nothing is requested until the first record is pulled. A Python value that cannot be bound
    /// raises `InvalidArgumentError` at once; the first `next()` raises the rest before any
    /// request (a missing or unused placeholder, a checkpoint of another query), then Salesforce's
    /// errors: bad SOQL is `ApiError` with its `error_code` (`MALFORMED_QUERY`, `INVALID_FIELD`,
    /// `INVALID_TYPE`, ...), `status` and message.
    #[pyo3(signature = (account_id, owner, soql, params=None, *, all_rows=false, batch_size=None, checkpoint=None, children="complete", progress=None, lossless=false, mode="rest", bulk=None))]
    #[allow(clippy::too_many_arguments)]
    fn query(
        &self,
        account_id: &str,
        owner: &str,
        soql: String,
        params: Option<&Bound<'_, PyAny>>,
        all_rows: bool,
        batch_size: Option<u32>,
        checkpoint: Option<String>,
        children: &str,
        progress: Option<Py<PyAny>>,
        lossless: bool,
        mode: &str,
        bulk: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ExportIterator> {
        let args = QueryArgs::new(account_id, owner, soql, params, all_rows, batch_size, checkpoint, children, mode, bulk)?;
        Ok(args.iterate(&self.inner, lossless, progress))
    }

    /// The query's only record as a dict, or None when it matches nothing; a query that matches
    /// several records raises `InvalidArgumentError` (add `LIMIT 1` or narrow the WHERE). Same
    /// `params` as `query`; child cursors are completed.
    #[pyo3(signature = (account_id, owner, soql, params=None, *, lossless=false))]
    fn query_one<'py>(
        &self,
        py: Python<'py>,
        account_id: &str,
        owner: &str,
        soql: String,
        params: Option<&Bound<'py, PyAny>>,
        lossless: bool,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let k = key(account_id, owner)?;
        let params = crate::params::from_py(params)?;
        crate::query::query_one(py, &self.inner, k, soql, params, lossless)
    }

    /// Writes a query's records to a CSV file natively (columns from the SELECT list: field
    /// paths such as `Account.Name`; a compound value or child result is its JSON text in one
    /// cell). The file appears only when complete. Same options as `query`.
    #[pyo3(signature = (account_id, owner, soql, path, params=None, *, all_rows=false, batch_size=None, checkpoint=None, children="complete", progress=None, mode="rest", bulk=None))]
    #[allow(clippy::too_many_arguments)]
    fn query_to_csv(
        &self,
        py: Python<'_>,
        account_id: &str,
        owner: &str,
        soql: String,
        path: PathBuf,
        params: Option<&Bound<'_, PyAny>>,
        all_rows: bool,
        batch_size: Option<u32>,
        checkpoint: Option<String>,
        children: &str,
        progress: Option<Py<PyAny>>,
        mode: &str,
        bulk: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ExportSummary> {
        let args = QueryArgs::new(account_id, owner, soql, params, all_rows, batch_size, checkpoint, children, mode, bulk)?;
        args.to_file(py, &self.inner, ExportFormat::Csv, path, progress)
    }

    /// Writes a query's records as newline-delimited JSON natively (one record per line,
    /// `attributes` dropped, Salesforce's exact digits). Otherwise as `query_to_csv`.
    #[pyo3(signature = (account_id, owner, soql, path, params=None, *, all_rows=false, batch_size=None, checkpoint=None, children="complete", progress=None, mode="rest", bulk=None))]
    #[allow(clippy::too_many_arguments)]
    fn query_to_ndjson(
        &self,
        py: Python<'_>,
        account_id: &str,
        owner: &str,
        soql: String,
        path: PathBuf,
        params: Option<&Bound<'_, PyAny>>,
        all_rows: bool,
        batch_size: Option<u32>,
        checkpoint: Option<String>,
        children: &str,
        progress: Option<Py<PyAny>>,
        mode: &str,
        bulk: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ExportSummary> {
        let args = QueryArgs::new(account_id, owner, soql, params, all_rows, batch_size, checkpoint, children, mode, bulk)?;
        args.to_file(py, &self.inner, ExportFormat::Ndjson, path, progress)
    }

    /// Salesforce's describe of `sobject` (`/sobjects/{sobject}/describe`) as a dict, exactly as
    /// received: `name`, `label`, `fields` (each with `name`, `type`, `label`, `nillable`,
    /// `length`, `precision`, `scale`, `relationshipName`, `referenceTo`, `compoundFieldName`, ...),
    /// `childRelationships`, ... Cached per client for `Config(describe_cache_ttl=)` (an API call
    /// only when not cached). Raises `InvalidIdentifier` for a malformed name, `ApiError`
    /// (`NOT_FOUND`) for an unknown sObject.
    fn describe<'py>(&self, py: Python<'py>, account_id: &str, owner: &str, sobject: String) -> PyResult<Bound<'py, PyAny>> {
        let k = key(account_id, owner)?;
        crate::describe::describe(py, &self.inner, k, sobject)
    }

    /// Salesforce's describeGlobal (`/sobjects`) as a dict: `encoding`, `maxBatchSize`, `sobjects`
    /// (each with `name`, `label`, `custom`, `queryable`, ...). Cached like `describe`.
    fn describe_global<'py>(&self, py: Python<'py>, account_id: &str, owner: &str) -> PyResult<Bound<'py, PyAny>> {
        let k = key(account_id, owner)?;
        crate::describe::describe_global(py, &self.inner, k)
    }

    /// Forgets every cached describe result (the next `describe` asks Salesforce again).
    fn clear_describe_cache(&self) {
        self.inner.clear_describe_cache();
    }

    fn __repr__(&self) -> String {
        format!("Client(login_url={:?}, client_id={:?})", self.inner.config().login_url(), self.inner.config().client_id())
    }
}
