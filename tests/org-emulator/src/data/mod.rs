//! The org's data: a schema (User, Account, Contact, Opportunity, Note, Task, Event, Lead and a wide
//! custom object) and records generated lazily and deterministically from `(seed, sObject, index)`,
//! so 1,000,000+ rows cost no memory until they are read. Mutations (touched `SystemModstamp`, soft
//! deletes) live in a small [`Overlay`].
//!
//! Shapes follow real orgs [salesforce-api.md §4 "Types in JSON", "Parent relationships"]: 18-char Ids
//! with key prefixes 005 User, 001 Account, 003 Contact, 006 Opportunity, 002 Note, 00T Task, 00U
//! Event, 00Q Lead, a07 `Wide_Object__c`; dateTime values like `2013-05-20T20:49:32.000+0000`; dates
//! `YYYY-MM-DD`; currency as JSON numbers (some with 18 significant digits, emitted verbatim); null
//! fields present as `null`; a missing parent is `"Account": null`.

mod activity;
mod children;
mod crm;
mod fmt;
mod mutate;
mod schema;
mod wide;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::ids::{self, IdBuf};

pub use children::ChildIndex;
pub use fmt::{Fmt, write_json_str};
pub use schema::{ChildRel, FieldDef, FieldType, Kind, NAME_FIELDS, RelDef};

/// The sObjects the emulator serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SObject {
    /// `User` (key prefix 005).
    User,
    /// `Account` (001).
    Account,
    /// `Contact` (003).
    Contact,
    /// `Opportunity` (006).
    Opportunity,
    /// `Note` (002), child of an Account, Contact or Opportunity through `ParentId`.
    Note,
    /// `Task` (00T): polymorphic `WhoId` (Contact, Lead) and `WhatId` (Account, Opportunity).
    Task,
    /// `Event` (00U): polymorphic `WhoId` and `WhatId` like Task.
    Event,
    /// `Lead` (00Q).
    Lead,
    /// `Wide_Object__c` (a07): a custom object with hundreds of custom fields of mixed types.
    WideObject,
}

/// Number of served sObjects.
pub const SOBJECT_COUNT: usize = 9;

/// All served sObjects (index = [`SObject`] discriminant).
pub const ALL_SOBJECTS: [SObject; SOBJECT_COUNT] = [
    SObject::User,
    SObject::Account,
    SObject::Contact,
    SObject::Opportunity,
    SObject::Note,
    SObject::Task,
    SObject::Event,
    SObject::Lead,
    SObject::WideObject,
];

impl SObject {
    /// The API name (`Contact`, `Wide_Object__c`).
    pub fn name(self) -> &'static str {
        match self {
            SObject::User => "User",
            SObject::Account => "Account",
            SObject::Contact => "Contact",
            SObject::Opportunity => "Opportunity",
            SObject::Note => "Note",
            SObject::Task => "Task",
            SObject::Event => "Event",
            SObject::Lead => "Lead",
            SObject::WideObject => "Wide_Object__c",
        }
    }

    /// Singular and plural labels.
    pub fn labels(self) -> (&'static str, &'static str) {
        match self {
            SObject::User => ("User", "Users"),
            SObject::Account => ("Account", "Accounts"),
            SObject::Contact => ("Contact", "Contacts"),
            SObject::Opportunity => ("Opportunity", "Opportunities"),
            SObject::Note => ("Note", "Notes"),
            SObject::Task => ("Task", "Tasks"),
            SObject::Event => ("Event", "Events"),
            SObject::Lead => ("Lead", "Leads"),
            SObject::WideObject => ("Wide Object", "Wide Objects"),
        }
    }

    /// Case-insensitive lookup by API name.
    pub fn from_name(s: &str) -> Option<SObject> {
        ALL_SOBJECTS.into_iter().find(|o| o.name().eq_ignore_ascii_case(s))
    }

    /// The 3-char key prefix.
    pub fn key_prefix(self) -> &'static [u8; 3] {
        match self {
            SObject::User => b"005",
            SObject::Account => b"001",
            SObject::Contact => b"003",
            SObject::Opportunity => b"006",
            SObject::Note => b"002",
            SObject::Task => b"00T",
            SObject::Event => b"00U",
            SObject::Lead => b"00Q",
            SObject::WideObject => b"a07",
        }
    }

    fn slot(self) -> usize {
        self as usize
    }

    /// Whether this is a custom object (`__c`).
    pub fn is_custom(self) -> bool {
        self == SObject::WideObject
    }

    /// The fields, in describe (and record retrieve) order.
    pub fn fields(self) -> &'static [FieldDef] {
        match self {
            SObject::User => schema::USER_FIELDS,
            SObject::Account => schema::ACCOUNT_FIELDS,
            SObject::Contact => schema::CONTACT_FIELDS,
            SObject::Opportunity => schema::OPPORTUNITY_FIELDS,
            SObject::Note => schema::NOTE_FIELDS,
            SObject::Task => schema::TASK_FIELDS,
            SObject::Event => schema::EVENT_FIELDS,
            SObject::Lead => schema::LEAD_FIELDS,
            SObject::WideObject => wide::fields(),
        }
    }

    /// Child-to-parent relationships (`What`, `Who` and `Parent` are polymorphic).
    pub fn relationships(self) -> &'static [RelDef] {
        schema::relationships(self)
    }

    /// Parent-to-child relationships (the names a subquery's `FROM` takes: `Contacts`, `Tasks`…).
    pub fn child_relationships(self) -> &'static [ChildRel] {
        schema::child_relationships(self)
    }

    /// Case-insensitive field lookup.
    pub fn field(self, name: &str) -> Option<&'static FieldDef> {
        if self == SObject::WideObject {
            return wide::field(name);
        }
        self.fields().iter().find(|d| d.name.eq_ignore_ascii_case(name))
    }

    /// Case-insensitive relationship lookup.
    pub fn relationship(self, name: &str) -> Option<&'static RelDef> {
        self.relationships().iter().find(|r| r.name.eq_ignore_ascii_case(name))
    }

    /// Case-insensitive child relationship lookup.
    pub fn child_relationship(self, name: &str) -> Option<&'static ChildRel> {
        self.child_relationships().iter().find(|r| r.name.eq_ignore_ascii_case(name))
    }

    /// Whether the object has an `IsDeleted` field (soft delete / queryAll).
    pub fn soft_deletable(self) -> bool {
        self != SObject::User
    }
}

/// A field value.
#[derive(Clone, Debug, PartialEq)]
pub enum Val<'a> {
    /// JSON `null`.
    Null,
    /// A string.
    Str(Cow<'a, str>),
    /// A boolean.
    Bool(bool),
    /// A dateTime as epoch ms.
    DateTime(i64),
    /// A date as epoch days.
    Date(i64),
    /// A number, kept as its exact JSON text.
    Num(Cow<'a, str>),
    /// An Id, inline.
    Id(IdBuf),
    /// Text formatted on demand.
    Fmt(Fmt),
    /// A number formatted on demand.
    FmtNum(Fmt),
}

impl Val<'_> {
    /// Append the JSON form of this value.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Val::Null => out.push_str("null"),
            Val::Str(s) => write_json_str(s, out),
            Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Val::DateTime(ms) => {
                out.push('"');
                crate::time::format_datetime(*ms, out);
                out.push('"');
            }
            Val::Date(d) => {
                out.push('"');
                crate::time::format_date(*d, out);
                out.push('"');
            }
            Val::Num(n) => out.push_str(n),
            Val::Id(id) => {
                out.push('"');
                out.push_str(id.as_str());
                out.push('"');
            }
            Val::Fmt(f) => {
                out.push('"');
                f.write_to(out);
                out.push('"');
            }
            Val::FmtNum(f) => f.write_to(out),
        }
    }

    /// The same value with text and numbers materialised (`Id`/`Fmt` become `Str`, `FmtNum`
    /// becomes `Num`), for comparisons and sorting.
    pub fn normalize(self) -> Val<'static> {
        match self {
            Val::Null => Val::Null,
            Val::Str(s) => Val::Str(Cow::Owned(s.into_owned())),
            Val::Bool(b) => Val::Bool(b),
            Val::DateTime(x) => Val::DateTime(x),
            Val::Date(x) => Val::Date(x),
            Val::Num(s) => Val::Num(Cow::Owned(s.into_owned())),
            Val::Id(id) => Val::Str(Cow::Owned(id.as_str().to_string())),
            Val::Fmt(f) => Val::Str(Cow::Owned(f.to_string())),
            Val::FmtNum(f) => Val::Num(Cow::Owned(f.to_string())),
        }
    }
}

/// Mutations on top of the generated data.
#[derive(Debug, Default)]
pub struct Overlay {
    touched: [HashMap<u64, i64>; SOBJECT_COUNT],
    deleted: [HashSet<u64>; SOBJECT_COUNT],
    /// Count of touches so far, used to keep touched modstamps strictly increasing.
    touch_seq: i64,
}

impl Overlay {
    /// Whether record `idx` of `obj` is soft-deleted.
    pub fn is_deleted(&self, obj: SObject, idx: u64) -> bool {
        !self.deleted[obj.slot()].is_empty() && self.deleted[obj.slot()].contains(&idx)
    }

    /// Whether any record of `obj` is soft-deleted.
    pub fn any_deleted(&self, obj: SObject) -> bool {
        !self.deleted[obj.slot()].is_empty()
    }

    fn touched(&self, obj: SObject, idx: u64) -> Option<i64> {
        let m = &self.touched[obj.slot()];
        if m.is_empty() { None } else { m.get(&idx).copied() }
    }
}

/// 2020-01-01T00:00:00Z, the creation time of the first record of each sObject.
pub const EPOCH_START_MS: i64 = 1_577_836_800_000;
const SPAN_MS: i64 = 4 * 365 * 86_400_000;

pub(crate) fn mix(mut z: u64) -> u64 {
    // splitmix64 finaliser: spreads (seed, object, index) into an RNG seed.
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A generated record (values computed once per read, without heap allocation). The generic slots
/// mean different fields per sObject (see `crm.rs`, `activity.rs`).
#[derive(Debug, Clone)]
pub struct Rec {
    /// Which sObject.
    pub obj: SObject,
    /// 0-based creation index.
    pub idx: u64,
    /// 18-char Id.
    pub id: IdBuf,
    created: i64,
    modstamp: i64,
    deleted: bool,
    owner: u64,
    account: Option<u64>,
    first: Option<&'static str>,
    last: &'static str,
    name: Option<Fmt>,
    name_s: &'static str,
    text1: Option<&'static str>,
    text2: Option<Fmt>,
    text2_s: Option<&'static str>,
    text3: Option<Fmt>,
    text3_s: Option<&'static str>,
    num: Option<Fmt>,
    flag: bool,
    small: u32,
    day: i64,
    /// `ParentId` (Note) / `WhatId` (Task, Event).
    parent: Option<(SObject, u64)>,
    /// `WhoId` (Task, Event).
    who: Option<(SObject, u64)>,
    /// A second dateTime (Event start).
    at: Option<i64>,
}

/// Record volumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Volumes {
    /// Contacts.
    pub contacts: u64,
    /// Opportunities.
    pub deals: u64,
    /// Notes.
    pub notes: u64,
    /// Leads.
    pub leads: u64,
    /// Tasks.
    pub tasks: u64,
    /// Events.
    pub events: u64,
    /// `Wide_Object__c` rows.
    pub wide_rows: u64,
}

/// The generated dataset.
#[derive(Debug)]
pub struct Dataset {
    seed: u64,
    counts: [u64; SOBJECT_COUNT],
    pod: [u8; 3],
    /// Organization Id (`00D…`, 18 chars).
    pub org_id: String,
    children: Mutex<HashMap<(SObject, &'static str), std::sync::Arc<ChildIndex>>>,
}

impl Dataset {
    /// A dataset with the given volumes and no Leads, Tasks, Events or wide rows. Accounts are
    /// derived: `max(50, (contacts + deals) / 10)`.
    pub fn new(seed: u64, contacts: u64, deals: u64, notes: u64) -> Dataset {
        Dataset::with_volumes(seed, Volumes { contacts, deals, notes, leads: 0, tasks: 0, events: 0, wide_rows: 0 })
    }

    /// A dataset with all volumes given. Accounts are `max(50, (contacts + deals) / 10)`; 8 Users.
    pub fn with_volumes(seed: u64, v: Volumes) -> Dataset {
        let accounts = 50u64.max((v.contacts + v.deals) / 10);
        let pod = *b"5g0";
        Dataset {
            seed,
            counts: [crm::USER_COUNT, accounts, v.contacts, v.deals, v.notes, v.tasks, v.events, v.leads, v.wide_rows],
            pod,
            org_id: ids::make_id(b"00D", &pod, mix(seed) % 1_000_000),
            children: Mutex::new(HashMap::new()),
        }
    }

    /// Number of records (including soft-deleted ones) of `obj`.
    pub fn count(&self, obj: SObject) -> u64 {
        self.counts[obj.slot()]
    }

    /// The 18-char Id of record `idx`.
    pub fn id(&self, obj: SObject, idx: u64) -> String {
        self.id_buf(obj, idx).as_str().to_string()
    }

    /// The index of an Id of `obj`, if it is one of ours (15- or 18-char form).
    pub fn index_of(&self, obj: SObject, id: &str) -> Option<u64> {
        ids::parse_index(obj.key_prefix(), &self.pod, id).filter(|&i| i < self.count(obj))
    }

    /// The sObject and index of any Id of this org.
    pub fn locate(&self, id: &str) -> Option<(SObject, u64)> {
        ALL_SOBJECTS.into_iter().find_map(|o| self.index_of(o, id).map(|i| (o, i)))
    }

    /// The id-ordered position of the first record whose Id compares `>= lit` (byte order).
    pub fn id_lower_bound(&self, obj: SObject, lit: &str) -> u64 {
        let (mut lo, mut hi) = (0u64, self.count(obj));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.id_buf(obj, mid).as_str() < lit { lo = mid + 1 } else { hi = mid }
        }
        lo
    }

    /// The id-ordered position of the first record whose Id compares `> lit` (byte order).
    pub fn id_upper_bound(&self, obj: SObject, lit: &str) -> u64 {
        let (mut lo, mut hi) = (0u64, self.count(obj));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.id_buf(obj, mid).as_str() <= lit { lo = mid + 1 } else { hi = mid }
        }
        lo
    }

    /// The Id of the emulated user who authorizes (the first User).
    pub fn login_user_id(&self) -> String {
        self.id(SObject::User, 0)
    }

    fn step_ms(&self, obj: SObject) -> i64 {
        (SPAN_MS / self.count(obj).max(1) as i64).clamp(1000, 86_400_000)
    }

    /// `CreatedDate` of record `idx` (strictly increasing with `idx`).
    pub fn created(&self, obj: SObject, idx: u64) -> i64 {
        let step = self.step_ms(obj);
        let jitter = (mix(self.seed ^ (obj.slot() as u64) << 56 ^ idx ^ 0x5A5A) % (step as u64 / 2)) as i64;
        EPOCH_START_MS + idx as i64 * step + jitter
    }

    /// `SystemModstamp` (= `LastModifiedDate`) of record `idx`, honouring touches.
    pub fn modstamp(&self, ov: &Overlay, obj: SObject, idx: u64) -> i64 {
        if let Some(t) = ov.touched(obj, idx) {
            return t;
        }
        let extra = (mix(self.seed ^ (obj.slot() as u64) << 56 ^ idx ^ 0xA5A5_0000) % (400 * 86_400_000)) as i64;
        self.created(obj, idx) + extra
    }

    /// A deterministic 64-bit hash of `(seed, obj, idx, salt)` for values added after the original
    /// generator (so they never disturb the RNG stream that earlier values come from).
    pub(crate) fn hash(&self, obj: SObject, idx: u64, salt: u64) -> u64 {
        mix(self.seed ^ mix((obj.slot() as u64) << 48 ^ salt) ^ idx.wrapping_mul(0x2545_F491_4F6C_DD1D))
    }

    /// Generate record `idx` of `obj`.
    pub fn record(&self, ov: &Overlay, obj: SObject, idx: u64) -> Rec {
        let mut rng = SmallRng::seed_from_u64(mix(self.seed ^ ((obj.slot() as u64) << 58) ^ idx));
        let users = self.count(SObject::User);
        let mut rec = Rec {
            obj,
            idx,
            id: self.id_buf(obj, idx),
            created: self.created(obj, idx),
            modstamp: self.modstamp(ov, obj, idx),
            deleted: ov.is_deleted(obj, idx),
            owner: rng.random_range(0..users),
            account: None,
            first: None,
            last: "",
            name: None,
            name_s: "",
            text1: None,
            text2: None,
            text2_s: None,
            text3: None,
            text3_s: None,
            num: None,
            flag: false,
            small: 0,
            day: 0,
            parent: None,
            who: None,
            at: None,
        };
        match obj {
            SObject::Task | SObject::Event | SObject::Lead => activity::fill(self, &mut rec, &mut rng),
            SObject::WideObject => {}
            _ => crm::fill(self, &mut rec, &mut rng),
        }
        rec
    }

    /// The 18-char Id of record `idx`, without allocating.
    pub fn id_buf(&self, obj: SObject, idx: u64) -> IdBuf {
        ids::make_id_buf(obj.key_prefix(), &self.pod, idx)
    }

    /// The parent `(sObject, index)` of `rec` through relationship `rel` (`None` = null parent).
    pub fn parent(&self, rec: &Rec, rel: &RelDef) -> Option<(SObject, u64)> {
        self.lookup(rec, rel.field)
    }

    /// The record a lookup field of `rec` points at.
    pub fn lookup(&self, rec: &Rec, field: &str) -> Option<(SObject, u64)> {
        match field {
            "OwnerId" if rec.obj != SObject::User => Some((SObject::User, rec.owner)),
            "AccountId" => rec.account.map(|a| (SObject::Account, a)),
            "ParentId" | "WhatId" => rec.parent,
            "WhoId" => rec.who,
            _ => None,
        }
    }

    /// The value of field `f` of `rec`.
    pub fn field_value(&self, rec: &Rec, f: &FieldDef) -> Val<'static> {
        if f.slot > 0 {
            return wide::custom_value(self, rec, f);
        }
        self.value(rec, f.name)
    }

    /// The value of field `name` (canonical casing) of `rec`.
    pub fn value(&self, rec: &Rec, name: &str) -> Val<'static> {
        match name {
            "Id" => Val::Id(rec.id),
            "IsDeleted" => Val::Bool(rec.deleted),
            "CreatedDate" => Val::DateTime(rec.created),
            "LastModifiedDate" | "SystemModstamp" => Val::DateTime(rec.modstamp),
            "OwnerId" | "AccountId" | "ParentId" | "WhatId" | "WhoId" => {
                self.lookup(rec, name).map_or(Val::Null, |(o, i)| Val::Id(self.id_buf(o, i)))
            }
            _ => match rec.obj {
                SObject::Task | SObject::Event | SObject::Lead => activity::value(rec, name),
                SObject::WideObject => match rec.obj.field(name) {
                    Some(f) => wide::custom_value(self, rec, f),
                    None => Val::Null,
                },
                _ => crm::value(self, rec, name),
            },
        }
    }

    /// A field of the `Name` entity read from a concrete record: `Type` is the sObject name; other
    /// names take the record's field of that name, or `null` when it has none.
    pub fn name_value(&self, rec: &Rec, name: &str) -> Val<'static> {
        if name == "Type" {
            return Val::Str(Cow::Borrowed(rec.obj.name()));
        }
        match rec.obj.field(name) {
            Some(f) => self.field_value(rec, f),
            None => Val::Null,
        }
    }

    /// The index of `child` records by their lookup `field` (all of them, soft-deleted included),
    /// built once per `(child, field)` by scanning the children.
    pub fn child_index(&self, child: SObject, field: &'static str) -> std::sync::Arc<ChildIndex> {
        if let Some(ix) = self.children.lock().expect("lock").get(&(child, field)) {
            return ix.clone();
        }
        let built = std::sync::Arc::new(ChildIndex::build(self, child, field));
        self.children.lock().expect("lock").entry((child, field)).or_insert(built).clone()
    }
}

pub(crate) fn days_since_epoch(ms: i64) -> i64 {
    ms.div_euclid(86_400_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_matches_serde_json() {
        let ds = Dataset::with_volumes(1, Volumes { contacts: 300, deals: 300, notes: 300, leads: 50, tasks: 100, events: 100, wide_rows: 20 });
        let ov = Overlay::default();
        for obj in ALL_SOBJECTS {
            for idx in 0..ds.count(obj).min(300) {
                let rec = ds.record(&ov, obj, idx);
                for f in obj.fields().iter().filter(|f| f.ty() != FieldType::Compound) {
                    let mut out = String::new();
                    ds.field_value(&rec, f).write_json(&mut out);
                    let parsed: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{}.{}: {out}: {e}", obj.name(), f.name));
                    if let Val::Str(s) = ds.field_value(&rec, f).normalize() {
                        assert_eq!(parsed.as_str(), Some(s.as_ref()));
                    }
                    if !f.nillable {
                        assert!(!parsed.is_null(), "{}.{} is not nillable", obj.name(), f.name);
                    }
                }
            }
        }
    }
}
