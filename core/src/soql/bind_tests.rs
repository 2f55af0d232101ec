use super::*;
use crate::ErrorKind;
use crate::soql::SoqlScan;
use crate::soql::lex::lex;

fn p(pairs: &[(&str, BindValue)]) -> Params {
    let mut params = Params::new();
    for (k, v) in pairs {
        params.insert(k, v.clone()).unwrap();
    }
    params
}

const HOSTILE: &str =
    "O'Brien \\ 100% _x_ \"q\"\nline2\r\t'; DELETE FROM Contact WHERE Id != null --";

#[test]
fn hostile_string_stays_one_literal() {
    let q = "SELECT Id FROM Contact WHERE LastName = :name AND Title != null";
    let bound = bind(q, &p(&[("name", HOSTILE.into())])).unwrap();
    assert_eq!(
        bound,
        "SELECT Id FROM Contact WHERE LastName = 'O\\'Brien \\\\ 100% _x_ \\\"q\\\"\\nline2\\r\\t\\'; \
         DELETE FROM Contact WHERE Id != null --' AND Title != null"
    );
    let s = SoqlScan::parse(&bound).unwrap();
    assert_eq!(s.shape(), SoqlScan::parse(q).unwrap().shape());
    assert_eq!(
        s.body(crate::soql::ClauseKind::Where)
            .unwrap()
            .matches(" AND ")
            .count(),
        1
    );
}

#[test]
fn date_literals_times_and_quoted_colons_are_not_placeholders() {
    let q = "SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:30 AND LastModifiedDate > \
             2024-01-01T10:00:00Z AND SystemModstamp < 2024-01-01T10:00:00+05:00 AND \
             Name != 'a :b \\' :c' AND Email = :email";
    let bound = bind(q, &p(&[("email", "x@y.z".into())])).unwrap();
    assert_eq!(bound, q.replace(":email", "'x@y.z'"));
    // With no placeholders and no params the text comes back unchanged.
    let plain = "SELECT Id FROM A WHERE d = NEXT_N_WEEKS:2";
    assert_eq!(bind(plain, &Params::new()).unwrap(), plain);
}

#[test]
fn every_type_renders_its_literal() {
    let params = p(&[
        ("n", BindValue::Null),
        ("b", true.into()),
        ("i", (-42i64).into()),
        ("d", BindValue::decimal("12.50").unwrap()),
        ("f", BindValue::from_f64(0.1).unwrap()),
        ("day", SoqlDate::parse("2024-01-31").unwrap().into()),
        (
            "t",
            SoqlDateTime::parse("2024-01-31T10:00:00+05:00")
                .unwrap()
                .into(),
        ),
        ("ids", vec!["001000000000001", "001000000000002"].into()),
    ]);
    let q = "SELECT Id FROM O WHERE a = :n AND b = :b AND c > :i AND d = :d AND f = :f AND \
             g = :day AND h >= :t AND Id IN :ids";
    assert_eq!(
        bind(q, &params).unwrap(),
        "SELECT Id FROM O WHERE a = null AND b = true AND c > -42 AND d = 12.50 AND f = 0.1 AND \
         g = 2024-01-31 AND h >= 2024-01-31T05:00:00Z AND Id IN ('001000000000001', '001000000000002')"
    );
}

#[test]
fn same_name_twice_and_tight_operators() {
    let q = "SELECT Id FROM A WHERE (x=:v OR y>:v) AND z IN (:v, :w)";
    let bound = bind(q, &p(&[("v", 1i64.into()), ("w", "q".into())])).unwrap();
    assert_eq!(
        bound,
        "SELECT Id FROM A WHERE (x=1 OR y>1) AND z IN (1, 'q')"
    );
}

#[test]
fn missing_and_unused_names_are_typed_errors() {
    let q = "SELECT Id FROM A WHERE x = :a AND y = :b";
    let e = bind(q, &p(&[("a", 1i64.into())])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(
        e.message().contains(":b") && e.message().contains("no value"),
        "{}",
        e.message()
    );
    let e = bind(
        q,
        &p(&[("a", 1i64.into()), ("b", 2i64.into()), ("c", 3i64.into())]),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("c are not used"), "{}", e.message());
    // A placeholder inside a literal does not use the name.
    let e = bind("SELECT Id FROM A WHERE x = ':a'", &p(&[("a", 1i64.into())])).unwrap_err();
    assert!(e.message().contains("not used"));
    // Names are case-sensitive.
    assert!(bind("SELECT Id FROM A WHERE x = :A", &p(&[("a", 1i64.into())])).is_err());
    // `:x.Name` is refused; an unterminated literal is refused.
    assert!(
        bind(
            "SELECT Id FROM A WHERE x = :a.Name",
            &p(&[("a", 1i64.into())])
        )
        .is_err()
    );
    assert!(bind("SELECT Id FROM A WHERE x = 'abc", &Params::new()).is_err());
}

#[test]
fn lists_and_their_refusals() {
    let ok = bind(
        "SELECT Id FROM A WHERE x IN :l",
        &p(&[("l", vec![1i64, 2, 3].into())]),
    )
    .unwrap();
    assert!(ok.ends_with("x IN (1, 2, 3)"));
    let with_null = BindValue::List(vec![BindValue::Null, "a".into()]);
    assert_eq!(with_null.to_soql().unwrap(), "(null, 'a')");
    let empty = p(&[("l", BindValue::List(vec![]))]);
    let e = bind("SELECT Id FROM A WHERE x IN :l", &empty).unwrap_err();
    assert!(e.message().contains("empty list"), "{}", e.message());
    let nested = BindValue::List(vec![BindValue::List(vec![1i64.into()])]);
    assert!(nested.to_soql().is_err());
}

#[test]
fn names_decimals_and_control_characters_are_checked() {
    let mut params = Params::new();
    for bad in ["", "1a", "a-b", ":a", "a b", "é"] {
        assert_eq!(
            params.insert(bad, 1i64).unwrap_err().kind(),
            ErrorKind::InvalidArgument,
            "{bad}"
        );
    }
    params.insert("_ok1", 1i64).unwrap();
    for bad in ["", "1e5", "+1", ".5", "5.", "1.2.3", "NaN", "1,0", "- 1"] {
        assert!(BindValue::decimal(bad).is_err(), "{bad}");
    }
    assert!(BindValue::from_f64(f64::NAN).is_err());
    assert!(BindValue::from_f64(f64::INFINITY).is_err());
    assert_eq!(
        BindValue::from_f64(-0.0).unwrap(),
        BindValue::Decimal("0".into())
    );
    assert_eq!(
        BindValue::from_f64(1e21).unwrap(),
        BindValue::Decimal("1000000000000000000000".into())
    );
    assert_eq!(
        BindValue::Decimal("1e5".into())
            .to_soql()
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
    assert!(BindValue::String("a\u{0}b".into()).to_soql().is_err());
}

#[test]
fn parse_typed_forms() {
    use BindValue as B;
    assert_eq!(
        B::parse_typed("string", " a,b ").unwrap(),
        B::String(" a,b ".into())
    );
    assert_eq!(B::parse_typed("int", "-7").unwrap(), B::Integer(-7));
    assert_eq!(
        B::parse_typed("decimal", "12.50").unwrap(),
        B::Decimal("12.50".into())
    );
    assert_eq!(B::parse_typed("BOOL", "True").unwrap(), B::Bool(true));
    assert_eq!(B::parse_typed("null", "").unwrap(), B::Null);
    assert_eq!(
        B::parse_typed("id", "001000000000001").unwrap(),
        B::String("001000000000001".into())
    );
    assert_eq!(
        B::parse_typed("datetime", "2024-01-01T10:00:00+05:00")
            .unwrap()
            .to_soql()
            .unwrap(),
        "2024-01-01T05:00:00Z"
    );
    assert_eq!(
        B::parse_typed("list:string", r"a\,b,c\\,d").unwrap(),
        B::List(vec![
            B::String("a,b".into()),
            B::String("c\\".into()),
            B::String("d".into())
        ])
    );
    assert_eq!(
        B::parse_typed("list:int", "1, 2").unwrap(),
        B::List(vec![B::Integer(1), B::Integer(2)])
    );
    for (t, v) in [
        ("int", "1.5"),
        ("bool", "yes"),
        ("date", "2024-02-30"),
        ("id", "short"),
        ("null", "x"),
        ("list:int", ""),
        ("list:list:int", "1"),
        ("float", "1"),
    ] {
        assert_eq!(
            B::parse_typed(t, v).unwrap_err().kind(),
            ErrorKind::InvalidArgument,
            "{t} {v}"
        );
    }
}

#[test]
fn params_from_json() {
    let params = Params::from_json_text(
        r#"{"s": "x", "i": 5, "big": 12345678901234567890, "d": 12.50, "e": 1.5e3,
            "b": false, "n": null, "l": ["a", 1],
            "day": {"date": "2024-01-31"}, "t": {"datetime": "2024-01-31T10:00:00Z"},
            "dec": {"decimal": "0.10"}, "decn": {"decimal": 3}, "str": {"string": "5"},
            "id": {"id": "001000000000001AAA"}}"#,
    )
    .unwrap();
    let g = |n: &str| params.get(n).unwrap().clone();
    assert_eq!(g("s"), BindValue::String("x".into()));
    assert_eq!(g("i"), BindValue::Integer(5));
    assert_eq!(g("big"), BindValue::Decimal("12345678901234567890".into()));
    assert_eq!(g("d"), BindValue::Decimal("12.50".into()));
    assert_eq!(g("e"), BindValue::Decimal("1500".into()));
    assert_eq!(g("b"), BindValue::Bool(false));
    assert_eq!(g("n"), BindValue::Null);
    assert_eq!(
        g("l"),
        BindValue::List(vec!["a".into(), BindValue::Integer(1)])
    );
    assert_eq!(g("day").to_soql().unwrap(), "2024-01-31");
    assert_eq!(g("dec"), BindValue::Decimal("0.10".into()));
    assert_eq!(g("decn"), BindValue::Decimal("3".into()));
    assert_eq!(g("str"), BindValue::String("5".into()));
    for bad in [
        r#"[1]"#,
        r#"{"a": []}"#,
        r#"{"a": [[1]]}"#,
        r#"{"a": {"date": 1}}"#,
        r#"{"a": {"x": "1"}}"#,
        r#"{"a": {"date": "x", "id": "y"}}"#,
        r#"{"1a": 1}"#,
        "{",
    ] {
        assert_eq!(
            Params::from_json_text(bad).unwrap_err().kind(),
            ErrorKind::InvalidArgument,
            "{bad}"
        );
    }
    assert_eq!(plain_decimal("-2E-2").as_deref(), Some("-0.02"));
    assert_eq!(plain_decimal("1e999"), None);
}

/// Property: for any string value, the bound query lexes to the same token kinds as the query
/// with a plain literal in the placeholder's place, so its clauses (and everything else) are the
/// same. Deterministic pseudo-random strings over an alphabet of SOQL's special characters.
#[test]
fn no_value_changes_the_structure() {
    let alphabet: Vec<&str> = vec![
        "'",
        "\\",
        "\"",
        "%",
        "_",
        "\n",
        "\r",
        "\t",
        ":",
        ":x",
        "(",
        ")",
        ",",
        ";",
        "-",
        "--",
        "/*",
        " ",
        "a",
        "é",
        "🦀",
        "LIMIT 1",
        " ORDER BY ",
        "') OR (Name != '",
        "\\'",
        "' OR ''='",
        " FROM ",
        "SELECT",
        "\u{8}",
        "\u{c}",
        "LAST_N_DAYS:30",
    ];
    let template = "SELECT Id, (SELECT Id FROM Contacts WHERE Name = :v) FROM Account \
                    WHERE Name = :v AND Id IN :l ORDER BY Name LIMIT 5";
    let neutral = template.replace(":v", "'x'").replace(":l", "('x', 'x')");
    let shape = |s: &str| -> Vec<crate::soql::lex::TokKind> {
        lex(s).unwrap().iter().map(|t| t.kind).collect()
    };
    let want = shape(&neutral);
    let want_clauses = SoqlScan::parse(&neutral).unwrap().shape();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..2000 {
        let mut value = String::new();
        for _ in 0..(next() % 12) {
            value.push_str(alphabet[(next() % alphabet.len() as u64) as usize]);
        }
        let second: String = value.chars().rev().collect();
        let params = p(&[
            ("v", value.clone().into()),
            ("l", vec![value.clone(), second].into()),
        ]);
        let bound = bind(template, &params).unwrap();
        assert_eq!(
            shape(&bound),
            want,
            "value {value:?} changed the tokens: {bound}"
        );
        assert_eq!(SoqlScan::parse(&bound).unwrap().shape(), want_clauses);
    }
}
