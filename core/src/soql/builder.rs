//! The query builder: WHERE conditions, LIKE patterns, ORDER BY, and [`SoqlQuery`] itself. It
//! accepts only validated identifiers and typed literals.

use crate::error::{Error, Result};
use crate::soql::{FieldPath, Params, SObjectName, SoqlValue, bind, check_condition, escape_like};

/// The largest OFFSET Salesforce accepts; larger values fail with `NUMBER_OUTSIDE_VALID_RANGE`
/// [salesforce-api.md §4 "OFFSET"]. The builder refuses to render a larger one.
pub const MAX_OFFSET: u64 = 2000;

/// A comparison operator in a WHERE condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A WHERE condition over validated fields and typed literals.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `field op value`
    Cmp(FieldPath, CmpOp, SoqlValue),
    /// `field LIKE 'pattern'` (see [`LikePattern`]).
    Like(FieldPath, LikePattern),
    /// `field IN (v1, v2, …)` (an empty list is refused when rendering).
    In(FieldPath, Vec<SoqlValue>),
    /// All of (rendered `(a AND b …)`; an empty list is refused when rendering).
    And(Vec<Condition>),
    /// Any of (rendered `(a OR b …)`; an empty list is refused when rendering).
    Or(Vec<Condition>),
    /// A caller's condition text with its bind values filled (rendered `(text)`); see
    /// [`BoundCondition`].
    Bound(BoundCondition),
}

/// One WHERE condition written as SOQL text by the caller, with its `:name` placeholders filled
/// by [`bind`]: `Industry = :industry AND CreatedDate = LAST_N_DAYS:30`. Built only by
/// [`BoundCondition::new`], which refuses (`InvalidArgument`, before any request) text that is
/// not exactly one condition — empty, an unterminated string literal, unbalanced parentheses, a
/// top-level clause keyword (`ORDER BY`, `LIMIT`, `GROUP BY`, `FROM`, …; see
/// [`check_condition`]) — and missing or unused bind names. The condition is checked again after
/// binding, and rendered inside parentheses, so that it combines with other conditions (an
/// export's `since`, the keyset `Id >`) by `AND` without changing their meaning. Field names in
/// the text are Salesforce's to check: an unknown one is `Api` `INVALID_FIELD` from the query.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundCondition {
    text: String,
}

impl BoundCondition {
    /// Checks `condition`, fills its placeholders from `params` and checks the result (see the
    /// type's docs).
    pub fn new(condition: &str, params: &Params) -> Result<Self> {
        check_condition(condition)?;
        let text = bind(condition, params)?;
        check_condition(&text)?;
        Ok(BoundCondition { text: text.trim().to_owned() })
    }
    /// The bound condition text (without the parentheses it is rendered in).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl Condition {
    /// `field op value`.
    pub fn cmp(field: FieldPath, op: CmpOp, value: impl Into<SoqlValue>) -> Self {
        Condition::Cmp(field, op, value.into())
    }
    /// Renders the condition text.
    pub fn to_soql(&self) -> Result<String> {
        Ok(match self {
            Condition::Cmp(f, op, v) => format!("{} {} {}", f, op.as_str(), v.to_soql()?),
            Condition::Like(f, p) => format!("{f} LIKE '{}'", p.render()?),
            Condition::In(f, vs) => {
                if vs.is_empty() {
                    return Err(Error::invalid_argument(format!("empty IN list for {f}")));
                }
                let items: Result<Vec<String>> = vs.iter().map(|v| v.to_soql()).collect();
                format!("{f} IN ({})", items?.join(", "))
            }
            Condition::Bound(b) => format!("({})", b.text),
            Condition::And(cs) | Condition::Or(cs) => {
                if cs.is_empty() {
                    return Err(Error::invalid_argument("empty AND/OR condition"));
                }
                let sep = if matches!(self, Condition::And(_)) { " AND " } else { " OR " };
                let items: Result<Vec<String>> = cs.iter().map(|c| c.to_soql()).collect();
                let items = items?;
                if items.len() == 1 {
                    items.into_iter().next().unwrap_or_default()
                } else {
                    format!("({})", items.join(sep))
                }
            }
        })
    }
}

/// A LIKE pattern: [`LikePattern::contains`] or [`LikePattern::starts_with`] (the text matches
/// itself literally: its `%` and `_` are escaped). Quotes and backslashes are always escaped
/// [salesforce-api.md §8].
#[derive(Debug, Clone, PartialEq)]
pub struct LikePattern {
    text: String,
    kind: LikeKind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum LikeKind {
    Contains,
    StartsWith,
}

impl LikePattern {
    /// Matches values containing `text` literally.
    pub fn contains(text: impl Into<String>) -> Self {
        LikePattern { text: text.into(), kind: LikeKind::Contains }
    }
    /// Matches values starting with `text` literally.
    pub fn starts_with(text: impl Into<String>) -> Self {
        LikePattern { text: text.into(), kind: LikeKind::StartsWith }
    }
    fn render(&self) -> Result<String> {
        Ok(match self.kind {
            LikeKind::Contains => format!("%{}%", escape_like(&self.text)?),
            LikeKind::StartsWith => format!("{}%", escape_like(&self.text)?),
        })
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `ASC`
    Asc,
    /// `DESC`
    Desc,
}

/// A SELECT statement built from validated parts.
///
/// ```
/// use sfcrm_core::soql::{SoqlQuery, SObjectName, FieldPath, Condition, CmpOp, SalesforceId, Direction};
/// let q = SoqlQuery::new(SObjectName::new("Contact")?)
///     .select(FieldPath::new("Id")?)
///     .select(FieldPath::new("Account.Name")?)
///     .filter(Condition::cmp(FieldPath::new("Id")?, CmpOp::Gt, SalesforceId::new("003000000000001AAA")?))
///     .order_by(FieldPath::new("Id")?, Direction::Asc)
///     .limit(100);
/// assert_eq!(q.to_soql()?,
///     "SELECT Id, Account.Name FROM Contact WHERE Id > '003000000000001AAA' ORDER BY Id ASC LIMIT 100");
/// # Ok::<(), sfcrm_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SoqlQuery {
    from: SObjectName,
    fields: Vec<FieldPath>,
    count: bool,
    conditions: Vec<Condition>,
    order_by: Vec<(FieldPath, Direction)>,
    limit: Option<u64>,
    offset: Option<u64>,
}

impl SoqlQuery {
    /// `SELECT … FROM sobject` with no fields yet.
    pub fn new(from: SObjectName) -> Self {
        SoqlQuery {
            from,
            fields: Vec::new(),
            count: false,
            conditions: Vec::new(),
            order_by: Vec::new(),
            limit: None,
            offset: None,
        }
    }
    /// `SELECT COUNT() FROM sobject`: REST answers with `totalSize` and no records
    /// [salesforce-api.md §4 "COUNT()"]. ORDER BY is not allowed with COUNT() and is not rendered.
    pub fn count(from: SObjectName) -> Self {
        SoqlQuery { count: true, ..SoqlQuery::new(from) }
    }
    /// Adds one field.
    pub fn select(mut self, field: FieldPath) -> Self {
        self.fields.push(field);
        self
    }
    /// Adds several fields.
    pub fn select_all(mut self, fields: impl IntoIterator<Item = FieldPath>) -> Self {
        self.fields.extend(fields);
        self
    }
    /// Adds a WHERE condition (several are joined with AND).
    pub fn filter(mut self, condition: Condition) -> Self {
        self.conditions.push(condition);
        self
    }
    /// Adds an ORDER BY item.
    pub fn order_by(mut self, field: FieldPath, direction: Direction) -> Self {
        self.order_by.push((field, direction));
        self
    }
    /// Sets LIMIT.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }
    /// Sets OFFSET (refused when rendering if above [`MAX_OFFSET`]; 0 is not rendered).
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }
    /// The sObject queried.
    pub fn sobject(&self) -> &SObjectName {
        &self.from
    }
    /// The selected fields.
    pub fn fields(&self) -> &[FieldPath] {
        &self.fields
    }

    /// Renders the SOQL text. `InvalidArgument` when there is no field (non-COUNT), when OFFSET
    /// exceeds [`MAX_OFFSET`], or when a literal cannot be escaped.
    pub fn to_soql(&self) -> Result<String> {
        let mut q = String::from("SELECT ");
        if self.count {
            q.push_str("COUNT()");
        } else {
            if self.fields.is_empty() {
                return Err(Error::invalid_argument("a SOQL query needs at least one field"));
            }
            let names: Vec<&str> = self.fields.iter().map(|f| f.as_str()).collect();
            q.push_str(&names.join(", "));
        }
        q.push_str(" FROM ");
        q.push_str(self.from.as_str());
        if !self.conditions.is_empty() {
            let parts: Result<Vec<String>> = self.conditions.iter().map(|c| c.to_soql()).collect();
            q.push_str(" WHERE ");
            q.push_str(&parts?.join(" AND "));
        }
        if !self.count && !self.order_by.is_empty() {
            let items: Vec<String> = self
                .order_by
                .iter()
                .map(|(f, d)| format!("{f} {}", if *d == Direction::Asc { "ASC" } else { "DESC" }))
                .collect();
            q.push_str(" ORDER BY ");
            q.push_str(&items.join(", "));
        }
        if let Some(n) = self.limit {
            q.push_str(&format!(" LIMIT {n}"));
        }
        if let Some(m) = self.offset {
            if m > MAX_OFFSET {
                return Err(Error::invalid_argument(format!(
                    "OFFSET {m} exceeds Salesforce's maximum of {MAX_OFFSET}"
                )));
            }
            if m > 0 {
                q.push_str(&format!(" OFFSET {m}"));
            }
        }
        Ok(q)
    }
}
