//! What the org's API quota sees: `Sforce-Limit-Info` ([`ApiUsage`]) and this client's request
//! counters ([`ApiCallCounts`]).
//!
//! Depends on nothing else in the crate: the transport feeds it (one `UsageMeter` per
//! [`crate::Client`]), errors carry an [`ApiUsage`], and the client reads both back.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// One per-app usage entry of `Sforce-Limit-Info` (`per-app-api-usage=17/250(appName=x)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerAppUsage {
    /// The connected app name.
    pub app_name: String,
    /// Requests used.
    pub used: u64,
    /// The app's limit.
    pub limit: u64,
}

/// API usage parsed from `Sforce-Limit-Info: api-usage=10018/100000` (daily used / limit),
/// possibly followed by `; api-bursts=1/750` and `per-app-api-usage=17/250(appName=…)`
/// [salesforce-api.md §5].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiUsage {
    /// API requests used in the rolling 24 h window.
    pub used: u64,
    /// The org's daily API request limit.
    pub limit: u64,
    /// `api-bursts=used/limit`, when sent.
    pub bursts: Option<(u64, u64)>,
    /// `per-app-api-usage` entries, when sent (old pilot orgs).
    pub per_app: Vec<PerAppUsage>,
    /// The header value as received.
    pub raw: String,
}

impl ApiUsage {
    /// Parses a `Sforce-Limit-Info` value; `None` when it holds no `api-usage=used/limit`.
    pub fn parse(header: &str) -> Option<ApiUsage> {
        let mut usage: Option<(u64, u64)> = None;
        let mut bursts = None;
        let mut per_app = Vec::new();
        for item in header.split([';', ',']) {
            let item = item.trim();
            let Some((name, value)) = item.split_once('=') else {
                continue;
            };
            let name = name.trim().to_ascii_lowercase();
            let value = value.trim();
            match name.as_str() {
                "api-usage" => usage = parse_pair(value),
                "api-bursts" => bursts = parse_pair(value),
                "per-app-api-usage" => {
                    let (pair, app) = match value.split_once('(') {
                        Some((p, rest)) => {
                            let inner = rest.trim_end_matches(')');
                            let app = inner.strip_prefix("appName=").unwrap_or(inner);
                            (p, app.to_owned())
                        }
                        None => (value, String::new()),
                    };
                    if let Some((used, limit)) = parse_pair(pair) {
                        per_app.push(PerAppUsage {
                            app_name: app,
                            used,
                            limit,
                        });
                    }
                }
                _ => {}
            }
        }
        let (used, limit) = usage?;
        Some(ApiUsage {
            used,
            limit,
            bursts,
            per_app,
            raw: header.to_owned(),
        })
    }
}

fn parse_pair(v: &str) -> Option<(u64, u64)> {
    let (a, b) = v.split_once('/')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

/// Counts of HTTP requests made by one [`crate::Client`] (and its clones) since it was created.
/// Read with [`crate::Client::api_calls`]; subtract two snapshots to cost one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApiCallCounts {
    /// Requests to the instance (every attempt, retries included): what the org's daily API quota counts.
    pub api_requests: u64,
    /// Of which `query` / `queryAll` requests.
    pub query: u64,
    /// Of which `nextRecordsUrl` (query locator) requests.
    pub query_more: u64,
    /// Of which other API requests.
    pub other_api: u64,
    /// Of which describe requests (`/sobjects`, `/sobjects/X/describe`; a cached describe makes none).
    pub describe: u64,
    /// Of which `POST …/jobs/query`: Bulk API 2.0 query jobs created [bulk-and-parallel.md §1.1].
    pub bulk_create: u64,
    /// Of which `GET …/jobs/query/{id}`: Bulk job polls [bulk-and-parallel.md §1.1].
    pub bulk_poll: u64,
    /// Of which `GET …/jobs/query/{id}/results` and `…/resultPages`: Bulk result pages and page lists [bulk-and-parallel.md §1.1].
    pub bulk_results: u64,
    /// Of which `PATCH …/jobs/query/{id}` `{"state":"Aborted"}` [bulk-and-parallel.md §1.1].
    pub bulk_abort: u64,
    /// Of which `DELETE …/jobs/query/{id}` [bulk-and-parallel.md §1.1].
    pub bulk_delete: u64,
    /// POSTs to `/services/oauth2/token` (code and refresh grants, every attempt).
    pub token_requests: u64,
    /// POSTs to `/services/oauth2/revoke`.
    pub revoke_requests: u64,
    /// Transport retries (any endpoint): attempts repeated by the retry policy after a connection
    /// failure, a 5xx or a cut-off body. The one repeat of an API call after a 401 and a token
    /// refresh is not one of them: it shows in `refreshes` and `api_requests`.
    pub retries: u64,
    /// Refresh-token grants sent (a subset of `token_requests`).
    pub refreshes: u64,
}

impl std::ops::Sub for ApiCallCounts {
    type Output = ApiCallCounts;
    fn sub(self, o: ApiCallCounts) -> ApiCallCounts {
        ApiCallCounts {
            api_requests: self.api_requests.saturating_sub(o.api_requests),
            query: self.query.saturating_sub(o.query),
            query_more: self.query_more.saturating_sub(o.query_more),
            other_api: self.other_api.saturating_sub(o.other_api),
            describe: self.describe.saturating_sub(o.describe),
            bulk_create: self.bulk_create.saturating_sub(o.bulk_create),
            bulk_poll: self.bulk_poll.saturating_sub(o.bulk_poll),
            bulk_results: self.bulk_results.saturating_sub(o.bulk_results),
            bulk_abort: self.bulk_abort.saturating_sub(o.bulk_abort),
            bulk_delete: self.bulk_delete.saturating_sub(o.bulk_delete),
            token_requests: self.token_requests.saturating_sub(o.token_requests),
            revoke_requests: self.revoke_requests.saturating_sub(o.revoke_requests),
            retries: self.retries.saturating_sub(o.retries),
            refreshes: self.refreshes.saturating_sub(o.refreshes),
        }
    }
}

/// What a request is, for counting and for its retry rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallKind {
    /// `GET …/query` or `…/queryAll`.
    Query,
    /// `GET nextRecordsUrl`.
    QueryMore,
    /// Any other API request to the instance.
    OtherApi,
    /// `GET …/sobjects` or `…/sobjects/X/describe`.
    Describe,
    /// `POST …/jobs/query`: Bulk API 2.0 query jobs created.
    BulkCreate,
    /// `GET …/jobs/query/{id}`: Bulk job polls.
    BulkPoll,
    /// `GET …/jobs/query/{id}/results` and `…/resultPages`: Bulk result pages and page lists.
    BulkResults,
    /// `PATCH …/jobs/query/{id}` `{"state":"Aborted"}`.
    BulkAbort,
    /// `DELETE …/jobs/query/{id}`.
    BulkDelete,
    /// `POST /services/oauth2/token` with the authorization_code grant.
    TokenCode,
    /// `POST /services/oauth2/token` with the refresh_token grant.
    TokenRefresh,
    /// `POST /services/oauth2/revoke`.
    Revoke,
}

/// The counters behind [`ApiCallCounts`] and the last [`ApiUsage`] seen, shared by every call
/// of one client (lock-free counts; the last usage behind a mutex).
#[derive(Debug, Default)]
pub(crate) struct UsageMeter {
    api_requests: AtomicU64,
    query: AtomicU64,
    query_more: AtomicU64,
    other_api: AtomicU64,
    describe: AtomicU64,
    bulk_create: AtomicU64,
    bulk_poll: AtomicU64,
    bulk_results: AtomicU64,
    bulk_abort: AtomicU64,
    bulk_delete: AtomicU64,
    token_requests: AtomicU64,
    revoke_requests: AtomicU64,
    retries: AtomicU64,
    refreshes: AtomicU64,
    last_usage: Mutex<Option<ApiUsage>>,
}

impl UsageMeter {
    /// A snapshot of the request counters.
    pub(crate) fn calls(&self) -> ApiCallCounts {
        ApiCallCounts {
            api_requests: self.api_requests.load(Ordering::Relaxed),
            query: self.query.load(Ordering::Relaxed),
            query_more: self.query_more.load(Ordering::Relaxed),
            other_api: self.other_api.load(Ordering::Relaxed),
            describe: self.describe.load(Ordering::Relaxed),
            bulk_create: self.bulk_create.load(Ordering::Relaxed),
            bulk_poll: self.bulk_poll.load(Ordering::Relaxed),
            bulk_results: self.bulk_results.load(Ordering::Relaxed),
            bulk_abort: self.bulk_abort.load(Ordering::Relaxed),
            bulk_delete: self.bulk_delete.load(Ordering::Relaxed),
            token_requests: self.token_requests.load(Ordering::Relaxed),
            revoke_requests: self.revoke_requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            refreshes: self.refreshes.load(Ordering::Relaxed),
        }
    }

    /// Counts one request of `kind` about to be sent (`retry`: it repeats a failed attempt).
    pub(crate) fn count(&self, kind: CallKind, retry: bool) {
        if retry {
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
        let (total, of_which) = match kind {
            CallKind::Query => (&self.api_requests, Some(&self.query)),
            CallKind::QueryMore => (&self.api_requests, Some(&self.query_more)),
            CallKind::OtherApi => (&self.api_requests, Some(&self.other_api)),
            CallKind::Describe => (&self.api_requests, Some(&self.describe)),
            CallKind::BulkCreate => (&self.api_requests, Some(&self.bulk_create)),
            CallKind::BulkPoll => (&self.api_requests, Some(&self.bulk_poll)),
            CallKind::BulkResults => (&self.api_requests, Some(&self.bulk_results)),
            CallKind::BulkAbort => (&self.api_requests, Some(&self.bulk_abort)),
            CallKind::BulkDelete => (&self.api_requests, Some(&self.bulk_delete)),
            CallKind::TokenCode => (&self.token_requests, None),
            CallKind::TokenRefresh => (&self.token_requests, Some(&self.refreshes)),
            CallKind::Revoke => (&self.revoke_requests, None),
        };
        total.fetch_add(1, Ordering::Relaxed);
        if let Some(c) = of_which {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Parses a response's `Sforce-Limit-Info` value (if any) and remembers it as the last seen.
    pub(crate) fn note_limit_info(&self, header: Option<&str>) -> Option<ApiUsage> {
        let usage = header.and_then(ApiUsage::parse);
        if let Some(u) = &usage
            && let Ok(mut g) = self.last_usage.lock()
        {
            *g = Some(u.clone());
        }
        usage
    }

    /// The last `Sforce-Limit-Info` seen on any response.
    pub(crate) fn last_usage(&self) -> Option<ApiUsage> {
        self.last_usage.lock().map(|g| g.clone()).unwrap_or(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_info_variants() {
        let u = ApiUsage::parse("api-usage=10018/100000").unwrap();
        assert_eq!((u.used, u.limit, u.bursts), (10018, 100000, None));
        let u = ApiUsage::parse("api-usage=25/5000; api-bursts=1/750").unwrap();
        assert_eq!(u.bursts, Some((1, 750)));
        let u = ApiUsage::parse("api-usage=25/5000; per-app-api-usage=17/250(appName=sample-app)")
            .unwrap();
        assert_eq!(
            u.per_app,
            vec![PerAppUsage {
                app_name: "sample-app".into(),
                used: 17,
                limit: 250
            }]
        );
        assert!(ApiUsage::parse("garbage").is_none());
        assert!(ApiUsage::parse("api-usage=x/y").is_none());
    }

    #[test]
    fn meter_counts_each_kind_and_keeps_the_last_usage() {
        let m = UsageMeter::default();
        for (kind, retry) in [
            (CallKind::Query, false),
            (CallKind::Query, true),
            (CallKind::QueryMore, false),
            (CallKind::OtherApi, false),
            (CallKind::Describe, false),
            (CallKind::BulkCreate, false),
            (CallKind::BulkPoll, false),
            (CallKind::BulkResults, false),
            (CallKind::BulkAbort, false),
            (CallKind::BulkDelete, false),
            (CallKind::TokenCode, false),
            (CallKind::TokenRefresh, true),
            (CallKind::Revoke, false),
        ] {
            m.count(kind, retry);
        }
        let want = ApiCallCounts {
            api_requests: 10,
            query: 2,
            query_more: 1,
            other_api: 1,
            describe: 1,
            bulk_create: 1,
            bulk_poll: 1,
            bulk_results: 1,
            bulk_abort: 1,
            bulk_delete: 1,
            token_requests: 2,
            revoke_requests: 1,
            retries: 2,
            refreshes: 1,
        };
        assert_eq!(m.calls(), want);
        assert_eq!(m.calls() - want, ApiCallCounts::default());
        assert_eq!(m.note_limit_info(None), None);
        assert_eq!(m.note_limit_info(Some("nonsense")), None);
        assert_eq!(m.last_usage(), None);
        let u = m.note_limit_info(Some("api-usage=3/100")).unwrap();
        assert_eq!((u.used, u.limit), (3, 100));
        m.note_limit_info(Some("nonsense"));
        assert_eq!(m.last_usage(), Some(u), "an unparsable header keeps the last usage");
    }
}
