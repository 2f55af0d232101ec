//! Query execution: filtering (AND/OR/NOT, comparisons, LIKE, IN, INCLUDES, date ranges), ordering,
//! OFFSET/LIMIT, and the rows of child subqueries.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::{Path, Plan, RCond, RExpr, ROrder, Shape, SubPlan};
use crate::data::{Dataset, FieldType, Overlay, Rec, SObject, Val};
use crate::ids;
use crate::soql::{Literal, Op};

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
    if path.via_name {
        return ds.name_value(cur, path.field.name).normalize();
    }
    ds.field_value(cur, path.field).normalize()
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
        (Val::Str(a), Literal::Str(b)) => Some(match ty {
            FieldType::Id | FieldType::Reference => a.as_ref().cmp(ids::to_18(b).as_str()),
            FieldType::MultiPicklist => return (set_of(a) == set_of(b)).then_some(Ordering::Equal).or(Some(Ordering::Less)),
            _ => a.to_lowercase().cmp(&b.to_lowercase()),
        }),
        (Val::Bool(a), Literal::Bool(b)) => Some(a.cmp(b)),
        (Val::DateTime(a), Literal::DateTime(b)) => Some(a.cmp(b)),
        (Val::Date(a), Literal::Date(b)) => Some(a.cmp(b)),
        (Val::Num(a), Literal::Number(b)) => a.parse::<f64>().ok()?.partial_cmp(&b.parse::<f64>().ok()?),
        _ => None,
    }
}

fn set_of(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.split(';').map(|x| x.trim().to_lowercase()).filter(|x| !x.is_empty()).collect();
    v.sort();
    v.dedup();
    v
}

/// SOQL LIKE: `%` any run, `_` one character, `\%` / `\_` literal; case-insensitive.
fn like(value: &str, pattern: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum P {
        Any,
        One,
        Ch(char),
    }
    let mut pat = Vec::new();
    let mut it = pattern.chars().flat_map(char::to_lowercase).peekable();
    while let Some(c) = it.next() {
        pat.push(match c {
            '\\' if matches!(it.peek(), Some('%' | '_')) => P::Ch(it.next().expect("peeked")),
            '%' => P::Any,
            '_' => P::One,
            c => P::Ch(c),
        });
    }
    let text: Vec<char> = value.chars().flat_map(char::to_lowercase).collect();
    // Classic wildcard matching with backtracking to the last `%`.
    let (mut t, mut p, mut star, mut mark) = (0, 0, None, 0);
    while t < text.len() {
        if p < pat.len() && (pat[p] == P::One || pat[p] == P::Ch(text[t])) {
            t += 1;
            p += 1;
        } else if p < pat.len() && pat[p] == P::Any {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|x| *x == P::Any)
}

fn in_range(v: &Val<'_>, op: Op, start: i64, end: i64) -> bool {
    let x = match v {
        Val::Date(d) => *d,
        Val::DateTime(ms) => *ms,
        _ => return op == Op::Ne,
    };
    match op {
        Op::Eq | Op::In => (start..end).contains(&x),
        Op::Ne | Op::NotIn => !(start..end).contains(&x),
        Op::Lt => x < start,
        Op::Le => x < end,
        Op::Gt => x >= end,
        Op::Ge => x >= start,
        Op::Like | Op::Includes | Op::Excludes => false,
    }
}

fn eq_any(v: &Val<'_>, c: &RCond) -> bool {
    let ty = c.path.field.ty();
    c.values.iter().any(|l| match l {
        Literal::Range(s, e) => in_range(v, Op::Eq, *s, *e),
        _ => cmp_val_lit(v, l, ty) == Some(Ordering::Equal),
    })
}

fn includes(v: &Val<'_>, c: &RCond) -> bool {
    let Val::Str(s) = v else { return false };
    let have = set_of(s);
    c.values.iter().any(|l| matches!(l, Literal::Str(want) if set_of(want).iter().all(|w| have.contains(w))))
}

fn matches(v: &Val<'_>, c: &RCond) -> bool {
    let ty = c.path.field.ty();
    if let [Literal::Range(s, e)] = c.values.as_slice() {
        return in_range(v, c.op, *s, *e);
    }
    match c.op {
        Op::In => eq_any(v, c),
        Op::NotIn => !eq_any(v, c),
        // `x != null` is true for non-null x; `x != 'a'` is true for null x.
        Op::Ne => cmp_val_lit(v, &c.values[0], ty) != Some(Ordering::Equal),
        Op::Like => match (v, &c.values[0]) {
            (Val::Str(s), Literal::Str(p)) => like(s, p),
            _ => false,
        },
        Op::Includes => includes(v, c),
        Op::Excludes => !includes(v, c),
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

/// Evaluate `e` with `get` supplying path values.
fn eval(e: &RExpr, get: &mut dyn FnMut(&Path) -> Val<'static>) -> bool {
    match e {
        RExpr::Cond(c) => matches(&get(&c.path), c),
        RExpr::And(v) => v.iter().all(|x| eval(x, get)),
        RExpr::Or(v) => v.iter().any(|x| eval(x, get)),
        RExpr::Not(x) => !eval(x, get),
    }
}

/// Whether row `idx` of `obj` passes `filter` (generating the record only when needed).
fn passes(ds: &Dataset, ov: &Overlay, obj: SObject, idx: u64, filter: &[&RExpr]) -> bool {
    let mut rec: Option<Rec> = None;
    let mut get = |p: &Path| match cheap(ds, ov, obj, idx, p) {
        Some(v) => v,
        None => path_value(ds, ov, rec.get_or_insert_with(|| ds.record(ov, obj, idx)), p),
    };
    filter.iter().all(|e| eval(e, &mut get))
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

/// Sort `idxs` of `obj` by `order` (ties by index = Id order).
fn sort_rows(ds: &Dataset, ov: &Overlay, obj: SObject, order: &[ROrder], idxs: impl Iterator<Item = u64>) -> Vec<u32> {
    let mut rows: Vec<(Vec<Key>, u32)> = idxs
        .map(|idx| {
            let mut rec: Option<Rec> = None;
            let keys = order
                .iter()
                .map(|o| {
                    let v = match cheap(ds, ov, obj, idx, &o.path) {
                        Some(v) => v,
                        None => path_value(ds, ov, rec.get_or_insert_with(|| ds.record(ov, obj, idx)), &o.path),
                    };
                    key_of(v, o.path.field.ty())
                })
                .collect();
            (keys, idx as u32)
        })
        .collect();
    rows.sort_by(|a, b| {
        for (i, o) in order.iter().enumerate() {
            let c = cmp_key(&a.0[i], &b.0[i], o);
            if c != Ordering::Equal {
                return c;
            }
        }
        a.1.cmp(&b.1)
    });
    rows.into_iter().map(|r| r.1).collect()
}

/// The top-level conditions of a filter (its AND list, or itself).
fn conjuncts(filter: &Option<RExpr>) -> Vec<&RExpr> {
    match filter {
        None => Vec::new(),
        Some(RExpr::And(v)) => v.iter().collect(),
        Some(e) => vec![e],
    }
}

/// Execute a plan: the matching rows after ORDER BY, OFFSET and LIMIT.
pub fn execute(ds: &Dataset, ov: &Overlay, plan: &Plan) -> Rows {
    let obj = plan.obj;
    let n = ds.count(obj);
    // Narrow by Id range conditions at the top level (Ids ascend with the index).
    let (mut lo, mut hi) = (0u64, n);
    let mut residual: Vec<&RExpr> = Vec::new();
    for e in conjuncts(&plan.filter) {
        let narrowed = match e {
            RExpr::Cond(c) if c.path.rels.is_empty() && c.path.field.ty() == FieldType::Id => match (c.op, c.values.first()) {
                (Op::Eq | Op::Gt | Op::Ge | Op::Lt | Op::Le, Some(Literal::Str(s))) => {
                    let lit = ids::to_18(s);
                    match c.op {
                        Op::Eq => {
                            lo = lo.max(ds.id_lower_bound(obj, &lit));
                            hi = hi.min(ds.id_upper_bound(obj, &lit));
                        }
                        Op::Gt => lo = lo.max(ds.id_upper_bound(obj, &lit)),
                        Op::Ge => lo = lo.max(ds.id_lower_bound(obj, &lit)),
                        Op::Lt => hi = hi.min(ds.id_lower_bound(obj, &lit)),
                        _ => hi = hi.min(ds.id_upper_bound(obj, &lit)),
                    }
                    true
                }
                _ => false,
            },
            _ => false,
        };
        if !narrowed {
            residual.push(e);
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
    let keep = |idx: u64| -> bool {
        if skip_deleted && ov.is_deleted(obj, idx) {
            return false;
        }
        residual.is_empty() || passes(ds, ov, obj, idx, &residual)
    };

    if let Some(desc) = natural {
        if residual.is_empty() && !skip_deleted {
            let total = hi - lo;
            let start = offset.min(total);
            let end = want.map_or(total, |w| w.min(total)).max(start);
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
    if matches!(plan.shape, Shape::CountAll | Shape::CountField(_)) {
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
    let rows = sort_rows(ds, ov, obj, &plan.order, (lo..hi).filter(|&idx| keep(idx)));
    let start = (offset as usize).min(rows.len());
    let end = want.map_or(rows.len(), |w| (w as usize).min(rows.len())).max(start);
    Rows::List(rows[start..end].to_vec())
}

/// The rows of child subquery `sub` under `parent`: the children through the relationship's
/// lookup, without soft-deleted ones unless `all_rows`, filtered, ordered (Id order by default)
/// and limited.
pub fn children_rows(ds: &Dataset, ov: &Overlay, sub: &SubPlan, parent: (SObject, u64), all_rows: bool) -> Vec<u32> {
    let child = sub.rel.child;
    let index = ds.child_index(child, sub.rel.field);
    let filter = conjuncts(&sub.filter);
    let kept = index
        .of(parent)
        .iter()
        .map(|&i| i as u64)
        .filter(|&i| all_rows || !ov.is_deleted(child, i))
        .filter(|&i| filter.is_empty() || passes(ds, ov, child, i, &filter));
    let mut rows: Vec<u32> = if sub.order.is_empty() { kept.map(|i| i as u32).collect() } else { sort_rows(ds, ov, child, &sub.order, kept) };
    if let Some(l) = sub.limit {
        rows.truncate(l as usize);
    }
    rows
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

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn like_patterns() {
        assert!(like("Acme Corp", "acme%"));
        assert!(like("Acme Corp", "%CORP"));
        assert!(like("Acme Corp", "A_me%"));
        assert!(!like("Acme Corp", "A_e%"));
        assert!(like("100% sure", "100\\% %"));
        assert!(!like("1000 sure", "100\\%%"));
        assert!(like("a_b", "a\\_b"));
        assert!(!like("axb", "a\\_b"));
        assert!(like("Zoë Müller", "zoë%"));
        assert!(like("", "%"));
        assert!(!like("", "_"));
    }
}
