//! OAuth web-server flow: salesforce-api.md §1–3.
mod common;
use common::*;
use serde_json::{Value, json};
use sf_org_emulator::{Consent, EmulatorConfig, RefreshTokenState};

#[tokio::test]
async fn code_pkce_happy_path_matches_token_response_shape() {
    let emu = start(EmulatorConfig::default()).await;
    let r = authorize(&emu, "api refresh_token", "a b&c").await;
    assert_eq!(r.status(), 302);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with(REDIRECT), "{loc}");
    assert!(loc.contains("%3D%3D"), "code must arrive percent-encoded: {loc}");
    assert!(loc.contains("state=a+b%26c") || loc.contains("state=a%20b%26c"), "{loc}");
    let code = code_from(&r);
    assert!(code.ends_with("=="));

    let t = exchange(&emu, &code, Some(VERIFIER)).await;
    assert_eq!(t.status(), 200);
    assert_eq!(t.headers()["cache-control"], "no-store");
    let v: Value = t.json().await.unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(keys, ["access_token", "refresh_token", "signature", "scope", "instance_url", "id", "token_type", "issued_at"]);
    assert!(s(&v, "access_token").starts_with("00D") && s(&v, "access_token").contains('!'));
    assert_eq!(s(&v, "instance_url"), emu.instance_url());
    assert_ne!(emu.instance_url(), emu.login_url());
    assert_eq!(s(&v, "scope"), "api refresh_token");
    assert_eq!(s(&v, "token_type"), "Bearer");
    assert!(s(&v, "issued_at").parse::<u64>().unwrap() > 1_700_000_000_000);
    assert!(v.get("expires_in").is_none());
    assert!(s(&v, "id").starts_with(&format!("{}/id/00D", emu.login_url())));

    // Identity URL and userinfo with the bearer token.
    let id = http().get(s(&v, "id")).bearer_auth(s(&v, "access_token")).send().await.unwrap();
    assert_eq!(id.status(), 200);
    let idv: Value = id.json().await.unwrap();
    assert_eq!(idv["user_id"], emu.control().user_id());
    assert!(s(&idv["urls"], "rest").contains("{version}"));
    let ui = http().get(format!("{}/services/oauth2/userinfo", emu.login_url())).bearer_auth(s(&v, "access_token")).send().await.unwrap();
    assert_eq!(ui.status(), 200);
    let bad = http().get(s(&v, "id")).bearer_auth("00Dnope!x").send().await.unwrap();
    assert_eq!(bad.status(), 403);

    let c = emu.control().counters();
    assert_eq!((c.authorize, c.token_authorization_code, c.identity, c.userinfo), (1, 1, 2, 1));
    emu.shutdown().await;
}

#[tokio::test]
async fn no_refresh_token_without_refresh_scope() {
    let emu = start(EmulatorConfig::default()).await;
    let code = code_from(&authorize(&emu, "api", "s").await);
    let v: Value = exchange(&emu, &code, Some(VERIFIER)).await.json().await.unwrap();
    assert!(v.get("refresh_token").is_none());
    let code = code_from(&authorize(&emu, "api offline_access", "s").await);
    let v: Value = exchange(&emu, &code, Some(VERIFIER)).await.json().await.unwrap();
    assert!(v.get("refresh_token").is_some());
}

#[tokio::test]
async fn bad_client_id_or_redirect_uri_shows_error_page_without_redirect() {
    let emu = start(EmulatorConfig { redirect_uris: vec![REDIRECT.into()], ..Default::default() }).await;
    let base = format!("{}/services/oauth2/authorize", emu.login_url());
    let r = http().get(&base).query(&[("response_type", "code"), ("client_id", "nope"), ("redirect_uri", REDIRECT)]).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    assert!(r.text().await.unwrap().contains("invalid_client_id"));
    let r = http()
        .get(&base)
        .query(&[("response_type", "code"), ("client_id", "sfcrm-demo-client"), ("redirect_uri", "http://127.0.0.1:1/other")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    assert!(r.text().await.unwrap().contains("redirect_uri_mismatch"));
    // Wrong response_type with a good redirect_uri does redirect with an error.
    let r = http().get(&base).query(&[("response_type", "token"), ("client_id", "sfcrm-demo-client"), ("redirect_uri", REDIRECT), ("state", "x")]).send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert!(r.headers()["location"].to_str().unwrap().contains("error=unsupported_response_type"));
}

#[tokio::test]
async fn consent_deny_variants() {
    let emu = start(EmulatorConfig::default()).await;
    for (mode, err) in [(Consent::Deny, "error=access_denied"), (Consent::DenyHyphen, "error=access-denied")] {
        emu.control().set_consent(mode);
        let r = authorize(&emu, "api", "st8").await;
        assert_eq!(r.status(), 302);
        let loc = r.headers()["location"].to_str().unwrap();
        assert!(loc.contains(err) && loc.contains("error_description=") && loc.contains("state=st8"), "{loc}");
        assert!(!loc.contains("code="));
    }
}

#[tokio::test]
async fn code_is_single_use_and_expires() {
    let emu = start(EmulatorConfig::default()).await;
    let code = code_from(&authorize(&emu, "api refresh_token", "s").await);
    assert_eq!(exchange(&emu, &code, Some(VERIFIER)).await.status(), 200);
    let again = exchange(&emu, &code, Some(VERIFIER)).await;
    assert_eq!(again.status(), 400);
    assert_eq!(again.headers()["cache-control"], "no-store");
    let v: Value = again.json().await.unwrap();
    assert_eq!((s(&v, "error"), s(&v, "error_description")), ("invalid_grant", "expired authorization code"));

    let code = code_from(&authorize(&emu, "api", "s").await);
    emu.control().advance_clock_ms(15 * 60 * 1000 + 1);
    let v: Value = exchange(&emu, &code, Some(VERIFIER)).await.json().await.unwrap();
    assert_eq!(s(&v, "error"), "invalid_grant");

    let v: Value = exchange(&emu, "aPrxNEVERISSUED==", Some(VERIFIER)).await.json().await.unwrap();
    assert_eq!((s(&v, "error"), s(&v, "error_description")), ("invalid_grant", "invalid authorization code"));
}

#[tokio::test]
async fn pkce_and_client_failures() {
    let emu = start(EmulatorConfig::default()).await;
    // Wrong verifier → invalid_request; missing verifier → invalid_grant [§1 PKCE failures].
    let code = code_from(&authorize(&emu, "api", "s").await);
    let v: Value = exchange(&emu, &code, Some("wrong-verifier-wrong-verifier-wrong-verifier-123")).await.json().await.unwrap();
    assert_eq!(s(&v, "error"), "invalid_request");
    let code = code_from(&authorize(&emu, "api", "s").await);
    let v: Value = exchange(&emu, &code, None).await.json().await.unwrap();
    assert_eq!(s(&v, "error"), "invalid_grant");

    // redirect_uri must match the authorize request.
    let code = code_from(&authorize(&emu, "api", "s").await);
    let r = http()
        .post(format!("{}/services/oauth2/token", emu.login_url()))
        .form(&[("grant_type", "authorization_code"), ("code", &code), ("client_id", "sfcrm-demo-client"), ("client_secret", "sfcrm-demo-secret"), ("redirect_uri", "http://127.0.0.1:8765/other"), ("code_verifier", VERIFIER)])
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(s(&v, "error"), "redirect_uri_mismatch");

    // Credentials through HTTP Basic work; a wrong secret is invalid_client; unknown id invalid_client_id.
    let code = code_from(&authorize(&emu, "api", "s").await);
    let r = http()
        .post(format!("{}/services/oauth2/token", emu.login_url()))
        .basic_auth("sfcrm-demo-client", Some("sfcrm-demo-secret"))
        .form(&[("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http()
        .post(format!("{}/services/oauth2/token", emu.login_url()))
        .basic_auth("sfcrm-demo-client", Some("bad"))
        .form(&[("grant_type", "authorization_code"), ("code", "x"), ("redirect_uri", REDIRECT)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(s(&r.json::<Value>().await.unwrap(), "error"), "invalid_client");
    let r = http().post(format!("{}/services/oauth2/token", emu.login_url())).form(&[("grant_type", "refresh_token"), ("client_id", "other"), ("refresh_token", "x")]).send().await.unwrap();
    assert_eq!(s(&r.json::<Value>().await.unwrap(), "error"), "invalid_client_id");
    let r = http().post(format!("{}/services/oauth2/token", emu.login_url())).form(&[("client_id", "sfcrm-demo-client")]).send().await.unwrap();
    assert_eq!(s(&r.json::<Value>().await.unwrap(), "error"), "invalid_request");
    let r = http().post(format!("{}/services/oauth2/token", emu.login_url())).form(&[("grant_type", "password"), ("client_id", "sfcrm-demo-client")]).send().await.unwrap();
    assert_eq!(s(&r.json::<Value>().await.unwrap(), "error"), "unsupported_grant_type");
}

#[tokio::test]
async fn refresh_without_rotation_keeps_refresh_token() {
    let emu = start(EmulatorConfig::default()).await;
    let t = login(&emu).await;
    let rt = s(&t, "refresh_token");
    for _ in 0..2 {
        let r = refresh(&emu, rt).await;
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.unwrap();
        assert!(v.get("refresh_token").is_none(), "{v}");
        assert_ne!(s(&v, "access_token"), s(&t, "access_token"));
        assert_eq!(s(&v, "instance_url"), emu.instance_url());
    }
    // The old access token still works (sessions time out, refresh does not end them).
    assert_eq!(query(emu.instance_url(), s(&t, "access_token"), "SELECT Id FROM User LIMIT 1").await.status(), 200);
    assert_eq!(emu.control().counters().token_refresh_token, 2);
}

#[tokio::test]
async fn rotation_and_family_revocation_on_replay() {
    let emu = start(EmulatorConfig { rotation: true, ..Default::default() }).await;
    let t = login(&emu).await;
    let rt1 = s(&t, "refresh_token").to_string();
    let v: Value = refresh(&emu, &rt1).await.json().await.unwrap();
    let rt2 = s(&v, "refresh_token").to_string();
    let at2 = s(&v, "access_token").to_string();
    assert_ne!(rt1, rt2);
    assert_eq!(query(emu.instance_url(), &at2, "SELECT Id FROM User LIMIT 1").await.status(), 200);
    let ctl = emu.control();
    assert_eq!(ctl.refresh_token_state(&rt1), RefreshTokenState::RotatedOut);
    assert_eq!(ctl.refresh_token_state(&rt2), RefreshTokenState::Live);
    assert_eq!(ctl.refresh_token_state("5Aep861never-issued"), RefreshTokenState::Unknown);
    assert_eq!(ctl.live_refresh_families(), 1);
    let v: Value = http()
        .post(format!("{}/__emulator/refresh_tokens/state", emu.login_url()))
        .body(json!({"refresh_token": rt1}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v, json!({"state": "rotated_out", "live_families": 1}));
    // Replay the rotated-out token: invalid_grant, and the whole family dies.
    let r = refresh(&emu, &rt1).await;
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!((s(&e, "error"), s(&e, "error_description")), ("invalid_grant", "expired access/refresh token"));
    let e: Value = refresh(&emu, &rt2).await.json().await.unwrap();
    assert_eq!(s(&e, "error"), "invalid_grant");
    let (st, code, _) = rest_err(query(emu.instance_url(), &at2, "SELECT Id FROM User").await).await;
    assert_eq!((st, code.as_str()), (401, "INVALID_SESSION_ID"));
    let (st, _, _) = rest_err(query(emu.instance_url(), s(&t, "access_token"), "SELECT Id FROM User").await).await;
    assert_eq!(st, 401);
    assert_eq!(ctl.refresh_token_state(&rt2), RefreshTokenState::Revoked);
    assert_eq!(ctl.live_refresh_families(), 0);
}

#[tokio::test]
async fn rotation_can_be_switched_at_runtime() {
    let emu = start(EmulatorConfig::default()).await;
    let t = login(&emu).await;
    emu.control().set_rotation(true);
    let v: Value = refresh(&emu, s(&t, "refresh_token")).await.json().await.unwrap();
    assert!(v.get("refresh_token").is_some());
    let e: Value = refresh(&emu, s(&t, "refresh_token")).await.json().await.unwrap();
    assert_eq!(s(&e, "error"), "invalid_grant");
}

#[tokio::test]
async fn revoke_endpoint() {
    let emu = start(EmulatorConfig::default()).await;
    let revoke = |tok: Option<&str>| {
        let form: Vec<(&str, &str)> = tok.map(|t| vec![("token", t)]).unwrap_or_default();
        http().post(format!("{}/services/oauth2/revoke", emu.login_url())).form(&form).send()
    };
    // Access token: only itself.
    let t = login(&emu).await;
    let v: Value = refresh(&emu, s(&t, "refresh_token")).await.json().await.unwrap();
    assert_eq!(revoke(Some(s(&t, "access_token"))).await.unwrap().status(), 200);
    assert_eq!(query(emu.instance_url(), s(&t, "access_token"), "SELECT Id FROM User").await.status(), 401);
    assert_eq!(query(emu.instance_url(), s(&v, "access_token"), "SELECT Id FROM User").await.status(), 200);
    // Refresh token: itself and its access tokens.
    assert_eq!(revoke(Some(s(&t, "refresh_token"))).await.unwrap().status(), 200);
    assert_eq!(query(emu.instance_url(), s(&v, "access_token"), "SELECT Id FROM User").await.status(), 401);
    assert_eq!(refresh(&emu, s(&t, "refresh_token")).await.status(), 400);
    // Errors: 400 invalid_token / unsupported_token_type.
    let r = revoke(Some(s(&t, "refresh_token"))).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(s(&r.json::<Value>().await.unwrap(), "error"), "invalid_token");
    let r = revoke(None).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(s(&r.json::<Value>().await.unwrap(), "error"), "unsupported_token_type");
    assert_eq!(emu.control().counters().revoke, 4);
}

#[tokio::test]
async fn control_expire_and_revoke_all() {
    let emu = start(EmulatorConfig::default()).await;
    let t = login(&emu).await;
    assert_eq!(emu.control().expire_sessions(), 1);
    let (st, code, msg) = rest_err(query(emu.instance_url(), s(&t, "access_token"), "SELECT Id FROM User").await).await;
    assert_eq!((st, code.as_str(), msg.as_str()), (401, "INVALID_SESSION_ID", "Session expired or invalid"));
    let v: Value = refresh(&emu, s(&t, "refresh_token")).await.json().await.unwrap();
    assert_eq!(query(emu.instance_url(), s(&v, "access_token"), "SELECT Id FROM User").await.status(), 200);
    assert_eq!(emu.control().revoke_refresh_tokens(), 1);
    assert_eq!(query(emu.instance_url(), s(&v, "access_token"), "SELECT Id FROM User").await.status(), 401);
    assert_eq!(refresh(&emu, s(&t, "refresh_token")).await.status(), 400);
}

#[tokio::test]
async fn session_lifetime_expires_tokens() {
    let emu = start(EmulatorConfig::default()).await;
    emu.control().set_session_lifetime_s(60);
    let t = login(&emu).await;
    assert_eq!(query(emu.instance_url(), s(&t, "access_token"), "SELECT Id FROM User").await.status(), 200);
    emu.control().advance_clock_ms(61_000);
    assert_eq!(query(emu.instance_url(), s(&t, "access_token"), "SELECT Id FROM User").await.status(), 401);
}

#[tokio::test]
async fn instance_move_binds_sessions_to_their_instance() {
    let emu = start(EmulatorConfig::default()).await;
    let t = login(&emu).await;
    emu.control().use_instance(1).unwrap();
    let v: Value = refresh(&emu, s(&t, "refresh_token")).await.json().await.unwrap();
    assert_eq!(s(&v, "instance_url"), emu.second_instance_url());
    let at = s(&v, "access_token");
    assert_eq!(query(emu.second_instance_url(), at, "SELECT Id FROM User").await.status(), 200);
    assert_eq!(query(emu.instance_url(), at, "SELECT Id FROM User").await.status(), 401);
    emu.control().set_instance_url_override(Some("http://127.0.0.1:9".into()));
    let v: Value = refresh(&emu, s(&t, "refresh_token")).await.json().await.unwrap();
    assert_eq!(s(&v, "instance_url"), "http://127.0.0.1:9");
}

#[tokio::test]
async fn ports_serve_their_own_paths() {
    let emu = start(EmulatorConfig::default()).await;
    let t = login(&emu).await;
    let r = query(emu.login_url(), s(&t, "access_token"), "SELECT Id FROM User").await;
    assert_eq!(r.status(), 404);
    let r = http().get(format!("{}/services/data/", emu.login_url())).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = http().post(format!("{}/services/oauth2/token", emu.instance_url())).form(&[("grant_type", "refresh_token")]).send().await.unwrap();
    assert!(r.status() == 404 || r.status() == 405, "{}", r.status());
}

#[tokio::test]
async fn debug_output_has_no_secrets_or_tokens() {
    let emu = start(EmulatorConfig::default()).await;
    let t = login(&emu).await;
    let dbg = format!("{emu:?} {:?} {:?}", emu.control(), EmulatorConfig::default());
    assert!(!dbg.contains("sfcrm-demo-secret"), "{dbg}");
    assert!(!dbg.contains(s(&t, "access_token")) && !dbg.contains(s(&t, "refresh_token")), "{dbg}");
}
