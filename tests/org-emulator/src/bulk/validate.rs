//! Creating a query job: the request body [bulk-and-parallel.md §1.2], the SOQL through the
//! emulator's SOQL engine, what Bulk API 2.0 refuses [bulk-and-parallel.md §1.9] and the CSV
//! columns of the result (the SOQL's field paths).
//!
//! Error texts that a source quotes are used as quoted; where no source gives Salesforce's text,
//! the message starts with `sf-org-emulator:` (as the SOQL engine's own refusals do) so that nobody
//! mistakes it for Salesforce's wording.

use serde::Deserialize;

use super::model::Column;
use crate::data::FieldType;
use crate::query::{Node, Path, Plan, Shape};
use crate::soql::{self, Query, SelectItem, SoqlError};

/// A refusal: HTTP status, `errorCode`, message.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// HTTP status.
    pub status: u16,
    /// `errorCode`.
    pub code: &'static str,
    /// `message`.
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal { status: 400, code, message: message.into() }
}

/// Bulk 2.0's refusal of a parent-to-child subquery, as reported from a real org [I20]. The code
/// is Bulk 1.0's `FeatureNotEnabled` [I23] in Bulk 2.0's upper-case form (inferred, UNCONFIRMED).
pub const CHILD_SUBQUERY: &str = "Aggregate Relationships not supported in Bulk V2 Query with CSV content type";
/// Bulk's refusal of address/geolocation fields [I24][T2] (code `FUNCTIONALITY_NOT_ENABLED`).
pub const COMPOUND: &str = "Selecting compound data not supported in Bulk Query";

/// The create body [bulk-and-parallel.md §1.2]. Unknown keys are ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBody {
    /// `query` or `queryAll`.
    pub operation: Option<String>,
    /// The SOQL.
    pub query: Option<String>,
    /// `CSV` only.
    pub content_type: Option<String>,
    /// `BACKQUOTE|CARET|COMMA|PIPE|SEMICOLON|TAB` (default COMMA).
    pub column_delimiter: Option<String>,
    /// `LF` (default) or `CRLF`.
    pub line_ending: Option<String>,
}

/// A validated create request.
#[derive(Debug)]
pub struct Validated {
    /// `query` or `queryAll`.
    pub operation: &'static str,
    /// The plan.
    pub plan: Plan,
    /// CSV columns in SELECT order.
    pub columns: Vec<Column>,
    /// Delimiter byte and name.
    pub delimiter: (u8, &'static str),
    /// `lineEnding: CRLF`.
    pub crlf: bool,
    /// The SOQL has no ORDER BY (which disables chunking [B6][B7]).
    pub pk_chunking: bool,
}

/// The delimiter byte for a `columnDelimiter` name.
pub fn delimiter(name: &str) -> Option<(u8, &'static str)> {
    Some(match name {
        "BACKQUOTE" => (b'`', "BACKQUOTE"),
        "CARET" => (b'^', "CARET"),
        "COMMA" => (b',', "COMMA"),
        "PIPE" => (b'|', "PIPE"),
        "SEMICOLON" => (b';', "SEMICOLON"),
        "TAB" => (b'\t', "TAB"),
        _ => return None,
    })
}

fn emu(what: &str) -> String {
    format!("sf-org-emulator: {what} (Salesforce's text is UNCONFIRMED)")
}

fn not_in_bulk(what: &str) -> Refusal {
    refuse("FEATURENOTENABLED", emu(&format!("{what} is not supported in a Bulk API 2.0 query")))
}

/// Map the SOQL engine's refusals of constructs it does not serve to Bulk's refusals of them.
fn parse_error(e: SoqlError) -> Refusal {
    let m = &e.message;
    if m.ends_with("GROUP clauses") || m.ends_with("HAVING clauses") {
        return not_in_bulk("GROUP BY");
    }
    if m.ends_with("FIELDS()") {
        return not_in_bulk("FIELDS()");
    }
    if m.ends_with("aggregate and date functions other than COUNT") {
        return not_in_bulk("An aggregate function");
    }
    refuse(e.code, e.message)
}

/// Validate a create body; `unsupported` lists the sObjects Bulk refuses; `now_ms` resolves date
/// literals.
pub fn validate(body: &CreateBody, unsupported: &[String], now_ms: i64) -> Result<Validated, Refusal> {
    let operation = match body.operation.as_deref() {
        Some("query") => "query",
        Some("queryAll") => "queryAll",
        Some(other) => return Err(refuse("INVALIDJOB", emu(&format!("invalid operation '{other}': use query or queryAll")))),
        None => return Err(refuse("INVALIDJOB", emu("operation is required"))),
    };
    let Some(text) = body.query.as_deref().filter(|q| !q.trim().is_empty()) else {
        return Err(refuse("INVALIDJOB", emu("query is required")));
    };
    if let Some(ct) = &body.content_type
        && ct != "CSV"
    {
        return Err(refuse("INVALIDJOB", emu(&format!("contentType '{ct}' is not supported: only CSV"))));
    }
    let delimiter = match body.column_delimiter.as_deref() {
        None => (b',', "COMMA"),
        Some(d) => delimiter(d).ok_or_else(|| refuse("INVALIDJOB", emu(&format!("invalid columnDelimiter '{d}'"))))?,
    };
    let crlf = match body.line_ending.as_deref() {
        None | Some("LF") => false,
        Some("CRLF") => true,
        Some(l) => return Err(refuse("INVALIDJOB", emu(&format!("invalid lineEnding '{l}'")))),
    };
    let q = soql::parse(text).map_err(parse_error)?;
    check_query(&q)?;
    let plan = crate::query::plan_at(&q, operation == "queryAll", now_ms).map_err(parse_error)?;
    if unsupported.iter().any(|o| o.eq_ignore_ascii_case(plan.obj.name())) {
        return Err(refuse("INVALIDENTITY", format!("Entity '{}' is not supported by the Bulk API.", plan.obj.name())));
    }
    let Shape::Records(nodes) = &plan.shape else { return Err(not_in_bulk("An aggregate function")) };
    let mut columns = Vec::new();
    flatten(nodes, &[], &mut columns)?;
    let pk_chunking = q.order.is_empty();
    Ok(Validated { operation, plan, columns, delimiter, crlf, pk_chunking })
}

/// What Bulk refuses that the parser accepts [bulk-and-parallel.md §1.9].
fn check_query(q: &Query) -> Result<(), Refusal> {
    if q.offset.is_some() {
        return Err(not_in_bulk("OFFSET"));
    }
    for item in &q.select {
        match item {
            SelectItem::Sub(_) => return Err(refuse("FEATURENOTENABLED", CHILD_SUBQUERY)),
            SelectItem::TypeOf(_) => return Err(not_in_bulk("TYPEOF")),
            SelectItem::CountAll | SelectItem::CountField(_) => return Err(not_in_bulk("An aggregate function")),
            SelectItem::Field(_) => {}
        }
    }
    Ok(())
}

/// The columns of a SELECT tree: `Name`, `Account.Name`, `Owner.Manager.Email`, `What.Name`.
fn flatten(nodes: &[Node], prefix: &[&'static crate::data::RelDef], out: &mut Vec<Column>) -> Result<(), Refusal> {
    let header = |rels: &[&'static crate::data::RelDef], field: &str| {
        let mut h: Vec<&str> = rels.iter().map(|r| r.name).collect();
        h.push(field);
        h.join(".")
    };
    for n in nodes {
        match n {
            Node::Field(f) => {
                if f.ty() == FieldType::Compound {
                    return Err(refuse("FUNCTIONALITY_NOT_ENABLED", COMPOUND));
                }
                out.push(Column { header: header(prefix, f.name), path: Path { rels: prefix.to_vec(), field: f, via_name: false } });
            }
            Node::Rel(r, kids) => {
                let mut p = prefix.to_vec();
                p.push(r);
                flatten(kids, &p, out)?;
            }
            Node::Poly(r, fields) => {
                let mut p = prefix.to_vec();
                p.push(r);
                for f in fields {
                    out.push(Column { header: header(&p, f.name), path: Path { rels: p.clone(), field: f, via_name: true } });
                }
            }
            Node::TypeOf(..) => return Err(not_in_bulk("TYPEOF")),
            Node::Children(_) => return Err(refuse("FEATURENOTENABLED", CHILD_SUBQUERY)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(q: &str) -> CreateBody {
        CreateBody { operation: Some("query".into()), query: Some(q.into()), content_type: None, column_delimiter: None, line_ending: None }
    }

    fn refusal(q: &str) -> Refusal {
        validate(&body(q), &[], 0).expect_err(q)
    }

    #[test]
    fn columns_are_the_field_paths_in_select_order() {
        let v = validate(&body("SELECT Name, Account.Name, Id, Owner.Email FROM Contact"), &[], 0).unwrap_or_else(|e| panic!("{e:?}"));
        let h: Vec<&str> = v.columns.iter().map(|c| c.header.as_str()).collect();
        assert_eq!(h, ["Name", "Account.Name", "Id", "Owner.Email"]);
        let t = validate(&body("SELECT What.Name, Subject FROM Task ORDER BY Subject"), &[], 0).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(t.columns[0].header, "What.Name");
        assert!(t.columns[0].path.via_name);
        assert!(!t.pk_chunking);
        assert!(v.pk_chunking);
    }

    #[test]
    fn refusals() {
        let r = refusal("SELECT Name, (SELECT LastName FROM Contacts) FROM Account");
        assert_eq!((r.status, r.code, r.message.as_str()), (400, "FEATURENOTENABLED", CHILD_SUBQUERY));
        let r = refusal("SELECT BillingAddress FROM Account");
        assert_eq!((r.code, r.message.as_str()), ("FUNCTIONALITY_NOT_ENABLED", COMPOUND));
        for (q, what) in [
            ("SELECT COUNT() FROM Contact", "aggregate"),
            ("SELECT Id FROM Contact OFFSET 5", "OFFSET"),
            ("SELECT Id FROM Contact GROUP BY Id", "GROUP BY"),
            ("SELECT FIELDS(ALL) FROM Contact", "FIELDS()"),
            ("SELECT MAX(CreatedDate) FROM Contact", "aggregate"),
            ("SELECT TYPEOF What WHEN Account THEN Name END FROM Task", "TYPEOF"),
        ] {
            let r = refusal(q);
            assert_eq!(r.code, "FEATURENOTENABLED", "{q}");
            assert!(r.message.to_lowercase().contains(&what.to_lowercase()), "{q}: {}", r.message);
        }
        let r = validate(&body("SELECT Id FROM Note"), &["note".into()], 0).unwrap_err();
        assert_eq!((r.code, r.message.as_str()), ("INVALIDENTITY", "Entity 'Note' is not supported by the Bulk API."));
        assert_eq!(refusal("SELECT Id FROM Nope").code, "INVALID_TYPE");
        assert_eq!(refusal("SELECT Nope FROM Contact").code, "INVALID_FIELD");
    }
}
