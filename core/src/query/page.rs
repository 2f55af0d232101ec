//! One page of a REST query response [salesforce-api.md §4]: its shape, and the transport's decoder.

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::http::{Decoded, unreadable_json};
use crate::query::RawRecord;
use crate::query::raw::parse_query_page;

/// Options of a REST query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryOptions {
    /// Use `queryAll` (soft-deleted and archived rows too) [salesforce-api.md §4].
    pub include_deleted: bool,
    /// `Sforce-Query-Options: batchSize=N` (200..=2000; a hint Salesforce may ignore). `None` uses
    /// the config's batch size, if any.
    pub batch_size: Option<u32>,
}

/// One page of a REST query result [salesforce-api.md §4].
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPage {
    /// `totalSize`: rows in the whole result.
    pub total_size: u64,
    /// `done`: true on the last page.
    pub done: bool,
    /// `nextRecordsUrl` (relative to `instance_url`) when `done` is false.
    pub next_records_url: Option<String>,
    /// The records as Salesforce sent them (validated JSON text; key order and `attributes`
    /// kept). Decode with [`RawRecord::to_record`] or [`RawRecord::deserialize`].
    pub records: Vec<RawRecord>,
}

impl QueryPage {
    /// Parses a query response body given as a value (tests, hosts holding a decoded body).
    /// Missing `totalSize`/`done`/`records` (other than a `COUNT()` result, which may have no
    /// records) is a `Protocol` error.
    pub fn from_json(body: Value) -> Result<QueryPage> {
        QueryPage::from_text(body.to_string())
    }

    /// Parses a query response body's text with one validating pass (no value is built for the
    /// records). Errors: `Protocol` for invalid JSON or a body that is not a query result.
    pub fn from_text(text: impl Into<String>) -> Result<QueryPage> {
        match decode_query_page(200, text.into()) {
            Decoded::Body(p) => Ok(p),
            Decoded::Retry(e) | Decoded::Fail(e) => Err(e),
        }
    }
}

/// The transport's decoder for query bodies: syntax errors (a body cut off mid-way) are retried,
/// shape errors are `Protocol` at once.
pub(crate) fn decode_query_page(status: u16, text: String) -> Decoded<QueryPage> {
    let protocol = |m: &str| Decoded::Fail(Error::new(ErrorKind::Protocol, m.to_string()).with_status(status));
    if !text.trim_start().starts_with('{') {
        if text.trim().is_empty() || serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok() {
            return protocol("the query response is not a JSON object");
        }
        return Decoded::Retry(unreadable_json(status, serde_json::from_str::<Value>(&text).unwrap_err(), text));
    }
    let page = match parse_query_page(text) {
        Ok(p) => p,
        Err((e, text)) => {
            use serde_json::error::Category;
            return match e.classify() {
                Category::Data => Decoded::Fail(
                    Error::new(ErrorKind::Protocol, format!("the query response is not a query result: {e}"))
                        .with_status(status)
                        .with_raw_body(text),
                ),
                _ => Decoded::Retry(unreadable_json(status, e, text)),
            };
        }
    };
    let Some(total_size) = page.total_size else {
        return protocol("the query response has no totalSize");
    };
    let Some(done) = page.done else {
        return protocol("the query response has no done flag");
    };
    if !done && page.next_records_url.is_none() {
        return protocol("the query response has done=false but no nextRecordsUrl");
    }
    if page.records_not_array {
        return protocol("the query response's records is not an array");
    }
    if page.non_object_record {
        return protocol("a query record is not a JSON object");
    }
    Decoded::Body(QueryPage { total_size, done, next_records_url: page.next_records_url, records: page.records.unwrap_or_default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_page_parsing() {
        let p = QueryPage::from_json(serde_json::json!({"totalSize":5,"done":false,"nextRecordsUrl":"/services/data/v59.0/query/01g-2","records":[{"Id":"1"}]})).unwrap();
        assert_eq!((p.total_size, p.done, p.records.len()), (5, false, 1));
        assert_eq!(
            p.next_records_url.as_deref(),
            Some("/services/data/v59.0/query/01g-2")
        );
        let p = QueryPage::from_json(serde_json::json!({"totalSize":42,"done":true})).unwrap();
        assert_eq!(p.total_size, 42);
        assert!(p.records.is_empty());
        assert_eq!(
            QueryPage::from_json(serde_json::json!({"done":true}))
                .unwrap_err()
                .kind(),
            ErrorKind::Protocol
        );
        assert_eq!(
            QueryPage::from_json(serde_json::json!({"totalSize":1,"done":false,"records":[]}))
                .unwrap_err()
                .kind(),
            ErrorKind::Protocol
        );
    }
}
