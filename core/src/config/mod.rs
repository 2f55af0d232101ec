//! [`Config`]: everything the SDK needs to talk to one Salesforce connected app.
//!
//! Build it with [`Config::builder`] or load it from the environment with [`Config::from_env`]
//! (the seed's `SALESFORCE_*` names plus `SFCRM_*` for the new settings). Every missing or
//! malformed value is an [`ErrorKind::Config`](crate::ErrorKind::Config) error whose message names
//! the setting (builder) or the environment variable (`from_env` / `from_lookup`).
//!
//! Environment variables:
//!
//! | variable | setting | default |
//! |---|---|---|
//! | `SALESFORCE_CLIENT_ID` | client_id (consumer key) | required |
//! | `SALESFORCE_SECRET_ID` | client_secret | required |
//! | `SALESFORCE_REDIRECT_URL` | redirect_uri | required |
//! | `SALESFORCE_AUTH_SCOPES` | scopes (space separated; the seed's URL-encoded `api%20id%20web%20refresh_token` is accepted) | `api id web refresh_token` |
//! | `SALESFORCE_LOGIN_URL` | login_url | `https://login.salesforce.com` |
//! | `SALESFORCE_API_VERSION` | api_version (`48.0` or `v48.0`) | `v48.0` |
//! | `SFCRM_STATE_SECRET` | state_secret (≥ 32 bytes) | required |
//! | `SFCRM_STATE_TTL_SECS` | state_ttl (seconds) | 3600 |
//! | `SFCRM_FORWARD_ORIGINS` | forward_origins (comma list of origins, or `*`) | required |
//! | `SFCRM_INSTANCE_HOSTS` | instance_hosts (comma list of patterns, see [`HostPattern`]) | Salesforce domains + loopback |
//! | `SFCRM_CONNECT_TIMEOUT_MS` | connect_timeout (ms) | 10000 |
//! | `SFCRM_REQUEST_TIMEOUT_MS` | request_timeout (ms) | 120000 |
//! | `SFCRM_MAX_RETRIES` | retry.max_retries | 3 |
//! | `SFCRM_BATCH_SIZE` | batch_size (200..=2000) | unset (Salesforce's default, 2000) |
//! | `SFCRM_INITIAL_BACKOFF_MS` | retry.initial_backoff (ms) | 250 |
//! | `SFCRM_MAX_BACKOFF_MS` | retry.max_backoff (ms); a longer `Retry-After` is returned to the caller | 20000 |
//! | `SFCRM_TOKEN_TIMEOUT_MS` | token_timeout (ms), for token endpoint calls | 30000 |
//! | `SFCRM_REFRESH_LEASE_TTL_MS` | refresh_lease_ttl (ms): how long a refresh may hold the connection | 60000 |
//! | `SFCRM_REFRESH_WAIT_MS` | refresh_wait (ms): how long to wait for another process's refresh | 30000 |
//! | `SFCRM_COUNT_CACHE_TTL_SECS` | count_cache_ttl (s): how long `export_page` reuses a COUNT | 60 |
//! | `SFCRM_DESCRIBE_CACHE_TTL` | describe_cache_ttl (s): how long describe results are reused; 0 disables | 900 |
//! | `SFCRM_MAX_QUERY_URI_BYTES` | max_query_uri_bytes: longest query URI (path + query) before an export splits its fields (1024..=16384) | 12288 |
//!
//! Files: `builder.rs` ([`ConfigBuilder`] and its validation, one function per group of settings),
//! `env.rs` ([`Config::from_env`], [`Config::from_lookup`], [`ENV_VARIABLES`]), `hosts.rs`
//! (forward-URL origins and instance host patterns).

mod builder;
mod env;
mod hosts;

use std::time::Duration;

use url::Url;

use crate::secret::Secret;

pub use builder::ConfigBuilder;
pub use env::ENV_VARIABLES;
pub use hosts::{ForwardOrigins, HostPattern, Origin};
pub(crate) use hosts::is_loopback_host;

/// Default OAuth scopes (the seed's `SALESFORCE_AUTH_SCOPES`).
pub const DEFAULT_SCOPES: &str = "api id web refresh_token";
/// Default login host (production). Sandboxes use `https://test.salesforce.com` [salesforce-api.md §1].
pub const DEFAULT_LOGIN_URL: &str = "https://login.salesforce.com";
/// Default REST API version, as the seed service, so record `attributes.url` values match.
pub const DEFAULT_API_VERSION: &str = "v48.0";
/// Minimum length of the state signing secret, in bytes.
pub const MIN_STATE_SECRET_BYTES: usize = 32;
/// The longest duration any setting accepts (timeouts, waits, lifetimes, backoffs): 30 days.
/// Longer values are a `Config` error naming the setting, so that no deadline computed from a
/// setting (`Instant + duration`, an expiry in seconds or milliseconds since the epoch) can
/// overflow. Thirty days is far beyond any useful value and still fits a Node `u32` of
/// milliseconds (49.7 days), so every binding reaches this check.
pub const MAX_DURATION: Duration = Duration::from_secs(30 * 24 * 3600);
/// Default instance host patterns: Salesforce's own domains [salesforce-api.md §1] plus loopback.
pub const DEFAULT_INSTANCE_HOSTS: &[&str] = &[
    "*.salesforce.com",
    "*.force.com",
    "*.salesforce.mil",
    "*.cloudforce.com",
    "*.salesforce-setup.com",
    "*.my.site.com",
    "loopback",
];

/// Retry policy for idempotent requests (GETs to the instance) and for token POSTs whose
/// connection failed before the request was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 = no retry). Default 3.
    pub max_retries: u32,
    /// Base of the exponential backoff (attempt n waits a random time in `0..=initial * 2^n`).
    /// Default 250 ms.
    pub initial_backoff: Duration,
    /// Cap for one wait, also applied to `Retry-After`. Default 20 s.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(20),
        }
    }
}

/// SDK configuration. Built by [`ConfigBuilder`]; immutable afterwards. `Debug` hides secrets.
#[derive(Debug, Clone)]
pub struct Config {
    client_id: String,
    client_secret: Secret,
    redirect_uri: String,
    scopes: String,
    login_url: String,
    api_version: String,
    state_secret: Secret,
    state_ttl: Duration,
    forward_origins: ForwardOrigins,
    instance_hosts: Vec<HostPattern>,
    connect_timeout: Duration,
    request_timeout: Duration,
    token_timeout: Duration,
    retry: RetryPolicy,
    refresh_wait: Duration,
    refresh_lease_ttl: Duration,
    count_cache_ttl: Duration,
    batch_size: Option<u32>,
    describe_cache_ttl: Duration,
    max_query_uri_bytes: usize,
}

/// Default describe cache lifetime: 15 minutes. A schema changes when an admin adds or edits
/// fields, rarely and not mid-export; an hour-long export service then describes each sObject at
/// most 4 times an hour (each describe is one API call against the daily quota), while a new
/// field still shows up within a quarter of an hour without a restart (or at once after
/// `Client::clear_describe_cache`).
pub const DEFAULT_DESCRIBE_CACHE_TTL: Duration = Duration::from_secs(900);

/// Default longest query URI (path and query string): 12,288 bytes. Salesforce refuses a URI over
/// 16,384 bytes with 414 and a URI plus headers over 16,384 bytes with 431 [salesforce-api.md §5
/// "HTTP codes"]; 4,096 bytes are left for the headers (`Authorization: Bearer` with a session id
/// of ~112 characters, `Host`, `User-Agent`, `Accept`, `Sforce-Query-Options`, proxies' additions).
pub const DEFAULT_MAX_QUERY_URI_BYTES: usize = 12_288;

impl Config {
    /// A builder with every default set; `client_id`, `client_secret`, `redirect_uri`,
    /// `state_secret` and `forward_origins` are required.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// Connected app consumer key.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    /// Connected app consumer secret.
    pub fn client_secret(&self) -> &Secret {
        &self.client_secret
    }
    /// OAuth callback URL registered on the connected app.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }
    /// Space-separated OAuth scopes.
    pub fn scopes(&self) -> &str {
        &self.scopes
    }
    /// Login host base URL without a trailing slash (e.g. `https://login.salesforce.com`).
    pub fn login_url(&self) -> &str {
        &self.login_url
    }
    /// REST API version with its `v` (e.g. `v48.0`).
    pub fn api_version(&self) -> &str {
        &self.api_version
    }
    /// `/services/data/{api_version}` (no trailing slash).
    pub fn data_path(&self) -> String {
        format!("/services/data/{}", self.api_version)
    }
    /// HS256 key of the OAuth `state` JWT and of the PKCE code_verifier derivation.
    pub fn state_secret(&self) -> &Secret {
        &self.state_secret
    }
    /// Lifetime of a login `state` (and so of one authorization attempt).
    pub fn state_ttl(&self) -> Duration {
        self.state_ttl
    }
    /// Allowed forward-URL origins.
    pub fn forward_origins(&self) -> &ForwardOrigins {
        &self.forward_origins
    }
    /// Instance host allow-list for bearer tokens.
    pub fn instance_hosts(&self) -> &[HostPattern] {
        &self.instance_hosts
    }
    /// TCP/TLS connect timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
    /// Whole-request timeout of API calls (headers and body).
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }
    /// Whole-request timeout of token-endpoint calls (shorter than the refresh lease).
    pub fn token_timeout(&self) -> Duration {
        self.token_timeout
    }
    /// Retry policy.
    pub fn retry(&self) -> RetryPolicy {
        self.retry
    }
    /// How long a caller waits for another process's refresh before giving up (StoreConflict).
    pub fn refresh_wait(&self) -> Duration {
        self.refresh_wait
    }
    /// Lifetime of a refresh lease in the store (after that another process may take it over).
    pub fn refresh_lease_ttl(&self) -> Duration {
        self.refresh_lease_ttl
    }
    /// How long an export reuses a COUNT() result.
    pub fn count_cache_ttl(&self) -> Duration {
        self.count_cache_ttl
    }
    /// How long describe results are reused (zero: not cached).
    pub fn describe_cache_ttl(&self) -> Duration {
        self.describe_cache_ttl
    }
    /// The longest request URI (path and query string, bytes) of one REST query; longer exports
    /// are split by fields (see [`DEFAULT_MAX_QUERY_URI_BYTES`]).
    pub fn max_query_uri_bytes(&self) -> usize {
        self.max_query_uri_bytes
    }
    /// Default `Sforce-Query-Options: batchSize` (200..=2000), if set [salesforce-api.md §4].
    pub fn batch_size(&self) -> Option<u32> {
        self.batch_size
    }

    /// True when `url`'s host is in the instance allow-list and its scheme is https (or http on
    /// loopback). Bearer tokens are only ever sent to such URLs.
    pub fn instance_url_allowed(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_host(&host) => {}
            _ => return false,
        }
        if !url.username().is_empty() || url.password().is_some() {
            return false;
        }
        self.instance_hosts.iter().any(|p| p.matches(&host))
    }
}
