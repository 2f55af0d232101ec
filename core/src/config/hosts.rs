//! Host rules: the forward-URL origins `login` accepts ([`ForwardOrigins`], [`Origin`]) and the
//! instance hosts bearer tokens may be sent to ([`HostPattern`], [`is_loopback_host`]).

use std::net::IpAddr;

use url::Url;

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
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}
