use super::*;

fn reader(delim: u8, types: &[(&str, ValueType)], lookups: &[(&str, &str)], order: &[&str]) -> BulkCsvReader {
    let mut t = ColumnTypes::default();
    for (p, ty) in types {
        t.set(p, *ty);
    }
    for (r, l) in lookups {
        t.set_lookup(r, l);
    }
    BulkCsvReader::new(
        CsvDialect { delimiter: delim },
        t,
        order.iter().map(|s| s.to_string()).collect(),
        Some(("Contact".into(), "/services/data/v59.0".into())),
    )
}

fn jsons(records: &[RawRecord]) -> Vec<&str> {
    records.iter().map(RawRecord::json).collect()
}

#[test]
fn rows_become_rest_shaped_records() {
    let mut r = reader(
        b',',
        &[("Amount__c", ValueType::Number), ("Active__c", ValueType::Boolean), ("CreatedDate", ValueType::DateTime)],
        &[("Account", "AccountId")],
        &["Id", "Name", "Account.Name", "AccountId", "Amount__c", "Active__c", "CreatedDate", "Birthdate"],
    );
    let csv = "\"Id\",\"Name\",\"Account.Name\",\"AccountId\",\"Amount__c\",\"Active__c\",\"CreatedDate\",\"Birthdate\"\n\
               \"003000000000001AAA\",\"O\"\"Brien, \u{1F600}\nline 2\",\"Acme\",\"001000000000001AAA\",\"123456789012345678\",\"true\",\"2013-05-20T20:49:32.000Z\",\"1990-01-31\"\n\
               \"003000000000002AAA\",\"\",\"\",\"\",\"-0.5E+3\",\"false\",\"\",\"\"\n";
    let recs = r.page(csv, Some(2)).unwrap();
    assert_eq!(jsons(&recs), [
        r#"{"attributes":{"type":"Contact","url":"/services/data/v59.0/sobjects/Contact/003000000000001AAA"},"Id":"003000000000001AAA","Name":"O\"Brien, 😀\nline 2","Account":{"Name":"Acme"},"AccountId":"001000000000001AAA","Amount__c":123456789012345678,"Active__c":true,"CreatedDate":"2013-05-20T20:49:32.000+0000","Birthdate":"1990-01-31"}"#,
        r#"{"attributes":{"type":"Contact","url":"/services/data/v59.0/sobjects/Contact/003000000000002AAA"},"Id":"003000000000002AAA","Name":null,"Account":null,"AccountId":null,"Amount__c":-0.5E+3,"Active__c":false,"CreatedDate":null,"Birthdate":null}"#,
    ]);
    for rec in &recs {
        let v = rec.to_record().unwrap();
        assert!(v.contains_key("Id"));
    }
    assert_eq!(recs[0].to_record().unwrap()["Amount__c"].to_string(), "123456789012345678", "every digit kept");
}

#[test]
fn a_parent_with_its_lookup_set_but_null_fields_is_an_object() {
    let mut r = reader(b',', &[], &[("Account", "AccountId"), ("Account.Owner", "Account.OwnerId")], &[]);
    let csv = "Id,AccountId,Account.Name,Account.OwnerId,Account.Owner.Email\r\n\
               003000000000001AAA,001000000000001AAA,,,\r\n\
               003000000000002AAA,,,,\r\n";
    let recs = r.page(csv, None).unwrap();
    let a = recs[0].to_record().unwrap();
    assert_eq!(a["Account"].to_string(), r#"{"Name":null,"OwnerId":null,"Owner":null}"#);
    assert!(recs[1].to_record().unwrap()["Account"].is_null());
}

#[test]
fn keys_follow_the_select_order_not_alphabetical_headers() {
    // API versions up to 49 send columns alphabetically [bulk-and-parallel.md §1.4].
    let mut r = reader(b',', &[], &[], &["Name", "Id", "Account.Name", "Email"]);
    let recs = r.page("Account.Name,Email,Id,Name\nAcme,a@b.c,003000000000001AAA,Ann\n", None).unwrap();
    let keys: Vec<String> = recs[0].to_record().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["attributes", "Name", "Id", "Account", "Email"]);
}

#[test]
fn every_delimiter_and_line_ending_reads_the_same() {
    let want = r#"{"A":"x;y|z","B":"line1\r\nline2","C":null}"#;
    for (name, d) in [("COMMA", b','), ("SEMICOLON", b';'), ("PIPE", b'|'), ("TAB", b'\t'), ("CARET", b'^'), ("BACKQUOTE", b'`')] {
        assert_eq!(CsvDialect::from_column_delimiter(Some(name)).delimiter, d);
        let sep = (d as char).to_string();
        for eol in ["\n", "\r\n"] {
            let csv = format!("A{sep}B{sep}C{eol}\"x;y|z\"{sep}\"line1\r\nline2\"{sep}{eol}");
            let mut r = BulkCsvReader::new(CsvDialect { delimiter: d }, ColumnTypes::default(), Vec::new(), None);
            let recs = r.page(&csv, Some(1)).unwrap();
            assert_eq!(jsons(&recs), [want], "{name} {eol:?}");
        }
    }
}

#[test]
fn nul_and_control_characters_are_escaped_not_lost() {
    let mut r = BulkCsvReader::new(CsvDialect { delimiter: b',' }, ColumnTypes::default(), Vec::new(), None);
    let recs = r.page("A,B\n\"a\u{0}b\u{1}\",\\\n", None).unwrap();
    assert_eq!(jsons(&recs), [r#"{"A":"a\u0000b\u0001","B":"\\"}"#]);
    assert_eq!(recs[0].to_record().unwrap()["A"], "a\u{0}b\u{1}");
}

#[test]
fn a_one_column_page_keeps_its_null_rows() {
    let mut r = BulkCsvReader::new(CsvDialect { delimiter: b',' }, ColumnTypes::default(), Vec::new(), None);
    let recs = r.page("\"Name\"\n\"a\"\n\n\"b\nc\"\n\n", Some(4)).unwrap();
    assert_eq!(jsons(&recs), [r#"{"Name":"a"}"#, r#"{"Name":null}"#, r#"{"Name":"b\nc"}"#, r#"{"Name":null}"#]);
    let recs = r.page("Name\r\nx\r\n\r\n", None).unwrap();
    assert_eq!(jsons(&recs), [r#"{"Name":"x"}"#, r#"{"Name":null}"#]);
    assert_eq!(one_column("A\n\"unterminated").unwrap_err().kind(), ErrorKind::Protocol);
}

#[test]
fn odd_values_stay_valid_json() {
    let mut r = reader(b',', &[("N", ValueType::Number), ("B", ValueType::Boolean), ("D", ValueType::DateTime)], &[], &[]);
    let recs = r.page("N,B,D\n1.2.3,maybe,2020-01-01T00:00:00.000+0000\n01,TRUE,Z\n", None).unwrap();
    assert_eq!(jsons(&recs), [
        r#"{"N":"1.2.3","B":"maybe","D":"2020-01-01T00:00:00.000+0000"}"#,
        r#"{"N":"01","B":true,"D":"Z"}"#,
    ]);
    for n in ["0", "-1", "1.5", "1e9", "12345678901234567890.123", "-0.0E-1"] {
        assert!(is_json_number(n), "{n}");
    }
    for n in ["", "-", "01", "1.", ".5", "1e", "+1", "NaN", "1 "] {
        assert!(!is_json_number(n), "{n}");
    }
}

#[test]
fn malformed_pages_are_protocol_errors() {
    let mut r = BulkCsvReader::new(CsvDialect { delimiter: b',' }, ColumnTypes::default(), Vec::new(), None);
    for (csv, n) in [
        ("A,B\n1,2,3\n", None),
        ("A,B\n1\n", None),
        ("A,A\n1,2\n", None),
        ("A,\n1,2\n", None),
        ("A.B,A\n1,2\n", None),
        ("A,B\n1,2\n", Some(2)),
    ] {
        assert_eq!(r.page(csv, n).unwrap_err().kind(), ErrorKind::Protocol, "{csv:?}");
    }
    assert!(r.page("", Some(0)).unwrap().is_empty());
    assert!(r.page("A,B\n", Some(0)).unwrap().is_empty(), "a header alone is an empty page");
}
