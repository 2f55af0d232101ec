//! What a streaming export reads: [`ExportRequest`].

use std::time::Duration;

use crate::export::{CancelHandle, Checkpoint, ExportSpec, Watermark};
use crate::query::BulkOptions;

/// Where a stream reads its records from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum ExportMode {
    /// The REST query API: `query`/`queryAll` and `nextRecordsUrl` pages of up to 2,000 records
    /// (default).
    #[default]
    Rest,
    /// A Bulk API 2.0 query job [bulk-and-parallel.md §1]: a few calls for millions of records,
    /// pages downloaded in parallel (see [`BulkOptions`]). Records are the REST source's (same
    /// JSON; no `attributes` on nested parents; empty text is null), in no particular order. A
    /// query Bulk refuses, or a failed job, is read with REST instead (the reason in
    /// [`crate::export::ExportStream::fallback_reason`]); so is an incremental export (`since`),
    /// whose checkpoints need REST's `SystemModstamp` order.
    Bulk,
}

/// What to stream.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// The sObject, fields and filter.
    pub spec: ExportSpec,
    /// Incremental mode: only records with `SystemModstamp >= since` (inclusive). Accepts
    /// Salesforce's `2024-01-01T00:00:00.000+0000` and RFC 3339 (`2024-01-01T00:00:00Z`).
    pub since: Option<String>,
    /// Continue after this checkpoint (from [`crate::export::ExportStream::checkpoint`] or
    /// [`Checkpoint::from_token`]); it must be for the same sObject and mode.
    pub resume_from: Option<Checkpoint>,
    /// Include soft-deleted and archived rows (`queryAll`) [salesforce-api.md §4].
    pub include_deleted: bool,
    /// `Sforce-Query-Options: batchSize` (200..=2000; Salesforce may return fewer); `None` uses the
    /// client's configured default.
    pub batch_size: Option<u32>,
    /// Cancel through this handle (e.g. one kept by the host before calling
    /// [`crate::Client::export_to_path`]); `None` gives the stream a handle of its own
    /// ([`crate::export::ExportStream::cancel_handle`]).
    pub cancel: Option<CancelHandle>,
    /// Incremental state from the previous run ([`crate::export::ExportStream::watermark`]): the
    /// run reads `SystemModstamp >= watermark - lookback` and skips the changes already delivered
    /// (`export/watermark.rs`). Exclusive with `since`.
    pub watermark: Option<Watermark>,
    /// How far before the watermark a run re-reads, for rows committed late; `None`:
    /// [`crate::export::DEFAULT_LOOKBACK`] (600 s). At most [`crate::export::MAX_LOOKBACK`].
    pub lookback: Option<Duration>,
    /// REST (default) or a Bulk API 2.0 job.
    pub mode: ExportMode,
    /// How a Bulk job runs ([`ExportMode::Bulk`] only).
    pub bulk: BulkOptions,
}

impl ExportRequest {
    /// A full export of `spec` with default options.
    pub fn new(spec: ExportSpec) -> Self {
        ExportRequest {
            spec,
            since: None,
            resume_from: None,
            include_deleted: false,
            batch_size: None,
            cancel: None,
            watermark: None,
            lookback: None,
            mode: ExportMode::Rest,
            bulk: BulkOptions::default(),
        }
    }
    /// Sets incremental mode.
    pub fn since(mut self, since: impl Into<String>) -> Self {
        self.since = Some(since.into());
        self
    }
    /// Resumes after a checkpoint.
    pub fn resume_from(mut self, checkpoint: Checkpoint) -> Self {
        self.resume_from = Some(checkpoint);
        self
    }
    /// Includes deleted rows (`queryAll`).
    pub fn include_deleted(mut self, yes: bool) -> Self {
        self.include_deleted = yes;
        self
    }
    /// Sets the requested batch size.
    pub fn batch_size(mut self, n: u32) -> Self {
        self.batch_size = Some(n);
        self
    }
    /// Incremental mode from the previous run's watermark (see [`ExportRequest::watermark`]).
    pub fn after_watermark(mut self, watermark: Watermark) -> Self {
        self.watermark = Some(watermark);
        self
    }
    /// Sets the lookback of a watermark run (see [`ExportRequest::lookback`]).
    pub fn lookback(mut self, lookback: Duration) -> Self {
        self.lookback = Some(lookback);
        self
    }
    /// Cancels the export when `handle` is cancelled (from any thread).
    pub fn cancel_with(mut self, handle: CancelHandle) -> Self {
        self.cancel = Some(handle);
        self
    }
    /// Reads with REST or a Bulk API 2.0 job.
    pub fn mode(mut self, mode: ExportMode) -> Self {
        self.mode = mode;
        self
    }
    /// Sets the Bulk job's options (page size, parallel pages, polling, delete, fallback).
    pub fn bulk_options(mut self, options: BulkOptions) -> Self {
        self.bulk = options;
        self
    }
}
