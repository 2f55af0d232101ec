//! Reading Salesforce query responses: the layer below the client's API calls and the exports.
//!
//! - [`QueryPage`]: one page of a REST query (`totalSize`, `done`, `nextRecordsUrl`, `records`)
//!   and the transport's decoder for it ([salesforce-api.md §4]).
//! - [`RawRecord`]: one record as the exact JSON text Salesforce sent, decoded on demand.
//! - [`Record`]: a decoded record (a JSON object in Salesforce's key order).
//! - Query sources (`source.rs`: the `QuerySource` seam and the `RecordQuery` every source reads;
//!   `rest.rs`: the REST cursor of exports; `joined.rs`: wide queries as field groups joined by Id;
//!   `soql_cursor.rs`: a caller's SOQL; `bulk_cursor.rs`: Bulk API 2.0 query jobs
//!   (`bulk.rs`: the job calls, `bulk_csv.rs`: CSV pages as records); parallel Id-range cursors
//!   next) yield batches of [`RawRecord`]s with the keyset `Position` (`position.rs`) to
//!   resume after.
//! - `soql_plan.rs` + `soql_cursor.rs`: a caller's SOQL SELECT as a source (keyset when it is
//!   eligible, else by query locator); `children.rs`: completing child-relationship cursors
//!   ([`ChildCursors`]).
//! - `cache.rs`: the COUNT and keyset-anchor cache of `export_page`.
//!
//! Nothing here knows the client or the exports: sources reach Salesforce through the
//! `QueryApi` calls the client provides.

pub(crate) mod bulk;
pub(crate) mod bulk_csv;
pub(crate) mod bulk_cursor;
pub(crate) mod cache;
pub(crate) mod joined;
pub(crate) mod children;
pub(crate) mod page;
pub(crate) mod position;
pub(crate) mod raw;
pub(crate) mod rest;
pub(crate) mod soql_cursor;
pub(crate) mod soql_fields;
pub(crate) mod soql_plan;
pub(crate) mod source;

use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};
use crate::soql::SalesforceId;

pub use bulk::{BulkJobState, BulkLimits, BulkOptions};
pub use bulk_csv::bulk_csv_records;
pub use children::ChildCursors;
pub use page::{QueryOptions, QueryPage};
pub(crate) use page::decode_query_page;
pub use raw::RawRecord;
pub(crate) use position::Position;

/// One record decoded: a JSON object in Salesforce's key order, `attributes` included, numbers
/// with their original digits. Streams deliver [`RawRecord`]s (text); decode with
/// [`RawRecord::to_record`].
pub type Record = Map<String, Value>;

/// The record's Id: the `Id` field when selected (any case), else the last segment of
/// `attributes.url` (`/services/data/v48.0/sobjects/Contact/003…`). `Protocol` when neither holds
/// a valid Id.
pub(crate) fn record_id(record: &Record) -> Result<SalesforceId> {
    let from_field = record
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Id"))
        .and_then(|(_, v)| v.as_str());
    let from_url = || {
        record
            .get("attributes")
            .and_then(|a| a.get("url"))
            .and_then(Value::as_str)
            .and_then(|u| u.rsplit('/').next())
    };
    let text = from_field.or_else(from_url).ok_or_else(|| {
        Error::new(ErrorKind::Protocol, "a record has neither an Id field nor attributes.url")
    })?;
    SalesforceId::new(text)
        .map_err(|_| Error::new(ErrorKind::Protocol, format!("a record has a malformed Id {text:?}")))
}
