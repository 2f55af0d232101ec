//! `sfcrm export`: one type or sObject streamed to a file, with a progress bar on stderr.
//!
//! The file goes through the core's [`ExportFile`]: `--out` is checked before the first request
//! (a symbolic link, directory, FIFO, socket or device is refused and left as it is), the records
//! go to a temporary file created exclusively under an unpredictable name beside it
//! (`.<name>.<random>.partial`), and that file is renamed over `--out` once complete. When the
//! export stops (an org error, Ctrl-C) the temporary file is kept with every record delivered so
//! far and the checkpoint after them is printed: `--checkpoint TOKEN --partial FILE` continues
//! that file (the records are appended; the CSV header is not repeated, JSON stays one array),
//! `--checkpoint TOKEN --out OTHER` writes only the rest to another file.
//!
//! Incremental syncs keep their state in a file (`--incremental-state FILE`, see
//! [`crate::state`]): read before the export, replaced only after `--out` was renamed in place.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use clap::Args;
use indicatif::{HumanCount, ProgressBar, ProgressState, ProgressStyle};
use sfcrm_core::export::{Checkpoint, ExportFile, ExportFormat, ExportRequest, ExportSpec, ExportStream, Progress, RecordWriter};
use sfcrm_core::{Error, ErrorKind, Result};

use crate::state::IncrementalState;
use crate::bulk::BulkReport;
use crate::{ConnectionArgs, Failure, real, term};

/// Options of `sfcrm export`.
#[derive(Args)]
pub struct ExportArgs {
    /// contacts, deals or notes (the seed's types); omit with --sobject.
    #[arg(required_unless_present = "sobject")]
    r#type: Option<String>,
    /// Export any sObject instead of a built-in type (with --fields).
    #[arg(long, requires = "fields", conflicts_with = "type")]
    sobject: Option<String>,
    /// Comma-separated field API names, relationship paths allowed (Account.Name), or '*' for
    /// every field of the sObject (from its describe; an object too wide for one query is read in
    /// several queries joined by Id).
    #[arg(long, value_delimiter = ',')]
    fields: Vec<String>,
    /// Only records matching this SOQL condition (a WHERE clause without WHERE), with :name
    /// placeholders filled by --param, e.g. "Industry = :industry AND CreatedDate = LAST_N_DAYS:30".
    #[arg(long = "where", value_name = "CONDITION")]
    where_: Option<String>,
    #[arg(long = "param", value_name = "NAME[:TYPE]=VALUE", requires = "where_", help = crate::query::PARAM_HELP)]
    params: Vec<String>,
    /// csv, ndjson or json.
    #[arg(long, default_value = "ndjson")]
    format: String,
    /// Output file: a new path or a regular file (replaced). It is written to a temporary file
    /// beside it and renamed over it when complete; a symbolic link, directory, FIFO or device is
    /// refused before anything is requested.
    #[arg(long)]
    out: PathBuf,
    /// Incremental: only records whose SystemModstamp is at or after this instant (inclusive, e.g.
    /// 2024-01-01T00:00:00Z). For repeated runs prefer --incremental-state: a time taken from the
    /// last run misses rows committed late.
    #[arg(long)]
    since: Option<String>,
    /// Incremental sync state kept in FILE between runs. When FILE exists, this run exports only
    /// what changed since the run that wrote it (every change exactly once, also rows committed
    /// up to 10 minutes after their SystemModstamp); when it does not, this run exports every
    /// record (or those since --since) and creates it. FILE is replaced, atomically, only after a
    /// complete export; a run that stops leaves it as it was (continue with --checkpoint as
    /// printed, keeping this option).
    #[arg(long, value_name = "FILE")]
    incremental_state: Option<PathBuf>,
    /// Resume after this checkpoint token (printed by an export that stopped on an error or
    /// Ctrl-C, with the partial file that holds the records before it).
    #[arg(long)]
    checkpoint: Option<String>,
    /// With --checkpoint: append to the partial file the stopped export kept (same format and
    /// fields, beside --out) and rename it to --out when complete. Without it, --out receives only
    /// the records after the checkpoint.
    #[arg(long, requires = "checkpoint")]
    partial: Option<PathBuf>,
    /// Include deleted and archived records (queryAll).
    #[arg(long)]
    include_deleted: bool,
    /// rest (default) or bulk: a Bulk API 2.0 query job (a few API calls for millions of records;
    /// the bar shows the job's state while Salesforce runs it). What Bulk refuses, a failed job
    /// and --since exports are read with REST, the reason printed on stderr.
    #[arg(long, value_enum, default_value_t = crate::bulk::Mode::Rest)]
    mode: crate::bulk::Mode,
    #[command(flatten)]
    connection: ConnectionArgs,
}

type FileWriter<'f> = RecordWriter<BufWriter<&'f mut File>>;

/// `sfcrm export` (see the module docs).
pub async fn run(args: ExportArgs) -> std::result::Result<(), Failure> {
    let (client, key) = real::client_for(&args.connection)?;
    // The state file is read (and its directory checked) before any request.
    let state = args.incremental_state.as_deref().map(IncrementalState::open).transpose()?;
    let request = request_of(&args, state.as_ref())?;
    let format = ExportFormat::parse(&args.format)?;
    let resumed_from = request.resume_from.as_ref().map(Checkpoint::records).unwrap_or(0);
    // The output path is checked, and the file to write created, before the first request.
    let mut file = match &args.partial {
        Some(partial) => ExportFile::resume(&args.out, partial)?,
        None => ExportFile::create(&args.out)?,
    };
    let mut stream = client.export_stream(&key, request);
    // An every-field export (--fields '*') learns its columns from the sObject's describe.
    stream.ready().await?;
    let mut writer = file.record_writer(format, stream.fields())?;
    let stream_failure = pump(&mut stream, &mut writer).await;
    let records = writer.records();
    let written = writer.finish().and_then(|w| {
        w.into_inner().map(drop).map_err(|e| Error::new(ErrorKind::Io, format!("writing the export failed: {}", e.error())))
    });
    match (stream_failure, written) {
        (_, Err(write_error)) => Err(write_failed(write_error, file)),
        (Some(error), Ok(())) => Err(stopped(error, file, records, &stream.checkpoint(), args.partial.is_some())),
        (None, Ok(())) => {
            file.commit()?;
            let mut line = summary(&args, records, stream.api_calls(), resumed_from);
            if let Some(state) = &state {
                // Only now: the output is complete and in place.
                let watermark = stream.watermark().ok_or_else(|| Error::new(ErrorKind::Internal, "an incremental export returned no watermark"))?;
                state.save(&watermark)?;
                line = state_summary(&args, records, stream.api_calls(), resumed_from, state);
            }
            if stream.progress().missing > 0 {
                line.push_str(&format!("; {} deleted during the export", plural(stream.progress().missing, "record")));
            }
            eprintln!("{line}");
            Ok(())
        }
    }
}

fn request_of(args: &ExportArgs, state: Option<&IncrementalState>) -> Result<ExportRequest> {
    let spec = match (&args.r#type, &args.sobject) {
        (_, Some(sobject)) => ExportSpec::custom(sobject, &args.fields)?,
        (Some(t), None) if !args.fields.is_empty() => {
            let builtin = ExportSpec::builtin(t)?;
            ExportSpec::custom(builtin.sobject().as_str(), &args.fields)?
        }
        (Some(t), None) => ExportSpec::builtin(t)?,
        (None, None) => return Err(Error::invalid_argument("name a type or --sobject")),
    };
    let spec = match &args.where_ {
        Some(condition) => spec.with_where(condition, &crate::query::params_of(&args.params)?)?,
        None => spec,
    };
    let mut request = ExportRequest::new(spec).include_deleted(args.include_deleted).mode(args.mode.into());
    match (state.and_then(IncrementalState::watermark), &args.since) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid_argument(format!(
                "{} already says where this run starts: drop --since, or remove the file to start over from --since",
                term::line(&state.map(|s| s.path().to_string_lossy().into_owned()).unwrap_or_default())
            )));
        }
        (Some(watermark), None) => request = request.after_watermark(watermark.clone()),
        (None, Some(since)) => request = request.since(since.clone()),
        // A first incremental run without --since: every record, in SystemModstamp order.
        (None, None) if state.is_some() => request = request.since(crate::state::EVERYTHING),
        (None, None) => {}
    }
    if let Some(token) = &args.checkpoint {
        request = request.resume_from(Checkpoint::from_token(token)?);
    }
    Ok(request)
}

/// Streams every batch into `writer` until the end, an error or Ctrl-C. Returns the stream's
/// error (a write error ends the export too: it is returned again by `finish`).
async fn pump(stream: &mut ExportStream, writer: &mut FileWriter<'_>) -> Option<Error> {
    let bar = progress_bar();
    let mut report = BulkReport::default();
    let failure = loop {
        let next = tokio::select! {
            r = report.next_batch(stream, &bar) => r,
            _ = tokio::signal::ctrl_c() => Err(Error::new(ErrorKind::Cancelled, "interrupted")),
        };
        match next {
            Ok(Some(batch)) => {
                if let Err(e) = batch.records.iter().try_for_each(|r| writer.write_raw(r)) {
                    break Some(e);
                }
                show(&bar, stream.progress());
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    bar.finish_and_clear();
    failure
}

/// The export stopped with every delivered record written: keep the file (unless this run wrote
/// nothing into a new one) and say how to continue.
fn stopped(error: Error, file: ExportFile, records: u64, checkpoint: &Checkpoint, continuing: bool) -> Failure {
    if records == 0 && !continuing {
        // Nothing was delivered: there is nothing to keep or resume, only the error to fix.
        drop(file);
        return error.into();
    }
    let partial = file.keep();
    let partial = term::line(&partial.to_string_lossy()).into_owned();
    let token = checkpoint.to_token();
    eprintln!("stopped after {} ({} from this run), kept in {partial}", plural(checkpoint.records(), "record"), records);
    eprintln!("continue this file: add --checkpoint {token} --partial {partial} to the same command");
    eprintln!("(or write only the rest to another file: --checkpoint {token} --out <another file>)");
    error.into()
}

/// Writing the file failed: its end may be cut, so it cannot be continued. A new temporary file
/// is removed; a resumed partial file (records of earlier runs) is left for the user to inspect.
fn write_failed(error: Error, file: ExportFile) -> Failure {
    let path = file.partial_path().to_string_lossy().into_owned();
    drop(file);
    if std::path::Path::new(&path).exists() {
        let hint = format!("{} may end in the middle of a record: export again without --partial", term::line(&path));
        return Failure::with_hint(error, hint);
    }
    error.into()
}

/// The line printed after a complete export.
fn summary(args: &ExportArgs, records: u64, api_calls: u64, resumed_from: u64) -> String {
    let out = term::line(&args.out.to_string_lossy()).into_owned();
    let mut text = format!("{} -> {out} ({}", plural(records, "record"), plural(api_calls, "API call"));
    if resumed_from > 0 {
        let all = plural(resumed_from + records, "record");
        match args.partial {
            Some(_) => text.push_str(&format!("; {all} in all in {out}")),
            None => text.push_str(&format!("; {all} in all with the runs before --checkpoint")),
        }
    }
    text.push(')');
    // A --since taken from this run's newest SystemModstamp would miss rows committed late: the
    // next incremental run starts from a state file instead.
    if args.since.is_some() {
        text.push_str("; to export only the changes next time, use --incremental-state FILE (a later --since can miss rows committed late)");
    }
    text
}

/// The line printed after a complete run with --incremental-state.
fn state_summary(args: &ExportArgs, records: u64, api_calls: u64, resumed_from: u64, state: &IncrementalState) -> String {
    let out = term::line(&args.out.to_string_lossy()).into_owned();
    let mut text = format!("{} -> {out} ({}", plural(records, "record"), plural(api_calls, "API call"));
    if resumed_from > 0 {
        text.push_str(&format!("; {} in all with the runs before --checkpoint", plural(resumed_from + records, "record")));
    }
    text.push(')');
    let path = term::line(&state.path().to_string_lossy()).into_owned();
    text.push_str(&format!("; state saved in {path}: run the same command for the next changes"));
    text
}

/// `1 record`, `2 records`.
pub(crate) fn plural(n: u64, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// The progress bar (stderr, drawn only on a terminal): a spinner until the total is known.
pub(crate) fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(progress_style(false));
    bar
}

pub(crate) fn show(bar: &ProgressBar, p: Progress) {
    if let Some(total) = p.total_size.filter(|&t| bar.length() != Some(t)) {
        bar.set_length(total);
        bar.set_style(progress_style(true));
    }
    bar.set_position(p.records);
}

/// Records, a whole-number rate, and the time left once the total is known.
fn progress_style(total_known: bool) -> ProgressStyle {
    let template = if total_known {
        "{spinner} {pos}/{len} records  {rate}  ETA {eta}  [{elapsed_precise}] {msg} {wide_bar}"
    } else {
        "{spinner} {pos} records  {rate}  [{elapsed_precise}] {msg}"
    };
    ProgressStyle::with_template(template)
        .expect("static template")
        .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&rate_text(s.per_sec()));
        })
}

/// `1,234 records/s` (rounded; `-` before there is a rate).
fn rate_text(per_sec: f64) -> String {
    if per_sec.is_finite() && per_sec >= 0.0 {
        format!("{} records/s", HumanCount(per_sec.round() as u64))
    } else {
        "- records/s".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use indicatif::{ProgressBar, ProgressDrawTarget, TermLike};

    /// A terminal that records what the bar draws.
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<String>>);

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            160
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(&format!("{s}\n"))
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.write_str("\n")
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_bar_shows_a_whole_number_rate_and_the_time_left() {
        let screen = Screen::default();
        let bar = ProgressBar::with_draw_target(Some(10_000), ProgressDrawTarget::term_like(Box::new(screen.clone())));
        bar.set_style(super::progress_style(true));
        for pos in [1000, 2000, 3000] {
            std::thread::sleep(std::time::Duration::from_millis(20));
            bar.set_position(pos);
        }
        bar.force_draw();
        let drawn = screen.0.lock().unwrap().clone();
        let line = drawn.lines().last().unwrap_or_default().to_owned();
        assert!(line.contains("3000/10000 records"), "{line:?}");
        assert!(line.contains("ETA "), "no time left shown: {line:?}");
        let rate = line.split("records/s").next().unwrap().rsplit("  ").next().unwrap().trim();
        assert!(!rate.is_empty() && rate.chars().all(|c| c.is_ascii_digit() || c == ','), "rate {rate:?} in {line:?}");
    }

    #[test]
    fn rates_and_counts_read_as_words() {
        assert_eq!(super::rate_text(1234.5678), "1,235 records/s");
        assert_eq!(super::rate_text(0.4), "0 records/s");
        assert_eq!(super::rate_text(f64::NAN), "- records/s");
        assert_eq!(super::plural(1, "API call"), "1 API call");
        assert_eq!(super::plural(0, "record"), "0 records");
        assert_eq!(super::plural(2600, "record"), "2600 records");
    }
}
