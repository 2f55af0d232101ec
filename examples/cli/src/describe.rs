//! `sfcrm describe [SOBJECT] [--json]`: an sObject's fields as a table (name, type, label,
//! nillable, length / precision,scale, reference), or, without SOBJECT, the org's sObjects;
//! `--json` prints Salesforce's describe body as received [salesforce-api.md §4].
//!
//! Every cell comes from the org, so it is printed with its control characters escaped
//! ([`term::line`]).

use clap::Args;
use sfcrm_core::describe::{DescribeGlobal, FieldDescribe, SObjectDescribe};

use crate::{ConnectionArgs, Failure, real, term};

/// Options of `sfcrm describe`.
#[derive(Args)]
pub struct DescribeArgs {
    /// The sObject API name (Contact, Wide_Object__c); omit it to list the org's sObjects.
    sobject: Option<String>,
    /// Print Salesforce's describe JSON as received instead of the table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
}

/// `sfcrm describe` (see the module docs).
pub async fn run(args: DescribeArgs) -> std::result::Result<(), Failure> {
    let (client, key) = real::client_for(&args.connection)?;
    let text = match &args.sobject {
        Some(sobject) => {
            let d = client.describe(&key, sobject).await?;
            if args.json { d.raw_json().to_owned() } else { sobject_table(&d) }
        }
        None => {
            let g = client.describe_global(&key).await?;
            if args.json { g.raw_json().to_owned() } else { global_table(&g) }
        }
    };
    // JSON escapes control characters itself; the tables' cells were escaped one by one.
    println!("{text}");
    Ok(())
}

/// Rows of cells as aligned columns (two spaces apart; no trailing spaces).
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let head: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&head).chain(rows) {
        let line: String = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}  ")).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.pop();
    out
}

/// `length` for text fields, `precision,scale` for numbers, `digits` for integers, empty
/// otherwise (Salesforce sends 0 for the ones that do not apply).
fn size_of(f: &FieldDescribe) -> String {
    let positive = |v: Option<u64>| v.filter(|&n| n > 0);
    match (positive(f.length), positive(f.precision), positive(f.digits)) {
        (_, Some(p), _) => format!("{p},{}", f.scale.unwrap_or(0)),
        (Some(l), None, _) => l.to_string(),
        (None, None, Some(d)) => d.to_string(),
        (None, None, None) => String::new(),
    }
}

/// `Account (Account)` for a lookup: the objects it references and its relationship name;
/// `-> Parent` for a compound field's components.
fn reference_of(f: &FieldDescribe) -> String {
    let mut parts = Vec::new();
    if !f.reference_to.is_empty() {
        let rel = f.relationship_name.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
        parts.push(format!("{}{rel}", f.reference_to.join("|")));
    }
    if let Some(c) = &f.compound_field_name {
        parts.push(format!("part of {c}"));
    }
    parts.join("; ")
}

/// The sObject's header line and one row per field.
fn sobject_table(d: &SObjectDescribe) -> String {
    let rows: Vec<Vec<String>> = d
        .fields
        .iter()
        .map(|f| {
            vec![
                term::line(&f.name).into_owned(),
                term::line(&f.field_type).into_owned(),
                term::line(&f.label).into_owned(),
                if f.nillable { "yes" } else { "no" }.to_owned(),
                size_of(f),
                term::line(&reference_of(f)).into_owned(),
            ]
        })
        .collect();
    let title = format!("{} ({}): {} fields", term::line(&d.name), term::line(&d.label), d.fields.len());
    format!("{title}\n{}", table(&["NAME", "TYPE", "LABEL", "NILLABLE", "LENGTH/PRECISION,SCALE", "REFERENCE"], &rows))
}

/// One row per sObject of the org.
fn global_table(g: &DescribeGlobal) -> String {
    let yes = |b: bool| if b { "yes" } else { "no" }.to_owned();
    let rows: Vec<Vec<String>> = g
        .sobjects
        .iter()
        .map(|s| vec![term::line(&s.name).into_owned(), term::line(&s.label).into_owned(), yes(s.custom), yes(s.queryable)])
        .collect();
    format!("{} sObjects\n{}", g.sobjects.len(), table(&["NAME", "LABEL", "CUSTOM", "QUERYABLE"], &rows))
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_line_up_without_trailing_spaces() {
        let rows = vec![vec!["Id".to_owned(), "id".to_owned(), "Contact ID".to_owned()], vec!["AccountId".to_owned(), "reference".to_owned(), "".to_owned()]];
        let t = super::table(&["NAME", "TYPE", "LABEL"], &rows);
        assert_eq!(t, "NAME       TYPE       LABEL\nId         id         Contact ID\nAccountId  reference");
    }
}
