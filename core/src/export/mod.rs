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
//!   session, incremental mode (`since` a SystemModstamp, or the previous run's [`Watermark`]),
//!   progress and cancellation.
//! - [`crate::Client::query_stream`] ([`QueryRequest`]): any SOQL SELECT with bind values as the
//!   same stream (keyset when eligible, else by query locator; child cursors completed), and
//!   `query_one`, `query_to_writer`, `query_to_path`.
//! - [`RecordWriter`], [`crate::Client::export_to_writer`] / [`crate::Client::export_to_path`] and
//!   [`ExportFile`] (the output path's checks, a temporary file, the rename, resuming a partial file):
//!   CSV, NDJSON and JSON output with exact strings and numbers.

mod batch;
mod bulk;
mod checkpoint;
mod page;
pub(crate) mod query;
mod request;
pub(crate) mod sink;
mod spec;
pub(crate) mod stream;
mod watermark;
mod writer;

pub use crate::query::{RawRecord, Record};
pub use batch::{Progress, RecordBatch};
pub use checkpoint::Checkpoint;
pub use page::{ExportPage, PageRequest};
pub use query::QueryRequest;
pub use crate::query::ChildCursors;
pub use bulk::BulkWatch;
pub use request::{ExportMode, ExportRequest};
pub use crate::query::{BulkJobState, BulkLimits, BulkOptions};
pub use sink::{ExportFile, ExportSummary};
pub use spec::{ExportSpec, UNKNOWN_TYPE_MESSAGE, unknown_type_message};
pub use stream::{CancelHandle, ExportStream};
pub use watermark::{DEFAULT_LOOKBACK, MAX_LOOKBACK, Watermark};
pub use writer::{ExportFormat, RecordWriter, flatten_record, flatten_record_present};

