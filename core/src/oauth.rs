//! OAuth 2.0 web server flow pieces: signed `state`, PKCE S256, the authorize URL, forward-URL
//! checks and redirects, and the token endpoint (code grant, refresh grant, revoke).
//!
//! - `state` is a JWT signed with HS256 only (pinned; `none` and every other algorithm are
//!   refused) carrying `aid`, `uid`, `forward_url`, `exp`, `iat` and a random `nonce`
//!   (seed defect D11: the seed's state had no expiry binding to PKCE and no allow-list).
//! - PKCE: the code_verifier is derived, not stored:
//!   `base64url(HMAC-SHA256(state_secret, "pkce:" + nonce))` (43 chars, RFC 7636 charset), and the
//!   challenge is `base64url(SHA-256(verifier))` without padding [salesforce-api.md §1].

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use crate::config::{Config, ForwardOrigins, Origin};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Transport, encode_query_value};
use crate::usage::CallKind;
use crate::secret::Secret;
use crate::store::ConnectionKey;

/// The seed's message for a state that does not verify.
pub const INVALID_STATE: &str = "Invalid State";
/// The seed's message for a login without forward URL.
pub const MISSING_FORWARD_URL: &str = "Please provide forward_url";
/// The seed's redirect reason when the callback has no `code`.
pub const AUTH_NOT_INITIATED: &str = "Authentication not initiated";
/// Clock skew tolerated when checking `exp` (seconds).
pub const STATE_LEEWAY_SECS: u64 = 5;

/// Claims of the signed `state` (the seed's `aid`, `uid`, `forward_url` plus `exp`, `iat`, `nonce`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateClaims {
    /// Account id.
    pub aid: String,
    /// User id (stored as `owner`).
    pub uid: String,
    /// Where the user goes after the callback.
    pub forward_url: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Random nonce (base64url of 16 bytes); input of the PKCE code_verifier.
    pub nonce: String,
}

impl StateClaims {
    /// The connection this state belongs to.
    pub fn key(&self) -> ConnectionKey {
        ConnectionKey::new(self.aid.clone(), self.uid.clone())
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Signs a new state for `key` and `forward_url` (HS256, lifetime `config.state_ttl()`).
pub fn sign_state(
    config: &Config,
    key: &ConnectionKey,
    forward_url: &str,
) -> Result<(String, StateClaims)> {
    let mut nonce = [0u8; 16];
    rand::rng().fill_bytes(&mut nonce);
    let iat = now_secs();
    let claims = StateClaims {
        aid: key.account_id.clone(),
        uid: key.owner.clone(),
        forward_url: forward_url.to_owned(),
        iat,
        exp: iat + config.state_ttl().as_secs().max(1),
        nonce: URL_SAFE_NO_PAD.encode(nonce),
    };
    let key = EncodingKey::from_secret(config.state_secret().expose().as_bytes()).map_err(|e| {
        Error::internal(format!("cannot use the state secret as an HS256 key: {e}"))
    })?;
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key)
        .map_err(|e| Error::internal(format!("cannot sign the OAuth state: {e}")))?;
    Ok((token, claims))
}

/// Verifies a state: HS256 only, signature, `exp` (≤ [`STATE_LEEWAY_SECS`] skew), every claim
/// present and non-empty. Any failure is `InvalidState` with the seed's message "Invalid State".
pub fn verify_state(config: &Config, state: Option<&str>) -> Result<StateClaims> {
    let invalid = || Error::new(ErrorKind::InvalidState, INVALID_STATE);
    let state = state
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(invalid)?;
    let mut v = Validation::new(Algorithm::HS256);
    v.algorithms = vec![Algorithm::HS256];
    v.leeway = STATE_LEEWAY_SECS;
    v.validate_exp = true;
    v.set_required_spec_claims(&["exp", "iat"]);
    let key = DecodingKey::from_secret(config.state_secret().expose().as_bytes())
        .map_err(|_| invalid())?;
    let data = jsonwebtoken::decode::<StateClaims>(state, &key, &v).map_err(|e| {
        tracing::debug!(target: "sfcrm::oauth", reason = %e, "state refused");
        invalid()
    })?;
    if data.header.alg != Algorithm::HS256 {
        return Err(invalid());
    }
    let c = data.claims;
    if c.aid.is_empty() || c.uid.is_empty() || c.forward_url.is_empty() || c.nonce.len() < 16 {
        return Err(invalid());
    }
    if c.exp + STATE_LEEWAY_SECS < now_secs() {
        return Err(invalid());
    }
    Ok(c)
}

/// PKCE code_verifier derived from the state secret and the state's nonce (43 chars of
/// `[A-Za-z0-9-_]`, inside RFC 7636's 43..=128 unreserved range).
pub fn pkce_verifier(state_secret: &Secret, nonce: &str) -> Secret {
    let mut mac = Hmac::<Sha256>::new_from_slice(state_secret.expose().as_bytes())
        .expect("HMAC takes any key size");
    mac.update(b"pkce:");
    mac.update(nonce.as_bytes());
    Secret::new(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// PKCE S256 challenge: `base64url(SHA-256(verifier))`, no padding [salesforce-api.md §1].
pub fn pkce_challenge(verifier: &Secret) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.expose().as_bytes()))
}

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
pub fn append_query(url: &str, pairs: &[(&str, &str)]) -> String {
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

/// A successful token endpoint response [salesforce-api.md §2]. `Debug` hides tokens.
#[derive(Debug, Clone)]
pub struct TokenResponse {
    /// Bearer token.
    pub access_token: Secret,
    /// Present on the code grant when the refresh scope was granted, and on refresh only with
    /// refresh token rotation.
    pub refresh_token: Option<Secret>,
    /// Milliseconds since the epoch, as the string Salesforce sends.
    pub issued_at: String,
    /// The org's API host.
    pub instance_url: String,
    /// Identity URL.
    pub id: Option<String>,
    /// Granted scopes.
    pub scope: Option<String>,
    /// `Bearer`.
    pub token_type: Option<String>,
    /// OIDC id_token (only with `openid`).
    pub id_token: Option<Secret>,
    /// Newer responses: the API host when it differs.
    pub api_instance_url: Option<String>,
    /// Experience Cloud URL.
    pub sfdc_community_url: Option<String>,
}

impl TokenResponse {
    /// Parses the JSON body. `issued_at` may be a string or a number; there is no `expires_in`.
    /// Missing `access_token` or `instance_url` is a `Protocol` error (no body attached).
    pub fn from_json(body: &Value) -> Result<TokenResponse> {
        let obj = body.as_object().ok_or_else(|| {
            Error::new(
                ErrorKind::Protocol,
                "the token endpoint returned a body that is not a JSON object",
            )
        })?;
        let s = |k: &str| {
            obj.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .filter(|v| !v.is_empty())
        };
        let access_token = s("access_token").ok_or_else(|| {
            Error::new(
                ErrorKind::Protocol,
                "the token response has no access_token",
            )
        })?;
        let instance_url = s("instance_url").ok_or_else(|| {
            Error::new(
                ErrorKind::Protocol,
                "the token response has no instance_url",
            )
        })?;
        let issued_at = match obj.get("issued_at") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => crate::store::now_ms().to_string(),
        };
        Ok(TokenResponse {
            access_token: Secret::new(access_token),
            refresh_token: s("refresh_token").map(Secret::new),
            issued_at,
            instance_url: instance_url.trim_end_matches('/').to_owned(),
            id: s("id"),
            scope: s("scope"),
            token_type: s("token_type"),
            id_token: s("id_token").map(Secret::new),
            api_instance_url: s("api_instance_url"),
            sfdc_community_url: s("sfdc_community_url"),
        })
    }
}

fn token_url(config: &Config) -> String {
    format!("{}/services/oauth2/token", config.login_url())
}

/// Exchanges an authorization code (with the PKCE code_verifier and the client secret in the body)
/// [salesforce-api.md §2]. Errors: `OAuth` with `oauth_error`/description/status (e.g.
/// `invalid_grant` / `expired authorization code` for a reused code, field case BR-01).
pub async fn exchange_code(
    transport: &Transport,
    config: &Config,
    code: &str,
    verifier: &Secret,
) -> Result<TokenResponse> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", config.client_id()),
        ("client_secret", config.client_secret().expose()),
        ("redirect_uri", config.redirect_uri()),
        ("code_verifier", verifier.expose()),
    ];
    let resp = transport
        .post_form(&token_url(config), &form, CallKind::TokenCode)
        .await?;
    TokenResponse::from_json(&resp.body)
}

/// Refresh-token grant [salesforce-api.md §2]. Errors: `OAuth` (`invalid_grant` means the
/// refresh token is dead; the client turns that into `ReconnectRequired`).
pub async fn refresh_grant(
    transport: &Transport,
    config: &Config,
    refresh_token: &Secret,
) -> Result<TokenResponse> {
    refresh_grant_until(transport, config, refresh_token, None).await
}

/// [`refresh_grant`] whose connection retries all finish before `deadline` (the end of the
/// caller's refresh lease; see [`Transport::post_form_until`]).
pub async fn refresh_grant_until(
    transport: &Transport,
    config: &Config,
    refresh_token: &Secret,
    deadline: Option<std::time::Instant>,
) -> Result<TokenResponse> {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose()),
        ("client_id", config.client_id()),
        ("client_secret", config.client_secret().expose()),
    ];
    let resp = transport
        .post_form_until(&token_url(config), &form, CallKind::TokenRefresh, deadline)
        .await?;
    TokenResponse::from_json(&resp.body)
}

/// `POST {login_url}/services/oauth2/revoke` with `token=…` [salesforce-api.md §3]. A refresh token
/// revokes itself and its access tokens. Errors: `OAuth` (400 `invalid_token` /
/// `unsupported_token_type`), `Network`, `Timeout`.
pub async fn revoke(transport: &Transport, config: &Config, token: &Secret) -> Result<()> {
    let url = format!("{}/services/oauth2/revoke", config.login_url());
    transport
        .post_form(&url, &[("token", token.expose())], CallKind::Revoke)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn config(origins: &[&str]) -> Config {
        Config::builder()
            .client_id("3MVG FAKE+CLIENT")
            .client_secret("FAKESECRET")
            .redirect_uri("https://app.acme.example/callback?x=1")
            .state_secret(SECRET)
            .forward_origins(origins.iter().copied())
            .build()
            .unwrap()
    }

    #[test]
    fn state_round_trip_and_tamper() {
        let c = config(&["https://app.acme.example"]);
        let key = ConnectionKey::new("acc", "user");
        let (tok, claims) = sign_state(&c, &key, "https://app.acme.example/x").unwrap();
        let back = verify_state(&c, Some(&tok)).unwrap();
        assert_eq!(back, claims);
        assert_eq!(back.key(), key);
        // Tampered payload.
        let mut parts: Vec<String> = tok.split('.').map(str::to_owned).collect();
        let mut payload: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        payload["aid"] = "other".into();
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap());
        let e = verify_state(&c, Some(&parts.join("."))).unwrap_err();
        assert_eq!(
            (e.kind(), e.message()),
            (ErrorKind::InvalidState, INVALID_STATE)
        );
        // Other secret.
        let other = Config::builder()
            .client_id("x")
            .client_secret("y")
            .redirect_uri("https://a.example/cb")
            .state_secret("ffffffffffffffffffffffffffffffffff")
            .forward_origins(["*"])
            .build()
            .unwrap();
        assert_eq!(
            verify_state(&other, Some(&tok)).unwrap_err().kind(),
            ErrorKind::InvalidState
        );
        assert_eq!(
            verify_state(&c, None).unwrap_err().kind(),
            ErrorKind::InvalidState
        );
        assert_eq!(
            verify_state(&c, Some("garbage")).unwrap_err().kind(),
            ErrorKind::InvalidState
        );
    }

    fn forge(header: &str, payload: &Value, key: &[u8], sign: bool) -> String {
        let h = URL_SAFE_NO_PAD.encode(header.as_bytes());
        let p = URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload).unwrap());
        let sig = if sign {
            let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
            mac.update(format!("{h}.{p}").as_bytes());
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        } else {
            String::new()
        };
        format!("{h}.{p}.{sig}")
    }

    #[test]
    fn state_refuses_none_other_algs_expired_and_missing_claims() {
        let c = config(&["*"]);
        let now = now_secs();
        let good = serde_json::json!({"aid":"a","uid":"u","forward_url":"https://x.example","exp":now+100,"iat":now,"nonce":"abcdefghijklmnopqrstuv"});
        // Sanity: a hand-forged HS256 token with the right key verifies.
        assert!(
            verify_state(
                &c,
                Some(&forge(
                    r#"{"alg":"HS256","typ":"JWT"}"#,
                    &good,
                    SECRET.as_bytes(),
                    true
                ))
            )
            .is_ok()
        );
        for header in [
            r#"{"alg":"none","typ":"JWT"}"#,
            r#"{"alg":"HS512","typ":"JWT"}"#,
            r#"{"alg":"HS384"}"#,
        ] {
            let t = forge(header, &good, SECRET.as_bytes(), header.contains("HS"));
            assert_eq!(
                verify_state(&c, Some(&t)).unwrap_err().kind(),
                ErrorKind::InvalidState,
                "{header}"
            );
        }
        let expired = serde_json::json!({"aid":"a","uid":"u","forward_url":"https://x.example","exp":now-30,"iat":now-100,"nonce":"abcdefghijklmnopqrstuv"});
        let t = forge(r#"{"alg":"HS256"}"#, &expired, SECRET.as_bytes(), true);
        assert_eq!(
            verify_state(&c, Some(&t)).unwrap_err().kind(),
            ErrorKind::InvalidState
        );
        let missing = serde_json::json!({"aid":"a","forward_url":"https://x.example","exp":now+100,"iat":now,"nonce":"abcdefghijklmnopqrstuv"});
        let t = forge(r#"{"alg":"HS256"}"#, &missing, SECRET.as_bytes(), true);
        assert_eq!(
            verify_state(&c, Some(&t)).unwrap_err().kind(),
            ErrorKind::InvalidState
        );
        let no_exp = serde_json::json!({"aid":"a","uid":"u","forward_url":"https://x.example","iat":now,"nonce":"abcdefghijklmnopqrstuv"});
        let t = forge(r#"{"alg":"HS256"}"#, &no_exp, SECRET.as_bytes(), true);
        assert_eq!(
            verify_state(&c, Some(&t)).unwrap_err().kind(),
            ErrorKind::InvalidState
        );
    }

    #[test]
    fn pkce_rfc7636_vector_and_shape() {
        // RFC 7636 appendix B.
        let v = Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            pkce_challenge(&v),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let v = pkce_verifier(&Secret::new(SECRET), "nonce-1");
        assert_eq!(v.expose().len(), 43);
        assert!(
            v.expose()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(v, pkce_verifier(&Secret::new(SECRET), "nonce-1"));
        assert_ne!(v, pkce_verifier(&Secret::new(SECRET), "nonce-2"));
    }

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

    #[test]
    fn token_response_parsing() {
        let body = serde_json::json!({"access_token":"00DFAKE!TOKEN1","refresh_token":"5AepFAKEREFRESH1","signature":"c2ln",
            "scope":"api refresh_token","instance_url":"https://acme.my.salesforce.example/","id":"https://login.example/id/00D/005",
            "token_type":"Bearer","issued_at":"1732950000000","api_instance_url":"https://api.example"});
        let t = TokenResponse::from_json(&body).unwrap();
        assert_eq!(t.access_token.expose(), "00DFAKE!TOKEN1");
        assert_eq!(
            t.refresh_token.as_ref().unwrap().expose(),
            "5AepFAKEREFRESH1"
        );
        assert_eq!(t.issued_at, "1732950000000");
        assert_eq!(t.instance_url, "https://acme.my.salesforce.example");
        assert_eq!(t.api_instance_url.as_deref(), Some("https://api.example"));
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("TOKEN1") && !dbg.contains("REFRESH1"));
        let t = TokenResponse::from_json(
            &serde_json::json!({"access_token":"a","instance_url":"https://x","issued_at":1}),
        )
        .unwrap();
        assert!(t.refresh_token.is_none());
        assert_eq!(t.issued_at, "1");
        assert_eq!(
            TokenResponse::from_json(&serde_json::json!([]))
                .unwrap_err()
                .kind(),
            ErrorKind::Protocol
        );
        assert_eq!(
            TokenResponse::from_json(&serde_json::json!({"access_token":"a"}))
                .unwrap_err()
                .kind(),
            ErrorKind::Protocol
        );
    }
}
