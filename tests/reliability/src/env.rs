//! Emulator-backed client set-up: config, authorize, connect.

use std::sync::Arc;
use std::time::Duration;

use sf_org_emulator::{Emulator, EmulatorConfig};
use sfcrm_core::{CallbackOutcome, CallbackParams, Client, Config, ConfigBuilder, ConnectionKey, RetryPolicy, TokenStore};

/// A 32+ byte state secret for tests.
pub const STATE_SECRET: &str = "reliability-state-secret-0123456789abcdef-xyz";
/// The forward URL the suite uses (origin allowed by [`test_config`]).
pub const FORWARD_URL: &str = "https://app.acme.example/integrations?tab=crm";
/// Redirect URI (any loopback http URL is accepted by the emulator).
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// Fast retries: 3 retries, 1 ms initial backoff, 20 ms cap (so fault cells stay quick).
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy { max_retries: 3, initial_backoff: Duration::from_millis(1), max_backoff: Duration::from_millis(20) }
}

/// Builder preset for a loopback login host; timeouts: connect 5 s, request 3 s, token 3 s,
/// refresh wait 5 s.
pub fn test_config(login_url: &str, client_id: &str, client_secret: &str) -> ConfigBuilder {
    Config::builder()
        .client_id(client_id)
        .client_secret(client_secret)
        .redirect_uri(REDIRECT_URI)
        .login_url(login_url)
        .state_secret(STATE_SECRET)
        .forward_origins(["https://app.acme.example"])
        .retry(fast_retry())
        .connect_timeout(Duration::from_secs(5))
        .request_timeout(Duration::from_secs(3))
        .token_timeout(Duration::from_secs(3))
        .refresh_wait(Duration::from_secs(5))
}

/// [`test_config`] for a running emulator.
pub fn emulator_config(emu: &Emulator, ecfg: &EmulatorConfig) -> ConfigBuilder {
    test_config(emu.login_url(), &ecfg.client_id, &ecfg.client_secret)
}

/// Follows an authorize URL on the emulator and returns the callback parameters.
pub async fn authorize(authorize_url: &str) -> CallbackParams {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = http.get(authorize_url).send().await.expect("authorize request");
    assert!(resp.status().is_redirection(), "authorize answered {}", resp.status());
    let loc = resp.headers().get("location").expect("Location").to_str().unwrap().to_owned();
    let url = url::Url::parse(&loc).expect("absolute Location");
    let mut p = CallbackParams::default();
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "code" => p.code = Some(v.into_owned()),
            "state" => p.state = Some(v.into_owned()),
            "error" => p.error = Some(v.into_owned()),
            "error_description" => p.error_description = Some(v.into_owned()),
            _ => {}
        }
    }
    p
}

/// login → authorize → callback for `key`; panics unless the callback succeeds.
pub async fn connect(client: &Client, key: &ConnectionKey) {
    let login = client.login(key, Some(FORWARD_URL)).await.expect("login");
    if login.already_connected {
        return;
    }
    let params = authorize(&login.url).await;
    let cb = client.callback(&params).await.expect("callback");
    assert_eq!(cb.outcome, CallbackOutcome::Success, "callback: {}", cb.url);
}

/// A client over `store` for `emu`, configured by `tweak`.
pub fn client_for(
    emu: &Emulator,
    ecfg: &EmulatorConfig,
    store: Arc<dyn TokenStore>,
    tweak: impl FnOnce(ConfigBuilder) -> ConfigBuilder,
) -> Client {
    let config = tweak(emulator_config(emu, ecfg)).build().expect("config");
    Client::new(config, store).expect("client")
}
