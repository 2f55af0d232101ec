use std::collections::HashMap;
use std::time::Duration;

use super::*;
use crate::query::bulk::ResultPageList;
use crate::query::bulk_csv::ValueType;

const JOB: &str = "750R0000000zxr8IAA";

#[derive(Default)]
struct Fake {
    create_error: Option<fn() -> Error>,
    polls: Mutex<VecDeque<BulkJobState>>,
    failed_message: Option<String>,
    pages: HashMap<Option<String>, ResultPage>,
    lists: Option<Vec<ResultPageList>>,
    log: Mutex<Vec<String>>,
}

fn info(state: BulkJobState, fake: &Fake) -> JobInfo {
    JobInfo {
        id: JOB.into(),
        state,
        object: Some("Contact".into()),
        column_delimiter: Some("COMMA".into()),
        records_processed: Some(3),
        retries: Some(1),
        error_message: fake.failed_message.clone(),
    }
}

impl Fake {
    fn log(&self, s: impl Into<String>) {
        self.log.lock().unwrap().push(s.into());
    }
    fn calls(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
    fn page(&self, key: Option<&str>) -> Result<ResultPage> {
        self.pages.get(&key.map(str::to_owned)).cloned().ok_or_else(|| Error::new(ErrorKind::Api, "no such page").with_status(400))
    }
}

impl BulkApi for Fake {
    fn create<'a>(&'a self, soql: &'a str, all_rows: bool) -> BoxFuture<'a, Result<JobInfo>> {
        Box::pin(async move {
            self.log(format!("create {all_rows} {soql}"));
            match &self.create_error {
                Some(e) => Err(e()),
                None => Ok(info(BulkJobState::UploadComplete, self)),
            }
        })
    }
    fn job<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<JobInfo>> {
        Box::pin(async move {
            self.log(format!("poll {id}"));
            let state = self.polls.lock().unwrap().pop_front().unwrap_or(BulkJobState::JobComplete);
            Ok(info(state, self))
        })
    }
    fn results<'a>(&'a self, id: &'a str, locator: Option<&'a str>, max: u32) -> BoxFuture<'a, Result<ResultPage>> {
        Box::pin(async move {
            self.log(format!("results {id} {locator:?} {max}"));
            self.page(locator)
        })
    }
    fn result_pages<'a>(&'a self, _id: &'a str, next: Option<&'a str>, _max: u32) -> BoxFuture<'a, Result<Option<ResultPageList>>> {
        Box::pin(async move {
            self.log(format!("resultPages {next:?}"));
            let Some(lists) = &self.lists else { return Ok(None) };
            let i = next.map_or(0, |n| n.parse::<usize>().unwrap());
            Ok(Some(lists[i].clone()))
        })
    }
    fn result_url<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<ResultPage>> {
        Box::pin(async move {
            self.log(format!("url {url}"));
            let mut p = self.page(locator_of(url).as_deref())?;
            p.next_locator = None; // as if Salesforce sent no Sforce-Locator here
            Ok(p)
        })
    }
    fn column_types<'a>(&'a self, sobject: &'a str, columns: &'a [String]) -> BoxFuture<'a, Result<ColumnTypes>> {
        Box::pin(async move {
            self.log(format!("types {sobject} {}", columns.join(",")));
            let mut t = ColumnTypes::default();
            t.set("Age__c", ValueType::Number);
            Ok(t)
        })
    }
    fn abort<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.log(format!("abort {id}"));
            Ok(())
        })
    }
    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.log(format!("delete {id}"));
            Ok(())
        })
    }
}

fn page(rows: &[&str], next: Option<&str>) -> ResultPage {
    let mut csv = String::from("\"Id\",\"Age__c\"\n");
    for r in rows {
        csv.push_str(r);
        csv.push('\n');
    }
    ResultPage { csv, next_locator: next.map(str::to_owned), records: Some(rows.len() as u64) }
}

fn three_rows() -> HashMap<Option<String>, ResultPage> {
    HashMap::from([
        (None, page(&["003000000000001AAA,41", "003000000000002AAA,"], Some("MQ"))),
        (Some("MQ".into()), page(&["003000000000003AAA,7"], None)),
    ])
}

fn opts() -> BulkOptions {
    BulkOptions { poll_interval: Duration::from_millis(1), poll_max_interval: Duration::from_millis(2), concurrency: 1, ..BulkOptions::default() }
}

struct Rest;
impl QuerySource for Rest {
    fn next_batch(&mut self) -> BoxFuture<'_, Result<Option<SourceBatch>>> {
        Box::pin(async { Ok(None) })
    }
}

fn cursor(fake: Arc<Fake>, options: BulkOptions, start: BulkStart) -> (BulkCursor, SharedBulkStatus) {
    let status = SharedBulkStatus::default();
    let fallback: Fallback = Box::new(|| Ok(Box::new(Rest) as Box<dyn QuerySource>));
    let c = BulkCursor::new(
        fake,
        "SELECT Id, Age__c FROM Contact".into(),
        false,
        options,
        vec!["Id".into(), "Age__c".into()],
        Some("Contact".into()),
        "/services/data/v59.0".into(),
        start,
        status.clone(),
        Arc::new(AtomicU64::new(0)),
        Some(fallback),
    );
    (c, status)
}

async fn drain(c: &mut BulkCursor) -> Vec<SourceBatch> {
    let mut out = Vec::new();
    while let Some(b) = c.next().await.unwrap() {
        out.push(b);
    }
    out
}

#[tokio::test]
async fn polls_then_reads_pages_by_locator_then_deletes() {
    let fake = Arc::new(Fake {
        pages: three_rows(),
        polls: Mutex::new([BulkJobState::InProgress, BulkJobState::InProgress].into()),
        ..Fake::default()
    });
    let (mut c, status) = cursor(fake.clone(), opts(), BulkStart::Beginning);
    let batches = drain(&mut c).await;
    let ids: Vec<Vec<String>> = batches.iter().map(|b| b.records.iter().map(|r| r.id().unwrap().to_string()).collect()).collect();
    assert_eq!(ids, [vec!["003000000000001AAA", "003000000000002AAA"], vec!["003000000000003AAA"]]);
    assert_eq!(batches[0].records[0].to_record().unwrap()["Age__c"].to_string(), "41");
    assert!(batches[0].records[1].to_record().unwrap()["Age__c"].is_null());
    assert_eq!(batches[0].page, Some(PageRef { url: None, next: Some("MQ".into()), skipped: 0 }));
    assert_eq!(batches[1].page, Some(PageRef { url: Some("MQ".into()), next: None, skipped: 0 }));
    assert_eq!(batches[0].total_size, Some(3));
    assert_eq!(fake.calls(), [
        "create false SELECT Id, Age__c FROM Contact",
        "types Contact Id,Age__c",
        &format!("poll {JOB}"),
        &format!("poll {JOB}"),
        &format!("poll {JOB}"),
        &format!("results {JOB} None 50000"),
        &format!("results {JOB} Some(\"MQ\") 50000"),
        &format!("delete {JOB}"),
    ]);
    let s = status.lock().unwrap().clone();
    assert_eq!((s.job_id.as_deref(), s.state, s.records_processed, s.retries, s.fallback), (Some(JOB), Some(BulkJobState::JobComplete), Some(3), Some(1), None));
    assert_eq!(c.calls.load(Ordering::Relaxed), 7);
}

#[tokio::test]
async fn result_pages_are_fetched_together_and_handed_out_in_order() {
    let mut pages = three_rows();
    pages.insert(Some("Mg".into()), page(&["003000000000004AAA,1"], None));
    let url = |l: &str| format!("/services/data/v59.0/jobs/query/{JOB}/results?locator={l}&maxRecords=2");
    let first = format!("/services/data/v59.0/jobs/query/{JOB}/results?maxRecords=2");
    let fake = Arc::new(Fake {
        pages,
        lists: Some(vec![
            ResultPageList { urls: vec![first.clone(), url("MQ")], next: Some("1".into()) },
            ResultPageList { urls: vec![url("Mg")], next: None },
        ]),
        ..Fake::default()
    });
    let (mut c, _) = cursor(fake.clone(), BulkOptions { concurrency: 3, delete_job: false, max_records: 2, ..opts() }, BulkStart::Beginning);
    let batches = drain(&mut c).await;
    let n: Vec<usize> = batches.iter().map(|b| b.records.len()).collect();
    assert_eq!(n, [2, 1, 1]);
    let refs: Vec<_> = batches.iter().map(|b| (b.page.clone().unwrap().url, b.page.clone().unwrap().next)).collect();
    assert_eq!(refs, [(None, Some("MQ".into())), (Some("MQ".into()), Some("Mg".into())), (Some("Mg".into()), None)]);
    let log = fake.calls();
    assert_eq!(&log[3..], ["resultPages None", "resultPages Some(\"1\")", &format!("url {first}"), &format!("url {}", url("MQ")), &format!("url {}", url("Mg"))]);
    assert!(!log.iter().any(|l| l.starts_with("delete")), "delete_job false keeps the job");
}

#[tokio::test]
async fn a_refusal_or_a_failed_job_falls_back_to_rest_with_the_reason() {
    fn refusal() -> Error {
        Error::new(ErrorKind::Api, "Aggregate Relationships not supported in Bulk V2 Query with CSV content type")
            .with_status(400)
            .with_error_code("FEATURENOTENABLED")
    }
    let fake = Arc::new(Fake { create_error: Some(refusal), ..Fake::default() });
    let (mut c, status) = cursor(fake.clone(), opts(), BulkStart::Beginning);
    assert!(drain(&mut c).await.is_empty());
    assert!(status.lock().unwrap().fallback.as_deref().unwrap().starts_with("FEATURENOTENABLED: Aggregate Relationships"));
    let (mut c, _) = cursor(fake, BulkOptions { fallback_to_rest: false, ..opts() }, BulkStart::Beginning);
    assert_eq!(c.next().await.unwrap_err().error_code(), Some("FEATURENOTENABLED"));

    for message in [Some("QUERY_TIMEOUT: too long"), None] {
        let fake = Arc::new(Fake {
            polls: Mutex::new([BulkJobState::InProgress, BulkJobState::Failed].into()),
            failed_message: message.map(str::to_owned),
            ..Fake::default()
        });
        let (mut c, status) = cursor(fake.clone(), opts(), BulkStart::Beginning);
        assert!(drain(&mut c).await.is_empty());
        let why = status.lock().unwrap().fallback.clone().unwrap();
        assert!(why.contains(message.unwrap_or("no errorMessage")), "{why}");
        assert_eq!(fake.calls().last().unwrap(), &format!("delete {JOB}"));
        let fake = Arc::new(Fake { polls: Mutex::new([BulkJobState::Failed].into()), ..Fake::default() });
        let (mut c, _) = cursor(fake, BulkOptions { fallback_to_rest: false, ..opts() }, BulkStart::Beginning);
        assert_eq!(c.next().await.unwrap_err().error_code(), Some("BULK_JOB_FAILED"));
    }
}

#[tokio::test]
async fn a_resume_reads_on_from_the_locator_without_a_new_job() {
    let fake = Arc::new(Fake { pages: three_rows(), ..Fake::default() });
    let start = BulkStart::Page { job: JOB.into(), locator: None, skip: 1, total_before: 1 };
    let (mut c, _) = cursor(fake.clone(), opts(), start);
    let batches = drain(&mut c).await;
    let n: Vec<usize> = batches.iter().map(|b| b.records.len()).collect();
    assert_eq!(n, [1, 1]);
    assert_eq!(batches[0].page.as_ref().unwrap().skipped, 1);
    assert_eq!(batches[0].total_size, Some(2));
    assert!(!fake.calls().iter().any(|l| l.starts_with("create")));
    assert_eq!(fake.calls()[0], format!("poll {JOB}"));
}

#[tokio::test(start_paused = true)]
async fn dropping_a_running_job_aborts_it_and_a_poll_timeout_aborts_too() {
    let fake = Arc::new(Fake { polls: Mutex::new(vec![BulkJobState::InProgress; 1000].into()), ..Fake::default() });
    let (mut c, _) = cursor(fake.clone(), BulkOptions { poll_interval: Duration::from_secs(1), ..opts() }, BulkStart::Beginning);
    let task = tokio::spawn(async move { c.next().await.map(|_| ()) });
    tokio::time::sleep(Duration::from_secs(10)).await;
    task.abort();
    let _ = task.await;
    tokio::task::yield_now().await;
    assert_eq!(fake.calls().last().unwrap(), &format!("abort {JOB}"));

    let fake = Arc::new(Fake { polls: Mutex::new(vec![BulkJobState::InProgress; 1000].into()), ..Fake::default() });
    let o = BulkOptions { poll_interval: Duration::from_secs(1), poll_max_interval: Duration::from_secs(4), poll_timeout: Some(Duration::from_secs(30)), ..opts() };
    let (mut c, _) = cursor(fake.clone(), o, BulkStart::Beginning);
    assert_eq!(c.next().await.unwrap_err().kind(), ErrorKind::Timeout);
    let log = fake.calls();
    assert_eq!(log.last().unwrap(), &format!("abort {JOB}"));
    // 1 + 2 + 4 + 4 + … s between polls: fewer than 12 polls in 30 s, no poll storm.
    assert!(log.iter().filter(|l| l.starts_with("poll")).count() < 12);
    drop(c);
    tokio::task::yield_now().await;
    assert_eq!(fake.calls().iter().filter(|l| l.starts_with("abort")).count(), 1, "aborted once");
}

#[tokio::test]
async fn a_job_that_fits_one_page_makes_no_result_pages_call() {
    let fake = Arc::new(Fake { pages: three_rows(), lists: Some(Vec::new()), ..Fake::default() });
    let (mut c, _) = cursor(fake.clone(), BulkOptions { concurrency: 4, ..opts() }, BulkStart::Beginning);
    assert_eq!(drain(&mut c).await.len(), 2);
    assert!(!fake.calls().iter().any(|l| l.starts_with("resultPages")), "{:?}", fake.calls());
}
