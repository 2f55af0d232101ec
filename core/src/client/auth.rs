//! The seed's connection endpoints on [`Client`]: login (authorize URL), callback (code grant,
//! connection stored), disconnect (revoke + delete), connection_info; and their result types.

use super::{CAS_ATTEMPTS, Client, check_key, host_of, not_connected};
use crate::error::{Error, ErrorKind, Result};
use crate::oauth;
use crate::store::{ConnectionDocument, ConnectionKey, DOCUMENT_SCHEMA, SaveOutcome, StoredToken, next_version, now_ms};

/// Result of [`Client::login`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRedirect {
    /// Where to send the user's browser (302): the authorize URL, or the forward URL with
    /// `status=success&integration=salesforce` when already connected.
    pub url: String,
    /// True when a valid connection already existed (no OAuth flow started).
    pub already_connected: bool,
}

/// Query parameters of the OAuth callback, each URL-decoded exactly once by the host's router
/// [salesforce-api.md §1]. `Debug` hides `code` and `state`.
#[derive(Clone, Default)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<String>,
    /// The signed state returned by Salesforce.
    pub state: Option<String>,
    /// `error` (e.g. `access_denied`, or `access-denied` per Salesforce's help page).
    pub error: Option<String>,
    /// `error_description`.
    pub error_description: Option<String>,
}

impl std::fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackParams")
            .field("code", &self.code.as_ref().map(|_| "***"))
            .field("state", &self.state.as_ref().map(|_| "***"))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .finish()
    }
}

/// How a callback ended (both outcomes redirect to the forward URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// The connection is stored.
    Success,
    /// The user denied access, the code was missing, or the token endpoint refused; `reason` is in
    /// the redirect's `reason=` parameter.
    Error {
        /// Human reason (Salesforce's `error_description` when there is one).
        reason: String,
    },
}

/// Result of [`Client::callback`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackRedirect {
    /// Where to send the user's browser (302).
    pub url: String,
    /// The connection the state belonged to.
    pub key: Option<ConnectionKey>,
    /// Success or error (with its reason).
    pub outcome: CallbackOutcome,
    /// When this callback replaced a stored connection (a second tab, parallel flows), its refresh
    /// token is revoked at Salesforce so that no replaced grant stays valid (a refresh token
    /// revokes itself and its access tokens [salesforce-api.md §3]). `Some(reason)` when that
    /// revoke failed: the new connection is stored anyway and the old grant may still be valid
    /// at Salesforce (the user can revoke it under Connected Apps OAuth Usage). `None` when
    /// nothing was replaced or the revoke succeeded. Never contains a token.
    pub replaced_revoke_error: Option<String>,
}

/// Result of [`Client::disconnect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnected {
    /// True when Salesforce confirmed the revoke.
    pub revoked: bool,
    /// Why the revoke failed (the document is deleted anyway).
    pub revoke_error: Option<String>,
}

/// A stored connection without its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The seed's `account_id`.
    pub account_id: String,
    /// The seed's `owner`.
    pub owner: String,
    /// The org's API host.
    pub instance_url: String,
    /// When the access token was issued (ms since epoch, Salesforce's string).
    pub issued_at: String,
    /// Granted scopes.
    pub scope: Option<String>,
    /// Identity URL.
    pub id: Option<String>,
    /// Document version.
    pub version: u64,
    /// True once the refresh token is known dead.
    pub token_invalidated: bool,
    /// True when a refresh token is stored.
    pub has_refresh_token: bool,
}

impl From<&ConnectionDocument> for ConnectionInfo {
    fn from(d: &ConnectionDocument) -> Self {
        ConnectionInfo {
            account_id: d.account_id.clone(),
            owner: d.owner.clone(),
            instance_url: d.instance_url.clone(),
            issued_at: d.token.issued_at.clone(),
            scope: d.scope.clone(),
            id: d.id.clone(),
            version: d.version,
            token_invalidated: d.token_invalidated,
            has_refresh_token: d.token.refresh_token.is_some(),
        }
    }
}

impl Client {
    /// The seed's getLogin. Checks the forward URL (`MissingForwardUrl`, `ForwardUrlNotAllowed`);
    /// a valid stored connection redirects to `{forward_url}?status=success&integration=salesforce`;
    /// an invalidated one is deleted and a new flow starts; otherwise returns the authorize URL with
    /// a signed state and PKCE S256.
    pub async fn login(
        &self,
        key: &ConnectionKey,
        forward_url: Option<&str>,
    ) -> Result<LoginRedirect> {
        check_key(key)?;
        let config = &self.inner.config;
        let forward = oauth::check_forward_url(config, forward_url)?;
        if let Some(doc) = self.load(key).await? {
            if !doc.token_invalidated {
                return Ok(LoginRedirect {
                    url: oauth::success_redirect(&forward),
                    already_connected: true,
                });
            }
            self.inner.store.delete(key).await?;
        }
        let (state, claims) = oauth::sign_state(config, key, &forward)?;
        let verifier = oauth::pkce_verifier(config.state_secret(), &claims.nonce);
        let url = oauth::authorize_url(config, &state, &oauth::pkce_challenge(&verifier));
        tracing::debug!(target: "sfcrm::client", key = %key, "login: authorize URL built");
        Ok(LoginRedirect {
            url,
            already_connected: false,
        })
    }

    /// The seed's callback. The state is verified first (`Err(InvalidState)`, "Invalid State").
    /// Then: `error` (e.g. `access_denied` / `access-denied`) → error redirect with the reason
    /// (seed defect D12); no code → reason "Authentication not initiated"; token endpoint error →
    /// error redirect with its `error_description`; success → the connection is stored (version
    /// +1 through compare-and-swap; a store that fails or hangs is tried up to 4 times, each try
    /// bounded by `token_timeout`, else `Err(Store)` and nothing is stored) and the redirect says
    /// `status=success`.
    pub async fn callback(&self, params: &CallbackParams) -> Result<CallbackRedirect> {
        let config = &self.inner.config;
        let claims = oauth::verify_state(config, params.state.as_deref())?;
        let key = claims.key();
        let forward = oauth::check_forward_url(config, Some(&claims.forward_url))?;
        let error_out = |reason: String| CallbackRedirect {
            url: oauth::error_redirect(&forward, &reason),
            key: Some(key.clone()),
            outcome: CallbackOutcome::Error { reason },
            replaced_revoke_error: None,
        };
        let non_empty = |o: &Option<String>| {
            o.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        if let Some(err) = non_empty(&params.error) {
            let reason = non_empty(&params.error_description).unwrap_or(err);
            tracing::debug!(target: "sfcrm::client", key = %key, "callback: authorization refused");
            return Ok(error_out(reason));
        }
        let Some(code) = non_empty(&params.code) else {
            return Ok(error_out(oauth::AUTH_NOT_INITIATED.to_owned()));
        };
        let verifier = oauth::pkce_verifier(config.state_secret(), &claims.nonce);
        let tok = match oauth::exchange_code(&self.inner.transport, config, &code, &verifier).await
        {
            Ok(t) => t,
            Err(e) => {
                let reason = e
                    .oauth_error_description()
                    .or(e.oauth_error())
                    .map(str::to_owned)
                    .unwrap_or_else(|| e.message().to_owned());
                tracing::debug!(target: "sfcrm::client", key = %key, kind = %e.kind(), "callback: code exchange failed");
                return Ok(error_out(reason));
            }
        };
        if !self.instance_allowed(&tok.instance_url) {
            return Ok(error_out(format!(
                "Salesforce returned an instance_url ({}) outside the allowed instance hosts",
                host_of(&tok.instance_url)
            )));
        }
        // The code is spent: a store that fails (or hangs) is tried again, within bounds.
        let replaced = self.retry_store(None, || self.store_new_connection(&key, &tok)).await?;
        // Tokens this client kept unsaved for the replaced connection (refresh protocol step 7)
        // are newer than the replaced document's: those are the grant to revoke.
        let replaced = match replaced {
            Some(old) => Some(self.take_newer_unsaved(&key, &old).unwrap_or(old)),
            None => {
                self.inner.unsaved.forget(&key);
                None
            }
        };
        tracing::debug!(target: "sfcrm::client", key = %key, "callback: connection stored");
        let replaced_revoke_error = self.revoke_replaced(&key, replaced, &tok).await;
        Ok(CallbackRedirect {
            url: oauth::success_redirect(&forward),
            key: Some(key),
            outcome: CallbackOutcome::Success,
            replaced_revoke_error,
        })
    }

    /// Revokes the grant of the document a callback replaced (its refresh token, else its access
    /// token), unless it is the new grant's token or already known dead (`token_invalidated`).
    /// Each replaced document is revoked by the callback whose compare-and-swap replaced it, so
    /// after any number of parallel callbacks only the stored grant is live, and `disconnect`
    /// revokes that one. Returns why the revoke failed (reported, never an error).
    async fn revoke_replaced(
        &self,
        key: &ConnectionKey,
        replaced: Option<ConnectionDocument>,
        tok: &oauth::TokenResponse,
    ) -> Option<String> {
        let old = replaced.filter(|d| !d.token_invalidated)?;
        let token = old.token.refresh_token.clone().unwrap_or_else(|| old.token.access_token.clone());
        if Some(&token) == tok.refresh_token.as_ref() || token == tok.access_token {
            return None;
        }
        match oauth::revoke(&self.inner.transport, &self.inner.config, &token).await {
            Ok(()) => None,
            Err(e) => {
                tracing::warn!(target: "sfcrm::client", key = %key, kind = %e.kind(), "callback: revoking the replaced connection failed");
                Some(e.to_string())
            }
        }
    }

    /// The callback's compare-and-swap of a new connection document (version +1 over any stored).
    /// Returns the document it replaced, if any.
    async fn store_new_connection(
        &self,
        key: &ConnectionKey,
        tok: &oauth::TokenResponse,
    ) -> Result<Option<ConnectionDocument>> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let current = self.load(key).await?;
            let expected = current.as_ref().map(|d| d.version);
            let doc = ConnectionDocument {
                schema: DOCUMENT_SCHEMA,
                account_id: key.account_id.clone(),
                owner: key.owner.clone(),
                token: StoredToken {
                    access_token: tok.access_token.clone(),
                    refresh_token: tok.refresh_token.clone(),
                    issued_at: tok.issued_at.clone(),
                },
                token_invalidated: false,
                instance_url: tok.instance_url.clone(),
                id: tok.id.clone(),
                scope: tok.scope.clone(),
                version: next_version(expected.unwrap_or(0))?,
                refresh_lease: None,
                updated_at_ms: now_ms(),
            };
            match self.inner.store.save(&doc, expected).await? {
                SaveOutcome::Saved => return Ok(current),
                SaveOutcome::Conflict if attempts < CAS_ATTEMPTS => continue,
                SaveOutcome::Conflict => {
                    return Err(Error::new(
                        ErrorKind::StoreConflict,
                        "could not store the new connection: the document kept changing",
                    ));
                }
            }
        }
    }

    /// The seed's deleteAccessToken, plus the revoke the seed never did (defect D10): revokes the
    /// refresh token (or the access token when none) at `{login_url}/services/oauth2/revoke`, then
    /// deletes the document whatever the revoke said. `NotConnected` ("Access Token Not Found")
    /// when nothing is stored.
    pub async fn disconnect(&self, key: &ConnectionKey) -> Result<Disconnected> {
        check_key(key)?;
        let _lock = self.lock_connection(key).await;
        let Some(doc) = self.load(key).await? else {
            self.inner.unsaved.forget(key);
            return Err(not_connected());
        };
        // Tokens kept unsaved may be the newest: revoke those (the stored ones are rotated out).
        let newest = self.take_newer_unsaved(key, &doc);
        let tokens = newest.as_ref().map_or(&doc.token, |d| &d.token);
        let token = tokens
            .refresh_token
            .clone()
            .unwrap_or_else(|| tokens.access_token.clone());
        let (revoked, revoke_error) =
            match oauth::revoke(&self.inner.transport, &self.inner.config, &token).await {
                Ok(()) => (true, None),
                Err(e) => (false, Some(e.to_string())),
            };
        self.inner.store.delete(key).await?;
        Ok(Disconnected {
            revoked,
            revoke_error,
        })
    }

    /// The stored connection without secrets, or `None`.
    pub async fn connection_info(&self, key: &ConnectionKey) -> Result<Option<ConnectionInfo>> {
        check_key(key)?;
        Ok(self.load(key).await?.as_ref().map(ConnectionInfo::from))
    }
}
