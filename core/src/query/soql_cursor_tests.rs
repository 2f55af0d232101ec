use std::collections::VecDeque;
use std::sync::Mutex;

use super::*;
use crate::soql::SalesforceId;

/// A scripted connection: answers each call with the next reply and records what was asked.
#[derive(Default)]
struct Script {
    replies: Mutex<VecDeque<Result<QueryPage>>>,
    asked: Mutex<Vec<String>>,
}

impl QueryApi for Script {
    fn query<'a>(&'a self, soql: &'a str, _: &'a QueryOptions) -> BoxFuture<'a, Result<QueryPage>> {
        self.asked.lock().unwrap().push(soql.to_string());
        Box::pin(async { self.replies.lock().unwrap().pop_front().expect("a scripted reply") })
    }
    fn query_more<'a>(&'a self, url: &'a str, _: &'a QueryOptions) -> BoxFuture<'a, Result<QueryPage>> {
        self.asked.lock().unwrap().push(url.to_string());
        Box::pin(async { self.replies.lock().unwrap().pop_front().expect("a scripted reply") })
    }
}

fn id(n: u32) -> String {
    format!("001{n:015}")
}
fn rec(n: u32, child: Option<&str>) -> String {
    match child {
        None => format!(r#"{{"Id":"{}"}}"#, id(n)),
        Some(url) => format!(
            r#"{{"Id":"{}","Contacts":{{"totalSize":2,"done":false,"nextRecordsUrl":"{url}","records":[{{"Id":"c"}}]}}}}"#,
            id(n)
        ),
    }
}
fn page(total: u64, records: &[String], next: Option<&str>) -> Result<QueryPage> {
    let next = next.map_or(String::new(), |u| format!(r#","nextRecordsUrl":"{u}""#));
    QueryPage::from_text(format!(r#"{{"totalSize":{total},"done":{}{next},"records":[{}]}}"#, next.is_empty(), records.join(",")))
}
fn dead() -> Result<QueryPage> {
    Err(Error::new(ErrorKind::Api, "invalid query locator").with_error_code("INVALID_QUERY_LOCATOR"))
}
fn cursor(script: &Arc<Script>, soql: &str, start: SoqlStart) -> SoqlCursor {
    let plan = SoqlPlan::new(soql.to_string(), false);
    SoqlCursor::new(script.clone(), plan, QueryOptions::default(), ChildCursors::Complete, start, Arc::new(AtomicU64::new(0)))
}
fn ids(b: &SourceBatch) -> Vec<String> {
    b.records.iter().map(|r| r.id().unwrap().to_string()).collect()
}

#[tokio::test]
async fn keyset_restarts_before_the_parent_whose_child_locator_died() {
    let script = Arc::new(Script::default());
    script.replies.lock().unwrap().extend([
        page(4, &[rec(1, None), rec(2, None)], Some("/p-2")),
        // Record 3's child cursor dies -> restart after 2.
        page(4, &[rec(3, Some("/c-1")), rec(4, None)], None),
        dead(),
        page(2, &[rec(3, Some("/c-2")), rec(4, None)], None),
        page(2, &[r#"{"Id":"c2"}"#.to_string()], None),
    ]);
    let mut c = cursor(&script, "SELECT Id, (SELECT Id FROM Contacts) FROM Account WHERE Name != null", SoqlStart::Beginning);
    let b = c.next_batch().await.unwrap().unwrap();
    assert_eq!(ids(&b), [id(1), id(2)]);
    let b = c.next_batch().await.unwrap().unwrap();
    assert_eq!(ids(&b), [id(3), id(4)]);
    assert!(b.records[0].json().contains(r#""done":true,"records":[{"Id":"c"},{"Id":"c2"}]"#), "{}", b.records[0].json());
    assert_eq!(b.total_size, Some(4));
    assert!(c.next_batch().await.unwrap().is_none());
    let asked = script.asked.lock().unwrap().clone();
    let after2 = format!("SELECT Id, (SELECT Id FROM Contacts) FROM Account WHERE (Name != null) AND Id > '{}' ORDER BY Id", id(2));
    assert_eq!(asked, [
        "SELECT Id, (SELECT Id FROM Contacts) FROM Account WHERE Name != null ORDER BY Id".to_string(),
        "/p-2".into(), "/c-1".into(), after2, "/c-2".into(),
    ]);
}

#[tokio::test]
async fn locator_mode_reports_dead_locators_with_advice_and_resumes_by_page() {
    let script = Arc::new(Script::default());
    script.replies.lock().unwrap().extend([page(4, &[rec(1, None), rec(2, None)], Some("/p-2")), dead()]);
    let mut c = cursor(&script, "SELECT Name FROM Account ORDER BY Name", SoqlStart::Beginning);
    let b = c.next_batch().await.unwrap().unwrap();
    assert_eq!(b.page, Some(PageRef { url: None, next: Some("/p-2".into()), skipped: 0 }));
    let e = c.next_batch().await.unwrap_err();
    assert_eq!((e.kind(), e.error_code()), (ErrorKind::Api, Some("INVALID_QUERY_LOCATOR")));
    assert!(e.message().contains("ORDER BY") && e.message().contains("select Id"), "{}", e.message());

    // Resume inside page /p-2 after its first record; total counted from the resume.
    script.replies.lock().unwrap().push_back(page(4, &[rec(3, None), rec(4, None)], None));
    let start = SoqlStart::Page { url: Some("/p-2".into()), skip: 1, total_before: 3 };
    let mut c = cursor(&script, "SELECT Name FROM Account ORDER BY Name", start);
    let b = c.next_batch().await.unwrap().unwrap();
    assert_eq!((ids(&b), b.total_size), (vec![id(4)], Some(1)));
    assert_eq!(b.page.as_ref().unwrap().skipped, 1);
    assert!(c.next_batch().await.unwrap().is_none());
    // A child locator dying in locator mode is the same typed error.
    script.replies.lock().unwrap().extend([page(1, &[rec(1, Some("/c-9"))], None), dead()]);
    let mut c = cursor(&script, "SELECT Name, (SELECT Id FROM Contacts) FROM Account LIMIT 5", SoqlStart::Beginning);
    let e = c.next_batch().await.unwrap_err();
    assert!(e.message().contains("LIMIT"), "{}", e.message());
    // At the end: nothing is requested.
    let mut c = cursor(&script, "SELECT Name FROM Account", SoqlStart::End);
    assert!(c.next_batch().await.unwrap().is_none());
}

#[tokio::test]
async fn keyset_resume_and_as_sent_children() {
    let script = Arc::new(Script::default());
    script.replies.lock().unwrap().push_back(page(1, &[rec(5, Some("/c-1"))], None));
    let after = Position { id: SalesforceId::new(id(4)).unwrap(), modstamp: None };
    let plan = SoqlPlan::new("SELECT Id, (SELECT Id FROM Contacts) FROM Account".into(), true);
    let mut c = SoqlCursor::new(script.clone(), plan, QueryOptions::default(), ChildCursors::AsSent,
        SoqlStart::After(after), Arc::new(AtomicU64::new(0)));
    let b = c.next_batch().await.unwrap().unwrap();
    assert!(b.records[0].json().contains(r#""done":false,"nextRecordsUrl":"/c-1""#));
    assert_eq!(b.last_position.unwrap().id.as_str(), id(5));
    assert_eq!(script.asked.lock().unwrap()[0], format!("SELECT Id, (SELECT Id FROM Contacts) FROM Account WHERE Id > '{}' ORDER BY Id", id(4)));
}

#[tokio::test]
async fn keyset_restarts_after_a_dead_locator_once_per_progress() {
    let script = Arc::new(Script::default());
    script.replies.lock().unwrap().extend([
        page(4, &[rec(1, None), rec(2, None)], Some("/p-2")),
        dead(),
        page(2, &[rec(3, None)], Some("/p-3")),
        dead(),
        page(1, &[rec(4, None)], None),
    ]);
    let mut c = cursor(&script, "SELECT Id FROM Account", SoqlStart::Beginning);
    let mut got = Vec::new();
    while let Some(b) = c.next_batch().await.unwrap() {
        got.extend(ids(&b));
    }
    assert_eq!(got, [id(1), id(2), id(3), id(4)]);
    // Dying again right after a restart, before any record: an error.
    script.replies.lock().unwrap().extend([page(4, &[rec(1, None)], Some("/p-2")), dead(), page(3, &[], Some("/p-3")), dead()]);
    let mut c = cursor(&script, "SELECT Id FROM Account", SoqlStart::Beginning);
    c.next_batch().await.unwrap().unwrap();
    assert_eq!(c.next_batch().await.unwrap_err().error_code(), Some("INVALID_QUERY_LOCATOR"));
}
