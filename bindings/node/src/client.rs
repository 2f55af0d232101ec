//! `NativeClient`: the core [`Client`] for JavaScript. Every operation is an `async fn` (a Promise)
//! run on napi's tokio runtime; results are plain objects (no secrets), errors go through
//! [`crate::error`].

use napi::Env;
use napi_derive::napi;
use sfcrm_core::export::{ExportFormat, PageRequest};
use sfcrm_core::{CallbackOutcome, CallbackParams, Client, ConnectionInfo, Error};

use crate::config::NativeConfig;
use crate::error::{IntoJs, Settled};
use crate::export::{ExportCursor, ExportStreamOptions, NumOrText, limit_arg, page_arg};
use crate::rawjson::numbers_to_strings;
use crate::store::{NativeStore, key};
use crate::usage::{ApiCallsObject, ApiUsageObject};

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

/// A connection key as a plain object, spelled as every input spells it: `{ account_id, owner }`
/// (issue 16; `lib/index.js` adds `accountId`, the old spelling, as a deprecated alias).
#[napi(object)]
pub struct KeyObject {
    /// The seed's `account_id`.
    #[napi(js_name = "account_id")]
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

/// Result of `exportToFile`.
#[napi(object)]
pub struct ExportFileSummary {
    /// Records written.
    pub records: i64,
    /// Salesforce query requests made.
    pub api_calls: i64,
    /// Resume token after the last record: resumes this export if it stopped (not the next
    /// incremental run's start: that is `watermark`).
    pub checkpoint: String,
    /// The file written.
    pub path: String,
    /// Incremental exports: the next run's `watermark`; null for a full export (and a query).
    pub watermark: Option<String>,
    /// Records `totalSize` announced that were deleted during the export (0 normally).
    pub missing: i64,
}

/// The SDK client (cheap to share; every method may run concurrently).
#[napi]
pub struct NativeClient {
    pub(crate) inner: Client,
}

#[napi]
impl NativeClient {
    /// A client over `config` and `store`.
    #[napi(constructor)]
    pub fn new(env: Env, config: &NativeConfig, store: &NativeStore) -> napi::Result<Self> {
        Ok(NativeClient { inner: Client::new(config.inner.clone(), store.inner.clone()).js(&env)? })
    }

    /// The seed's getLogin: the authorize URL, or the success redirect when already connected.
    #[napi(ts_return_type = "Promise<LoginResult>")]
    pub async fn login(&self, account_id: String, owner: String, forward_url: Option<String>) -> Settled<LoginResult> {
        let login = async {
            let r = self.inner.login(&key(account_id, owner)?, forward_url.as_deref()).await?;
            Ok(LoginResult { url: r.url, already_connected: r.already_connected })
        };
        Settled(login.await)
    }

    /// The seed's callback: verifies the state, exchanges the code, stores the connection.
    #[napi(ts_return_type = "Promise<CallbackResult>")]
    pub async fn callback(&self, params: CallbackInput) -> Settled<CallbackResult> {
        let p = CallbackParams {
            code: params.code,
            state: params.state,
            error: params.error,
            error_description: params.error_description,
        };
        Settled(self.inner.callback(&p).await.map(|r| {
            let (outcome, reason) = match r.outcome {
                CallbackOutcome::Success => ("success".to_string(), None),
                CallbackOutcome::Error { reason } => ("error".to_string(), Some(reason)),
            };
            CallbackResult {
                url: r.url,
                outcome,
                reason,
                key: r.key.map(|k| KeyObject { account_id: k.account_id, owner: k.owner }),
            }
        }))
    }

    /// Revokes at Salesforce, then deletes the stored connection.
    #[napi(ts_return_type = "Promise<DisconnectResult>")]
    pub async fn disconnect(&self, account_id: String, owner: String) -> Settled<DisconnectResult> {
        let disconnect = async {
            let r = self.inner.disconnect(&key(account_id, owner)?).await?;
            Ok(DisconnectResult { revoked: r.revoked, revoke_error: r.revoke_error })
        };
        Settled(disconnect.await)
    }

    /// Refreshes the access token now (single flight in-process and across processes).
    #[napi(ts_return_type = "Promise<ConnectionInfoObject>")]
    pub async fn refresh(&self, account_id: String, owner: String) -> Settled<ConnectionInfoObject> {
        let refresh = async { Ok(self.inner.refresh(&key(account_id, owner)?).await?.into()) };
        Settled(refresh.await)
    }

    /// The stored connection without secrets, or null.
    #[napi(ts_return_type = "Promise<ConnectionInfoObject | null>")]
    pub async fn connection_info(&self, account_id: String, owner: String) -> Settled<Option<ConnectionInfoObject>> {
        let info = async { Ok(self.inner.connection_info(&key(account_id, owner)?).await?.map(Into::into)) };
        Settled(info.await)
    }

    /// One page in the seed's JSON body, as JSON text. `page` and `limit` take numbers or
    /// query-string text with the seed's `parseInt` semantics.
    #[napi(ts_return_type = "Promise<string>")]
    pub async fn export_page(
        &self,
        account_id: String,
        owner: String,
        spec: crate::export::ExportSpecInput,
        #[napi(ts_arg_type = "number | string | null")] page: Option<NumOrText>,
        #[napi(ts_arg_type = "number | string | null")] limit: Option<NumOrText>,
        lossless: Option<bool>,
    ) -> Settled<String> {
        let export_page = async {
            // D13: the type is checked before the key and before any request.
            let spec = spec.to_spec()?;
            let key = key(account_id, owner)?;
            let req = PageRequest { page: page_arg(page)?, limit: limit_arg(limit)? };
            let page = self.inner.export_page(&key, &spec, req).await?;
            let mut body = page.to_seed_json();
            if lossless.unwrap_or(false)
                && let Some(data) = body.get_mut("data")
            {
                numbers_to_strings(data);
            }
            Ok(body.to_string())
        };
        Settled(export_page.await)
    }

    /// Starts a streaming export (requests start with the first `nextBatch()`).
    #[napi]
    pub fn export_stream(&self, env: Env, account_id: String, owner: String, options: ExportStreamOptions) -> napi::Result<ExportCursor> {
        let key = key(account_id, owner).js(&env)?;
        let request = options.to_request().js(&env)?;
        Ok(ExportCursor::new(self.inner.export_stream(&key, request)))
    }

    /// Streams an export into `path` (`csv`, `ndjson` or `json`), written atomically.
    #[napi(ts_return_type = "Promise<ExportFileSummary>")]
    pub async fn export_to_file(
        &self,
        account_id: String,
        owner: String,
        options: ExportStreamOptions,
        path: String,
        format: String,
    ) -> Settled<ExportFileSummary> {
        let export = async {
            let key = key(account_id, owner)?;
            let request = options.to_request()?;
            let format = ExportFormat::parse(&format)?;
            let s = self.inner.export_to_path(&key, request, format, &path, None).await?;
            Ok::<_, Error>(ExportFileSummary {
                records: s.records as i64,
                api_calls: s.api_calls as i64,
                checkpoint: s.checkpoint.to_token(),
                path: path.clone(),
                watermark: s.watermark.map(|w| w.to_token()),
                missing: s.missing as i64,
            })
        };
        Settled(export.await)
    }

    /// Authenticated GET of any JSON resource: a path relative to the stored `instance_url`
    /// (`/services/data/v48.0/query?q=SELECT+Id+FROM+Contact`, sent as given: the caller
    /// percent-encodes) or an absolute URL on an allowed instance host (core
    /// `Client::api_get_json`). Resolves the body as JSON text (`null` for a 204); with `lossless`
    /// every number is its exact decimal text as a string. One refresh and one retry on a 401.
    /// Errors as every call: `not_connected`, `session_expired` (a second 401), `api` (status,
    /// Salesforce's `errorCode`, raw body), `rate_limited`, `invalid_argument` (an empty path, a
    /// host outside the allow-list), ...
    #[napi(ts_return_type = "Promise<string>")]
    pub async fn api_get(&self, account_id: String, owner: String, path: String, lossless: Option<bool>) -> Settled<String> {
        let get = async {
            let mut body = self.inner.api_get_json(&key(account_id, owner)?, &path).await?;
            if lossless.unwrap_or(false) {
                numbers_to_strings(&mut body);
            }
            Ok(body.to_string())
        };
        Settled(get.await)
    }

    /// The last `Sforce-Limit-Info` seen, or null.
    #[napi]
    pub fn api_usage(&self) -> Option<ApiUsageObject> {
        self.inner.api_usage().as_ref().map(ApiUsageObject::from)
    }

    /// Request counters since this client was created.
    #[napi]
    pub fn api_calls(&self) -> ApiCallsObject {
        self.inner.api_calls().into()
    }
}
