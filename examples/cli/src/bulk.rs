//! `--mode bulk` of `sfcrm export` and `sfcrm query` (issue 12): the records come from a Bulk API
//! 2.0 query job (`ExportMode::Bulk`, core/src/export/bulk.rs). While the server runs the job the
//! progress bar shows its state and `numberRecordsProcessed` (from `ExportStream::bulk_watch`),
//! then the records as they are downloaded; when the records come from REST instead (a query Bulk
//! refuses, a failed job, an incremental export) the reason is printed once on stderr.

use std::time::Duration;

use indicatif::{HumanCount, ProgressBar};
use sfcrm_core::Result;
use sfcrm_core::export::{BulkWatch, ExportMode, ExportStream, RecordBatch};

use crate::term;

/// `--mode`: where the records are read from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// The REST query API (pages of up to 2,000 records).
    #[default]
    Rest,
    /// A Bulk API 2.0 query job: a few API calls for millions of records, pages downloaded in
    /// parallel; records in no particular order; what Bulk refuses is read with REST.
    Bulk,
}

impl From<Mode> for ExportMode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Rest => ExportMode::Rest,
            Mode::Bulk => ExportMode::Bulk,
        }
    }
}

/// How often the bar redraws the job's state while a batch is awaited.
const REDRAW: Duration = Duration::from_millis(200);

/// What a run tells about its Bulk job: the bar's message while the job runs, the fallback's
/// reason once.
#[derive(Default)]
pub struct BulkReport {
    watch: Option<BulkWatch>,
    fallback_told: bool,
}

impl BulkReport {
    /// `stream.next_batch()`, redrawing the job's state on `bar` while it waits (a Bulk stream),
    /// then printing the fallback reason if there is one and it was not printed yet.
    pub async fn next_batch(&mut self, stream: &mut ExportStream, bar: &ProgressBar) -> Result<Option<RecordBatch>> {
        if self.watch.is_none() {
            self.watch = stream.bulk_watch();
        }
        let watch = self.watch.clone();
        let result = {
            let next = stream.next_batch();
            tokio::pin!(next);
            let mut redraw = tokio::time::interval(REDRAW);
            loop {
                tokio::select! {
                    r = &mut next => break r,
                    _ = redraw.tick() => if let Some(w) = &watch { show_job(bar, w) },
                }
            }
        };
        if self.watch.is_none() {
            self.watch = stream.bulk_watch();
        }
        if let Some(w) = &self.watch {
            show_job(bar, w);
        }
        if let (false, Some(reason)) = (self.fallback_told, stream.fallback_reason()) {
            self.fallback_told = true;
            bar.suspend(|| eprintln!("{}", fallback_line(&reason)));
        }
        result
    }
}

/// The line printed once when a `--mode bulk` run reads with REST.
fn fallback_line(reason: &str) -> String {
    format!("--mode bulk: reading with the REST query API instead: {}", term::line(reason))
}

/// The bar's message for the job's state: `Bulk job InProgress, 12,345 records processed`.
fn job_message(w: &BulkWatch) -> String {
    match (w.state(), w.records_processed()) {
        (None, _) if w.fallback_reason().is_some() => String::new(),
        (None, _) => "Bulk job: creating".to_owned(),
        (Some(s), Some(n)) => format!("Bulk job {}, {} records processed", s.as_str(), HumanCount(n)),
        (Some(s), None) => format!("Bulk job {}", s.as_str()),
    }
}

fn show_job(bar: &ProgressBar, w: &BulkWatch) {
    bar.set_message(job_message(w));
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fallback_line_is_one_line_whatever_the_reason() {
        let line = super::fallback_line("INVALIDENTITY: entity type Foo is not supported\nby the Bulk API");
        assert_eq!(line.lines().count(), 1, "{line:?}");
        assert!(line.starts_with("--mode bulk: reading with the REST query API instead: INVALIDENTITY"));
    }
}
