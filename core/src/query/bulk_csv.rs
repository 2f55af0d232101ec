//! Bulk API 2.0 query results (CSV) turned into the records the REST source gives for the same
//! SOQL [bulk-and-parallel.md §1.4, §1.7; salesforce-api.md §6 "CSV rules"].
//!
//! A result page is CSV with a header row of field paths (`Id`, `Account.Name`), quoted as
//! RFC 4180 (inner quotes doubled, embedded CR/LF kept), in the job's delimiter and line ending.
//! Every value is text; this module gives each one the JSON the REST query would have sent:
//! - a relationship column (`Account.Name`, `Account.Owner.Email`) becomes a nested object at the
//!   place of its first column (`"Account":{"Name":…}`); the parent is `null` when its lookup
//!   field (`AccountId`) is selected and empty, or else when all its selected cells are empty.
//!   Nested parents carry no `attributes`: CSV names neither their type (a polymorphic `What` may
//!   be any sObject) nor always their Id. The record itself gets REST's
//!   `"attributes":{"type":…,"url":"/services/data/vNN.N/sobjects/<type>/<Id>"}` when `Id` is
//!   selected and the job's sObject is known;
//! - types come from describe (resolved above this layer, [`ColumnTypes`]): `boolean` → `true` /
//!   `false`; `int`, `double`, `currency`, `percent`, `long` → a JSON number with every digit as
//!   sent (text that is not a JSON number stays a string); `datetime` → REST's form
//!   (`2013-05-20T20:49:32.000Z` → `…000+0000`); everything else (dates `YYYY-MM-DD`, Ids, text)
//!   a string; a column describe does not know is a string;
//! - an empty cell is `null`. CSV cannot tell null from the empty string [§1.7 I21]; Salesforce
//!   stores an empty text field as null and REST sends `null` for it, so this is exact for
//!   stored fields; a formula that evaluates to `""` would read `""` in REST and `null` here;
//! - NUL bytes and any other character are kept (JSON-escaped), not stripped as some tools do
//!   [§1.7]: REST sends them too;
//! - keys follow the order of the query's columns (`order`), since API versions up to 49 send the
//!   columns alphabetically [§1.4].
//!
//! The `csv` crate reads the rows; it skips empty lines, which in a one-column result are rows
//! (a null value), so a one-column page is read by [`one_column`] instead. A page whose row count
//! differs from its `Sforce-NumberOfRecords` is refused (`Protocol`).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::query::RawRecord;

/// How a column's text becomes JSON (from the field's describe `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueType {
    /// A JSON string.
    Text,
    /// A JSON number, digits as sent.
    Number,
    /// `true` / `false`.
    Boolean,
    /// A string in REST's `+0000` form.
    DateTime,
}

impl ValueType {
    /// The value type of a describe field `type` (`boolean`, `int`, `double`, `currency`,
    /// `percent`, `long`, `datetime`; anything else is text).
    pub(crate) fn from_describe(field_type: &str) -> ValueType {
        match field_type.to_ascii_lowercase().as_str() {
            "boolean" => ValueType::Boolean,
            "int" | "double" | "currency" | "percent" | "long" => ValueType::Number,
            "datetime" => ValueType::DateTime,
            _ => ValueType::Text,
        }
    }
}

/// What the converter knows about the columns, resolved from describe above this layer.
#[derive(Debug, Clone, Default)]
pub(crate) struct ColumnTypes {
    /// Value type by field path in lower case (`account.annualrevenue`).
    types: HashMap<String, ValueType>,
    /// Relationship path in lower case (`account`, `account.owner`) → its lookup field's path in
    /// lower case (`accountid`, `account.ownerid`).
    lookups: HashMap<String, String>,
}

impl ColumnTypes {
    /// Sets the type of the field at `path` (any case).
    pub(crate) fn set(&mut self, path: &str, ty: ValueType) {
        self.types.insert(path.to_ascii_lowercase(), ty);
    }
    /// Records that the parent at `relationship` is null exactly when `lookup` is.
    pub(crate) fn set_lookup(&mut self, relationship: &str, lookup: &str) {
        self.lookups.insert(relationship.to_ascii_lowercase(), lookup.to_ascii_lowercase());
    }
    fn get(&self, path: &str) -> ValueType {
        self.types.get(&path.to_ascii_lowercase()).copied().unwrap_or(ValueType::Text)
    }
}

/// The CSV dialect of a job (`columnDelimiter`, `lineEnding`) [bulk-and-parallel.md §1.2].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CsvDialect {
    /// The delimiter byte.
    pub(crate) delimiter: u8,
}

impl CsvDialect {
    /// The dialect of a `columnDelimiter` name (`COMMA` when absent or unknown: the default).
    pub(crate) fn from_column_delimiter(name: Option<&str>) -> CsvDialect {
        let delimiter = match name.unwrap_or("COMMA").to_ascii_uppercase().as_str() {
            "BACKQUOTE" => b'`',
            "CARET" => b'^',
            "PIPE" => b'|',
            "SEMICOLON" => b';',
            "TAB" => b'\t',
            _ => b',',
        };
        CsvDialect { delimiter }
    }
}

enum Node {
    Leaf { key: String, col: usize, ty: ValueType },
    Parent { key: String, presence: Option<usize>, leaves: Vec<usize>, children: Vec<Node> },
}

impl Node {
    fn key(&self) -> &str {
        match self {
            Node::Leaf { key, .. } | Node::Parent { key, .. } => key,
        }
    }
}

/// The record shape of one header row.
struct RowShape {
    header: Vec<String>,
    nodes: Vec<Node>,
    id_column: Option<usize>,
}

/// Turns result pages into records (see the module docs).
pub(crate) struct BulkCsvReader {
    dialect: CsvDialect,
    types: ColumnTypes,
    order: Vec<String>,
    /// `(sObject, data path)` for the record's `attributes`.
    attributes: Option<(String, String)>,
    shape: Option<RowShape>,
}

impl BulkCsvReader {
    /// A reader of pages in `dialect`: values typed by `types`, keys in the order of `order`
    /// (field paths, any case; columns it does not list follow in header order), and
    /// `attributes` of type `sobject` with URLs under `data_path` when given.
    pub(crate) fn new(dialect: CsvDialect, types: ColumnTypes, order: Vec<String>, attributes: Option<(String, String)>) -> Self {
        BulkCsvReader { dialect, types, order, attributes, shape: None }
    }

    /// The records of one page (`csv`: the body, header row first). `expected` is the page's
    /// `Sforce-NumberOfRecords` when sent. Errors: `Protocol` for a page that is not CSV of its
    /// header's width, a duplicate or empty column name, or a row count other than `expected`.
    pub(crate) fn page(&mut self, csv: &str, expected: Option<u64>) -> Result<Vec<RawRecord>> {
        if csv.trim().is_empty() {
            // No header row at all: an empty page (e.g. a 204).
            return check_count(0, expected).map(|()| Vec::new());
        }
        let rows = self.rows(csv)?;
        let mut rows = rows.into_iter();
        let header = rows.next().unwrap_or_default();
        if self.shape.as_ref().is_none_or(|s| s.header != header) {
            self.shape = Some(self.shape_of(header)?);
        }
        let shape = self.shape.as_ref().expect("set above");
        let mut out = String::with_capacity(csv.len() + csv.len() / 2);
        let mut ranges: Vec<Range<usize>> = Vec::new();
        for row in rows {
            if row.len() != shape.header.len() {
                return Err(protocol(format!(
                    "a Bulk result row has {} values but the header has {} columns",
                    row.len(),
                    shape.header.len()
                )));
            }
            let start = out.len();
            self.write_row(shape, &row, &mut out);
            ranges.push(start..out.len());
        }
        check_count(ranges.len() as u64, expected)?;
        Ok(RawRecord::from_written(Arc::new(out), &ranges))
    }

    fn rows(&self, csv: &str) -> Result<Vec<Vec<String>>> {
        let first_line = csv.split(['\r', '\n']).next().unwrap_or("");
        // Field paths hold no delimiter: a header line without one is a one-column page.
        if !first_line.as_bytes().contains(&self.dialect.delimiter) {
            return Ok(one_column(csv)?.into_iter().map(|v| vec![v]).collect());
        }
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(self.dialect.delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(csv.as_bytes());
        let mut rows = Vec::new();
        for rec in reader.records() {
            let rec = rec.map_err(|e| protocol(format!("a Bulk result page is not valid CSV: {e}")))?;
            rows.push(rec.iter().map(str::to_owned).collect());
        }
        Ok(rows)
    }

    fn shape_of(&self, header: Vec<String>) -> Result<RowShape> {
        if header.iter().any(|h| h.is_empty() || h.split('.').any(str::is_empty)) {
            return Err(protocol("a Bulk result header has an empty column name"));
        }
        let rank = |h: &str| self.order.iter().position(|o| o.eq_ignore_ascii_case(h)).unwrap_or(usize::MAX);
        let mut cols: Vec<usize> = (0..header.len()).collect();
        cols.sort_by_key(|&c| rank(&header[c]));
        let mut nodes = Vec::new();
        for c in cols {
            let segs: Vec<&str> = header[c].split('.').collect();
            insert(&mut nodes, &segs, c, self.types.get(&header[c]))
                .map_err(|()| protocol(format!("a Bulk result header names {} twice", header[c])))?;
        }
        let lower: Vec<String> = header.iter().map(|h| h.to_ascii_lowercase()).collect();
        set_presence(&mut nodes, "", &self.types, &lower);
        let id_column = header.iter().position(|h| h.eq_ignore_ascii_case("Id"));
        Ok(RowShape { header, nodes, id_column })
    }

    fn write_row(&self, shape: &RowShape, row: &[String], out: &mut String) {
        out.push('{');
        let mut first = true;
        if let (Some((sobject, data_path)), Some(c)) = (&self.attributes, shape.id_column)
            && !row[c].is_empty()
        {
            out.push_str("\"attributes\":{\"type\":");
            push_json_string(sobject, out);
            out.push_str(",\"url\":");
            push_json_string(&format!("{data_path}/sobjects/{sobject}/{}", row[c]), out);
            out.push('}');
            first = false;
        }
        write_nodes(&shape.nodes, row, out, first);
        out.push('}');
    }
}

fn protocol(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Protocol, message.into())
}

fn check_count(got: u64, expected: Option<u64>) -> Result<()> {
    match expected {
        Some(n) if n != got => Err(protocol(format!(
            "a Bulk result page holds {got} rows but its Sforce-NumberOfRecords says {n}"
        ))),
        _ => Ok(()),
    }
}

fn insert(nodes: &mut Vec<Node>, segs: &[&str], col: usize, ty: ValueType) -> std::result::Result<(), ()> {
    let (head, rest) = segs.split_first().expect("a path has a segment");
    if rest.is_empty() {
        if nodes.iter().any(|n| n.key().eq_ignore_ascii_case(head)) {
            return Err(());
        }
        nodes.push(Node::Leaf { key: (*head).to_owned(), col, ty });
        return Ok(());
    }
    let at = match nodes.iter().position(|n| n.key().eq_ignore_ascii_case(head)) {
        Some(i) => i,
        None => {
            nodes.push(Node::Parent { key: (*head).to_owned(), presence: None, leaves: Vec::new(), children: Vec::new() });
            nodes.len() - 1
        }
    };
    match &mut nodes[at] {
        Node::Parent { leaves, children, .. } => {
            leaves.push(col);
            insert(children, rest, col, ty)
        }
        Node::Leaf { .. } => Err(()),
    }
}

fn set_presence(nodes: &mut [Node], prefix: &str, types: &ColumnTypes, header: &[String]) {
    for n in nodes {
        if let Node::Parent { key, presence, children, .. } = n {
            let path = if prefix.is_empty() { key.to_ascii_lowercase() } else { format!("{prefix}.{}", key.to_ascii_lowercase()) };
            *presence = types.lookups.get(&path).and_then(|lookup| header.iter().position(|h| h == lookup));
            set_presence(children, &path, types, header);
        }
    }
}

fn write_nodes(nodes: &[Node], row: &[String], out: &mut String, mut first: bool) {
    for n in nodes {
        if !first {
            out.push(',');
        }
        first = false;
        push_json_string(n.key(), out);
        out.push(':');
        match n {
            Node::Leaf { col, ty, .. } => push_value(&row[*col], *ty, out),
            Node::Parent { presence, leaves, children, .. } => {
                let null = match presence {
                    Some(c) => row[*c].is_empty(),
                    None => leaves.iter().all(|c| row[*c].is_empty()),
                };
                if null {
                    out.push_str("null");
                } else {
                    out.push('{');
                    write_nodes(children, row, out, true);
                    out.push('}');
                }
            }
        }
    }
}

fn push_value(text: &str, ty: ValueType, out: &mut String) {
    if text.is_empty() {
        out.push_str("null");
        return;
    }
    match ty {
        ValueType::Boolean if text.eq_ignore_ascii_case("true") => out.push_str("true"),
        ValueType::Boolean if text.eq_ignore_ascii_case("false") => out.push_str("false"),
        ValueType::Number if is_json_number(text) => out.push_str(text),
        ValueType::DateTime if text.ends_with('Z') && text.len() > 1 => {
            out.push('"');
            push_escaped(&text[..text.len() - 1], out);
            out.push_str("+0000\"");
        }
        _ => push_json_string(text, out),
    }
}

/// Converts one Bulk API 2.0 query result page (CSV, header row first) into records as this SDK's
/// Bulk source does (see the module docs): `column_delimiter` is the job's (`COMMA`, `TAB`, …);
/// `types` gives `(field path, describe type)` pairs (`("Amount", "currency")`; a column not
/// listed is text); `sobject` and `data_path` (`/services/data/v60.0`), when given, add the
/// record's `attributes`; `number_of_records` is the page's `Sforce-NumberOfRecords`.
///
/// For hosts that download result pages themselves, and for fuzzing. Errors: `Protocol` for a
/// page that is not CSV of its header's width, a duplicate or empty column name, or a row count
/// other than `number_of_records`.
pub fn bulk_csv_records(
    csv: &str,
    column_delimiter: &str,
    types: &[(&str, &str)],
    attributes: Option<(&str, &str)>,
    number_of_records: Option<u64>,
) -> Result<Vec<RawRecord>> {
    let mut t = ColumnTypes::default();
    for (path, ty) in types {
        t.set(path, ValueType::from_describe(ty));
    }
    let order = types.iter().map(|(p, _)| (*p).to_owned()).collect();
    let attributes = attributes.map(|(s, d)| (s.to_owned(), d.to_owned()));
    BulkCsvReader::new(CsvDialect::from_column_delimiter(Some(column_delimiter)), t, order, attributes)
        .page(csv, number_of_records)
}

/// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
pub(crate) fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > start
    };
    if b.first() == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(c) if c.is_ascii_digit() => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

fn push_json_string(s: &str, out: &mut String) {
    out.push('"');
    push_escaped(s, out);
    out.push('"');
}

/// JSON string escaping: `"` and `\` escaped, control characters (NUL included) as `\n`, `\r`,
/// `\t` or `\u00XX`; everything else (unicode, emoji) as is.
fn push_escaped(s: &str, out: &mut String) {
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[from..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => out.push_str(&format!("\\u{b:04x}")),
        }
        from = i + 1;
    }
    out.push_str(&s[from..]);
}

/// The values of a one-column CSV text (header first): RFC 4180 fields, one per line, where an
/// empty line is an empty value (which the `csv` crate would skip). The last line ending is
/// optional.
pub(crate) fn one_column(text: &str) -> Result<Vec<String>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let line_end = |i: &mut usize| -> bool {
        match b.get(*i) {
            None => true,
            Some(b'\r') => {
                *i += if b.get(*i + 1) == Some(&b'\n') { 2 } else { 1 };
                true
            }
            Some(b'\n') => {
                *i += 1;
                true
            }
            _ => false,
        }
    };
    while i < b.len() {
        if b[i] == b'"' {
            let mut v = String::new();
            i += 1;
            loop {
                let q = text[i..].find('"').map(|p| i + p).ok_or_else(|| protocol("a Bulk result page ends inside a quoted value"))?;
                v.push_str(&text[i..q]);
                if b.get(q + 1) == Some(&b'"') {
                    v.push('"');
                    i = q + 2;
                } else {
                    i = q + 1;
                    break;
                }
            }
            if !line_end(&mut i) {
                return Err(protocol("a Bulk result page has text after a closing quote"));
            }
            out.push(v);
        } else {
            let end = text[i..].find(['\r', '\n']).map_or(b.len(), |p| i + p);
            if text[i..end].contains('"') {
                return Err(protocol("a Bulk result page has a quote inside an unquoted value"));
            }
            out.push(text[i..end].to_owned());
            i = end;
            line_end(&mut i);
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "bulk_csv_tests.rs"]
mod tests;
