//! The browser side of the flow: the authorize URL, the forward-URL allow-list check (seed defect
//! D11: the seed had an open redirect) and the seed's success / error redirects.

use url::Url;

use crate::config::{Config, ForwardOrigins, Origin};
use crate::error::{Error, ErrorKind, Result};
use crate::http::encode_query_value;

/// The seed's message for a login without forward URL.
pub const MISSING_FORWARD_URL: &str = "Please provide forward_url";
/// The seed's redirect reason when the callback has no `code`.
pub const AUTH_NOT_INITIATED: &str = "Authentication not initiated";

/// `{login_url}/services/oauth2/authorize?response_type=code&client_id=…&redirect_uri=…&scope=…&state=…&code_challenge=…&code_challenge_method=S256`,
/// every value percent-encoded (space as `%20`).
pub fn authorize_url(config: &Config, state: &str, code_challenge: &str) -> String {
    let params = [
        ("response_type", "code"),
        ("client_id", config.client_id()),
        ("redirect_uri", config.redirect_uri()),
        ("scope", config.scopes()),
        ("state", state),
        ("code_challenge", code_challenge),
        ("code_challenge_method", "S256"),
    ];
    let q = params
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_query_value(v)))
        .collect::<Vec<_>>()
        .join("&");
    format!("{}/services/oauth2/authorize?{q}", config.login_url())
}

/// Checks a forward URL: present (else `MissingForwardUrl`), absolute http(s), no user info, no
/// backslash, no control characters or spaces, origin in the allow-list (else
/// `ForwardUrlNotAllowed`). Returns the URL as given (trimmed).
pub fn check_forward_url(config: &Config, forward_url: Option<&str>) -> Result<String> {
    let raw = forward_url.map(str::trim).filter(|s| !s.is_empty());
    let Some(raw) = raw else {
        return Err(Error::new(
            ErrorKind::MissingForwardUrl,
            MISSING_FORWARD_URL,
        ));
    };
    let refuse = |why: &str| {
        Error::new(
            ErrorKind::ForwardUrlNotAllowed,
            format!("forward_url is not allowed: {why}"),
        )
    };
    if raw.contains('\\') || raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(refuse(
            "it contains a backslash, a space or a control character",
        ));
    }
    if raw.starts_with("//") || raw.starts_with('/') {
        return Err(refuse("it must be an absolute http(s) URL"));
    }
    let lower = raw.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(refuse("only http and https URLs are allowed"));
    }
    // After the scheme, exactly two slashes then the authority (`https:///evil` or `https:/\evil` are tricks).
    let after = &raw[raw.find("://").map(|i| i + 3).unwrap_or(0)..];
    if after.starts_with('/') {
        return Err(refuse("malformed authority"));
    }
    let url = Url::parse(raw).map_err(|_| refuse("it is not a valid URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("it contains user info"));
    }
    // An `@` anywhere in the authority is user info even if the parser read it otherwise.
    let authority = after.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(refuse("it contains user info"));
    }
    let origin = Origin::of(&url).ok_or_else(|| refuse("it has no host"))?;
    match config.forward_origins() {
        ForwardOrigins::Any => Ok(raw.to_owned()),
        list if list.allows(&origin) => Ok(raw.to_owned()),
        _ => Err(refuse(&format!("origin {origin} is not in the allow-list"))),
    }
}

/// Appends `pairs` to `url`'s query: `?` when it has none, `&` otherwise, before any fragment.
fn append_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let (base, fragment) = match url.find('#') {
        Some(i) => (&url[..i], Some(&url[i..])),
        None => (url, None),
    };
    let q = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_query_value(v)))
        .collect::<Vec<_>>()
        .join("&");
    let sep = if !base.contains('?') {
        "?"
    } else if base.ends_with('?') || base.ends_with('&') {
        ""
    } else {
        "&"
    };
    format!("{base}{sep}{q}{}", fragment.unwrap_or(""))
}

/// The seed's success redirect: `{forward_url}?status=success&integration=salesforce`.
pub fn success_redirect(forward_url: &str) -> String {
    append_query(
        forward_url,
        &[("status", "success"), ("integration", "salesforce")],
    )
}

/// The seed's error redirect: `{forward_url}?status=error&integration=salesforce&reason=…`.
pub fn error_redirect(forward_url: &str, reason: &str) -> String {
    append_query(
        forward_url,
        &[
            ("status", "error"),
            ("integration", "salesforce"),
            ("reason", reason),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::test_support::config;

    #[test]
    fn authorize_url_is_encoded() {
        let c = config(&["*"]);
        let u = authorize_url(&c, "a.b+c", "chal");
        assert!(u.starts_with(
            "https://login.salesforce.com/services/oauth2/authorize?response_type=code&"
        ));
        assert!(u.contains("client_id=3MVG%20FAKE%2BCLIENT"));
        assert!(u.contains("redirect_uri=https%3A%2F%2Fapp.acme.example%2Fcallback%3Fx%3D1"));
        assert!(u.contains("scope=api%20id%20web%20refresh_token"));
        assert!(u.contains("state=a.b%2Bc"));
        assert!(u.contains("code_challenge=chal&code_challenge_method=S256"));
        let parsed = Url::parse(&u).unwrap();
        let scope = parsed.query_pairs().find(|(k, _)| k == "scope").unwrap().1;
        assert_eq!(scope, "api id web refresh_token");
    }

    #[test]
    fn forward_url_checks() {
        let c = config(&["https://app.acme.example", "http://localhost:3000"]);
        let ok = |u: &str| check_forward_url(&c, Some(u));
        assert!(ok("https://app.acme.example/done").is_ok());
        assert!(ok("https://APP.acme.example:443/done?x=1#f").is_ok());
        assert!(ok("http://localhost:3000/cb").is_ok());
        assert_eq!(
            check_forward_url(&c, None).unwrap_err().kind(),
            ErrorKind::MissingForwardUrl
        );
        assert_eq!(
            check_forward_url(&c, Some("  ")).unwrap_err().kind(),
            ErrorKind::MissingForwardUrl
        );
        for bad in [
            "https://evil.example/",
            "https://app.acme.example.evil.example/",
            "https://app.acme.example@evil.example/",
            "https://user:pw@app.acme.example/",
            "//evil.example/",
            "/relative",
            "https:\\\\evil.example",
            "https://app.acme.example\\@evil.example",
            "javascript:alert(1)",
            "ftp://app.acme.example/",
            "http://app.acme.example/",
            "https://app.acme.example:8443/",
            "http://localhost:3001/",
            "https:///evil.example",
            "https://app.acme.example /x",
        ] {
            assert_eq!(
                ok(bad).unwrap_err().kind(),
                ErrorKind::ForwardUrlNotAllowed,
                "{bad}"
            );
        }
    }

    #[test]
    fn redirects_append_correctly() {
        assert_eq!(
            success_redirect("https://a.example/x"),
            "https://a.example/x?status=success&integration=salesforce"
        );
        assert_eq!(
            success_redirect("https://a.example/x?tab=1"),
            "https://a.example/x?tab=1&status=success&integration=salesforce"
        );
        assert_eq!(
            success_redirect("https://a.example/x?tab=1#frag"),
            "https://a.example/x?tab=1&status=success&integration=salesforce#frag"
        );
        assert_eq!(
            success_redirect("https://a.example/x?"),
            "https://a.example/x?status=success&integration=salesforce"
        );
        assert_eq!(
            error_redirect("https://a.example/#/route", "Authentication not initiated"),
            "https://a.example/?status=error&integration=salesforce&reason=Authentication%20not%20initiated#/route"
        );
    }

}
