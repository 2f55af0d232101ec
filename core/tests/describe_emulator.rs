//! Describe against the org emulator: describeGlobal and sObject describe, their cache (lifetime,
//! clear, single flight, zero disables), call counting, the unknown-sObject error, and a
//! describe after the session expired.

mod support;

use std::time::Duration;

use sf_org_emulator::EmulatorConfig;
use sfcrm_core::ErrorKind;
use support::Env;

async fn env_ttl(ttl: Duration) -> Env {
    let ecfg = EmulatorConfig { contacts: 5, deals: 5, notes: 5, ..EmulatorConfig::default() };
    let env = Env::start_with(ecfg, |b| b.describe_cache_ttl(ttl)).await;
    env.emu.control().reset_counters();
    env
}

#[tokio::test]
async fn describe_reads_fields_compounds_and_relationships_and_is_cached() {
    let env = env_ttl(Duration::from_secs(600)).await;
    let before = env.client.api_calls();
    let d = env.client.describe(&env.key, "Account").await.unwrap();
    assert_eq!((d.name.as_str(), d.key_prefix.as_deref(), d.queryable), ("Account", Some("001"), true));
    let city = d.field("billingcity").unwrap();
    assert_eq!((city.field_type.as_str(), city.compound_field_name.as_deref()), ("string", Some("BillingAddress")));
    assert_eq!(city.length, Some(40));
    assert_eq!(d.field("BillingAddress").unwrap().field_type, "address");
    let owner = d.field("OwnerId").unwrap();
    assert_eq!((owner.field_type.as_str(), owner.relationship_name.as_deref()), ("reference", Some("Owner")));
    assert_eq!(owner.reference_to, ["User"]);
    assert!(d.child_relationships.iter().any(|c| c.child_sobject == "Contact" && c.relationship_name.as_deref() == Some("Contacts")));
    // The body as received: every field of the raw JSON is in the typed list, in order.
    let raw: serde_json::Value = serde_json::from_str(d.raw_json()).unwrap();
    let raw_names: Vec<&str> = raw["fields"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    let names: Vec<&str> = d.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, raw_names);
    // The all-fields list keeps the address components and drops BillingAddress / ShippingAddress.
    let all: Vec<&str> = d.all_fields().iter().map(|f| f.name.as_str()).collect();
    assert!(all.contains(&"BillingCity") && !all.contains(&"BillingAddress") && !all.contains(&"ShippingAddress"));
    assert_eq!(all.len(), names.len() - 2);

    let used = env.client.api_calls() - before;
    assert_eq!((used.describe, used.api_requests), (1, 1));
    // Cached: same Arc, any case, no request.
    let again = env.client.describe(&env.key, "ACCOUNT").await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&d, &again));
    assert_eq!((env.client.api_calls() - before).describe, 1);
    assert_eq!(env.emu.control().counters().describe, 1);
    // Cleared: asked again.
    env.client.clear_describe_cache();
    env.client.describe(&env.key, "Account").await.unwrap();
    assert_eq!((env.client.api_calls() - before).describe, 2);
    assert_eq!(env.emu.control().counters().describe, 2);
}

#[tokio::test]
async fn describe_global_lists_the_sobjects() {
    let env = env_ttl(Duration::from_secs(600)).await;
    let g = env.client.describe_global(&env.key).await.unwrap();
    let wide = g.sobject("Wide_Object__c").expect("the wide custom object is listed");
    assert!(wide.custom && wide.queryable);
    assert!(!g.sobject("Contact").unwrap().custom);
    assert_eq!(g.max_batch_size, Some(200));
    assert!(g.raw_json().contains("\"sobjects\""));
    env.client.describe_global(&env.key).await.unwrap();
    assert_eq!(env.client.api_calls().describe, 1, "cached");
}

#[tokio::test]
async fn an_unknown_sobject_is_salesforce_not_found_and_a_bad_name_sends_nothing() {
    let env = env_ttl(Duration::from_secs(600)).await;
    let e = env.client.describe(&env.key, "No_Such_Object__c").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Api, "{e}");
    assert_eq!(e.error_code(), Some("NOT_FOUND"));
    assert_eq!(e.status(), Some(404));
    // The message names the sObject and what to check, after Salesforce's own text (which names
    // nothing: `sfcrm query "SELECT * FROM Nope__c"` printed only "The requested resource does
    // not exist").
    assert!(e.message().starts_with("No_Such_Object__c: The requested resource does not exist"), "{}", e.message());
    assert!(e.message().contains("API name") && e.message().contains("__c"), "{}", e.message());
    // Errors are not cached: asked again.
    env.client.describe(&env.key, "No_Such_Object__c").await.unwrap_err();
    assert_eq!(env.client.api_calls().describe, 2);
    let e = env.client.describe(&env.key, "Account/../x").await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidIdentifier);
    assert_eq!(env.client.api_calls().describe, 2, "no request for an invalid name");
}

#[tokio::test]
async fn a_zero_lifetime_disables_the_cache() {
    let env = env_ttl(Duration::ZERO).await;
    env.client.describe(&env.key, "Contact").await.unwrap();
    env.client.describe(&env.key, "Contact").await.unwrap();
    assert_eq!(env.emu.control().counters().describe, 2);
}

#[tokio::test]
async fn concurrent_describes_of_one_sobject_make_one_request() {
    let env = env_ttl(Duration::from_secs(600)).await;
    let calls = (0..6).map(|_| env.client.describe(&env.key, "Wide_Object__c"));
    let results = futures_util::future::join_all(calls).await;
    for r in results {
        assert_eq!(r.unwrap().fields.len(), 410);
    }
    assert_eq!(env.emu.control().counters().describe, 1);
}

#[tokio::test]
async fn describe_refreshes_an_expired_session_once() {
    let env = env_ttl(Duration::from_secs(600)).await;
    env.emu.control().expire_sessions();
    let d = env.client.describe(&env.key, "Opportunity").await.unwrap();
    assert_eq!(d.name, "Opportunity");
    let c = env.client.api_calls();
    assert_eq!((c.describe, c.refreshes), (2, 1), "the 401 and the retry are both describe requests");
}
