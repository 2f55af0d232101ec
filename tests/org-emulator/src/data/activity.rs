//! Task, Event and Lead. Tasks and Events point at a Contact or Lead through the polymorphic
//! `WhoId` and at an Account or Opportunity through `WhatId` [object reference: Task, Event;
//! <https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_task.htm>].

use std::borrow::Cow;

use rand::Rng;
use rand::rngs::SmallRng;

use super::crm::{CITIES, COMPANY_A, COMPANY_B, FIRST, LAST, TITLES};
use super::schema::{LEAD_SOURCES, LEAD_STATUS, PRIORITIES, TASK_STATUS};
use super::{Dataset, Fmt, Rec, SObject, Val, days_since_epoch};

const SUBJECTS: &[&str] = &[
    "Call", "Send Quote", "Send Letter", "Email", "Follow-up — pricing", "Demo 🚀", "Renewal call",
    "Réunion de suivi", "Onboarding",
];
const DESCRIPTIONS: &[&str] = &[
    "Discussed next steps.",
    "Left a voicemail; will try again Thursday.",
    "Customer asked for the \"enterprise\" tier.\nSend the price list.",
    "Agenda:\n\t1. Review\n\t2. Q&A 💬",
];
const DURATIONS: &[u64] = &[15, 30, 60, 90, 120];
const DAY_MS: i64 = 86_400_000;

/// Pick a polymorphic target: `(share in percent, [(sObject, weight in percent)])`.
fn poly(ds: &Dataset, rng: &mut SmallRng, share: f64, first: SObject, first_share: f64, second: SObject) -> Option<(SObject, u64)> {
    if !rng.random_bool(share) {
        return None;
    }
    let (a, b) = (ds.count(first), ds.count(second));
    let obj = if (rng.random_bool(first_share) && a > 0) || b == 0 { first } else { second };
    let n = ds.count(obj);
    (n > 0).then(|| (obj, rng.random_range(0..n)))
}

/// Fill the slots of a Task, Event or Lead (the RNG has already drawn the owner).
pub(super) fn fill(ds: &Dataset, rec: &mut Rec, rng: &mut SmallRng) {
    match rec.obj {
        SObject::Task | SObject::Event => {
            rec.who = poly(ds, rng, 0.7, SObject::Contact, 0.75, SObject::Lead);
            rec.parent = poly(ds, rng, 0.8, SObject::Account, 0.6, SObject::Opportunity);
            rec.text1 = Some(SUBJECTS[rng.random_range(0..SUBJECTS.len())]);
            rec.text2_s = rng.random_bool(0.6).then(|| DESCRIPTIONS[rng.random_range(0..DESCRIPTIONS.len())]);
            if rec.obj == SObject::Task {
                rec.day = days_since_epoch(rec.created) + rng.random_range(-10..60);
                rec.small = rng.random_range(0..TASK_STATUS.len() as u32) | rng.random_range(0..PRIORITIES.len() as u32) << 8;
            } else {
                rec.flag = rng.random_bool(0.15);
                let day = days_since_epoch(rec.created) + rng.random_range(1..60);
                let start = if rec.flag { day * DAY_MS } else { day * DAY_MS + rng.random_range(14..40) * 1_800_000 };
                rec.at = Some(start);
                let minutes = if rec.flag { 1440 } else { DURATIONS[rng.random_range(0..DURATIONS.len())] };
                rec.num = Some(Fmt::Int(minutes));
                rec.day = day;
                rec.text3_s = rng.random_bool(0.7).then(|| CITIES[rng.random_range(0..CITIES.len())]);
            }
        }
        SObject::Lead => {
            let has_first = rng.random_bool(0.9);
            let first = FIRST[rng.random_range(0..FIRST.len())];
            let last = LAST[rng.random_range(0..LAST.len())];
            rec.first = has_first.then_some(first);
            rec.last = last;
            if has_first {
                rec.name = Some(Fmt::Two(first, last));
            } else {
                rec.name_s = last;
            }
            rec.text1 = rng.random_bool(0.7).then(|| TITLES[rng.random_range(0..TITLES.len())]);
            rec.text2 = Some(Fmt::Two(COMPANY_A[rng.random_range(0..COMPANY_A.len())], COMPANY_B[rng.random_range(0..COMPANY_B.len())]));
            rec.text3 = rng.random_bool(0.9).then(|| Fmt::Email(first, last, rec.idx + 1));
            rec.num = rng.random_bool(0.8).then(|| Fmt::ContactPhone(rng.random_range(200..1000), rng.random_range(0..10_000)));
            rec.small = rng.random_range(0..LEAD_STATUS.len() as u32) | rng.random_range(0..LEAD_SOURCES.len() as u32) << 8;
            rec.flag = rng.random_bool(0.8);
        }
        _ => unreachable!("not an activity or lead"),
    }
}

/// The value of field `name` of a Task, Event or Lead.
pub(super) fn value(rec: &Rec, name: &str) -> Val<'static> {
    let st = |x: Option<&'static str>| x.map_or(Val::Null, |v| Val::Str(Cow::Borrowed(v)));
    let fm = |x: Option<Fmt>| x.map_or(Val::Null, Val::Fmt);
    let lo = (rec.small & 0xFF) as usize;
    let hi = (rec.small >> 8) as usize;
    match (rec.obj, name) {
        (SObject::Task | SObject::Event, "Subject") => st(rec.text1),
        (SObject::Task | SObject::Event, "Description") => st(rec.text2_s),
        (SObject::Task, "ActivityDate") => Val::Date(rec.day),
        (SObject::Task, "Status") => Val::Str(Cow::Borrowed(TASK_STATUS[lo])),
        (SObject::Task, "Priority") => Val::Str(Cow::Borrowed(PRIORITIES[hi])),
        (SObject::Task, "IsClosed") => Val::Bool(TASK_STATUS[lo] == "Completed"),
        (SObject::Event, "Location") => st(rec.text3_s),
        (SObject::Event, "IsAllDayEvent") => Val::Bool(rec.flag),
        (SObject::Event, "ActivityDateTime" | "StartDateTime") if !rec.flag => rec.at.map_or(Val::Null, Val::DateTime),
        (SObject::Event, "ActivityDate") => Val::Date(rec.day),
        (SObject::Event, "DurationInMinutes") => rec.num.map_or(Val::Null, Val::FmtNum),
        (SObject::Event, "EndDateTime") if !rec.flag => match (rec.at, rec.num) {
            (Some(at), Some(Fmt::Int(m))) => Val::DateTime(at + m as i64 * 60_000),
            _ => Val::Null,
        },
        (SObject::Lead, "Name") => rec.name.map_or(Val::Str(Cow::Borrowed(rec.name_s)), Val::Fmt),
        (SObject::Lead, "FirstName") => st(rec.first),
        (SObject::Lead, "LastName") => Val::Str(Cow::Borrowed(rec.last)),
        (SObject::Lead, "Title") => st(rec.text1),
        (SObject::Lead, "Company") => fm(rec.text2),
        (SObject::Lead, "Email") => fm(rec.text3),
        (SObject::Lead, "Phone") => fm(rec.num),
        (SObject::Lead, "Status") => Val::Str(Cow::Borrowed(LEAD_STATUS[lo])),
        (SObject::Lead, "LeadSource") if rec.flag => Val::Str(Cow::Borrowed(LEAD_SOURCES[hi])),
        _ => Val::Null,
    }
}
