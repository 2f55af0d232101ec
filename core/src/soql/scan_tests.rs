use super::*;
use ClauseKind::*;

fn scan(s: &str) -> SoqlScan {
    SoqlScan::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn finds_every_clause_in_order() {
    let s = scan(
        "SELECT Id, Name FROM Account USING SCOPE mine WHERE Name = 'x' WITH SECURITY_ENFORCED \
         GROUP BY Name HAVING COUNT(Id) > 1 ORDER BY Name DESC NULLS LAST LIMIT 10 OFFSET 5 FOR VIEW",
    );
    assert_eq!(
        s.shape(),
        vec![
            Select, From, UsingScope, Where, With, GroupBy, Having, OrderBy, Limit, Offset, For
        ]
    );
    assert_eq!(s.body(Where), Some("Name = 'x'"));
    assert_eq!(s.body(OrderBy), Some("Name DESC NULLS LAST"));
    assert_eq!(s.body(Limit), Some("10"));
    assert_eq!(s.body(For), Some("VIEW"));
    assert_eq!(s.sobject(), "Account");
}

#[test]
fn keywords_inside_literals_and_parens_are_not_clauses() {
    let s = scan(
        r"SELECT Id FROM Contact WHERE Name = 'x LIMIT 1 \' ORDER BY Id' AND AccountId IN (SELECT Id FROM Account WHERE Name != null LIMIT 5)",
    );
    assert_eq!(s.shape(), vec![Select, From, Where]);
    assert!(s.body(Where).unwrap().ends_with("LIMIT 5)"));
}

#[test]
fn sobjects_named_like_keywords() {
    let s = scan("select Id from Order order by Id");
    assert_eq!(s.shape(), vec![Select, From, OrderBy]);
    assert_eq!(s.sobject(), "Order");
    let s = scan("SELECT Id FROM Group WHERE Type = 'Queue' FOR UPDATE");
    assert_eq!(s.shape(), vec![Select, From, Where, For]);
    assert_eq!(s.body(For), Some("UPDATE"));
    let s = scan("SELECT Id FROM KnowledgeArticleVersion UPDATE VIEWSTAT");
    assert_eq!(s.shape(), vec![Select, From, Update]);
}

#[test]
fn select_items_subqueries_typeof_functions_aliases() {
    let s = scan(
        "SELECT Id, Account.Name, (SELECT Id, Email FROM Contacts WHERE Email != null), \
         TYPEOF What WHEN Account THEN Name, Phone ELSE Name END, toLabel(Status), \
         FORMAT(MIN(Amount)) minAmt, COUNT(Id), MAX(CloseDate) FROM Opportunity",
    );
    let items = s.select_items();
    assert_eq!(items.len(), 8, "{items:#?}");
    assert_eq!(items[1].kind, SelectItemKind::Field);
    assert_eq!(
        items[2].kind,
        SelectItemKind::Subquery {
            relationship: "Contacts".into()
        }
    );
    assert_eq!(
        items[3].kind,
        SelectItemKind::TypeOf {
            field: "What".into()
        }
    );
    assert!(items[3].text.ends_with("END"));
    assert!(!items[4].is_aggregate());
    assert!(items[5].is_aggregate());
    assert_eq!(items[5].alias.as_deref(), Some("minAmt"));
    assert_eq!(
        s.columns(),
        vec![
            "Id",
            "Account.Name",
            "Contacts",
            "What",
            "Status",
            "minAmt",
            "expr0",
            "expr1"
        ]
    );
}

#[test]
fn count_star_has_no_column() {
    let s = scan("SELECT COUNT() FROM Contact");
    assert!(s.select_items()[0].is_count_star());
    assert!(s.columns().is_empty());
}

#[test]
fn not_a_select_is_refused() {
    for bad in [
        "",
        "DELETE FROM Contact",
        "SELECT Id",
        "x SELECT Id FROM A",
        "SELECT Id, FROM A",
    ] {
        let e = SoqlScan::parse(bad).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument, "{bad}");
    }
}

#[test]
fn where_condition_check() {
    check_condition("Industry = 'Media' AND (CreatedDate = LAST_N_DAYS:30 OR Name LIKE 'a%')")
        .unwrap();
    check_condition("AccountId IN (SELECT Id FROM Account LIMIT 5)").unwrap();
    check_condition("Name = 'x LIMIT 1'").unwrap();
    check_condition("Name = :name").unwrap();
    for (bad, says) in [
        ("", "empty"),
        ("  ", "empty"),
        ("Name = 'x' LIMIT 1", "LIMIT"),
        ("Name = 'x' ORDER BY Name", "ORDER BY"),
        ("Name = 'x') OR (Name = 'y'", "no '('"),
        ("Name = 'x", "not closed"),
        ("Id != null GROUP BY Name", "GROUP BY"),
        ("x = 1 FROM Account", "FROM"),
    ] {
        let e = check_condition(bad).unwrap_err();
        assert!(e.message().contains(says), "{bad}: {}", e.message());
    }
}
