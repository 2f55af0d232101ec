//! Describe (issue 11 item 4): the glue behind `Client.describe` and `Client.describe_global`.
//! Both return Salesforce's JSON body as a dict, exactly as received (what simple-salesforce users
//! expect); the core types it, caches it per client for `describe_cache_ttl` and counts the call.

use pyo3::prelude::*;
use sfcrm_core::ConnectionKey;

use crate::error::IntoPyResult;
use crate::{rawjson, runtime};

/// `Client.describe`: Salesforce's describe body for `sobject` (the core caches it per client for
/// `describe_cache_ttl`), parsed into a dict as received.
pub fn describe<'py>(py: Python<'py>, client: &sfcrm_core::Client, key: ConnectionKey, sobject: String) -> PyResult<Bound<'py, PyAny>> {
    let c = client.clone();
    let d = runtime::wait(py, async move { c.describe(&key, &sobject).await })?.py_err()?;
    rawjson::loads(py, d.raw_json(), false)
}

/// `Client.describe_global`: Salesforce's `/sobjects` body (cached like `describe`) as a dict.
pub fn describe_global<'py>(py: Python<'py>, client: &sfcrm_core::Client, key: ConnectionKey) -> PyResult<Bound<'py, PyAny>> {
    let c = client.clone();
    let d = runtime::wait(py, async move { c.describe_global(&key).await })?.py_err()?;
    rawjson::loads(py, d.raw_json(), false)
}
