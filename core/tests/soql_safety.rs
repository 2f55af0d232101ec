//! SOQL identifier validation and literal escaping tables (seed defect D16,
//! salesforce-api.md §8). Injection attempts are refused (identifiers) or escaped (literals).

use sfcrm_core::ErrorKind;
use sfcrm_core::soql::*;

#[test]
fn valid_identifiers_are_accepted() {
    for name in [
        "Contact", "Opportunity", "Note", "Invoice__c", "ns__Invoice__c", "Account_Rank__c", "My_Object_2__c",
        "Foo__mdt", "Thing__e", "Thing__x", "Account__Share", "Acc__History", "ns__Name", "A",
        "abcdefghijklmnopqrstuvwxyz0123456789ABCD__c",
    ] {
        SObjectName::new(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for path in ["Name", "Account.Name", "Owner.Alias", "Parent__r.Region__c", "ns__Parent__r.ns__Field__c", "A.B.C.D.E.F"]
    {
        assert_eq!(FieldPath::new(path).unwrap().as_str(), path);
    }
}

#[test]
fn invalid_identifiers_are_refused_with_their_name() {
    let long_local = format!("{}__c", "a".repeat(41));
    let long_ns = format!("{}__Field__c", "n".repeat(16));
    let cases: Vec<&str> = vec![
        "",
        "1Contact",
        "_Contact",
        "Contact_",
        "Con tact",
        "Contact;",
        "Contact--",
        "Contact WHERE Id != null",
        "Contact)",
        "Name FROM User",
        "Cont__act__c__r",
        "a___b",
        "Bad__c_",
        "Invoice__1",
        "Ünicode__c",
        "Na\u{0}me",
        "Name'",
        &long_local,
        &long_ns,
    ];
    for bad in cases {
        let err = SObjectName::new(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidIdentifier, "{bad:?}");
        assert!(err.message().contains(&format!("{bad:?}")), "message names {bad:?}: {}", err.message());
        assert_eq!(FieldPath::new(bad).unwrap_err().kind(), ErrorKind::InvalidIdentifier);
    }
    for bad in ["Account.", ".Name", "Account..Name", "Account.Name FROM User", "A.B.C.D.E.F.G", "Account.Na-me"] {
        let err = FieldPath::new(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidIdentifier, "{bad:?}");
        assert!(err.message().contains(&format!("{bad:?}")));
    }
}

#[test]
fn literals_are_escaped_with_backslashes_only() {
    let table = [
        ("Bob's BBQ", r"Bob\'s BBQ"),
        (r"back\slash", r"back\\slash"),
        ("say \"hi\"", r#"say \"hi\""#),
        ("line1\nline2\r\tx", r"line1\nline2\r\tx"),
        ("\u{8}\u{c}", r"\b\f"),
        ("50% off_now", "50% off_now"),
        ("' OR Name != '", r"\' OR Name != \'"),
        ("\\' OR 1=1 --", r"\\\' OR 1=1 --"),
        ("Café 👍🏽 北京", "Café 👍🏽 北京"),
    ];
    for (input, want) in table {
        assert_eq!(escape_literal(input).unwrap(), want, "{input:?}");
    }
    assert_eq!(escape_like("50% off_now").unwrap(), r"50\% off\_now");
    assert_eq!(quote_literal("O'Brien").unwrap(), r"'O\'Brien'");
    for bad in ["a\u{0}b", "bell\u{7}", "esc\u{1b}[0m", "del\u{7f}", "nel\u{85}"] {
        assert_eq!(escape_literal(bad).unwrap_err().kind(), ErrorKind::InvalidArgument, "{bad:?}");
    }
}

#[test]
fn injection_through_a_where_value_stays_inside_the_literal() {
    let q = SoqlQuery::new(SObjectName::new("Contact").unwrap())
        .select(FieldPath::new("Id").unwrap())
        .filter(Condition::cmp(FieldPath::new("Name").unwrap(), CmpOp::Eq, "x' OR Name != 'y"))
        .filter(Condition::Like(FieldPath::new("Email").unwrap(), LikePattern::contains("100%_sure\\")));
    assert_eq!(
        q.to_soql().unwrap(),
        r"SELECT Id FROM Contact WHERE Name = 'x\' OR Name != \'y' AND Email LIKE '%100\%\_sure\\%'"
    );
}

#[test]
fn ids_dates_and_datetimes_are_typed() {
    assert!(SalesforceId::new("003000000000001AAA").is_ok());
    assert!(SalesforceId::new("003000000000001").is_ok());
    for bad in ["003", "003000000000001AA", "003000000000001AAA'", "00300000000000-AAA", "' OR ''='"] {
        assert_eq!(SalesforceId::new(bad).unwrap_err().kind(), ErrorKind::InvalidArgument, "{bad}");
    }
    // Salesforce's "+0000" form, RFC 3339 with Z, with an offset, and milliseconds (BR-12).
    let t = SoqlDateTime::parse("2016-05-06T15:57:34.000+0000").unwrap();
    assert_eq!(t.to_soql(), "2016-05-06T15:57:34Z");
    assert_eq!(t.to_salesforce(), "2016-05-06T15:57:34.000+0000");
    let t = SoqlDateTime::parse("2024-02-29T23:59:59.999+0000").unwrap();
    assert_eq!(t.to_soql(), "2024-02-29T23:59:59.999Z");
    assert_eq!(SoqlDateTime::parse("2024-01-01T00:00:00Z").unwrap().to_soql(), "2024-01-01T00:00:00Z");
    assert_eq!(SoqlDateTime::parse("2013-12-01T12:00:00+00:00").unwrap().to_soql(), "2013-12-01T12:00:00Z");
    assert_eq!(SoqlDateTime::parse("2024-03-01T01:30:00+05:30").unwrap().to_soql(), "2024-02-29T20:00:00Z");
    assert_eq!(SoqlDateTime::parse("2023-12-31T22:00:00.5-0300").unwrap().to_soql(), "2024-01-01T01:00:00.500Z");
    assert_eq!(SoqlDateTime::parse("1970-01-01T00:00:00Z").unwrap().epoch_ms(), 0);
    for bad in [
        "2024-02-30T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2024-01-01",
        "2024-01-01T24:00:00Z",
        "2024-01-01T00:00:00",
        "2024-01-01T00:00:00+0000 OR Id != null",
        "2024-01-01T00:00:00.Z",
        "yesterday",
    ] {
        assert_eq!(SoqlDateTime::parse(bad).unwrap_err().kind(), ErrorKind::InvalidArgument, "{bad}");
    }
    // A date stays a date (BR-12 ActivityDate): no time zone shift.
    assert_eq!(SoqlDate::parse("2024-03-01").unwrap().to_string(), "2024-03-01");
    assert!(SoqlDate::parse("2024-3-1").is_err());
    assert!(SoqlDate::parse("2024-13-01").is_err());
}

#[test]
fn builder_renders_and_refuses_offsets_above_2000() {
    let contact = SObjectName::new("Contact").unwrap();
    let id = FieldPath::new("Id").unwrap();
    let q = SoqlQuery::new(contact.clone())
        .select(id.clone())
        .select(FieldPath::new("Account.Name").unwrap())
        .filter(Condition::Or(vec![
            Condition::cmp(FieldPath::new("SystemModstamp").unwrap(), CmpOp::Gt, SoqlDateTime::parse("2024-01-01T00:00:00.000+0000").unwrap()),
            Condition::And(vec![
                Condition::cmp(FieldPath::new("SystemModstamp").unwrap(), CmpOp::Eq, SoqlDateTime::parse("2024-01-01T00:00:00Z").unwrap()),
                Condition::cmp(id.clone(), CmpOp::Gt, SalesforceId::new("003000000000001AAA").unwrap()),
            ]),
        ]))
        .filter(Condition::In(FieldPath::new("CloseDate").unwrap(), vec![SoqlDate::parse("2024-01-31").unwrap().into()]))
        .order_by(id.clone(), Direction::Asc)
        .limit(100)
        .offset(2000);
    assert_eq!(
        q.to_soql().unwrap(),
        "SELECT Id, Account.Name FROM Contact WHERE (SystemModstamp > 2024-01-01T00:00:00Z OR \
         (SystemModstamp = 2024-01-01T00:00:00Z AND Id > '003000000000001AAA')) AND CloseDate IN (2024-01-31) \
         ORDER BY Id ASC LIMIT 100 OFFSET 2000"
    );
    let err = SoqlQuery::new(contact.clone()).select(id.clone()).offset(2001).to_soql().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_eq!(SoqlQuery::count(contact.clone()).to_soql().unwrap(), "SELECT COUNT() FROM Contact");
    assert_eq!(SoqlQuery::new(contact).to_soql().unwrap_err().kind(), ErrorKind::InvalidArgument);
}
