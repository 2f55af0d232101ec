//! Shared by the `sfcrm` command's tests: a connection made with the core straight into the
//! sealed store the command opens, and the command with the environment that points it at an
//! org emulator.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use base64::Engine;
use sf_org_emulator::Emulator;
use sfcrm_core::store::{FileStore, SealedStore, SealingKeyring};
use sfcrm_core::{CallbackParams, Client, Config, ConnectionKey};

/// The sealing key the tests and the command share (`SFCRM_SEALING_KEYS`).
pub const KEYS: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

/// Connects `cli/tester` into the sealed store the command will open (same key via SFCRM_SEALING_KEYS).
pub async fn connect(emulator: &Emulator, store_dir: &Path, redirect: &str) {
    let store = SealedStore::new(
        Arc::new(FileStore::new(store_dir.join("connections")).unwrap()),
        SealingKeyring::from_env_value(KEYS).unwrap(),
    );
    let config = Config::builder()
        .client_id("sfcrm-demo-client")
        .client_secret("sfcrm-demo-secret")
        .redirect_uri(redirect)
        .login_url(emulator.login_url())
        .state_secret(base64::engine::general_purpose::STANDARD.encode([7u8; 32]))
        .forward_origins(["http://127.0.0.1:9"])
        .build()
        .unwrap();
    let client = Client::new(config, Arc::new(store)).unwrap();
    let key = ConnectionKey::new("cli", "tester");
    let login = client.login(&key, Some("http://127.0.0.1:9/done")).await.unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = http.get(&login.url).send().await.unwrap();
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let mut p = CallbackParams::default();
    for (k, v) in location.query_pairs() {
        match k.as_ref() {
            "code" => p.code = Some(v.into_owned()),
            "state" => p.state = Some(v.into_owned()),
            _ => {}
        }
    }
    client.callback(&p).await.unwrap();
}

/// `sfcrm ARGS --owner tester` against `emulator`, with the store in `store_dir` (sealed with
/// [`KEYS`]), `redirect` as SALESFORCE_REDIRECT_URL, batches of 200 and no retries.
pub fn sfcrm(emulator: &Emulator, store_dir: &Path, redirect: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sfcrm"));
    cmd.args(args)
        .args(["--owner", "tester"])
        .env("SALESFORCE_CLIENT_ID", "sfcrm-demo-client")
        .env("SALESFORCE_SECRET_ID", "sfcrm-demo-secret")
        .env("SALESFORCE_REDIRECT_URL", redirect)
        .env("SALESFORCE_LOGIN_URL", emulator.login_url())
        .env("SFCRM_STORE_DIR", store_dir)
        .env("SFCRM_SEALING_KEYS", KEYS)
        .env("SFCRM_BATCH_SIZE", "200")
        .env("SFCRM_MAX_RETRIES", "0")
        .env_remove("SFCRM_FORWARD_ORIGINS")
        .env_remove("SFCRM_STATE_SECRET")
        .env_remove("SFCRM_LOG");
    cmd
}

/// A loopback port nothing listens on (at the time of the call).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Waits (up to 5 s) until something listens on `port`.
pub fn wait_for_listener(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("nothing listens on port {port}");
}

/// The checkpoint token the command printed after `--checkpoint `.
pub fn printed_checkpoint(stderr: &str) -> String {
    stderr
        .split("--checkpoint ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap_or_else(|| panic!("no checkpoint printed: {stderr}"))
        .to_owned()
}

/// The partial file path the command printed after `--partial `.
pub fn printed_partial(stderr: &str) -> std::path::PathBuf {
    stderr
        .split("--partial ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap_or_else(|| panic!("no partial file printed: {stderr}"))
        .into()
}
