//! [`Config::from_env`] / [`Config::from_lookup`]: the settings from environment variables (the
//! table in the module docs of [`crate::config`]).

use std::time::Duration;

use super::{Config, ConfigBuilder, ForwardOrigins, HostPattern};
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
    "SFCRM_DESCRIBE_CACHE_TTL",
    "SFCRM_MAX_QUERY_URI_BYTES",
];

impl Config {
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
        if let Some(s) = get("SFCRM_DESCRIBE_CACHE_TTL") {
            b.describe_cache_ttl = Duration::from_secs(parse_num("SFCRM_DESCRIBE_CACHE_TTL", &s)?);
        }
        if let Some(s) = get("SFCRM_MAX_QUERY_URI_BYTES") {
            b.max_query_uri_bytes = parse_num("SFCRM_MAX_QUERY_URI_BYTES", &s)?;
        }
        b.build()
    }
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
    use crate::config::RetryPolicy;
    use std::collections::HashMap;
    use url::Url;

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
    fn env_sets_the_describe_cache_and_the_query_uri_budget() {
        let c = Config::from_lookup(env(&[])).unwrap();
        assert_eq!(c.describe_cache_ttl(), crate::config::DEFAULT_DESCRIBE_CACHE_TTL);
        assert_eq!(c.max_query_uri_bytes(), 12_288);
        let c = Config::from_lookup(env(&[("SFCRM_DESCRIBE_CACHE_TTL", "0"), ("SFCRM_MAX_QUERY_URI_BYTES", "16384")])).unwrap();
        assert_eq!(c.describe_cache_ttl(), Duration::ZERO, "0 disables the cache");
        assert_eq!(c.max_query_uri_bytes(), 16_384);
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
            ("SFCRM_DESCRIBE_CACHE_TTL", "-1", "SFCRM_DESCRIBE_CACHE_TTL"),
            ("SFCRM_DESCRIBE_CACHE_TTL", "9999999999", "SFCRM_DESCRIBE_CACHE_TTL"),
            ("SFCRM_MAX_QUERY_URI_BYTES", "16385", "SFCRM_MAX_QUERY_URI_BYTES"),
            ("SFCRM_MAX_QUERY_URI_BYTES", "100", "SFCRM_MAX_QUERY_URI_BYTES"),
        ];
        for (var, val, named) in cases {
            let e = Config::from_lookup(env(&[(var, val)])).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{var}={val}");
            assert!(e.message().contains(named), "{var}={val}: {}", e.message());
        }
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
}
