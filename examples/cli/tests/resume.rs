//! `sfcrm export` that stops half-way (a persistent org failure) keeps what it wrote in a partial
//! file beside `--out` (named unpredictably), prints it and a checkpoint; `--checkpoint` continues
//! with no record lost or repeated, into another file or, with `--partial`, into that file.

mod support;

use sf_org_emulator::{Emulator, EmulatorConfig, Endpoint, Fault, FaultKind};
use support::{connect, printed_checkpoint, printed_partial, sfcrm};

fn ndjson_ids(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["Id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_that_stops_prints_a_checkpoint_and_resumes_exactly() {
    let emulator = Emulator::start(EmulatorConfig { contacts: 1000, deals: 10, notes: 10, ..EmulatorConfig::default() })
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let redirect = "http://127.0.0.1:9/callback";
    connect(&emulator, dir.path(), redirect).await;
    let run = |args: &[&str]| sfcrm(&emulator, dir.path(), redirect, args);

    // The org fails every locator request after the first batch: the export stops.
    emulator.control().add_fault(Fault { endpoint: Endpoint::QueryMore, count: 1000, kind: FaultKind::Status500 });
    let first = dir.path().join("contacts.ndjson");
    let out = run(&["export", "contacts", "--format", "ndjson", "--out", first.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!first.exists(), "an incomplete export is not renamed to --out");
    let partial = printed_partial(&stderr);
    assert_eq!(partial.parent(), Some(dir.path()));
    let head = ndjson_ids(&std::fs::read_to_string(&partial).unwrap());
    assert_eq!(head.len(), 200, "{stderr}");
    let token = printed_checkpoint(&stderr);

    // The org recovers; the resumed run writes the rest.
    emulator.control().clear_faults();
    let second = dir.path().join("rest.ndjson");
    let out = run(&["export", "contacts", "--format", "ndjson", "--checkpoint", &token, "--out", second.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1000 records in all"));
    let tail = ndjson_ids(&std::fs::read_to_string(&second).unwrap());
    let mut all = head.clone();
    all.extend(tail);
    assert_eq!(all.len(), 1000);
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, all, "every contact exactly once, in Id order");
    emulator.shutdown().await;
}

/// A stopped CSV export is continued in its own partial file with `--partial`: the records are
/// appended (the header is not repeated) and the result is byte for byte what an uninterrupted
/// export writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_csv_export_is_continued_in_its_partial_file() {
    let emulator = Emulator::start(EmulatorConfig { contacts: 1000, deals: 10, notes: 10, ..EmulatorConfig::default() })
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let redirect = "http://127.0.0.1:9/callback";
    connect(&emulator, dir.path(), redirect).await;
    let run = |args: &[&str]| sfcrm(&emulator, dir.path(), redirect, args);
    let whole = dir.path().join("whole.csv");
    let out = run(&["export", "contacts", "--format", "csv", "--out", whole.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    emulator.control().add_fault(Fault { endpoint: Endpoint::QueryMore, count: 1000, kind: FaultKind::Status500 });
    let target = dir.path().join("contacts.csv");
    let out = run(&["export", "contacts", "--format", "csv", "--out", target.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let token = printed_checkpoint(&stderr);
    let partial = printed_partial(&stderr);
    assert_eq!(partial.parent(), Some(dir.path()), "{stderr}");
    assert_eq!(std::fs::read_to_string(&partial).unwrap().lines().count(), 201, "header and 200 rows");
    assert!(!target.exists());

    emulator.control().clear_faults();
    let continued = ["export", "contacts", "--format", "csv", "--out", target.to_str().unwrap(), "--checkpoint", &token];
    let out = run(&[&continued[..], &["--partial", partial.to_str().unwrap()]].concat()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("800 records") && stderr.contains("1000 records in all"), "{stderr}");
    assert!(!partial.exists(), "the partial file became the output");
    assert_eq!(std::fs::read(&target).unwrap(), std::fs::read(&whole).unwrap(), "one header, every row once, in order");
    emulator.shutdown().await;
}
