//! `sfcrm query`: any SOQL SELECT, with typed `--param` bind values, to a file (`--out`) or stdout.
//!
//! Bind values fill `:name` placeholders through the core (`soql::bind`): a value is always a
//! literal and can never change the query. The text form of a value is the core's
//! (`BindValue::parse_typed`), so the CLI and the other languages agree. With `--out` the output
//! goes through the core's [`ExportFile`]: the path is checked before the first request, records go
//! to a temporary file beside it, renamed over `--out` only when the query completed; on any error
//! the temporary file is removed, so no partial output file is left. To standard output nothing
//! is written before Salesforce answered the first page (bad SOQL prints only the error line),
//! and a query that fails later leaves its output unterminated (no JSON `]`), never looking complete.
//! A query with `*` / `FIELDS()` learns its columns from the describe (`ExportStream::ready`)
//! before the CSV header is written.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::Args;
use sfcrm_core::export::{ChildCursors, ExportFile, ExportFormat, ExportStream, QueryRequest, RecordBatch, RecordWriter};
use sfcrm_core::soql::{self, BindValue, Params};
use sfcrm_core::{Error, ErrorKind, Result};

use indicatif::ProgressBar;

use crate::bulk::BulkReport;
use crate::export::{plural, progress_bar, show};
use crate::{ConnectionArgs, Failure, real, term};

/// The `--param` syntax, shown in `sfcrm query --help` and `sfcrm export --help`.
pub const PARAM_HELP: &str = "\
Bind value for a :name placeholder: NAME=VALUE (a string) or NAME:TYPE=VALUE with TYPE one of \
string, int, decimal, bool, date (2024-01-31), datetime (2024-01-31T10:00:00Z), id, null (empty \
VALUE: owner:null=) or list:TYPE for IN (...) (items separated by commas, \\, for a comma inside \
one: ids:list:id=003...,003...). Repeat for each placeholder. A value is always one literal: \
quotes, backslashes and newlines are escaped and can never change the query.";

/// Options of `sfcrm query`.
#[derive(Args)]
pub struct QueryArgs {
    /// The SOQL SELECT, with :name placeholders for values (e.g. "SELECT Id, Name FROM Contact WHERE
    /// LastName = :name AND CreatedDate = LAST_N_DAYS:30").
    soql: String,
    #[arg(long = "param", value_name = "NAME[:TYPE]=VALUE", help = PARAM_HELP)]
    params: Vec<String>,
    /// Include deleted and archived records (queryAll).
    #[arg(long)]
    all_rows: bool,
    /// csv, ndjson or json. CSV columns are the SELECT items (Account.Name; a child subquery or a
    /// compound value is its JSON text in one cell).
    #[arg(long, default_value = "ndjson")]
    format: String,
    /// Output file (default: standard output, which gets nothing when the query is refused and is
    /// left unterminated, e.g. JSON without its closing ], when it fails later). Written to a
    /// temporary file beside it and renamed over it when the query completed: on an error no file
    /// is left; a symbolic link, directory, FIFO or device is refused before anything is requested.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Leave child-relationship subqueries as Salesforce sent them (a child result may end with
    /// its own nextRecordsUrl) instead of fetching every child record.
    #[arg(long)]
    children_as_sent: bool,
    /// rest (default) or bulk: a Bulk API 2.0 query job of the SOQL (a few API calls for millions
    /// of records, in no particular order; the bar shows the job's state while Salesforce runs
    /// it). What Bulk refuses (child subqueries, compound fields, SELECT *) and a failed job are
    /// read with REST, the reason printed on stderr.
    #[arg(long, value_enum, default_value_t = crate::bulk::Mode::Rest)]
    mode: crate::bulk::Mode,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// The bind values of repeated `--param NAME[:TYPE]=VALUE` arguments (see [`PARAM_HELP`]).
///
/// Errors: `InvalidArgument` naming the argument when it has no `=`, an unknown type, a value
/// that does not fit its type, a bad or repeated name.
pub fn params_of(args: &[String]) -> Result<Params> {
    let mut params = Params::new();
    let mut seen: Vec<&str> = Vec::new();
    for arg in args {
        let bad = |why: &str| Error::invalid_argument(format!("--param {}: {why}", term::line(arg)));
        let (spec, text) = arg.split_once('=').ok_or_else(|| bad("expected NAME=VALUE or NAME:TYPE=VALUE"))?;
        let (name, value) = match spec.split_once(':') {
            None => (spec, BindValue::String(text.to_owned())),
            Some((name, type_name)) => (name, BindValue::parse_typed(type_name, text).map_err(|e| bad(e.message()))?),
        };
        if seen.contains(&name) {
            return Err(bad("this name is given twice"));
        }
        seen.push(name);
        params.insert(name, value).map_err(|e| bad(e.message()))?;
    }
    Ok(params)
}

/// `sfcrm query` (see the module docs).
pub async fn run(args: QueryArgs) -> std::result::Result<(), Failure> {
    let format = ExportFormat::parse(&args.format)?;
    let params = params_of(&args.params)?;
    // Missing and unused names are reported before the client, the file or any request.
    soql::bind(&args.soql, &params)?;
    let (client, key) = real::client_for(&args.connection)?;
    let mut request = QueryRequest::new(args.soql.clone()).params(params).all_rows(args.all_rows).mode(args.mode.into());
    if args.children_as_sent {
        request = request.children(ChildCursors::AsSent);
    }
    match &args.out {
        Some(out) => {
            // Checked, and the temporary file created, before the first request.
            let mut file = ExportFile::create(out)?;
            let mut stream = client.query_stream(&key, request);
            // `*` / FIELDS(): the columns come from the describe, before the CSV header.
            cancellable(stream.ready()).await?;
            let mut writer = file.record_writer(format, stream.fields())?;
            let failure = pump(&mut stream, &mut writer, None, progress_bar(), BulkReport::default()).await;
            let records = writer.records();
            let finished = finish(writer);
            if let Some(e) = failure.or(finished.err()) {
                drop(file); // removes the temporary file: no partial output
                return Err(e.into());
            }
            file.commit()?;
            let out = term::line(&out.to_string_lossy()).into_owned();
            eprintln!("{} -> {out} ({})", plural(records, "record"), plural(stream.api_calls(), "API call"));
            Ok(())
        }
        None => {
            let mut stream = client.query_stream(&key, request);
            cancellable(stream.ready()).await?;
            // Nothing reaches stdout until Salesforce accepted the query: on bad SOQL the output
            // stays empty (no CSV header, no `[]` that reads as an empty result).
            // (A Bulk job runs during this first batch: the bar shows its state meanwhile.)
            let (bar, mut report) = (progress_bar(), BulkReport::default());
            let first = cancellable(report.next_batch(&mut stream, &bar)).await;
            let first = first.inspect_err(|_| bar.finish_and_clear())?;
            let stdout = std::io::stdout();
            let mut writer = RecordWriter::new(format, BufWriter::new(stdout.lock()), stream.fields())?;
            match pump(&mut stream, &mut writer, Some(first), bar, report).await {
                // What was written stays (dropping the writer flushes it) but is not ended: JSON
                // lacks its closing `]`, so a truncated result never parses as a whole one.
                Some(e) => Err(e.into()),
                None => Ok(finish(writer)?),
            }
        }
    }
}

/// `future`, or `Cancelled` when Ctrl-C comes first.
async fn cancellable<T>(future: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::select! {
        r = future => r,
        _ = tokio::signal::ctrl_c() => Err(Error::new(ErrorKind::Cancelled, "interrupted")),
    }
}

/// Ends the output (CSV/NDJSON flush, JSON's `]`) and flushes it.
fn finish<W: Write>(writer: RecordWriter<BufWriter<W>>) -> Result<()> {
    writer.finish().and_then(|w| {
        w.into_inner().map(drop).map_err(|e| Error::new(ErrorKind::Io, format!("writing the output failed: {}", e.error())))
    })
}

/// Streams every batch into `writer` (`first`, when the caller already read it, goes first) until
/// the end, an error or Ctrl-C.
async fn pump<W: Write>(
    stream: &mut ExportStream,
    writer: &mut RecordWriter<W>,
    first: Option<Option<RecordBatch>>,
    bar: ProgressBar,
    mut report: BulkReport,
) -> Option<Error> {
    let mut first = first;
    let failure = loop {
        let next = match first.take() {
            Some(batch) => Ok(batch),
            None => cancellable(report.next_batch(stream, &bar)).await,
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
