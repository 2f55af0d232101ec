//! The OAuth `state` (a JWT signed with HS256 only) and PKCE S256, whose code_verifier is derived
//! from the state secret and the state's nonce instead of being stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;
use crate::store::ConnectionKey;

/// The seed's message for a state that does not verify.
pub const INVALID_STATE: &str = "Invalid State";
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
        exp: iat.saturating_add(config.state_ttl().as_secs().max(1)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::test_support::{SECRET, config};
    use serde_json::Value;

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

}
