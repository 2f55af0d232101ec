//! OAuth 2.0 web server flow pieces: signed `state`, PKCE S256, the authorize URL, forward-URL
//! checks and redirects, and the token endpoint (code grant, refresh grant, revoke).
//!
//! - `state` is a JWT signed with HS256 only (pinned; `none` and every other algorithm are
//!   refused) carrying `aid`, `uid`, `forward_url`, `exp`, `iat` and a random `nonce`
//!   (seed defect D11: the seed's state had no expiry binding to PKCE and no allow-list).
//! - PKCE: the code_verifier is derived, not stored:
//!   `base64url(HMAC-SHA256(state_secret, "pkce:" + nonce))` (43 chars, RFC 7636 charset), and the
//!   challenge is `base64url(SHA-256(verifier))` without padding [salesforce-api.md §1].
//!
//! Files: `state.rs` (the state JWT and PKCE), `redirect.rs` (authorize URL, forward-URL checks,
//! the seed's redirects), `token.rs` (token endpoint calls, [`TokenResponse`], revoke).

mod redirect;
mod state;
mod token;

pub use redirect::{
    AUTH_NOT_INITIATED, authorize_url, check_forward_url, error_redirect,
    success_redirect,
};
pub use state::{INVALID_STATE, STATE_LEEWAY_SECS, StateClaims, pkce_challenge, pkce_verifier, sign_state, verify_state};
pub use token::{TokenResponse, exchange_code, refresh_grant, refresh_grant_until, revoke};

#[cfg(test)]
mod test_support {
    use crate::config::Config;

    pub(super) const SECRET: &str = "0123456789abcdef0123456789abcdef";

    pub(super) fn config(origins: &[&str]) -> Config {
        Config::builder()
            .client_id("3MVG FAKE+CLIENT")
            .client_secret("FAKESECRET")
            .redirect_uri("https://app.acme.example/callback?x=1")
            .state_secret(SECRET)
            .forward_origins(origins.iter().copied())
            .build()
            .unwrap()
    }
}
