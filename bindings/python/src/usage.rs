//! API usage for Python: the org's quota from `Sforce-Limit-Info` ([`sfcrm_core::ApiUsage`]) and
//! the client's request counters ([`sfcrm_core::ApiCallCounts`]), as `sfcrm.ApiUsage` /
//! `sfcrm.ApiCalls` (`Client.api_usage()`, `Client.api_calls()`, and `api_usage` on errors, set in
//! `error.rs`).

use pyo3::prelude::*;
use pyo3::types::PyDict;

/// API usage parsed from `Sforce-Limit-Info` (`api-usage=used/limit`) [salesforce-api.md §5].
#[pyclass(module = "sfcrm._native", name = "ApiUsage", frozen, get_all)]
#[derive(Clone)]
pub struct ApiUsage {
    /// API requests used in the org's rolling 24 h window.
    pub used: u64,
    /// The org's daily API request limit.
    pub limit: u64,
    /// `api-bursts=used/limit` as a tuple, when sent.
    pub bursts: Option<(u64, u64)>,
    /// The header value as received.
    pub raw: String,
}

impl From<&sfcrm_core::ApiUsage> for ApiUsage {
    fn from(u: &sfcrm_core::ApiUsage) -> Self {
        ApiUsage { used: u.used, limit: u.limit, bursts: u.bursts, raw: u.raw.clone() }
    }
}

#[pymethods]
impl ApiUsage {
    /// Requests left in the window (`limit - used`, never negative).
    #[getter]
    fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }
    fn __repr__(&self) -> String {
        format!("ApiUsage(used={}, limit={})", self.used, self.limit)
    }
}

/// Request counters of one client since it was created ([`sfcrm_core::ApiCallCounts`]).
#[pyclass(module = "sfcrm._native", name = "ApiCalls", frozen, get_all)]
#[derive(Clone)]
pub struct ApiCalls {
    /// Requests to the instance (every attempt, retries included): what the daily API quota counts.
    pub api_requests: u64,
    /// Of which `query` / `queryAll` requests.
    pub query: u64,
    /// Of which `nextRecordsUrl` (query locator) requests.
    pub query_more: u64,
    /// Of which other API requests.
    pub other_api: u64,
    /// Of which describe requests (a cached describe makes none).
    pub describe: u64,
    /// Of which Bulk API 2.0 query jobs created (`POST …/jobs/query`).
    pub bulk_create: u64,
    /// Of which Bulk job polls (`GET …/jobs/query/{id}`).
    pub bulk_poll: u64,
    /// Of which Bulk result pages and `resultPages` lists.
    pub bulk_results: u64,
    /// Of which Bulk job aborts.
    pub bulk_abort: u64,
    /// Of which Bulk job deletes.
    pub bulk_delete: u64,
    /// POSTs to `/services/oauth2/token` (code and refresh grants, every attempt).
    pub token_requests: u64,
    /// POSTs to `/services/oauth2/revoke`.
    pub revoke_requests: u64,
    /// Attempts that were retries of an earlier failed attempt.
    pub retries: u64,
    /// Refresh-token grants sent (a subset of `token_requests`).
    pub refreshes: u64,
}

impl From<sfcrm_core::ApiCallCounts> for ApiCalls {
    fn from(c: sfcrm_core::ApiCallCounts) -> Self {
        ApiCalls {
            api_requests: c.api_requests,
            query: c.query,
            query_more: c.query_more,
            other_api: c.other_api,
            describe: c.describe,
            bulk_create: c.bulk_create,
            bulk_poll: c.bulk_poll,
            bulk_results: c.bulk_results,
            bulk_abort: c.bulk_abort,
            bulk_delete: c.bulk_delete,
            token_requests: c.token_requests,
            revoke_requests: c.revoke_requests,
            retries: c.retries,
            refreshes: c.refreshes,
        }
    }
}

#[pymethods]
impl ApiCalls {
    /// The counters as a dict (subtract two snapshots to cost one operation).
    fn as_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("api_requests", self.api_requests)?;
        d.set_item("query", self.query)?;
        d.set_item("query_more", self.query_more)?;
        d.set_item("other_api", self.other_api)?;
        d.set_item("describe", self.describe)?;
        d.set_item("bulk_create", self.bulk_create)?;
        d.set_item("bulk_poll", self.bulk_poll)?;
        d.set_item("bulk_results", self.bulk_results)?;
        d.set_item("bulk_abort", self.bulk_abort)?;
        d.set_item("bulk_delete", self.bulk_delete)?;
        d.set_item("token_requests", self.token_requests)?;
        d.set_item("revoke_requests", self.revoke_requests)?;
        d.set_item("retries", self.retries)?;
        d.set_item("refreshes", self.refreshes)?;
        Ok(d)
    }
    fn __repr__(&self) -> String {
        format!(
            "ApiCalls(api_requests={}, query={}, query_more={}, other_api={}, describe={}, bulk_create={}, bulk_poll={}, bulk_results={}, bulk_abort={}, bulk_delete={}, token_requests={}, revoke_requests={}, retries={}, refreshes={})",
            self.api_requests, self.query, self.query_more, self.other_api, self.describe, self.bulk_create, self.bulk_poll, self.bulk_results, self.bulk_abort, self.bulk_delete, self.token_requests,
            self.revoke_requests, self.retries, self.refreshes
        )
    }
}
