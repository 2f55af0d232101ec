//! (being written) The transport.

/// API usage parsed from `Sforce-Limit-Info: api-usage=10018/100000` (daily used / limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiUsage {
    /// API requests used in the rolling 24 h window.
    pub used: u64,
    /// The org's daily API request limit.
    pub limit: u64,
}
