//! What a streaming export hands out: [`RecordBatch`]es, and its [`Progress`].

use crate::error::Result;
use crate::query::{RawRecord, Record};

/// A batch of records, as Salesforce returned them (`attributes` included): validated JSON text
/// per record, decoded only on demand (see [`RawRecord`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordBatch {
    /// The records, in the stream's order.
    pub records: Vec<RawRecord>,
}

impl RecordBatch {
    /// Every record decoded into a [`Record`] map. `Protocol` if one cannot be (none known: the
    /// text was validated when read).
    pub fn to_records(&self) -> Result<Vec<Record>> {
        self.records.iter().map(RawRecord::to_record).collect()
    }

    /// Appends the batch as one JSON array (`[rec,rec,…]`, records as received) to `out`.
    pub fn write_json_array(&self, out: &mut Vec<u8>) {
        out.reserve(self.records.iter().map(|r| r.json().len() + 1).sum::<usize>() + 2);
        out.push(b'[');
        for (i, r) in self.records.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(r.json().as_bytes());
        }
        out.push(b']');
    }

    /// Appends the batch as NDJSON (one record per line, each line ending in `\n`) to `out`.
    pub fn write_ndjson(&self, out: &mut Vec<u8>) {
        out.reserve(self.records.iter().map(|r| r.json().len() + 1).sum::<usize>());
        for r in &self.records {
            r.write_compact(out);
            out.push(b'\n');
        }
    }
}

/// Progress of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Records delivered so far (including those before the checkpoint resumed from).
    pub records: u64,
    /// Batches delivered so far (this stream only).
    pub batches: u64,
    /// Records expected in all: Salesforce's `totalSize` of the query (plus the records before the
    /// checkpoint resumed from); `None` until the first response. A Bulk job's is its
    /// `numberRecordsProcessed` once complete.
    pub total_size: Option<u64>,
    /// Records a query's `totalSize` announced that no longer existed when the SDK asked again at
    /// the end of the query: rows deleted during the export (`query/rest.rs`; logged as a
    /// warning). `records + missing` is what `total_size` promised. 0 normally.
    pub missing: u64,
    /// A Bulk API 2.0 stream: the job's last state seen (`None` for REST, and after a fallback
    /// to REST) [bulk-and-parallel.md §1.3].
    pub job_state: Option<crate::query::BulkJobState>,
    /// A Bulk job's last `numberRecordsProcessed` seen (grows while the server works).
    pub records_processed: Option<u64>,
    /// A Bulk job's last `retries` seen (Salesforce's internal retries; above 15, filter more
    /// [bulk-and-parallel.md §1.8]).
    pub job_retries: Option<u64>,
}
