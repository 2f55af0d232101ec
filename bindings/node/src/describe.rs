//! Describe for Node: `client.describe(key, sObject)` and `client.describeGlobal(key)` (core
//! `Client::describe` / `describe_global`, cached per client for `describeCacheTtlSecs`, each
//! miss one counted API call).
//!
//! The result crosses as Salesforce's JSON body exactly as received (`raw_json`), which
//! `lib/index.js` parses: Node users get the object jsforce's `describe()` gives
//! (`fields[].name/type/label/nillable/length/precision/scale/relationshipName/referenceTo/
//! compoundFieldName`, `childRelationships`, ...) [salesforce-api.md §4].

use napi_derive::napi;

use crate::client::NativeClient;
use crate::error::Settled;
use crate::store::key;

#[napi]
impl NativeClient {
    /// `GET /services/data/vXX.X/sobjects/{sobject}/describe` (or the cached copy) as
    /// Salesforce's JSON text. Rejects `InvalidIdentifier` for a name that is not an sObject API
    /// name (no request), `api` with `errorCode` `NOT_FOUND` for an unknown sObject.
    #[napi(ts_return_type = "Promise<string>")]
    pub async fn describe(&self, account_id: String, owner: String, sobject: String) -> Settled<String> {
        let describe = async {
            let d = self.inner.describe(&key(account_id, owner)?, &sobject).await?;
            Ok(d.raw_json().to_string())
        };
        Settled(describe.await)
    }

    /// `GET /services/data/vXX.X/sobjects` (or the cached copy) as Salesforce's JSON text.
    #[napi(ts_return_type = "Promise<string>")]
    pub async fn describe_global(&self, account_id: String, owner: String) -> Settled<String> {
        let describe = async {
            let d = self.inner.describe_global(&key(account_id, owner)?).await?;
            Ok(d.raw_json().to_string())
        };
        Settled(describe.await)
    }
}
