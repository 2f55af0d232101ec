//! Describe results: what Salesforce says about the org's sObjects and their fields
//! (`GET /services/data/vNN.N/sobjects`, describeGlobal, and `GET …/sobjects/X/describe`).
//!
//! The types keep the properties the SDK and its users read (names, types, labels, lengths,
//! relationships, compound fields) and the body exactly as received ([`SObjectDescribe::raw_json`],
//! [`DescribeGlobal::raw_json`]) for everything else (picklist values, record types, URLs…).
//! They serialize (serde) with Salesforce's property names (`type`, `referenceTo`,
//! `compoundFieldName`, …), so a typed value written out is a subset of the raw body.
//!
//! Parsing is lenient where Salesforce's bodies vary by API version and object: every property
//! but `name` may be missing or `null` (booleans then read `false`, lists empty, numbers `None`).
//!
//! Files: this one (the types and their decoders), `cache.rs` (the per-client cache with a
//! lifetime and single flight, used by `client/describe.rs`). Below `client/`: it uses only
//! `error`.

pub(crate) mod cache;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind};

fn null_is_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// One entry of describeGlobal's `sobjects` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SObjectSummary {
    /// API name (`Account`, `Wide_Object__c`).
    pub name: String,
    /// Singular label.
    #[serde(default, deserialize_with = "null_is_default")]
    pub label: String,
    /// Plural label.
    #[serde(default, deserialize_with = "null_is_default")]
    pub label_plural: String,
    /// The 3-character Id prefix (`001`), when the object has one.
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// A custom object (`__c`, …).
    #[serde(default, deserialize_with = "null_is_default")]
    pub custom: bool,
    /// SOQL can query it.
    #[serde(default, deserialize_with = "null_is_default")]
    pub queryable: bool,
    /// Records can be retrieved by Id.
    #[serde(default, deserialize_with = "null_is_default")]
    pub retrieveable: bool,
    /// Records can be created.
    #[serde(default, deserialize_with = "null_is_default")]
    pub createable: bool,
    /// Records can be updated.
    #[serde(default, deserialize_with = "null_is_default")]
    pub updateable: bool,
    /// Records can be deleted.
    #[serde(default, deserialize_with = "null_is_default")]
    pub deletable: bool,
    /// A custom setting.
    #[serde(default, deserialize_with = "null_is_default")]
    pub custom_setting: bool,
}

/// describeGlobal: every sObject the connected user can see (`GET …/sobjects`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeGlobal {
    /// The org's encoding (`UTF-8`), when sent.
    pub encoding: Option<String>,
    /// Most records one create/update call accepts (`200`), when sent.
    pub max_batch_size: Option<u64>,
    /// The sObjects, in Salesforce's order.
    pub sobjects: Vec<SObjectSummary>,
    #[serde(skip)]
    raw: Arc<str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GlobalWire {
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    max_batch_size: Option<u64>,
    sobjects: Vec<SObjectSummary>,
}

impl DescribeGlobal {
    /// Salesforce's body as received.
    pub fn raw_json(&self) -> &str {
        &self.raw
    }
    /// The sObject named `name` (ignoring case, as Salesforce does).
    pub fn sobject(&self, name: &str) -> Option<&SObjectSummary> {
        self.sobjects.iter().find(|s| s.name.eq_ignore_ascii_case(name))
    }
    /// Decodes a describeGlobal body (see [`DecodeError`]).
    pub fn from_json(text: impl Into<Arc<str>>) -> std::result::Result<DescribeGlobal, DecodeError> {
        let raw: Arc<str> = text.into();
        let w: GlobalWire = serde_json::from_str(&raw).map_err(DecodeError::from_serde)?;
        Ok(DescribeGlobal { encoding: w.encoding, max_batch_size: w.max_batch_size, sobjects: w.sobjects, raw })
    }
}

/// One field of an sObject describe (SOAP API `Field` / REST `fields[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDescribe {
    /// API name (`BillingCity`, `Location__Latitude__s`).
    pub name: String,
    /// Salesforce's field type: `id`, `string`, `textarea`, `reference`, `boolean`, `double`,
    /// `currency`, `percent`, `int`, `date`, `datetime`, `picklist`, `multipicklist`, `email`,
    /// `phone`, `url`, `address`, `location`, `base64`, … (as sent, lower case).
    #[serde(rename = "type", default, deserialize_with = "null_is_default")]
    pub field_type: String,
    /// Label.
    #[serde(default, deserialize_with = "null_is_default")]
    pub label: String,
    /// Accepts null.
    #[serde(default, deserialize_with = "null_is_default")]
    pub nillable: bool,
    /// Maximum length in characters for text types (Salesforce sends 0 for other types).
    #[serde(default)]
    pub length: Option<u64>,
    /// Digits in total for numbers (0 for other types).
    #[serde(default)]
    pub precision: Option<u64>,
    /// Digits after the decimal point for numbers (0 for other types).
    #[serde(default)]
    pub scale: Option<u64>,
    /// Digits of an `int` field (0 for other types).
    #[serde(default)]
    pub digits: Option<u64>,
    /// The relationship name of a lookup (`Account` for `AccountId`, `Owner`, `What`), if any.
    #[serde(default)]
    pub relationship_name: Option<String>,
    /// The sObjects a lookup points at (several for polymorphic lookups such as `WhatId`).
    #[serde(default, deserialize_with = "null_is_default")]
    pub reference_to: Vec<String>,
    /// The compound field this one is a component of (`BillingAddress` for `BillingCity`,
    /// `Location__c` for `Location__Latitude__s`).
    #[serde(default)]
    pub compound_field_name: Option<String>,
    /// A custom field.
    #[serde(default, deserialize_with = "null_is_default")]
    pub custom: bool,
    /// A formula or roll-up (read-only).
    #[serde(default, deserialize_with = "null_is_default")]
    pub calculated: bool,
    /// Usable in `WHERE`.
    #[serde(default, deserialize_with = "null_is_default")]
    pub filterable: bool,
    /// Usable in `ORDER BY`.
    #[serde(default, deserialize_with = "null_is_default")]
    pub sortable: bool,
    /// Usable in `GROUP BY`.
    #[serde(default, deserialize_with = "null_is_default")]
    pub groupable: bool,
    /// Settable on create.
    #[serde(default, deserialize_with = "null_is_default")]
    pub createable: bool,
    /// Settable on update.
    #[serde(default, deserialize_with = "null_is_default")]
    pub updateable: bool,
    /// An external Id.
    #[serde(default, deserialize_with = "null_is_default")]
    pub external_id: bool,
    /// The object's name field.
    #[serde(default, deserialize_with = "null_is_default")]
    pub name_field: bool,
    /// A lookup that can point at several sObjects.
    #[serde(default, deserialize_with = "null_is_default")]
    pub polymorphic_foreign_key: bool,
    /// Deprecated and hidden: not selectable; never part of an all-fields export.
    #[serde(default, deserialize_with = "null_is_default")]
    pub deprecated_and_hidden: bool,
    /// The SOAP type (`xsd:string`, `tns:ID`, `urn:address`), when sent.
    #[serde(default)]
    pub soap_type: Option<String>,
}

impl FieldDescribe {
    /// A compound field's own type: `address` or `location` (geolocation).
    pub fn is_compound_type(&self) -> bool {
        self.field_type.eq_ignore_ascii_case("address") || self.field_type.eq_ignore_ascii_case("location")
    }
}

/// One entry of an sObject describe's `childRelationships`: a lookup on another object pointing
/// here (`Contacts` on Account: child `Contact`, field `AccountId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildRelationship {
    /// The child sObject (`Contact`).
    #[serde(rename = "childSObject")]
    pub child_sobject: String,
    /// The lookup field on the child (`AccountId`).
    #[serde(default, deserialize_with = "null_is_default")]
    pub field: String,
    /// The name used in subqueries (`Contacts`), `None` when it cannot be queried as one.
    #[serde(default)]
    pub relationship_name: Option<String>,
    /// Deleting the parent deletes the children.
    #[serde(default, deserialize_with = "null_is_default")]
    pub cascade_delete: bool,
}

/// One sObject's describe (`GET …/sobjects/X/describe`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SObjectDescribe {
    /// API name, as Salesforce spells it (`Wide_Object__c`).
    pub name: String,
    /// Singular label.
    pub label: String,
    /// Plural label.
    pub label_plural: String,
    /// The 3-character Id prefix, when the object has one.
    pub key_prefix: Option<String>,
    /// A custom object.
    pub custom: bool,
    /// SOQL can query it.
    pub queryable: bool,
    /// The fields, in Salesforce's order.
    pub fields: Vec<FieldDescribe>,
    /// Lookups on other objects pointing here.
    pub child_relationships: Vec<ChildRelationship>,
    #[serde(skip)]
    raw: Arc<str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SObjectWire {
    name: String,
    #[serde(default, deserialize_with = "null_is_default")]
    label: String,
    #[serde(default, deserialize_with = "null_is_default")]
    label_plural: String,
    #[serde(default)]
    key_prefix: Option<String>,
    #[serde(default, deserialize_with = "null_is_default")]
    custom: bool,
    #[serde(default, deserialize_with = "null_is_default")]
    queryable: bool,
    fields: Vec<FieldDescribe>,
    #[serde(default, deserialize_with = "null_is_default")]
    child_relationships: Vec<ChildRelationship>,
}

impl SObjectDescribe {
    /// Salesforce's body as received.
    pub fn raw_json(&self) -> &str {
        &self.raw
    }

    /// The field named `name` (ignoring case, as SOQL does).
    pub fn field(&self, name: &str) -> Option<&FieldDescribe> {
        self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The fields an all-fields export or query selects, in describe order.
    ///
    /// The compound rule: a compound field and its components never both appear. The
    /// **components are kept** (`BillingStreet`, `BillingCity`, …, `Location__Latitude__s`,
    /// `Location__Longitude__s`) and the **compound field is dropped** (`BillingAddress`,
    /// `Location__c`): components are plain values that filters, CSV cells and Bulk API 2.0 can
    /// carry, while Bulk API 2.0 refuses compound fields in its SOQL [salesforce-api.md §6
    /// "Not supported in the SOQL"], so an export reads the same columns whichever API runs it.
    /// A field is compound when its type is `address` or `location`, or when another field names
    /// it as its `compoundFieldName` (both checked: either alone identifies it on some orgs).
    /// Fields marked `deprecatedAndHidden` are left out too (they cannot be selected).
    pub fn all_fields(&self) -> Vec<&FieldDescribe> {
        let compound = |f: &FieldDescribe| {
            f.is_compound_type()
                || self.fields.iter().any(|g| {
                    g.compound_field_name.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(&f.name))
                })
        };
        self.fields.iter().filter(|f| !f.deprecated_and_hidden && !compound(f)).collect()
    }

    /// Decodes an sObject describe body (see [`DecodeError`]).
    pub fn from_json(text: impl Into<Arc<str>>) -> std::result::Result<SObjectDescribe, DecodeError> {
        let raw: Arc<str> = text.into();
        let w: SObjectWire = serde_json::from_str(&raw).map_err(DecodeError::from_serde)?;
        if w.name.trim().is_empty() {
            return Err(DecodeError::Shape("the describe has an empty name".into()));
        }
        if let Some(f) = w.fields.iter().find(|f| f.name.trim().is_empty()) {
            return Err(DecodeError::Shape(format!("a field of {} has an empty name (type {})", w.name, f.field_type)));
        }
        Ok(SObjectDescribe {
            name: w.name,
            label: w.label,
            label_plural: w.label_plural,
            key_prefix: w.key_prefix,
            custom: w.custom,
            queryable: w.queryable,
            fields: w.fields,
            child_relationships: w.child_relationships,
            raw,
        })
    }
}

/// Why a describe body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Not JSON, or cut off: the transport retries it like a dropped connection.
    Syntax(String),
    /// Well-formed JSON of the wrong shape (a property of the wrong type, no `fields`).
    Shape(String),
}

impl DecodeError {
    fn from_serde(e: serde_json::Error) -> DecodeError {
        match e.classify() {
            serde_json::error::Category::Data => DecodeError::Shape(e.to_string()),
            _ => DecodeError::Syntax(e.to_string()),
        }
    }

    /// A `Protocol` error naming what was being read.
    pub fn into_error(self, what: &str) -> Error {
        let detail = match self {
            DecodeError::Syntax(m) => format!("is not complete JSON ({m})"),
            DecodeError::Shape(m) => format!("does not have the shape of a describe ({m})"),
        };
        Error::new(ErrorKind::Protocol, format!("Salesforce's {what} body {detail}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = r#"{"name":"Account","label":"Account","labelPlural":"Accounts","keyPrefix":"001",
      "custom":false,"queryable":true,"urls":{"describe":"/x"},"recordTypeInfos":[],
      "fields":[
        {"name":"Id","type":"id","label":"Account ID","nillable":false,"length":18,"precision":0,"scale":0,"referenceTo":[],"relationshipName":null,"compoundFieldName":null},
        {"name":"BillingStreet","type":"textarea","label":"Billing Street","nillable":true,"length":255,"compoundFieldName":"BillingAddress"},
        {"name":"BillingCity","type":"string","label":"Billing City","nillable":true,"length":40,"compoundFieldName":"BillingAddress"},
        {"name":"BillingAddress","type":"address","label":"Billing Address","nillable":true,"length":0},
        {"name":"Loc__c","type":"location","label":"Loc"},
        {"name":"Loc__Latitude__s","type":"double","label":"Loc (Latitude)","precision":9,"scale":6,"compoundFieldName":"Loc__c"},
        {"name":"Old__c","type":"string","deprecatedAndHidden":true},
        {"name":"Geo__c","type":"string","label":"Compound by name only"},
        {"name":"Geo__X__s","type":"double","compoundFieldName":"Geo__c"},
        {"name":"OwnerId","type":"reference","label":"Owner ID","referenceTo":["User"],"relationshipName":"Owner","length":18,"custom":null}
      ],
      "childRelationships":[{"childSObject":"Contact","field":"AccountId","relationshipName":"Contacts","cascadeDelete":false},
                            {"childSObject":"AccountHistory","field":"AccountId","relationshipName":null}]}"#;

    #[test]
    fn decodes_a_describe_and_keeps_the_body() {
        let d = SObjectDescribe::from_json(ACCOUNT).unwrap();
        assert_eq!(d.raw_json(), ACCOUNT);
        assert_eq!((d.name.as_str(), d.key_prefix.as_deref(), d.queryable), ("Account", Some("001"), true));
        let owner = d.field("ownerid").unwrap();
        assert_eq!(owner.reference_to, ["User"]);
        assert_eq!(owner.relationship_name.as_deref(), Some("Owner"));
        assert!(!owner.custom, "null reads false");
        let lat = d.field("Loc__Latitude__s").unwrap();
        assert_eq!((lat.precision, lat.scale, lat.length), (Some(9), Some(6), None));
        assert_eq!(d.child_relationships[1].relationship_name, None);
        let v = serde_json::to_value(owner).unwrap();
        assert_eq!(v["type"], "reference");
        assert_eq!(v["referenceTo"][0], "User");
    }

    #[test]
    fn all_fields_keeps_components_and_drops_compounds() {
        let d = SObjectDescribe::from_json(ACCOUNT).unwrap();
        let names: Vec<&str> = d.all_fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Id", "BillingStreet", "BillingCity", "Loc__Latitude__s", "Geo__X__s", "OwnerId"]);
    }

    #[test]
    fn syntax_and_shape_errors_differ() {
        assert!(matches!(SObjectDescribe::from_json(&ACCOUNT[..200]), Err(DecodeError::Syntax(_))));
        assert!(matches!(SObjectDescribe::from_json(r#"{"name":"A","fields":7}"#), Err(DecodeError::Shape(_))));
        assert!(matches!(SObjectDescribe::from_json(r#"{"name":"A"}"#), Err(DecodeError::Shape(_))));
        assert!(matches!(SObjectDescribe::from_json(r#"{"name":" ","fields":[]}"#), Err(DecodeError::Shape(_))));
        let e = DecodeError::Shape("x".into()).into_error("describe");
        assert_eq!(e.kind(), ErrorKind::Protocol);
    }

    #[test]
    fn decodes_describe_global() {
        let body = r#"{"encoding":"UTF-8","maxBatchSize":200,"sobjects":[{"name":"Account","label":"Account","keyPrefix":"001","custom":false,"queryable":true},{"name":"X__c","label":null,"keyPrefix":null,"custom":true}]}"#;
        let g = DescribeGlobal::from_json(body).unwrap();
        assert_eq!(g.raw_json(), body);
        assert_eq!((g.encoding.as_deref(), g.max_batch_size, g.sobjects.len()), (Some("UTF-8"), Some(200), 2));
        assert!(g.sobject("x__C").unwrap().custom);
        assert_eq!(g.sobject("X__c").unwrap().label, "");
        assert!(matches!(DescribeGlobal::from_json("{}"), Err(DecodeError::Shape(_))));
    }
}
