//! Query planning: a parsed query resolved against the schema [salesforce-api.md §4, §5]. Execution
//! is in `exec.rs`, rendering in `render.rs`, date literal ranges in `datelit.rs`.
//!
//! Results are held as row indices (a contiguous span when possible, so a 1,000,000-row result costs
//! a few bytes); pages are rendered straight into a JSON string, record by record, without building a
//! `serde_json::Value` tree.

mod datelit;
mod exec;
mod render;

use crate::data::{ChildRel, FieldDef, FieldType, NAME_FIELDS, RelDef, SObject};
use crate::ids;
use crate::soql::{self, Expr, Literal, Op, Query, SelectItem, SoqlError, Spanned};

pub use exec::{Rows, children_rows, count_field, execute, path_value};
pub use render::{Render, render_record};

/// Maximum OFFSET [salesforce-api.md §4 "OFFSET"].
pub const MAX_OFFSET: u64 = 2000;

/// A field path resolved against the schema.
#[derive(Debug, Clone)]
pub struct Path {
    /// Relationships walked from the queried object.
    pub rels: Vec<&'static RelDef>,
    /// The final field.
    pub field: &'static FieldDef,
    /// The last relationship is polymorphic: `field` is a field of the `Name` entity.
    pub via_name: bool,
}

/// A SELECT tree node.
#[derive(Debug, Clone)]
pub enum Node {
    /// A field of the current object (compound fields render as JSON objects).
    Field(&'static FieldDef),
    /// A parent object (`"Account": {…}` or `"Account": null`).
    Rel(&'static RelDef, Vec<Node>),
    /// A polymorphic parent without TYPEOF: `attributes.type` is `Name`, fields of the `Name`
    /// entity.
    Poly(&'static RelDef, Vec<&'static FieldDef>),
    /// `TYPEOF`: fields per concrete type, and the ELSE fields (of the `Name` entity).
    TypeOf(&'static RelDef, Vec<(SObject, Vec<Node>)>, Option<Vec<&'static FieldDef>>),
    /// A child subquery (index into [`Plan::subs`]).
    Children(usize),
}

/// What the query returns.
#[derive(Debug, Clone)]
pub enum Shape {
    /// Records with the selected fields.
    Records(Vec<Node>),
    /// `COUNT()`: `totalSize` only, `records: []` [salesforce-api.md §4 "COUNT()"].
    CountAll,
    /// `COUNT(field)`: one AggregateResult record with `expr0`.
    CountField(Path),
}

#[derive(Debug, Clone)]
pub(crate) struct RCond {
    path: Path,
    op: Op,
    values: Vec<Literal>,
}

#[derive(Debug, Clone)]
pub(crate) enum RExpr {
    Cond(RCond),
    And(Vec<RExpr>),
    Or(Vec<RExpr>),
    Not(Box<RExpr>),
}

#[derive(Debug, Clone)]
pub(crate) struct ROrder {
    path: Path,
    desc: bool,
    nulls_first: bool,
}

/// A resolved child subquery.
#[derive(Debug, Clone)]
pub struct SubPlan {
    /// The child relationship (`Account.Contacts`).
    pub rel: &'static ChildRel,
    /// Selected child fields.
    pub nodes: Vec<Node>,
    filter: Option<RExpr>,
    order: Vec<ROrder>,
    limit: Option<u64>,
}

/// A resolved query.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The queried sObject.
    pub obj: SObject,
    /// What to return.
    pub shape: Shape,
    /// `queryAll`: include soft-deleted rows.
    pub all_rows: bool,
    /// Child subqueries.
    pub subs: Vec<SubPlan>,
    filter: Option<RExpr>,
    order: Vec<ROrder>,
    limit: Option<u64>,
    offset: u64,
}

impl Plan {
    /// The plan of a child cursor: the subquery's rows, already selected and ordered.
    pub fn for_children(sub: &SubPlan, all_rows: bool) -> Plan {
        let shape = Shape::Records(sub.nodes.clone());
        Plan { obj: sub.rel.child, shape, all_rows, subs: Vec::new(), filter: None, order: Vec::new(), limit: None, offset: 0 }
    }

    /// Number of long text area fields selected at the top level (two or more cap the page at
    /// 200 rows [salesforce-api.md §4 "Batch size"]).
    pub fn long_text_fields(&self) -> usize {
        match &self.shape {
            Shape::Records(nodes) => nodes.iter().filter(|n| matches!(n, Node::Field(f) if f.is_long_text())).count(),
            _ => 0,
        }
    }
}

/// The entity a path segment is resolved against: an sObject, or the `Name` entity behind a
/// polymorphic relationship.
#[derive(Clone, Copy)]
enum Ent {
    Obj(SObject),
    Name,
}

impl Ent {
    fn name(self) -> &'static str {
        match self {
            Ent::Obj(o) => o.name(),
            Ent::Name => "Name",
        }
    }
    fn field(self, name: &str) -> Option<&'static FieldDef> {
        match self {
            Ent::Obj(o) => o.field(name),
            Ent::Name => NAME_FIELDS.iter().find(|f| f.name.eq_ignore_ascii_case(name)),
        }
    }
    fn relationship(self, name: &str) -> Option<&'static RelDef> {
        match self {
            Ent::Obj(o) => o.relationship(name),
            Ent::Name => None,
        }
    }
}

fn invalid_field(text: &str, pos: usize, detail: String) -> SoqlError {
    SoqlError { code: "INVALID_FIELD", message: soql::positioned(text, pos, &detail) }
}

fn malformed(text: &str, pos: usize, detail: &str) -> SoqlError {
    SoqlError { code: "MALFORMED_QUERY", message: soql::positioned(text, pos, detail) }
}

fn no_relationship(text: &str, pos: usize, seg: &str) -> SoqlError {
    invalid_field(text, pos, format!(
        "Didn't understand relationship '{seg}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
    ))
}

fn resolve_in(text: &str, ent: Ent, raw: &Spanned<String>) -> Result<Path, SoqlError> {
    let mut segs: Vec<&str> = raw.v.split('.').collect();
    if let Ent::Obj(obj) = ent
        && segs.len() > 1
        && segs[0].eq_ignore_ascii_case(obj.name())
        && obj.relationship(segs[0]).is_none()
    {
        segs.remove(0); // object-qualified: `contact.owner.alias`
    }
    let mut cur = ent;
    let mut rels = Vec::new();
    let mut via_name = matches!(ent, Ent::Name);
    for seg in &segs[..segs.len() - 1] {
        let Some(r) = cur.relationship(seg) else { return Err(no_relationship(text, raw.pos, seg)) };
        rels.push(r);
        via_name = r.is_polymorphic();
        cur = if via_name { Ent::Name } else { Ent::Obj(r.targets[0]) };
    }
    let last = segs[segs.len() - 1];
    match cur.field(last) {
        Some(field) => Ok(Path { rels, field, via_name }),
        None => Err(invalid_field(text, raw.pos, format!(
            "No such column '{last}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
            cur.name()
        ))),
    }
}

fn resolve(q: &Query, obj: SObject, raw: &Spanned<String>) -> Result<Path, SoqlError> {
    resolve_in(&q.text, Ent::Obj(obj), raw)
}

/// Add a path to a SELECT tree; `false` when it is already there.
fn insert(nodes: &mut Vec<Node>, rels: &[&'static RelDef], field: &'static FieldDef) -> bool {
    match rels.split_first() {
        None => {
            if nodes.iter().any(|n| matches!(n, Node::Field(f) if f.name == field.name)) {
                return false;
            }
            nodes.push(Node::Field(field));
            true
        }
        Some((r, _)) if r.is_polymorphic() => {
            let i = match nodes.iter().position(|n| matches!(n, Node::Poly(x, _) if x.name == r.name)) {
                Some(i) => i,
                None => {
                    nodes.push(Node::Poly(r, Vec::new()));
                    nodes.len() - 1
                }
            };
            let Node::Poly(_, fields) = &mut nodes[i] else { unreachable!() };
            if fields.iter().any(|f| f.name == field.name) {
                return false;
            }
            fields.push(field);
            true
        }
        Some((r, rest)) => {
            let i = match nodes.iter().position(|n| matches!(n, Node::Rel(x, _) if x.name == r.name)) {
                Some(i) => i,
                None => {
                    nodes.push(Node::Rel(r, Vec::new()));
                    nodes.len() - 1
                }
            };
            let Node::Rel(_, kids) = &mut nodes[i] else { unreachable!() };
            insert(kids, rest, field)
        }
    }
}

fn type_name(t: FieldType) -> &'static str {
    match t {
        FieldType::Id | FieldType::Reference => "id",
        FieldType::Text | FieldType::MultiPicklist | FieldType::Compound => "string",
        FieldType::Boolean => "boolean",
        FieldType::DateTime => "dateTime",
        FieldType::Date => "date",
        FieldType::Number => "double",
    }
}

/// Type-check one literal against its field; date literals become [`Literal::Range`] in the
/// field's unit at `now_ms`.
fn check_literal(text: &str, path: &Path, lit: &Spanned<Literal>, now_ms: i64) -> Result<Literal, SoqlError> {
    let f = path.field;
    let ty = f.ty();
    let ok = match (&lit.v, ty) {
        (Literal::Null, _) => true,
        (Literal::Str(s), FieldType::Id | FieldType::Reference) => {
            if !ids::looks_like_id(s) {
                return Err(SoqlError {
                    code: "INVALID_QUERY_FILTER_OPERATOR",
                    message: soql::positioned(text, lit.pos, &format!("invalid ID field: {s}")),
                });
            }
            true
        }
        (Literal::Str(_), FieldType::Text | FieldType::MultiPicklist) => true,
        (Literal::Bool(_), FieldType::Boolean) => true,
        (Literal::DateTime(_), FieldType::DateTime) => true,
        (Literal::Date(_), FieldType::Date) => true,
        (Literal::Number(_), FieldType::Number) => true,
        (Literal::DateLiteral(name, n), FieldType::Date | FieldType::DateTime) => {
            let (start, end) = datelit::range(name, *n, now_ms).ok_or_else(|| malformed(text, lit.pos, &format!("unexpected token: {name}")))?;
            return Ok(if ty == FieldType::Date { Literal::Range(start, end) } else { Literal::Range(start * 86_400_000, end * 86_400_000) });
        }
        _ => false,
    };
    if ok {
        return Ok(lit.v.clone());
    }
    let quoted = if matches!(ty, FieldType::Text | FieldType::MultiPicklist | FieldType::Id | FieldType::Reference) {
        "should be enclosed in quotes"
    } else {
        "should not be enclosed in quotes"
    };
    Err(invalid_field(text, lit.pos, format!("value of filter criterion for field '{}' must be of type {} and {quoted}", f.name, type_name(ty))))
}

fn resolve_cond(text: &str, ent: SObject, c: &soql::Cond, now_ms: i64) -> Result<RCond, SoqlError> {
    let path = resolve_in(text, Ent::Obj(ent), &c.field)?;
    if !path.field.filterable {
        return Err(invalid_field(text, c.field.pos, format!("field '{}' can not be filtered in a query call", path.field.name)));
    }
    if matches!(c.op, Op::Includes | Op::Excludes) && path.field.ty() != FieldType::MultiPicklist {
        return Err(SoqlError {
            code: "INVALID_QUERY_FILTER_OPERATOR",
            message: soql::positioned(text, c.field.pos, "includes or excludes operator only valid on multipicklist field"),
        });
    }
    let mut values = Vec::with_capacity(c.values.len());
    for v in &c.values {
        let lit = check_literal(text, &path, v, now_ms)?;
        let range_op = matches!(c.op, Op::Lt | Op::Le | Op::Gt | Op::Ge | Op::Like);
        if matches!(lit, Literal::Null) && range_op {
            return Err(soql::unsupported("range or LIKE comparison with null"));
        }
        if matches!(lit, Literal::Range(..)) && matches!(c.op, Op::Like | Op::Includes | Op::Excludes) {
            return Err(malformed(text, v.pos, "unexpected token: date literal"));
        }
        values.push(lit);
    }
    Ok(RCond { path, op: c.op, values })
}

fn resolve_expr(text: &str, obj: SObject, e: &Expr, now_ms: i64) -> Result<RExpr, SoqlError> {
    Ok(match e {
        Expr::Cond(c) => RExpr::Cond(resolve_cond(text, obj, c, now_ms)?),
        Expr::And(v) => RExpr::And(v.iter().map(|x| resolve_expr(text, obj, x, now_ms)).collect::<Result<_, _>>()?),
        Expr::Or(v) => RExpr::Or(v.iter().map(|x| resolve_expr(text, obj, x, now_ms)).collect::<Result<_, _>>()?),
        Expr::Not(x) => RExpr::Not(Box::new(resolve_expr(text, obj, x, now_ms)?)),
    })
}

fn resolve_order(text: &str, obj: SObject, items: &[soql::OrderItem]) -> Result<Vec<ROrder>, SoqlError> {
    let mut order = Vec::new();
    for o in items {
        let path = resolve_in(text, Ent::Obj(obj), &o.field)?;
        if !path.field.sortable {
            return Err(invalid_field(text, o.field.pos, format!("field '{}' can not be sorted in a query call", path.field.name)));
        }
        order.push(ROrder { path, desc: o.desc, nulls_first: o.nulls_first.unwrap_or(!o.desc) });
    }
    Ok(order)
}

fn plan_sub(q: &Query, obj: SObject, s: &soql::SubQuery, now_ms: i64) -> Result<SubPlan, SoqlError> {
    let Some(rel) = obj.child_relationship(&s.from.v) else {
        return Err(SoqlError {
            code: "INVALID_TYPE",
            message: soql::positioned(&q.text, s.from.pos, &format!(
                "Didn't understand relationship '{}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.",
                s.from.v
            )),
        });
    };
    let mut nodes = Vec::new();
    for raw in &s.select {
        let p = resolve_in(&q.text, Ent::Obj(rel.child), raw)?;
        if !insert(&mut nodes, &p.rels, p.field) {
            return Err(malformed(&q.text, raw.pos, &format!("duplicate field selected: {}", raw.v)));
        }
    }
    let filter = s.filter.as_ref().map(|e| resolve_expr(&q.text, rel.child, e, now_ms)).transpose()?;
    let order = resolve_order(&q.text, rel.child, &s.order)?;
    Ok(SubPlan { rel, nodes, filter, order, limit: s.limit })
}

fn plan_typeof(q: &Query, obj: SObject, t: &soql::TypeOf) -> Result<Node, SoqlError> {
    let Some(rel) = obj.relationship(&t.rel.v) else { return Err(no_relationship(&q.text, t.rel.pos, &t.rel.v)) };
    if !rel.is_polymorphic() {
        return Err(malformed(&q.text, t.rel.pos, &format!("TYPEOF {} is only valid on a polymorphic relationship", t.rel.v)));
    }
    let mut whens = Vec::new();
    for (ty, fields) in &t.whens {
        let Some(target) = rel.targets.iter().copied().find(|o| o.name().eq_ignore_ascii_case(&ty.v)) else {
            return Err(malformed(&q.text, ty.pos, &format!("{} is not a type that {} can reference", ty.v, rel.name)));
        };
        let mut nodes = Vec::new();
        for raw in fields {
            let p = resolve_in(&q.text, Ent::Obj(target), raw)?;
            if !insert(&mut nodes, &p.rels, p.field) {
                return Err(malformed(&q.text, raw.pos, &format!("duplicate field selected: {}", raw.v)));
            }
        }
        whens.push((target, nodes));
    }
    let otherwise = match &t.otherwise {
        None => None,
        Some(fields) => Some(fields.iter().map(|raw| resolve_in(&q.text, Ent::Name, raw).map(|p| p.field)).collect::<Result<Vec<_>, _>>()?),
    };
    Ok(Node::TypeOf(rel, whens, otherwise))
}

fn plan_select(q: &Query, obj: SObject, now_ms: i64) -> Result<(Vec<Node>, Vec<SubPlan>), SoqlError> {
    let mut nodes = Vec::new();
    let mut subs = Vec::new();
    for item in &q.select {
        match item {
            SelectItem::Field(raw) => {
                let p = resolve(q, obj, raw)?;
                let clash = p.rels.first().is_some_and(|r| nodes.iter().any(|n| matches!(n, Node::TypeOf(x, ..) if x.name == r.name)));
                if clash || !insert(&mut nodes, &p.rels, p.field) {
                    return Err(malformed(&q.text, raw.pos, &format!("duplicate field selected: {}", raw.v)));
                }
            }
            SelectItem::Sub(s) => {
                subs.push(plan_sub(q, obj, s, now_ms)?);
                nodes.push(Node::Children(subs.len() - 1));
            }
            SelectItem::TypeOf(t) => {
                let node = plan_typeof(q, obj, t)?;
                let Node::TypeOf(rel, ..) = &node else { unreachable!() };
                let clash = nodes.iter().any(|n| matches!(n, Node::Poly(x, _) | Node::TypeOf(x, ..) if x.name == rel.name));
                if clash {
                    return Err(malformed(&q.text, t.rel.pos, &format!("duplicate field selected: {}", t.rel.v)));
                }
                nodes.push(node);
            }
            SelectItem::CountAll | SelectItem::CountField(_) => unreachable!("COUNT handled by the caller"),
        }
    }
    Ok((nodes, subs))
}

/// Resolve a parsed query against the schema at the current wall clock. `all_rows` is true for
/// `queryAll`.
pub fn plan(q: &Query, all_rows: bool) -> Result<Plan, SoqlError> {
    plan_at(q, all_rows, crate::time::now_ms())
}

/// Resolve a parsed query; date literals (`TODAY`, `LAST_N_DAYS:n`) are ranges around `now_ms`
/// (UTC, weeks start on Sunday, fiscal year = calendar year).
pub fn plan_at(q: &Query, all_rows: bool, now_ms: i64) -> Result<Plan, SoqlError> {
    let obj = SObject::from_name(&q.from.v).ok_or_else(|| SoqlError {
        code: "INVALID_TYPE",
        message: soql::positioned(&q.text, q.from.pos, &format!(
            "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
            q.from.v
        )),
    })?;
    let has_count = q.select.iter().any(|s| matches!(s, SelectItem::CountAll | SelectItem::CountField(_)));
    let (shape, subs) = if has_count {
        if q.select.len() != 1 {
            return Err(SoqlError {
                code: "MALFORMED_QUERY",
                message: "Aggregate functions cannot be mixed with plain fields without GROUP BY (sf-org-emulator supports COUNT() alone)".into(),
            });
        }
        if !q.order.is_empty() {
            return Err(malformed(&q.text, q.order[0].field.pos, "Ordered field must be grouped or aggregated"));
        }
        match &q.select[0] {
            SelectItem::CountAll => (Shape::CountAll, Vec::new()),
            SelectItem::CountField(f) => (Shape::CountField(resolve(q, obj, f)?), Vec::new()),
            _ => unreachable!(),
        }
    } else {
        let (nodes, subs) = plan_select(q, obj, now_ms)?;
        (Shape::Records(nodes), subs)
    };
    let filter = q.filter.as_ref().map(|e| resolve_expr(&q.text, obj, e, now_ms)).transpose()?;
    let order = resolve_order(&q.text, obj, &q.order)?;
    let offset = q.offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(SoqlError {
            code: "NUMBER_OUTSIDE_VALID_RANGE",
            message: format!("Maximum SOQL offset allowed for apiName {} is {MAX_OFFSET}", obj.name()),
        });
    }
    Ok(Plan { obj, shape, all_rows, subs, filter, order, limit: q.limit, offset })
}
