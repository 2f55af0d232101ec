//! Worker process for the cross-process refresh test (`tests/cross_process.rs`).
//!
//! Usage: `sfcrm-reliability-worker LOGIN_URL STORE ACCOUNT OWNER EXPORTS EXPECTED`
//! STORE is a SQLite file path or `postgres:<conninfo>`. Opens the shared store, builds a client for the emulator at LOGIN_URL, prints `ready`,
//! waits for a line on stdin (the start signal), then runs EXPORTS concurrent full contact
//! streams and prints one JSON line: `{"complete":N,"failed":[..],"records":[..],"refreshes":N,
//! "token_requests":N}`. Exits 0 when every export delivered EXPECTED distinct Ids exactly once.

use std::collections::HashSet;
use std::io::BufRead;

use sfcrm_core::export::{ExportRequest, ExportSpec};
use sfcrm_core::{Client, ConnectionKey};
use sfcrm_reliability::env::test_config;
use sfcrm_reliability::stores::open_store;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 7 {
        eprintln!("usage: sfcrm-reliability-worker LOGIN_URL STORE ACCOUNT OWNER EXPORTS EXPECTED");
        std::process::exit(2);
    }
    let (login_url, db, exports, expected) = (&a[1], &a[2], a[5].parse::<usize>().unwrap(), a[6].parse::<usize>().unwrap());
    let key = ConnectionKey::new(a[3].clone(), a[4].clone());
    let store = open_store(db).await.expect("open the shared store");
    let config = test_config(login_url, "sfcrm-demo-client", "sfcrm-demo-secret")
        .refresh_wait(std::time::Duration::from_secs(30))
        .request_timeout(std::time::Duration::from_secs(30))
        .token_timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("config");
    let client = Client::new(config, store).expect("client");
    println!("ready");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).expect("start signal");
    let mut tasks = Vec::new();
    for _ in 0..exports {
        let client = client.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let spec = ExportSpec::builtin("contacts")?;
            let mut stream = client.export_stream(&key, ExportRequest::new(spec).batch_size(200));
            let mut ids = Vec::new();
            while let Some(batch) = stream.next_batch().await? {
                for r in batch.records {
                    ids.push(sfcrm_reliability::raw_record_id(&r));
                }
            }
            Ok::<Vec<String>, sfcrm_core::Error>(ids)
        }));
    }
    let (mut complete, mut failed, mut counts) = (0, Vec::new(), Vec::new());
    for t in tasks {
        match t.await.expect("task") {
            Ok(ids) => {
                let distinct: HashSet<&String> = ids.iter().collect();
                counts.push(ids.len());
                if ids.len() == expected && distinct.len() == expected {
                    complete += 1;
                } else {
                    failed.push(format!("{} records, {} distinct", ids.len(), distinct.len()));
                }
            }
            Err(e) => failed.push(format!("{:?}: {}", e.kind(), e)),
        }
    }
    let calls = client.api_calls();
    println!(
        "{}",
        serde_json::json!({"complete": complete, "failed": failed, "records": counts,
                           "refreshes": calls.refreshes, "token_requests": calls.token_requests})
    );
    std::process::exit(if complete == exports { 0 } else { 1 });
}
