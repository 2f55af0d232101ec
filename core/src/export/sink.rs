//! Exports written to a `std::io::Write` or a file, and the file an export is written to
//! ([`ExportFile`]: the output path's checks, the temporary file and the rename).

use std::fs::{File, FileType, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::export::writer::{csv_header, io_error};
use crate::export::{Checkpoint, ExportFormat, ExportRequest, ExportStream, Progress, RecordWriter};
use crate::soql::FieldPath;
use crate::store::ConnectionKey;

/// The result of a finished export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    /// Records written (this run; a resumed export does not count the earlier part).
    pub records: u64,
    /// Salesforce query requests made (see [`crate::export::ExportStream::api_calls`]).
    pub api_calls: u64,
    /// The checkpoint after the last record: it resumes this export if it stopped. It is not the
    /// next incremental run's starting point: that is [`ExportSummary::watermark`].
    pub checkpoint: Checkpoint,
    /// Records the queries' `totalSize` announced that were deleted during the export
    /// ([`crate::export::Progress::missing`]); 0 normally.
    pub missing: u64,
    /// Incremental exports: the state the next run starts from
    /// ([`crate::export::ExportStream::watermark`]); `None` for a full export.
    pub watermark: Option<crate::export::Watermark>,
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
        write_stream(self.export_stream(key, request), format, out, progress).await
    }

    /// Like [`Client::export_to_writer`], into the file at `path`, through an [`ExportFile`]: the
    /// target is checked before the first request (it must be a regular file or not exist yet,
    /// in an existing directory), the records go to a temporary file created exclusively under an
    /// unpredictable name beside it, which is synced and renamed over `path` only on success. A
    /// failed (or dropped) export leaves any existing file untouched and no temporary file behind.
    ///
    /// Errors: `Io` when `path` is a symbolic link, a directory, a FIFO, a socket or a device
    /// (refused, left as it is: renaming a file over it would replace it), when its directory is
    /// missing or not writable, or when writing fails; those of
    /// [`crate::export::ExportStream::next_batch`].
    pub async fn export_to_path(
        &self,
        key: &ConnectionKey,
        request: ExportRequest,
        format: ExportFormat,
        path: impl AsRef<Path>,
        progress: Option<&(dyn Fn(Progress) + Send + Sync)>,
    ) -> Result<ExportSummary> {
        write_stream_to_path(self.export_stream(key, request), format, path.as_ref(), progress).await
    }
}

/// Drives `stream` to the end into `out` (exports and queries).
pub(crate) async fn write_stream<W: Write + Send>(
    mut stream: ExportStream,
    format: ExportFormat,
    out: W,
    progress: Option<&(dyn Fn(Progress) + Send + Sync)>,
) -> Result<ExportSummary> {
    stream.ready().await?;
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
    Ok(ExportSummary {
        records,
        api_calls: stream.api_calls(),
        checkpoint: stream.checkpoint(),
        missing: stream.progress().missing,
        watermark: stream.watermark(),
    })
}

/// [`write_stream`] into the file at `path` through an [`ExportFile`] (checked before the first
/// request; renamed over `path` only on success).
pub(crate) async fn write_stream_to_path(
    stream: ExportStream,
    format: ExportFormat,
    path: &Path,
    progress: Option<&(dyn Fn(Progress) + Send + Sync)>,
) -> Result<ExportSummary> {
    let mut file = ExportFile::create(path)?;
    let summary = {
        let mut out = BufWriter::new(file.file_mut());
        let summary = write_stream(stream, format, &mut out, progress).await?;
        out.flush().map_err(io_error)?;
        summary
    };
    file.commit()?;
    Ok(summary)
}

/// The file an export is written to: its checks, a temporary file beside it, and the final rename.
///
/// [`Client::export_to_path`] uses it; a host that drives an [`crate::export::ExportStream`]
/// itself and keeps what it wrote when the export stops (the `sfcrm` command) uses it directly:
///
/// - [`ExportFile::create`] checks the target first, so a bad path fails before any request: it
///   must be a regular file (replaced at the end) or not exist yet; a symbolic link (even one to a
///   regular file), a directory, a FIFO, a socket or a device is refused with an `Io` error and
///   left as it is. It then creates the temporary file `.<name>.<16 random hex digits>.partial` in
///   the target's directory exclusively (`O_CREAT|O_EXCL`: an existing name, a planted symbolic
///   link included, is never opened), mode 0666 less the umask.
/// - [`ExportFile::record_writer`] gives the [`RecordWriter`] over it.
/// - [`ExportFile::commit`] syncs the file, checks the target again and renames the file over it.
/// - [`ExportFile::keep`] leaves the temporary file in place (a partial export, to continue with
///   [`ExportFile::resume`] from the stream's checkpoint).
/// - Dropped otherwise (an error, a cancelled task), the temporary file is removed; a resumed
///   partial file is never removed except by the rename.
#[derive(Debug)]
pub struct ExportFile {
    target: PathBuf,
    temp: PathBuf,
    file: File,
    resumed: bool,
    done: bool,
}

impl ExportFile {
    /// Checks `target` and creates the temporary file beside it (see the type's docs).
    ///
    /// Errors: `InvalidArgument` when `target` has no file name (`..`, `/`); `Io` when the target
    /// is not a regular file, its directory is missing or the file cannot be created.
    pub fn create(target: impl AsRef<Path>) -> Result<ExportFile> {
        let target = target.as_ref();
        check_target(target)?;
        let (temp, file) = create_temp_beside(target)?;
        Ok(ExportFile { target: target.to_path_buf(), temp, file, resumed: false, done: false })
    }

    /// Continues the partial file an earlier export to `target` kept ([`ExportFile::keep`]):
    /// records are appended to it (the next [`ExportFile::record_writer`] checks it ends where a
    /// finished [`RecordWriter`] of the same format and columns ended) and [`ExportFile::commit`]
    /// renames it over `target`. Resume the stream from the checkpoint after the partial file's
    /// last record.
    ///
    /// Errors: `Io` when `target` fails [`ExportFile::create`]'s checks, or `partial` is missing,
    /// is not a regular file (a symbolic link is refused) or is not in `target`'s directory.
    pub fn resume(target: impl AsRef<Path>, partial: impl AsRef<Path>) -> Result<ExportFile> {
        let (target, partial) = (target.as_ref(), partial.as_ref());
        check_target(target)?;
        let refuse = |why: String| Error::new(ErrorKind::Io, format!("cannot continue the partial file {}: {why}", partial.display()));
        let meta = std::fs::symlink_metadata(partial).map_err(|e| refuse(e.to_string()).with_source(e))?;
        if !meta.file_type().is_file() {
            return Err(refuse(format!("it is {}, not a regular file", describe(&meta.file_type()))));
        }
        if !same_file(&std::fs::metadata(parent_dir(partial)), &std::fs::metadata(parent_dir(target))) {
            return Err(refuse(format!("it is not in the directory of {}", target.display())));
        }
        let file = open_no_follow(partial).map_err(|e| refuse(e.to_string()).with_source(e))?;
        if !same_file(&Ok(meta), &file.metadata()) {
            return Err(refuse("it was replaced while being opened".into()));
        }
        Ok(ExportFile { target: target.to_path_buf(), temp: partial.to_path_buf(), file, resumed: true, done: false })
    }

    /// The target path.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The temporary (or resumed partial) file's path.
    pub fn partial_path(&self) -> &Path {
        &self.temp
    }

    /// The open temporary file, positioned where the next byte goes.
    pub fn file_mut(&mut self) -> &mut File {
        &mut self.file
    }

    /// A [`RecordWriter`] over the file (call it once). A new file gets a whole output (the CSV
    /// header, JSON's `[`); a resumed one continues after its last record: a CSV file must start
    /// with this export's header, an NDJSON file hold whole lines, a JSON file end with the `]`
    /// `finish` wrote (removed here, and written again by the next `finish`).
    ///
    /// Errors: `Io` when a resumed file does not fit `format` and `columns` (nothing is changed)
    /// or cannot be read.
    pub fn record_writer(&mut self, format: ExportFormat, columns: &[FieldPath]) -> Result<RecordWriter<BufWriter<&mut File>>> {
        if !self.resumed {
            return RecordWriter::new(format, BufWriter::new(&mut self.file), columns);
        }
        let has_records = position_for_append(&mut self.file, format, columns)
            .map_err(|why| Error::new(ErrorKind::Io, format!("cannot continue the partial file {}: {why}", self.temp.display())))?;
        Ok(RecordWriter::continuing(format, BufWriter::new(&mut self.file), columns, has_records))
    }

    /// Syncs the file, checks the target again (it may have changed since [`ExportFile::create`])
    /// and renames the file over it. Finish the [`RecordWriter`] first.
    ///
    /// Errors: `Io` (the temporary file is then removed; a resumed partial file is kept).
    pub fn commit(mut self) -> Result<()> {
        self.file.sync_all().map_err(io_error)?;
        check_target(&self.target)?;
        std::fs::rename(&self.temp, &self.target).map_err(|e| {
            let message = format!("cannot rename {} to {}: {e}", self.temp.display(), self.target.display());
            Error::new(ErrorKind::Io, message).with_source(e)
        })?;
        self.done = true;
        Ok(())
    }

    /// Leaves the file in place and returns its path (a partial export to resume later).
    pub fn keep(mut self) -> PathBuf {
        self.done = true;
        self.temp.clone()
    }
}

impl Drop for ExportFile {
    fn drop(&mut self) {
        if !self.done && !self.resumed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// `Ok` when `path` does not exist or is a regular file (not followed if it is a link).
fn check_target(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_file() => Ok(()),
        Ok(meta) => {
            let t = meta.file_type();
            let what = describe(&t);
            let advice = if t.is_symlink() {
                "a file export renames a new file over its target, which would replace the link, not write to \
                 the file it points to: name that file, or remove the link"
            } else if t.is_dir() {
                "name a file to write"
            } else {
                "a file export renames a new file over its target, which would replace it: export to a regular \
                 file, or stream the export to write to a pipe or device"
            };
            Err(Error::new(ErrorKind::Io, format!("cannot export to {}: it is {what}, not a regular file ({advice})", path.display())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::new(ErrorKind::Io, format!("cannot export to {}: {e}", path.display())).with_source(e)),
    }
}

fn describe(t: &FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        } else if t.is_socket() {
            return "a socket";
        } else if t.is_char_device() {
            return "a character device";
        } else if t.is_block_device() {
            return "a block device";
        }
    }
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn same_file(a: &std::io::Result<std::fs::Metadata>, b: &std::io::Result<std::fs::Metadata>) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        matches!((a, b), (Ok(a), Ok(b)) if a.dev() == b.dev() && a.ino() == b.ino())
    }
    #[cfg(not(unix))]
    {
        matches!((a, b), (Ok(a), Ok(b)) if a.len() == b.len() && a.modified().ok() == b.modified().ok())
    }
}

/// Opens an existing file for reading and writing, refusing a symbolic link as its last component.
fn open_no_follow(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// Checks that `file` ends where a finished `RecordWriter` for `format` and `columns` ended and
/// positions it for the next record; returns whether it holds a record (JSON's `,` separator).
fn position_for_append(file: &mut File, format: ExportFormat, columns: &[FieldPath]) -> std::result::Result<bool, String> {
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut read_at = |offset: u64, n: u64| -> std::result::Result<Vec<u8>, String> {
        let mut buf = vec![0u8; n.min(len.saturating_sub(offset)) as usize];
        file.seek(SeekFrom::Start(offset)).and_then(|_| file.read_exact(&mut buf)).map_err(|e| e.to_string())?;
        Ok(buf)
    };
    let tail = read_at(len.saturating_sub(3), 3)?;
    let (has_records, keep) = match format {
        ExportFormat::Csv => {
            let header = csv_header(columns).map_err(|e| e.message().to_owned())?;
            if read_at(0, header.len() as u64)? != header {
                return Err("it does not start with this export's CSV header (another type, fields or format?)".into());
            }
            if !tail.ends_with(b"\r\n") {
                return Err("it ends in the middle of a CSV row".into());
            }
            (len > header.len() as u64, len)
        }
        ExportFormat::Ndjson => {
            if len > 0 && (read_at(0, 1)? != b"{" || !tail.ends_with(b"\n")) {
                return Err("it is not whole NDJSON lines (another format, or cut in the middle of a line?)".into());
            }
            (len > 0, len)
        }
        ExportFormat::Json => match (read_at(0, 1)?.as_slice(), tail.as_slice()) {
            (b"[", b"[]\n") if len == 3 => (false, 1),
            (b"[", b"\n]\n") => (true, len - 3),
            _ => return Err("it does not end like a finished JSON export (`]` after the last record)".into()),
        },
    };
    file.set_len(keep).and_then(|_| file.seek(SeekFrom::End(0))).map_err(|e| e.to_string())?;
    Ok(has_records)
}

fn create_temp_beside(path: &Path) -> Result<(PathBuf, File)> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid_argument(format!("{} is not a file path", path.display())))?;
    let dir = parent_dir(path);
    for _ in 0..16 {
        let tmp = dir.join(format!(".{}.{:016x}.partial", name.to_string_lossy(), rand::random::<u64>()));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(Error::new(ErrorKind::Io, format!("cannot create a file in {}: {e}", dir.display())).with_source(e));
            }
        }
    }
    Err(Error::new(ErrorKind::Io, "cannot create a temporary file for the export"))
}
