use super::*;

fn conds(e: &Expr) -> Vec<&Cond> {
    match e {
        Expr::Cond(c) => vec![c],
        Expr::And(v) | Expr::Or(v) => v.iter().flat_map(conds).collect(),
        Expr::Not(x) => conds(x),
    }
}

#[test]
fn parses_seed_queries() {
    let q = parse("SELECT name, account.name, title, phone, email, contact.owner.alias FROM contact LIMIT 100 OFFSET 0").unwrap();
    assert_eq!(q.select.len(), 6);
    assert_eq!(q.from.v, "contact");
    assert_eq!((q.limit, q.offset), (Some(100), Some(0)));
    let q = parse("select count() from Opportunity").unwrap();
    assert_eq!(q.select, vec![SelectItem::CountAll]);
}

#[test]
fn where_and_order() {
    let q = parse("SELECT Id FROM Contact WHERE Id > '003\\'x' AND SystemModstamp >= 2024-01-01T00:00:00+00:00 ORDER BY SystemModstamp ASC, Id DESC NULLS LAST LIMIT 5").unwrap();
    let f = q.filter.as_ref().unwrap();
    assert!(matches!(f, Expr::And(v) if v.len() == 2));
    let c = conds(f);
    assert_eq!(c[0].values[0].v, Literal::Str("003'x".into()));
    assert_eq!(c[1].values[0].v, Literal::DateTime(1_704_067_200_000));
    assert_eq!(q.order.len(), 2);
    assert!(q.order[1].desc);
    assert_eq!(q.order[1].nulls_first, Some(false));
}

#[test]
fn boolean_expressions() {
    let q = parse("SELECT Id FROM Contact WHERE (Name = 'a' OR Name LIKE 'b%') AND NOT Title = null AND Email != null").unwrap();
    let Some(Expr::And(parts)) = &q.filter else { panic!("{:?}", q.filter) };
    assert_eq!(parts.len(), 3);
    assert!(matches!(&parts[0], Expr::Or(v) if v.len() == 2));
    assert!(matches!(&parts[1], Expr::Not(_)));
    let q = parse("SELECT Id FROM Contact WHERE NOT (Name = 'a' AND Title = 'b')").unwrap();
    assert!(matches!(q.filter, Some(Expr::Not(_))));
    let q = parse("SELECT Id FROM Wide_Object__c WHERE X__c INCLUDES ('a;b', 'c') AND Y__c EXCLUDES ('d')").unwrap();
    let c = conds(q.filter.as_ref().unwrap());
    assert_eq!((c[0].op, c[0].values.len(), c[1].op), (Op::Includes, 2, Op::Excludes));
    // AND and OR do not mix without parentheses.
    let e = parse("SELECT Id FROM Contact WHERE Name = 'a' AND Title = 'b' OR Email = 'c'").unwrap_err();
    assert_eq!(e.code, "MALFORMED_QUERY");
    assert!(e.message.contains("unexpected token: OR"), "{}", e.message);
}

#[test]
fn date_literals() {
    let q = parse("SELECT Id FROM Opportunity WHERE CloseDate = today AND CreatedDate > LAST_N_DAYS:30").unwrap();
    let c = conds(q.filter.as_ref().unwrap());
    assert_eq!(c[0].values[0].v, Literal::DateLiteral("TODAY".into(), None));
    assert_eq!(c[1].values[0].v, Literal::DateLiteral("LAST_N_DAYS".into(), Some(30)));
    for bad in ["SELECT Id FROM Contact WHERE CreatedDate > LAST_N_DAYS", "SELECT Id FROM Contact WHERE CreatedDate > SOMEDAY"] {
        let e = parse(bad).unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY", "{bad}");
        assert!(e.message.contains("ERROR at Row:1:Column:"), "{}", e.message);
    }
}

#[test]
fn subqueries_and_typeof() {
    let q = parse("SELECT Id, (SELECT Id, LastName FROM Contacts WHERE LastName != null ORDER BY LastName LIMIT 5) FROM Account").unwrap();
    let SelectItem::Sub(s) = &q.select[1] else { panic!() };
    assert_eq!((s.from.v.as_str(), s.select.len(), s.limit), ("Contacts", 2, Some(5)));
    let q = parse("SELECT Id, TYPEOF What WHEN Account THEN Name, Industry WHEN Opportunity THEN Amount ELSE Name END FROM Task").unwrap();
    let SelectItem::TypeOf(t) = &q.select[1] else { panic!() };
    assert_eq!((t.rel.v.as_str(), t.whens.len(), t.otherwise.as_ref().map(Vec::len)), ("What", 2, Some(1)));
    assert!(parse("SELECT Id, (SELECT Id FROM Contacts OFFSET 1) FROM Account").unwrap_err().message.starts_with("sf-org-emulator"));
    assert_eq!(parse("SELECT Id, TYPEOF What END FROM Task").unwrap_err().code, "MALFORMED_QUERY");
}

#[test]
fn errors() {
    let e = parse("SELECT Id FROM Contact WHERE").unwrap_err();
    assert_eq!(e.code, "MALFORMED_QUERY");
    assert!(e.message.contains("ERROR at Row:1:Column:29"), "{}", e.message);
    assert_eq!(e.message, "\nSELECT Id FROM Contact WHERE\n                            ^\nERROR at Row:1:Column:29\nunexpected token: <EOF>");
    let e = parse("SELECT Id FROM Contact WHERE Name = 'a\\qb'").unwrap_err();
    assert!(e.message.contains("Illegal character sequence '\\q'"), "{}", e.message);
    assert!(parse("SELECT Id FROM Contact WHERE Name = 'it''s'").is_err());
    assert!(parse("SELECT Id FROM Contact GROUP BY Name").unwrap_err().message.starts_with("sf-org-emulator"));
    assert!(parse("SELECT Id FROM Contact LIMIT 5 5").is_err());
    let e = parse("SELECT Id\nFROM Contact\nWHERE Name = = 'x'").unwrap_err();
    assert!(e.message.contains("ERROR at Row:3:Column:14"), "{}", e.message);
}
