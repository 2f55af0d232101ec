//! A top-level SOQL clause scanner: where each clause of a SELECT starts and ends, and what its
//! select items are. It does not validate SOQL (Salesforce does, with `MALFORMED_QUERY`); it only
//! finds the structure reliably: string literals (backslash escapes [salesforce-api.md §8]) and
//! parentheses (subqueries, function calls, semi-joins) never hide or fake a clause keyword, and
//! `TYPEOF … END` is one select item.
//!
//! Used by the query stream (keyset eligibility and rewriting, CSV columns), by
//! [`check_condition`] (a `where` text is one condition), and by the bind tests (a bound value
//! never changes the clauses).

use std::ops::Range;

use crate::error::{Error, Result};
use crate::soql::lex::{Tok, TokKind, lex, line_col};

/// A top-level clause of a SOQL SELECT, in the order SOQL writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClauseKind {
    /// `SELECT items`
    Select,
    /// `FROM sObject [alias]`
    From,
    /// `USING SCOPE scope`
    UsingScope,
    /// `WHERE condition`
    Where,
    /// `WITH …` (`SECURITY_ENFORCED`, `USER_MODE`, `DATA CATEGORY …`)
    With,
    /// `GROUP BY …` (also `ROLLUP(…)`/`CUBE(…)`)
    GroupBy,
    /// `HAVING condition`
    Having,
    /// `ORDER BY …`
    OrderBy,
    /// `LIMIT n`
    Limit,
    /// `OFFSET n`
    Offset,
    /// `FOR VIEW` / `FOR REFERENCE` / `FOR UPDATE`
    For,
    /// `UPDATE TRACKING` / `UPDATE VIEWSTAT`
    Update,
}

impl ClauseKind {
    /// The clause keyword(s) as SOQL writes them (`ORDER BY`).
    pub fn keyword(self) -> &'static str {
        match self {
            ClauseKind::Select => "SELECT",
            ClauseKind::From => "FROM",
            ClauseKind::UsingScope => "USING SCOPE",
            ClauseKind::Where => "WHERE",
            ClauseKind::With => "WITH",
            ClauseKind::GroupBy => "GROUP BY",
            ClauseKind::Having => "HAVING",
            ClauseKind::OrderBy => "ORDER BY",
            ClauseKind::Limit => "LIMIT",
            ClauseKind::Offset => "OFFSET",
            ClauseKind::For => "FOR",
            ClauseKind::Update => "UPDATE",
        }
    }
}

/// One clause found at the top level: its kind, where its keyword starts and the byte range of
/// its body (trimmed; empty when the keyword ends the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// Which clause.
    pub kind: ClauseKind,
    /// Byte offset of the clause keyword.
    pub keyword_start: usize,
    /// Byte range of the body, after the keyword(s), whitespace trimmed.
    pub body: Range<usize>,
}

/// What a select item is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectItemKind {
    /// A field path (`Name`, `Account.Owner.Name`).
    Field,
    /// A child-relationship subquery `(SELECT … FROM Contacts)`; `relationship` is its FROM.
    Subquery {
        /// The child relationship name (`Contacts`), as written.
        relationship: String,
    },
    /// `TYPEOF What WHEN … END`; `field` is the polymorphic field (`What`).
    TypeOf {
        /// The polymorphic relationship field, as written.
        field: String,
    },
    /// A function call: `COUNT()`, `COUNT(Id)`, `MAX(Amount)`, `toLabel(Status)`,
    /// `convertCurrency(Amount)`, `FORMAT(Amount)`, `CALENDAR_YEAR(CreatedDate)`, …
    Function {
        /// The function name, as written.
        name: String,
        /// The argument text between the parentheses, trimmed.
        args: String,
    },
}

/// One item of the SELECT list: its text (trimmed), kind and alias (`MAX(Amount) maxAmount`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectItem {
    /// The item as written, alias excluded.
    pub text: String,
    /// What it is.
    pub kind: SelectItemKind,
    /// The alias written after it, if any.
    pub alias: Option<String>,
}

/// Functions that return a field's value under the field's own name (`toLabel(Status)` comes back
/// as `Status`); any other function is an aggregate or date function.
const VALUE_FUNCTIONS: [&str; 3] = ["TOLABEL", "CONVERTCURRENCY", "FORMAT"];

impl SelectItem {
    /// True for an aggregate (or a date function, which only appears with GROUP BY): any function
    /// other than `toLabel`, `convertCurrency`, `FORMAT` around a plain field.
    pub fn is_aggregate(&self) -> bool {
        match &self.kind {
            SelectItemKind::Function { name, args } => {
                !VALUE_FUNCTIONS.iter().any(|f| name.eq_ignore_ascii_case(f)) || args.contains('(')
            }
            _ => false,
        }
    }
    /// True for `COUNT()` (Salesforce answers with `totalSize` and no records).
    pub fn is_count_star(&self) -> bool {
        matches!(&self.kind, SelectItemKind::Function { name, args }
            if name.eq_ignore_ascii_case("COUNT") && args.is_empty())
    }
}

/// The top-level structure of one SOQL SELECT (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoqlScan {
    text: String,
    clauses: Vec<Clause>,
    select: Vec<SelectItem>,
}

fn keyword_at(soql: &str, toks: &[Tok], i: usize) -> Option<(ClauseKind, usize)> {
    let t = &toks[i];
    if t.kind != TokKind::Word || t.depth != 0 {
        return None;
    }
    let next_is = |kw: &str| toks.get(i + 1).is_some_and(|n| n.is_keyword(soql, kw));
    let w = t.text(soql);
    let k = |s: &str| w.eq_ignore_ascii_case(s);
    if k("SELECT") {
        Some((ClauseKind::Select, 1))
    } else if k("FROM") {
        Some((ClauseKind::From, 1))
    } else if k("USING") && next_is("SCOPE") {
        Some((ClauseKind::UsingScope, 2))
    } else if k("WHERE") {
        Some((ClauseKind::Where, 1))
    } else if k("WITH") {
        Some((ClauseKind::With, 1))
    } else if k("GROUP") && next_is("BY") {
        Some((ClauseKind::GroupBy, 2))
    } else if k("HAVING") {
        Some((ClauseKind::Having, 1))
    } else if k("ORDER") && next_is("BY") {
        Some((ClauseKind::OrderBy, 2))
    } else if k("LIMIT") {
        Some((ClauseKind::Limit, 1))
    } else if k("OFFSET") {
        Some((ClauseKind::Offset, 1))
    } else if k("FOR")
        && toks.get(i + 1).is_some_and(|n| {
            ["VIEW", "REFERENCE", "UPDATE"]
                .iter()
                .any(|kw| n.is_keyword(soql, kw))
        })
    {
        Some((ClauseKind::For, 1))
    } else if k("UPDATE")
        && toks.get(i + 1).is_some_and(|n| {
            ["TRACKING", "VIEWSTAT"].iter().any(|kw| n.is_keyword(soql, kw))
        })
        // `FOR UPDATE` is the FOR clause's body, not an UPDATE clause.
        && !(i > 0 && toks[i - 1].is_keyword(soql, "FOR"))
    {
        Some((ClauseKind::Update, 1))
    } else {
        None
    }
}

/// Finds the top-level clauses of `soql` (a slice of a larger text is fine).
fn clauses_of(soql: &str, toks: &[Tok]) -> Vec<Clause> {
    let mut found: Vec<(ClauseKind, usize, usize)> = Vec::new(); // kind, keyword start, body start
    let mut i = 0;
    while i < toks.len() {
        // The word after FROM is the sObject (`FROM Order`, `FROM Group`), never a keyword.
        let after_from = i > 0 && toks[i - 1].is_keyword(soql, "FROM") && toks[i - 1].depth == 0;
        if let Some((kind, n)) = keyword_at(soql, toks, i).filter(|_| !after_from) {
            let body_start = toks[i + n - 1].end;
            found.push((kind, toks[i].start, body_start));
            i += n;
            continue;
        }
        i += 1;
    }
    let mut out = Vec::with_capacity(found.len());
    for (j, &(kind, keyword_start, body_start)) in found.iter().enumerate() {
        let end = found.get(j + 1).map_or(soql.len(), |n| n.1);
        let raw = &soql[body_start..end];
        let lead = raw.len() - raw.trim_start().len();
        let body = body_start + lead..body_start + raw.trim_end().len();
        let body = if body.start > body.end {
            body.start..body.start
        } else {
            body
        };
        out.push(Clause {
            kind,
            keyword_start,
            body,
        });
    }
    out
}

impl SoqlScan {
    /// Scans a SOQL SELECT. `InvalidArgument` when the text does not lex (an unterminated string
    /// literal, unbalanced parentheses) or has no top-level `SELECT … FROM`. Anything else (a
    /// misspelt field, clauses out of order) is left for Salesforce to report.
    pub fn parse(soql: &str) -> Result<SoqlScan> {
        let toks = lex(soql)?;
        let clauses = clauses_of(soql, &toks);
        match (
            clauses.first(),
            clauses.iter().find(|c| c.kind == ClauseKind::From),
        ) {
            (Some(c), Some(_))
                if c.kind == ClauseKind::Select && soql[..c.keyword_start].trim().is_empty() => {}
            _ => {
                return Err(Error::invalid_argument(
                    "not a SOQL SELECT: the query must start with SELECT and have a FROM clause",
                ));
            }
        }
        let select_range = clauses[0].body.clone();
        let select = select_items(soql, &toks, select_range)?;
        Ok(SoqlScan {
            text: soql.to_string(),
            clauses,
            select,
        })
    }

    /// The scanned text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The clauses in the order written.
    pub fn clauses(&self) -> &[Clause] {
        &self.clauses
    }

    /// The first clause of `kind`.
    pub fn clause(&self, kind: ClauseKind) -> Option<&Clause> {
        self.clauses.iter().find(|c| c.kind == kind)
    }

    /// The body text of the first clause of `kind` (`WHERE` → the condition).
    pub fn body(&self, kind: ClauseKind) -> Option<&str> {
        self.clause(kind).map(|c| &self.text[c.body.clone()])
    }

    /// The select items.
    pub fn select_items(&self) -> &[SelectItem] {
        &self.select
    }

    /// The sObject after FROM (its first word; an alias follows it), as written.
    pub fn sobject(&self) -> &str {
        self.body(ClauseKind::From)
            .and_then(|b| b.split_whitespace().next())
            .unwrap_or("")
    }

    /// The clause kinds in order (what a bound value must never change).
    pub fn shape(&self) -> Vec<ClauseKind> {
        self.clauses.iter().map(|c| c.kind).collect()
    }

    /// The column names of the result, one per select item, by this rule: a field is its path as
    /// written (`Account.Name`); an aliased item is its alias; `toLabel(X)`, `convertCurrency(X)`
    /// and `FORMAT(X)` are `X` (Salesforce returns them under the field's name); an unaliased
    /// aggregate is `expr0`, `expr1`, … in order (Salesforce's AggregateResult names
    /// [salesforce-api.md §4 "COUNT()"]); a child subquery is its relationship name and a
    /// `TYPEOF` its polymorphic field (each one column holding JSON). `COUNT()` has no column.
    pub fn columns(&self) -> Vec<String> {
        let mut expr = 0;
        let mut out = Vec::with_capacity(self.select.len());
        for item in &self.select {
            if item.is_count_star() {
                continue;
            }
            let name = match (&item.alias, &item.kind) {
                (Some(a), _) => a.clone(),
                (None, SelectItemKind::Field) => item.text.clone(),
                (None, SelectItemKind::Subquery { relationship }) => relationship.clone(),
                (None, SelectItemKind::TypeOf { field }) => field.clone(),
                (None, SelectItemKind::Function { args, .. }) if !item.is_aggregate() => {
                    args.clone()
                }
                (None, SelectItemKind::Function { .. }) => {
                    expr += 1;
                    format!("expr{}", expr - 1)
                }
            };
            out.push(name);
        }
        out
    }
}

/// Splits the select list into items: top-level commas, except inside `TYPEOF … END`.
fn select_items(soql: &str, toks: &[Tok], range: Range<usize>) -> Result<Vec<SelectItem>> {
    let inner: Vec<&Tok> = toks
        .iter()
        .filter(|t| t.start >= range.start && t.end <= range.end)
        .collect();
    let mut items = Vec::new();
    let mut current: Vec<&Tok> = Vec::new();
    let mut in_typeof = false;
    for t in inner {
        if t.depth == 0 && t.is_keyword(soql, "TYPEOF") {
            in_typeof = true;
        } else if t.depth == 0 && in_typeof && t.is_keyword(soql, "END") {
            in_typeof = false;
        }
        if t.depth == 0 && t.kind == TokKind::Comma && !in_typeof {
            items.push(select_item(soql, &current)?);
            current.clear();
        } else {
            current.push(t);
        }
    }
    items.push(select_item(soql, &current)?);
    Ok(items)
}

fn select_item(soql: &str, toks: &[&Tok]) -> Result<SelectItem> {
    let (Some(first), Some(last)) = (toks.first(), toks.last()) else {
        return Err(Error::invalid_argument(
            "empty item in the SOQL SELECT list (a doubled or trailing comma?)",
        ));
    };
    let whole = &soql[first.start..last.end];
    if first.is_keyword(soql, "TYPEOF") {
        let field = toks
            .get(1)
            .map(|t| t.text(soql).to_string())
            .unwrap_or_default();
        return Ok(SelectItem {
            text: whole.to_string(),
            kind: SelectItemKind::TypeOf { field },
            alias: None,
        });
    }
    // The item proper ends at its closing parenthesis (subquery, function) or its first word;
    // a single top-level word after it is the alias.
    let body_end = if first.kind == TokKind::LParen
        || toks.get(1).is_some_and(|t| t.kind == TokKind::LParen)
    {
        toks.iter()
            .rposition(|t| t.kind == TokKind::RParen && t.depth == 0)
            .unwrap_or(toks.len() - 1)
    } else {
        0
    };
    let alias = match &toks[body_end + 1..] {
        [] => None,
        [a] if a.kind == TokKind::Word => Some(a.text(soql).to_string()),
        _ => {
            let (l, c) = line_col(soql, first.start);
            return Err(Error::invalid_argument(format!(
                "cannot read the SOQL select item at line {l} column {c}: {:?}",
                whole
            )));
        }
    };
    let text = soql[first.start..toks[body_end].end].to_string();
    let kind = if first.kind == TokKind::LParen {
        let inner = &text[1..text.len() - 1];
        let relationship = SoqlScan::parse(inner.trim())
            .map(|s| s.sobject().to_string())
            .unwrap_or_default();
        SelectItemKind::Subquery { relationship }
    } else if body_end > 0 {
        let name = first.text(soql).to_string();
        let args = soql[toks[1].end..toks[body_end].start].trim().to_string();
        SelectItemKind::Function { name, args }
    } else {
        SelectItemKind::Field
    };
    Ok(SelectItem { text, kind, alias })
}

/// Checks that `condition` is one WHERE condition to be placed inside a query (e.g. an export's
/// `where` text): non-empty, string literals closed, parentheses balanced and no top-level clause
/// keyword (`LIMIT`, `ORDER BY`, `FROM`, …). `InvalidArgument` saying which rule failed.
/// Placeholders (`:name`) are allowed; bind them with [`crate::soql::bind`].
pub fn check_condition(condition: &str) -> Result<()> {
    if condition.trim().is_empty() {
        return Err(Error::invalid_argument("the WHERE condition is empty"));
    }
    let toks = lex(condition)?;
    for i in 0..toks.len() {
        if let Some((kind, _)) = keyword_at(condition, &toks, i) {
            let (l, c) = line_col(condition, toks[i].start);
            return Err(Error::invalid_argument(format!(
                "the WHERE condition must be one condition, but it contains the clause keyword {} \
                 at line {l} column {c}; pass only the condition (put it in parentheses if a \
                 subquery needs it)",
                kind.keyword()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
