//! Shared helpers for the emulator's integration tests.
#![allow(dead_code)]

pub mod bulk;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sf_org_emulator::{Emulator, EmulatorConfig};

pub const REDIRECT: &str = "http://127.0.0.1:8765/callback";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-verifier-0123456789";

thread_local! {
    // One client per test thread (each #[tokio::test] has its own thread and runtime): building a
    // reqwest client loads the platform's trust store, which is slow.
    static CLIENT: reqwest::Client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
}

pub fn http() -> reqwest::Client {
    CLIENT.with(|c| c.clone())
}

pub async fn start(cfg: EmulatorConfig) -> Emulator {
    Emulator::start(cfg).await.expect("start emulator")
}

pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// GET authorize with PKCE; returns the Location header.
pub async fn authorize(emu: &Emulator, scope: &str, state: &str) -> reqwest::Response {
    http()
        .get(format!("{}/services/oauth2/authorize", emu.login_url()))
        .query(&[
            ("response_type", "code"),
            ("client_id", "sfcrm-demo-client"),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", state),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap()
}

/// The decoded `code` from a 302 Location (decoded exactly once).
pub fn code_from(resp: &reqwest::Response) -> String {
    assert_eq!(resp.status(), 302);
    let loc = resp.headers()["location"].to_str().unwrap();
    let url = url::Url::parse(loc).unwrap();
    url.query_pairs().find(|(k, _)| k == "code").map(|(_, v)| v.into_owned()).expect("code in Location")
}

pub async fn exchange(emu: &Emulator, code: &str, verifier: Option<&str>) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", "sfcrm-demo-client"),
        ("client_secret", "sfcrm-demo-secret"),
        ("redirect_uri", REDIRECT),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    http().post(format!("{}/services/oauth2/token", emu.login_url())).form(&form).send().await.unwrap()
}

/// Full login; returns the token response JSON.
pub async fn login(emu: &Emulator) -> Value {
    let r = authorize(emu, "api refresh_token", "st").await;
    let code = code_from(&r);
    let t = exchange(emu, &code, Some(VERIFIER)).await;
    assert_eq!(t.status(), 200);
    t.json().await.unwrap()
}

pub async fn refresh(emu: &Emulator, rt: &str) -> reqwest::Response {
    http()
        .post(format!("{}/services/oauth2/token", emu.login_url()))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", rt), ("client_id", "sfcrm-demo-client"), ("client_secret", "sfcrm-demo-secret")])
        .send()
        .await
        .unwrap()
}

pub fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("missing {k} in {v}"))
}

/// GET a data path (relative to `base`) with a bearer token.
pub async fn api(base: &str, path: &str, token: &str) -> reqwest::Response {
    http().get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap()
}

pub async fn query(base: &str, token: &str, soql: &str) -> reqwest::Response {
    http()
        .get(format!("{base}/services/data/v66.0/query"))
        .query(&[("q", soql)])
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Assert a REST error array with one entry and return (status, errorCode, message).
pub async fn rest_err(r: reqwest::Response) -> (u16, String, String) {
    let st = r.status().as_u16();
    let v: Value = r.json().await.unwrap();
    let e = &v.as_array().expect("error array")[0];
    (st, s(e, "errorCode").to_string(), s(e, "message").to_string())
}
