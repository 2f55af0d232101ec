//! CRM data export: the seed's paged export body, streaming exports, and file writers.
//!
//! - [`ExportSpec`]: `contacts` / `deals` / `notes` (the seed's field lists) or any sObject with
//!   validated fields.
//! - [`crate::Client::export_page`]: one page in the seed's JSON body (`success`, `message`,
//!   `data`, `pagination`), correct at every depth: a stable order (`ORDER BY Id`, D3), OFFSET only
//!   up to 2000 and keyset paging beyond (D1), `nextRecordsUrl` followed for pages larger than one
//!   batch and for "no limit" (D2), the COUNT() reused for `count_cache_ttl` (D15).
//! - [`crate::Client::export_stream`]: every record of a spec as a stream of batches, with prefetch,
//!   checkpoints (resumable across processes), recovery when the query locator dies with the
//!   session, incremental mode (`since` a SystemModstamp), progress and cancellation.
//! - [`RecordWriter`] and [`crate::Client::export_to_writer`] / [`crate::Client::export_to_path`]:
//!   CSV, NDJSON and JSON output with exact strings and numbers.

mod page;
pub mod raw;
mod sink;
mod spec;
mod stream;
mod writer;

use serde_json::{Map, Value};

pub use page::{ExportPage, PageRequest};
pub use raw::RawRecord;
pub(crate) use page::ExportCache;
pub use sink::ExportSummary;
pub use spec::{BUILTIN_TYPES, ExportSpec, UNKNOWN_TYPE_MESSAGE};
pub use stream::{CancelHandle, Checkpoint, ExportRequest, ExportStream, Progress, RecordBatch};
pub use writer::{
    ExportFormat, RecordWriter, csv_text, flatten_record, flatten_record_present, lookup_path,
    strip_attributes,
};

use crate::error::{Error, ErrorKind, Result};
use crate::soql::SalesforceId;

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
