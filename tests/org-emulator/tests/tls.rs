//! `EmulatorConfig::tls`: every port serves HTTPS with a certificate chained to the generated CA,
//! the URLs (and the `instance_url` in token responses) are `https://`, and a client that does not
//! trust the CA is refused.

mod common;

use common::*;
use serde_json::Value;
use sf_org_emulator::EmulatorConfig;

fn trusting(emu: &sf_org_emulator::Emulator) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(emu.tls_ca_pem().expect("CA with tls").as_bytes()).unwrap();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tls_certs_only([ca])
        .build()
        .unwrap()
}

#[tokio::test]
async fn tls_serves_https_on_login_and_instance_hosts() {
    let emu = start(EmulatorConfig { tls: true, contacts: 10, ..Default::default() }).await;
    assert!(emu.login_url().starts_with("https://127.0.0.1:"));
    assert!(emu.instance_url().starts_with("https://127.0.0.1:"));
    assert!(emu.second_instance_url().starts_with("https://127.0.0.1:"));
    assert!(emu.tls_ca_pem().unwrap().starts_with("-----BEGIN CERTIFICATE-----"));

    let c = trusting(&emu);
    let info: Value = c.get(format!("{}/__emulator/info", emu.login_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["instance_urls"][0], emu.instance_url());
    let versions = c.get(format!("{}/services/data/", emu.instance_url())).send().await.unwrap();
    assert_eq!(versions.status(), 200);

    // localhost is in the certificate too.
    let port = emu.instance_url().rsplit(':').next().unwrap().to_string();
    let via_name = c.get(format!("https://localhost:{port}/services/data/")).send().await.unwrap();
    assert_eq!(via_name.status(), 200);

    // Without the CA the handshake fails; plain HTTP gets no answer.
    let untrusting = reqwest::Client::builder().tls_certs_only([]).build().unwrap();
    assert!(untrusting.get(format!("{}/services/data/", emu.instance_url())).send().await.is_err());
    let plain = emu.instance_url().replacen("https://", "http://", 1);
    assert!(http().get(format!("{plain}/services/data/")).send().await.is_err());
    emu.shutdown().await;
}

#[tokio::test]
async fn tls_off_by_default() {
    let emu = start(EmulatorConfig::default()).await;
    assert!(emu.login_url().starts_with("http://"));
    assert!(emu.tls_ca_pem().is_none());
    emu.shutdown().await;
}
