//! Field cases from tests/contract/field-cases.md that touch the auth / transport surface, each
//! reproduced exactly with a scripted loopback server (both "hosts" of a case are that server).

mod support;

use std::sync::Arc;

use reqwest::StatusCode;
use sfcrm_core::protocol::{self, Transport, api_error};
use sfcrm_core::{
    CallbackOutcome, CallbackParams, Client, ErrorKind, MemoryStore, QueryOptions, TokenStore,
};
use support::*;

fn token_ok(access: &str, refresh: Option<&str>, instance: &str, issued_at: &str) -> String {
    let mut v = serde_json::json!({
        "access_token": access, "signature": "c2lnRkFLRQ==", "scope": "api refresh_token",
        "instance_url": instance, "id": "https://login.example/id/00D000000000001EAA/005000000000001AAA",
        "token_type": "Bearer", "issued_at": issued_at,
    });
    if let Some(r) = refresh {
        v["refresh_token"] = r.into();
    }
    v.to_string()
}

const SESSION_401: &str =
    r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
const TOKEN_PATH: &str = "/services/oauth2/token";

async fn client_for(srv: &ScriptedServer) -> (Client, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let client = Client::new(
        srv.config().api_version("v59.0").build().unwrap(),
        store.clone(),
    )
    .unwrap();
    (client, store)
}

#[tokio::test]
async fn br_01_reused_authorization_code_is_an_oauth_error_and_keeps_the_session() {
    let srv = ScriptedServer::start(vec![]).await;
    let base = srv.base_url.clone();
    srv.push(vec![
        Step::new(
            "POST",
            TOKEN_PATH,
            200,
            &token_ok(
                "00DFAKE!TOKEN1",
                Some("5AepFAKEREFRESH1"),
                &base,
                "1732950000000",
            ),
        )
        .header("Cache-Control", "no-store"),
        Step::new(
            "POST",
            TOKEN_PATH,
            400,
            r#"{"error":"invalid_grant","error_description":"expired authorization code"}"#,
        )
        .header("Cache-Control", "no-store"),
    ]);
    let (client, store) = client_for(&srv).await;
    let key = test_key();
    let login = client.login(&key, Some(FORWARD_URL)).await.unwrap();
    let state = url::Url::parse(&login.url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let params = CallbackParams {
        code: Some("aPrxFAKECODE001".into()),
        state: Some(state),
        ..Default::default()
    };

    let first = client.callback(&params).await.unwrap();
    assert_eq!(first.outcome, CallbackOutcome::Success);
    assert_eq!(
        first.url,
        format!("{FORWARD_URL}&status=success&integration=salesforce")
    );
    let doc = store.load(&key).await.unwrap().unwrap();
    assert_eq!(doc.token.access_token.expose(), "00DFAKE!TOKEN1");
    assert_eq!(
        doc.token.refresh_token.as_ref().unwrap().expose(),
        "5AepFAKEREFRESH1"
    );
    assert_eq!(doc.instance_url, base);
    assert_eq!(doc.version, 1);
    let form = srv.requests()[0].form();
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "aPrxFAKECODE001");
    assert_eq!(form["client_secret"], "FAKESECRET");
    assert_eq!(form["redirect_uri"], REDIRECT_URI);
    assert!(form["code_verifier"].len() >= 43);

    // Reload of the callback: same code again.
    let second = client.callback(&params).await.unwrap();
    assert_eq!(
        second.outcome,
        CallbackOutcome::Error {
            reason: "expired authorization code".into()
        }
    );
    assert!(
        second
            .url
            .contains("status=error&integration=salesforce&reason=expired%20authorization%20code")
    );
    assert_eq!(srv.requests_to(TOKEN_PATH).len(), 2, "not retried");
    let after = store.load(&key).await.unwrap().unwrap();
    assert_eq!(
        after, doc,
        "the existing session is neither modified nor cleared"
    );

    // The token call itself reports the OAuth error kind with its fields.
    srv.push(vec![Step::new(
        "POST",
        TOKEN_PATH,
        400,
        r#"{"error":"invalid_grant","error_description":"expired authorization code"}"#,
    )]);
    let t = Transport::new(client.config()).unwrap();
    let e = protocol::exchange_code(
        &t,
        client.config(),
        "aPrxFAKECODE001",
        &sfcrm_core::Secret::new("v".repeat(43)),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OAuth);
    assert_eq!(e.oauth_error(), Some("invalid_grant"));
    assert_eq!(
        e.oauth_error_description(),
        Some("expired authorization code")
    );
    assert_eq!(e.status(), Some(400));
    assert_eq!(t.calls().token_requests, 1);
}

async fn br_02_setup(refresh: Option<&str>) -> (ScriptedServer, Client, Arc<MemoryStore>) {
    let srv = ScriptedServer::start(vec![]).await;
    let (client, store) = client_for(&srv).await;
    seed_connection(
        store.as_ref(),
        &test_key(),
        &srv.base_url,
        "00DFAKE!TOKEN1",
        refresh,
    )
    .await;
    (srv, client, store)
}

#[tokio::test]
async fn br_02_expired_session_refreshes_once_then_retries_with_the_new_token() {
    let (srv, client, store) = br_02_setup(Some("5AepFAKEREFRESH1")).await;
    let base = srv.base_url.clone();
    let records = r#"{"totalSize":1,"done":true,"records":[{"attributes":{"type":"Account",
        "url":"/services/data/v59.0/sobjects/Account/001000000000001AAA"},
        "Id":"001000000000001AAA","Name":"Acme Example Ltd"}]}"#;
    srv.push(vec![
        Step::new("GET", "/services/data/v59.0/query", 401, SESSION_401),
        Step::new(
            "POST",
            TOKEN_PATH,
            200,
            &token_ok("00DFAKE!TOKEN2", None, &base, "1732953600000"),
        ),
        Step::new("GET", "/services/data/v59.0/query", 200, records),
    ]);
    let page = client
        .query_page(
            &test_key(),
            "SELECT Id,Name FROM Account LIMIT 1",
            &QueryOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].to_record().unwrap()["Id"], "001000000000001AAA");
    assert_eq!(page.records[0].to_record().unwrap()["Name"], "Acme Example Ltd");
    let reqs = srv.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        srv.requests_to(TOKEN_PATH).len(),
        1,
        "token endpoint hit exactly once"
    );
    assert_eq!(reqs[0].headers["authorization"], "Bearer 00DFAKE!TOKEN1");
    assert_eq!(reqs[2].headers["authorization"], "Bearer 00DFAKE!TOKEN2");
    assert_eq!(
        reqs[0].path_and_query, reqs[2].path_and_query,
        "same URL retried"
    );
    let form = reqs[1].form();
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["refresh_token"], "5AepFAKEREFRESH1");
    assert_eq!(form["client_id"], "3MVGFAKECLIENT");
    assert_eq!(form["client_secret"], "FAKESECRET");
    let doc = store.load(&test_key()).await.unwrap().unwrap();
    assert_eq!(doc.token.access_token.expose(), "00DFAKE!TOKEN2");
    assert_eq!(
        doc.token.refresh_token.as_ref().unwrap().expose(),
        "5AepFAKEREFRESH1"
    );
    assert!(doc.refresh_lease.is_none());
    let calls = client.api_calls();
    assert_eq!(
        (
            calls.refreshes,
            calls.token_requests,
            calls.query,
            calls.api_requests
        ),
        (1, 1, 2, 2)
    );
}

#[tokio::test]
async fn br_02_variant_without_refresh_token_fails_with_zero_token_posts() {
    let (srv, client, _store) = br_02_setup(None).await;
    srv.push(vec![Step::new(
        "GET",
        "/services/data/v59.0/query",
        401,
        SESSION_401,
    )]);
    let e = client
        .query_page(
            &test_key(),
            "SELECT Id,Name FROM Account LIMIT 1",
            &QueryOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SessionExpired);
    assert_eq!(e.error_code(), Some("INVALID_SESSION_ID"));
    assert_eq!(e.status(), Some(401));
    assert_eq!(srv.requests_to(TOKEN_PATH).len(), 0);
    assert_eq!(srv.requests().len(), 1);
    assert_eq!(client.api_calls().token_requests, 0);
}

const CONTACT: &str = r#"{"attributes":{"type":"Contact","url":"/services/data/v59.0/sobjects/Contact/003000000000001AAA"},
    "Id":"003000000000001AAA","FirstName":"Jane","LastName":"Roe","Email":"jane.roe@acme.example"}"#;
const CONTACT_PATH: &str = "/services/data/v59.0/sobjects/Contact/003000000000001AAA";

async fn br_03_run(rotate: bool) {
    let (srv, client, store) = br_02_setup(Some("5AepFAKEREFRESH1")).await;
    let base = srv.base_url.clone();
    let first_refresh = if rotate {
        Some("5AepFAKEREFRESH2")
    } else {
        None
    };
    srv.push(vec![
        Step::new("GET", CONTACT_PATH, 401, SESSION_401),
        Step::new(
            "POST",
            TOKEN_PATH,
            200,
            &token_ok("00DFAKE!TOKEN2", first_refresh, &base, "1732953600000"),
        ),
        Step::new("GET", CONTACT_PATH, 200, CONTACT),
        Step::new("GET", CONTACT_PATH, 401, SESSION_401),
        Step::new(
            "POST",
            TOKEN_PATH,
            200,
            &token_ok("00DFAKE!TOKEN3", None, &base, "1732960800000"),
        ),
        Step::new("GET", CONTACT_PATH, 200, CONTACT),
    ]);
    let key = test_key();
    for _ in 0..2 {
        let c = client.api_get_json(&key, CONTACT_PATH).await.unwrap();
        assert_eq!(
            (c["FirstName"].as_str(), c["LastName"].as_str()),
            (Some("Jane"), Some("Roe"))
        );
    }
    let posts = srv.requests_to(TOKEN_PATH);
    assert_eq!(posts.len(), 2);
    let expected_second = if rotate {
        "5AepFAKEREFRESH2"
    } else {
        "5AepFAKEREFRESH1"
    };
    assert_eq!(posts[0].form()["refresh_token"], "5AepFAKEREFRESH1");
    assert_eq!(posts[1].form()["refresh_token"], expected_second);
    let reqs = srv.requests();
    assert_eq!(reqs[5].headers["authorization"], "Bearer 00DFAKE!TOKEN3");
    let doc = store.load(&key).await.unwrap().unwrap();
    assert_eq!(
        doc.token.refresh_token.as_ref().unwrap().expose(),
        expected_second
    );
    assert_eq!(doc.token.access_token.expose(), "00DFAKE!TOKEN3");
    assert_eq!(doc.token.issued_at, "1732960800000");
}

#[tokio::test]
async fn br_03_refresh_without_refresh_token_keeps_the_old_one() {
    br_03_run(false).await;
}

#[tokio::test]
async fn br_03_rotation_variant_sends_the_rotated_refresh_token() {
    br_03_run(true).await;
}

#[tokio::test]
async fn br_04_revoked_refresh_token_is_reconnect_required_without_loops() {
    let (srv, client, store) = br_02_setup(Some("5AepFAKEREVOKED")).await;
    srv.push(vec![
        Step::new("GET", "/services/data/v59.0/query", 401, SESSION_401),
        Step::new(
            "POST",
            TOKEN_PATH,
            400,
            r#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#,
        ),
    ]);
    let key = test_key();
    let e = client
        .query_page(
            &key,
            "SELECT Id,Name FROM Account",
            &QueryOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ReconnectRequired);
    assert_eq!(e.oauth_error(), Some("invalid_grant"));
    assert_eq!(
        e.oauth_error_description(),
        Some("expired access/refresh token")
    );
    assert_eq!(e.status(), Some(400));
    assert_eq!(
        srv.requests().len(),
        2,
        "no second refresh, no re-run of the query"
    );
    let doc = store.load(&key).await.unwrap().unwrap();
    assert!(
        doc.token_invalidated,
        "the stored connection is marked invalidated"
    );
    assert!(doc.refresh_lease.is_none());
    // A later call fails the same way, fast, without network.
    let e2 = client
        .query_page(&key, "SELECT Id FROM Account", &QueryOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e2.kind(), ErrorKind::ReconnectRequired);
    assert_eq!(srv.requests().len(), 2);
    // And login starts a fresh OAuth flow (the invalidated document is deleted).
    let login = client.login(&key, Some(FORWARD_URL)).await.unwrap();
    assert!(!login.already_connected);
    assert!(store.load(&key).await.unwrap().is_none());
}

#[tokio::test]
async fn br_12_plus_in_soql_is_percent_encoded_and_datetimes_are_untouched() {
    let (srv, client, _store) = br_02_setup(Some("5AepFAKEREFRESH1")).await;
    let event = r#"{"attributes":{"type":"Event","url":"/services/data/v59.0/sobjects/Event/00U000000000001AAA"},
       "Id":"00U000000000001AAA","Subject":"Demo for Jane Roe","CreatedDate":"2016-05-06T15:57:34.000+0000",
       "LastModifiedDate":"2024-02-29T23:59:59.999+0000","ActivityDate":"2024-03-01"}"#;
    srv.push(vec![
        Step::new(
            "GET",
            "/services/data/v59.0/sobjects/Event/00U000000000001AAA",
            200,
            event,
        ),
        Step::new(
            "GET",
            "/services/data/v59.0/query",
            200,
            r#"{"totalSize":0,"done":true,"records":[]}"#,
        ),
    ]);
    let key = test_key();
    let ev = client
        .api_get_json(
            &key,
            "/services/data/v59.0/sobjects/Event/00U000000000001AAA",
        )
        .await
        .unwrap();
    assert_eq!(ev["CreatedDate"], "2016-05-06T15:57:34.000+0000");
    assert_eq!(ev["LastModifiedDate"], "2024-02-29T23:59:59.999+0000");
    assert_eq!(ev["ActivityDate"], "2024-03-01");
    let soql = "SELECT Id FROM Account WHERE LastModifiedDate >= 2013-12-01T12:00:00+00:00";
    let page = client
        .query_page(&key, soql, &QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (page.total_size, page.done, page.records.len()),
        (0, true, 0)
    );
    let q = srv.requests()[1].raw_query_param("q").unwrap();
    assert!(q.contains("%2B00%3A00"), "{q}");
    let decoded = percent_encoding::percent_decode_str(&q)
        .decode_utf8()
        .unwrap();
    assert_eq!(
        decoded, soql,
        "the server decodes exactly the SOQL that was sent"
    );
}

#[tokio::test]
async fn br_15_oauth_object_vs_rest_arrays() {
    let (srv, client, _store) = br_02_setup(Some("5AepFAKEREFRESH1")).await;
    srv.push(vec![
        Step::new(
            "POST",
            TOKEN_PATH,
            400,
            r#"{"error":"invalid_grant","error_description":"user hasn't approved this consumer"}"#,
        ),
        Step::new(
            "GET",
            "/services/data/v59.0/sobjects/Account/001000000000009AAA",
            404,
            r#"[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]"#,
        ),
    ]);
    let t = Transport::new(client.config()).unwrap();
    let e = protocol::refresh_grant(
        &t,
        client.config(),
        &sfcrm_core::Secret::new("5AepFAKEREFRESH1"),
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OAuth);
    assert_eq!(e.oauth_error(), Some("invalid_grant"));
    assert_eq!(
        e.oauth_error_description(),
        Some("user hasn't approved this consumer")
    );
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.message(), "user hasn't approved this consumer");
    assert!(e.raw_body().unwrap().contains("invalid_grant"));

    let e = client
        .api_get_json(
            &test_key(),
            "/services/data/v59.0/sobjects/Account/001000000000009AAA",
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Api);
    assert_eq!(e.error_code(), Some("NOT_FOUND"));
    assert_eq!(e.status(), Some(404));
    assert_eq!(e.message(), "The requested resource does not exist");
    assert!(e.raw_body().unwrap().contains("NOT_FOUND"));
    assert_eq!(srv.requests().len(), 2, "a 404 is not retried");

    // The PATCH response body through the same error parser the transport uses.
    let body = r#"[{"message":"Email: invalid email address: not-an-email","errorCode":"INVALID_EMAIL_ADDRESS","fields":["Email"]}]"#;
    let e = api_error(
        StatusCode::BAD_REQUEST,
        "application/json;charset=UTF-8",
        body,
        None,
        None,
    );
    assert_eq!(e.kind(), ErrorKind::Api);
    assert_eq!(e.error_code(), Some("INVALID_EMAIL_ADDRESS"));
    assert_eq!(e.fields(), ["Email".to_string()]);
    assert_eq!(e.status(), Some(400));
    assert_eq!(e.message(), "Email: invalid email address: not-an-email");
    assert_eq!(e.raw_body(), Some(body));
}

#[tokio::test]
async fn br_17_empty_bodies_204_success_and_empty_401() {
    let (srv, client, _store) = br_02_setup(Some("5AepFAKEREFRESH1")).await;
    srv.push(vec![
        Step::new(
            "GET",
            "/services/data/v59.0/sobjects/Task/00T000000000003AAA",
            204,
            "",
        ),
        Step::new("POST", TOKEN_PATH, 401, ""),
    ]);
    let v = client
        .api_get_json(
            &test_key(),
            "/services/data/v59.0/sobjects/Task/00T000000000003AAA",
        )
        .await
        .unwrap();
    assert!(v.is_null(), "204: no JSON decode attempt, no error");
    let t = Transport::new(client.config()).unwrap();
    let e = protocol::refresh_grant(&t, client.config(), &sfcrm_core::Secret::new("x"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OAuth);
    assert_eq!(e.status(), Some(401));
    assert!(e.message().contains("401"), "{}", e.message());
    assert_eq!(e.message(), "HTTP 401 with an empty body");
    assert_eq!(srv.requests_to(TOKEN_PATH).len(), 1, "no retry loop");
}

#[tokio::test]
async fn br_17_empty_401_on_refresh_during_an_api_call_is_typed_and_bounded() {
    let (srv, client, store) = br_02_setup(Some("5AepFAKEREFRESH1")).await;
    srv.push(vec![
        Step::new("GET", "/services/data/v59.0/query", 401, ""),
        Step::new("POST", TOKEN_PATH, 401, ""),
    ]);
    let e = client
        .query_page(
            &test_key(),
            "SELECT Id FROM Account",
            &QueryOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::OAuth);
    assert_eq!(e.status(), Some(401));
    assert_eq!(srv.requests().len(), 2);
    let doc = store.load(&test_key()).await.unwrap().unwrap();
    assert!(
        doc.refresh_lease.is_none(),
        "the lease is released after a failed refresh"
    );
    assert!(!doc.token_invalidated, "only invalid_grant invalidates");
}

#[tokio::test]
async fn br_18_request_limit_exceeded_is_rate_limited_not_a_refresh() {
    let (srv, client, _store) = br_02_setup(Some("5AepFAKEREFRESH1")).await;
    srv.push(vec![
        Step::new(
            "GET",
            "/services/data/v59.0/query",
            403,
            r#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#,
        )
        .header("Sforce-Limit-Info", "api-usage=15000/15000"),
        Step::new(
            "GET",
            "/services/data/v59.0/sobjects",
            403,
            r#"[{"message":"The REST API is not enabled for this Organization.","errorCode":"API_DISABLED_FOR_ORG"}]"#,
        ),
    ]);
    let key = test_key();
    let e = client
        .query_page(&key, "SELECT Id FROM Account", &QueryOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.error_code(), Some("REQUEST_LIMIT_EXCEEDED"));
    assert_eq!(e.status(), Some(403));
    let u = e.api_usage().unwrap();
    assert_eq!((u.used, u.limit), (15000, 15000));
    let u = client.api_usage().unwrap();
    assert_eq!((u.used, u.limit), (15000, 15000));
    let e = client
        .api_get_json(&key, "/services/data/v59.0/sobjects")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Api);
    assert_eq!(e.error_code(), Some("API_DISABLED_FOR_ORG"));
    assert_eq!(
        srv.requests_to(TOKEN_PATH).len(),
        0,
        "the token endpoint receives 0 POSTs"
    );
    assert_eq!(srv.requests().len(), 2, "one request per call");
    assert_eq!(client.api_calls().refreshes, 0);
}

#[tokio::test]
async fn html_503_then_success_is_retried_honouring_retry_after() {
    let (srv, client, _store) = br_02_setup(Some("5AepFAKEREFRESH1")).await;
    srv.push(vec![
        Step::new(
            "GET",
            "/services/data/v59.0/limits",
            503,
            "<!DOCTYPE html><html><body>Maintenance</body></html>",
        )
        .header("Content-Type", "text/html")
        .header("Retry-After", "0"),
        Step::new(
            "GET",
            "/services/data/v59.0/limits",
            500,
            r#"[{"message":"boom","errorCode":"UNKNOWN_EXCEPTION"}]"#,
        ),
        Step::new(
            "GET",
            "/services/data/v59.0/limits",
            200,
            "{\"DailyApiRequests\":{\"Max\":1",
        ),
        Step::new(
            "GET",
            "/services/data/v59.0/limits",
            200,
            r#"{"DailyApiRequests":{"Max":15000}}"#,
        )
        .header("Sforce-Limit-Info", "api-usage=7/15000; api-bursts=1/750"),
    ]);
    let v = client
        .api_get_json(&test_key(), "/services/data/v59.0/limits")
        .await
        .unwrap();
    assert_eq!(v["DailyApiRequests"]["Max"], 15000);
    let calls = client.api_calls();
    assert_eq!(
        (calls.api_requests, calls.retries, calls.other_api),
        (4, 3, 4)
    );
    assert_eq!(client.api_usage().unwrap().bursts, Some((1, 750)));

    // Retries are bounded: max_retries = 3 → 4 attempts, then the typed error of the last one.
    srv.push(
        (0..4)
            .map(|_| {
                Step::new(
                    "GET",
                    "/services/data/v59.0/limits",
                    503,
                    "<html><body>down</body></html>",
                )
                .header("Content-Type", "text/html; charset=utf-8")
            })
            .collect(),
    );
    let e = client
        .api_get_json(&test_key(), "/services/data/v59.0/limits")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Api);
    assert_eq!(e.status(), Some(503));
    assert_eq!(e.message(), "Salesforce returned an HTML error page");
    assert_eq!(e.to_string(), "Salesforce returned an HTML error page (HTTP 503)");
    assert!(e.raw_body().unwrap().contains("down"));
    assert_eq!(srv.remaining(), 0);
    assert_eq!(client.api_calls().api_requests, 8);
}

#[tokio::test]
async fn token_post_is_not_retried_after_the_request_was_sent() {
    let (srv, client, store) = br_02_setup(Some("5AepFAKEREFRESH1")).await;
    srv.push(vec![
        Step::new("GET", "/services/data/v59.0/query", 401, SESSION_401),
        Step::new("POST", TOKEN_PATH, 503, "<html>down</html>")
            .header("Content-Type", "text/html")
            .header("Retry-After", "120"),
    ]);
    let e = client
        .query_page(
            &test_key(),
            "SELECT Id FROM Account",
            &QueryOptions::default(),
        )
        .await
        .unwrap_err();
    // The login host's maintenance page is an outage, not an OAuth refusal: transient, with the
    // server's Retry-After, and the connection is left as it was (not invalidated).
    assert_eq!(e.kind(), ErrorKind::Api);
    assert!(e.is_transient());
    assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(120)));
    assert_eq!(e.status(), Some(503));
    assert_eq!(srv.requests_to(TOKEN_PATH).len(), 1);
    let doc = store.load(&test_key()).await.unwrap().unwrap();
    assert_eq!(
        doc.token.refresh_token.unwrap().expose(),
        "5AepFAKEREFRESH1"
    );
    assert!(doc.refresh_lease.is_none());
    assert!(!doc.token_invalidated);
}

#[tokio::test]
async fn instance_url_outside_the_allow_list_is_refused_before_any_token_is_sent() {
    let srv = ScriptedServer::start(vec![]).await;
    let (client, store) = client_for(&srv).await;
    let key = test_key();
    seed_connection(
        store.as_ref(),
        &key,
        "http://10.1.2.3:8080",
        "00DFAKE!TOKEN1",
        Some("5AepFAKEREFRESH1"),
    )
    .await;
    let e = client
        .api_get_json(&key, "/services/data/v59.0/sobjects")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol);
    let e = client
        .api_get_json(&key, "https://evil.example/services/data")
        .await
        .unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::Protocol,
        "the stored instance is checked first"
    );
    assert!(srv.requests().is_empty());

    // A token response advertising a foreign instance is refused at callback time.
    store.delete(&key).await.unwrap();
    srv.push(vec![Step::new(
        "POST",
        TOKEN_PATH,
        200,
        &token_ok(
            "00DFAKE!TOKEN1",
            Some("5AepFAKEREFRESH1"),
            "https://evil.example",
            "1",
        ),
    )]);
    let login = client.login(&key, Some(FORWARD_URL)).await.unwrap();
    let state = url::Url::parse(&login.url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let cb = client
        .callback(&CallbackParams {
            code: Some("c".into()),
            state: Some(state),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(matches!(cb.outcome, CallbackOutcome::Error { .. }));
    assert!(store.load(&key).await.unwrap().is_none());
}
