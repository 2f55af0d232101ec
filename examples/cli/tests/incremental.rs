//! `sfcrm export --incremental-state FILE` (issue 16): the first run exports everything and
//! writes FILE; each later run gets exactly the changes since, also one committed "late" (its
//! SystemModstamp 120 s before the previous run's end); a run that stops leaves FILE as it was;
//! --since together with an existing FILE, and a checkpoint pasted into FILE, are refused before
//! any request. The same steps as core/tests/export_incremental.rs.

mod support;

use std::collections::HashSet;
use std::path::Path;

use sf_org_emulator::{Emulator, EmulatorConfig, Endpoint, Fault, FaultKind, SObject};
use support::{connect, printed_checkpoint, sfcrm};

fn ndjson_ids(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["Id"].as_str().unwrap().to_owned())
        .collect()
}

fn set(ids: &[String]) -> HashSet<String> {
    let s: HashSet<String> = ids.iter().cloned().collect();
    assert_eq!(s.len(), ids.len(), "a record delivered twice: {ids:?}");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_arrives_exactly_once_across_runs_including_a_late_one() {
    let emulator = Emulator::start(EmulatorConfig { contacts: 10, deals: 450, notes: 1, ..EmulatorConfig::default() })
        .await
        .unwrap();
    let control = emulator.control();
    let dir = tempfile::tempdir().unwrap();
    let redirect = "http://127.0.0.1:9/callback";
    connect(&emulator, dir.path(), redirect).await;
    let state = dir.path().join("deals.state");
    let out = dir.path().join("deals.ndjson");
    let run = || {
        let o = sfcrm(&emulator, dir.path(), redirect, &[
            "export", "deals", "--out", out.to_str().unwrap(), "--incremental-state", state.to_str().unwrap(),
        ])
        .output()
        .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "{stderr}");
        assert!(stderr.contains("state saved in"), "{stderr}");
        (ndjson_ids(&out), std::fs::read_to_string(&state).unwrap())
    };

    // Run 1: no state yet, so every deal; the state file is created.
    assert!(!state.exists());
    let (first, s1) = run();
    assert_eq!(set(&first).len(), 450);
    assert!(s1.ends_with('\n') && s1.trim().len() > 10);

    // Three deals change: run 2 gets exactly those.
    let changed = control.touch(SObject::Opportunity, 3);
    let (ids, s2) = run();
    assert_eq!(set(&ids), set(&changed));
    assert_ne!(s1, s2);

    // A run that stops (the org fails) leaves the state as it was and --out absent.
    std::fs::remove_file(&out).unwrap();
    let again = control.touch(SObject::Opportunity, 1);
    control.add_fault(Fault { endpoint: Endpoint::Query, count: 1000, kind: FaultKind::Status500 });
    let o = sfcrm(&emulator, dir.path(), redirect, &[
        "export", "deals", "--out", out.to_str().unwrap(), "--incremental-state", state.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert!(!o.status.success());
    assert_eq!(std::fs::read_to_string(&state).unwrap(), s2, "a failed run does not move the state");
    assert!(!out.exists());
    control.clear_faults();

    // A late commit: a deal whose SystemModstamp is 120 s before run 2's end, and one ordinary
    // change now. The next run gets these two and the change the failed run did not deliver.
    control.advance_clock_ms(-120_000);
    let late = control.touch_ids(SObject::Opportunity, &[first[200].clone()]).unwrap();
    control.advance_clock_ms(120_000);
    let now = control.touch(SObject::Opportunity, 1);
    let (ids, s3) = run();
    assert_eq!(set(&ids), set(&[late[0].clone(), now[0].clone(), again[0].clone()]));

    // Nothing changed: nothing delivered, the state stays usable.
    let (ids, _) = run();
    assert!(ids.is_empty(), "{ids:?}");
    let (ids, _) = run();
    assert!(ids.is_empty(), "{ids:?}");
    assert_ne!(s3, s1);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_with_a_state_file_and_a_checkpoint_in_it_are_refused_before_any_request() {
    let emulator = Emulator::start(EmulatorConfig { contacts: 10, deals: 300, notes: 1, ..EmulatorConfig::default() })
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let redirect = "http://127.0.0.1:9/callback";
    connect(&emulator, dir.path(), redirect).await;
    let state = dir.path().join("deals.state");
    let out = dir.path().join("deals.ndjson");
    let run = |extra: &[&str]| {
        let args = [&["export", "deals", "--out", out.to_str().unwrap(), "--incremental-state", state.to_str().unwrap()][..], extra].concat();
        sfcrm(&emulator, dir.path(), redirect, &args).output().unwrap()
    };
    // A first run from --since: only deals changed since then (none in 2100), state written.
    let o = run(&["--since", "2100-01-01T00:00:00Z"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(ndjson_ids(&out).is_empty());
    let saved = std::fs::read_to_string(&state).unwrap();

    let calls = emulator.control().counters().query;
    let o = run(&["--since", "2020-01-01T00:00:00Z"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && stderr.contains("drop --since"), "{stderr}");
    assert_eq!(emulator.control().counters().query, calls, "refused before any request");

    // A full export's checkpoint pasted into the state file: refused, saying which token is which.
    emulator.control().add_fault(Fault { endpoint: Endpoint::QueryMore, count: 1000, kind: FaultKind::Status500 });
    let o = sfcrm(&emulator, dir.path(), redirect, &["export", "deals", "--out", out.to_str().unwrap()]).output().unwrap();
    emulator.control().clear_faults();
    let checkpoint = printed_checkpoint(&String::from_utf8_lossy(&o.stderr));
    std::fs::write(&state, &checkpoint).unwrap();
    let calls_before = emulator.control().counters().query;
    let o = run(&[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && stderr.contains("resume checkpoint, not a watermark"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&state).unwrap(), checkpoint, "a refused run leaves the file alone");
    assert_eq!(emulator.control().counters().query, calls_before, "refused before any request");
    assert_ne!(saved, checkpoint);

    // A directory as the state file is refused too.
    std::fs::remove_file(&state).unwrap();
    std::fs::create_dir(&state).unwrap();
    let o = run(&[]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("not a regular file"));
    emulator.shutdown().await;
}
