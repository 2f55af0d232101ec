//! The schema: sObjects, their fields with describe metadata, child-to-parent relationships (single
//! and polymorphic) and parent-to-child relationships. SOQL resolution (`INVALID_FIELD`,
//! `INVALID_TYPE`) and the describe resources both read these tables, so they never disagree.
//!
//! Field names, types, labels and relationship names follow the standard object reference
//! (<https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/>);
//! the emulator carries only a subset of each object's fields.

use super::SObject;

/// Describe `type` of a field (`DescribeFieldResult.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `id`
    Id,
    /// `reference` (a lookup Id)
    Reference,
    /// `string`
    String,
    /// `textarea` (long when `length` > 255: not filterable, not sortable)
    TextArea,
    /// `picklist`
    Picklist,
    /// `multipicklist` (values joined with `;`; `INCLUDES` / `EXCLUDES`)
    MultiPicklist,
    /// `email`
    Email,
    /// `phone`
    Phone,
    /// `url`
    Url,
    /// `boolean`
    Boolean,
    /// `date`
    Date,
    /// `datetime`
    DateTime,
    /// `double`
    Double,
    /// `currency`
    Currency,
    /// `percent`
    Percent,
    /// `int`
    Int,
    /// `address` (compound: `BillingAddress`)
    Address,
    /// `location` (compound geolocation: `Location__c`)
    Location,
}

impl Kind {
    /// The describe `type` text.
    pub fn describe_type(self) -> &'static str {
        match self {
            Kind::Id => "id",
            Kind::Reference => "reference",
            Kind::String => "string",
            Kind::TextArea => "textarea",
            Kind::Picklist => "picklist",
            Kind::MultiPicklist => "multipicklist",
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Url => "url",
            Kind::Boolean => "boolean",
            Kind::Date => "date",
            Kind::DateTime => "datetime",
            Kind::Double => "double",
            Kind::Currency => "currency",
            Kind::Percent => "percent",
            Kind::Int => "int",
            Kind::Address => "address",
            Kind::Location => "location",
        }
    }

    /// The describe `soapType` text.
    pub fn soap_type(self) -> &'static str {
        match self {
            Kind::Id | Kind::Reference => "tns:ID",
            Kind::Boolean => "xsd:boolean",
            Kind::Date => "xsd:date",
            Kind::DateTime => "xsd:dateTime",
            Kind::Double | Kind::Currency | Kind::Percent => "xsd:double",
            Kind::Int => "xsd:int",
            Kind::Address => "urn:address",
            Kind::Location => "urn:location",
            _ => "xsd:string",
        }
    }
}

/// Value types, enough to type-check SOQL literals and compare values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// `id`
    Id,
    /// `reference` (a lookup Id)
    Reference,
    /// `string`, `email`, `phone`, `url`, `picklist`, `textarea`
    Text,
    /// `multipicklist`
    MultiPicklist,
    /// `boolean`
    Boolean,
    /// `datetime`
    DateTime,
    /// `date`
    Date,
    /// `currency` / `double` / `percent` / `int`
    Number,
    /// `address` / `location` (read-only compound values)
    Compound,
}

/// One field of an sObject, with the describe metadata the emulator serves.
#[derive(Clone, Copy, Debug)]
pub struct FieldDef {
    /// Canonical API name (response keys use this casing).
    pub name: &'static str,
    /// Label.
    pub label: &'static str,
    /// Describe type.
    pub kind: Kind,
    /// Text length in characters (`length`; 18 for Ids, 0 for non-text).
    pub length: u32,
    /// Number precision (total digits; 0 for non-numbers).
    pub precision: u32,
    /// Number scale (digits after the point).
    pub scale: u32,
    /// `nillable`.
    pub nillable: bool,
    /// Whether `ORDER BY` accepts it (long text areas and compound fields are not sortable).
    pub sortable: bool,
    /// Whether `WHERE` accepts it (long text areas and compound fields are not filterable).
    pub filterable: bool,
    /// A custom field (`__c` / `__s`).
    pub custom: bool,
    /// `compoundFieldName`: the compound this component belongs to (`BillingAddress`).
    pub compound: Option<&'static str>,
    /// `relationshipName` of a lookup (`Account`, `What`).
    pub relationship: Option<&'static str>,
    /// `referenceTo` of a lookup.
    pub reference_to: &'static [SObject],
    /// Picklist values (active, in order).
    pub picklist: &'static [&'static str],
    /// Column number of a generated custom field (wide object), 0 otherwise.
    pub slot: u16,
}

impl FieldDef {
    /// The value type for SOQL literals and comparisons.
    pub fn ty(&self) -> FieldType {
        match self.kind {
            Kind::Id => FieldType::Id,
            Kind::Reference => FieldType::Reference,
            Kind::MultiPicklist => FieldType::MultiPicklist,
            Kind::Boolean => FieldType::Boolean,
            Kind::Date => FieldType::Date,
            Kind::DateTime => FieldType::DateTime,
            Kind::Double | Kind::Currency | Kind::Percent | Kind::Int => FieldType::Number,
            Kind::Address | Kind::Location => FieldType::Compound,
            _ => FieldType::Text,
        }
    }

    /// A long text area (counts toward the 200-row page cap of queries selecting two or more).
    pub fn is_long_text(&self) -> bool {
        self.kind == Kind::TextArea && self.length > 255
    }
}

const BASE: FieldDef = FieldDef {
    name: "",
    label: "",
    kind: Kind::String,
    length: 0,
    precision: 0,
    scale: 0,
    nillable: true,
    sortable: true,
    filterable: true,
    custom: false,
    compound: None,
    relationship: None,
    reference_to: &[],
    picklist: &[],
    slot: 0,
};

/// `Id` (label `<Object> ID`).
pub const fn id(label: &'static str) -> FieldDef {
    FieldDef { name: "Id", label, kind: Kind::Id, length: 18, nillable: false, ..BASE }
}
/// A text field of `length` characters.
pub const fn text(name: &'static str, label: &'static str, length: u32) -> FieldDef {
    FieldDef { name, label, length, ..BASE }
}
/// A text field of another text kind (email, phone, url, textarea).
pub const fn text_kind(name: &'static str, label: &'static str, kind: Kind, length: u32) -> FieldDef {
    let long = length > 255;
    FieldDef { name, label, kind, length, sortable: !long, filterable: !long, ..BASE }
}
/// A picklist (`multi`: multi-select).
pub const fn pick(name: &'static str, label: &'static str, multi: bool, values: &'static [&'static str]) -> FieldDef {
    let kind = if multi { Kind::MultiPicklist } else { Kind::Picklist };
    FieldDef { name, label, kind, length: if multi { 4099 } else { 255 }, picklist: values, ..BASE }
}
/// A checkbox (never null).
pub const fn boolean(name: &'static str, label: &'static str) -> FieldDef {
    FieldDef { name, label, kind: Kind::Boolean, nillable: false, ..BASE }
}
/// A date (`kind` Date) or dateTime (`kind` DateTime) field.
pub const fn when(name: &'static str, label: &'static str, kind: Kind, nillable: bool) -> FieldDef {
    FieldDef { name, label, kind, nillable, ..BASE }
}
/// A number (double, currency, percent, int) with precision and scale.
pub const fn number(name: &'static str, label: &'static str, kind: Kind, precision: u32, scale: u32) -> FieldDef {
    FieldDef { name, label, kind, precision, scale, ..BASE }
}
/// A lookup with its relationship name and targets.
pub const fn lookup(name: &'static str, label: &'static str, rel: &'static str, to: &'static [SObject], nillable: bool) -> FieldDef {
    FieldDef { name, label, kind: Kind::Reference, length: 18, nillable, relationship: Some(rel), reference_to: to, ..BASE }
}
/// A compound field (address or location): read-only, not filterable or sortable.
pub const fn compound(name: &'static str, label: &'static str, kind: Kind) -> FieldDef {
    FieldDef { name, label, kind, sortable: false, filterable: false, ..BASE }
}
/// `base` as a component of compound `of`.
pub const fn part(base: FieldDef, of: &'static str) -> FieldDef {
    FieldDef { compound: Some(of), ..base }
}

/// A child-to-parent relationship (`Account` via `AccountId`; `What` via `WhatId` is polymorphic).
#[derive(Clone, Copy, Debug)]
pub struct RelDef {
    /// Relationship name (`Account`, `Owner`, `What`).
    pub name: &'static str,
    /// The lookup field holding the parent Id.
    pub field: &'static str,
    /// The parent sObjects (more than one: polymorphic).
    pub targets: &'static [SObject],
}

impl RelDef {
    /// Whether the lookup can point at several sObject types (`What`, `Who`, `Parent`).
    pub fn is_polymorphic(&self) -> bool {
        self.targets.len() > 1
    }
}

/// A parent-to-child relationship (`Account.Contacts` = Contacts whose `AccountId` is the Account).
#[derive(Clone, Copy, Debug)]
pub struct ChildRel {
    /// Relationship name (`Contacts`).
    pub name: &'static str,
    /// The child sObject.
    pub child: SObject,
    /// The child's lookup field to the parent.
    pub field: &'static str,
}

use Kind as K;
use SObject as O;

const fn owner() -> FieldDef {
    lookup("OwnerId", "Owner ID", "Owner", &[O::User], false)
}
const CREATED: FieldDef = when("CreatedDate", "Created Date", K::DateTime, false);
const MODIFIED: FieldDef = when("LastModifiedDate", "Last Modified Date", K::DateTime, false);
const STAMP: FieldDef = when("SystemModstamp", "System Modstamp", K::DateTime, false);
const DELETED: FieldDef = boolean("IsDeleted", "Deleted");

/// The lookup targets of `Task.WhatId` / `Event.WhatId`.
pub const WHAT_TARGETS: &[SObject] = &[O::Account, O::Opportunity];
/// The lookup targets of `Task.WhoId` / `Event.WhoId`.
pub const WHO_TARGETS: &[SObject] = &[O::Contact, O::Lead];
/// The lookup targets of `Note.ParentId`.
pub const NOTE_PARENTS: &[SObject] = &[O::Account, O::Contact, O::Opportunity];

pub(super) const USER_FIELDS: &[FieldDef] = &[
    id("User ID"),
    FieldDef { nillable: false, ..text("Username", "Username", 80) },
    FieldDef { nillable: false, ..text("Alias", "Alias", 8) },
    FieldDef { nillable: false, ..text("Name", "Full Name", 121) },
    text("FirstName", "First Name", 40),
    FieldDef { nillable: false, ..text("LastName", "Last Name", 80) },
    FieldDef { nillable: false, ..text_kind("Email", "Email", K::Email, 128) },
    boolean("IsActive", "Active"),
    CREATED,
    MODIFIED,
    STAMP,
];

const ACCURACY: &[&str] = &["Address", "NearAddress", "Block", "Street", "ExtendedZip", "Zip", "Neighborhood", "City", "County", "State", "Unknown"];

macro_rules! address_fields {
    ($p:literal, $label:literal) => {
        [
            part(text_kind(concat!($p, "Street"), concat!($label, " Street"), K::TextArea, 255), concat!($p, "Address")),
            part(text(concat!($p, "City"), concat!($label, " City"), 40), concat!($p, "Address")),
            part(text(concat!($p, "State"), concat!($label, " State/Province"), 80), concat!($p, "Address")),
            part(text(concat!($p, "PostalCode"), concat!($label, " Zip/Postal Code"), 20), concat!($p, "Address")),
            part(text(concat!($p, "Country"), concat!($label, " Country"), 80), concat!($p, "Address")),
            part(number(concat!($p, "Latitude"), concat!($label, " Latitude"), K::Double, 18, 15), concat!($p, "Address")),
            part(number(concat!($p, "Longitude"), concat!($label, " Longitude"), K::Double, 18, 15), concat!($p, "Address")),
            part(pick(concat!($p, "GeocodeAccuracy"), concat!($label, " Geocode Accuracy"), false, ACCURACY), concat!($p, "Address")),
            compound(concat!($p, "Address"), concat!($label, " Address"), K::Address),
        ]
    };
}

const BILLING: [FieldDef; 9] = address_fields!("Billing", "Billing");
const SHIPPING: [FieldDef; 9] = address_fields!("Shipping", "Shipping");
const MAILING: [FieldDef; 9] = address_fields!("Mailing", "Mailing");
const OTHER: [FieldDef; 9] = address_fields!("Other", "Other");

/// Industries served in `Account.Industry`.
pub const INDUSTRIES: &[&str] = &["Technology", "Manufacturing", "Finance", "Healthcare", "Retail", "Energy", "Education"];

pub(super) const ACCOUNT_FIELDS: &[FieldDef] = &[
    id("Account ID"),
    DELETED,
    FieldDef { nillable: false, ..text("Name", "Account Name", 255) },
    pick("Industry", "Industry", false, INDUSTRIES),
    text_kind("Phone", "Account Phone", K::Phone, 40),
    BILLING[0], BILLING[1], BILLING[2], BILLING[3], BILLING[4], BILLING[5], BILLING[6], BILLING[7], BILLING[8],
    SHIPPING[0], SHIPPING[1], SHIPPING[2], SHIPPING[3], SHIPPING[4], SHIPPING[5], SHIPPING[6], SHIPPING[7], SHIPPING[8],
    number("AnnualRevenue", "Annual Revenue", K::Currency, 18, 0),
    owner(),
    CREATED,
    MODIFIED,
    STAMP,
];

pub(super) const CONTACT_FIELDS: &[FieldDef] = &[
    id("Contact ID"),
    DELETED,
    lookup("AccountId", "Account ID", "Account", &[O::Account], true),
    FieldDef { nillable: false, ..text("LastName", "Last Name", 80) },
    text("FirstName", "First Name", 40),
    FieldDef { nillable: false, ..text("Name", "Full Name", 121) },
    text("Title", "Title", 128),
    text_kind("Phone", "Business Phone", K::Phone, 40),
    text_kind("Email", "Email", K::Email, 80),
    MAILING[0], MAILING[1], MAILING[2], MAILING[3], MAILING[4], MAILING[5], MAILING[6], MAILING[7], MAILING[8],
    OTHER[0], OTHER[1], OTHER[2], OTHER[3], OTHER[4], OTHER[5], OTHER[6], OTHER[7], OTHER[8],
    owner(),
    CREATED,
    MODIFIED,
    STAMP,
];

/// Opportunity stages with their default probability.
pub const STAGES: &[(&str, u32)] = &[
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
const STAGE_NAMES: &[&str] = &[
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
    "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
];

pub(super) const OPPORTUNITY_FIELDS: &[FieldDef] = &[
    id("Opportunity ID"),
    DELETED,
    lookup("AccountId", "Account ID", "Account", &[O::Account], true),
    FieldDef { nillable: false, ..text("Name", "Name", 120) },
    number("Amount", "Amount", K::Currency, 18, 2),
    when("CloseDate", "Close Date", K::Date, false),
    FieldDef { nillable: false, ..pick("StageName", "Stage", false, STAGE_NAMES) },
    number("Probability", "Probability (%)", K::Percent, 3, 0),
    boolean("IsClosed", "Closed"),
    boolean("IsWon", "Won"),
    owner(),
    CREATED,
    MODIFIED,
    STAMP,
];

pub(super) const NOTE_FIELDS: &[FieldDef] = &[
    id("Note ID"),
    DELETED,
    lookup("ParentId", "Parent ID", "Parent", NOTE_PARENTS, false),
    FieldDef { nillable: false, ..text("Title", "Title", 80) },
    boolean("IsPrivate", "Private"),
    text_kind("Body", "Body", K::TextArea, 32000),
    owner(),
    CREATED,
    MODIFIED,
    STAMP,
];

/// `Task.Status` values.
pub const TASK_STATUS: &[&str] = &["Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"];
/// `Task.Priority` values.
pub const PRIORITIES: &[&str] = &["High", "Normal", "Low"];

pub(super) const TASK_FIELDS: &[FieldDef] = &[
    id("Activity ID"),
    lookup("WhoId", "Name ID", "Who", WHO_TARGETS, true),
    lookup("WhatId", "Related To ID", "What", WHAT_TARGETS, true),
    text("Subject", "Subject", 255),
    when("ActivityDate", "Due Date Only", K::Date, true),
    FieldDef { nillable: false, ..pick("Status", "Status", false, TASK_STATUS) },
    FieldDef { nillable: false, ..pick("Priority", "Priority", false, PRIORITIES) },
    boolean("IsClosed", "Closed"),
    text_kind("Description", "Description", K::TextArea, 32000),
    owner(),
    DELETED,
    CREATED,
    MODIFIED,
    STAMP,
];

pub(super) const EVENT_FIELDS: &[FieldDef] = &[
    id("Activity ID"),
    lookup("WhoId", "Name ID", "Who", WHO_TARGETS, true),
    lookup("WhatId", "Related To ID", "What", WHAT_TARGETS, true),
    text("Subject", "Subject", 255),
    text("Location", "Location", 255),
    boolean("IsAllDayEvent", "All-Day Event"),
    when("ActivityDateTime", "Due Date Time", K::DateTime, true),
    when("ActivityDate", "Due Date Only", K::Date, true),
    number("DurationInMinutes", "Duration", K::Int, 9, 0),
    when("StartDateTime", "Start Date Time", K::DateTime, true),
    when("EndDateTime", "End Date Time", K::DateTime, true),
    text_kind("Description", "Description", K::TextArea, 32000),
    owner(),
    DELETED,
    CREATED,
    MODIFIED,
    STAMP,
];

/// `Lead.Status` values.
pub const LEAD_STATUS: &[&str] = &["Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"];
/// `Lead.LeadSource` values.
pub const LEAD_SOURCES: &[&str] = &["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"];

pub(super) const LEAD_FIELDS: &[FieldDef] = &[
    id("Lead ID"),
    DELETED,
    FieldDef { nillable: false, ..text("LastName", "Last Name", 80) },
    text("FirstName", "First Name", 40),
    FieldDef { nillable: false, ..text("Name", "Full Name", 121) },
    text("Title", "Title", 128),
    FieldDef { nillable: false, ..text("Company", "Company", 255) },
    text_kind("Email", "Email", K::Email, 80),
    text_kind("Phone", "Phone", K::Phone, 40),
    FieldDef { nillable: false, ..pick("Status", "Status", false, LEAD_STATUS) },
    pick("LeadSource", "Lead Source", false, LEAD_SOURCES),
    owner(),
    CREATED,
    MODIFIED,
    STAMP,
];

/// Fields of the `Name` entity: what a polymorphic relationship (`What.`, `Who.`, `Parent.`) offers
/// without `TYPEOF`. Values come from the referenced record when it has a field of that name
/// (otherwise `null`); `Type` is its sObject name.
pub const NAME_FIELDS: &[FieldDef] = &[
    id("Record ID"),
    text("Name", "Name", 255),
    text("Type", "Type", 40),
    text("Alias", "Alias", 8),
    text_kind("Email", "Email", K::Email, 80),
    text("FirstName", "First Name", 40),
    text("LastName", "Last Name", 80),
    text_kind("Phone", "Phone", K::Phone, 40),
    text("Title", "Title", 128),
    text("Username", "Username", 80),
];

const OWNER: RelDef = RelDef { name: "Owner", field: "OwnerId", targets: &[O::User] };
const ACCOUNT: RelDef = RelDef { name: "Account", field: "AccountId", targets: &[O::Account] };
const PARENT: RelDef = RelDef { name: "Parent", field: "ParentId", targets: NOTE_PARENTS };
const WHAT: RelDef = RelDef { name: "What", field: "WhatId", targets: WHAT_TARGETS };
const WHO: RelDef = RelDef { name: "Who", field: "WhoId", targets: WHO_TARGETS };

/// Child-to-parent relationships of `obj`.
pub fn relationships(obj: SObject) -> &'static [RelDef] {
    match obj {
        O::User => &[],
        O::Account | O::Lead | O::WideObject => &[OWNER],
        O::Contact | O::Opportunity => &[ACCOUNT, OWNER],
        O::Note => &[PARENT, OWNER],
        O::Task | O::Event => &[WHO, WHAT, OWNER],
    }
}

const fn child(name: &'static str, child: SObject, field: &'static str) -> ChildRel {
    ChildRel { name, child, field }
}

const ACCOUNT_CHILDREN: &[ChildRel] = &[
    child("Contacts", O::Contact, "AccountId"),
    child("Events", O::Event, "WhatId"),
    child("Notes", O::Note, "ParentId"),
    child("Opportunities", O::Opportunity, "AccountId"),
    child("Tasks", O::Task, "WhatId"),
];
const CONTACT_CHILDREN: &[ChildRel] = &[child("Events", O::Event, "WhoId"), child("Notes", O::Note, "ParentId"), child("Tasks", O::Task, "WhoId")];
const OPPORTUNITY_CHILDREN: &[ChildRel] = &[child("Events", O::Event, "WhatId"), child("Notes", O::Note, "ParentId"), child("Tasks", O::Task, "WhatId")];
const LEAD_CHILDREN: &[ChildRel] = &[child("Events", O::Event, "WhoId"), child("Tasks", O::Task, "WhoId")];

/// Parent-to-child relationships of `obj` (subquery `FROM` names).
pub fn child_relationships(obj: SObject) -> &'static [ChildRel] {
    match obj {
        O::Account => ACCOUNT_CHILDREN,
        O::Contact => CONTACT_CHILDREN,
        O::Opportunity => OPPORTUNITY_CHILDREN,
        O::Lead => LEAD_CHILDREN,
        O::User | O::Note | O::Task | O::Event | O::WideObject => &[],
    }
}
