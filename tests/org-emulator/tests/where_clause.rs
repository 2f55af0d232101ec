//! WHERE: AND/OR/NOT with parentheses, comparisons, LIKE, IN / NOT IN, null comparisons and date
//! literals, checked against a client-side filter of the full result; ORDER BY several fields.
mod common;
use common::*;
use serde_json::Value;
use sf_org_emulator::{EmulatorConfig, SObject};

async fn setup() -> (sf_org_emulator::Emulator, String) {
    let emu = start(EmulatorConfig::default()).await;
    let t = login(&emu).await;
    let at = s(&t, "access_token").to_string();
    (emu, at)
}

async fn records(base: &str, at: &str, soql: &str) -> Vec<Value> {
    let r = query(base, at, soql).await;
    assert_eq!(r.status(), 200, "{soql}");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["done"], true, "{soql}");
    v["records"].as_array().unwrap().clone()
}

fn ids(recs: &[Value]) -> Vec<String> {
    recs.iter().map(|r| s(r, "Id").to_string()).collect()
}

fn text<'a>(r: &'a Value, k: &str) -> Option<&'a str> {
    r[k].as_str()
}

#[tokio::test]
async fn and_or_not_parentheses_like_in_and_nulls() {
    let (emu, at) = setup().await;
    let base = emu.instance_url();
    let all = records(base, &at, "SELECT Id, FirstName, LastName, Title, Email, Account.Name FROM Contact").await;
    assert_eq!(all.len(), 1500);
    let pick = |f: &dyn Fn(&Value) -> bool| ids(&all.iter().filter(|r| f(r)).cloned().collect::<Vec<_>>());

    let got = ids(&records(base, &at, "SELECT Id FROM Contact WHERE (LastName = 'Smith' OR LastName = 'o\\'connor') AND Title != null").await);
    let want = pick(&|r| matches!(text(r, "LastName"), Some("Smith" | "O'Connor")) && !r["Title"].is_null());
    assert!(!want.is_empty());
    assert_eq!(got, want);

    let got = ids(&records(base, &at, "SELECT Id FROM Contact WHERE NOT (FirstName = null OR LastName LIKE 'S%')").await);
    let want = pick(&|r| !r["FirstName"].is_null() && !text(r, "LastName").unwrap().to_lowercase().starts_with('s'));
    assert_eq!(got, want);

    let got = ids(&records(base, &at, "SELECT Id FROM Contact WHERE Email LIKE '%.smith%@example.com' AND NOT Title IN ('CEO', 'CFO')").await);
    let want = pick(&|r| {
        text(r, "Email").is_some_and(|e| e.contains(".smith") && e.ends_with("@example.com")) && !matches!(text(r, "Title"), Some("CEO" | "CFO"))
    });
    assert!(!want.is_empty());
    assert_eq!(got, want);

    let got = ids(&records(base, &at, "SELECT Id FROM Contact WHERE Title NOT IN ('CEO', null) AND Account.Name = null").await);
    let want = pick(&|r| !matches!(text(r, "Title"), Some("CEO") | None) && r["Account"].is_null());
    assert!(!want.is_empty());
    assert_eq!(got, want);

    // `_` matches one character; LIKE is case-insensitive; a literal `\%`.
    let got = ids(&records(base, &at, "SELECT Id FROM Contact WHERE LastName LIKE 'k_m'").await);
    assert_eq!(got, pick(&|r| text(r, "LastName") == Some("Kim")));
    assert!(records(base, &at, "SELECT Id FROM Contact WHERE Title LIKE '100\\%'").await.is_empty());

    // Parent fields in OR: a null parent does not hide the row (outer join).
    let got = ids(&records(base, &at, "SELECT Id FROM Contact WHERE Account.Name = null OR LastName = 'Kim'").await);
    assert_eq!(got, pick(&|r| r["Account"].is_null() || text(r, "LastName") == Some("Kim")));
}

#[tokio::test]
async fn comparison_operators_on_numbers_dates_and_booleans() {
    let (emu, at) = setup().await;
    let base = emu.instance_url();
    let all = records(base, &at, "SELECT Id, Amount, CloseDate, IsWon, Probability FROM Opportunity").await;
    let pick = |f: &dyn Fn(&Value) -> bool| ids(&all.iter().filter(|r| f(r)).cloned().collect::<Vec<_>>());
    let amount = |r: &Value| r["Amount"].as_f64();
    for (op, f) in [
        ("<", (|a: f64| a < 50_000.0) as fn(f64) -> bool),
        ("<=", |a| a <= 50_000.0),
        (">", |a| a > 50_000.0),
        (">=", |a| a >= 50_000.0),
        ("=", |a| a == 50_000.0),
        ("!=", |a| a != 50_000.0),
    ] {
        let got = ids(&records(base, &at, &format!("SELECT Id FROM Opportunity WHERE Amount {op} 50000")).await);
        let want = pick(&|r| if op == "!=" { amount(r).is_none_or(f) } else { amount(r).is_some_and(f) });
        assert_eq!(got, want, "Amount {op} 50000");
    }
    let got = ids(&records(base, &at, "SELECT Id FROM Opportunity WHERE CloseDate >= 2022-01-01 AND CloseDate < 2022-07-01 AND IsWon = false").await);
    let want = pick(&|r| {
        let d = s(r, "CloseDate");
        ("2022-01-01".."2022-07-01").contains(&d) && r["IsWon"] == false
    });
    assert!(!want.is_empty());
    assert_eq!(got, want);
    let got = ids(&records(base, &at, "SELECT Id FROM Opportunity WHERE Probability IN (10, 90) OR Amount = null").await);
    assert_eq!(got, pick(&|r| matches!(r["Probability"].as_u64(), Some(10 | 90)) || r["Amount"].is_null()));
}

#[tokio::test]
async fn date_literals_follow_the_emulator_clock() {
    let emu = start(EmulatorConfig { session_lifetime_s: 30 * 86_400, ..Default::default() }).await;
    let at = s(&login(&emu).await, "access_token").to_string();
    let base = emu.instance_url();
    let c = emu.control();
    assert!(records(base, &at, "SELECT Id FROM Contact WHERE SystemModstamp = TODAY").await.is_empty());
    let touched = c.touch(SObject::Contact, 4);
    let mut got = ids(&records(base, &at, "SELECT Id FROM Contact WHERE SystemModstamp = TODAY").await);
    got.sort();
    assert_eq!(got, touched);
    assert_eq!(ids(&records(base, &at, "SELECT Id FROM Contact WHERE LastModifiedDate = LAST_N_DAYS:1 ORDER BY Id").await), touched);
    assert_eq!(ids(&records(base, &at, "SELECT Id FROM Contact WHERE SystemModstamp > YESTERDAY AND SystemModstamp = THIS_MONTH ORDER BY Id").await), touched);
    assert_eq!(records(base, &at, "SELECT Id FROM Contact WHERE SystemModstamp >= TOMORROW").await.len(), 0);
    assert_eq!(records(base, &at, "SELECT Id FROM Contact WHERE SystemModstamp < THIS_YEAR").await.len(), 1500 - 4);
    // Two days later, today's touches are N_DAYS_AGO:2, no longer TODAY.
    c.advance_clock_ms(2 * 86_400_000);
    assert!(records(base, &at, "SELECT Id FROM Contact WHERE SystemModstamp = TODAY").await.is_empty());
    assert_eq!(ids(&records(base, &at, "SELECT Id FROM Contact WHERE SystemModstamp = N_DAYS_AGO:2 ORDER BY Id").await), touched);
    assert_eq!(ids(&records(base, &at, "SELECT Id FROM Contact WHERE SystemModstamp = LAST_N_DAYS:2 ORDER BY Id").await), touched);
    // Date fields take date literals too; the range covers whole days.
    let all = records(base, &at, "SELECT Id, CloseDate FROM Opportunity").await;
    let n = records(base, &at, "SELECT Id FROM Opportunity WHERE CloseDate < LAST_N_YEARS:100").await.len();
    assert_eq!(n, 0);
    assert_eq!(records(base, &at, "SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_YEARS:100 OR CloseDate >= THIS_YEAR").await.len(), all.len());
}

#[tokio::test]
async fn order_by_several_fields_with_nulls_first_and_last() {
    let (emu, at) = setup().await;
    let base = emu.instance_url();
    let recs = records(base, &at, "SELECT Id, Title, LastName FROM Contact ORDER BY Title DESC NULLS FIRST, LastName ASC, Id DESC").await;
    let key = |r: &Value| (r["Title"].as_str().map(str::to_lowercase), s(r, "LastName").to_lowercase(), s(r, "Id").to_string());
    assert!(recs.first().unwrap()["Title"].is_null());
    for w in recs.windows(2) {
        let (a, b) = (key(&w[0]), key(&w[1]));
        let ord = match (&a.0, &b.0) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => y.cmp(x),
        }
        .then(a.1.cmp(&b.1))
        .then(b.2.cmp(&a.2));
        assert_ne!(ord, std::cmp::Ordering::Greater, "{a:?} before {b:?}");
    }
    let recs = records(base, &at, "SELECT Id, Title FROM Contact ORDER BY Title NULLS LAST LIMIT 2000").await;
    assert!(recs.last().unwrap()["Title"].is_null());
    assert!(!recs.first().unwrap()["Title"].is_null());
}

#[tokio::test]
async fn where_errors_have_salesforce_shapes() {
    let (emu, at) = setup().await;
    let base = emu.instance_url();
    let (st, code, msg) = rest_err(query(base, &at, "SELECT Id FROM Contact WHERE LastName = 'a' AND Title = 'b' OR Email = 'c'").await).await;
    assert_eq!((st, code.as_str()), (400, "MALFORMED_QUERY"));
    assert!(msg.starts_with("\nSELECT Id FROM Contact WHERE") && msg.contains("\nERROR at Row:1:Column:61\nunexpected token: OR"), "{msg:?}");
    let (st, code, msg) = rest_err(query(base, &at, "SELECT Id FROM Contact WHERE CreatedDate > LAST_N_DAYZ:3").await).await;
    assert_eq!((st, code.as_str()), (400, "MALFORMED_QUERY"));
    assert!(msg.contains("ERROR at Row:1:Column:44"), "{msg}");
    let (_, code, msg) = rest_err(query(base, &at, "SELECT Id FROM Contact WHERE LastName = TODAY").await).await;
    assert_eq!(code, "INVALID_FIELD");
    assert!(msg.contains("value of filter criterion for field 'LastName' must be of type string and should be enclosed in quotes"), "{msg}");
    let (_, code, msg) = rest_err(query(base, &at, "SELECT Id FROM Note WHERE Body = 'x'").await).await;
    assert_eq!(code, "INVALID_FIELD");
    assert!(msg.contains("field 'Body' can not be filtered in a query call"), "{msg}");
    let (_, code, _) = rest_err(query(base, &at, "SELECT Id FROM Contact WHERE LastName INCLUDES ('a')").await).await;
    assert_eq!(code, "INVALID_QUERY_FILTER_OPERATOR");
    let (_, code, msg) = rest_err(query(base, &at, "SELECT Id FROM Contact WHERE (LastName = 'a'").await).await;
    assert_eq!(code, "MALFORMED_QUERY");
    assert!(msg.contains("unexpected token: <EOF>"), "{msg}");
}
