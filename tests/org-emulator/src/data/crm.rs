//! User, Account, Contact, Opportunity and Note: the original generator (its RNG draw order pins
//! every value other tests rely on) plus the compound addresses, whose values come from a separate
//! hash so that adding them changed nothing else.

use std::borrow::Cow;

use rand::Rng;
use rand::rngs::SmallRng;

use super::schema::{INDUSTRIES, STAGES};
use super::{Dataset, Fmt, Rec, SObject, Val, days_since_epoch};

/// Number of Users.
pub const USER_COUNT: u64 = USERS.len() as u64;

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

pub(super) const FIRST: &[&str] = &[
    "John", "Jane", "Zoë", "José", "Øyvind", "Ngozi", "Aarav", "Mei", "Siobhán", "Łukasz", "Fatima",
    "Mary-Kate", "Renée", "Björn", "Ana", "Ahmed", "Chloé", "Dmitri", "Yuki", "Olu", "Priya", "Sam",
    "Émile", "Ines", "Kai", "Lars", "Noa", "Tomás", "Wen", "Zainab",
];
pub(super) const LAST: &[&str] = &[
    "Smith", "O'Connor", "Müller", "Nguyễn", "García", "Kowalski", "Zhang", "Iyer", "Okafor",
    "Johansson", "D'Angelo", "van der Berg", "Şahin", "Brown", "Tanaka", "Dubois", "Rossi", "Kim",
    "Novák", "Haddad", "Silva", "Fischer", "Andersen", "Lee", "Patel", "Hernández", "Walker",
    "Ivanova", "Cohen", "山田",
];
pub(super) const TITLES: &[&str] = &[
    "Director of Marketing", "VP, Sales", "CEO", "Software Engineer", "Head of \"Growth\"",
    "Procurement Manager", "CFO", "Account Executive", "Operations Lead", "Chef de projet",
    "Product Owner", "Customer Success 🚀",
];
pub(super) const COMPANY_A: &[&str] = &[
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Müller & Söhne", "Nordlys",
    "Sakura 桜", "O'Reilly", "Blue Sky ☁️", "Édition", "Zenith", "Quantum", "Pioneer", "Δelta",
];
pub(super) const COMPANY_B: &[&str] = &[
    "Corp", "Industries", "GmbH", "Labs", "Holdings", "S.A.", "Partners", "Ltd", "Inc.", "AS",
    "🚀 Ventures", "Group",
];
pub(super) const CITIES: &[&str] = &[
    "San Francisco", "München", "São Paulo", "Zürich", "Tōkyō", "London", "Kraków", "Reykjavík",
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

/// Fill the sObject-specific slots of `rec` (the RNG has already drawn the owner).
pub(super) fn fill(ds: &Dataset, rec: &mut Rec, rng: &mut SmallRng) {
    let idx = rec.idx;
    let accounts = ds.count(SObject::Account);
    match rec.obj {
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
                1 => (SObject::Contact, ds.count(SObject::Contact)),
                _ => (SObject::Opportunity, ds.count(SObject::Opportunity)),
            };
            let (pobj, pcount) = if pcount == 0 { (SObject::Account, accounts) } else { (pobj, pcount) };
            rec.parent = Some((pobj, rng.random_range(0..pcount)));
        }
        _ => unreachable!("not a CRM object"),
    }
}

/// The value of field `name` of a User, Account, Contact, Opportunity or Note.
pub(super) fn value(ds: &Dataset, rec: &Rec, name: &str) -> Val<'static> {
    let st = |x: Option<&'static str>| x.map_or(Val::Null, |v| Val::Str(Cow::Borrowed(v)));
    let fm = |x: Option<Fmt>| x.map_or(Val::Null, Val::Fmt);
    let num = |x: Option<Fmt>| x.map_or(Val::Null, Val::FmtNum);
    match name {
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
            (SObject::Account | SObject::Contact, _) => address_value(ds, rec, name),
            _ => Val::Null,
        },
    }
}

/// A city with its state, country, postal code and centre (micro-degrees).
struct City {
    name: &'static str,
    state: Option<&'static str>,
    country: &'static str,
    postal: &'static str,
    street: &'static str,
    lat: i64,
    lon: i64,
}

const fn city(name: &'static str, state: Option<&'static str>, country: &'static str, postal: &'static str, street: &'static str, lat: i64, lon: i64) -> City {
    City { name, state, country, postal, street, lat, lon }
}

/// One entry per name in `CITIES` (same order).
const CITY_INFO: &[City] = &[
    city("San Francisco", Some("CA"), "United States", "94105", "Market Street", 37_789_300, -122_401_700),
    city("München", Some("Bayern"), "Germany", "80331", "Leopoldstraße", 48_137_100, 11_575_400),
    city("São Paulo", Some("SP"), "Brazil", "01310-100", "Avenida Paulista", -23_561_400, -46_655_900),
    city("Zürich", Some("ZH"), "Switzerland", "8001", "Bahnhofstrasse", 47_376_900, 8_541_700),
    city("Tōkyō", Some("Tōkyō-to"), "Japan", "100-0005", "Marunouchi 1-chōme", 35_681_200, 139_767_100),
    city("London", None, "United Kingdom", "EC2V 7HH", "Gresham Street", 51_515_400, -93_500),
    city("Kraków", Some("Małopolskie"), "Poland", "31-042", "ul. Floriańska", 50_064_600, 19_944_900),
    city("Reykjavík", None, "Iceland", "101", "Laugavegur", 64_146_600, -21_942_600),
];

const GEOCODE: &[&str] = &["Address", "Street", "Zip", "City"];

/// Address kinds: (field prefix, salt, share of records that have one in percent).
const ADDRESSES: &[(&str, u64, u64)] = &[("Billing", 0xB111, 100), ("Shipping", 0x5417, 60), ("Mailing", 0x4A11, 85), ("Other", 0x0743, 20)];

/// The value of an address component (`BillingStreet`, `MailingLatitude`…) of an Account or
/// Contact. `Billing` addresses use the Account's `BillingCity` (drawn by the original generator);
/// the rest come from [`Dataset::hash`]. `…Address` itself is compound (rendered by the query
/// module from these components).
fn address_value(ds: &Dataset, rec: &Rec, name: &str) -> Val<'static> {
    let Some(&(prefix, salt, share)) = ADDRESSES.iter().find(|a| name.starts_with(a.0)) else { return Val::Null };
    let part = &name[prefix.len()..];
    let h = ds.hash(rec.obj, rec.idx, salt);
    let city = if prefix == "Billing" {
        match rec.text3_s.and_then(|c| CITY_INFO.iter().find(|i| i.name == c)) {
            Some(c) => c,
            None => return Val::Null,
        }
    } else if h % 100 < share {
        &CITY_INFO[(h >> 8) as usize % CITY_INFO.len()]
    } else {
        return Val::Null;
    };
    let geocoded = (h >> 16) % 10 < 7;
    let coord = |centre: i64, shift: u32| {
        let jitter = ((h >> shift) % 20_001) as i64 - 10_000;
        let v = centre + jitter;
        let sign = if v < 0 { "-" } else { "" };
        Val::Num(Cow::Owned(format!("{sign}{}.{:06}", v.abs() / 1_000_000, v.abs() % 1_000_000)))
    };
    match part {
        "Street" => {
            let n = 1 + (h >> 24) % 400;
            Val::Str(Cow::Owned(if (h >> 40).is_multiple_of(10) { format!("{n} {}\nSuite {}", city.street, 100 + (h >> 44) % 900) } else { format!("{n} {}", city.street) }))
        }
        "City" => Val::Str(Cow::Borrowed(city.name)),
        "State" => city.state.map_or(Val::Null, |s| Val::Str(Cow::Borrowed(s))),
        "PostalCode" => Val::Str(Cow::Borrowed(city.postal)),
        "Country" => Val::Str(Cow::Borrowed(city.country)),
        "Latitude" if geocoded => coord(city.lat, 20),
        "Longitude" if geocoded => coord(city.lon, 36),
        "GeocodeAccuracy" if geocoded => Val::Str(Cow::Borrowed(GEOCODE[((h >> 52) % GEOCODE.len() as u64) as usize])),
        _ => Val::Null,
    }
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
    fn every_city_has_address_details() {
        for c in CITIES {
            assert!(CITY_INFO.iter().any(|i| i.name == *c), "{c}");
        }
    }
}
