//! `sfcrm_client`: login, callback, disconnect, refresh, connection info, API usage and counts, and
//! authenticated GET of any JSON resource (`sfcrm_client_api_get`).
//!
//! Every call here blocks the calling thread while the operation runs on the client's runtime
//! (see `runtime.rs`): store callbacks run on `sfcrm-worker` threads meanwhile.

use std::ffi::c_char;
use std::sync::Arc;

use sfcrm_core::client::{CallbackOutcome, CallbackParams, ConnectionInfo};
use sfcrm_core::{Client, ConnectionKey};

use crate::config::sfcrm_config;
use crate::error::{FfiError, sfcrm_error};
use crate::ptr::{self, Handle};
use crate::result::sfcrm_result;
use crate::runtime::Rt;
use crate::store::sfcrm_store;

/// An SDK client: one connected app configuration plus a token store, serving any number of
/// connections (each named by `account_id` + `owner`, the host's account and user ids).
///
/// Owns an internal runtime with two worker threads named `sfcrm-worker`; every blocking call
/// runs its work there, so callbacks never run on the calling thread.
///
/// Thread safety: fully thread-safe: any number of threads may call any client function at
/// once (the SDK coordinates token refreshes per connection itself). Do not call client
/// functions from inside SDK callbacks (`SFCRM_RESULT_REENTRANT`).
pub struct sfcrm_client {
    _private: [u8; 0],
}

/// The data behind an `sfcrm_client *`. Field order matters: the core client (and its
/// connection pool) is dropped before the runtime.
pub(crate) struct ClientData {
    pub(crate) client: Client,
    pub(crate) rt: Rt,
}

impl Handle for sfcrm_client {
    type Inner = ClientData;
    const C_NAME: &'static str = "sfcrm_client";
}

/// The (account_id, owner) key from two required strings, checked by the core's one rule
/// (`ConnectionKey::parse`: `SFCRM_RESULT_INVALID_ARGUMENT` when either is empty or only
/// whitespace; kept as given). Used by every client and store function.
pub(crate) fn key_arg(
    account_id: *const c_char,
    owner: *const c_char,
) -> Result<ConnectionKey, FfiError> {
    let account_id = ptr::str_arg(account_id, "account_id")?;
    let owner = ptr::str_arg(owner, "owner")?;
    Ok(ConnectionKey::parse(account_id, owner)?)
}

/// Creates a client from a config (validated and copied) and a store (the client keeps its own
/// reference, so the store handle may be freed right after). `SFCRM_RESULT_CONFIG` names the first
/// missing or malformed setting.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_client_new(
    config: *const sfcrm_config,
    store: *const sfcrm_store,
    out: *mut *mut sfcrm_client,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let config = ptr::handle(config, "config")?;
        let store = ptr::handle(store, "store")?;
        let out = ptr::out(out, "out")?;
        crate::runtime::check_not_reentrant()?;
        let config = config.build()?;
        let rt = Rt::new()?;
        // Client::new builds the HTTP client; do it inside the runtime so nothing it creates
        // outlives or misses a reactor.
        let store = Arc::clone(&*store);
        let client = rt.block_on(async move { Ok(Client::new(config, store)?) })?;
        out.write(ptr::new_handle::<sfcrm_client>(ClientData { client, rt }));
        Ok(())
    })
}

/// Frees a client: its runtime is shut down (waiting for its threads), open export cursors keep
/// working until freed (they hold their own reference). NULL or an already-freed client is a
/// no-op. Must not be called from an SDK callback.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_client_free(client: *mut sfcrm_client) {
    ffi_boundary! { ptr::free_handle(client); }
}

/// Starts (or short-cuts) a connection: the seed's `getLogin`.
///
/// `forward_url` is where the user returns after the callback; its origin must be allowed by
/// `SFCRM_FORWARD_ORIGINS` (`SFCRM_RESULT_FORWARD_URL_NOT_ALLOWED`; NULL gives
/// `SFCRM_RESULT_MISSING_FORWARD_URL`). On success `*url` receives the URL to redirect the browser
/// to (owned, free with `sfcrm_string_free`): the Salesforce authorize URL (signed `state`, PKCE
/// S256), or, when a valid connection already exists, the forward URL with
/// `status=success&integration=salesforce` and `*already_connected` true. Blocking.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_client_login(
    client: *const sfcrm_client,
    account_id: *const c_char,
    owner: *const c_char,
    forward_url: *const c_char,
    url: *mut *mut c_char,
    already_connected: *mut bool,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let c = ptr::handle(client, "client")?;
        let key = key_arg(account_id, owner)?;
        let forward = ptr::opt_str_arg(forward_url, "forward_url")?;
        let (url, already) = (
            ptr::out(url, "url")?,
            ptr::out(already_connected, "already_connected")?,
        );
        let core = c.client.clone();
        let r =
            c.rt.block_on(async move { Ok(core.login(&key, forward.as_deref()).await?) })?;
        url.write(ptr::give_string(&r.url).0);
        already.write(r.already_connected);
        Ok(())
    })
}

/// Result of `sfcrm_client_callback`. Owned strings: release them with
/// `sfcrm_callback_result_clear`.
#[repr(C)]
pub struct sfcrm_callback_result {
    /// Where to redirect the browser (the forward URL with `status=success` or
    /// `status=error&reason=...`). Never NULL after success.
    pub redirect_url: *mut c_char,
    /// True when the connection was stored.
    pub success: bool,
    /// The connection the state belonged to (NULL when unknown).
    pub account_id: *mut c_char,
    /// The connection's owner (NULL when unknown).
    pub owner: *mut c_char,
    /// Why the connection failed (`access_denied`, Salesforce's `error_description`, ...); NULL on
    /// success.
    pub error_reason: *mut c_char,
}

/// Completes a connection: the seed's OAuth callback. Pass the callback's query parameters as
/// received (each URL-decoded once; NULL when absent): `code`, `state`, `error`,
/// `error_description`.
///
/// The signed `state` is verified first: a missing, tampered or expired state is
/// `SFCRM_RESULT_INVALID_STATE` (the seed's "Invalid State"). Otherwise the result is OK and
/// `*out` tells success (tokens stored through the store's compare-and-swap) or failure (user
/// denied access, no code, token endpoint refused) with the redirect to send. Blocking.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_client_callback(
    client: *const sfcrm_client,
    code: *const c_char,
    state: *const c_char,
    error_param: *const c_char,
    error_description: *const c_char,
    out: *mut sfcrm_callback_result,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let c = ptr::handle(client, "client")?;
        let params = CallbackParams {
            code: ptr::opt_str_arg(code, "code")?,
            state: ptr::opt_str_arg(state, "state")?,
            error: ptr::opt_str_arg(error_param, "error_param")?,
            error_description: ptr::opt_str_arg(error_description, "error_description")?,
        };
        let out = ptr::out(out, "out")?;
        let core = c.client.clone();
        let r =
            c.rt.block_on(async move { Ok(core.callback(&params).await?) })?;
        let give = |s: &str| ptr::give_string(s).0;
        let (success, reason) = match &r.outcome {
            CallbackOutcome::Success => (true, std::ptr::null_mut()),
            CallbackOutcome::Error { reason } => (false, give(reason)),
        };
        out.write(sfcrm_callback_result {
            redirect_url: give(&r.url),
            success,
            account_id: r
                .key
                .as_ref()
                .map_or(std::ptr::null_mut(), |k| give(&k.account_id)),
            owner: r
                .key
                .as_ref()
                .map_or(std::ptr::null_mut(), |k| give(&k.owner)),
            error_reason: reason,
        });
        Ok(())
    })
}

/// Frees the strings of a callback result and sets them to NULL (the struct itself is the
/// caller's). NULL is a no-op; clearing twice is harmless.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_callback_result_clear(result: *mut sfcrm_callback_result) {
    ffi_boundary! {
        if let Some(r) = ptr::opt_mut(result) {
            for p in [&mut r.redirect_url, &mut r.account_id, &mut r.owner, &mut r.error_reason] {
                ptr::free_string(*p);
                *p = std::ptr::null_mut();
            }
            r.success = false;
        }
    }
}

/// Disconnects: revokes the refresh token at Salesforce (the seed never did), then deletes the
/// stored document whatever the revoke said. `*revoked` tells whether Salesforce confirmed the
/// revoke; `*revoke_error` (optional: pass NULL if not wanted) receives why it failed (owned) or
/// NULL. `SFCRM_RESULT_NOT_CONNECTED` when nothing is stored. Blocking.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_client_disconnect(
    client: *const sfcrm_client,
    account_id: *const c_char,
    owner: *const c_char,
    revoked: *mut bool,
    revoke_error: *mut *mut c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let c = ptr::handle(client, "client")?;
        let key = key_arg(account_id, owner)?;
        let revoked = ptr::out(revoked, "revoked")?;
        let revoke_error = ptr::opt_out(revoke_error);
        let core = c.client.clone();
        let d =
            c.rt.block_on(async move { Ok(core.disconnect(&key).await?) })?;
        revoked.write(d.revoked);
        if let Some(o) = revoke_error {
            o.write(
                d.revoke_error
                    .as_deref()
                    .map_or(std::ptr::null_mut(), |e| ptr::give_string(e).0),
            );
        }
        Ok(())
    })
}

/// A stored connection without its secrets. Owned strings: release them with
/// `sfcrm_connection_info_clear`.
#[repr(C)]
pub struct sfcrm_connection_info {
    /// The host's account id.
    pub account_id: *mut c_char,
    /// The host's user id.
    pub owner: *mut c_char,
    /// The org's API host (from the token response; never hard-coded).
    pub instance_url: *mut c_char,
    /// When the access token was issued: milliseconds since the Unix epoch, as Salesforce's string.
    pub issued_at: *mut c_char,
    /// Granted scopes, space separated, or NULL.
    pub scope: *mut c_char,
    /// Identity URL, or NULL.
    pub id: *mut c_char,
    /// Document version (increases by one on every save).
    pub version: u64,
    /// True once the refresh token is known dead (login again).
    pub token_invalidated: bool,
    /// True when a refresh token is stored.
    pub has_refresh_token: bool,
}

fn info_to_c(i: &ConnectionInfo) -> sfcrm_connection_info {
    let give = |s: &str| ptr::give_string(s).0;
    let give_opt = |s: &Option<String>| {
        s.as_deref()
            .map_or(std::ptr::null_mut(), |s| ptr::give_string(s).0)
    };
    sfcrm_connection_info {
        account_id: give(&i.account_id),
        owner: give(&i.owner),
        instance_url: give(&i.instance_url),
        issued_at: give(&i.issued_at),
        scope: give_opt(&i.scope),
        id: give_opt(&i.id),
        version: i.version,
        token_invalidated: i.token_invalidated,
        has_refresh_token: i.has_refresh_token,
    }
}

/// Frees the strings of a connection info and sets them to NULL. NULL is a no-op; clearing twice
/// is harmless.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_connection_info_clear(info: *mut sfcrm_connection_info) {
    ffi_boundary! {
        if let Some(i) = ptr::opt_mut(info) {
            for p in [&mut i.account_id, &mut i.owner, &mut i.instance_url, &mut i.issued_at, &mut i.scope, &mut i.id] {
                ptr::free_string(*p);
                *p = std::ptr::null_mut();
            }
        }
    }
}

/// Refreshes the access token now (with the same single-flight coordination as after a 401,
/// across threads and processes sharing the store) and writes the refreshed connection to `*out`.
/// Errors: `SFCRM_RESULT_NOT_CONNECTED`, `SFCRM_RESULT_RECONNECT_REQUIRED` (refresh token dead),
/// `SFCRM_RESULT_SESSION_EXPIRED` (no refresh token), network and store errors. Blocking.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_client_refresh(
    client: *const sfcrm_client,
    account_id: *const c_char,
    owner: *const c_char,
    out: *mut sfcrm_connection_info,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let c = ptr::handle(client, "client")?;
        let key = key_arg(account_id, owner)?;
        let out = ptr::out(out, "out")?;
        let core = c.client.clone();
        let info =
            c.rt.block_on(async move { Ok(core.refresh(&key).await?) })?;
        out.write(info_to_c(&info));
        Ok(())
    })
}

/// The stored connection of (`account_id`, `owner`) without secrets: `*found` false (and `*out`
/// untouched) when there is none. Blocking (reads the store).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_client_connection_info(
    client: *const sfcrm_client,
    account_id: *const c_char,
    owner: *const c_char,
    found: *mut bool,
    out: *mut sfcrm_connection_info,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let c = ptr::handle(client, "client")?;
        let key = key_arg(account_id, owner)?;
        let (found, out) = (ptr::out(found, "found")?, ptr::out(out, "out")?);
        let core = c.client.clone();
        let info =
            c.rt.block_on(async move { Ok(core.connection_info(&key).await?) })?;
        found.write(info.is_some());
        if let Some(i) = info {
            out.write(info_to_c(&i));
        }
        Ok(())
    })
}

/// The last API usage this client saw in a `Sforce-Limit-Info: api-usage=<used>/<limit>` header
/// (requests in the org's rolling 24 h window) [salesforce-api.md §5]. `*known` is false (and
/// `*used` / `*limit` untouched) before any response carried one. Non-blocking.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_client_api_usage(
    client: *const sfcrm_client,
    known: *mut bool,
    used: *mut u64,
    limit: *mut u64,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let c = ptr::handle(client, "client")?;
        let (known, used, limit) = (
            ptr::out(known, "known")?,
            ptr::out(used, "used")?,
            ptr::out(limit, "limit")?,
        );
        match c.client.api_usage() {
            Some(u) => {
                known.write(true);
                used.write(u.used);
                limit.write(u.limit);
            }
            None => known.write(false),
        }
        Ok(())
    })
}

/// Requests this client has made since it was created.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct sfcrm_api_calls {
    /// Requests to the instance, every attempt including retries: what the org's daily API quota
    /// counts.
    pub api_requests: u64,
    /// Of which `query` / `queryAll` requests.
    pub query: u64,
    /// Of which `nextRecordsUrl` (query locator) requests.
    pub query_more: u64,
    /// Of which other API requests.
    pub other_api: u64,
    /// POSTs to `/services/oauth2/token` (code and refresh grants, every attempt).
    pub token_requests: u64,
    /// POSTs to `/services/oauth2/revoke`.
    pub revoke_requests: u64,
    /// Attempts that were retries of an earlier failed attempt (any endpoint).
    pub retries: u64,
    /// Refresh-token grants sent (a subset of `token_requests`).
    pub refreshes: u64,
    /// Of `api_requests`, the describe requests (`/sobjects`, `/sobjects/X/describe`; a cached
    /// describe makes none). Last, so that the fields before it keep their offsets.
    pub describe: u64,    /// Of `api_requests`, Bulk API 2.0 query jobs created (`POST …/jobs/query`) (after `describe`: earlier offsets kept).
    pub bulk_create: u64,
    /// Of `api_requests`, Bulk job polls (`GET …/jobs/query/{id}`) (after `describe`: earlier offsets kept).
    pub bulk_poll: u64,
    /// Of `api_requests`, Bulk result pages and `resultPages` lists (after `describe`: earlier offsets kept).
    pub bulk_results: u64,
    /// Of `api_requests`, Bulk job aborts (after `describe`: earlier offsets kept).
    pub bulk_abort: u64,
    /// Of `api_requests`, Bulk job deletes (after `describe`: earlier offsets kept).
    pub bulk_delete: u64,
}

/// Writes this client's request counters to `*out`. Non-blocking.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_client_api_calls(
    client: *const sfcrm_client,
    out: *mut sfcrm_api_calls,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let c = ptr::handle(client, "client")?;
        let out = ptr::out(out, "out")?;
        let n = c.client.api_calls();
        out.write(sfcrm_api_calls {
            api_requests: n.api_requests,
            query: n.query,
            query_more: n.query_more,
            other_api: n.other_api,
            token_requests: n.token_requests,
            revoke_requests: n.revoke_requests,
            retries: n.retries,
            refreshes: n.refreshes,
            describe: n.describe,
            bulk_create: n.bulk_create,
            bulk_poll: n.bulk_poll,
            bulk_results: n.bulk_results,
            bulk_abort: n.bulk_abort,
            bulk_delete: n.bulk_delete,
        });
        Ok(())
    })
}

/// Authenticated GET of any JSON resource of the connection's org (the core's
/// `Client::api_get_json`, Python's `Client.api_get`).
///
/// `path_or_url` is a path relative to the stored `instance_url`
/// (`/services/data/v48.0/limits`, `/services/data/v48.0/query?q=SELECT+Id+FROM+Account`) or an
/// absolute URL on an allowed instance host (`SFCRM_INSTANCE_HOSTS`; another host is
/// `SFCRM_RESULT_INVALID_ARGUMENT` and no token is sent). It is sent as given: percent-encode
/// query values yourself (a `+` inside a SOQL literal must be `%2B`, or Salesforce reads a space).
/// A `nextRecordsUrl` is fetched once, as is: no further pages are followed.
///
/// On success `*json` receives the body as compact JSON text (owned UTF-8, free with
/// `sfcrm_string_free`; numbers keep every digit Salesforce sent, keys keep their order) and `*len`
/// its length in bytes (optional: pass NULL). An empty 2xx body (such as 204) gives `null`.
/// An expired session is refreshed once and the request retried once. Errors: a non-2xx response is
/// `SFCRM_RESULT_API` (or `SFCRM_RESULT_RATE_LIMITED`, `SFCRM_RESULT_SESSION_EXPIRED`) with the HTTP
/// status, Salesforce's `errorCode` and the raw body on the error object; a 2xx body that is not JSON
/// is `SFCRM_RESULT_PROTOCOL`; an empty path is `SFCRM_RESULT_INVALID_ARGUMENT`;
/// `SFCRM_RESULT_NOT_CONNECTED`, `SFCRM_RESULT_RECONNECT_REQUIRED`, network and store errors.
/// Blocking; thread-safe like every client function.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_client_api_get(
    client: *const sfcrm_client,
    account_id: *const c_char,
    owner: *const c_char,
    path_or_url: *const c_char,
    json: *mut *mut c_char,
    len: *mut usize,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let c = ptr::handle(client, "client")?;
        let key = key_arg(account_id, owner)?;
        let path = ptr::str_arg(path_or_url, "path_or_url")?;
        let json = ptr::out(json, "json")?;
        let len = ptr::opt_out(len);
        let core = c.client.clone();
        let body = c.rt.block_on(async move {
            let v = core.api_get_json(&key, &path).await?;
            serde_json::to_vec(&v).map_err(|e| {
                FfiError::from(sfcrm_core::Error::new(sfcrm_core::ErrorKind::Internal, e.to_string()))
            })
        })?;
        // serde_json escapes every control character, so the text holds no NUL byte.
        let (p, n) = ptr::give_bytes(body);
        json.write(p);
        if let Some(l) = len {
            l.write(n);
        }
        Ok(())
    })
}
