//! Query planning, execution and rendering [salesforce-api.md §4].
//!
//! Results are held as row indices (a contiguous span when possible, so a 1,000,000-row result costs
//! a few bytes); pages are rendered straight into a JSON string, record by record, without building a
//! `serde_json::Value` tree.

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::data::{Dataset, FieldDef, FieldType, Overlay, Rec, RelDef, SObject, Val};
use crate::ids;
use crate::soql::{self, Literal, Op, Query, SelectItem, SoqlError};

/// Maximum OFFSET [salesforce-api.md §4 "OFFSET"].
pub const MAX_OFFSET: u64 = 2000;

/// A field path resolved against the schema.
#[derive(Debug, Clone)]
pub struct Path {
    /// Relationships walked from the queried object.
    pub rels: Vec<&'static RelDef>,
    /// The final field.
    pub field: &'static FieldDef,
}

/// A SELECT tree node: a field, or a parent relationship with its own selected fields.
#[derive(Debug, Clone)]
pub enum Node {
    /// A field of the current object.
    Field(&'static FieldDef),
    /// A parent object (`"Account": {…}` or `"Account": null`).
    Rel(&'static RelDef, Vec<Node>),
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
struct RCond {
    path: Path,
    op: Op,
    values: Vec<Literal>,
}

#[derive(Debug, Clone)]
struct ROrder {
    path: Path,
    desc: bool,
    nulls_first: bool,
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
    conds: Vec<RCond>,
    order: Vec<ROrder>,
    limit: Option<u64>,
    offset: u64,
}

/// The rows of a result, in result order.
#[derive(Debug, Clone)]
pub enum Rows {
    /// Indices `lo..hi` ascending.
    Asc(u64, u64),
    /// Indices `lo..hi` descending.
    Desc(u64, u64),
    /// Explicit indices.
    List(Vec<u32>),
}

impl Rows {
    /// Number of rows.
    pub fn len(&self) -> u64 {
        match self {
            Rows::Asc(lo, hi) | Rows::Desc(lo, hi) => hi.saturating_sub(*lo),
            Rows::List(v) => v.len() as u64,
        }
    }
    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Row `i` (must be `< len()`).
    pub fn get(&self, i: u64) -> u64 {
        match self {
            Rows::Asc(lo, _) => lo + i,
            Rows::Desc(_, hi) => hi - 1 - i,
            Rows::List(v) => v[i as usize] as u64,
        }
    }
}

fn invalid_field(q: &Query, pos: usize, detail: String) -> SoqlError {
    SoqlError { code: "INVALID_FIELD", message: soql::positioned(&q.text, pos, &detail) }
}

fn resolve(q: &Query, obj: SObject, raw: &soql::Spanned<String>) -> Result<Path, SoqlError> {
    let mut segs: Vec<&str> = raw.v.split('.').collect();
    if segs.len() > 1 && segs[0].eq_ignore_ascii_case(obj.name()) && obj.relationship(segs[0]).is_none() {
        segs.remove(0); // object-qualified: `contact.owner.alias`
    }
    let mut cur = obj;
    let mut rels = Vec::new();
    for seg in &segs[..segs.len() - 1] {
        match cur.relationship(seg) {
            Some(r) => {
                rels.push(r);
                cur = r.target;
            }
            None => {
                return Err(invalid_field(q, raw.pos, format!(
                    "Didn't understand relationship '{seg}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
                )));
            }
        }
    }
    let last = segs[segs.len() - 1];
    match cur.field(last) {
        Some(field) => Ok(Path { rels, field }),
        None => Err(invalid_field(q, raw.pos, format!(
            "No such column '{last}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
            cur.name()
        ))),
    }
}

fn insert(nodes: &mut Vec<Node>, rels: &[&'static RelDef], field: &'static FieldDef) -> bool {
    match rels.split_first() {
        None => {
            if nodes.iter().any(|n| matches!(n, Node::Field(f) if f.name == field.name)) {
                return false;
            }
            nodes.push(Node::Field(field));
            true
        }
        Some((r, rest)) => {
            let pos = nodes.iter().position(|n| matches!(n, Node::Rel(x, _) if x.name == r.name));
            let i = match pos {
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
        FieldType::Text => "string",
        FieldType::Boolean => "boolean",
        FieldType::DateTime => "dateTime",
        FieldType::Date => "date",
        FieldType::Number => "double",
    }
}

fn check_literal(q: &Query, path: &Path, lit: &soql::Spanned<Literal>) -> Result<(), SoqlError> {
    let f = path.field;
    let ok = match (&lit.v, f.ty) {
        (Literal::Null, _) => true,
        (Literal::Str(s), FieldType::Id | FieldType::Reference) => {
            if !ids::looks_like_id(s) {
                return Err(SoqlError {
                    code: "INVALID_QUERY_FILTER_OPERATOR",
                    message: soql::positioned(&q.text, lit.pos, &format!("invalid ID field: {s}")),
                });
            }
            true
        }
        (Literal::Str(_), FieldType::Text) => true,
        (Literal::Bool(_), FieldType::Boolean) => true,
        (Literal::DateTime(_), FieldType::DateTime) => true,
        (Literal::Date(_), FieldType::Date) => true,
        (Literal::Number(_), FieldType::Number) => true,
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let quoted = if f.ty == FieldType::Text || matches!(f.ty, FieldType::Id | FieldType::Reference) {
        "should be enclosed in quotes"
    } else {
        "should not be enclosed in quotes"
    };
    Err(invalid_field(q, lit.pos, format!(
        "value of filter criterion for field '{}' must be of type {} and {quoted}",
        f.name,
        type_name(f.ty)
    )))
}

/// Resolve a parsed query against the schema. `all_rows` is true for `queryAll`.
pub fn plan(q: &Query, all_rows: bool) -> Result<Plan, SoqlError> {
    let obj = SObject::from_name(&q.from.v).ok_or_else(|| SoqlError {
        code: "INVALID_TYPE",
        message: soql::positioned(&q.text, q.from.pos, &format!(
            "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
            q.from.v
        )),
    })?;
    let has_count = q.select.iter().any(|s| !matches!(s, SelectItem::Field(_)));
    let shape = if has_count {
        if q.select.len() != 1 {
            return Err(SoqlError {
                code: "MALFORMED_QUERY",
                message: "Aggregate functions cannot be mixed with plain fields without GROUP BY (sf-org-emulator supports COUNT() alone)".into(),
            });
        }
        if !q.order.is_empty() {
            let pos = q.order[0].field.pos;
            return Err(SoqlError {
                code: "MALFORMED_QUERY",
                message: soql::positioned(&q.text, pos, "Ordered field must be grouped or aggregated"),
            });
        }
        match &q.select[0] {
            SelectItem::CountAll => Shape::CountAll,
            SelectItem::CountField(f) => Shape::CountField(resolve(q, obj, f)?),
            SelectItem::Field(_) => unreachable!(),
        }
    } else {
        let mut nodes = Vec::new();
        for item in &q.select {
            let SelectItem::Field(raw) = item else { unreachable!() };
            let p = resolve(q, obj, raw)?;
            if !insert(&mut nodes, &p.rels, p.field) {
                return Err(SoqlError { code: "MALFORMED_QUERY", message: format!("duplicate field selected: {}", raw.v) });
            }
        }
        Shape::Records(nodes)
    };
    let mut conds = Vec::new();
    for c in &q.conds {
        let path = resolve(q, obj, &c.field)?;
        for v in &c.values {
            check_literal(q, &path, v)?;
            if matches!(v.v, Literal::Null) && !matches!(c.op, Op::Eq | Op::Ne | Op::In | Op::NotIn) {
                return Err(soql::unsupported("range comparison with null"));
            }
        }
        conds.push(RCond { path, op: c.op, values: c.values.iter().map(|v| v.v.clone()).collect() });
    }
    let mut order = Vec::new();
    for o in &q.order {
        let path = resolve(q, obj, &o.field)?;
        if !path.field.sortable {
            return Err(SoqlError {
                code: "INVALID_FIELD",
                message: soql::positioned(&q.text, o.field.pos, &format!("field '{}' can not be sorted in a query call", path.field.name)),
            });
        }
        order.push(ROrder { path, desc: o.desc, nulls_first: o.nulls_first.unwrap_or(!o.desc) });
    }
    let offset = q.offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(SoqlError {
            code: "NUMBER_OUTSIDE_VALID_RANGE",
            message: format!("Maximum SOQL offset allowed for apiName {} is {MAX_OFFSET}", obj.name()),
        });
    }
    Ok(Plan { obj, shape, all_rows, conds, order, limit: q.limit, offset })
}

/// Value of a path on a record (walking parents). Owned, for comparisons.
pub fn path_value(ds: &Dataset, ov: &Overlay, rec: &Rec, path: &Path) -> Val<'static> {
    let mut owned;
    let mut cur = rec;
    for r in &path.rels {
        match ds.parent(cur, r) {
            Some((o, i)) => {
                owned = ds.record(ov, o, i);
                cur = &owned;
            }
            None => return Val::Null,
        }
    }
    ds.value(cur, path.field.name).normalize()
}

/// Cheap values computable without generating the record.
fn cheap(ds: &Dataset, ov: &Overlay, obj: SObject, idx: u64, path: &Path) -> Option<Val<'static>> {
    if !path.rels.is_empty() {
        return None;
    }
    Some(match path.field.name {
        "Id" => Val::Str(Cow::Owned(ds.id(obj, idx))),
        "CreatedDate" => Val::DateTime(ds.created(obj, idx)),
        "SystemModstamp" | "LastModifiedDate" => Val::DateTime(ds.modstamp(ov, obj, idx)),
        "IsDeleted" => Val::Bool(ov.is_deleted(obj, idx)),
        _ => return None,
    })
}

fn cmp_val_lit(v: &Val<'_>, lit: &Literal, ty: FieldType) -> Option<Ordering> {
    match (v, lit) {
        (Val::Null, Literal::Null) => Some(Ordering::Equal),
        (Val::Null, _) | (_, Literal::Null) => None,
        (Val::Str(a), Literal::Str(b)) => Some(if matches!(ty, FieldType::Id | FieldType::Reference) {
            a.as_ref().cmp(ids::to_18(b).as_str())
        } else {
            a.to_lowercase().cmp(&b.to_lowercase())
        }),
        (Val::Bool(a), Literal::Bool(b)) => Some(a.cmp(b)),
        (Val::DateTime(a), Literal::DateTime(b)) => Some(a.cmp(b)),
        (Val::Date(a), Literal::Date(b)) => Some(a.cmp(b)),
        (Val::Num(a), Literal::Number(b)) => a.parse::<f64>().ok()?.partial_cmp(&b.parse::<f64>().ok()?),
        _ => None,
    }
}

fn matches(v: &Val<'_>, c: &RCond) -> bool {
    let ty = c.path.field.ty;
    match c.op {
        Op::In => c.values.iter().any(|l| cmp_val_lit(v, l, ty) == Some(Ordering::Equal)),
        Op::NotIn => !c.values.iter().any(|l| cmp_val_lit(v, l, ty) == Some(Ordering::Equal)),
        Op::Ne => {
            // `x != null` is true for non-null x; `x != 'a'` is true for null x.
            cmp_val_lit(v, &c.values[0], ty) != Some(Ordering::Equal)
        }
        op => match cmp_val_lit(v, &c.values[0], ty) {
            None => false,
            Some(o) => match op {
                Op::Eq => o == Ordering::Equal,
                Op::Lt => o == Ordering::Less,
                Op::Le => o != Ordering::Greater,
                Op::Gt => o == Ordering::Greater,
                Op::Ge => o != Ordering::Less,
                _ => unreachable!(),
            },
        },
    }
}

#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Key {
    Null,
    S(String),
    I(i64),
    F(f64),
    B(bool),
}

fn key_of(v: Val<'_>, ty: FieldType) -> Key {
    match v.normalize() {
        Val::Null => Key::Null,
        Val::Str(s) if matches!(ty, FieldType::Id | FieldType::Reference) => Key::S(s.into_owned()),
        Val::Str(s) => Key::S(s.to_lowercase()),
        Val::Bool(b) => Key::B(b),
        Val::DateTime(x) | Val::Date(x) => Key::I(x),
        Val::Num(n) => Key::F(n.parse().unwrap_or(0.0)),
        Val::Id(_) | Val::Fmt(_) | Val::FmtNum(_) => unreachable!("normalized"),
    }
}

fn cmp_key(a: &Key, b: &Key, o: &ROrder) -> Ordering {
    let ord = match (a, b) {
        (Key::Null, Key::Null) => Ordering::Equal,
        (Key::Null, _) => return if o.nulls_first { Ordering::Less } else { Ordering::Greater },
        (_, Key::Null) => return if o.nulls_first { Ordering::Greater } else { Ordering::Less },
        _ => a.partial_cmp(b).unwrap_or(Ordering::Equal),
    };
    if o.desc { ord.reverse() } else { ord }
}

/// Execute a plan: the matching rows after ORDER BY, OFFSET and LIMIT.
pub fn execute(ds: &Dataset, ov: &Overlay, plan: &Plan) -> Rows {
    let obj = plan.obj;
    let n = ds.count(obj);
    // Narrow by Id range conditions (Ids ascend with the index).
    let (mut lo, mut hi) = (0u64, n);
    let mut residual: Vec<&RCond> = Vec::new();
    for c in &plan.conds {
        let lit = match c.values.first() {
            Some(Literal::Str(s)) if c.path.rels.is_empty() && c.path.field.ty == FieldType::Id => ids::to_18(s),
            _ => {
                residual.push(c);
                continue;
            }
        };
        match c.op {
            Op::Eq => {
                lo = lo.max(ds.id_lower_bound(obj, &lit));
                hi = hi.min(ds.id_upper_bound(obj, &lit));
            }
            Op::Gt => lo = lo.max(ds.id_upper_bound(obj, &lit)),
            Op::Ge => lo = lo.max(ds.id_lower_bound(obj, &lit)),
            Op::Lt => hi = hi.min(ds.id_lower_bound(obj, &lit)),
            Op::Le => hi = hi.min(ds.id_upper_bound(obj, &lit)),
            _ => residual.push(c),
        }
    }
    let hi = hi.max(lo);
    let skip_deleted = !plan.all_rows && obj.soft_deletable() && ov.any_deleted(obj);
    let natural = match plan.order.first() {
        None => Some(false),
        Some(o) if o.path.rels.is_empty() && matches!(o.path.field.name, "Id" | "CreatedDate") => Some(o.desc),
        Some(_) => None,
    };
    let offset = plan.offset;
    let want = plan.limit.map(|l| l.saturating_add(offset));
    let count_only = matches!(plan.shape, Shape::CountAll | Shape::CountField(_));

    let keep = |idx: u64| -> bool {
        if skip_deleted && ov.is_deleted(obj, idx) {
            return false;
        }
        if residual.is_empty() {
            return true;
        }
        let mut rec: Option<Rec> = None;
        for c in &residual {
            let v = match cheap(ds, ov, obj, idx, &c.path) {
                Some(v) => v,
                None => {
                    let r = rec.get_or_insert_with(|| ds.record(ov, obj, idx));
                    path_value(ds, ov, r, &c.path)
                }
            };
            if !matches(&v, c) {
                return false;
            }
        }
        true
    };

    if let Some(desc) = natural {
        if residual.is_empty() && !skip_deleted {
            let total = hi - lo;
            let start = offset.min(total);
            let end = want.map_or(total, |w| w.min(total));
            let end = end.max(start);
            return if desc { Rows::Desc(hi - end, hi - start) } else { Rows::Asc(lo + start, lo + end) };
        }
        let mut out = Vec::new();
        let mut push = |idx: u64| -> bool {
            if keep(idx) {
                out.push(idx as u32);
            }
            want.is_none_or(|w| (out.len() as u64) < w)
        };
        if desc {
            for idx in (lo..hi).rev() {
                if !push(idx) {
                    break;
                }
            }
        } else {
            for idx in lo..hi {
                if !push(idx) {
                    break;
                }
            }
        }
        let start = (offset as usize).min(out.len());
        out.drain(..start);
        return Rows::List(out);
    }
    if count_only {
        unreachable!("COUNT() plans have no ORDER BY");
    }
    // Fast path for the incremental-export order: a dateTime field of the object itself, optionally
    // followed by Id (Ids ascend with the index), sorted as (i64, u32) pairs without allocation.
    let simple_dt = |o: &ROrder| o.path.rels.is_empty() && matches!(o.path.field.name, "SystemModstamp" | "LastModifiedDate" | "CreatedDate");
    let fast = match plan.order.as_slice() {
        [a] if simple_dt(a) => Some((a.desc, false)),
        [a, b] if simple_dt(a) && b.path.rels.is_empty() && b.path.field.name == "Id" => Some((a.desc, b.desc)),
        _ => None,
    };
    if let Some((desc_t, desc_id)) = fast {
        let field = plan.order[0].path.field.name;
        let mut pairs: Vec<(i64, u32)> = (lo..hi)
            .filter(|&idx| keep(idx))
            .map(|idx| {
                let t = if field == "CreatedDate" { ds.created(obj, idx) } else { ds.modstamp(ov, obj, idx) };
                (t, idx as u32)
            })
            .collect();
        pairs.sort_unstable_by(|a, b| {
            let t = if desc_t { b.0.cmp(&a.0) } else { a.0.cmp(&b.0) };
            t.then_with(|| if desc_id { b.1.cmp(&a.1) } else { a.1.cmp(&b.1) })
        });
        let start = (offset as usize).min(pairs.len());
        let end = want.map_or(pairs.len(), |w| (w as usize).min(pairs.len())).max(start);
        return Rows::List(pairs[start..end].iter().map(|p| p.1).collect());
    }
    let mut rows: Vec<(Vec<Key>, u32)> = Vec::new();
    for idx in lo..hi {
        if !keep(idx) {
            continue;
        }
        let mut rec: Option<Rec> = None;
        let keys = plan
            .order
            .iter()
            .map(|o| {
                let v = match cheap(ds, ov, obj, idx, &o.path) {
                    Some(v) => v,
                    None => {
                        let r = rec.get_or_insert_with(|| ds.record(ov, obj, idx));
                        path_value(ds, ov, r, &o.path)
                    }
                };
                key_of(v, o.path.field.ty)
            })
            .collect();
        rows.push((keys, idx as u32));
    }
    rows.sort_by(|a, b| {
        for (i, o) in plan.order.iter().enumerate() {
            let c = cmp_key(&a.0[i], &b.0[i], o);
            if c != Ordering::Equal {
                return c;
            }
        }
        a.1.cmp(&b.1)
    });
    let start = (offset as usize).min(rows.len());
    let end = want.map_or(rows.len(), |w| (w as usize).min(rows.len())).max(start);
    Rows::List(rows[start..end].iter().map(|r| r.1).collect())
}

/// Append the JSON of record `idx` with the selected `nodes`; `version` is like `v66.0`.
pub fn render_record(ds: &Dataset, ov: &Overlay, obj: SObject, idx: u64, nodes: &[Node], version: &str, out: &mut String) {
    let rec = ds.record(ov, obj, idx);
    render_rec(ds, ov, &rec, nodes, version, out);
}

fn render_rec(ds: &Dataset, ov: &Overlay, rec: &Rec, nodes: &[Node], version: &str, out: &mut String) {
    out.push_str("{\"attributes\":{\"type\":\"");
    out.push_str(rec.obj.name());
    out.push_str("\",\"url\":\"/services/data/");
    out.push_str(version);
    out.push_str("/sobjects/");
    out.push_str(rec.obj.name());
    out.push('/');
    out.push_str(rec.id.as_str());
    out.push_str("\"}");
    for node in nodes {
        out.push_str(",\"");
        match node {
            Node::Field(f) => {
                out.push_str(f.name);
                out.push_str("\":");
                ds.value(rec, f.name).write_json(out);
            }
            Node::Rel(r, kids) => {
                out.push_str(r.name);
                out.push_str("\":");
                match ds.parent(rec, r) {
                    None => out.push_str("null"),
                    Some((o, i)) => {
                        let parent = ds.record(ov, o, i);
                        render_rec(ds, ov, &parent, kids, version, out);
                    }
                }
            }
        }
    }
    out.push('}');
}

/// The `COUNT(field)` value: rows where the field is not null.
pub fn count_field(ds: &Dataset, ov: &Overlay, plan: &Plan, rows: &Rows, path: &Path) -> u64 {
    (0..rows.len())
        .filter(|&i| {
            let rec = ds.record(ov, plan.obj, rows.get(i));
            path_value(ds, ov, &rec, path) != Val::Null
        })
        .count() as u64
}
