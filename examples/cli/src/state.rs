//! `sfcrm export --incremental-state FILE`: the incremental sync state between runs, kept in a
//! file.
//!
//! The file holds one line: the core's watermark token (`export/watermark.rs`: the newest
//! SystemModstamp delivered and the records delivered within the lookback of it). A run with the
//! file reads `SystemModstamp >=` that minus 600 s and skips the changes already delivered, so
//! every change arrives exactly once, also a row committed late [bulk-and-parallel.md §3, §4 item
//! 6]. Without the file, the run exports every record (or those since `--since`) and creates it.
//!
//! The file is checked and read before any request (a directory, link, FIFO or device is
//! refused; a resume checkpoint pasted into it is refused with the core's message saying which
//! token goes where) and replaced only after the export file is complete and renamed in place: a
//! temporary file beside it (created exclusively), synced, renamed over it, and the directory
//! synced. A run that stops never touches it, so running the command again (or continuing with
//! `--checkpoint`) cannot skip a change.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use sfcrm_core::export::Watermark;
use sfcrm_core::{Error, ErrorKind, Result};

use crate::term;

/// Where a first incremental run without `--since` starts: every record.
pub const EVERYTHING: &str = "1970-01-01T00:00:00Z";

/// The state file of one incremental sync: its path and the watermark it holds (`None`: no file
/// yet, a first run).
pub struct IncrementalState {
    path: PathBuf,
    watermark: Option<Watermark>,
}

impl IncrementalState {
    /// Reads `path` when it exists; checks that it can be created otherwise. `InvalidArgument`
    /// for a file that does not hold a watermark, `Io` for one that cannot be read or written.
    pub fn open(path: &Path) -> Result<IncrementalState> {
        let shown = term::line(&path.to_string_lossy()).into_owned();
        let io = |what: &str, e: std::io::Error| Error::new(ErrorKind::Io, format!("{what} {shown}: {e}"));
        match fs::symlink_metadata(path) {
            Ok(meta) if meta.is_file() => {
                let text = fs::read_to_string(path).map_err(|e| io("cannot read the incremental state", e))?;
                let watermark = Watermark::from_token(text.trim()).map_err(|e| {
                    Error::invalid_argument(format!(
                        "{shown} does not hold incremental state written by sfcrm export ({}); remove it to export everything again",
                        e.message()
                    ))
                })?;
                Ok(IncrementalState { path: path.to_owned(), watermark: Some(watermark) })
            }
            Ok(_) => Err(Error::new(
                ErrorKind::Io,
                format!("the incremental state {shown} is not a regular file (a link, directory, FIFO or device): name a file"),
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let dir = parent(path);
                if !dir.is_dir() {
                    return Err(Error::new(
                        ErrorKind::Io,
                        format!("the directory of the incremental state {shown} does not exist: create it first"),
                    ));
                }
                Ok(IncrementalState { path: path.to_owned(), watermark: None })
            }
            Err(e) => Err(io("cannot read the incremental state", e)),
        }
    }

    /// The watermark of the previous run (`None` before the first).
    pub fn watermark(&self) -> Option<&Watermark> {
        self.watermark.as_ref()
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the file with `watermark`, atomically (temporary file beside it, synced, renamed,
    /// directory synced). Errors are `Io`; the old file is then left as it was.
    pub fn save(&self, watermark: &Watermark) -> Result<()> {
        let shown = term::line(&self.path.to_string_lossy()).into_owned();
        let io = |e: std::io::Error| {
            Error::new(
                ErrorKind::Io,
                format!("the export is complete but the incremental state {shown} could not be saved ({e}): the next run with it repeats this one's changes"),
            )
        };
        let dir = parent(&self.path);
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let (tmp, mut file) = loop {
            let suffix: u64 = rand::random();
            let tmp = dir.join(format!(".{name}.{suffix:016x}.tmp"));
            match OpenOptions::new().write(true).create_new(true).open(&tmp) {
                Ok(f) => break (tmp, f),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io(e)),
            }
        };
        let written = file
            .write_all(format!("{}\n", watermark.to_token()).as_bytes())
            .and_then(|()| file.sync_all())
            .and_then(|()| fs::rename(&tmp, &self.path));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(io(e));
        }
        // The rename is durable once the directory is (best effort where directories cannot be
        // opened).
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// The directory `path` is in (`.` for a bare name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}
