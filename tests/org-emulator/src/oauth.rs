//! The login host: OAuth 2.0 web-server flow [salesforce-api.md §1–3].

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, Response, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use crate::data::write_json_str;
use crate::http::{self, KillSwitch, fault_response, form_pairs, get, no_store, oauth_error};
use crate::state::{ALNUM, CodeGrant, Consent, Endpoint, Family, Org, Session, TOKEN_ALPHABET};

/// Authorization code lifetime: 15 minutes [salesforce-api.md §1 "Callback"].
pub const CODE_LIFETIME_MS: i64 = 15 * 60 * 1000;

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn error_page(error: &str, description: &str) -> Response<Body> {
    // Salesforce shows bad client_id / redirect_uri on its own page, never redirecting
    // [salesforce-api.md §1 "Callback"].
    let body = format!(
        "<!DOCTYPE html><html><head><title>OAuth Error</title></head><body><h1>OAuth Error</h1>\
         <p>We can't authorize you because of an OAuth error. For more information, contact your Salesforce administrator.</p>\
         <p id=\"error\">error={}&amp;error_description={}</p></body></html>",
        error,
        description.replace(' ', "%20")
    );
    Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .header(header::CONTENT_TYPE, "text/html;charset=UTF-8")
        .body(Body::from(body))
        .expect("response")
}

fn redirect(location: String) -> Response<Body> {
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, location)
        .header(header::CACHE_CONTROL, "no-cache,must-revalidate,max-age=0,no-store,private")
        .body(Body::empty())
        .expect("response")
}

fn with_params(base: &str, params: &[(&str, &str)]) -> String {
    let mut s = base.to_string();
    let mut sep = if base.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        s.push(sep);
        s.push_str(k);
        s.push('=');
        s.push_str(&enc(v));
        sep = '&';
    }
    s
}

fn redirect_allowed(org: &Org, uri: &str) -> bool {
    if !org.cfg.redirect_uris.is_empty() {
        return org.cfg.redirect_uris.iter().any(|u| u == uri);
    }
    match url::Url::parse(uri) {
        Ok(u) => u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1") | Some("localhost") | Some("[::1]")),
        Err(_) => false,
    }
}

/// `GET /services/oauth2/authorize`.
pub async fn authorize(State(org): State<Arc<Org>>, ConnectInfo(conn): ConnectInfo<KillSwitch>, RawQuery(q): RawQuery) -> Response<Body> {
    org.count(|c| c.authorize += 1);
    if let Some(r) = fault_response(&org, org.take_fault(Endpoint::Authorize), &conn, false).await {
        return r;
    }
    let p = form_pairs(q.as_deref().unwrap_or(""));
    if get(&p, "client_id") != Some(org.cfg.client_id.as_str()) {
        return error_page("invalid_client_id", "client identifier invalid");
    }
    let Some(redirect_uri) = get(&p, "redirect_uri").filter(|u| redirect_allowed(&org, u)) else {
        return error_page("redirect_uri_mismatch", "redirect_uri must match configuration");
    };
    let state = get(&p, "state");
    let mut extra: Vec<(&str, &str)> = Vec::new();
    if let Some(s) = state {
        extra.push(("state", s));
    }
    let err_redirect = |e: &str, d: &str| {
        let mut ps = vec![("error", e), ("error_description", d)];
        ps.extend(extra.iter().copied());
        redirect(with_params(redirect_uri, &ps))
    };
    if get(&p, "response_type") != Some("code") {
        return err_redirect("unsupported_response_type", "response type not supported");
    }
    let challenge = match (get(&p, "code_challenge"), get(&p, "code_challenge_method")) {
        (None, _) => None,
        (Some(c), None | Some("S256")) => Some(("S256".to_string(), c.to_string())),
        (Some(c), Some("plain")) => Some(("plain".to_string(), c.to_string())),
        (Some(_), Some(_)) => return err_redirect("invalid_request", "invalid code_challenge_method"),
    };
    let consent = org.auth.lock().expect("lock").consent;
    match consent {
        Consent::Deny => return err_redirect("access_denied", "end-user denied authorization"),
        Consent::DenyHyphen => return err_redirect("access-denied", "end-user denied authorization"),
        Consent::Approve => {}
    }
    let scope = get(&p, "scope").map(str::to_string).unwrap_or_else(|| org.cfg.default_scope.clone());
    let now = org.now_ms();
    let code = {
        let mut a = org.auth.lock().expect("lock");
        let code = format!("aPrx{}==", a.token_chars(84, ALNUM));
        a.codes.insert(code.clone(), CodeGrant {
            redirect_uri: redirect_uri.to_string(),
            challenge,
            scope,
            expires_at: now + CODE_LIFETIME_MS,
            used: false,
        });
        code
    };
    let mut ps = vec![("code", code.as_str())];
    ps.extend(extra.iter().copied());
    redirect(with_params(redirect_uri, &ps))
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn client_credentials(headers: &HeaderMap, p: &[(String, String)]) -> (Option<String>, Option<String>) {
    if let Some(b) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Basic "))
        && let Ok(dec) = STANDARD.decode(b.trim())
            && let Ok(s) = String::from_utf8(dec)
                && let Some((id, secret)) = s.split_once(':') {
                    let d = |x: &str| url::form_urlencoded::parse(format!("a={x}").as_bytes()).next().map(|(_, v)| v.into_owned());
                    return (d(id), d(secret));
                }
    (get(p, "client_id").map(str::to_string), get(p, "client_secret").map(str::to_string))
}

/// Issue a session (access token) and optionally a refresh token in family `family`.
fn issue(org: &Org, scope: &str, family: Option<u64>, new_refresh: bool, new_family: bool) -> Response<Body> {
    let now = org.now_ms();
    let instance = org.current_instance.load(std::sync::atomic::Ordering::Relaxed) as usize;
    let (access, refresh) = {
        let mut a = org.auth.lock().expect("lock");
        let access = format!("{}!AQ{}", &org.ds.org_id[..15], a.token_chars(94, TOKEN_ALPHABET));
        let id = a.next_id;
        a.next_id += 1;
        let fam_id = if new_family { Some(id) } else { family };
        let refresh = if new_refresh {
            let rt = format!("5Aep861{}", a.token_chars(80, TOKEN_ALPHABET));
            Some(rt)
        } else {
            None
        };
        if let Some(f) = fam_id {
            if new_family {
                a.families.insert(f, Family {
                    current_refresh: refresh.clone().unwrap_or_default(),
                    access_tokens: Vec::new(),
                    revoked: false,
                    scope: scope.to_string(),
                });
            } else if let Some(rt) = &refresh {
                let old = a.families.get(&f).map(|x| x.current_refresh.clone());
                if let Some(old) = old {
                    a.refresh.insert(old, (f, false));
                }
                if let Some(fam) = a.families.get_mut(&f) {
                    fam.current_refresh = rt.clone();
                }
            }
            if let Some(rt) = &refresh {
                a.refresh.insert(rt.clone(), (f, true));
            }
            if let Some(fam) = a.families.get_mut(&f) {
                fam.access_tokens.push(access.clone());
            }
        }
        let lifetime = a.session_lifetime_ms;
        a.sessions.insert(access.clone(), Session {
            id,
            expires_at: now + lifetime,
            instance,
        });
        (access, refresh)
    };
    let id_url = org.identity_url();
    let issued_at = now.to_string();
    let sig = STANDARD.encode(hmac_sha256(org.cfg.client_secret.as_bytes(), format!("{id_url}{issued_at}").as_bytes()));
    // Key order as in salesforce-api.md §2 "Success 200"; no expires_in.
    let mut s = String::from("{\"access_token\":");
    write_json_str(&access, &mut s);
    if let Some(rt) = &refresh {
        s.push_str(",\"refresh_token\":");
        write_json_str(rt, &mut s);
    }
    for (k, v) in [
        ("signature", sig.as_str()),
        ("scope", scope),
        ("instance_url", &org.advertised_instance_url()),
        ("id", &id_url),
        ("token_type", "Bearer"),
        ("issued_at", &issued_at),
    ] {
        s.push_str(",\"");
        s.push_str(k);
        s.push_str("\":");
        write_json_str(v, &mut s);
    }
    s.push('}');
    no_store(http::json(StatusCode::OK, s))
}

fn grants_refresh(scope: &str) -> bool {
    scope.split(' ').any(|s| s == "refresh_token" || s == "offline_access")
}

fn revoke_family(a: &mut crate::state::Auth, f: u64) {
    if let Some(fam) = a.families.get_mut(&f) {
        fam.revoked = true;
        let tokens = std::mem::take(&mut fam.access_tokens);
        for t in tokens {
            a.sessions.remove(&t);
        }
    }
}

/// `POST /services/oauth2/token` [salesforce-api.md §2].
pub async fn token(State(org): State<Arc<Org>>, ConnectInfo(conn): ConnectInfo<KillSwitch>, headers: HeaderMap, body: String) -> Response<Body> {
    let p = form_pairs(&body);
    let grant = get(&p, "grant_type").unwrap_or("").to_string();
    org.count(|c| match grant.as_str() {
        "authorization_code" => c.token_authorization_code += 1,
        "refresh_token" => c.token_refresh_token += 1,
        _ => c.token_other += 1,
    });
    if let Some(r) = fault_response(&org, org.take_fault(Endpoint::Token), &conn, false).await {
        return no_store(r);
    }
    if grant.is_empty() {
        return oauth_error("invalid_request", "grant type is missing");
    }
    let (client_id, secret) = client_credentials(&headers, &p);
    if client_id.as_deref() != Some(org.cfg.client_id.as_str()) {
        return oauth_error("invalid_client_id", "client identifier invalid");
    }
    match grant.as_str() {
        "authorization_code" => {
            if secret.as_deref() != Some(org.cfg.client_secret.as_str()) {
                return oauth_error("invalid_client", "invalid client credentials");
            }
            let Some(code) = get(&p, "code") else {
                return oauth_error("invalid_grant", "invalid authorization code");
            };
            let now = org.now_ms();
            let grant = {
                let mut a = org.auth.lock().expect("lock");
                match a.codes.get_mut(code) {
                    None => return oauth_error("invalid_grant", "invalid authorization code"),
                    Some(g) if g.used || g.expires_at <= now => {
                        return oauth_error("invalid_grant", "expired authorization code");
                    }
                    Some(g) => {
                        // Single use: any redemption attempt that reaches the code consumes it.
                        g.used = true;
                        g.clone()
                    }
                }
            };
            if get(&p, "redirect_uri") != Some(grant.redirect_uri.as_str()) {
                return oauth_error("redirect_uri_mismatch", "redirect_uri must match configuration");
            }
            if let Some((method, challenge)) = &grant.challenge {
                // salesforce-api.md §1 "PKCE failures": no verifier → invalid_grant; wrong → invalid_request.
                let Some(verifier) = get(&p, "code_verifier") else {
                    return oauth_error("invalid_grant", "invalid code verifier");
                };
                let computed = if method == "plain" { verifier.to_string() } else { URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) };
                if &computed != challenge {
                    return oauth_error("invalid_request", "invalid code verifier");
                }
            }
            let refresh = grants_refresh(&grant.scope);
            issue(&org, &grant.scope, None, refresh, refresh)
        }
        "refresh_token" => {
            if let Some(s) = &secret
                && s != &org.cfg.client_secret {
                    return oauth_error("invalid_client", "invalid client credentials");
                }
            let Some(rt) = get(&p, "refresh_token") else {
                return oauth_error("invalid_grant", "expired access/refresh token");
            };
            let (fam, scope, rotation) = {
                let mut a = org.auth.lock().expect("lock");
                let Some(&(fam, current)) = a.refresh.get(rt) else {
                    return oauth_error("invalid_grant", "expired access/refresh token");
                };
                let revoked = a.families.get(&fam).is_none_or(|f| f.revoked);
                if revoked {
                    return oauth_error("invalid_grant", "expired access/refresh token");
                }
                if !current {
                    // Replay of a rotated-out token: revoke the whole family [salesforce-api.md §2 RTR].
                    revoke_family(&mut a, fam);
                    return oauth_error("invalid_grant", "expired access/refresh token");
                }
                let scope = a.families[&fam].scope.clone();
                (fam, scope, a.rotation)
            };
            issue(&org, &scope, Some(fam), rotation, false)
        }
        _ => oauth_error("unsupported_grant_type", "grant type not supported"),
    }
}

/// `POST /services/oauth2/revoke` [salesforce-api.md §3].
pub async fn revoke(State(org): State<Arc<Org>>, ConnectInfo(conn): ConnectInfo<KillSwitch>, RawQuery(q): RawQuery, body: String) -> Response<Body> {
    org.count(|c| c.revoke += 1);
    if let Some(r) = fault_response(&org, org.take_fault(Endpoint::Revoke), &conn, false).await {
        return r;
    }
    let mut p = form_pairs(&body);
    p.extend(form_pairs(q.as_deref().unwrap_or("")));
    let Some(t) = get(&p, "token").filter(|t| !t.is_empty()) else {
        return oauth_error("unsupported_token_type", "this token type is not supported");
    };
    let mut a = org.auth.lock().expect("lock");
    if a.sessions.remove(t).is_some() {
        return Response::builder().status(StatusCode::OK).body(Body::empty()).expect("response");
    }
    if let Some(&(fam, current)) = a.refresh.get(t) {
        let live = current && a.families.get(&fam).is_some_and(|f| !f.revoked);
        if live {
            revoke_family(&mut a, fam);
            return Response::builder().status(StatusCode::OK).body(Body::empty()).expect("response");
        }
    }
    oauth_error("invalid_token", "invalid token")
}

/// The session for a `Bearer` (or `OAuth`) authorization header, if valid now.
pub(crate) fn session_for(org: &Org, headers: &HeaderMap) -> Option<(String, Session)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let tok = v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("OAuth "))?.trim();
    let a = org.auth.lock().expect("lock");
    let s = a.sessions.get(tok)?;
    (s.expires_at > org.now_ms()).then(|| (tok.to_string(), s.clone()))
}

fn bad_token() -> Response<Body> {
    // Identity/userinfo reject bad tokens with 403 "Bad_OAuth_Token" (observed behaviour, not in the
    // reference sheet: UNCONFIRMED).
    Response::builder()
        .status(StatusCode::FORBIDDEN)
        .header(header::CONTENT_TYPE, "text/plain;charset=UTF-8")
        .body(Body::from("Bad_OAuth_Token"))
        .expect("response")
}

fn urls_json(org: &Org, version: Option<&str>) -> serde_json::Value {
    let v = version.map(|v| if v == "latest" { format!("{}.0", org.cfg.api_versions.end()) } else { v.to_string() }).unwrap_or_else(|| "{version}".into());
    let base = org.advertised_instance_url();
    serde_json::json!({
        "enterprise": format!("{base}/services/Soap/c/{v}/{}", &org.ds.org_id[..15]),
        "metadata": format!("{base}/services/Soap/m/{v}/{}", &org.ds.org_id[..15]),
        "partner": format!("{base}/services/Soap/u/{v}/{}", &org.ds.org_id[..15]),
        "rest": format!("{base}/services/data/v{v}/"),
        "sobjects": format!("{base}/services/data/v{v}/sobjects/"),
        "search": format!("{base}/services/data/v{v}/search/"),
        "query": format!("{base}/services/data/v{v}/query/"),
        "recent": format!("{base}/services/data/v{v}/recent/"),
        "tooling_soap": format!("{base}/services/Soap/T/{v}/{}", &org.ds.org_id[..15]),
        "tooling_rest": format!("{base}/services/data/v{v}/tooling/"),
        "profile": format!("{base}/{}", org.user_id),
        "feeds": format!("{base}/services/data/v{v}/chatter/feeds"),
        "groups": format!("{base}/services/data/v{v}/chatter/groups"),
        "users": format!("{base}/services/data/v{v}/chatter/users"),
        "feed_items": format!("{base}/services/data/v{v}/chatter/feed-items"),
        "feed_elements": format!("{base}/services/data/v{v}/chatter/feed-elements"),
        "custom_domain": base,
    })
}

/// `GET /id/<orgId>/<userId>` [salesforce-api.md §3].
pub async fn identity(State(org): State<Arc<Org>>, ConnectInfo(conn): ConnectInfo<KillSwitch>, Path((o, u)): Path<(String, String)>, RawQuery(q): RawQuery, headers: HeaderMap) -> Response<Body> {
    org.count(|c| c.identity += 1);
    if let Some(r) = fault_response(&org, org.take_fault(Endpoint::Identity), &conn, false).await {
        return r;
    }
    if session_for(&org, &headers).is_none() {
        return bad_token();
    }
    if o != org.ds.org_id || u != org.user_id {
        return Response::builder().status(StatusCode::NOT_FOUND).body(Body::from("Bad_Id")).expect("response");
    }
    let p = form_pairs(q.as_deref().unwrap_or(""));
    let rec = org.ds.record(&org.ov.read().expect("lock"), crate::data::SObject::User, 0);
    let name = org.ds.value(&rec, "Name");
    let name = match name { crate::data::Val::Str(s) => s.into_owned(), _ => String::new() };
    let body = serde_json::json!({
        "id": org.identity_url(),
        "asserted_user": true,
        "user_id": org.user_id,
        "organization_id": org.ds.org_id,
        "username": "jsmith@acme.example.emulator",
        "nick_name": "jsmith",
        "display_name": name,
        "email": "jsmith@acme.example",
        "email_verified": true,
        "first_name": "Jane",
        "last_name": "Smith",
        "timezone": "America/Los_Angeles",
        "photos": {"picture": format!("{}/profilephoto/005/F", org.advertised_instance_url()), "thumbnail": format!("{}/profilephoto/005/T", org.advertised_instance_url())},
        "addr_street": null, "addr_city": null, "addr_state": null, "addr_country": "US", "addr_zip": null,
        "mobile_phone": null, "mobile_phone_verified": false,
        "status": {"created_date": null, "body": null},
        "urls": urls_json(&org, get(&p, "version")),
        "active": true,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": -28800000,
        "last_modified_date": "2024-01-01T00:00:00Z",
        "is_app_installed": true,
    });
    http::json(StatusCode::OK, body.to_string())
}

/// `GET /services/oauth2/userinfo` [salesforce-api.md §3].
pub async fn userinfo(State(org): State<Arc<Org>>, ConnectInfo(conn): ConnectInfo<KillSwitch>, headers: HeaderMap) -> Response<Body> {
    org.count(|c| c.userinfo += 1);
    if let Some(r) = fault_response(&org, org.take_fault(Endpoint::Userinfo), &conn, false).await {
        return r;
    }
    if session_for(&org, &headers).is_none() {
        return bad_token();
    }
    let body = serde_json::json!({
        "sub": org.identity_url(),
        "user_id": org.user_id,
        "organization_id": org.ds.org_id,
        "preferred_username": "jsmith@acme.example.emulator",
        "nickname": "jsmith",
        "name": "Jane Smith",
        "email": "jsmith@acme.example",
        "email_verified": true,
        "given_name": "Jane",
        "family_name": "Smith",
        "zoneinfo": "America/Los_Angeles",
        "photos": {"picture": null, "thumbnail": null},
        "profile": format!("{}/{}", org.advertised_instance_url(), org.user_id),
        "picture": null,
        "address": {"country": "US"},
        "is_salesforce_integration_user": false,
        "urls": urls_json(&org, None),
        "active": true,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": -28800000,
        "updated_at": "2024-01-01T00:00:00Z",
        "is_app_installed": true,
    });
    http::json(StatusCode::OK, body.to_string())
}
