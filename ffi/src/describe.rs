//! `sfcrm_client_describe` and `sfcrm_client_describe_global`: Salesforce's describe results as
//! JSON text (the core parses and caches them; C gets the body as Salesforce sent it).

use std::ffi::c_char;

use crate::client::{key_arg, sfcrm_client};
use crate::error::sfcrm_error;
use crate::ptr;
use crate::result::sfcrm_result;

/// Hands `text` to C through `json` and the optional `len`.
fn give_json(text: &str, json: ptr::Out<*mut c_char>, len: Option<ptr::Out<usize>>) {
    // Salesforce's body was validated as JSON by the core: JSON escapes every control character,
    // so the text holds no NUL byte.
    let (p, n) = ptr::give_string(text);
    json.write(p);
    if let Some(l) = len {
        l.write(n);
    }
}

/// Describes the sObject `sobject` (`Contact`, `Wide_Object__c`): the body of
/// `GET /services/data/vXX.X/sobjects/<sobject>/describe` as Salesforce sent it (keys in its order,
/// numbers with their digits) [salesforce-api.md §4]. Among its properties: `name`, `label`,
/// `custom`, `queryable`, `fields` (each with `name`, `type`, `label`, `nillable`, `length`,
/// `precision`, `scale`, `relationshipName`, `referenceTo`, `compoundFieldName`, …) and
/// `childRelationships`.
///
/// On success `*json` receives the text (owned UTF-8, free with `sfcrm_string_free`) and `*len` its
/// length in bytes (optional: pass NULL). Results are cached per client for `describe_cache_ttl`
/// (`SFCRM_DESCRIBE_CACHE_TTL`; 0 disables the cache): a cached answer makes no request. Each
/// request made counts as an API call (`other_api` in `sfcrm_client_api_calls`).
///
/// Errors: a name that is not a valid sObject API name is `SFCRM_RESULT_INVALID_IDENTIFIER` (nothing
/// sent); an sObject the org does not have is `SFCRM_RESULT_API` with HTTP 404 and Salesforce's
/// `NOT_FOUND`; `SFCRM_RESULT_NOT_CONNECTED`, `SFCRM_RESULT_SESSION_EXPIRED`, network errors as for
/// any call. Blocking; thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_client_describe(
    client: *const sfcrm_client,
    account_id: *const c_char,
    owner: *const c_char,
    sobject: *const c_char,
    json: *mut *mut c_char,
    len: *mut usize,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let c = ptr::handle(client, "client")?;
        let key = key_arg(account_id, owner)?;
        let sobject = ptr::str_arg(sobject, "sobject")?;
        let json = ptr::out(json, "json")?;
        let len = ptr::opt_out(len);
        let core = c.client.clone();
        let d = c.rt.block_on(async move { Ok(core.describe(&key, &sobject).await?) })?;
        give_json(d.raw_json(), json, len);
        Ok(())
    })
}

/// Lists the org's sObjects: the body of `GET /services/data/vXX.X/sobjects` (describeGlobal) as
/// Salesforce sent it: `{"encoding":…,"maxBatchSize":…,"sobjects":[{"name","label","custom",
/// "queryable",…},…]}` [salesforce-api.md §4]. Output, caching, API-call counting and errors as
/// `sfcrm_client_describe`. Blocking; thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_client_describe_global(
    client: *const sfcrm_client,
    account_id: *const c_char,
    owner: *const c_char,
    json: *mut *mut c_char,
    len: *mut usize,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let c = ptr::handle(client, "client")?;
        let key = key_arg(account_id, owner)?;
        let json = ptr::out(json, "json")?;
        let len = ptr::opt_out(len);
        let core = c.client.clone();
        let d = c.rt.block_on(async move { Ok(core.describe_global(&key).await?) })?;
        give_json(d.raw_json(), json, len);
        Ok(())
    })
}
