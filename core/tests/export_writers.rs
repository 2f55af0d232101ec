//! Writers and flattening (pure): CSV quoting, UTF-8 exactness, exact numbers, null parents;
//! field cases BR-09 (null parent + flatten) and BR-14 (rich text / emoji byte-for-byte).

use serde_json::{Value, json};
use sfcrm_core::ErrorKind;
use sfcrm_core::export::{
    ExportFormat, ExportSpec, Record, RecordWriter, UNKNOWN_TYPE_MESSAGE, flatten_record, flatten_record_present,
    unknown_type_message,
};
use sfcrm_core::soql::FieldPath;

fn rec(v: Value) -> Record {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn paths(p: &[&str]) -> Vec<FieldPath> {
    p.iter().map(|s| FieldPath::new(s).unwrap()).collect()
}

fn br09_records() -> Vec<Record> {
    let body = r#"{"totalSize":2,"done":true,"records":[
   {"attributes":{"type":"Contact","url":"/services/data/v59.0/sobjects/Contact/003000000000001AAA"},
    "Id":"003000000000001AAA","Name":"Jane Roe",
    "Account":{"attributes":{"type":"Account","url":"/services/data/v59.0/sobjects/Account/001000000000001AAA"},
               "Name":"Acme Example Ltd",
               "Owner":{"attributes":{"type":"User","url":"/services/data/v59.0/sobjects/User/005000000000001AAA"},"Name":"John Doe"}}},
   {"attributes":{"type":"Contact","url":"/services/data/v59.0/sobjects/Contact/003000000000002AAA"},
    "Id":"003000000000002AAA","Name":"Sam Private","Account":null}]}"#;
    let v: Value = serde_json::from_str(body).unwrap();
    v["records"].as_array().unwrap().iter().cloned().map(rec).collect()
}

#[test]
fn br09_null_parent_flattens_to_null_children() {
    let records = br09_records();
    let fields = paths(&["Id", "Name", "Account.Name", "Account.Owner.Name"]);
    let one = flatten_record(&records[0], &fields);
    assert_eq!(one["Account.Name"], json!("Acme Example Ltd"));
    assert_eq!(one["Account.Owner.Name"], json!("John Doe"));
    let two = flatten_record(&records[1], &fields);
    assert_eq!(
        Value::Object(two),
        json!({"Id":"003000000000002AAA","Name":"Sam Private","Account.Name":null,"Account.Owner.Name":null})
    );
    // The record itself keeps Account as JSON null (not an empty object).
    assert_eq!(records[1]["Account"], Value::Null);
    // Flattening what is present: no attributes anywhere, the null parent stays one null key.
    let present = flatten_record_present(&records[0]);
    assert!(present.keys().all(|k| !k.contains("attributes")), "{present:?}");
    assert_eq!(present["Account.Owner.Name"], json!("John Doe"));
    assert_eq!(flatten_record_present(&records[1])["Account"], Value::Null);
    // Case-insensitive lookup of requested paths.
    let lower = flatten_record(&records[0], &paths(&["account.owner.name"]));
    assert_eq!(lower["account.owner.name"], json!("John Doe"));
}

#[test]
fn csv_quotes_rfc4180_and_keeps_utf8_and_numbers_exact() {
    let text = r#"{"attributes":{"type":"Opportunity","url":"/x/006000000000001AAA"},"Id":"006000000000001AAA",
      "Name":"Deal, \"big\" one","Account":{"attributes":{"type":"Account","url":"/y"},"Name":"Jane Roe – Café ãñõ 👍🏽"},
      "Amount":123456789012345678,"Probability":12.50,"Description":"Line one\nline two","IsWon":false,"Owner":null}"#;
    let r: Record = serde_json::from_str(text).unwrap();
    let cols = paths(&["Id", "Name", "Account.Name", "Amount", "Probability", "Description", "IsWon", "Owner.Alias"]);
    let mut w = RecordWriter::new(ExportFormat::Csv, Vec::new(), &cols).unwrap();
    w.write_record(&r).unwrap();
    let out = String::from_utf8(w.finish().unwrap()).unwrap();
    assert_eq!(
        out,
        "Id,Name,Account.Name,Amount,Probability,Description,IsWon,Owner.Alias\r\n\
         006000000000001AAA,\"Deal, \"\"big\"\" one\",Jane Roe – Café ãñõ 👍🏽,123456789012345678,12.50,\"Line one\nline two\",false,\r\n"
    );
    // Read back with a CSV parser: one record, embedded newline kept in one field, emoji whole.
    let mut rd = csv::Reader::from_reader(out.as_bytes());
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][2], "Jane Roe – Café ãñõ 👍🏽");
    assert_eq!(rows[0][2].chars().filter(|c| *c == '👍' || *c == '\u{1F3FD}').count(), 2);
    assert_eq!(&rows[0][5], "Line one\nline two");
    assert_eq!(&rows[0][7], "");
}

#[test]
fn br14_json_and_ndjson_keep_rich_text_byte_for_byte() {
    let body = r#"{"attributes":{"type":"Account","url":"/services/data/v59.0/sobjects/Account/001000000000001AAA"},"Id":"001000000000001AAA","Name":"Jane Roe – Café ãñõ","Notes_Rich__c":"<p>Met <b>Jane</b> &amp; team 😀</p><br><ul><li>café</li></ul>","Amount":999999999999999999.99}"#;
    let r: Record = serde_json::from_str(body).unwrap();
    let mut w = RecordWriter::new(ExportFormat::Ndjson, Vec::new(), &[]).unwrap();
    w.write_record(&r).unwrap();
    w.write_record(&r).unwrap();
    let out = String::from_utf8(w.finish().unwrap()).unwrap();
    let line = r#"{"Id":"001000000000001AAA","Name":"Jane Roe – Café ãñõ","Notes_Rich__c":"<p>Met <b>Jane</b> &amp; team 😀</p><br><ul><li>café</li></ul>","Amount":999999999999999999.99}"#;
    assert_eq!(out, format!("{line}\n{line}\n"));

    let mut w = RecordWriter::new(ExportFormat::Json, Vec::new(), &[]).unwrap().keep_attributes(true);
    w.write_record(&r).unwrap();
    let out = String::from_utf8(w.finish().unwrap()).unwrap();
    assert_eq!(out, format!("[\n{body}\n]\n"));
    let empty = RecordWriter::new(ExportFormat::Json, Vec::new(), &[]).unwrap().finish().unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&empty).unwrap(), json!([]));
}

#[test]
fn builtin_specs_and_unknown_type() {
    let c = ExportSpec::builtin("contacts").unwrap();
    assert_eq!(c.sobject().as_str(), "Contact");
    let f: Vec<&str> = c.fields().iter().map(|f| f.as_str()).collect();
    assert_eq!(f, ["Name", "Account.Name", "Title", "Phone", "Email", "Owner.Alias"]);
    let d = ExportSpec::builtin("deals").unwrap();
    assert_eq!(d.sobject().as_str(), "Opportunity");
    assert_eq!(d.fields().len(), 6);
    let n = ExportSpec::builtin("notes").unwrap();
    assert_eq!(n.sobject().as_str(), "Note");
    assert_eq!(n.fields()[0].as_str(), "Body");
    for bad in ["accounts", "Contacts", "", "contacts;"] {
        let e = ExportSpec::builtin(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnknownExportType);
        assert_eq!(e.message(), unknown_type_message(bad));
        for named in ["contacts", "deals", "notes", "fields"] {
            assert!(e.message().contains(named), "{named} missing from {:?}", e.message());
        }
        assert_ne!(e.message(), UNKNOWN_TYPE_MESSAGE, "the seed's text named two types and no raw form");
    }
    assert_eq!(ExportSpec::custom("Invoice__c", &["Name", "Total__c"]).unwrap().fields().len(), 2);
    assert_eq!(ExportSpec::custom("Invoice__c; DROP", &["Name"]).unwrap_err().kind(), ErrorKind::InvalidIdentifier);
    assert_eq!(ExportSpec::custom("Contact", &["Name", "Email FROM User"]).unwrap_err().kind(), ErrorKind::InvalidIdentifier);
    assert_eq!(ExportSpec::custom("Contact", &["Name", "name"]).unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(ExportSpec::custom::<&str>("Contact", &[]).unwrap_err().kind(), ErrorKind::InvalidArgument);
}
