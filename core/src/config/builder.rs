//! [`ConfigBuilder`]: the settings one by one, then [`ConfigBuilder::build`], which validates
//! them group by group (connected app, scopes, login host, API version, state, forward origins,
//! instance hosts, timeouts, retry and batch size).

use std::time::Duration;

use url::Url;

use super::{
    Config, DEFAULT_API_VERSION, MAX_DURATION, DEFAULT_INSTANCE_HOSTS, DEFAULT_LOGIN_URL, DEFAULT_SCOPES, ForwardOrigins,
    HostPattern, MIN_STATE_SECRET_BYTES, RetryPolicy, is_loopback_host,
};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Builder for [`Config`]; see the setter docs for defaults.
#[derive(Debug, Clone)]
pub struct ConfigBuilder {
    pub(super) env_names: bool,
    pub(super) client_id: Option<String>,
    pub(super) client_secret: Option<Secret>,
    pub(super) redirect_uri: Option<String>,
    pub(super) scopes: Option<String>,
    pub(super) login_url: Option<String>,
    pub(super) api_version: Option<String>,
    pub(super) state_secret: Option<Secret>,
    pub(super) state_ttl: Duration,
    pub(super) forward_origins: Option<ForwardOrigins>,
    pub(super) forward_origins_text: Option<Vec<String>>,
    pub(super) instance_hosts: Option<Vec<HostPattern>>,
    pub(super) connect_timeout: Duration,
    pub(super) request_timeout: Duration,
    pub(super) token_timeout: Duration,
    pub(super) retry: RetryPolicy,
    pub(super) refresh_wait: Duration,
    pub(super) refresh_lease_ttl: Duration,
    pub(super) count_cache_ttl: Duration,
    pub(super) batch_size: Option<u32>,
    pub(super) describe_cache_ttl: Duration,
    pub(super) max_query_uri_bytes: usize,
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
            describe_cache_ttl: super::DEFAULT_DESCRIBE_CACHE_TTL,
            max_query_uri_bytes: super::DEFAULT_MAX_QUERY_URI_BYTES,
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

    /// How long `Client::describe` / `describe_global` reuse a describe result per connection
    /// and sObject (default 15 minutes, see [`super::DEFAULT_DESCRIBE_CACHE_TTL`]); zero disables
    /// the cache (every call asks Salesforce).
    pub fn describe_cache_ttl(mut self, v: Duration) -> Self {
        self.describe_cache_ttl = v;
        self
    }
    /// The longest request URI (path and query string, bytes) one REST query may use (default
    /// [`super::DEFAULT_MAX_QUERY_URI_BYTES`]); an export whose SELECT would be longer is split
    /// into several queries joined by Id. 1,024..=16,384 [salesforce-api.md §5 "HTTP codes":
    /// 414 over 16,384 bytes of URI, 431 over 16,384 bytes of URI plus headers].
    pub fn max_query_uri_bytes(mut self, v: usize) -> Self {
        self.max_query_uri_bytes = v;
        self
    }

    fn name(&self, setting: &'static str, env: &'static str) -> &'static str {
        if self.env_names { env } else { setting }
    }

    fn err(&self, setting: &'static str, env: &'static str, msg: impl std::fmt::Display) -> Error {
        Error::config(format!("{}: {msg}", self.name(setting, env)))
    }

    /// Validates and builds the configuration.

    /// Validates and builds the configuration. The first invalid setting is a `Config` error
    /// naming it (the environment variable when loaded by [`Config::from_lookup`]); settings are
    /// checked in the order of the module docs' table.
    pub fn build(self) -> Result<Config> {
        let (client_id, client_secret, redirect_uri) = self.valid_credentials()?;
        let scopes = self.valid_scopes()?;
        let login_url = self.valid_login_url()?;
        let api_version = self.valid_api_version()?;
        let state_secret = self.valid_state()?;
        let forward_origins = self.valid_forward_origins()?;
        let instance_hosts = self.valid_instance_hosts()?;
        self.check_duration_bounds()?;
        let token_timeout = self.valid_timeouts()?;
        self.check_retry_and_batch()?;
        Ok(Config {
            client_id,
            client_secret,
            redirect_uri,
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
            describe_cache_ttl: self.describe_cache_ttl,
            max_query_uri_bytes: self.max_query_uri_bytes,
        })
    }

    /// The connected app: client_id and client_secret present, redirect_uri an absolute http(s)
    /// URL. Returns them trimmed (the secret as given).
    fn valid_credentials(&self) -> Result<(String, Secret, String)> {
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
        Ok((client_id.trim().to_owned(), client_secret, redirect_uri.trim().to_owned()))
    }

    /// Scopes, whitespace-normalized (default [`DEFAULT_SCOPES`]); empty is refused.
    fn valid_scopes(&self) -> Result<String> {
        match &self.scopes {
            Some(s) => {
                let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
                if s.is_empty() {
                    return Err(self.err("scopes", "SALESFORCE_AUTH_SCOPES", "is empty"));
                }
                Ok(s)
            }
            None => Ok(DEFAULT_SCOPES.to_owned()),
        }
    }

    /// The login host: an https base URL (plain http only on loopback), no path, query, fragment
    /// or user info; returned without a trailing slash (default [`DEFAULT_LOGIN_URL`]).
    fn valid_login_url(&self) -> Result<String> {
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
        Ok(lu.as_str().trim_end_matches('/').to_owned())
    }

    /// The API version as `vNN.N` (default [`DEFAULT_API_VERSION`]).
    fn valid_api_version(&self) -> Result<String> {
        normalize_api_version(self.api_version.as_deref().unwrap_or(DEFAULT_API_VERSION)).ok_or_else(|| {
            self.err(
                "api_version",
                "SALESFORCE_API_VERSION",
                "must look like 48.0 or v48.0",
            )
        })
    }

    /// The state secret (at least [`MIN_STATE_SECRET_BYTES`]) and a positive state lifetime.
    fn valid_state(&self) -> Result<Secret> {
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
        Ok(state_secret)
    }

    /// The forward-URL allow-list: required (`*` must be explicit).
    fn valid_forward_origins(&self) -> Result<ForwardOrigins> {
        match (&self.forward_origins, &self.forward_origins_text) {
            (Some(f), _) => Ok(f.clone()),
            (None, Some(list)) => ForwardOrigins::parse(&list.join(","))
                .map_err(|m| self.err("forward_origins", "SFCRM_FORWARD_ORIGINS", m)),
            (None, None) => Err(self.err(
                "forward_origins",
                "SFCRM_FORWARD_ORIGINS",
                "is not set (use `*` to allow any)",
            )),
        }
    }

    /// The instance host allow-list: non-empty when given, else [`DEFAULT_INSTANCE_HOSTS`].
    fn valid_instance_hosts(&self) -> Result<Vec<HostPattern>> {
        match &self.instance_hosts {
            Some(p) if p.is_empty() => Err(self.err("instance_hosts", "SFCRM_INSTANCE_HOSTS", "is empty")),
            Some(p) => Ok(p.clone()),
            None => Ok(DEFAULT_INSTANCE_HOSTS
                .iter()
                .map(|p| HostPattern::parse(p).expect("valid default"))
                .collect()),
        }
    }

    /// Every duration setting at most [`MAX_DURATION`] (a longer one is refused, naming it).
    fn check_duration_bounds(&self) -> Result<()> {
        for (value, setting, env) in [
            (self.state_ttl, "state_ttl", "SFCRM_STATE_TTL_SECS"),
            (self.connect_timeout, "connect_timeout", "SFCRM_CONNECT_TIMEOUT_MS"),
            (self.request_timeout, "request_timeout", "SFCRM_REQUEST_TIMEOUT_MS"),
            (self.token_timeout, "token_timeout", "SFCRM_TOKEN_TIMEOUT_MS"),
            (self.retry.initial_backoff, "retry.initial_backoff", "SFCRM_INITIAL_BACKOFF_MS"),
            (self.retry.max_backoff, "retry.max_backoff", "SFCRM_MAX_BACKOFF_MS"),
            (self.refresh_wait, "refresh_wait", "SFCRM_REFRESH_WAIT_MS"),
            (self.refresh_lease_ttl, "refresh_lease_ttl", "SFCRM_REFRESH_LEASE_TTL_MS"),
            (self.count_cache_ttl, "count_cache_ttl", "SFCRM_COUNT_CACHE_TTL_SECS"),
            (self.describe_cache_ttl, "describe_cache_ttl", "SFCRM_DESCRIBE_CACHE_TTL"),
        ] {
            if value > MAX_DURATION {
                return Err(self.err(
                    setting,
                    env,
                    format!("must be at most {} seconds (30 days)", MAX_DURATION.as_secs()),
                ));
            }
        }
        Ok(())
    }

    /// Positive timeouts, and a refresh lease that outlives a token request. Returns the token
    /// timeout in effect: never longer than the API request timeout.
    fn valid_timeouts(&self) -> Result<Duration> {
        for (value, setting, env) in [
            (self.connect_timeout, "connect_timeout", "SFCRM_CONNECT_TIMEOUT_MS"),
            (self.request_timeout, "request_timeout", "SFCRM_REQUEST_TIMEOUT_MS"),
            (self.token_timeout, "token_timeout", "SFCRM_TOKEN_TIMEOUT_MS"),
        ] {
            if value.is_zero() {
                return Err(self.err(setting, env, "must be positive"));
            }
        }
        let token_timeout = self.token_timeout.min(self.request_timeout);
        if self.refresh_lease_ttl <= token_timeout {
            return Err(self.err(
                "refresh_lease_ttl",
                "SFCRM_REFRESH_LEASE_TTL_MS",
                "the refresh lease must outlive the token request timeout (SFCRM_TOKEN_TIMEOUT_MS)",
            ));
        }
        Ok(token_timeout)
    }

    /// The retry policy (initial backoff within the cap, at most 20 retries) and the batch size
    /// (200..=2000 when set).
    fn check_retry_and_batch(&self) -> Result<()> {
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
        if !(1024..=16_384).contains(&self.max_query_uri_bytes) {
            return Err(self.err(
                "max_query_uri_bytes",
                "SFCRM_MAX_QUERY_URI_BYTES",
                "must be between 1024 and 16384 (Salesforce refuses a longer URI with 414)",
            ));
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::config::Origin;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

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
