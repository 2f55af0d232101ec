//! The org's data: a small schema (User, Account, Contact, Opportunity, Note) and records generated
//! lazily and deterministically from `(seed, sObject, index)`, so 1,000,000+ rows cost no memory until
//! they are read. Mutations (touched `SystemModstamp`, soft deletes) live in a small [`Overlay`].
//!
//! Shapes follow real orgs [salesforce-api.md §4 "Types in JSON", "Parent relationships"]: 18-char Ids
//! with key prefixes 005 User, 001 Account, 003 Contact, 006 Opportunity, 002 Note; dateTime values
//! like `2013-05-20T20:49:32.000+0000`; dates `YYYY-MM-DD`; currency as JSON numbers (some with 18
//! significant digits, emitted verbatim); null fields present as `null`; a missing parent is
//! `"Account": null`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::ids::{self, IdBuf};

/// The sObjects the emulator serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SObject {
    /// `User` (key prefix 005).
    User,
    /// `Account` (001).
    Account,
    /// `Contact` (003).
    Contact,
    /// `Opportunity` (006).
    Opportunity,
    /// `Note` (002).
    Note,
}

/// All served sObjects.
pub const ALL_SOBJECTS: [SObject; 5] = [
    SObject::User,
    SObject::Account,
    SObject::Contact,
    SObject::Opportunity,
    SObject::Note,
];

/// Field data types, enough to type-check SOQL literals and render JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// `id`
    Id,
    /// `reference` (a lookup Id)
    Reference,
    /// `string`, `email`, `phone`, `picklist`, `textarea`
    Text,
    /// `boolean`
    Boolean,
    /// `datetime`
    DateTime,
    /// `date`
    Date,
    /// `currency` / `double`
    Number,
}

/// One field of an sObject.
#[derive(Clone, Copy, Debug)]
pub struct FieldDef {
    /// Canonical API name (response keys use this casing).
    pub name: &'static str,
    /// Data type.
    pub ty: FieldType,
    /// Whether `ORDER BY` accepts it (long text areas are not sortable).
    pub sortable: bool,
}

/// A child-to-parent relationship (`Account` via `AccountId`).
#[derive(Clone, Copy, Debug)]
pub struct RelDef {
    /// Relationship name (`Account`, `Owner`).
    pub name: &'static str,
    /// The lookup field holding the parent Id.
    pub field: &'static str,
    /// The parent sObject.
    pub target: SObject,
}

const fn f(name: &'static str, ty: FieldType) -> FieldDef {
    FieldDef { name, ty, sortable: true }
}
use FieldType as T;

const USER_FIELDS: &[FieldDef] = &[
    f("Id", T::Id),
    f("Username", T::Text),
    f("Alias", T::Text),
    f("Name", T::Text),
    f("FirstName", T::Text),
    f("LastName", T::Text),
    f("Email", T::Text),
    f("IsActive", T::Boolean),
    f("CreatedDate", T::DateTime),
    f("LastModifiedDate", T::DateTime),
    f("SystemModstamp", T::DateTime),
];
const ACCOUNT_FIELDS: &[FieldDef] = &[
    f("Id", T::Id),
    f("IsDeleted", T::Boolean),
    f("Name", T::Text),
    f("Industry", T::Text),
    f("Phone", T::Text),
    f("BillingCity", T::Text),
    f("AnnualRevenue", T::Number),
    f("OwnerId", T::Reference),
    f("CreatedDate", T::DateTime),
    f("LastModifiedDate", T::DateTime),
    f("SystemModstamp", T::DateTime),
];
const CONTACT_FIELDS: &[FieldDef] = &[
    f("Id", T::Id),
    f("IsDeleted", T::Boolean),
    f("AccountId", T::Reference),
    f("LastName", T::Text),
    f("FirstName", T::Text),
    f("Name", T::Text),
    f("Title", T::Text),
    f("Phone", T::Text),
    f("Email", T::Text),
    f("OwnerId", T::Reference),
    f("CreatedDate", T::DateTime),
    f("LastModifiedDate", T::DateTime),
    f("SystemModstamp", T::DateTime),
];
const OPPORTUNITY_FIELDS: &[FieldDef] = &[
    f("Id", T::Id),
    f("IsDeleted", T::Boolean),
    f("AccountId", T::Reference),
    f("Name", T::Text),
    f("Amount", T::Number),
    f("CloseDate", T::Date),
    f("StageName", T::Text),
    f("Probability", T::Number),
    f("IsClosed", T::Boolean),
    f("IsWon", T::Boolean),
    f("OwnerId", T::Reference),
    f("CreatedDate", T::DateTime),
    f("LastModifiedDate", T::DateTime),
    f("SystemModstamp", T::DateTime),
];
const NOTE_FIELDS: &[FieldDef] = &[
    f("Id", T::Id),
    f("IsDeleted", T::Boolean),
    f("ParentId", T::Reference),
    f("Title", T::Text),
    f("IsPrivate", T::Boolean),
    FieldDef { name: "Body", ty: T::Text, sortable: false },
    f("OwnerId", T::Reference),
    f("CreatedDate", T::DateTime),
    f("LastModifiedDate", T::DateTime),
    f("SystemModstamp", T::DateTime),
];

const OWNER: RelDef = RelDef { name: "Owner", field: "OwnerId", target: SObject::User };
const ACCOUNT: RelDef = RelDef { name: "Account", field: "AccountId", target: SObject::Account };

impl SObject {
    /// The API name (`Contact`).
    pub fn name(self) -> &'static str {
        match self {
            SObject::User => "User",
            SObject::Account => "Account",
            SObject::Contact => "Contact",
            SObject::Opportunity => "Opportunity",
            SObject::Note => "Note",
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
        }
    }

    fn slot(self) -> usize {
        self as usize
    }

    /// The fields.
    pub fn fields(self) -> &'static [FieldDef] {
        match self {
            SObject::User => USER_FIELDS,
            SObject::Account => ACCOUNT_FIELDS,
            SObject::Contact => CONTACT_FIELDS,
            SObject::Opportunity => OPPORTUNITY_FIELDS,
            SObject::Note => NOTE_FIELDS,
        }
    }

    /// Child-to-parent relationships. `Note.Parent` is polymorphic and deliberately not offered.
    pub fn relationships(self) -> &'static [RelDef] {
        match self {
            SObject::User => &[],
            SObject::Account => &[OWNER],
            SObject::Contact | SObject::Opportunity => &[ACCOUNT, OWNER],
            SObject::Note => &[OWNER],
        }
    }

    /// Case-insensitive field lookup.
    pub fn field(self, name: &str) -> Option<&'static FieldDef> {
        self.fields().iter().find(|d| d.name.eq_ignore_ascii_case(name))
    }

    /// Case-insensitive relationship lookup.
    pub fn relationship(self, name: &str) -> Option<&'static RelDef> {
        self.relationships().iter().find(|r| r.name.eq_ignore_ascii_case(name))
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

/// Append `s` as a JSON string literal.
pub fn write_json_str(s: &str, out: &mut String) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0..=0x1f => None,
            _ => continue,
        };
        out.push_str(&s[start..i]);
        match esc {
            Some(e) => out.push_str(e),
            None => {
                use std::fmt::Write;
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Mutations on top of the generated data.
#[derive(Debug, Default)]
pub struct Overlay {
    touched: [HashMap<u64, i64>; 5],
    deleted: [HashSet<u64>; 5],
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

const USERS: &[(&str, &str, &str)] = &[
    ("jsmith", "Jane", "Smith"),
    ("mgarc", "María", "García"),
    ("ldupo", "Léa", "Dupont"),
    ("ykim", "Yuna", "Kim"),
    ("okafo", "Chidi", "Okafor"),
    ("szhan", "思远", "张"),
    ("bobri", "Brendan", "O'Brien"),
    ("intgr", "Integration", "User"),
];

const FIRST: &[&str] = &[
    "John", "Jane", "Zoë", "José", "Øyvind", "Ngozi", "Aarav", "Mei", "Siobhán", "Łukasz", "Fatima",
    "Mary-Kate", "Renée", "Björn", "Ana", "Ahmed", "Chloé", "Dmitri", "Yuki", "Olu", "Priya", "Sam",
    "Émile", "Ines", "Kai", "Lars", "Noa", "Tomás", "Wen", "Zainab",
];
const LAST: &[&str] = &[
    "Smith", "O'Connor", "Müller", "Nguyễn", "García", "Kowalski", "Zhang", "Iyer", "Okafor",
    "Johansson", "D'Angelo", "van der Berg", "Şahin", "Brown", "Tanaka", "Dubois", "Rossi", "Kim",
    "Novák", "Haddad", "Silva", "Fischer", "Andersen", "Lee", "Patel", "Hernández", "Walker",
    "Ivanova", "Cohen", "山田",
];
const TITLES: &[&str] = &[
    "Director of Marketing", "VP, Sales", "CEO", "Software Engineer", "Head of \"Growth\"",
    "Procurement Manager", "CFO", "Account Executive", "Operations Lead", "Chef de projet",
    "Product Owner", "Customer Success 🚀",
];
const COMPANY_A: &[&str] = &[
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Müller & Söhne", "Nordlys",
    "Sakura 桜", "O'Reilly", "Blue Sky ☁️", "Édition", "Zenith", "Quantum", "Pioneer", "Δelta",
];
const COMPANY_B: &[&str] = &[
    "Corp", "Industries", "GmbH", "Labs", "Holdings", "S.A.", "Partners", "Ltd", "Inc.", "AS",
    "🚀 Ventures", "Group",
];
const INDUSTRIES: &[&str] = &[
    "Technology", "Manufacturing", "Finance", "Healthcare", "Retail", "Energy", "Education",
];
const CITIES: &[&str] = &[
    "San Francisco", "München", "São Paulo", "Zürich", "Tōkyō", "London", "Kraków", "Reykjavík",
];
const STAGES: &[(&str, u32)] = &[
    ("Prospecting", 10),
    ("Qualification", 10),
    ("Needs Analysis", 20),
    ("Value Proposition", 50),
    ("Id. Decision Makers", 60),
    ("Perception Analysis", 70),
    ("Proposal/Price Quote", 75),
    ("Negotiation/Review", 90),
    ("Closed Won", 100),
    ("Closed Lost", 0),
];
const NOTE_TITLES: &[&str] = &[
    "Follow-up Call", "Meeting notes", "Pricing 💰", "Renewal risk", "Intro call — summary",
    "Q&A", "Next steps",
];
const NOTE_BODIES: &[&str] = &[
    "Follow-up call scheduled for next week",
    "<p>Discussed <b>pricing</b> &amp; renewal.</p><ul><li>Send quote</li><li>Loop in legal</li></ul>",
    "Customer loved the demo 🎉👍 — wants a pilot in Q3.",
    "Line one\nLine two\r\n\tIndented \"quoted\" text with a backslash \\ and a tab.",
    "<div style=\"color:red\">Escalation!</div> Call back 📞 ASAP",
    "Résumé reçu; réunion à 14h. 日本語のメモ。",
];

/// 2020-01-01T00:00:00Z, the creation time of the first record of each sObject.
pub const EPOCH_START_MS: i64 = 1_577_836_800_000;
const SPAN_MS: i64 = 4 * 365 * 86_400_000;

fn mix(mut z: u64) -> u64 {
    // splitmix64 finaliser: spreads (seed, object, index) into an RNG seed.
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A text value composed from static tables and numbers, formatted only when written (so rendering a
/// record allocates nothing). Table texts contain no characters that need JSON escaping (checked by
/// a unit test).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fmt {
    /// `a b`
    Two(&'static str, &'static str),
    /// `a b n`
    TwoN(&'static str, &'static str, u64),
    /// `+1 (555) AAA-NNNN`
    ContactPhone(u16, u16),
    /// `+1 415-555-NNNN`
    AccountPhone(u16),
    /// `first.last<n>@example.com` (ASCII letters, digits and dots only, lower-cased)
    Email(&'static str, &'static str, u64),
    /// `alias<suffix>`
    Concat(&'static str, &'static str),
    /// `Q<q> <year> Deal`
    Quarter(u8, u16),
    /// `Renewal <year> – <n> seats`
    Renewal(u16, u16),
    /// `Expansion 🚀 #<n>`
    Expansion(u64),
    /// A decimal number `int.cc` (JSON number text)
    Dec(u64, u8),
    /// An integer (JSON number text)
    Int(u64),
}

fn push_u64(out: &mut String, mut n: u64, min_width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = i.min(buf.len() - min_width);
    out.push_str(std::str::from_utf8(&buf[start..]).expect("digits"));
}

impl Fmt {
    /// Append the text (no quotes, no escaping: see the type's doc).
    pub fn write_to(&self, out: &mut String) {
        match *self {
            Fmt::Two(a, b) => {
                out.push_str(a);
                out.push(' ');
                out.push_str(b);
            }
            Fmt::TwoN(a, b, n) => {
                out.push_str(a);
                out.push(' ');
                out.push_str(b);
                out.push(' ');
                push_u64(out, n, 1);
            }
            Fmt::ContactPhone(a, n) => {
                out.push_str("+1 (555) ");
                push_u64(out, a as u64, 3);
                out.push('-');
                push_u64(out, n as u64, 4);
            }
            Fmt::AccountPhone(n) => {
                out.push_str("+1 415-555-");
                push_u64(out, n as u64, 4);
            }
            Fmt::Email(first, last, n) => {
                for c in first.chars().chain(std::iter::once('.')).chain(last.chars()) {
                    if c.is_ascii_alphanumeric() || c == '.' {
                        out.push(c.to_ascii_lowercase());
                    }
                }
                push_u64(out, n, 1);
                out.push_str("@example.com");
            }
            Fmt::Concat(a, b) => {
                out.push_str(a);
                out.push_str(b);
            }
            Fmt::Dec(i, c) => {
                push_u64(out, i, 1);
                out.push('.');
                push_u64(out, c as u64, 2);
            }
            Fmt::Int(i) => push_u64(out, i, 1),
            _ => {
                use std::fmt::Write;
                let _ = write!(out, "{self}");
            }
        }
    }
}

impl std::fmt::Display for Fmt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Fmt::Two(a, b) => write!(f, "{a} {b}"),
            Fmt::TwoN(a, b, n) => write!(f, "{a} {b} {n}"),
            Fmt::ContactPhone(a, n) => write!(f, "+1 (555) {a:03}-{n:04}"),
            Fmt::AccountPhone(n) => write!(f, "+1 415-555-{n:04}"),
            Fmt::Email(first, last, n) => {
                use std::fmt::Write;
                for c in first.chars().chain(std::iter::once('.')).chain(last.chars()) {
                    if c.is_ascii_alphanumeric() || c == '.' {
                        f.write_char(c.to_ascii_lowercase())?;
                    }
                }
                write!(f, "{n}@example.com")
            }
            Fmt::Concat(a, b) => write!(f, "{a}{b}"),
            Fmt::Quarter(q, y) => write!(f, "Q{q} {y} Deal"),
            Fmt::Renewal(y, n) => write!(f, "Renewal {y} – {n} seats"),
            Fmt::Expansion(n) => write!(f, "Expansion 🚀 #{n}"),
            Fmt::Dec(i, c) => write!(f, "{i}.{c:02}"),
            Fmt::Int(i) => write!(f, "{i}"),
        }
    }
}

/// A generated record (values computed once per read, without heap allocation).
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
    parent: Option<(SObject, u64)>,
}

/// The generated dataset.
#[derive(Debug)]
pub struct Dataset {
    seed: u64,
    counts: [u64; 5],
    pod: [u8; 3],
    /// Organization Id (`00D…`, 18 chars).
    pub org_id: String,
}

impl Dataset {
    /// A dataset with the given volumes. Accounts are derived: `max(50, (contacts + deals) / 10)`.
    pub fn new(seed: u64, contacts: u64, deals: u64, notes: u64) -> Dataset {
        let accounts = 50u64.max((contacts + deals) / 10);
        let pod = *b"5g0";
        Dataset {
            seed,
            counts: [USERS.len() as u64, accounts, contacts, deals, notes],
            pod,
            org_id: ids::make_id(b"00D", &pod, mix(seed) % 1_000_000),
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

    /// Generate record `idx` of `obj`.
    pub fn record(&self, ov: &Overlay, obj: SObject, idx: u64) -> Rec {
        let mut rng = SmallRng::seed_from_u64(mix(self.seed ^ ((obj.slot() as u64) << 58) ^ idx));
        let users = self.count(SObject::User);
        let accounts = self.count(SObject::Account);
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
        };
        match obj {
            SObject::User => {
                let (alias, first, last) = USERS[idx as usize % USERS.len()];
                rec.first = Some(first);
                rec.last = last;
                rec.name = Some(Fmt::Two(first, last));
                rec.text1 = Some(alias);
                rec.text2 = Some(Fmt::Concat(alias, "@acme.example"));
                rec.text3 = Some(Fmt::Concat(alias, "@acme.example.emulator"));
                rec.flag = true;
            }
            SObject::Account => {
                let a = COMPANY_A[rng.random_range(0..COMPANY_A.len())];
                let b = COMPANY_B[rng.random_range(0..COMPANY_B.len())];
                rec.name = Some(if idx < (COMPANY_A.len() * COMPANY_B.len()) as u64 { Fmt::Two(a, b) } else { Fmt::TwoN(a, b, idx + 1) });
                rec.text1 = Some(INDUSTRIES[rng.random_range(0..INDUSTRIES.len())]);
                rec.text2 = Some(Fmt::AccountPhone(rng.random_range(0..10_000)));
                rec.text3_s = Some(CITIES[rng.random_range(0..CITIES.len())]);
                rec.num = rng.random_bool(0.8).then(|| Fmt::Int(rng.random_range(1..5_000u64) * 100_000));
            }
            SObject::Contact => {
                let has_first = rng.random_bool(0.95);
                let first = FIRST[rng.random_range(0..FIRST.len())];
                let last = LAST[rng.random_range(0..LAST.len())];
                rec.first = has_first.then_some(first);
                rec.last = last;
                if has_first {
                    rec.name = Some(Fmt::Two(first, last));
                } else {
                    rec.name_s = last;
                }
                rec.account = rng.random_bool(0.9).then(|| rng.random_range(0..accounts));
                rec.text1 = rng.random_bool(0.85).then(|| TITLES[rng.random_range(0..TITLES.len())]);
                rec.text2 = rng.random_bool(0.9).then(|| Fmt::ContactPhone(rng.random_range(200..1000), rng.random_range(0..10_000)));
                rec.text3 = rng.random_bool(0.92).then(|| Fmt::Email(first, last, idx + 1));
            }
            SObject::Opportunity => {
                rec.account = rng.random_bool(0.95).then(|| rng.random_range(0..accounts));
                let q = rng.random_range(1..=4);
                let year = 2020 + rng.random_range(0..6);
                rec.name = Some(match rng.random_range(0..3) {
                    0 => Fmt::Quarter(q, year),
                    1 => Fmt::Renewal(year, rng.random_range(5..500)),
                    _ => Fmt::Expansion(idx + 1),
                });
                let r: u32 = rng.random_range(0..100);
                rec.num = match r {
                    0..=4 => None,
                    // 18 significant digits (16 + 2): must survive a client's JSON round trip exactly.
                    5..=7 => Some(Fmt::Dec(rng.random_range(1_000_000_000_000_000u64..10_000_000_000_000_000u64), rng.random_range(1..100))),
                    8..=30 => Some(Fmt::Dec(rng.random_range(100..1_000_000u64), rng.random_range(1..100))),
                    _ => Some(Fmt::Int(rng.random_range(1..2_000u64) * 500)),
                };
                rec.small = rng.random_range(0..STAGES.len()) as u32;
                rec.day = days_since_epoch(rec.created) + rng.random_range(14..365);
            }
            SObject::Note => {
                rec.text1 = Some(NOTE_TITLES[rng.random_range(0..NOTE_TITLES.len())]);
                rec.text2_s = rng.random_bool(0.95).then(|| NOTE_BODIES[rng.random_range(0..NOTE_BODIES.len())]);
                rec.flag = rng.random_bool(0.1);
                let (pobj, pcount) = match rng.random_range(0..3) {
                    0 => (SObject::Account, accounts),
                    1 => (SObject::Contact, self.count(SObject::Contact)),
                    _ => (SObject::Opportunity, self.count(SObject::Opportunity)),
                };
                let (pobj, pcount) = if pcount == 0 { (SObject::Account, accounts) } else { (pobj, pcount) };
                rec.parent = Some((pobj, rng.random_range(0..pcount)));
            }
        }
        rec
    }

    /// The 18-char Id of record `idx`, without allocating.
    pub fn id_buf(&self, obj: SObject, idx: u64) -> IdBuf {
        ids::make_id_buf(obj.key_prefix(), &self.pod, idx)
    }

    /// The parent `(sObject, index)` of `rec` through relationship `rel` (`None` = null parent).
    pub fn parent(&self, rec: &Rec, rel: &RelDef) -> Option<(SObject, u64)> {
        match rel.name {
            "Owner" if rec.obj != SObject::User => Some((SObject::User, rec.owner)),
            "Account" => rec.account.map(|a| (SObject::Account, a)),
            _ => None,
        }
    }

    /// The value of field `name` (canonical casing) of `rec`.
    pub fn value(&self, rec: &Rec, name: &str) -> Val<'static> {
        let st = |x: Option<&'static str>| x.map_or(Val::Null, |v| Val::Str(Cow::Borrowed(v)));
        let fm = |x: Option<Fmt>| x.map_or(Val::Null, Val::Fmt);
        let num = |x: Option<Fmt>| x.map_or(Val::Null, Val::FmtNum);
        match name {
            "Id" => Val::Id(rec.id),
            "IsDeleted" => Val::Bool(rec.deleted),
            "CreatedDate" => Val::DateTime(rec.created),
            "LastModifiedDate" | "SystemModstamp" => Val::DateTime(rec.modstamp),
            "OwnerId" if rec.obj != SObject::User => Val::Id(self.id_buf(SObject::User, rec.owner)),
            "AccountId" => rec.account.map_or(Val::Null, |a| Val::Id(self.id_buf(SObject::Account, a))),
            "Name" => rec.name.map_or(Val::Str(Cow::Borrowed(rec.name_s)), Val::Fmt),
            "FirstName" => st(rec.first),
            "LastName" => Val::Str(Cow::Borrowed(rec.last)),
            _ => match (rec.obj, name) {
                (SObject::User, "Alias") => st(rec.text1),
                (SObject::User, "Email") => fm(rec.text2),
                (SObject::User, "Username") => fm(rec.text3),
                (SObject::User, "IsActive") => Val::Bool(rec.flag),
                (SObject::Account, "Industry") => st(rec.text1),
                (SObject::Account, "Phone") => fm(rec.text2),
                (SObject::Account, "BillingCity") => st(rec.text3_s),
                (SObject::Account, "AnnualRevenue") => num(rec.num),
                (SObject::Contact, "Title") => st(rec.text1),
                (SObject::Contact, "Phone") => fm(rec.text2),
                (SObject::Contact, "Email") => fm(rec.text3),
                (SObject::Opportunity, "Amount") => num(rec.num),
                (SObject::Opportunity, "CloseDate") => Val::Date(rec.day),
                (SObject::Opportunity, "StageName") => Val::Str(Cow::Borrowed(STAGES[rec.small as usize].0)),
                (SObject::Opportunity, "Probability") => Val::FmtNum(Fmt::Int(STAGES[rec.small as usize].1 as u64)),
                (SObject::Opportunity, "IsClosed") => Val::Bool(STAGES[rec.small as usize].0.starts_with("Closed")),
                (SObject::Opportunity, "IsWon") => Val::Bool(STAGES[rec.small as usize].0 == "Closed Won"),
                (SObject::Note, "Title") => st(rec.text1),
                (SObject::Note, "Body") => st(rec.text2_s),
                (SObject::Note, "IsPrivate") => Val::Bool(rec.flag),
                (SObject::Note, "ParentId") => rec.parent.map_or(Val::Null, |(o, i)| Val::Id(self.id_buf(o, i))),
                _ => Val::Null,
            },
        }
    }

    /// Mark up to `n` live records of `obj` as modified now: their `SystemModstamp`/`LastModifiedDate`
    /// become `now_ms` (+1 ms per record so they stay distinct and increasing). Picks records spread
    /// over the id range, deterministically. Returns their Ids.
    pub fn touch(&self, ov: &mut Overlay, obj: SObject, n: u64, now_ms: i64) -> Vec<String> {
        let picks = self.pick(ov, obj, n, 0x70C4);
        let mut out = Vec::with_capacity(picks.len());
        for idx in picks {
            ov.touch_seq += 1;
            ov.touched[obj.slot()].insert(idx, now_ms + ov.touch_seq);
            out.push(self.id(obj, idx));
        }
        out
    }

    /// Touch specific records by Id. Unknown Ids are returned in the error.
    pub fn touch_ids(&self, ov: &mut Overlay, obj: SObject, ids: &[String], now_ms: i64) -> Result<Vec<String>, String> {
        let idxs = self.resolve_ids(obj, ids)?;
        Ok(idxs
            .into_iter()
            .map(|idx| {
                ov.touch_seq += 1;
                ov.touched[obj.slot()].insert(idx, now_ms + ov.touch_seq);
                self.id(obj, idx)
            })
            .collect())
    }

    /// Soft-delete up to `n` live records of `obj` (also bumps their `SystemModstamp`, as a real
    /// delete does). Returns their Ids.
    pub fn delete(&self, ov: &mut Overlay, obj: SObject, n: u64, now_ms: i64) -> Vec<String> {
        let picks = self.pick(ov, obj, n, 0xDE1E);
        self.delete_idxs(ov, obj, picks, now_ms)
    }

    /// Soft-delete specific records by Id.
    pub fn delete_ids(&self, ov: &mut Overlay, obj: SObject, ids: &[String], now_ms: i64) -> Result<Vec<String>, String> {
        let idxs = self.resolve_ids(obj, ids)?;
        Ok(self.delete_idxs(ov, obj, idxs, now_ms))
    }

    fn delete_idxs(&self, ov: &mut Overlay, obj: SObject, idxs: Vec<u64>, now_ms: i64) -> Vec<String> {
        idxs.into_iter()
            .map(|idx| {
                ov.deleted[obj.slot()].insert(idx);
                ov.touch_seq += 1;
                ov.touched[obj.slot()].insert(idx, now_ms + ov.touch_seq);
                self.id(obj, idx)
            })
            .collect()
    }

    fn resolve_ids(&self, obj: SObject, ids: &[String]) -> Result<Vec<u64>, String> {
        ids.iter()
            .map(|id| self.index_of(obj, id).ok_or_else(|| format!("not a {} Id of this org: {id}", obj.name())))
            .collect()
    }

    fn pick(&self, ov: &Overlay, obj: SObject, n: u64, salt: u64) -> Vec<u64> {
        let count = self.count(obj);
        let mut out = Vec::new();
        if count == 0 || n == 0 {
            return out;
        }
        let mut rng = SmallRng::seed_from_u64(mix(self.seed ^ salt ^ ov.touch_seq as u64));
        let mut chosen = HashSet::new();
        let mut attempts = 0u64;
        while (out.len() as u64) < n && attempts < n.saturating_mul(20).max(1000) {
            attempts += 1;
            let idx = rng.random_range(0..count);
            if ov.is_deleted(obj, idx) || !chosen.insert(idx) {
                continue;
            }
            out.push(idx);
        }
        if (out.len() as u64) < n {
            for idx in 0..count {
                if (out.len() as u64) >= n {
                    break;
                }
                if !ov.is_deleted(obj, idx) && chosen.insert(idx) {
                    out.push(idx);
                }
            }
        }
        out.sort_unstable();
        out
    }
}

fn days_since_epoch(ms: i64) -> i64 {
    ms.div_euclid(86_400_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_texts_need_no_json_escaping_when_formatted() {
        // Fmt values are written between quotes without escaping.
        for t in USERS.iter().flat_map(|u| [u.0, u.1, u.2]).chain(FIRST.iter().copied()).chain(LAST.iter().copied()).chain(COMPANY_A.iter().copied()).chain(COMPANY_B.iter().copied()) {
            assert!(!t.chars().any(|c| c == '"' || c == '\\' || c.is_control()), "{t:?}");
        }
    }

    #[test]
    fn fast_writer_matches_display() {
        let all = [
            Fmt::Two("Zoë", "Müller"),
            Fmt::TwoN("Acme", "Corp", 1234),
            Fmt::ContactPhone(201, 7),
            Fmt::AccountPhone(42),
            Fmt::Email("Zoë", "O'Connor", 9),
            Fmt::Concat("jsmith", "@acme.example"),
            Fmt::Quarter(3, 2024),
            Fmt::Renewal(2025, 12),
            Fmt::Expansion(7),
            Fmt::Dec(1_234_567_890_123_456, 5),
            Fmt::Dec(0, 0),
            Fmt::Int(0),
            Fmt::Int(u64::MAX),
        ];
        for f in all {
            let mut s = String::new();
            f.write_to(&mut s);
            assert_eq!(s, f.to_string());
        }
        let mut s = String::new();
        crate::time::format_datetime(0, &mut s);
        assert_eq!(s, "1970-01-01T00:00:00.000+0000");
    }

    #[test]
    fn rendering_matches_serde_json() {
        let ds = Dataset::new(1, 300, 300, 300);
        let ov = Overlay::default();
        for obj in ALL_SOBJECTS {
            for idx in 0..ds.count(obj).min(300) {
                let rec = ds.record(&ov, obj, idx);
                for f in obj.fields() {
                    let mut out = String::new();
                    ds.value(&rec, f.name).write_json(&mut out);
                    let parsed: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{out}: {e}"));
                    if let Val::Str(s) = ds.value(&rec, f.name).normalize() {
                        assert_eq!(parsed.as_str(), Some(s.as_ref()));
                    }
                }
            }
        }
    }
}
