//! The token endpoint: the authorization-code and refresh-token grants, their response
//! ([`TokenResponse`]), and revoke [salesforce-api.md §2, §3].

use serde_json::Value;

use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::http::Transport;
use crate::secret::Secret;
use crate::usage::CallKind;

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
    let body = transport
        .post_form(&token_url(config), &form, CallKind::TokenCode)
        .await?;
    TokenResponse::from_json(&body)
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
    let body = transport
        .post_form_until(&token_url(config), &form, CallKind::TokenRefresh, deadline)
        .await?;
    TokenResponse::from_json(&body)
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
