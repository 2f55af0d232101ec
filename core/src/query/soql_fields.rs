//! Every field in a caller's SOQL (issue 11 item 5, queries): `SELECT * FROM X …` and
//! Salesforce's `FIELDS(ALL)`, `FIELDS(STANDARD)`, `FIELDS(CUSTOM)` in the top-level select list
//! of a single-sObject query, expanded by the SDK from the sObject's describe before the query
//! is sent.
//!
//! - `*` and `FIELDS(ALL)`: every field by the compound rule of
//!   [`SObjectDescribe::all_fields`] (components kept, the compound `BillingAddress` /
//!   `Location__c` dropped; `deprecatedAndHidden` left out), in describe order.
//!   `FIELDS(STANDARD)`: those of them that are not custom; `FIELDS(CUSTOM)`: the custom ones
//!   (describe's `custom` flag).
//! - Mixed lists expand in place: `SELECT Id, FIELDS(CUSTOM), (SELECT Id FROM Contacts) FROM
//!   Account` keeps `Id` and the subquery where they are and puts the custom fields between.
//!   No field appears twice (compared ignoring case, as SOQL does): a field written in the list
//!   (or under `toLabel`/`convertCurrency`/`FORMAT`, which return it under its own name) is not
//!   added again, and overlapping expansions (`FIELDS(STANDARD), *`) add each field once.
//! - Because the list is sent explicitly, Salesforce's own restriction on `FIELDS(ALL)` and
//!   `FIELDS(CUSTOM)` (the query must carry `LIMIT 200` or less) does not apply: such a query
//!   streams every record like any other. The reference does not confirm `FIELDS()` itself
//!   ([salesforce-api.md §7] marks it UNCONFIRMED, v51+) nor how Salesforce's own `FIELDS(ALL)`
//!   treats compound fields, so the SDK applies the export's documented rule instead of relying
//!   on it.
//! - `FIELDS()` inside a child subquery (`(SELECT FIELDS(ALL) FROM Contacts)`) and `FIELDS(x)`
//!   with any other argument or an alias are left as written, for Salesforce to answer (it
//!   documents `LIMIT 200` there too); the SDK expands only the top level.
//! - A query whose FROM names several sObjects cannot be expanded: `InvalidArgument`.
//!
//! What happens when the expanded query's URI is too long is the stream's business
//! (`export/query.rs`): field groups joined by Id (`joined.rs`) when the query allows it, else a
//! typed error naming the fields to drop ([`ExpandedSelect::render_without_last`]).

use crate::describe::SObjectDescribe;
use crate::error::{Error, Result};
use crate::soql::{ClauseKind, SelectItem, SelectItemKind, SoqlScan};

/// Which fields one expandable item stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    All,
    Standard,
    Custom,
}

impl Which {
    /// The expandable kind of a top-level select item, if it is one.
    fn of(item: &SelectItem) -> Option<Which> {
        if item.alias.is_some() {
            return None;
        }
        match &item.kind {
            SelectItemKind::Field if item.text == "*" => Some(Which::All),
            SelectItemKind::Function { name, args } if name.eq_ignore_ascii_case("FIELDS") => {
                match args.to_ascii_uppercase().as_str() {
                    "ALL" => Some(Which::All),
                    "STANDARD" => Some(Which::Standard),
                    "CUSTOM" => Some(Which::Custom),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// A caller's SOQL whose top-level select list has `*` or `FIELDS(…)` to expand.
#[derive(Debug, Clone)]
pub(crate) struct FieldsQuery {
    scan: SoqlScan,
}

/// One piece of the expanded select list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// An item as the caller wrote it (alias included).
    Written(String),
    /// A field added by the expansion.
    Added(String),
}

/// The select list after expansion, renderable with some of the added fields left out.
#[derive(Debug, Clone)]
pub(crate) struct ExpandedSelect {
    scan: SoqlScan,
    pieces: Vec<Piece>,
}

impl FieldsQuery {
    /// `Ok(None)` when the text has nothing to expand (or cannot be scanned: it is then sent as
    /// written, for Salesforce to judge). `InvalidArgument` when it has something to expand but
    /// FROM names more than one sObject.
    pub(crate) fn find(bound: &str) -> Result<Option<FieldsQuery>> {
        let Ok(scan) = SoqlScan::parse(bound) else { return Ok(None) };
        let Some(item) = scan.select_items().iter().find(|i| Which::of(i).is_some()) else { return Ok(None) };
        let from = scan.body(ClauseKind::From).unwrap_or("");
        if from.contains(',') || scan.sobject().is_empty() {
            return Err(Error::invalid_argument(format!(
                "{} expands the fields of one sObject, but this query's FROM is {from:?}: list the fields instead",
                item.text
            )));
        }
        Ok(Some(FieldsQuery { scan }))
    }

    /// The sObject whose describe the expansion needs.
    pub(crate) fn sobject(&self) -> &str {
        self.scan.sobject()
    }

    /// The select list with every expandable item replaced by its fields from `describe` (see
    /// the module docs). `InvalidArgument` when the describe is of another sObject or the list
    /// would be empty (`FIELDS(CUSTOM)` alone on an object without custom fields).
    pub(crate) fn expand(&self, describe: &SObjectDescribe) -> Result<ExpandedSelect> {
        if !describe.name.eq_ignore_ascii_case(self.sobject()) {
            return Err(Error::invalid_argument(format!(
                "the describe of {} cannot expand the fields of {}",
                describe.name,
                self.sobject()
            )));
        }
        let items = self.scan.select_items();
        // Fields written in the list (plainly or under a function returning them by name).
        let mut seen: Vec<String> = items
            .iter()
            .filter(|i| i.alias.is_none())
            .filter_map(|i| match &i.kind {
                SelectItemKind::Field if i.text != "*" => Some(i.text.clone()),
                SelectItemKind::Function { args, .. } if !i.is_aggregate() => Some(args.clone()),
                _ => None,
            })
            .collect();
        let candidates = describe.all_fields();
        let mut pieces = Vec::new();
        for item in items {
            let Some(which) = Which::of(item) else {
                let written = match &item.alias {
                    Some(a) => format!("{} {a}", item.text),
                    None => item.text.clone(),
                };
                pieces.push(Piece::Written(written));
                continue;
            };
            for f in &candidates {
                let wanted = match which {
                    Which::All => true,
                    Which::Standard => !f.custom,
                    Which::Custom => f.custom,
                };
                if wanted && !seen.iter().any(|s| s.eq_ignore_ascii_case(&f.name)) {
                    seen.push(f.name.clone());
                    pieces.push(Piece::Added(f.name.clone()));
                }
            }
        }
        if pieces.is_empty() {
            return Err(Error::invalid_argument(format!(
                "the SELECT list of this query is empty once expanded: {} has no such fields",
                describe.name
            )));
        }
        Ok(ExpandedSelect { scan: self.scan.clone(), pieces })
    }
}

impl ExpandedSelect {
    /// The expanded SOQL.
    pub(crate) fn soql(&self) -> String {
        self.render_without_last(0)
    }

    /// The fields the expansion added, in order.
    pub(crate) fn added(&self) -> Vec<&str> {
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Added(f) => Some(f.as_str()),
                Piece::Written(_) => None,
            })
            .collect()
    }

    /// The expanded SOQL without the last `n` added fields (to find how many fields must go for
    /// the query to fit a URI limit).
    pub(crate) fn render_without_last(&self, n: usize) -> String {
        let added = self.pieces.iter().filter(|p| matches!(p, Piece::Added(_))).count();
        let keep = added.saturating_sub(n);
        let mut k = 0;
        let list: Vec<&str> = self
            .pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Written(w) => Some(w.as_str()),
                Piece::Added(f) => {
                    k += 1;
                    (k <= keep).then_some(f.as_str())
                }
            })
            .collect();
        let text = self.scan.text();
        let body = self.scan.clause(ClauseKind::Select).expect("a scanned SELECT").body.clone();
        format!("{}{}{}", &text[..body.start], list.join(", "), &text[body.end..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESCRIBE: &str = r#"{"name":"Account","fields":[
        {"name":"Id","type":"id"},
        {"name":"Name","type":"string"},
        {"name":"BillingCity","type":"string","compoundFieldName":"BillingAddress"},
        {"name":"BillingAddress","type":"address"},
        {"name":"Tier__c","type":"string","custom":true},
        {"name":"Loc__Latitude__s","type":"double","custom":true,"compoundFieldName":"Loc__c"},
        {"name":"Loc__c","type":"location","custom":true},
        {"name":"Old__c","type":"string","custom":true,"deprecatedAndHidden":true}]}"#;

    fn expand(soql: &str) -> Result<String> {
        let d = SObjectDescribe::from_json(DESCRIBE).unwrap();
        Ok(FieldsQuery::find(soql)?.expect("something to expand").expand(&d)?.soql())
    }

    #[test]
    fn star_and_fields_all_expand_by_the_compound_rule() {
        let all = "SELECT Id, Name, BillingCity, Tier__c, Loc__Latitude__s FROM Account";
        assert_eq!(expand("SELECT * FROM Account").unwrap(), all);
        assert_eq!(expand("SELECT fields(all) FROM Account").unwrap(), all);
        assert_eq!(
            expand("SELECT FIELDS(STANDARD) FROM Account WHERE Name = 'FIELDS(ALL)' LIMIT 5").unwrap(),
            "SELECT Id, Name, BillingCity FROM Account WHERE Name = 'FIELDS(ALL)' LIMIT 5"
        );
        assert_eq!(expand("SELECT FIELDS( CUSTOM ) FROM Account").unwrap(), "SELECT Tier__c, Loc__Latitude__s FROM Account");
    }

    #[test]
    fn mixed_lists_expand_in_place_without_duplicates() {
        assert_eq!(
            expand("SELECT Id, FIELDS(CUSTOM), (SELECT Id FROM Contacts), tier__c FROM Account").unwrap(),
            "SELECT Id, Loc__Latitude__s, (SELECT Id FROM Contacts), tier__c FROM Account"
        );
        assert_eq!(
            expand("SELECT toLabel(Name), FIELDS(STANDARD), *, Owner.Name o FROM Account").unwrap(),
            "SELECT toLabel(Name), Id, BillingCity, Tier__c, Loc__Latitude__s, Owner.Name o FROM Account"
        );
        let d = SObjectDescribe::from_json(DESCRIBE).unwrap();
        let e = FieldsQuery::find("SELECT FIELDS(ALL) FROM Account").unwrap().unwrap().expand(&d).unwrap();
        assert_eq!(e.added(), ["Id", "Name", "BillingCity", "Tier__c", "Loc__Latitude__s"]);
        assert_eq!(e.render_without_last(2), "SELECT Id, Name, BillingCity FROM Account");
    }

    #[test]
    fn what_is_left_alone_or_refused() {
        for q in [
            "SELECT Id FROM Account",
            "SELECT Id, (SELECT FIELDS(ALL) FROM Contacts) FROM Account",
            "SELECT FIELDS(MINE) FROM Account",
            "SELECT Id FROM Account WHERE Name = '*'",
            "SELEC * FROM Account",
        ] {
            assert!(FieldsQuery::find(q).unwrap().is_none(), "{q}");
        }
        let e = FieldsQuery::find("SELECT * FROM Contact c, c.Account a").unwrap_err();
        assert!(e.message().contains("one sObject"), "{e}");
        let d = SObjectDescribe::from_json(DESCRIBE).unwrap();
        let e = FieldsQuery::find("SELECT * FROM Contact").unwrap().unwrap().expand(&d).unwrap_err();
        assert!(e.message().contains("cannot expand"), "{e}");
        let none = SObjectDescribe::from_json(r#"{"name":"Account","fields":[{"name":"Id","type":"id"}]}"#).unwrap();
        let e = FieldsQuery::find("SELECT FIELDS(CUSTOM) FROM Account").unwrap().unwrap().expand(&none).unwrap_err();
        assert!(e.message().contains("empty once expanded"), "{e}");
    }
}
