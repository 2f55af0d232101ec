//! Result pages as CSV [bulk-and-parallel.md §1.4, §1.7; salesforce-api.md §6 "CSV rules"]: a
//! header row of the SOQL's field paths on every page, values quoted (every value by default, as
//! the result examples show, or only where needed) with inner quotes doubled, null and the empty
//! string both written as nothing, booleans `true`/`false`, numbers as the REST JSON writes them,
//! dates `YYYY-MM-DD`, dateTimes in the configured form, the job's delimiter between values and its
//! line ending after every row (values keep their own embedded newlines).

use super::model::{Column, CsvDateTime, CsvQuoting};
use crate::data::{Dataset, Overlay, Val};
use crate::query::{Rows, path_value};

/// How to write a page.
#[derive(Debug, Clone, Copy)]
pub struct CsvStyle {
    /// Column delimiter byte (ASCII).
    pub delimiter: u8,
    /// Rows end in CRLF (else LF).
    pub crlf: bool,
    /// Quoting.
    pub quoting: CsvQuoting,
    /// dateTime form.
    pub datetime: CsvDateTime,
}

fn push_cell(text: &str, style: &CsvStyle, out: &mut String) {
    if text.is_empty() {
        return;
    }
    let d = style.delimiter as char;
    let needs = style.quoting == CsvQuoting::All || text.contains([d, '"', '\n', '\r']);
    if !needs {
        out.push_str(text);
        return;
    }
    out.push('"');
    for (i, part) in text.split('"').enumerate() {
        if i > 0 {
            out.push_str("\"\"");
        }
        out.push_str(part);
    }
    out.push('"');
}

/// The text of a value in a CSV cell (empty for null).
pub fn cell_text(v: &Val<'_>, datetime: CsvDateTime, buf: &mut String) {
    buf.clear();
    match v {
        Val::Null => {}
        Val::Str(s) => buf.push_str(s),
        Val::Bool(b) => buf.push_str(if *b { "true" } else { "false" }),
        Val::DateTime(ms) => {
            crate::time::format_datetime(*ms, buf);
            if datetime == CsvDateTime::Zulu {
                buf.truncate(buf.len() - "+0000".len());
                buf.push('Z');
            }
        }
        Val::Date(d) => crate::time::format_date(*d, buf),
        Val::Num(n) => buf.push_str(n),
        Val::Id(id) => buf.push_str(id.as_str()),
        Val::Fmt(f) | Val::FmtNum(f) => f.write_to(buf),
    }
}

fn end_row(style: &CsvStyle, out: &mut String) {
    out.push_str(if style.crlf { "\r\n" } else { "\n" });
}

/// Append the header row.
pub fn header(columns: &[Column], style: &CsvStyle, out: &mut String) {
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            out.push(style.delimiter as char);
        }
        push_cell(&c.header, style, out);
    }
    end_row(style, out);
}

/// Render rows `start..end` of a job's result (`obj` records at `rows`), header first.
#[allow(clippy::too_many_arguments)]
pub fn page(ds: &Dataset, ov: &Overlay, obj: crate::data::SObject, rows: &Rows, columns: &[Column], start: u64, end: u64, style: &CsvStyle) -> String {
    let mut out = String::with_capacity(((end - start) as usize).saturating_mul(columns.len() * 24) + 256);
    header(columns, style, &mut out);
    let mut buf = String::new();
    for i in start..end {
        let rec = ds.record(ov, obj, rows.get(i));
        for (n, c) in columns.iter().enumerate() {
            if n > 0 {
                out.push(style.delimiter as char);
            }
            cell_text(&path_value(ds, ov, &rec, &c.path), style.datetime, &mut buf);
            push_cell(&buf, style, &mut out);
        }
        end_row(style, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn style(quoting: CsvQuoting) -> CsvStyle {
        CsvStyle { delimiter: b',', crlf: false, quoting, datetime: CsvDateTime::Zulu }
    }

    #[test]
    fn quoting() {
        let mut out = String::new();
        push_cell("the \"gold\" standard", &style(CsvQuoting::Minimal), &mut out);
        assert_eq!(out, "\"the \"\"gold\"\" standard\"");
        out.clear();
        push_cell("plain", &style(CsvQuoting::Minimal), &mut out);
        push_cell("a,b", &style(CsvQuoting::Minimal), &mut out);
        push_cell("two\nlines", &style(CsvQuoting::Minimal), &mut out);
        assert_eq!(out, "plain\"a,b\"\"two\nlines\"");
        out.clear();
        push_cell("plain", &style(CsvQuoting::All), &mut out);
        push_cell("", &style(CsvQuoting::All), &mut out);
        assert_eq!(out, "\"plain\"");
    }

    #[test]
    fn values() {
        let mut b = String::new();
        cell_text(&Val::DateTime(1_369_082_972_000), CsvDateTime::Zulu, &mut b);
        assert_eq!(b, "2013-05-20T20:49:32.000Z");
        cell_text(&Val::DateTime(1_369_082_972_000), CsvDateTime::Offset, &mut b);
        assert_eq!(b, "2013-05-20T20:49:32.000+0000");
        cell_text(&Val::Bool(false), CsvDateTime::Zulu, &mut b);
        assert_eq!(b, "false");
        cell_text(&Val::Num(Cow::Borrowed("123456789012345678")), CsvDateTime::Zulu, &mut b);
        assert_eq!(b, "123456789012345678");
        cell_text(&Val::Null, CsvDateTime::Zulu, &mut b);
        assert_eq!(b, "");
    }
}
