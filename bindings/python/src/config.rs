//! `sfcrm.Config`: the core [`sfcrm_core::config::Config`], built from keyword arguments or the
//! environment. Durations are **seconds** (float) on the Python side, as `time.sleep` takes them.

use std::collections::HashMap;
use std::time::Duration;

use pyo3::prelude::*;
use sfcrm_core::config::{Config as CoreConfig, RetryPolicy};

use crate::error::IntoPyResult;

/// SDK configuration (immutable). `repr()` never shows the client secret or the state secret.
#[pyclass(module = "sfcrm._native", name = "Config", frozen)]
pub struct Config {
    pub(crate) inner: CoreConfig,
}

fn secs(name: &str, v: Option<f64>) -> PyResult<Option<Duration>> {
    match v {
        None => Ok(None),
        // Beyond `Duration`'s range saturates: the core refuses anything over its maximum with a
        // `ConfigError` naming the setting (no panic on e.g. 1e20).
        Some(s) if s.is_finite() && s >= 0.0 => Ok(Some(Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX))),
        Some(s) => Err(crate::error::ConfigError::new_err(format!(
            "{name}: must be a non-negative number of seconds, got {s}"
        ))),
    }
}

#[pymethods]
impl Config {
    /// Builds a configuration. Required: `client_id`, `client_secret`, `redirect_uri`,
    /// `state_secret` (>= 32 bytes, signs the OAuth state) and `forward_origins` (origins such as
    /// `"https://app.example.com"`, or `["*"]`). Durations are in seconds. Raises `ConfigError`
    /// naming the bad setting. `describe_cache_ttl`: how long `describe` results are reused (0
    /// disables the cache); `max_query_uri_bytes`: the longest query URI one request may use
    /// (1024..16384; a longer all-fields SELECT is split into queries joined by Id).
    #[new]
    #[pyo3(signature = (
        client_id, client_secret, redirect_uri, state_secret, forward_origins, *,
        scopes=None, login_url=None, api_version=None, state_ttl=None, instance_hosts=None,
        connect_timeout=None, request_timeout=None, token_timeout=None, max_retries=None,
        initial_backoff=None, max_backoff=None, refresh_wait=None, refresh_lease_ttl=None,
        count_cache_ttl=None, batch_size=None, describe_cache_ttl=None, max_query_uri_bytes=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        client_id: String,
        client_secret: String,
        redirect_uri: String,
        state_secret: String,
        forward_origins: Vec<String>,
        scopes: Option<String>,
        login_url: Option<String>,
        api_version: Option<String>,
        state_ttl: Option<f64>,
        instance_hosts: Option<Vec<String>>,
        connect_timeout: Option<f64>,
        request_timeout: Option<f64>,
        token_timeout: Option<f64>,
        max_retries: Option<u32>,
        initial_backoff: Option<f64>,
        max_backoff: Option<f64>,
        refresh_wait: Option<f64>,
        refresh_lease_ttl: Option<f64>,
        count_cache_ttl: Option<f64>,
        batch_size: Option<u32>,
        describe_cache_ttl: Option<f64>,
        max_query_uri_bytes: Option<usize>,
    ) -> PyResult<Self> {
        let mut b = CoreConfig::builder()
            .client_id(client_id)
            .client_secret(client_secret)
            .redirect_uri(redirect_uri)
            .state_secret(state_secret)
            .forward_origins(forward_origins)
            .batch_size(batch_size);
        if let Some(s) = scopes {
            b = b.scopes(s);
        }
        if let Some(s) = login_url {
            b = b.login_url(s);
        }
        if let Some(s) = api_version {
            b = b.api_version(s);
        }
        if let Some(h) = instance_hosts {
            b = b.instance_hosts(h).py_err()?;
        }
        if let Some(d) = secs("state_ttl", state_ttl)? {
            b = b.state_ttl(d);
        }
        if let Some(d) = secs("connect_timeout", connect_timeout)? {
            b = b.connect_timeout(d);
        }
        if let Some(d) = secs("request_timeout", request_timeout)? {
            b = b.request_timeout(d);
        }
        if let Some(d) = secs("token_timeout", token_timeout)? {
            b = b.token_timeout(d);
        }
        if let Some(d) = secs("refresh_wait", refresh_wait)? {
            b = b.refresh_wait(d);
        }
        if let Some(d) = secs("refresh_lease_ttl", refresh_lease_ttl)? {
            b = b.refresh_lease_ttl(d);
        }
        if let Some(d) = secs("count_cache_ttl", count_cache_ttl)? {
            b = b.count_cache_ttl(d);
        }
        if let Some(d) = secs("describe_cache_ttl", describe_cache_ttl)? {
            b = b.describe_cache_ttl(d);
        }
        if let Some(n) = max_query_uri_bytes {
            b = b.max_query_uri_bytes(n);
        }
        if max_retries.is_some() || initial_backoff.is_some() || max_backoff.is_some() {
            let mut r = RetryPolicy::default();
            if let Some(n) = max_retries {
                r.max_retries = n;
            }
            if let Some(d) = secs("initial_backoff", initial_backoff)? {
                r.initial_backoff = d;
            }
            if let Some(d) = secs("max_backoff", max_backoff)? {
                r.max_backoff = d;
            }
            b = b.retry(r);
        }
        Ok(Config { inner: b.build().py_err()? })
    }

    /// Loads the configuration from environment variables (`SALESFORCE_CLIENT_ID`,
    /// `SALESFORCE_SECRET_ID`, `SALESFORCE_REDIRECT_URL`, `SFCRM_STATE_SECRET`,
    /// `SFCRM_FORWARD_ORIGINS`, ... as listed in the README). `env` defaults to `os.environ`; pass
    /// any mapping to load from elsewhere. Raises `ConfigError` naming the variable.
    #[staticmethod]
    #[pyo3(signature = (env=None))]
    fn from_env(py: Python<'_>, env: Option<HashMap<String, String>>) -> PyResult<Self> {
        let env = match env {
            Some(e) => e,
            None => py.import("os")?.getattr("environ")?.call_method0("copy")?.extract()?,
        };
        Ok(Config { inner: CoreConfig::from_lookup(|name| env.get(name).cloned()).py_err()? })
    }

    /// Connected app consumer key.
    #[getter]
    fn client_id(&self) -> &str {
        self.inner.client_id()
    }
    /// OAuth callback URL registered on the connected app.
    #[getter]
    fn redirect_uri(&self) -> &str {
        self.inner.redirect_uri()
    }
    /// Login host base URL (e.g. `https://login.salesforce.com`).
    #[getter]
    fn login_url(&self) -> &str {
        self.inner.login_url()
    }
    /// REST API version, normalized (`v48.0`).
    #[getter]
    fn api_version(&self) -> &str {
        self.inner.api_version()
    }
    /// OAuth scopes, space separated.
    #[getter]
    fn scopes(&self) -> &str {
        self.inner.scopes()
    }
    /// Default query batch size, or None for Salesforce's default (2000).
    #[getter]
    fn batch_size(&self) -> Option<u32> {
        self.inner.batch_size()
    }
    /// API request timeout in seconds.
    #[getter]
    fn request_timeout(&self) -> f64 {
        self.inner.request_timeout().as_secs_f64()
    }
    /// How long describe results are reused, in seconds (0: not cached).
    #[getter]
    fn describe_cache_ttl(&self) -> f64 {
        self.inner.describe_cache_ttl().as_secs_f64()
    }
    /// The longest query URI (bytes) one request may use.
    #[getter]
    fn max_query_uri_bytes(&self) -> usize {
        self.inner.max_query_uri_bytes()
    }

    fn __repr__(&self) -> String {
        format!(
            "Config(client_id={:?}, redirect_uri={:?}, login_url={:?}, api_version={:?}, client_secret=***, state_secret=***)",
            self.inner.client_id(),
            self.inner.redirect_uri(),
            self.inner.login_url(),
            self.inner.api_version()
        )
    }
}
