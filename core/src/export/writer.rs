//! Export writers (CSV, NDJSON, JSON array) and record flattening.
//!
//! Records are written exactly as Salesforce sent them: strings are UTF-8 unchanged (emoji,
//! skin-tone sequences, HTML and `&amp;` included), numbers keep their original digits (the
//! crate's JSON uses `arbitrary_precision`, so an 18-digit Amount is not rounded).

use std::io::Write;

use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};
use crate::export::{RawRecord, Record};
use crate::soql::FieldPath;

/// Output format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    /// RFC 4180 CSV: a header row of field paths (`Account.Name`), CRLF line ends, fields quoted
    /// when they contain `,`, `"`, CR or LF (inner quotes doubled), null written as an empty field.
    Csv,
    /// Newline-delimited JSON: one record object per line (`\n`), `attributes` dropped.
    Ndjson,
    /// One JSON array of record objects, `attributes` dropped.
    Json,
}

impl ExportFormat {
    /// Parses `csv`, `ndjson` (or `jsonl`), `json` (ignoring case); `InvalidArgument` otherwise.
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(ExportFormat::Csv),
            "ndjson" | "jsonl" => Ok(ExportFormat::Ndjson),
            "json" => Ok(ExportFormat::Json),
            _ => Err(Error::invalid_argument(format!(
                "unknown export format {s:?}: expected csv, ndjson or json"
            ))),
        }
    }
}

pub(crate) fn io_error(e: std::io::Error) -> Error {
    Error::new(ErrorKind::Io, format!("writing the export failed: {e}")).with_source(e)
}

fn csv_error(e: csv::Error) -> Error {
    Error::new(ErrorKind::Io, format!("writing the CSV export failed: {e}")).with_source(e)
}

/// Looks `key` up in `obj`: the exact key first, else the first key equal ignoring ASCII case
/// (SOQL field names are case-insensitive; Salesforce answers in the field's canonical case).
fn get_ci<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key)
        .or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// The value at a dotted path (`Account.Owner.Name`) through nested parent objects, looked up
/// case-insensitively. A null (or missing) parent gives `None`, as does a missing field.
fn lookup_path<'a>(record: &'a Record, path: &FieldPath) -> Option<&'a Value> {
    let mut segments = path.segments();
    let first = segments.next()?;
    let mut current = get_ci(record, first)?;
    for seg in segments {
        match current {
            Value::Object(obj) => current = get_ci(obj, seg)?,
            _ => return None,
        }
    }
    Some(current)
}

/// Flattens a record to dotted keys for the requested `fields` (keys spelled as requested).
///
/// A null parent gives `null` for every requested path under it (field case BR-09:
/// `{"Id":…, "Name":"Sam Private", "Account.Name":null, "Account.Owner.Name":null}`); no
/// `attributes` appear; values are kept as Salesforce sent them.
pub fn flatten_record(record: &Record, fields: &[FieldPath]) -> Map<String, Value> {
    let mut out = Map::with_capacity(fields.len());
    for f in fields {
        let v = lookup_path(record, f).cloned().unwrap_or(Value::Null);
        out.insert(f.as_str().to_string(), strip_attributes(&v));
    }
    out
}

/// Flattens every field present in a record to dotted keys (`Account.Name`), dropping
/// `attributes`. A null parent stays one `null` key (`"Account": null`): without the requested
/// field list its child paths are unknown; use [`flatten_record`] when they are.
pub fn flatten_record_present(record: &Record) -> Map<String, Value> {
    fn walk(prefix: &str, obj: &Map<String, Value>, out: &mut Map<String, Value>) {
        for (k, v) in obj {
            if is_attributes(k, v) {
                continue;
            }
            let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            match v {
                // A parent record (it carries its own attributes) is walked into; other objects
                // (compound address, child query results) are kept whole.
                Value::Object(inner) if inner.get("attributes").is_some_and(Value::is_object) => {
                    walk(&key, inner, out)
                }
                other => {
                    out.insert(key, strip_attributes(other));
                }
            }
        }
    }
    let mut out = Map::new();
    walk("", record, &mut out);
    out
}

fn is_attributes(key: &str, value: &Value) -> bool {
    key == "attributes" && value.as_object().is_some_and(|o| o.contains_key("type") || o.contains_key("url"))
}

/// A copy of `value` without Salesforce's `attributes` objects, at every depth (parents and
/// child-query records included).
fn strip_attributes(value: &Value) -> Value {
    match value {
        Value::Object(obj) => Value::Object(
            obj.iter()
                .filter(|(k, v)| !is_attributes(k, v))
                .map(|(k, v)| (k.clone(), strip_attributes(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_attributes).collect()),
        other => other.clone(),
    }
}

/// Removes Salesforce's `attributes` objects from `value` at every depth, in place (what
/// [`strip_attributes`] returns a copy of).
fn strip_attributes_in_place(value: &mut Value) {
    match value {
        Value::Object(obj) => {
            obj.retain(|k, v| !is_attributes(k, v));
            obj.values_mut().for_each(strip_attributes_in_place);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_attributes_in_place),
        _ => {}
    }
}

/// A record's value as CSV text: null → empty, strings as-is, numbers with their original digits,
/// booleans `true`/`false`, nested objects/arrays as compact JSON without `attributes`, except
/// that a cell holding a record (a `TYPEOF What …` column, a polymorphic lookup) keeps the
/// `type` of its own `attributes` (the `url` dropped), so the cell still says which sObject it
/// holds (issue 11 item 7). A compound address or location, or a child subquery's result, has
/// no `attributes` of its own and is its JSON object as sent, its child records without them.
fn csv_text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Object(obj)) => {
            let mut cell = Map::new();
            for (k, v) in obj {
                if !is_attributes(k, v) {
                    cell.insert(k.clone(), strip_attributes(v));
                } else if let Some(ty) = v.get("type").filter(|t| t.is_string()) {
                    let mut kept = Map::new();
                    kept.insert("type".to_string(), ty.clone());
                    cell.insert(k.clone(), Value::Object(kept));
                }
            }
            serde_json::to_string(&Value::Object(cell)).unwrap_or_default()
        }
        Some(other) => serde_json::to_string(&strip_attributes(other)).unwrap_or_default(),
    }
}

fn csv_writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).quote_style(csv::QuoteStyle::Necessary).from_writer(out)
}

/// The CSV header row [`RecordWriter::new`] writes for `columns`, with its CRLF.
pub(crate) fn csv_header(columns: &[FieldPath]) -> Result<Vec<u8>> {
    let mut w = csv_writer(Vec::new());
    w.write_record(columns.iter().map(|c| c.as_str())).map_err(csv_error)?;
    w.into_inner().map_err(|e| io_error(e.into_error()))
}

enum Sink<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Ndjson(W),
    Json { w: W, first: bool },
}

/// Writes records one at a time in an [`ExportFormat`]; memory use does not grow with the export.
///
/// Call [`RecordWriter::finish`] at the end (it writes the closing `]` of a JSON array and
/// flushes); dropping the writer without it leaves the output incomplete.
pub struct RecordWriter<W: Write> {
    sink: Sink<W>,
    columns: Vec<FieldPath>,
    keep_attributes: bool,
    records: u64,
}

impl<W: Write> RecordWriter<W> {
    /// A writer for `format` over `out`. `columns` are the CSV header and cells (field paths,
    /// values looked up case-insensitively through parents); NDJSON/JSON write whole records.
    /// The CSV header is written immediately (so an empty export still has it).
    pub fn new(format: ExportFormat, out: W, columns: &[FieldPath]) -> Result<Self> {
        let sink = match format {
            ExportFormat::Csv => {
                let mut w = csv_writer(out);
                w.write_record(columns.iter().map(|c| c.as_str())).map_err(csv_error)?;
                Sink::Csv(Box::new(w))
            }
            ExportFormat::Ndjson => Sink::Ndjson(out),
            ExportFormat::Json => {
                let mut out = out;
                out.write_all(b"[").map_err(io_error)?;
                Sink::Json { w: out, first: true }
            }
        };
        Ok(RecordWriter { sink, columns: columns.to_vec(), keep_attributes: false, records: 0 })
    }

    /// A writer that continues an output another `RecordWriter` of the same `format` and
    /// `columns` wrote, positioned where its next record goes: no CSV header, no opening `[`.
    /// For JSON, `out` must be positioned before the closing `]` the earlier writer's `finish`
    /// wrote (after its last record, with no newline), and `has_records` says whether that
    /// output holds a record (so the next one is preceded by `,`). Used by
    /// [`crate::export::ExportFile::record_writer`] to resume into a kept partial file.
    pub fn continuing(format: ExportFormat, out: W, columns: &[FieldPath], has_records: bool) -> Self {
        let sink = match format {
            ExportFormat::Csv => Sink::Csv(Box::new(csv_writer(out))),
            ExportFormat::Ndjson => Sink::Ndjson(out),
            ExportFormat::Json => Sink::Json { w: out, first: !has_records },
        };
        RecordWriter { sink, columns: columns.to_vec(), keep_attributes: false, records: 0 }
    }

    /// Keep Salesforce's `attributes` objects in NDJSON/JSON output (dropped by default).
    pub fn keep_attributes(mut self, keep: bool) -> Self {
        self.keep_attributes = keep;
        self
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Writes one record.
    pub fn write_record(&mut self, record: &Record) -> Result<()> {
        if let Sink::Csv(w) = &mut self.sink {
            let cells: Vec<String> = self.columns.iter().map(|c| csv_text(lookup_path(record, c))).collect();
            w.write_record(&cells).map_err(csv_error)?;
            self.records += 1;
            return Ok(());
        }
        self.write_json_value(Value::Object(record.clone()))
    }

    /// NDJSON/JSON output of one decoded record (`attributes` dropped here unless kept).
    fn write_json_value(&mut self, mut value: Value) -> Result<()> {
        if !self.keep_attributes {
            strip_attributes_in_place(&mut value);
        }
        match &mut self.sink {
            Sink::Csv(_) => unreachable!("CSV rows are written by write_record"),
            Sink::Ndjson(w) => {
                serde_json::to_writer(&mut *w, &value)
                    .map_err(|e| Error::new(ErrorKind::Io, format!("writing NDJSON failed: {e}")))?;
                w.write_all(b"\n").map_err(io_error)?;
            }
            Sink::Json { w, first } => {
                w.write_all(if *first { b"\n" } else { b",\n" }).map_err(io_error)?;
                *first = false;
                serde_json::to_writer(&mut *w, &value)
                    .map_err(|e| Error::new(ErrorKind::Io, format!("writing JSON failed: {e}")))?;
            }
        }
        self.records += 1;
        Ok(())
    }

    /// Writes one record as received. NDJSON/JSON output that keeps `attributes` copies the
    /// record's text (on one line) without decoding it: the same JSON value as
    /// [`RecordWriter::write_record`] writes, with string escapes as Salesforce sent them. CSV and
    /// attribute-stripping output decode the record first.
    pub fn write_raw(&mut self, record: &RawRecord) -> Result<()> {
        if matches!(self.sink, Sink::Csv(_)) {
            return self.write_record(&record.to_record()?);
        }
        if !self.keep_attributes {
            return self.write_json_value(Value::Object(record.to_record()?));
        }
        let mut line = Vec::with_capacity(record.json().len() + 2);
        match &mut self.sink {
            Sink::Csv(_) => unreachable!("handled above"),
            Sink::Ndjson(w) => {
                record.write_compact(&mut line);
                line.push(b'\n');
                w.write_all(&line).map_err(io_error)?;
            }
            Sink::Json { w, first } => {
                line.extend_from_slice(if *first { b"\n" } else { b",\n" });
                *first = false;
                record.write_compact(&mut line);
                w.write_all(&line).map_err(io_error)?;
            }
        }
        self.records += 1;
        Ok(())
    }

    /// Finishes the output (closing `]` for JSON), flushes, and returns the inner writer.
    pub fn finish(self) -> Result<W> {
        match self.sink {
            Sink::Csv(w) => w.into_inner().map_err(|e| io_error(e.into_error())),
            Sink::Ndjson(mut w) => {
                w.flush().map_err(io_error)?;
                Ok(w)
            }
            Sink::Json { mut w, first } => {
                w.write_all(if first { b"]\n" } else { b"\n]\n" }).map_err(io_error)?;
                w.flush().map_err(io_error)?;
                Ok(w)
            }
        }
    }
}
