//! `NativeConfig`: the core [`Config`] built from a JavaScript options object or the environment.

use std::time::Duration;

use napi::Env;
use napi_derive::napi;
use sfcrm_core::config::{Config, RetryPolicy};
use sfcrm_core::Secret;

use crate::error::IntoJs;

/// Options for `new Config(options)`. Durations are in the unit their name says (ms or secs).
/// Required: `clientId`, `clientSecret`, `redirectUri`, `stateSecret` (≥ 32 bytes),
/// `forwardOrigins` (origins such as `https://app.example.com`, or `["*"]`).
#[napi(object)]
#[derive(Default)]
pub struct ConfigOptions {
    /// Connected app consumer key (`SALESFORCE_CLIENT_ID`).
    pub client_id: String,
    /// Connected app consumer secret (`SALESFORCE_SECRET_ID`).
    pub client_secret: String,
    /// OAuth callback URL registered on the connected app (`SALESFORCE_REDIRECT_URL`).
    pub redirect_uri: String,
    /// Key that signs the OAuth `state` (HS256), at least 32 bytes (`SFCRM_STATE_SECRET`).
    pub state_secret: String,
    /// Allowed forward-URL origins, or `["*"]` (`SFCRM_FORWARD_ORIGINS`).
    pub forward_origins: Vec<String>,
    /// Space-separated OAuth scopes; default `api id web refresh_token`.
    pub scopes: Option<String>,
    /// Login host; default `https://login.salesforce.com` (sandboxes: `https://test.salesforce.com`).
    pub login_url: Option<String>,
    /// REST API version, `48.0` or `v48.0`; default `v48.0` (the seed's).
    pub api_version: Option<String>,
    /// Lifetime of the OAuth state, seconds; default 3600 (the seed's 1 h).
    pub state_ttl_secs: Option<u32>,
    /// Allowed `instance_url` host patterns (`*.domain`, exact host, `loopback`); default
    /// Salesforce's domains plus loopback.
    pub instance_hosts: Option<Vec<String>>,
    /// TCP connect timeout, ms; default 10000.
    pub connect_timeout_ms: Option<u32>,
    /// Whole-request timeout for API calls, ms; default 120000.
    pub request_timeout_ms: Option<u32>,
    /// Timeout of token endpoint requests, ms; default 30000.
    pub token_timeout_ms: Option<u32>,
    /// Retries of idempotent requests after the first attempt; default 3.
    pub max_retries: Option<u32>,
    /// Base of the exponential retry backoff, ms; default 250.
    pub initial_backoff_ms: Option<u32>,
    /// Cap of one retry wait (also caps `Retry-After`), ms; default 20000.
    pub max_backoff_ms: Option<u32>,
    /// How long a caller waits for another process's refresh, ms; default 30000.
    pub refresh_wait_ms: Option<u32>,
    /// Lifetime of a refresh lease in the store, ms; default 60000.
    pub refresh_lease_ttl_ms: Option<u32>,
    /// How long a COUNT() result is reused by `exportPage`, ms; default 60000.
    pub count_cache_ttl_ms: Option<u32>,
    /// Records per query batch (Salesforce allows 200..=2000); default Salesforce's (2000).
    pub batch_size: Option<u32>,
    /// How long a `describe` / `describeGlobal` result is reused, ms (each miss is one API call);
    /// 0 disables the cache (`SFCRM_DESCRIBE_CACHE_TTL`); default the core's.
    pub describe_cache_ttl_ms: Option<u32>,
    /// The longest URI one REST query may use, bytes (1024..=16384; default 12288): an export
    /// whose SELECT would be longer (every field of a wide object) is split into several queries
    /// joined by Id (`SFCRM_MAX_QUERY_URI_BYTES`) [salesforce-api.md §5].
    pub max_query_uri_bytes: Option<u32>,
}

/// A validated SDK configuration (secrets are never readable back from JavaScript).
#[napi]
pub struct NativeConfig {
    pub(crate) inner: Config,
}

fn ms(v: u32) -> Duration {
    Duration::from_millis(u64::from(v))
}

#[napi]
impl NativeConfig {
    /// Builds and validates a configuration; a missing or malformed option is a `ConfigError`
    /// naming the option.
    #[napi(constructor)]
    pub fn new(js: Env, options: ConfigOptions) -> napi::Result<Self> {
        let o = options;
        let mut b = Config::builder()
            .client_id(o.client_id)
            .client_secret(Secret::new(o.client_secret))
            .redirect_uri(o.redirect_uri)
            .state_secret(Secret::new(o.state_secret))
            .forward_origins(o.forward_origins);
        if let Some(v) = o.scopes {
            b = b.scopes(v);
        }
        if let Some(v) = o.login_url {
            b = b.login_url(v);
        }
        if let Some(v) = o.api_version {
            b = b.api_version(v);
        }
        if let Some(v) = o.state_ttl_secs {
            b = b.state_ttl(Duration::from_secs(u64::from(v)));
        }
        if let Some(v) = o.instance_hosts {
            b = b.instance_hosts(v).js(&js)?;
        }
        if let Some(v) = o.connect_timeout_ms {
            b = b.connect_timeout(ms(v));
        }
        if let Some(v) = o.request_timeout_ms {
            b = b.request_timeout(ms(v));
        }
        if let Some(v) = o.token_timeout_ms {
            b = b.token_timeout(ms(v));
        }
        if o.max_retries.is_some() || o.initial_backoff_ms.is_some() || o.max_backoff_ms.is_some() {
            let d = RetryPolicy::default();
            b = b.retry(RetryPolicy {
                max_retries: o.max_retries.unwrap_or(d.max_retries),
                initial_backoff: o.initial_backoff_ms.map(ms).unwrap_or(d.initial_backoff),
                max_backoff: o.max_backoff_ms.map(ms).unwrap_or(d.max_backoff),
            });
        }
        if let Some(v) = o.refresh_wait_ms {
            b = b.refresh_wait(ms(v));
        }
        if let Some(v) = o.refresh_lease_ttl_ms {
            b = b.refresh_lease_ttl(ms(v));
        }
        if let Some(v) = o.count_cache_ttl_ms {
            b = b.count_cache_ttl(ms(v));
        }
        if let Some(v) = o.describe_cache_ttl_ms {
            b = b.describe_cache_ttl(ms(v));
        }
        if let Some(v) = o.max_query_uri_bytes {
            b = b.max_query_uri_bytes(v as usize);
        }
        if o.batch_size.is_some() {
            b = b.batch_size(o.batch_size);
        }
        Ok(NativeConfig { inner: b.build().js(&js)? })
    }

    /// Loads from environment variables (the seed's `SALESFORCE_*` names plus `SFCRM_*`); when
    /// `env` is given it is read instead of `process.env`. Errors name the variable.
    #[napi(factory)]
    pub fn from_env(js: Env, env: Option<std::collections::HashMap<String, String>>) -> napi::Result<Self> {
        let inner = match env {
            Some(map) => Config::from_lookup(|k| map.get(k).cloned()),
            None => Config::from_env(),
        };
        Ok(NativeConfig { inner: inner.js(&js)? })
    }

    /// The login host in use (no secret).
    #[napi(getter)]
    pub fn login_url(&self) -> String {
        self.inner.login_url().to_string()
    }

    /// The redirect URI in use.
    #[napi(getter)]
    pub fn redirect_uri(&self) -> String {
        self.inner.redirect_uri().to_string()
    }

    /// The client id in use (not a secret).
    #[napi(getter)]
    pub fn client_id(&self) -> String {
        self.inner.client_id().to_string()
    }
}
