//! Rendering records as Salesforce's JSON: `attributes` first, then the selected fields in SELECT
//! order; parents nested with their own `attributes` (or `null`); polymorphic parents without
//! TYPEOF typed `Name`; compound address/geolocation fields as JSON objects; child subqueries as
//! nested query results with their own cursor.

use super::{Node, SubPlan, children_rows};
use crate::data::{Dataset, FieldDef, Kind, Overlay, Rec, SObject, Val, write_json_str};

/// Keys of an address compound value and the component suffixes they come from, in the order
/// Salesforce emits them (alphabetical; captured REST responses, see README "Facts").
const ADDRESS_KEYS: &[(&str, &str)] = &[
    ("city", "City"),
    ("country", "Country"),
    ("geocodeAccuracy", "GeocodeAccuracy"),
    ("latitude", "Latitude"),
    ("longitude", "Longitude"),
    ("postalCode", "PostalCode"),
    ("state", "State"),
    ("street", "Street"),
];

/// A rendering context: the data, the API version of the URLs, the plan's subqueries and how a
/// child cursor is registered.
pub struct Render<'a> {
    /// The data.
    pub ds: &'a Dataset,
    /// Its mutations.
    pub ov: &'a Overlay,
    /// API version of `attributes.url` and `nextRecordsUrl` (`v66.0`).
    pub version: &'a str,
    /// The plan's child subqueries.
    pub subs: &'a [SubPlan],
    /// `queryAll`: children include soft-deleted rows.
    pub all_rows: bool,
    /// Child rows returned inline per parent; the rest behind the child's `nextRecordsUrl`.
    pub child_batch: u64,
    /// Register a child cursor holding all rows of a subquery (the first `child_batch` were sent
    /// inline); returns its query locator.
    pub register: &'a mut dyn FnMut(&SubPlan, Vec<u32>) -> String,
}

/// Append the JSON of record `idx` with the selected `nodes` (no child subqueries); `version` is
/// like `v66.0`.
pub fn render_record(ds: &Dataset, ov: &Overlay, obj: SObject, idx: u64, nodes: &[Node], version: &str, out: &mut String) {
    let mut none = |_: &SubPlan, _: Vec<u32>| String::new();
    let mut r = Render { ds, ov, version, subs: &[], all_rows: false, child_batch: 0, register: &mut none };
    r.record(obj, idx, nodes, out);
}

fn attributes(ty: &str, url_type: &str, id: &str, version: &str, out: &mut String) {
    out.push_str("{\"attributes\":{\"type\":\"");
    out.push_str(ty);
    out.push_str("\",\"url\":\"/services/data/");
    out.push_str(version);
    out.push_str("/sobjects/");
    out.push_str(url_type);
    out.push('/');
    out.push_str(id);
    out.push_str("\"}");
}

fn key(name: &str, out: &mut String) {
    out.push_str(",\"");
    out.push_str(name);
    out.push_str("\":");
}

impl Render<'_> {
    /// Append the JSON of record `idx` of `obj`; returns the number of child rows rendered inline
    /// (they count toward the page size [salesforce-api.md §4 "Batch size"]).
    pub fn record(&mut self, obj: SObject, idx: u64, nodes: &[Node], out: &mut String) -> u64 {
        let rec = self.ds.record(self.ov, obj, idx);
        self.rec(&rec, nodes, out)
    }

    fn rec(&mut self, rec: &Rec, nodes: &[Node], out: &mut String) -> u64 {
        attributes(rec.obj.name(), rec.obj.name(), rec.id.as_str(), self.version, out);
        let mut inline = 0;
        for node in nodes {
            match node {
                Node::Field(f) => {
                    key(f.name, out);
                    self.field(rec, f, out);
                }
                Node::Rel(r, kids) => {
                    key(r.name, out);
                    match self.ds.parent(rec, r) {
                        None => out.push_str("null"),
                        Some((o, i)) => {
                            let parent = self.ds.record(self.ov, o, i);
                            self.rec(&parent, kids, out);
                        }
                    }
                }
                Node::Poly(r, fields) => {
                    key(r.name, out);
                    self.poly(rec, r.field, fields, out);
                }
                Node::TypeOf(r, whens, otherwise) => {
                    key(r.name, out);
                    match self.ds.parent(rec, r) {
                        None => out.push_str("null"),
                        Some((o, i)) => {
                            let parent = self.ds.record(self.ov, o, i);
                            match (whens.iter().find(|w| w.0 == o), otherwise) {
                                (Some((_, kids)), _) => {
                                    self.rec(&parent, kids, out);
                                }
                                (None, Some(fields)) => self.name_fields(&parent, o.name(), fields, out),
                                (None, None) => self.name_fields(&parent, o.name(), &[], out),
                            }
                        }
                    }
                }
                Node::Children(i) => {
                    let sub = &self.subs[*i];
                    key(sub.rel.name, out);
                    inline += self.children(rec, sub, out);
                }
            }
        }
        out.push('}');
        inline
    }

    /// A polymorphic parent without TYPEOF: `attributes.type` is `Name` and the URL names the
    /// concrete sObject (UNCONFIRMED, see README).
    fn poly(&mut self, rec: &Rec, lookup: &str, fields: &[&FieldDef], out: &mut String) {
        match self.ds.lookup(rec, lookup) {
            None => out.push_str("null"),
            Some((o, i)) => {
                let parent = self.ds.record(self.ov, o, i);
                self.name_fields(&parent, "Name", fields, out);
            }
        }
    }

    fn name_fields(&mut self, parent: &Rec, ty: &str, fields: &[&FieldDef], out: &mut String) {
        attributes(ty, parent.obj.name(), parent.id.as_str(), self.version, out);
        for f in fields {
            key(f.name, out);
            self.ds.name_value(parent, f.name).write_json(out);
        }
        out.push('}');
    }

    fn field(&self, rec: &Rec, f: &FieldDef, out: &mut String) {
        match f.kind {
            Kind::Address => {
                let prefix = f.name.trim_end_matches("Address");
                let vals: Vec<Val> = ADDRESS_KEYS.iter().map(|(_, part)| self.ds.value(rec, &format!("{prefix}{part}"))).collect();
                compound(ADDRESS_KEYS.iter().map(|k| k.0).zip(vals), out);
            }
            Kind::Location => {
                let base = f.name.trim_end_matches("__c");
                let lat = self.ds.value(rec, &format!("{base}__Latitude__s"));
                let lon = self.ds.value(rec, &format!("{base}__Longitude__s"));
                compound([("latitude", lat), ("longitude", lon)].into_iter(), out);
            }
            _ => self.ds.field_value(rec, f).write_json(out),
        }
    }

    /// A child result: `null` without children, else `{"totalSize","done","nextRecordsUrl"?,
    /// "records"}` with the first `child_batch` rows inline. Returns the inline row count.
    fn children(&mut self, rec: &Rec, sub: &SubPlan, out: &mut String) -> u64 {
        let rows = children_rows(self.ds, self.ov, sub, (rec.obj, rec.idx), self.all_rows);
        if rows.is_empty() {
            out.push_str("null");
            return 0;
        }
        let total = rows.len() as u64;
        let inline = total.min(self.child_batch.max(1));
        out.push_str("{\"totalSize\":");
        out.push_str(&total.to_string());
        let shown: Vec<u32> = rows[..inline as usize].to_vec();
        if inline < total {
            let locator = (self.register)(sub, rows);
            out.push_str(",\"done\":false,\"nextRecordsUrl\":\"/services/data/");
            out.push_str(self.version);
            out.push_str("/query/");
            out.push_str(&locator);
            out.push('-');
            out.push_str(&inline.to_string());
            out.push('"');
        } else {
            out.push_str(",\"done\":true");
        }
        out.push_str(",\"records\":[");
        for (n, &i) in shown.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            let child = self.ds.record(self.ov, sub.rel.child, i as u64);
            self.rec(&child, &sub.nodes, out);
        }
        out.push_str("]}");
        inline
    }
}

/// A compound value: an object of the given keys, or `null` when every component is null.
fn compound<'v>(parts: impl Iterator<Item = (&'static str, Val<'v>)>, out: &mut String) {
    let parts: Vec<_> = parts.collect();
    if parts.iter().all(|(_, v)| *v == Val::Null) {
        out.push_str("null");
        return;
    }
    for (n, (k, v)) in parts.iter().enumerate() {
        out.push(if n == 0 { '{' } else { ',' });
        write_json_str(k, out);
        out.push(':');
        v.write_json(out);
    }
    out.push('}');
}
