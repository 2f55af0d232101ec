//! `sfcrm_config`: SDK settings, from setters and/or the process environment.
//!
//! A config is a set of named settings; the names are the environment variables the core reads
//! (`SALESFORCE_CLIENT_ID`, `SFCRM_STATE_SECRET`, ... see ffi/README.md, "Configuration"), so an
//! error message such as "SALESFORCE_CLIENT_ID is not set" names the same thing whether the value
//! came from a setter or the environment. The typed setters are shorthands for `sfcrm_config_set`.
//! Validation happens in `sfcrm_config_validate` and `sfcrm_client_new` (the core's
//! `Config::from_lookup`).

use std::collections::BTreeMap;
use std::ffi::c_char;
use std::sync::Mutex;

use sfcrm_core::config::Config;

use crate::error::{FfiError, sfcrm_error};
use crate::ptr::{self, Handle};
use crate::result::sfcrm_result;

/// SDK settings. Create with `sfcrm_config_new` (empty) or `sfcrm_config_from_env`, adjust with the
/// setters, pass to `sfcrm_client_new` (which copies it), free with `sfcrm_config_free`.
///
/// Thread safety: safe to use from several threads (setters are serialized internally).
pub struct sfcrm_config {
    _private: [u8; 0],
}

pub(crate) struct ConfigData {
    settings: Mutex<BTreeMap<String, String>>,
}

impl Handle for sfcrm_config {
    type Inner = ConfigData;
    const C_NAME: &'static str = "sfcrm_config";
}

impl ConfigData {
    /// Builds and validates the core config.
    pub(crate) fn build(&self) -> Result<Config, FfiError> {
        let settings = self
            .settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        Ok(Config::from_lookup(|name| settings.get(name).cloned())?)
    }
}

/// Every setting the core reads in `Config::from_lookup` (the core's own test proves the list is
/// exactly what it reads), so a typo in `sfcrm_config_set` is an error, not a silently ignored
/// setting.
const KNOWN_SETTINGS: &[&str] = sfcrm_core::config::ENV_VARIABLES;

/// Creates an empty config (every setting unset: the core's defaults apply, required ones must be
/// set before `sfcrm_client_new`).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_config_new(
    out: *mut *mut sfcrm_config,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let out = ptr::out(out, "out")?;
        out.write(ptr::new_handle::<sfcrm_config>(ConfigData {
            settings: Mutex::new(BTreeMap::new()),
        }));
        Ok(())
    })
}

/// Creates a config from the process environment: every setting variable (the names of
/// `sfcrm_config_set`) is copied (later setters override them), then the result is validated. Fails with
/// `SFCRM_RESULT_CONFIG` (message naming the variable) when a required variable is missing or a value
/// is malformed; nothing is written to `*out` then.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_config_from_env(
    out: *mut *mut sfcrm_config,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let out = ptr::out(out, "out")?;
        let mut settings = BTreeMap::new();
        for name in KNOWN_SETTINGS {
            match std::env::var(name) {
                Ok(v) => {
                    settings.insert((*name).to_owned(), v);
                }
                Err(std::env::VarError::NotPresent) => {}
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(FfiError::new(
                        sfcrm_result::Config,
                        format!("{name} is not valid UTF-8"),
                    ));
                }
            }
        }
        let data = ConfigData {
            settings: Mutex::new(settings),
        };
        data.build()?;
        out.write(ptr::new_handle::<sfcrm_config>(data));
        Ok(())
    })
}

/// Sets a setting by its environment variable name: `SALESFORCE_CLIENT_ID`, `SALESFORCE_SECRET_ID`,
/// `SALESFORCE_REDIRECT_URL`, `SALESFORCE_AUTH_SCOPES`, `SALESFORCE_LOGIN_URL`,
/// `SALESFORCE_API_VERSION`, `SFCRM_STATE_SECRET`, `SFCRM_STATE_TTL_SECS` (seconds),
/// `SFCRM_FORWARD_ORIGINS`, `SFCRM_INSTANCE_HOSTS`, `SFCRM_CONNECT_TIMEOUT_MS`,
/// `SFCRM_REQUEST_TIMEOUT_MS` (milliseconds), `SFCRM_MAX_RETRIES`, `SFCRM_BATCH_SIZE`,
/// `SFCRM_INITIAL_BACKOFF_MS`, `SFCRM_MAX_BACKOFF_MS`, `SFCRM_TOKEN_TIMEOUT_MS`,
/// `SFCRM_REFRESH_LEASE_TTL_MS`, `SFCRM_REFRESH_WAIT_MS` (milliseconds),
/// `SFCRM_COUNT_CACHE_TTL_SECS` (seconds), `SFCRM_DESCRIBE_CACHE_TTL` (seconds a describe result
/// is reused per connection and sObject; 0 disables the cache), `SFCRM_MAX_QUERY_URI_BYTES` (the
/// longest query URI sent, 1024..=16384; an export whose SELECT is longer is split into queries
/// joined by Id); any other name is `SFCRM_RESULT_CONFIG`. `value` NULL or empty unsets it. Values are checked
/// by `sfcrm_config_validate` / `sfcrm_client_new`.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_config_set(
    config: *mut sfcrm_config,
    name: *const c_char,
    value: *const c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        let cfg = ptr::handle(config as *const sfcrm_config, "config")?;
        let name = ptr::str_arg(name, "name")?;
        let value = ptr::opt_str_arg(value, "value")?;
        set(&cfg, &name, value)
    })
}

fn set(cfg: &ConfigData, name: &str, value: Option<String>) -> Result<(), FfiError> {
    if !KNOWN_SETTINGS.contains(&name) {
        return Err(FfiError::new(
            sfcrm_result::Config,
            format!(
                "`{name}` is not a setting; known settings: {}",
                KNOWN_SETTINGS.join(", ")
            ),
        ));
    }
    let mut s = cfg.settings.lock().unwrap_or_else(|e| e.into_inner());
    match value.filter(|v| !v.is_empty()) {
        Some(v) => s.insert(name.to_owned(), v),
        None => s.remove(name),
    };
    Ok(())
}

/// A typed setter: `value` is required (NULL is `SFCRM_RESULT_NULL_POINTER`).
fn set_typed(
    config: *mut sfcrm_config,
    value: *const c_char,
    var: &'static str,
) -> Result<(), FfiError> {
    let cfg = ptr::handle(config as *const sfcrm_config, "config")?;
    let value = ptr::str_arg(value, "value")?;
    set(&cfg, var, Some(value))
}

/// Connected app consumer key (`SALESFORCE_CLIENT_ID`, required).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_config_set_client_id(
    config: *mut sfcrm_config,
    value: *const c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, { set_typed(config, value, "SALESFORCE_CLIENT_ID") })
}

/// Connected app consumer secret (`SALESFORCE_SECRET_ID`, required). Copied; never logged.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_config_set_client_secret(
    config: *mut sfcrm_config,
    value: *const c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, { set_typed(config, value, "SALESFORCE_SECRET_ID") })
}

/// OAuth callback URL registered on the connected app (`SALESFORCE_REDIRECT_URL`, required).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_config_set_redirect_uri(
    config: *mut sfcrm_config,
    value: *const c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        set_typed(config, value, "SALESFORCE_REDIRECT_URL")
    })
}

/// Login host (`SALESFORCE_LOGIN_URL`; default `https://login.salesforce.com`, sandboxes use
/// `https://test.salesforce.com` [salesforce-api.md §1]).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_config_set_login_url(
    config: *mut sfcrm_config,
    value: *const c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, { set_typed(config, value, "SALESFORCE_LOGIN_URL") })
}

/// OAuth scopes, space separated (`SALESFORCE_AUTH_SCOPES`; default `api id web refresh_token`).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_config_set_scopes(
    config: *mut sfcrm_config,
    value: *const c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        set_typed(config, value, "SALESFORCE_AUTH_SCOPES")
    })
}

/// REST API version, `48.0` or `v48.0` (`SALESFORCE_API_VERSION`; default `v48.0`).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_config_set_api_version(
    config: *mut sfcrm_config,
    value: *const c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        set_typed(config, value, "SALESFORCE_API_VERSION")
    })
}

/// Secret that signs the OAuth `state` (`SFCRM_STATE_SECRET`, required, at least 32 bytes).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_config_set_state_secret(
    config: *mut sfcrm_config,
    value: *const c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, { set_typed(config, value, "SFCRM_STATE_SECRET") })
}

/// Origins a login may forward to after the callback: comma list, or `*`
/// (`SFCRM_FORWARD_ORIGINS`, required).
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_config_set_forward_origins(
    config: *mut sfcrm_config,
    value: *const c_char,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, { set_typed(config, value, "SFCRM_FORWARD_ORIGINS") })
}

/// Checks the config as `sfcrm_client_new` would: `SFCRM_RESULT_CONFIG` naming the first missing
/// or malformed setting.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_config_validate(
    config: *const sfcrm_config,
    error: *mut *mut sfcrm_error,
) -> sfcrm_result {
    ffi_result!(error, {
        ptr::handle(config, "config")?.build()?;
        Ok(())
    })
}

/// Frees a config. NULL or an already-freed config is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn sfcrm_config_free(config: *mut sfcrm_config) {
    ffi_boundary! { ptr::free_handle(config); }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sfcrm_config_set_documents_every_known_setting() {
        // The header is generated from the doc comment: every name must be listed there.
        let src = include_str!("config.rs");
        let doc_end = src.find("pub extern \"C\" fn sfcrm_config_set(").expect("sfcrm_config_set");
        let doc = &src[src[..doc_end].rfind("/// Sets a setting").expect("doc")..doc_end];
        for name in KNOWN_SETTINGS {
            assert!(doc.contains(&format!("`{name}`")), "{name} is missing from sfcrm_config_set's docs");
        }
    }
}
