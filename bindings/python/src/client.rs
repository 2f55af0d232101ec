//! `sfcrm.Client`: the core [`sfcrm_core::Client`] with blocking methods that release the GIL.

use pyo3::prelude::*;

/// API usage parsed from `Sforce-Limit-Info` (`api-usage=used/limit`) [salesforce-api.md §5].
#[pyclass(module = "sfcrm._native", name = "ApiUsage", frozen, get_all)]
#[derive(Clone)]
pub struct ApiUsage {
    /// API requests used in the org's rolling 24 h window.
    pub used: u64,
    /// The org's daily API request limit.
    pub limit: u64,
    /// `api-bursts=used/limit` as a tuple, when sent.
    pub bursts: Option<(u64, u64)>,
    /// The header value as received.
    pub raw: String,
}

impl ApiUsage {
    pub(crate) fn from_core(u: &sfcrm_core::http::ApiUsage) -> Self {
        ApiUsage { used: u.used, limit: u.limit, bursts: u.bursts, raw: u.raw.clone() }
    }
}

#[pymethods]
impl ApiUsage {
    /// Requests left in the window (`limit - used`, never negative).
    #[getter]
    fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }
    fn __repr__(&self) -> String {
        format!("ApiUsage(used={}, limit={})", self.used, self.limit)
    }
}
