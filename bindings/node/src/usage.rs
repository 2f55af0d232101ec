//! API usage for JavaScript: the org's quota from `Sforce-Limit-Info` ([`sfcrm_core::ApiUsage`])
//! and the client's request counters ([`sfcrm_core::ApiCallCounts`]), as plain objects
//! (`client.apiUsage()`, `client.apiCalls()`, and `apiUsage` on errors, built in `error.rs`).
//!
//! Counts are JavaScript numbers (exact up to 2^53, far beyond any daily quota).

use napi_derive::napi;
use sfcrm_core::{ApiCallCounts, ApiUsage};

/// API usage from the last `Sforce-Limit-Info` header (daily requests used / limit)
/// [salesforce-api.md §5].
#[napi(object)]
pub struct ApiUsageObject {
    /// Requests used in the rolling 24 h window.
    pub used: i64,
    /// The org's daily limit.
    pub limit: i64,
}

impl From<&ApiUsage> for ApiUsageObject {
    fn from(u: &ApiUsage) -> Self {
        ApiUsageObject { used: u.used as i64, limit: u.limit as i64 }
    }
}

/// Counters of the HTTP requests the client made since it was created.
#[napi(object)]
pub struct ApiCallsObject {
    /// Requests to the instance (every attempt): what the org's daily API quota counts.
    pub api_requests: i64,
    /// Of which `query` / `queryAll`.
    pub query: i64,
    /// Of which `nextRecordsUrl` (query locator) follow-ups.
    pub query_more: i64,
    /// Of which other API requests.
    pub other_api: i64,
    /// Of which describe requests (a cached describe makes none).
    pub describe: i64,
    /// Of which Bulk API 2.0 query jobs created (`POST …/jobs/query`).
    pub bulk_create: i64,
    /// Of which Bulk job polls (`GET …/jobs/query/{id}`).
    pub bulk_poll: i64,
    /// Of which Bulk result pages and `resultPages` lists.
    pub bulk_results: i64,
    /// Of which Bulk job aborts.
    pub bulk_abort: i64,
    /// Of which Bulk job deletes.
    pub bulk_delete: i64,
    /// POSTs to the token endpoint (code and refresh grants, every attempt).
    pub token_requests: i64,
    /// POSTs to the revoke endpoint.
    pub revoke_requests: i64,
    /// Attempts that retried an earlier failed attempt.
    pub retries: i64,
    /// Refresh-token grants sent.
    pub refreshes: i64,
}

impl From<ApiCallCounts> for ApiCallsObject {
    fn from(c: ApiCallCounts) -> Self {
        ApiCallsObject {
            api_requests: c.api_requests as i64,
            query: c.query as i64,
            query_more: c.query_more as i64,
            other_api: c.other_api as i64,
            describe: c.describe as i64,
            bulk_create: c.bulk_create as i64,
            bulk_poll: c.bulk_poll as i64,
            bulk_results: c.bulk_results as i64,
            bulk_abort: c.bulk_abort as i64,
            bulk_delete: c.bulk_delete as i64,
            token_requests: c.token_requests as i64,
            revoke_requests: c.revoke_requests as i64,
            retries: c.retries as i64,
            refreshes: c.refreshes as i64,
        }
    }
}
