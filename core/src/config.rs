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

use std::net::IpAddr;
use std::time::Duration;

use url::Url;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Every environment variable [`Config::from_lookup`] reads (the table in the module docs), in
/// that order. Bindings use it to refuse unknown setting names.
pub const ENV_VARIABLES: &[&str] = &[
    "SALESFORCE_CLIENT_ID",
    "SALESFORCE_SECRET_ID",
    "SALESFORCE_REDIRECT_URL",
    "SALESFORCE_AUTH_SCOPES",
    "SALESFORCE_LOGIN_URL",
    "SALESFORCE_API_VERSION",
    "SFCRM_STATE_SECRET",
    "SFCRM_STATE_TTL_SECS",
    "SFCRM_FORWARD_ORIGINS",
    "SFCRM_INSTANCE_HOSTS",
    "SFCRM_CONNECT_TIMEOUT_MS",
    "SFCRM_REQUEST_TIMEOUT_MS",
    "SFCRM_MAX_RETRIES",
    "SFCRM_BATCH_SIZE",
    "SFCRM_INITIAL_BACKOFF_MS",
    "SFCRM_MAX_BACKOFF_MS",
    "SFCRM_TOKEN_TIMEOUT_MS",
    "SFCRM_REFRESH_LEASE_TTL_MS",
    "SFCRM_REFRESH_WAIT_MS",
    "SFCRM_COUNT_CACHE_TTL_SECS",
];

/// Default OAuth scopes (the seed's `SALESFORCE_AUTH_SCOPES`).
pub const DEFAULT_SCOPES: &str = "api id web refresh_token";
/// Default login host (production). Sandboxes use `https://test.salesforce.com` [salesforce-api.md §1].
pub const DEFAULT_LOGIN_URL: &str = "https://login.salesforce.com";
/// Default REST API version, as the seed service, so record `attributes.url` values match.
pub const DEFAULT_API_VERSION: &str = "v48.0";
/// Minimum length of the state signing secret, in bytes.
pub const MIN_STATE_SECRET_BYTES: usize = 32;
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

/// One allowed forward-URL origin: scheme, lower-case host, port (default ports normalized).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// Lower-case host (IPv6 in brackets, as `url` prints it).
    pub host: String,
    /// Port, with the scheme's default filled in (80 / 443).
    pub port: u16,
}

impl Origin {
    /// Parses an origin such as `https://app.example.com` or `http://localhost:3000`. A path other
    /// than `/`, a query, a fragment or user info is refused.
    pub fn parse(text: &str) -> std::result::Result<Origin, String> {
        let text = text.trim();
        let url = Url::parse(text).map_err(|e| format!("`{text}` is not an origin URL ({e})"))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(format!("`{text}` must use http or https"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("`{text}` must not contain user info"));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "`{text}` must be an origin only (scheme://host[:port]), without a path"
            ));
        }
        Origin::of(&url).ok_or_else(|| format!("`{text}` has no host"))
    }

    /// The origin of a parsed http(s) URL (None without a host or with another scheme).
    pub fn of(url: &Url) -> Option<Origin> {
        let scheme = url.scheme();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let host = url.host_str()?.to_ascii_lowercase();
        let port = url.port_or_known_default()?;
        Some(Origin {
            scheme: scheme.to_owned(),
            host,
            port,
        })
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let default = if self.scheme == "https" { 443 } else { 80 };
        if self.port == default {
            write!(f, "{}://{}", self.scheme, self.host)
        } else {
            write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
        }
    }
}

/// Which forward URLs `login` accepts (seed defect D11: the seed had an open redirect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardOrigins {
    /// Any http(s) URL. Only reachable through an explicit `*`.
    Any,
    /// Only URLs whose origin is in this non-empty list.
    List(Vec<Origin>),
}

impl ForwardOrigins {
    /// Parses `*` or a comma-separated list of origins.
    pub fn parse(text: &str) -> std::result::Result<ForwardOrigins, String> {
        let text = text.trim();
        if text == "*" {
            return Ok(ForwardOrigins::Any);
        }
        let origins = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Origin::parse)
            .collect::<std::result::Result<Vec<_>, _>>()?;
        if origins.is_empty() {
            return Err("the list of forward origins is empty (use `*` to allow any)".into());
        }
        Ok(ForwardOrigins::List(origins))
    }

    /// True when `origin` is allowed.
    pub fn allows(&self, origin: &Origin) -> bool {
        match self {
            ForwardOrigins::Any => true,
            ForwardOrigins::List(list) => list.contains(origin),
        }
    }
}

/// One pattern of the instance host allow-list (bearer tokens are only sent to matching hosts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// `*.example.com`: any subdomain of `example.com` (not `example.com` itself).
    Suffix(String),
    /// `host.example.com`: exactly this host.
    Exact(String),
    /// `loopback`: 127.0.0.0/8, `localhost`, `[::1]`. The only hosts reachable over plain http.
    Loopback,
}

impl HostPattern {
    /// Parses `*.domain`, `loopback` or an exact host name.
    pub fn parse(text: &str) -> std::result::Result<HostPattern, String> {
        let t = text.trim().to_ascii_lowercase();
        if t.is_empty() {
            return Err("empty host pattern".into());
        }
        if t == "loopback" {
            return Ok(HostPattern::Loopback);
        }
        if let Some(rest) = t.strip_prefix("*.") {
            if rest.is_empty() || rest.contains('*') || rest.contains('/') {
                return Err(format!("`{text}` is not a valid host pattern"));
            }
            return Ok(HostPattern::Suffix(format!(".{rest}")));
        }
        if t.contains('*') || t.contains('/') || t.contains(':') && !t.starts_with('[') {
            return Err(format!(
                "`{text}` is not a valid host pattern (use `*.domain`, a host name or `loopback`)"
            ));
        }
        Ok(HostPattern::Exact(t))
    }

    /// True when the (lower-case) host matches.
    pub fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Suffix(s) => host.len() > s.len() && host.ends_with(s.as_str()),
            HostPattern::Exact(h) => host == h,
            HostPattern::Loopback => is_loopback_host(host),
        }
    }
}

/// True for `localhost`, 127.0.0.0/8 and `::1` (with or without brackets).
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
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
}

impl Config {
    /// A builder with every default set; `client_id`, `client_secret`, `redirect_uri`,
    /// `state_secret` and `forward_origins` are required.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// Loads from the process environment (see the module docs for the variables).
    pub fn from_env() -> Result<Config> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Loads from any name → value lookup (tests, hosts with their own settings source).
    /// Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let required =
            |name: &str| get(name).ok_or_else(|| Error::config(format!("{name} is not set")));
        let mut b = ConfigBuilder {
            env_names: true,
            ..ConfigBuilder::default()
        };
        b.client_id = Some(required("SALESFORCE_CLIENT_ID")?);
        b.client_secret = Some(Secret::new(required("SALESFORCE_SECRET_ID")?));
        b.redirect_uri = Some(required("SALESFORCE_REDIRECT_URL")?);
        if let Some(s) = get("SALESFORCE_AUTH_SCOPES") {
            b.scopes = Some(
                decode_scopes(&s)
                    .map_err(|m| Error::config(format!("SALESFORCE_AUTH_SCOPES: {m}")))?,
            );
        }
        if let Some(s) = get("SALESFORCE_LOGIN_URL") {
            b.login_url = Some(s);
        }
        if let Some(s) = get("SALESFORCE_API_VERSION") {
            b.api_version = Some(s);
        }
        b.state_secret = Some(Secret::new(required("SFCRM_STATE_SECRET")?));
        if let Some(s) = get("SFCRM_STATE_TTL_SECS") {
            b.state_ttl = Duration::from_secs(parse_num("SFCRM_STATE_TTL_SECS", &s)?);
        }
        let origins = required("SFCRM_FORWARD_ORIGINS")?;
        b.forward_origins = Some(
            ForwardOrigins::parse(&origins)
                .map_err(|m| Error::config(format!("SFCRM_FORWARD_ORIGINS: {m}")))?,
        );
        if let Some(s) = get("SFCRM_INSTANCE_HOSTS") {
            let pats = s
                .split(',')
                .filter(|p| !p.trim().is_empty())
                .map(HostPattern::parse)
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|m| Error::config(format!("SFCRM_INSTANCE_HOSTS: {m}")))?;
            b.instance_hosts = Some(pats);
        }
        if let Some(s) = get("SFCRM_CONNECT_TIMEOUT_MS") {
            b.connect_timeout = Duration::from_millis(parse_num("SFCRM_CONNECT_TIMEOUT_MS", &s)?);
        }
        if let Some(s) = get("SFCRM_REQUEST_TIMEOUT_MS") {
            b.request_timeout = Duration::from_millis(parse_num("SFCRM_REQUEST_TIMEOUT_MS", &s)?);
        }
        if let Some(s) = get("SFCRM_MAX_RETRIES") {
            b.retry.max_retries = parse_num::<u32>("SFCRM_MAX_RETRIES", &s)?;
        }
        if let Some(s) = get("SFCRM_BATCH_SIZE") {
            b.batch_size = Some(parse_num::<u32>("SFCRM_BATCH_SIZE", &s)?);
        }
        let ms = |name: &str| -> Result<Option<Duration>> {
            get(name).map(|s| parse_num::<u64>(name, &s).map(Duration::from_millis)).transpose()
        };
        if let Some(d) = ms("SFCRM_INITIAL_BACKOFF_MS")? {
            b.retry.initial_backoff = d;
        }
        if let Some(d) = ms("SFCRM_MAX_BACKOFF_MS")? {
            b.retry.max_backoff = d;
        }
        if let Some(d) = ms("SFCRM_TOKEN_TIMEOUT_MS")? {
            b.token_timeout = d;
        }
        if let Some(d) = ms("SFCRM_REFRESH_LEASE_TTL_MS")? {
            b.refresh_lease_ttl = d;
        }
        if let Some(d) = ms("SFCRM_REFRESH_WAIT_MS")? {
            b.refresh_wait = d;
        }
        if let Some(s) = get("SFCRM_COUNT_CACHE_TTL_SECS") {
            b.count_cache_ttl = Duration::from_secs(parse_num("SFCRM_COUNT_CACHE_TTL_SECS", &s)?);
        }
        b.build()
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

/// Builder for [`Config`]; see the setter docs for defaults.
#[derive(Debug, Clone)]
pub struct ConfigBuilder {
    env_names: bool,
    client_id: Option<String>,
    client_secret: Option<Secret>,
    redirect_uri: Option<String>,
    scopes: Option<String>,
    login_url: Option<String>,
    api_version: Option<String>,
    state_secret: Option<Secret>,
    state_ttl: Duration,
    forward_origins: Option<ForwardOrigins>,
    forward_origins_text: Option<Vec<String>>,
    instance_hosts: Option<Vec<HostPattern>>,
    connect_timeout: Duration,
    request_timeout: Duration,
    token_timeout: Duration,
    retry: RetryPolicy,
    refresh_wait: Duration,
    refresh_lease_ttl: Duration,
    count_cache_ttl: Duration,
    batch_size: Option<u32>,
}

impl Default for ConfigBuilder {
    fn default() -> Self {
        ConfigBuilder {
            env_names: false,
            client_id: None,
            client_secret: None,
            redirect_uri: None,
            scopes: None,
            login_url: None,
            api_version: None,
            state_secret: None,
            state_ttl: Duration::from_secs(3600),
            forward_origins: None,
            forward_origins_text: None,
            instance_hosts: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            token_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            refresh_wait: Duration::from_secs(30),
            refresh_lease_ttl: Duration::from_secs(60),
            count_cache_ttl: Duration::from_secs(60),
            batch_size: None,
        }
    }
}

impl ConfigBuilder {
    /// Connected app consumer key (required).
    pub fn client_id(mut self, v: impl Into<String>) -> Self {
        self.client_id = Some(v.into());
        self
    }
    /// Connected app consumer secret (required).
    pub fn client_secret(mut self, v: impl Into<Secret>) -> Self {
        self.client_secret = Some(v.into());
        self
    }
    /// OAuth callback URL (required, absolute http(s)).
    pub fn redirect_uri(mut self, v: impl Into<String>) -> Self {
        self.redirect_uri = Some(v.into());
        self
    }
    /// Space-separated scopes (default `api id web refresh_token`).
    pub fn scopes(mut self, v: impl Into<String>) -> Self {
        self.scopes = Some(v.into());
        self
    }
    /// Login host (default `https://login.salesforce.com`; `https://test.salesforce.com`, a My
    /// Domain, or http on loopback for tests).
    pub fn login_url(mut self, v: impl Into<String>) -> Self {
        self.login_url = Some(v.into());
        self
    }
    /// API version, `48.0` or `v48.0` (default `v48.0`).
    pub fn api_version(mut self, v: impl Into<String>) -> Self {
        self.api_version = Some(v.into());
        self
    }
    /// State signing secret, at least 32 bytes (required).
    pub fn state_secret(mut self, v: impl Into<Secret>) -> Self {
        self.state_secret = Some(v.into());
        self
    }
    /// State lifetime (default 3600 s).
    pub fn state_ttl(mut self, v: Duration) -> Self {
        self.state_ttl = v;
        self
    }
    /// Forward-URL origins (required): origins such as `https://app.example.com`, or exactly
    /// `["*"]` to allow any http(s) URL.
    pub fn forward_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.forward_origins_text = Some(origins.into_iter().map(Into::into).collect());
        self
    }
    /// Instance host patterns (`*.domain`, exact host, `loopback`), replacing the defaults.
    pub fn instance_hosts<I, S>(mut self, patterns: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let pats = patterns
            .into_iter()
            .map(|p| HostPattern::parse(p.as_ref()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|m| Error::config(format!("instance_hosts: {m}")))?;
        self.instance_hosts = Some(pats);
        Ok(self)
    }
    /// Connect timeout (default 10 s).
    pub fn connect_timeout(mut self, v: Duration) -> Self {
        self.connect_timeout = v;
        self
    }
    /// API request timeout (default 120 s).
    pub fn request_timeout(mut self, v: Duration) -> Self {
        self.request_timeout = v;
        self
    }
    /// Token endpoint request timeout (default 30 s; must be below `refresh_lease_ttl`).
    pub fn token_timeout(mut self, v: Duration) -> Self {
        self.token_timeout = v;
        self
    }
    /// Retry policy (default 3 retries, 250 ms initial, 20 s cap).
    pub fn retry(mut self, v: RetryPolicy) -> Self {
        self.retry = v;
        self
    }
    /// Bound on waiting for another process's refresh (default 30 s).
    pub fn refresh_wait(mut self, v: Duration) -> Self {
        self.refresh_wait = v;
        self
    }
    /// Refresh lease lifetime (default 60 s; must exceed `token_timeout`).
    pub fn refresh_lease_ttl(mut self, v: Duration) -> Self {
        self.refresh_lease_ttl = v;
        self
    }
    /// COUNT() reuse window for page exports (default 60 s).
    pub fn count_cache_ttl(mut self, v: Duration) -> Self {
        self.count_cache_ttl = v;
        self
    }
    /// Default query batch size (200..=2000), or `None` for Salesforce's default.
    pub fn batch_size(mut self, v: Option<u32>) -> Self {
        self.batch_size = v;
        self
    }

    fn name(&self, setting: &'static str, env: &'static str) -> &'static str {
        if self.env_names { env } else { setting }
    }

    fn err(&self, setting: &'static str, env: &'static str, msg: impl std::fmt::Display) -> Error {
        Error::config(format!("{}: {msg}", self.name(setting, env)))
    }

    /// Validates and builds the configuration.
    pub fn build(self) -> Result<Config> {
        let client_id = self
            .client_id
            .clone()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| self.err("client_id", "SALESFORCE_CLIENT_ID", "is not set"))?;
        let client_secret = self
            .client_secret
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.err("client_secret", "SALESFORCE_SECRET_ID", "is not set"))?;
        let redirect_uri = self
            .redirect_uri
            .clone()
            .ok_or_else(|| self.err("redirect_uri", "SALESFORCE_REDIRECT_URL", "is not set"))?;
        let ru = Url::parse(redirect_uri.trim()).map_err(|e| {
            self.err(
                "redirect_uri",
                "SALESFORCE_REDIRECT_URL",
                format!("not an absolute URL ({e})"),
            )
        })?;
        if ru.scheme() != "http" && ru.scheme() != "https" {
            return Err(self.err(
                "redirect_uri",
                "SALESFORCE_REDIRECT_URL",
                "must use http or https",
            ));
        }
        let scopes = match &self.scopes {
            Some(s) => {
                let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
                if s.is_empty() {
                    return Err(self.err("scopes", "SALESFORCE_AUTH_SCOPES", "is empty"));
                }
                s
            }
            None => DEFAULT_SCOPES.to_owned(),
        };
        let login_url = self
            .login_url
            .clone()
            .unwrap_or_else(|| DEFAULT_LOGIN_URL.to_owned());
        let lu = Url::parse(login_url.trim()).map_err(|e| {
            self.err(
                "login_url",
                "SALESFORCE_LOGIN_URL",
                format!("not an absolute URL ({e})"),
            )
        })?;
        let host = lu.host_str().unwrap_or("").to_ascii_lowercase();
        match lu.scheme() {
            "https" => {}
            "http" if is_loopback_host(&host) => {}
            _ => {
                return Err(self.err(
                    "login_url",
                    "SALESFORCE_LOGIN_URL",
                    "must use https (plain http only on loopback)",
                ));
            }
        }
        if host.is_empty()
            || !matches!(lu.path(), "" | "/")
            || lu.query().is_some()
            || lu.fragment().is_some()
            || !lu.username().is_empty()
        {
            return Err(self.err(
                "login_url",
                "SALESFORCE_LOGIN_URL",
                "must be a base URL such as https://login.salesforce.com",
            ));
        }
        let login_url = lu.as_str().trim_end_matches('/').to_owned();

        let api_version =
            normalize_api_version(self.api_version.as_deref().unwrap_or(DEFAULT_API_VERSION))
                .ok_or_else(|| {
                    self.err(
                        "api_version",
                        "SALESFORCE_API_VERSION",
                        "must look like 48.0 or v48.0",
                    )
                })?;

        let state_secret = self
            .state_secret
            .clone()
            .ok_or_else(|| self.err("state_secret", "SFCRM_STATE_SECRET", "is not set"))?;
        if state_secret.expose().len() < MIN_STATE_SECRET_BYTES {
            return Err(self.err(
                "state_secret",
                "SFCRM_STATE_SECRET",
                format!("must be at least {MIN_STATE_SECRET_BYTES} bytes"),
            ));
        }
        if self.state_ttl.is_zero() {
            return Err(self.err("state_ttl", "SFCRM_STATE_TTL_SECS", "must be positive"));
        }
        let forward_origins = match (&self.forward_origins, &self.forward_origins_text) {
            (Some(f), _) => f.clone(),
            (None, Some(list)) => ForwardOrigins::parse(&list.join(","))
                .map_err(|m| self.err("forward_origins", "SFCRM_FORWARD_ORIGINS", m))?,
            (None, None) => {
                return Err(self.err(
                    "forward_origins",
                    "SFCRM_FORWARD_ORIGINS",
                    "is not set (use `*` to allow any)",
                ));
            }
        };
        let instance_hosts = match &self.instance_hosts {
            Some(p) if p.is_empty() => {
                return Err(self.err("instance_hosts", "SFCRM_INSTANCE_HOSTS", "is empty"));
            }
            Some(p) => p.clone(),
            None => DEFAULT_INSTANCE_HOSTS
                .iter()
                .map(|p| HostPattern::parse(p).expect("valid default"))
                .collect(),
        };
        if self.connect_timeout.is_zero() {
            return Err(self.err(
                "connect_timeout",
                "SFCRM_CONNECT_TIMEOUT_MS",
                "must be positive",
            ));
        }
        if self.request_timeout.is_zero() {
            return Err(self.err(
                "request_timeout",
                "SFCRM_REQUEST_TIMEOUT_MS",
                "must be positive",
            ));
        }
        if self.token_timeout.is_zero() {
            return Err(self.err(
                "token_timeout",
                "SFCRM_TOKEN_TIMEOUT_MS",
                "must be positive",
            ));
        }
        // Token calls use their own timeout, never longer than the API timeout.
        let token_timeout = self.token_timeout.min(self.request_timeout);
        if self.refresh_lease_ttl <= token_timeout {
            return Err(self.err(
                "refresh_lease_ttl",
                "SFCRM_REFRESH_LEASE_TTL_MS",
                "the refresh lease must outlive the token request timeout (SFCRM_TOKEN_TIMEOUT_MS)",
            ));
        }
        if self.retry.initial_backoff > self.retry.max_backoff {
            return Err(self.err(
                "retry",
                "SFCRM_INITIAL_BACKOFF_MS",
                "exceeds the maximum backoff (SFCRM_MAX_BACKOFF_MS)",
            ));
        }
        if self.retry.max_retries > 20 {
            return Err(self.err("retry", "SFCRM_MAX_RETRIES", "must be at most 20"));
        }
        if let Some(b) = self.batch_size
            && !(200..=2000).contains(&b)
        {
            return Err(self.err(
                "batch_size",
                "SFCRM_BATCH_SIZE",
                "must be between 200 and 2000",
            ));
        }
        Ok(Config {
            client_id: client_id.trim().to_owned(),
            client_secret,
            redirect_uri: redirect_uri.trim().to_owned(),
            scopes,
            login_url,
            api_version,
            state_secret,
            state_ttl: self.state_ttl,
            forward_origins,
            instance_hosts,
            connect_timeout: self.connect_timeout,
            request_timeout: self.request_timeout,
            token_timeout,
            retry: self.retry,
            refresh_wait: self.refresh_wait,
            refresh_lease_ttl: self.refresh_lease_ttl,
            count_cache_ttl: self.count_cache_ttl,
            batch_size: self.batch_size,
        })
    }
}

/// `48.0` / `v48.0` / `V48.0` → `v48.0`; anything else → None.
fn normalize_api_version(v: &str) -> Option<String> {
    let v = v.trim();
    let n = v
        .strip_prefix('v')
        .or_else(|| v.strip_prefix('V'))
        .unwrap_or(v);
    let (major, minor) = n.split_once('.')?;
    if major.is_empty() || minor.is_empty() || major.len() > 3 || minor.len() > 2 {
        return None;
    }
    if !major.bytes().all(|b| b.is_ascii_digit()) || !minor.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("v{major}.{minor}"))
}

/// The seed stores scopes URL-encoded (`api%20id%20web%20refresh_token`); accept that and plain text.
fn decode_scopes(s: &str) -> std::result::Result<String, String> {
    let decoded = if s.contains('%') || s.contains('+') {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .map_err(|_| "is not valid UTF-8 after URL decoding".to_string())?
            .into_owned()
    } else {
        s.to_owned()
    };
    let joined = decoded.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.is_empty() {
        Err("is empty".into())
    } else {
        Ok(joined)
    }
}

fn parse_num<T: std::str::FromStr>(name: &str, v: &str) -> Result<T> {
    v.trim()
        .parse::<T>()
        .map_err(|_| Error::config(format!("{name}: `{v}` is not a valid non-negative integer")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use std::collections::HashMap;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let mut m: HashMap<String, String> = [
            ("SALESFORCE_CLIENT_ID", "3MVGFAKECLIENT"),
            ("SALESFORCE_SECRET_ID", "FAKESECRET"),
            (
                "SALESFORCE_REDIRECT_URL",
                "https://app.acme.example/callback",
            ),
            ("SFCRM_STATE_SECRET", SECRET),
            ("SFCRM_FORWARD_ORIGINS", "https://app.acme.example"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in pairs {
            if v.is_empty() {
                m.remove(*k);
            } else {
                m.insert(k.to_string(), v.to_string());
            }
        }
        move |k| m.get(k).cloned()
    }

    #[test]
    fn env_defaults() {
        let c = Config::from_lookup(env(&[])).unwrap();
        assert_eq!(c.scopes(), "api id web refresh_token");
        assert_eq!(c.login_url(), "https://login.salesforce.com");
        assert_eq!(c.api_version(), "v48.0");
        assert_eq!(c.state_ttl(), Duration::from_secs(3600));
        assert_eq!(c.request_timeout(), Duration::from_secs(120));
        assert_eq!(c.connect_timeout(), Duration::from_secs(10));
        assert_eq!(c.retry(), RetryPolicy::default());
        assert_eq!(c.batch_size(), None);
        assert!(!format!("{c:?}").contains("FAKESECRET"));
        assert!(!format!("{c:?}").contains(SECRET));
    }

    #[test]
    fn env_seed_url_encoded_scopes_and_version_without_v() {
        let c = Config::from_lookup(env(&[
            ("SALESFORCE_AUTH_SCOPES", "api%20id%20web%20refresh_token"),
            ("SALESFORCE_API_VERSION", "59.0"),
            ("SALESFORCE_LOGIN_URL", "https://test.salesforce.com/"),
            ("SFCRM_BATCH_SIZE", "500"),
            ("SFCRM_MAX_RETRIES", "0"),
        ]))
        .unwrap();
        assert_eq!(c.scopes(), "api id web refresh_token");
        assert_eq!(c.api_version(), "v59.0");
        assert_eq!(c.login_url(), "https://test.salesforce.com");
        assert_eq!(c.batch_size(), Some(500));
        assert_eq!(c.retry().max_retries, 0);
    }

    #[test]
    fn from_lookup_reads_exactly_env_variables_in_order() {
        let asked = std::sync::Mutex::new(Vec::new());
        let base = env(&[]);
        Config::from_lookup(|name| {
            asked.lock().unwrap().push(name.to_owned());
            base(name)
        })
        .unwrap();
        let asked = asked.into_inner().unwrap();
        assert_eq!(asked, ENV_VARIABLES.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    }

    #[test]
    fn env_tunes_timeouts_backoff_lease_and_count_cache() {
        let c = Config::from_lookup(env(&[
            ("SFCRM_INITIAL_BACKOFF_MS", "50"),
            ("SFCRM_MAX_BACKOFF_MS", "60000"),
            ("SFCRM_TOKEN_TIMEOUT_MS", "15000"),
            ("SFCRM_REFRESH_LEASE_TTL_MS", "45000"),
            ("SFCRM_REFRESH_WAIT_MS", "20000"),
            ("SFCRM_COUNT_CACHE_TTL_SECS", "5"),
        ]))
        .unwrap();
        assert_eq!(c.retry().initial_backoff, Duration::from_millis(50));
        assert_eq!(c.retry().max_backoff, Duration::from_secs(60));
        assert_eq!(c.token_timeout(), Duration::from_secs(15));
        assert_eq!(c.refresh_lease_ttl(), Duration::from_secs(45));
        assert_eq!(c.refresh_wait(), Duration::from_secs(20));
        assert_eq!(c.count_cache_ttl(), Duration::from_secs(5));
    }

    #[test]
    fn env_errors_name_the_variable() {
        let cases: &[(&str, &str, &str)] = &[
            ("SALESFORCE_CLIENT_ID", "", "SALESFORCE_CLIENT_ID"),
            ("SALESFORCE_SECRET_ID", "", "SALESFORCE_SECRET_ID"),
            (
                "SALESFORCE_REDIRECT_URL",
                "not a url",
                "SALESFORCE_REDIRECT_URL",
            ),
            ("SFCRM_STATE_SECRET", "short", "SFCRM_STATE_SECRET"),
            ("SFCRM_FORWARD_ORIGINS", "", "SFCRM_FORWARD_ORIGINS"),
            (
                "SFCRM_FORWARD_ORIGINS",
                "ftp://x.example",
                "SFCRM_FORWARD_ORIGINS",
            ),
            (
                "SFCRM_FORWARD_ORIGINS",
                "https://x.example/path",
                "SFCRM_FORWARD_ORIGINS",
            ),
            ("SFCRM_BATCH_SIZE", "100", "SFCRM_BATCH_SIZE"),
            ("SFCRM_BATCH_SIZE", "abc", "SFCRM_BATCH_SIZE"),
            ("SFCRM_STATE_TTL_SECS", "-1", "SFCRM_STATE_TTL_SECS"),
            ("SFCRM_CONNECT_TIMEOUT_MS", "0", "SFCRM_CONNECT_TIMEOUT_MS"),
            ("SALESFORCE_API_VERSION", "latest", "SALESFORCE_API_VERSION"),
            (
                "SALESFORCE_LOGIN_URL",
                "http://login.salesforce.com",
                "SALESFORCE_LOGIN_URL",
            ),
            ("SFCRM_INSTANCE_HOSTS", "*", "SFCRM_INSTANCE_HOSTS"),
            ("SALESFORCE_LOGIN_URL", "https://login.salesforce.com/services", "SALESFORCE_LOGIN_URL"),
            ("SFCRM_TOKEN_TIMEOUT_MS", "0", "SFCRM_TOKEN_TIMEOUT_MS"),
            ("SFCRM_REFRESH_LEASE_TTL_MS", "1000", "SFCRM_REFRESH_LEASE_TTL_MS"),
            ("SFCRM_INITIAL_BACKOFF_MS", "999999", "SFCRM_INITIAL_BACKOFF_MS"),
            ("SFCRM_MAX_BACKOFF_MS", "x", "SFCRM_MAX_BACKOFF_MS"),
            ("SFCRM_REFRESH_WAIT_MS", "-5", "SFCRM_REFRESH_WAIT_MS"),
            ("SFCRM_COUNT_CACHE_TTL_SECS", "soon", "SFCRM_COUNT_CACHE_TTL_SECS"),
        ];
        for (var, val, named) in cases {
            let e = Config::from_lookup(env(&[(var, val)])).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{var}={val}");
            assert!(e.message().contains(named), "{var}={val}: {}", e.message());
        }
    }

    #[test]
    fn builder_forward_origins_required_and_star_explicit() {
        let base = || {
            Config::builder()
                .client_id("id")
                .client_secret("s")
                .redirect_uri("http://localhost:8080/cb")
                .state_secret(SECRET)
        };
        let e = base().build().unwrap_err();
        assert!(e.message().contains("forward_origins"));
        let c = base().forward_origins(["*"]).build().unwrap();
        assert_eq!(c.forward_origins(), &ForwardOrigins::Any);
        let c = base()
            .forward_origins(["HTTPS://App.Example.com:443"])
            .build()
            .unwrap();
        let o = Origin::parse("https://app.example.com").unwrap();
        assert!(c.forward_origins().allows(&o));
        let e = base()
            .forward_origins(Vec::<String>::new())
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
    }

    #[test]
    fn instance_hosts_default_allow_list() {
        let c = Config::from_lookup(env(&[])).unwrap();
        let ok = |u: &str| c.instance_url_allowed(&Url::parse(u).unwrap());
        assert!(ok("https://acme.my.salesforce.com"));
        assert!(ok("https://na1.salesforce.com/services/data"));
        assert!(ok("https://acme--dev.sandbox.my.salesforce.com"));
        assert!(ok("https://acme.lightning.force.com"));
        assert!(ok("http://127.0.0.1:1234"));
        assert!(ok("http://127.5.0.1:1234"));
        assert!(ok("http://localhost:1234"));
        assert!(ok("http://[::1]:1234"));
        assert!(!ok("http://acme.my.salesforce.com"));
        assert!(!ok("https://salesforce.com.evil.example"));
        assert!(!ok("https://evilsalesforce.com"));
        assert!(!ok("https://user:pw@acme.my.salesforce.com"));
        assert!(!ok("http://10.0.0.1"));
    }

    #[test]
    fn lease_must_outlive_token_timeout() {
        let e = Config::builder()
            .client_id("id")
            .client_secret("s")
            .redirect_uri("http://localhost:8080/cb")
            .state_secret(SECRET)
            .forward_origins(["*"])
            .token_timeout(Duration::from_secs(90))
            .refresh_lease_ttl(Duration::from_secs(60))
            .build()
            .unwrap_err();
        assert!(e.message().contains("refresh_lease_ttl"));
    }
}
