//! What a caller's SOQL SELECT becomes before it is sent: the bound text, its hash (what a
//! checkpoint binds), whether it can run keyset (and the keyset rewrite), and its columns.
//!
//! Keyset eligibility (so that the query resumes anywhere, also after a session expiry): a
//! top-level single sObject (no comma in FROM), `Id` selected, and no ORDER BY, LIMIT, OFFSET,
//! GROUP BY, HAVING or aggregate function. Such a query is sent with ` ORDER BY Id` appended and,
//! to continue after the record with Id `last`, `(user's WHERE) AND Id > 'last'` (or `WHERE Id >
//! 'last'`). Every other query runs as written and resumes by its query locator while that lives
//! [salesforce-api.md §4 "Cursors"].

use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::http::encode_query_value;
use crate::query::source::RecordQuery;
use crate::soql::{BoundCondition, ClauseKind, Condition, FieldPath, Params, SObjectName, SalesforceId, SelectItemKind, SoqlScan};

/// A caller's query, planned (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct SoqlPlan {
    /// The bound SOQL, as the caller wrote it with the values in.
    bound: String,
    /// Its scan, when the scanner could read it (else the query is sent as is for Salesforce to
    /// judge, in locator mode).
    scan: Option<SoqlScan>,
    /// `Ok(())` when keyset-eligible, else why not (for the typed error).
    keyset: std::result::Result<(), String>,
    all_rows: bool,
    /// The text the hash binds when it is not `bound`: the caller's query before `*` /
    /// `FIELDS()` were expanded (`soql_fields.rs`), so that a checkpoint stays valid when the
    /// describe changes between two runs.
    hashed: Option<String>,
}

impl SoqlPlan {
    /// Plans `bound` (already bound SOQL); `all_rows` is queryAll (part of the hash).
    pub(crate) fn new(bound: String, all_rows: bool) -> SoqlPlan {
        let scan = SoqlScan::parse(&bound).ok();
        let keyset = match &scan {
            None => Err("the SDK could not read its clauses".to_string()),
            Some(s) => eligibility(s),
        };
        SoqlPlan { bound, scan, keyset, all_rows, hashed: None }
    }

    /// This plan with its hash taken over `written` (the caller's bound text before expansion).
    pub(crate) fn hashing(mut self, written: String) -> SoqlPlan {
        self.hashed = Some(written);
        self
    }

    /// The bound SOQL as planned (before the keyset rewrite).
    pub(crate) fn bound(&self) -> &str {
        &self.bound
    }

    /// True when the query runs keyset.
    pub(crate) fn is_keyset(&self) -> bool {
        self.keyset.is_ok()
    }

    /// Why the query cannot run keyset, as advice (`None` when it can).
    pub(crate) fn not_keyset_reason(&self) -> Option<&str> {
        self.keyset.as_ref().err().map(String::as_str)
    }

    /// The hash a checkpoint of this query carries: SHA-256 (hex) of `all_rows` and the bound SOQL.
    pub(crate) fn hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(if self.all_rows { b"queryAll\n" as &[u8] } else { b"query\n" });
        h.update(self.hashed.as_deref().unwrap_or(&self.bound).as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The bound SOQL as written (what a Bulk job runs: no `ORDER BY` added).
    pub(crate) fn bound_soql(&self) -> &str {
        &self.bound
    }

    /// The sObject after FROM, when the scanner read it.
    pub(crate) fn sobject(&self) -> Option<&str> {
        self.scan.as_ref().map(SoqlScan::sobject).filter(|s| !s.is_empty())
    }

    /// The result's columns ([`SoqlScan::columns`]); empty when the scanner could not read it.
    pub(crate) fn columns(&self) -> Vec<FieldPath> {
        let Some(scan) = &self.scan else { return Vec::new() };
        scan.columns().iter().filter_map(|c| FieldPath::new(c).ok()).collect()
    }

    /// The text to send: as written in locator mode; in keyset mode with `ORDER BY Id` and,
    /// after `after`, the `Id > 'after'` condition.
    pub(crate) fn soql(&self, after: Option<&SalesforceId>) -> Result<String> {
        let (Some(scan), Ok(())) = (&self.scan, &self.keyset) else {
            return Ok(self.bound.clone());
        };
        let text = scan.text();
        // Edits as (byte offset, replaced length, new text), applied from the end.
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        let first_after = |kind: ClauseKind| {
            scan.clauses().iter().find(|c| c.kind > kind).map_or(text.len(), |c| c.keyword_start)
        };
        if let Some(id) = after {
            let cond = format!("Id > '{}'", id.as_str());
            match scan.clause(ClauseKind::Where) {
                Some(w) => {
                    let body = &text[w.body.clone()];
                    edits.push((w.body.start, w.body.len(), format!("({body}) AND {cond}")));
                }
                None => {
                    let pos = first_after(ClauseKind::Where);
                    edits.push((pos, 0, insertion(text, pos, &format!("WHERE {cond}"))));
                }
            }
        }
        let pos = first_after(ClauseKind::OrderBy);
        edits.push((pos, 0, insertion(text, pos, "ORDER BY Id")));
        // From the end; at one offset the later clause goes in first (so it ends up after).
        edits.reverse();
        edits.sort_by_key(|e| std::cmp::Reverse(e.0));
        let mut out = text.to_string();
        for (pos, len, new) in edits {
            out.replace_range(pos..pos + len, &new);
        }
        Ok(out)
    }
}

impl SoqlPlan {
    /// The length of the longest REST query URI this plan sends (`{data_path}/queryAll?q=` and
    /// the percent-encoded SOQL; in keyset mode with a restart's `Id > '…'` condition).
    pub(crate) fn uri_len(&self, data_path: &str) -> Result<usize> {
        let id = SalesforceId::new("000000000000000AAA")?;
        let soql = self.soql(Some(&id))?;
        Ok(data_path.len() + "/queryAll?q=".len() + encode_query_value(&soql).len())
    }

    /// The plan as a [`RecordQuery`] (what the field-group reader `joined.rs` reads), or why it
    /// cannot be one: it must be keyset-eligible, select only plain field paths (no child
    /// subquery, `TYPEOF`, function or alias), have no clause but SELECT, FROM and WHERE, and no
    /// alias after its sObject. The WHERE text (already bound) becomes one
    /// [`crate::soql::BoundCondition`]; the result's field order is the SELECT list's.
    pub(crate) fn record_query(&self) -> std::result::Result<RecordQuery, String> {
        self.keyset.clone()?;
        let scan = self.scan.as_ref().ok_or("the SDK could not read its clauses")?;
        if let Some(c) = scan.clauses().iter().find(|c| !matches!(c.kind, ClauseKind::Select | ClauseKind::From | ClauseKind::Where)) {
            return Err(format!("it has a {} clause", c.kind.keyword()));
        }
        let from = scan.body(ClauseKind::From).unwrap_or("");
        if from.split_whitespace().count() != 1 {
            return Err(format!("its FROM has more than the sObject ({from:?})"));
        }
        let sobject = SObjectName::new(scan.sobject()).map_err(|e| e.message().to_string())?;
        let mut fields = Vec::with_capacity(scan.select_items().len());
        for item in scan.select_items() {
            if item.kind != SelectItemKind::Field || item.alias.is_some() {
                return Err(format!("it selects {:?}, which is not a plain field", item.text));
            }
            fields.push(FieldPath::new(&item.text).map_err(|e| e.message().to_string())?);
        }
        let filter = match scan.body(ClauseKind::Where) {
            Some(w) => Some(Condition::Bound(BoundCondition::new(w, &Params::new()).map_err(|e| e.message().to_string())?)),
            None => None,
        };
        RecordQuery::new(sobject, &fields, filter, None).map_err(|e| e.message().to_string())
    }
}

/// `clause` to insert at byte `pos` of `text`, with the spaces it needs around it.
fn insertion(text: &str, pos: usize, clause: &str) -> String {
    let before = text[..pos].chars().next_back().is_some_and(|c| !c.is_whitespace());
    let after = pos < text.len();
    format!("{}{clause}{}", if before { " " } else { "" }, if after { " " } else { "" })
}

fn eligibility(scan: &SoqlScan) -> std::result::Result<(), String> {
    let from = scan.body(ClauseKind::From).unwrap_or("");
    if from.contains(',') {
        return Err("it reads more than one sObject in FROM".into());
    }
    for (kind, what) in [
        (ClauseKind::OrderBy, "ORDER BY"),
        (ClauseKind::Limit, "LIMIT"),
        (ClauseKind::Offset, "OFFSET"),
        (ClauseKind::GroupBy, "GROUP BY"),
        (ClauseKind::Having, "HAVING"),
    ] {
        if scan.clause(kind).is_some() {
            return Err(format!("it has {what} (drop it, or order and page by Id yourself)"));
        }
    }
    if scan.select_items().iter().any(|i| i.is_aggregate()) {
        return Err("it selects an aggregate function".into());
    }
    let selects_id = scan
        .select_items()
        .iter()
        .any(|i| i.kind == SelectItemKind::Field && i.alias.is_none() && i.text.eq_ignore_ascii_case("Id"));
    if !selects_id {
        return Err("it does not select Id (add Id to the SELECT list)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> SalesforceId {
        SalesforceId::new("003000000000001AAA").unwrap()
    }

    #[test]
    fn keyset_rewrites() {
        let p = SoqlPlan::new("SELECT Id, Name FROM Contact".into(), false);
        assert!(p.is_keyset());
        assert_eq!(p.soql(None).unwrap(), "SELECT Id, Name FROM Contact ORDER BY Id");
        assert_eq!(
            p.soql(Some(&id())).unwrap(),
            "SELECT Id, Name FROM Contact WHERE Id > '003000000000001AAA' ORDER BY Id"
        );
        let p = SoqlPlan::new("SELECT Name, id FROM Contact WHERE A = 1 OR B = 'x ORDER BY' WITH SECURITY_ENFORCED".into(), true);
        assert!(p.is_keyset());
        assert_eq!(
            p.soql(Some(&id())).unwrap(),
            "SELECT Name, id FROM Contact WHERE (A = 1 OR B = 'x ORDER BY') AND Id > '003000000000001AAA' \
             WITH SECURITY_ENFORCED ORDER BY Id"
        );
        let p = SoqlPlan::new("SELECT Id FROM Account FOR VIEW".into(), false);
        assert_eq!(p.soql(Some(&id())).unwrap(), "SELECT Id FROM Account WHERE Id > '003000000000001AAA' ORDER BY Id FOR VIEW");
    }

    #[test]
    fn not_keyset_and_why() {
        for (q, why) in [
            ("SELECT Name FROM Contact", "does not select Id"),
            ("SELECT Id FROM Contact ORDER BY Name", "ORDER BY"),
            ("SELECT Id FROM Contact LIMIT 5", "LIMIT"),
            ("SELECT Id FROM Contact OFFSET 5", "OFFSET"),
            ("SELECT Id, COUNT(Name) FROM Contact GROUP BY Id", "GROUP BY"),
            ("SELECT COUNT() FROM Contact", "aggregate"),
            ("SELECT Id FROM Contact c, c.Account a", "more than one"),
            ("SELEC Id FROM Contact", "could not read"),
        ] {
            let p = SoqlPlan::new(q.into(), false);
            assert!(p.not_keyset_reason().unwrap().contains(why), "{q}: {:?}", p.not_keyset_reason());
            assert_eq!(p.soql(Some(&id())).unwrap(), q, "sent as written");
        }
    }

    #[test]
    fn record_query_only_for_plain_keyset_selects() {
        let p = SoqlPlan::new("SELECT Id, Name, Owner.Alias FROM Account WHERE Name = 'a:b' OR Rating = null".into(), false);
        let q = p.record_query().unwrap();
        let names: Vec<&str> = q.fields().iter().map(FieldPath::as_str).collect();
        assert_eq!(names, ["Id", "Name", "Owner.Alias"]);
        assert_eq!(q.filter().unwrap().to_soql().unwrap(), "(Name = 'a:b' OR Rating = null)");
        for (soql, why) in [
            ("SELECT Id, Name FROM Account ORDER BY Name", "ORDER BY"),
            ("SELECT Name FROM Account", "does not select Id"),
            ("SELECT Id, (SELECT Id FROM Contacts) FROM Account", "not a plain field"),
            ("SELECT Id, toLabel(Rating) FROM Account", "not a plain field"),
            ("SELECT Id, Name n FROM Account", "not a plain field"),
            ("SELECT Id FROM Account WITH SECURITY_ENFORCED", "WITH clause"),
            ("SELECT Id FROM Account a", "more than the sObject"),
        ] {
            let e = SoqlPlan::new(soql.into(), false).record_query().unwrap_err();
            assert!(e.contains(why), "{soql}: {e}");
        }
        let p = SoqlPlan::new("SELECT Id FROM Account".into(), false);
        assert_eq!(p.uri_len("/services/data/v59.0").unwrap(), "/services/data/v59.0/queryAll?q=".len()
            + "SELECT%20Id%20FROM%20Account%20WHERE%20Id%20%3E%20%27000000000000000AAA%27%20ORDER%20BY%20Id".len());
    }

    #[test]
    fn the_hash_binds_text_and_all_rows() {
        let a = SoqlPlan::new("SELECT Id FROM Contact".into(), false).hash();
        assert_eq!(a.len(), 64);
        assert_ne!(a, SoqlPlan::new("SELECT Id FROM Contact".into(), true).hash());
        assert_ne!(a, SoqlPlan::new("SELECT Id FROM Lead".into(), false).hash());
        assert_eq!(a, SoqlPlan::new("SELECT Id FROM Contact".into(), false).hash());
        let expanded = SoqlPlan::new("SELECT Id, Name FROM Contact".into(), false).hashing("SELECT * FROM Contact".into());
        assert_eq!(expanded.hash(), SoqlPlan::new("SELECT * FROM Contact".into(), false).hash(), "the text as written");
    }
}
