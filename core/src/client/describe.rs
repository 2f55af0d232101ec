//! Describe calls: `GET {data_path}/sobjects` (describeGlobal) and
//! `GET {data_path}/sobjects/{X}/describe`, counted as [`crate::usage::CallKind::Describe`] and
//! cached per client (see `describe/cache.rs`) for `describe_cache_ttl`.

use std::sync::Arc;

use super::Client;
use crate::describe::{DecodeError, DescribeGlobal, SObjectDescribe};
use crate::error::{Error, ErrorKind, Result};
use crate::http::Decoded;
use crate::soql::SObjectName;
use crate::store::{ConnectionDocument, ConnectionKey};
use crate::usage::CallKind;

fn decoded<T>(r: std::result::Result<T, DecodeError>, what: &str) -> Decoded<T> {
    match r {
        Ok(v) => Decoded::Body(v),
        Err(e @ DecodeError::Syntax(_)) => Decoded::Retry(e.into_error(what)),
        Err(e) => Decoded::Fail(e.into_error(what)),
    }
}

fn decode_global(_status: u16, text: String) -> Decoded<DescribeGlobal> {
    decoded(DescribeGlobal::from_json(text), "describeGlobal")
}

fn decode_sobject(_status: u16, text: String) -> Decoded<SObjectDescribe> {
    decoded(SObjectDescribe::from_json(text), "sObject describe")
}

/// The org and user a connection reads as: the instance URL (lower case, no trailing `/`) and
/// the identity URL's `/id/<orgId>/<userId>` (the key's account/owner when the document has no
/// identity URL). Describe results are cached under it, never shared across orgs or users.
fn describe_scope(key: &ConnectionKey, doc: &ConnectionDocument) -> String {
    let instance = doc.instance_url.trim().trim_end_matches('/').to_ascii_lowercase();
    let who = doc
        .id
        .as_deref()
        .and_then(|id| id.split_once("/id/").map(|(_, rest)| rest.trim_end_matches('/').to_owned()))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("key:{key}"));
    format!("{instance} {who}")
}

impl Client {
    async fn describe_scope(&self, key: &ConnectionKey) -> Result<String> {
        let doc = self.load_usable(key).await?;
        Ok(describe_scope(key, &doc))
    }

    /// describeGlobal: `GET {data_path}/sobjects`, every sObject the connected user can see.
    /// Cached per org and user for `describe_cache_ttl` (one API call per lifetime, counted in
    /// [`crate::ApiCallCounts::describe`]; concurrent callers share one request).
    ///
    /// Errors: those of any API call (`NotConnected`, `SessionExpired` after one refresh,
    /// `RateLimited`, `Api` with Salesforce's `errorCode`, `Network`, …); `Protocol` when the body
    /// is not a describeGlobal.
    pub async fn describe_global(&self, key: &ConnectionKey) -> Result<Arc<DescribeGlobal>> {
        let scope = self.describe_scope(key).await?;
        let path = format!("{}/sobjects", self.inner.config.data_path());
        let ttl = self.inner.config.describe_cache_ttl();
        self.inner
            .describe_global_cache
            .get_or_fetch(&scope, "", ttl, || self.authed_get(key, &path, &[], CallKind::Describe, decode_global))
            .await
    }

    /// One sObject's describe: `GET {data_path}/sobjects/{sobject}/describe` (fields with type,
    /// label, nillable, length/precision/scale, relationship name, referenceTo,
    /// compoundFieldName; child relationships; the body as received). Cached per org, user and
    /// sObject (ignoring case) for `describe_cache_ttl`; concurrent callers for the same sObject
    /// share one request; counted in [`crate::ApiCallCounts::describe`].
    ///
    /// Errors: `InvalidIdentifier` for a name that is not an sObject API name (no request);
    /// an sObject the org does not have (or the user cannot see) is `Api` with Salesforce's
    /// `errorCode` — `NOT_FOUND` (404, "The requested resource does not exist", which the message
    /// prefixes with the sObject name and follows with what to check) from the describe resource; `INVALID_TYPE` is what SOQL answers for the same object, and both are passed
    /// through as sent [salesforce-api.md §5]; the errors of any API call otherwise.
    pub async fn describe(&self, key: &ConnectionKey, sobject: &str) -> Result<Arc<SObjectDescribe>> {
        let name = SObjectName::new(sobject)?;
        let scope = self.describe_scope(key).await?;
        let path = format!("{}/sobjects/{}/describe", self.inner.config.data_path(), name.as_str());
        let ttl = self.inner.config.describe_cache_ttl();
        self.inner
            .describe_cache
            .get_or_fetch(&scope, name.as_str(), ttl, || async {
                let d = self.authed_get(key, &path, &[], CallKind::Describe, decode_sobject).await.map_err(|e| {
                    // Salesforce's NOT_FOUND text names nothing; say which sObject and what to check.
                    if e.error_code() == Some("NOT_FOUND") {
                        let text = format!(
                            "{name}: {}: the org has no sObject with this API name, or the user cannot see it \
                             (check the spelling, and the __c of a custom object)",
                            e.message()
                        );
                        e.with_message(text)
                    } else {
                        e
                    }
                })?;
                if !d.name.eq_ignore_ascii_case(name.as_str()) {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!("asked Salesforce to describe {name} and received the describe of {}", d.name),
                    ));
                }
                Ok(d)
            })
            .await
    }

    /// Forgets every cached describe of this client (and its clones): the next describe asks
    /// Salesforce again (after a schema change, for instance).
    pub fn clear_describe_cache(&self) {
        self.inner.describe_cache.clear();
        self.inner.describe_global_cache.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoredToken;

    fn doc(instance: &str, id: Option<&str>) -> ConnectionDocument {
        ConnectionDocument {
            schema: 1,
            account_id: "a".into(),
            owner: "o".into(),
            token: StoredToken { access_token: "t".into(), refresh_token: None, issued_at: String::new() },
            token_invalidated: false,
            instance_url: instance.into(),
            id: id.map(Into::into),
            scope: None,
            version: 1,
            refresh_lease: None,
            updated_at_ms: 0,
        }
    }

    #[test]
    fn the_scope_names_instance_org_and_user() {
        let key = ConnectionKey::new("a", "o");
        let a = describe_scope(&key, &doc("https://Acme.my.salesforce.com/", Some("https://login.salesforce.com/id/00D1/005A")));
        assert_eq!(a, "https://acme.my.salesforce.com 00D1/005A");
        let b = describe_scope(&key, &doc("https://acme.my.salesforce.com", Some("https://login.salesforce.com/id/00D2/005A")));
        assert_ne!(a, b, "another org");
        let c = describe_scope(&key, &doc("https://acme.my.salesforce.com", None));
        assert_eq!(c, "https://acme.my.salesforce.com key:a/o");
    }
}
