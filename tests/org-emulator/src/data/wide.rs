//! `Wide_Object__c`: a custom object with [`CUSTOM_FIELDS`] custom fields of mixed types (text, long
//! text areas, numbers with precision and scale, currency, percent, dates, dateTimes, checkboxes,
//! picklists, multi-select picklists, email, phone, URL) plus a geolocation compound `Location__c`
//! with its `Location__Latitude__s` / `Location__Longitude__s` components. Field names run to about
//! 40 characters, so selecting every field makes a `GET /query` URI longer than Salesforce's
//! 16,384-byte limit (the SDK must split the field list).
//!
//! Values are computed from `(seed, row, column)` when read; nothing is stored.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use super::schema::{Kind, boolean, compound, id, lookup, number, part, pick, text, text_kind, when};
use super::{Dataset, FieldDef, Rec, SObject, Val, mix};

/// Number of generated custom fields (besides `Location__c` and its components).
pub const CUSTOM_FIELDS: usize = 400;

const AREAS: &[&str] = &[
    "Partnership", "Procurement", "Territorial", "Operational", "Contractual", "Logistical", "Warehousing",
    "Compliance", "Forecasting", "Subscriber", "Engineering", "Residential", "Maintenance", "Marketplace",
];
const SUBJECTS: &[&str] = &[
    "Satisfaction", "Verification", "Escalations", "Commissions", "Assessments", "Allocations",
    "Benchmarking", "Reliability", "Performance", "Utilization", "Consumption",
];
/// (name suffix, kind, length, precision, scale).
const SHAPES: &[(&str, Kind, u32, u32, u32)] = &[
    ("Summary", Kind::String, 255, 0, 0),
    ("Measured", Kind::Double, 0, 18, 2),
    ("Review_Date", Kind::Date, 0, 0, 0),
    ("Recorded_At", Kind::DateTime, 0, 0, 0),
    ("Approved", Kind::Boolean, 0, 0, 0),
    ("Status", Kind::Picklist, 255, 0, 0),
    ("Regions", Kind::MultiPicklist, 4099, 0, 0),
    ("Long_Notes", Kind::TextArea, 32768, 0, 0),
    ("Budget_Amt", Kind::Currency, 0, 16, 2),
    ("Completion", Kind::Percent, 0, 5, 2),
    ("Owner_Email", Kind::Email, 80, 0, 0),
    ("Hotline", Kind::Phone, 40, 0, 0),
    ("Portal_Link", Kind::Url, 255, 0, 0),
    ("Unit_Count", Kind::Double, 0, 18, 0),
];
const STATUS: &[&str] = &["Draft", "In Review", "Approved", "Rejected", "On Hold"];
const REGIONS: &[&str] = &["EMEA", "AMER", "APAC", "LATAM", "Nordics"];

struct Schema {
    fields: Vec<FieldDef>,
    by_name: HashMap<String, usize>,
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn build() -> Schema {
    let mut fields = vec![
        id("Record ID"),
        lookup("OwnerId", "Owner ID", "Owner", &[SObject::User], false),
        boolean("IsDeleted", "Deleted"),
        FieldDef { nillable: false, ..text("Name", "Wide Object Name", 80) },
        when("CreatedDate", "Created Date", Kind::DateTime, false),
        when("LastModifiedDate", "Last Modified Date", Kind::DateTime, false),
        when("SystemModstamp", "System Modstamp", Kind::DateTime, false),
        FieldDef { custom: true, ..compound("Location__c", "Location", Kind::Location) },
        FieldDef { custom: true, ..part(number("Location__Latitude__s", "Location (Latitude)", Kind::Double, 9, 6), "Location__c") },
        FieldDef { custom: true, ..part(number("Location__Longitude__s", "Location (Longitude)", Kind::Double, 9, 6), "Location__c") },
    ];
    for col in 0..CUSTOM_FIELDS {
        let area = AREAS[col % AREAS.len()];
        let subject = SUBJECTS[(col / AREAS.len()) % SUBJECTS.len()];
        let (suffix, kind, length, precision, scale) = SHAPES[col % SHAPES.len()];
        let name = leak(format!("{area}_{subject}_{suffix}_{:03}__c", col + 1));
        let label = leak(format!("{area} {subject} {} {:03}", suffix.replace('_', " "), col + 1));
        let base = match kind {
            Kind::Boolean => boolean(name, label),
            Kind::Date | Kind::DateTime => when(name, label, kind, true),
            Kind::Double | Kind::Currency | Kind::Percent => number(name, label, kind, precision, scale),
            Kind::Picklist => pick(name, label, false, STATUS),
            Kind::MultiPicklist => pick(name, label, true, REGIONS),
            Kind::String => text(name, label, length),
            _ => text_kind(name, label, kind, length),
        };
        fields.push(FieldDef { custom: true, slot: col as u16 + 1, ..base });
    }
    let by_name = fields.iter().enumerate().map(|(i, f)| (f.name.to_ascii_lowercase(), i)).collect();
    Schema { fields, by_name }
}

fn schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(build)
}

/// The fields of `Wide_Object__c`, in describe order.
pub fn fields() -> &'static [FieldDef] {
    &schema().fields
}

/// Case-insensitive field lookup.
pub fn field(name: &str) -> Option<&'static FieldDef> {
    let s = schema();
    s.by_name.get(&name.to_ascii_lowercase()).map(|&i| &s.fields[i])
}

fn decimal(v: u64, scale: u32) -> String {
    if scale == 0 {
        return v.to_string();
    }
    let p = 10u64.pow(scale);
    format!("{}.{:0width$}", v / p, v % p, width = scale as usize)
}

/// The value of a field of a `Wide_Object__c` row other than the generic ones (Id, dates, owner).
pub(super) fn custom_value(ds: &Dataset, rec: &Rec, f: &FieldDef) -> Val<'static> {
    let row = rec.idx;
    if f.slot == 0 {
        let h = ds.hash(SObject::WideObject, row, 0x10C);
        let coord = |span: u64, shift: u32| {
            let v = ((h >> shift) % (2 * span * 1_000_000)) as i64 - (span * 1_000_000) as i64;
            let sign = if v < 0 { "-" } else { "" };
            Val::Num(Cow::Owned(format!("{sign}{}.{:06}", v.abs() / 1_000_000, v.abs() % 1_000_000)))
        };
        return match f.name {
            "Name" => Val::Str(Cow::Owned(format!("W-{:06}", row + 1))),
            "Location__Latitude__s" if h % 10 < 8 => coord(89, 8),
            "Location__Longitude__s" if h % 10 < 8 => coord(179, 30),
            _ => Val::Null,
        };
    }
    let col = f.slot as u64 - 1;
    let h = mix(ds.hash(SObject::WideObject, row, 0x5749_4445) ^ col.wrapping_mul(0x9E37_79B9));
    if f.kind != Kind::Boolean && h % 100 < 15 {
        return Val::Null;
    }
    let r = h >> 8;
    let owned = |s: String| Val::Str(Cow::Owned(s));
    match f.kind {
        Kind::Boolean => Val::Bool(r.is_multiple_of(2)),
        Kind::Date => Val::Date(18_262 + (r % 2_500) as i64),
        Kind::DateTime => Val::DateTime(super::EPOCH_START_MS + (r % 200_000_000) as i64 * 1000),
        Kind::Double | Kind::Currency | Kind::Percent => {
            let digits = f.precision.min(12) - f.scale.min(f.precision.min(12));
            let max = 10u64.pow(digits.max(1)) * 10u64.pow(f.scale);
            Val::Num(Cow::Owned(decimal(r % max, f.scale)))
        }
        Kind::Picklist => Val::Str(Cow::Borrowed(STATUS[(r % STATUS.len() as u64) as usize])),
        Kind::MultiPicklist => {
            let picked: Vec<&str> = REGIONS.iter().enumerate().filter(|(i, _)| (r >> i) & 1 == 1).map(|(_, v)| *v).collect();
            if picked.is_empty() { Val::Null } else { owned(picked.join(";")) }
        }
        Kind::TextArea => {
            let lines = 1 + r % 12;
            let mut s = String::new();
            for i in 0..lines {
                s.push_str(&format!("Row {} column {} line {}: notes — «détails» ✓ \"quoted\" and a tab\there.\n", row + 1, col + 1, i + 1));
            }
            owned(s)
        }
        Kind::Email => owned(format!("row{}.col{}@example.org", row + 1, col + 1)),
        Kind::Phone => owned(format!("+1 (555) {:03}-{:04}", 200 + r % 800, r % 10_000)),
        Kind::Url => owned(format!("https://example.com/wide/{}/{}", row + 1, col + 1)),
        _ => owned(format!("Value {}-{} {}", row + 1, col + 1, ["", "Zoë", "🚀", "O'Brien"][(r % 4) as usize]).trim_end().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_custom_and_long() {
        let f = fields();
        assert_eq!(f.len(), CUSTOM_FIELDS + 10);
        assert_eq!(schema().by_name.len(), f.len(), "unique names");
        let custom: Vec<_> = f.iter().filter(|f| f.slot > 0).collect();
        assert!(custom.iter().all(|f| f.name.ends_with("__c") && f.name.len() <= 43));
        let select: usize = f.iter().map(|f| f.name.len() + 2).sum();
        assert!(select > 16_384, "selecting every field needs {select} bytes");
        assert!(field("partnership_satisfaction_summary_001__C").is_some());
    }
}
