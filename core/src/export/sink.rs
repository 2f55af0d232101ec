//! Exports written to a `std::io::Write` or a file.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::export::writer::io_error;
use crate::export::{Checkpoint, ExportFormat, ExportRequest, Progress, RecordWriter};
use crate::store::ConnectionKey;

/// The result of a finished export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    /// Records written (this run; a resumed export does not count the earlier part).
    pub records: u64,
    /// Salesforce query requests made (see [`crate::export::ExportStream::api_calls`]).
    pub api_calls: u64,
    /// The checkpoint after the last record: in incremental mode its `last_modstamp` is the
    /// `since` of the next run.
    pub checkpoint: Checkpoint,
}

impl Client {
    /// Streams `request` into `out` in `format` (see [`RecordWriter`] for the formats; the CSV
    /// columns are [`crate::export::ExportStream::fields`]). `progress` is called after each batch.
    ///
    /// Errors: those of [`crate::export::ExportStream::next_batch`]; `Io` when writing fails. On
    /// error the output is incomplete; resume with a stream from the last checkpoint if needed.
    pub async fn export_to_writer<W: Write + Send>(
        &self,
        key: &ConnectionKey,
        request: ExportRequest,
        format: ExportFormat,
        out: W,
        progress: Option<&(dyn Fn(Progress) + Send + Sync)>,
    ) -> Result<ExportSummary> {
        let mut stream = self.export_stream(key, request);
        let mut writer = RecordWriter::new(format, out, stream.fields())?;
        while let Some(batch) = stream.next_batch().await? {
            for r in &batch.records {
                writer.write_raw(r)?;
            }
            if let Some(cb) = progress {
                cb(stream.progress());
            }
        }
        let records = writer.records();
        writer.finish()?;
        Ok(ExportSummary { records, api_calls: stream.api_calls(), checkpoint: stream.checkpoint() })
    }

    /// Like [`Client::export_to_writer`], into the file at `path`: written to a temporary file in
    /// the same directory, synced, then renamed over `path` only on success (a failed export
    /// leaves any existing file untouched and no partial file behind).
    pub async fn export_to_path(
        &self,
        key: &ConnectionKey,
        request: ExportRequest,
        format: ExportFormat,
        path: impl AsRef<Path>,
        progress: Option<&(dyn Fn(Progress) + Send + Sync)>,
    ) -> Result<ExportSummary> {
        let path = path.as_ref();
        let (tmp_path, file) = create_temp_beside(path)?;
        let mut out = BufWriter::new(file);
        let result = async {
            let summary = self.export_to_writer(key, request, format, &mut out, progress).await?;
            let file = out.into_inner().map_err(|e| io_error(e.into_error()))?;
            file.sync_all().map_err(io_error)?;
            drop(file);
            std::fs::rename(&tmp_path, path).map_err(io_error)?;
            Ok(summary)
        }
        .await;
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp_path);
        }
        result
    }
}

fn create_temp_beside(path: &Path) -> Result<(PathBuf, std::fs::File)> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid_argument(format!("{} is not a file path", path.display())))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    for _ in 0..16 {
        let tmp = dir.join(format!(".{}.{:016x}.partial", name.to_string_lossy(), rand::random::<u64>()));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(Error::new(ErrorKind::Io, format!("cannot create a file in {}: {e}", dir.display())).with_source(e));
            }
        }
    }
    Err(Error::new(ErrorKind::Io, "cannot create a temporary file for the export"))
}
