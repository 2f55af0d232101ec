//! `NativeClient`: the core [`Client`] for JavaScript. Every operation is an `async fn` (a Promise)
//! run on napi's tokio runtime; results are plain objects (no secrets), errors go through
//! [`crate::error`].

use napi_derive::napi;
use sfcrm_core::client::{CallbackOutcome, CallbackParams, ConnectionInfo};
use sfcrm_core::export::{ExportFormat, PageRequest};
use sfcrm_core::Client;

use crate::config::NativeConfig;
use crate::error::IntoNapi;
use crate::export::{ExportCursor, ExportStreamOptions, NumOrText, limit_arg, page_arg};
use crate::store::{NativeStore, parse_key};

/// Result of `login`.
#[napi(object)]
pub struct LoginResult {
    /// Where to send the browser (302).
    pub url: String,
    /// True when a valid connection already existed (no OAuth flow started).
    pub already_connected: bool,
}

/// The callback's query parameters (each URL-decoded once by the host's router).
#[napi(object)]
pub struct CallbackInput {
    /// `code`.
    pub code: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// `error` (e.g. `access_denied` when the user clicked Deny).
    pub error: Option<String>,
    /// `error_description`.
    pub error_description: Option<String>,
}

/// A connection key as a plain object.
#[napi(object)]
pub struct KeyObject {
    /// The seed's `account_id`.
    pub account_id: String,
    /// The seed's `owner` (user id).
    pub owner: String,
}

/// Result of `callback`.
#[napi(object)]
pub struct CallbackResult {
    /// Where to send the browser (302).
    pub url: String,
    /// `success` or `error`.
    pub outcome: String,
    /// Why it failed (`outcome == "error"`), as put in the redirect's `reason=`.
    pub reason: Option<String>,
    /// The connection the state belonged to.
    pub key: Option<KeyObject>,
}

/// Result of `disconnect`.
#[napi(object)]
pub struct DisconnectResult {
    /// True when Salesforce confirmed the revoke.
    pub revoked: bool,
    /// Why the revoke failed (the connection is deleted anyway).
    pub revoke_error: Option<String>,
}

/// A stored connection without its secrets.
#[napi(object)]
pub struct ConnectionInfoObject {
    /// The seed's `account_id`.
    pub account_id: String,
    /// The seed's `owner`.
    pub owner: String,
    /// The org's API host.
    pub instance_url: String,
    /// When the access token was issued (ms since epoch, Salesforce's string).
    pub issued_at: String,
    /// Granted scopes.
    pub scope: Option<String>,
    /// Identity URL.
    pub id: Option<String>,
    /// Document version.
    pub version: i64,
    /// True once the refresh token is known dead (login starts over).
    pub token_invalidated: bool,
    /// True when a refresh token is stored.
    pub has_refresh_token: bool,
}

impl From<ConnectionInfo> for ConnectionInfoObject {
    fn from(i: ConnectionInfo) -> Self {
        ConnectionInfoObject {
            account_id: i.account_id,
            owner: i.owner,
            instance_url: i.instance_url,
            issued_at: i.issued_at,
            scope: i.scope,
            id: i.id,
            version: i.version as i64,
            token_invalidated: i.token_invalidated,
            has_refresh_token: i.has_refresh_token,
        }
    }
}

/// API usage from the last `Sforce-Limit-Info` header (daily requests used / limit).
#[napi(object)]
pub struct ApiUsageObject {
    /// Requests used in the rolling 24 h window.
    pub used: i64,
    /// The org's daily limit.
    pub limit: i64,
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
    /// POSTs to the token endpoint (code and refresh grants, every attempt).
    pub token_requests: i64,
    /// POSTs to the revoke endpoint.
    pub revoke_requests: i64,
    /// Attempts that retried an earlier failed attempt.
    pub retries: i64,
    /// Refresh-token grants sent.
    pub refreshes: i64,
}

/// Result of `exportToFile`.
#[napi(object)]
pub struct ExportFileSummary {
    /// Records written.
    pub records: i64,
    /// Salesforce query requests made.
    pub api_calls: i64,
    /// Resume token after the last record (incremental mode: carries the next `since`).
    pub checkpoint: String,
    /// The file written.
    pub path: String,
}

/// The SDK client (cheap to share; every method may run concurrently).
#[napi]
pub struct NativeClient {
    inner: Client,
}

#[napi]
impl NativeClient {
    /// A client over `config` and `store`.
    #[napi(constructor)]
    pub fn new(config: &NativeConfig, store: &NativeStore) -> napi::Result<Self> {
        Ok(NativeClient { inner: Client::new(config.inner.clone(), store.inner.clone()).napi()? })
    }

    /// The seed's getLogin: the authorize URL, or the success redirect when already connected.
    #[napi]
    pub async fn login(&self, account_id: String, owner: String, forward_url: Option<String>) -> napi::Result<LoginResult> {
        let key = parse_key(account_id, owner)?;
        let r = self.inner.login(&key, forward_url.as_deref()).await.napi()?;
        Ok(LoginResult { url: r.url, already_connected: r.already_connected })
    }

    /// The seed's callback: verifies the state, exchanges the code, stores the connection.
    #[napi]
    pub async fn callback(&self, params: CallbackInput) -> napi::Result<CallbackResult> {
        let p = CallbackParams {
            code: params.code,
            state: params.state,
            error: params.error,
            error_description: params.error_description,
        };
        let r = self.inner.callback(&p).await.napi()?;
        let (outcome, reason) = match r.outcome {
            CallbackOutcome::Success => ("success".to_string(), None),
            CallbackOutcome::Error { reason } => ("error".to_string(), Some(reason)),
        };
        Ok(CallbackResult {
            url: r.url,
            outcome,
            reason,
            key: r.key.map(|k| KeyObject { account_id: k.account_id, owner: k.owner }),
        })
    }

    /// Revokes at Salesforce, then deletes the stored connection.
    #[napi]
    pub async fn disconnect(&self, account_id: String, owner: String) -> napi::Result<DisconnectResult> {
        let key = parse_key(account_id, owner)?;
        let r = self.inner.disconnect(&key).await.napi()?;
        Ok(DisconnectResult { revoked: r.revoked, revoke_error: r.revoke_error })
    }

    /// Refreshes the access token now (single flight in-process and across processes).
    #[napi]
    pub async fn refresh(&self, account_id: String, owner: String) -> napi::Result<ConnectionInfoObject> {
        let key = parse_key(account_id, owner)?;
        Ok(self.inner.refresh(&key).await.napi()?.into())
    }

    /// The stored connection without secrets, or null.
    #[napi]
    pub async fn connection_info(&self, account_id: String, owner: String) -> napi::Result<Option<ConnectionInfoObject>> {
        let key = parse_key(account_id, owner)?;
        Ok(self.inner.connection_info(&key).await.napi()?.map(Into::into))
    }

    /// One page in the seed's JSON body, as JSON text. `page` and `limit` take numbers or
    /// query-string text with the seed's `parseInt` semantics.
    #[napi]
    pub async fn export_page(
        &self,
        account_id: String,
        owner: String,
        spec: crate::export::ExportSpecInput,
        #[napi(ts_arg_type = "number | string | null")] page: Option<NumOrText>,
        #[napi(ts_arg_type = "number | string | null")] limit: Option<NumOrText>,
        lossless: Option<bool>,
    ) -> napi::Result<String> {
        // D13: the type is checked before the key and before any request.
        let spec = spec.to_spec().napi()?;
        let key = parse_key(account_id, owner)?;
        let req = PageRequest { page: page_arg(page).napi()?, limit: limit_arg(limit).napi()? };
        let page = self.inner.export_page(&key, &spec, req).await.napi()?;
        let mut body = page.to_seed_json();
        if lossless.unwrap_or(false)
            && let Some(data) = body.get_mut("data")
        {
            crate::export::numbers_to_strings(data);
        }
        Ok(body.to_string())
    }

    /// Starts a streaming export (requests start with the first `nextBatch()`).
    #[napi]
    pub fn export_stream(&self, account_id: String, owner: String, options: ExportStreamOptions) -> napi::Result<ExportCursor> {
        let key = parse_key(account_id, owner)?;
        let request = options.to_request().napi()?;
        Ok(ExportCursor::new(self.inner.export_stream(&key, request)))
    }

    /// Streams an export into `path` (`csv`, `ndjson` or `json`), written atomically.
    #[napi]
    pub async fn export_to_file(
        &self,
        account_id: String,
        owner: String,
        options: ExportStreamOptions,
        path: String,
        format: String,
    ) -> napi::Result<ExportFileSummary> {
        let key = parse_key(account_id, owner)?;
        let request = options.to_request().napi()?;
        let format = ExportFormat::parse(&format).napi()?;
        let s = self.inner.export_to_path(&key, request, format, &path, None).await.napi()?;
        Ok(ExportFileSummary {
            records: s.records as i64,
            api_calls: s.api_calls as i64,
            checkpoint: s.checkpoint.to_token(),
            path,
        })
    }

    /// Authenticated GET of any JSON resource: a path relative to the stored `instance_url`
    /// (`/services/data/v48.0/query?q=SELECT+Id+FROM+Contact`, sent as given: the caller
    /// percent-encodes) or an absolute URL on an allowed instance host (core
    /// `Client::api_get_json`). Resolves the body as JSON text (`null` for a 204); with `lossless`
    /// every number is its exact decimal text as a string. One refresh and one retry on a 401.
    /// Errors as every call: `not_connected`, `session_expired` (a second 401), `api` (status,
    /// Salesforce's `errorCode`, raw body), `rate_limited`, `invalid_argument` (an empty path, a
    /// host outside the allow-list), ...
    #[napi]
    pub async fn api_get(&self, account_id: String, owner: String, path: String, lossless: Option<bool>) -> napi::Result<String> {
        let key = parse_key(account_id, owner)?;
        let mut body = self.inner.api_get_json(&key, &path).await.napi()?;
        if lossless.unwrap_or(false) {
            crate::export::numbers_to_strings(&mut body);
        }
        Ok(body.to_string())
    }

    /// The last `Sforce-Limit-Info` seen, or null.
    #[napi]
    pub fn api_usage(&self) -> Option<ApiUsageObject> {
        self.inner.api_usage().map(|u| ApiUsageObject { used: u.used as i64, limit: u.limit as i64 })
    }

    /// Request counters since this client was created.
    #[napi]
    pub fn api_calls(&self) -> ApiCallsObject {
        let c = self.inner.api_calls();
        ApiCallsObject {
            api_requests: c.api_requests as i64,
            query: c.query as i64,
            query_more: c.query_more as i64,
            other_api: c.other_api as i64,
            token_requests: c.token_requests as i64,
            revoke_requests: c.revoke_requests as i64,
            retries: c.retries as i64,
            refreshes: c.refreshes as i64,
        }
    }
}
