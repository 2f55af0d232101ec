//! Issue 7.6: forward-URL allow-list bypasses and OAuth `state` attacks. Each input gets the
//! right typed outcome: `ForwardUrlNotAllowed` / `MissingForwardUrl` from `login`, and
//! `InvalidState` from `callback` with no token request sent and nothing stored; a state swapped
//! between two users' flows fails the PKCE check at the org and stores nothing for either user.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sf_org_emulator::{Emulator, EmulatorConfig};
use sfcrm_core::protocol::StateClaims;
use sfcrm_core::{CallbackOutcome, CallbackParams, Client, ConnectionKey, ErrorKind, MemoryStore, TokenStore};
use sfcrm_reliability::env::{FORWARD_URL, STATE_SECRET, authorize, emulator_config, test_config};

fn client() -> Client {
    let config = test_config("http://127.0.0.1:9", "c", "s").build().unwrap();
    Client::new(config, Arc::new(MemoryStore::new())).unwrap()
}

#[tokio::test]
async fn forward_url_attacks() {
    let client = client();
    let key = ConnectionKey::new("acc", "usr");
    let refused = [
        "//evil.example/x",
        "///evil.example/x",
        "/\\evil.example",
        "\\\\evil.example",
        "https:\\\\evil.example",
        "https:/\\evil.example",
        "https:///evil.example",
        "https://app.acme.example\\@evil.example/",
        "https://app.acme.example@evil.example/",
        "https://evil.example@app.acme.example/",
        "https://user:pass@app.acme.example/",
        "https://app.acme.example%40evil.example/",
        "https://app.acme.example%2f@evil.example/",
        "https://app.acme.example.evil.example/",
        "https://evil.example/https://app.acme.example",
        "https://evil.example?https://app.acme.example",
        "https://evil.example#https://app.acme.example",
        "HtTpS://EVIL.example/",
        "http://app.acme.example/",
        "https://app.acme.example:8443/",
        "https://\u{430}pp.acme.example/",        // Cyrillic а
        "https://app.acme.exa\u{43c}ple/",         // Cyrillic м
        "https://xn--pp-8cd.acme.example/",
        "https://app.acme.example\u{ff0f}evil.example",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.domain)",
        "javascript://app.acme.example/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://app.acme.example/",
        "https://app.acme.exa\tmple/",
        "https://app.acme.example/\r\nLocation: https://evil.example",
        "https://app.acme.example /",
        " https://evil.example",
        "app.acme.example/x",
        "https:app.acme.example",
        "https://[::1]/",
        "https://127.0.0.1/",
    ];
    let mut n = 0;
    for url in refused {
        let e = client.login(&key, Some(url)).await.expect_err(url);
        assert_eq!(e.kind(), ErrorKind::ForwardUrlNotAllowed, "{url:?}: {e:?}");
        n += 1;
    }
    for missing in [None, Some(""), Some("   "), Some("\t\n")] {
        let e = client.login(&key, missing).await.expect_err("missing");
        assert_eq!(e.kind(), ErrorKind::MissingForwardUrl, "{missing:?}");
        n += 1;
    }
    // Mixed case of the allowed origin is the same origin: accepted.
    for ok in [
        "https://app.acme.example/integrations?tab=crm",
        "HTTPS://APP.ACME.EXAMPLE/integrations",
        "https://App.Acme.Example",
        "https://app.acme.example:443/x#frag",
        // Ideographic full stops: IDNA maps them to '.', so this *is* app.acme.example (browsers
        // navigate there too); accepting it is not a bypass.
        "https://app\u{3002}acme\u{3002}example/",
    ] {
        let r = client.login(&key, Some(ok)).await.unwrap_or_else(|e| panic!("{ok:?}: {e:?}"));
        assert!(r.url.contains("/services/oauth2/authorize?"));
        n += 1;
    }
    println!("forward-URL attacks: {n} inputs, each with its expected typed outcome");
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn claims(aid: &str, uid: &str) -> StateClaims {
    StateClaims {
        aid: aid.into(),
        uid: uid.into(),
        forward_url: FORWARD_URL.into(),
        exp: now() + 600,
        iat: now(),
        nonce: URL_SAFE_NO_PAD.encode([7u8; 16]),
    }
}

fn sign(alg: Algorithm, c: &impl serde::Serialize, secret: &str) -> String {
    jsonwebtoken::encode(&Header::new(alg), c, &EncodingKey::from_secret(secret.as_bytes()).unwrap()).unwrap()
}

fn unsigned(header: &str, c: &impl serde::Serialize) -> String {
    format!("{}.{}.", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(serde_json::to_vec(c).unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_attacks() {
    let ecfg = EmulatorConfig { contacts: 5, deals: 1, notes: 1, ..EmulatorConfig::default() };
    let emu = Emulator::start(ecfg.clone()).await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let client = Client::new(emulator_config(&emu, &ecfg).build().unwrap(), store.clone()).unwrap();
    let alice = ConnectionKey::new("acc-a", "alice");
    let bob = ConnectionKey::new("acc-b", "bob");

    // A genuine flow for alice, to take its state and code apart.
    let login = client.login(&alice, Some(FORWARD_URL)).await.unwrap();
    let genuine = authorize(&login.url).await;
    let state = genuine.state.clone().unwrap();
    let parts: Vec<&str> = state.split('.').collect();
    assert_eq!(parts.len(), 3);
    let payload: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();

    let mut cases: Vec<(String, String)> = Vec::new();
    let mut add = |name: &str, s: String| cases.push((name.to_owned(), s));
    // Tampered payload (signature kept).
    let mut p = payload.clone();
    p["uid"] = "bob".into();
    add("payload uid swapped, old signature", format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(p.to_string()), parts[2]));
    let mut p = payload.clone();
    p["forward_url"] = "https://evil.example/".into();
    add("forward_url swapped, old signature", format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(p.to_string()), parts[2]));
    let mut p = payload.clone();
    p["exp"] = (now() + 10_000_000).into();
    add("exp extended, old signature", format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(p.to_string()), parts[2]));
    // Signature bit flips / truncation.
    let mut sig = parts[2].to_owned().into_bytes();
    sig[0] = if sig[0] == b'A' { b'B' } else { b'A' };
    add("signature changed", format!("{}.{}.{}", parts[0], parts[1], String::from_utf8(sig).unwrap()));
    add("signature removed", format!("{}.{}.", parts[0], parts[1]));
    add("signature truncated", format!("{}.{}.{}", parts[0], parts[1], &parts[2][..parts[2].len() / 2]));
    add("two segments", format!("{}.{}", parts[0], parts[1]));
    add("extra segment", format!("{state}.AAAA"));
    add("whitespace inside", format!("{} {}", &state[..10], &state[10..]));
    // alg=none and friends.
    let c = claims("acc-a", "alice");
    add("alg none", unsigned(r#"{"alg":"none","typ":"JWT"}"#, &c));
    add("alg None", unsigned(r#"{"alg":"None","typ":"JWT"}"#, &c));
    add("alg NONE + old signature", format!("{}{}", unsigned(r#"{"alg":"NONE"}"#, &c), parts[2]));
    add("alg none re-signed payload from genuine state", format!("{}.{}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#), parts[1]));
    add("HS384 with the right secret", sign(Algorithm::HS384, &c, STATE_SECRET));
    add("HS512 with the right secret", sign(Algorithm::HS512, &c, STATE_SECRET));
    add("HS256 with another secret", sign(Algorithm::HS256, &c, "another-deployment-secret-0123456789abcdef"));
    add("HS256 with a 1-byte secret", sign(Algorithm::HS256, &c, "k"));
    add("RS256 header, HMAC signature", {
        let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
        format!("{h}.{}.{}", parts[1], parts[2])
    });
    // Expired (beyond the 5 s leeway), from the future-issued, missing claims.
    let mut old = claims("acc-a", "alice");
    old.iat = now() - 7200;
    old.exp = now() - 3600;
    add("expired an hour ago", sign(Algorithm::HS256, &old, STATE_SECRET));
    let mut just = claims("acc-a", "alice");
    just.exp = now() - 30;
    add("expired 30 s ago", sign(Algorithm::HS256, &just, STATE_SECRET));
    add("no exp", sign(Algorithm::HS256, &serde_json::json!({"aid":"acc-a","uid":"alice","forward_url":FORWARD_URL,"iat":now(),"nonce":"AAAAAAAAAAAAAAAAAAAAAA"}), STATE_SECRET));
    add("no nonce", sign(Algorithm::HS256, &serde_json::json!({"aid":"acc-a","uid":"alice","forward_url":FORWARD_URL,"iat":now(),"exp":now()+600}), STATE_SECRET));
    add("short nonce", sign(Algorithm::HS256, &StateClaims { nonce: "x".into(), ..claims("acc-a", "alice") }, STATE_SECRET));
    add("empty aid", sign(Algorithm::HS256, &claims("", "alice"), STATE_SECRET));
    add("empty uid", sign(Algorithm::HS256, &claims("acc-a", ""), STATE_SECRET));
    add("exp as string", sign(Algorithm::HS256, &serde_json::json!({"aid":"acc-a","uid":"alice","forward_url":FORWARD_URL,"iat":now(),"exp":"9999999999","nonce":"AAAAAAAAAAAAAAAAAAAAAA"}), STATE_SECRET));
    add("empty", String::new());
    add("garbage", "not-a-jwt".into());
    add("huge", "A".repeat(1 << 20));

    let control = emu.control();
    control.reset_counters();
    let n = cases.len();
    for (name, s) in &cases {
        let params = CallbackParams { code: genuine.code.clone(), state: Some(s.clone()), ..Default::default() };
        let e = client.callback(&params).await.expect_err(name);
        assert_eq!(e.kind(), ErrorKind::InvalidState, "{name}: {e:?}");
        assert_eq!(e.message(), "Invalid State", "{name}");
    }
    assert_eq!(control.counters().token_authorization_code, 0, "no code was exchanged for a bad state");
    assert!(store.load(&alice).await.unwrap().is_none() && store.load(&bob).await.unwrap().is_none());

    // Swapped between users: bob's state with alice's code (and the reverse). The states verify,
    // but each code was issued for the other flow's PKCE challenge: the org refuses, nothing is
    // stored, and each user is sent to an error redirect.
    let login_b = client.login(&bob, Some(FORWARD_URL)).await.unwrap();
    let bob_params = authorize(&login_b.url).await;
    for (state, code, who) in [
        (bob_params.state.clone(), genuine.code.clone(), &bob),
        (genuine.state.clone(), bob_params.code.clone(), &alice),
    ] {
        let cb = client.callback(&CallbackParams { code, state, ..Default::default() }).await.unwrap();
        assert!(matches!(cb.outcome, CallbackOutcome::Error { .. }), "swapped state accepted: {}", cb.url);
        assert_eq!(cb.key.as_ref(), Some(who));
        assert!(store.load(who).await.unwrap().is_none());
    }
    assert!(store.load(&alice).await.unwrap().is_none() && store.load(&bob).await.unwrap().is_none());
    println!("state attacks: {n} forged/tampered/expired states refused as InvalidState, 2 swapped states refused by PKCE");
    emu.shutdown().await;
}
