//! `sfcrm export` that stops half-way (a persistent org failure) keeps what it wrote in
//! `<out>.partial`, prints a checkpoint, and `--checkpoint` continues with no record lost or repeated.

use std::process::Command;
use std::sync::Arc;

use base64::Engine;
use sf_org_emulator::{Emulator, EmulatorConfig, Endpoint, Fault, FaultKind};
use sfcrm_core::store::{FileStore, SealedStore, SealingKeyring};
use sfcrm_core::{CallbackParams, Client, Config, ConnectionKey};

const KEYS: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

/// Connects `cli/tester` into the sealed store the command will open (same key via SFCRM_SEALING_KEYS).
async fn connect(emulator: &Emulator, store_dir: &std::path::Path, redirect: &str) {
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

fn ndjson_ids(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["Id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_that_stops_prints_a_checkpoint_and_resumes_exactly() {
    let emulator = Emulator::start(EmulatorConfig { contacts: 1000, deals: 10, notes: 10, ..EmulatorConfig::default() })
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let redirect = "http://127.0.0.1:9/callback";
    connect(&emulator, dir.path(), redirect).await;
    let run = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sfcrm"));
        cmd.args(args)
            .args(["--owner", "tester"])
            .env("SALESFORCE_CLIENT_ID", "sfcrm-demo-client")
            .env("SALESFORCE_SECRET_ID", "sfcrm-demo-secret")
            .env("SALESFORCE_REDIRECT_URL", redirect)
            .env("SALESFORCE_LOGIN_URL", emulator.login_url())
            .env("SFCRM_STORE_DIR", dir.path())
            .env("SFCRM_SEALING_KEYS", KEYS)
            .env("SFCRM_BATCH_SIZE", "200")
            .env("SFCRM_MAX_RETRIES", "0");
        cmd
    };

    // The org fails every locator request after the first batch: the export stops.
    emulator.control().add_fault(Fault { endpoint: Endpoint::QueryMore, count: 1000, kind: FaultKind::Status500 });
    let first = dir.path().join("contacts.ndjson");
    let out = run(&["export", "contacts", "--format", "ndjson", "--out", first.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!first.exists(), "an incomplete export is not renamed to --out");
    let partial = dir.path().join("contacts.ndjson.partial");
    let head = ndjson_ids(&std::fs::read_to_string(&partial).unwrap());
    assert_eq!(head.len(), 200, "{stderr}");
    let token = stderr
        .split("--checkpoint ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap_or_else(|| panic!("no checkpoint printed: {stderr}"))
        .to_owned();

    // The org recovers; the resumed run writes the rest.
    emulator.control().clear_faults();
    let second = dir.path().join("rest.ndjson");
    let out = run(&["export", "contacts", "--format", "ndjson", "--checkpoint", &token, "--out", second.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1000 records in all"));
    let tail = ndjson_ids(&std::fs::read_to_string(&second).unwrap());
    let mut all = head.clone();
    all.extend(tail);
    assert_eq!(all.len(), 1000);
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, all, "every contact exactly once, in Id order");
    emulator.shutdown().await;
}
