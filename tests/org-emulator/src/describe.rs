//! The describe resources [REST API Developer Guide, "Describe Global" and "sObject Describe";
//! SOAP API `DescribeGlobalResult` / `DescribeSObjectResult` / `Field` for the property names]:
//!
//! - `GET /services/data/vNN.N/sobjects` → `{"encoding":"UTF-8","maxBatchSize":200,"sobjects":[…]}`
//! - `GET /services/data/vNN.N/sobjects/<Type>/describe` → the object with `fields` and
//!   `childRelationships`; an unknown type → 404 `NOT_FOUND` "The requested resource does not exist".
//!
//! Both read the same schema tables as the SOQL resolver, so a field is selectable exactly when
//! describe lists it. Keys are alphabetical, as Salesforce emits them.

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, Response, StatusCode};
use serde_json::{Value, json};

use crate::api::{Instance, authenticate, not_found, version};
use crate::data::{ALL_SOBJECTS, FieldDef, Kind, SObject};
use crate::http::{self, KillSwitch, fault_response, with_limit_info};
use crate::state::Endpoint;

fn urls(obj: SObject, v: &str) -> Value {
    let base = format!("/services/data/{v}/sobjects/{}", obj.name());
    json!({"describe": format!("{base}/describe"), "rowTemplate": format!("{base}/{{ID}}"), "sobject": base})
}

fn feed_enabled(obj: SObject) -> bool {
    matches!(obj, SObject::Account | SObject::Contact | SObject::Opportunity | SObject::Lead | SObject::User)
}

/// One `sobjects[]` entry of describeGlobal.
fn global_entry(obj: SObject, v: &str) -> Value {
    let (label, plural) = obj.labels();
    json!({
        "activateable": false,
        "associateEntityType": null,
        "associateParentEntity": null,
        "createable": true,
        "custom": obj.is_custom(),
        "customSetting": false,
        "deepCloneable": false,
        "deletable": true,
        "deprecatedAndHidden": false,
        "feedEnabled": feed_enabled(obj),
        "hasSubtypes": false,
        "isInterface": false,
        "isSubtype": false,
        "keyPrefix": std::str::from_utf8(obj.key_prefix()).expect("ascii"),
        "label": label,
        "labelPlural": plural,
        "layoutable": true,
        "mergeable": matches!(obj, SObject::Account | SObject::Contact | SObject::Lead),
        "mruEnabled": true,
        "name": obj.name(),
        "queryable": true,
        "replicateable": true,
        "retrieveable": true,
        "searchable": obj != SObject::Note,
        "triggerable": true,
        "undeletable": true,
        "updateable": true,
        "urls": urls(obj, v),
    })
}

/// describeGlobal: every served sObject, sorted by name.
pub fn global(v: &str) -> Value {
    let mut objs = ALL_SOBJECTS.to_vec();
    objs.sort_by_key(|o| o.name());
    json!({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objs.into_iter().map(|o| global_entry(o, v)).collect::<Vec<_>>()})
}

/// Fields the platform maintains (not createable or updateable).
fn system_field(obj: SObject, f: &FieldDef) -> bool {
    matches!(f.name, "Id" | "IsDeleted" | "CreatedDate" | "LastModifiedDate" | "SystemModstamp")
        || matches!(f.kind, Kind::Address | Kind::Location)
        || (f.name == "Name" && matches!(obj, SObject::Contact | SObject::Lead | SObject::User))
        || (f.name == "IsClosed" || f.name == "IsWon")
}

fn text_kind(k: Kind) -> bool {
    matches!(k, Kind::String | Kind::TextArea | Kind::Picklist | Kind::MultiPicklist | Kind::Email | Kind::Phone | Kind::Url)
}

/// One `fields[]` entry of an sObject describe.
pub fn field(obj: SObject, f: &FieldDef) -> Value {
    let system = system_field(obj, f);
    let long = f.is_long_text();
    let compound = matches!(f.kind, Kind::Address | Kind::Location);
    let byte_length = if text_kind(f.kind) { f.length * 3 } else if matches!(f.kind, Kind::Id | Kind::Reference) { 18 } else { 0 };
    let groupable = !long && !compound && !matches!(f.kind, Kind::Double | Kind::Currency | Kind::Percent | Kind::DateTime | Kind::MultiPicklist);
    let picklist: Vec<Value> = f
        .picklist
        .iter()
        .map(|v| json!({"active": true, "defaultValue": false, "label": v, "validFor": null, "value": v}))
        .collect();
    let polymorphic = f.reference_to.len() > 1;
    json!({
        "aggregatable": !long && !compound,
        "aiPredictionField": false,
        "autoNumber": false,
        "byteLength": byte_length,
        "calculated": matches!(f.name, "IsClosed" | "IsWon") || (f.name == "Name" && matches!(obj, SObject::Contact | SObject::Lead | SObject::User)),
        "calculatedFormula": null,
        "cascadeDelete": false,
        "caseSensitive": false,
        "compoundFieldName": f.compound,
        "controllerName": null,
        "createable": !system,
        "custom": f.custom,
        "defaultValue": null,
        "defaultValueFormula": null,
        "defaultedOnCreate": system || f.kind == Kind::Boolean || f.name == "OwnerId",
        "dependentPicklist": false,
        "deprecatedAndHidden": false,
        "digits": if f.kind == Kind::Int { 9 } else { 0 },
        "displayLocationInDecimal": false,
        "encrypted": false,
        "externalId": false,
        "extraTypeInfo": if f.kind == Kind::TextArea { Value::from("plaintextarea") } else { Value::Null },
        "filterable": f.filterable,
        "filteredLookupInfo": null,
        "formulaTreatNullNumberAsZero": false,
        "groupable": groupable,
        "highScaleNumber": false,
        "htmlFormatted": false,
        "idLookup": f.kind == Kind::Id,
        "inlineHelpText": null,
        "label": f.label,
        "length": if text_kind(f.kind) || matches!(f.kind, Kind::Id | Kind::Reference) { f.length } else { 0 },
        "mask": null,
        "maskType": null,
        "name": f.name,
        "nameField": f.name == "Name" || (f.name == "Subject" && matches!(obj, SObject::Task | SObject::Event)),
        "namePointing": polymorphic,
        "nillable": f.nillable,
        "permissionable": f.nillable && !system,
        "picklistValues": picklist,
        "polymorphicForeignKey": polymorphic,
        "precision": f.precision,
        "queryByDistance": false,
        "referenceTargetField": null,
        "referenceTo": f.reference_to.iter().map(|o| o.name()).collect::<Vec<_>>(),
        "relationshipName": f.relationship,
        "relationshipOrder": null,
        "restrictedDelete": false,
        "restrictedPicklist": false,
        "scale": f.scale,
        "searchPrefilterable": false,
        "soapType": f.kind.soap_type(),
        "sortable": f.sortable,
        "type": f.kind.describe_type(),
        "unique": false,
        "updateable": !system,
        "writeRequiresMasterRead": false,
    })
}

/// The child relationships pointing at `obj`.
fn child_relationships(obj: SObject) -> Vec<Value> {
    obj.child_relationships()
        .iter()
        .map(|c| {
            json!({
                "cascadeDelete": matches!(c.child, SObject::Note | SObject::Task | SObject::Event),
                "childSObject": c.child.name(),
                "deprecatedAndHidden": false,
                "field": c.field,
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": c.name,
                "restrictedDelete": false,
            })
        })
        .collect()
}

/// The sObject describe.
pub fn sobject(obj: SObject, v: &str) -> Value {
    let mut d = global_entry(obj, v);
    let m = d.as_object_mut().expect("object");
    m.insert("childRelationships".into(), Value::Array(child_relationships(obj)));
    m.insert("fields".into(), Value::Array(obj.fields().iter().map(|f| field(obj, f)).collect()));
    m.insert("recordTypeInfos".into(), Value::Array(Vec::new()));
    m.insert("supportedScopes".into(), json!([{"label": "All records", "name": "everything"}, {"label": "My records", "name": "mine"}]));
    m.sort_keys();
    d
}

/// `GET /services/data/vNN.N/sobjects`: describeGlobal (an authenticated API call).
pub async fn describe_global(State(inst): State<Instance>, ConnectInfo(conn): ConnectInfo<KillSwitch>, Path(v): Path<String>, headers: HeaderMap) -> Response<Body> {
    let org = inst.org.clone();
    org.count(|c| c.describe += 1);
    let version = match version(&org, &v) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(r) = fault_response(&org, org.take_fault(Endpoint::Describe), &conn, true).await {
        return r;
    }
    if let Err(r) = authenticate(&inst, &headers) {
        return r;
    }
    with_limit_info(http::json(StatusCode::OK, global(&version).to_string()), &org)
}

/// `GET /services/data/vNN.N/sobjects/<Type>/describe`: one sObject's describe (an authenticated
/// API call); an unknown type → 404 `NOT_FOUND`.
pub async fn describe_sobject(State(inst): State<Instance>, ConnectInfo(conn): ConnectInfo<KillSwitch>, Path((v, name)): Path<(String, String)>, headers: HeaderMap) -> Response<Body> {
    let org = inst.org.clone();
    org.count(|c| c.describe += 1);
    let version = match version(&org, &v) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(r) = fault_response(&org, org.take_fault(Endpoint::Describe), &conn, true).await {
        return r;
    }
    if let Err(r) = authenticate(&inst, &headers) {
        return r;
    }
    let Some(obj) = SObject::from_name(&name) else { return with_limit_info(not_found(), &org) };
    with_limit_info(http::json(StatusCode::OK, sobject(obj, &version).to_string()), &org)
}
