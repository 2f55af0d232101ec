//! Incremental state (issue 16, "Incremental exports that cannot silently miss changes"): each
//! run returns a watermark, the next run starts from it, and every change arrives exactly once,
//! also one committed "late" (its SystemModstamp earlier than the previous run's end).

mod support;

use std::collections::HashSet;

use sf_org_emulator::{EmulatorConfig, SObject};
use sfcrm_core::ErrorKind;
use sfcrm_core::export::{Checkpoint, ExportRequest, ExportSpec, Watermark};
use support::Env;

/// One run: the Ids delivered (each asserted once) and the watermark's token.
async fn run(env: &Env, request: ExportRequest) -> (Vec<String>, String) {
    let mut s = env.client.export_stream(&env.key, request);
    let mut ids = Vec::new();
    while let Some(b) = s.next_batch().await.unwrap() {
        ids.extend(b.records.iter().map(|r| r.id().unwrap().to_string()));
    }
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a record delivered twice in one run");
    (ids, s.watermark().expect("an incremental run has a watermark").to_token())
}

fn deals() -> ExportRequest {
    ExportRequest::new(ExportSpec::builtin("deals").unwrap()).batch_size(200)
}

fn set(ids: &[String]) -> HashSet<String> {
    ids.iter().cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_arrives_exactly_once_across_runs_including_a_late_one() {
    let ecfg = EmulatorConfig { contacts: 10, deals: 850, notes: 1, ..EmulatorConfig::default() };
    let env = Env::start_with(ecfg, |b| b).await;
    let control = env.emu.control();

    // Run 1: everything since 2000 (the first run of an incremental sync).
    let (ids, w1) = run(&env, deals().since("2000-01-01T00:00:00Z")).await;
    assert_eq!(ids.len(), 850);

    // Three deals change; run 2 gets exactly those three.
    let changed: Vec<String> = control.touch(SObject::Opportunity, 3);
    let (ids, w2) = run(&env, deals().after_watermark(Watermark::from_token(&w1).unwrap())).await;
    assert_eq!(set(&ids), set(&changed), "run 2: the three changes, nothing from run 1's boundary again");
    let end2 = Watermark::from_token(&w2).unwrap().modstamp().unwrap();

    // A late commit: a deal whose SystemModstamp is 120 s before run 2's end (it was written
    // then, committed after run 2 read), and one ordinary change now.
    control.advance_clock_ms(-120_000);
    let late = control.touch_ids(SObject::Opportunity, &[control.record_id(SObject::Opportunity, 500)]).unwrap();
    control.advance_clock_ms(120_000);
    let now = control.touch_ids(SObject::Opportunity, &[control.record_id(SObject::Opportunity, 501)]).unwrap();
    let (ids, w3) = run(&env, deals().after_watermark(Watermark::from_token(&w2).unwrap())).await;
    assert_eq!(set(&ids), set(&[late[0].clone(), now[0].clone()]), "run 3: the late change and the new one, once each");
    // A plain `SystemModstamp >= end of run 2` (the checkpoint's last_modstamp) would miss it.
    let mut s = env.client.export_stream(&env.key, deals().since(end2.to_salesforce()));
    let mut plain = Vec::new();
    while let Some(b) = s.next_batch().await.unwrap() {
        plain.extend(b.records.iter().map(|r| r.id().unwrap().to_string()));
    }
    assert!(!plain.contains(&late[0]), "the late change is before run 2's end");

    // Run 4: nothing changed, nothing delivered; the watermark stays usable.
    let (ids, w4) = run(&env, deals().after_watermark(Watermark::from_token(&w3).unwrap())).await;
    assert!(ids.is_empty(), "run 4 delivered {ids:?}");
    assert_eq!(Watermark::from_token(&w4).unwrap().modstamp().unwrap(), Watermark::from_token(&w3).unwrap().modstamp().unwrap());
    // The same change in the lookback window again after run 3: still skipped once more.
    let (ids, _) = run(&env, deals().after_watermark(Watermark::from_token(&w4).unwrap())).await;
    assert!(ids.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_is_refused_where_a_watermark_is_expected() {
    let env = Env::start().await;
    // The mistake: a full export's checkpoint reused as the next incremental run's start.
    let mut s = env.client.export_stream(&env.key, ExportRequest::new(ExportSpec::builtin("deals").unwrap()));
    while s.next_batch().await.unwrap().is_some() {}
    let cp = s.checkpoint().to_token();
    assert!(s.watermark().is_none(), "a full export has no watermark");
    let e = Watermark::from_token(&cp).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("resume checkpoint, not a watermark"), "{e}");
    // since and a watermark together, and a watermark of another sObject, are refused before
    // any request.
    let (_, w) = run(&env, deals().since("2000-01-01T00:00:00Z")).await;
    let w = Watermark::from_token(&w).unwrap();
    let both = deals().since("2000-01-01T00:00:00Z").after_watermark(w.clone());
    let e = env.client.export_stream(&env.key, both).next_batch().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    let contacts = ExportRequest::new(ExportSpec::builtin("contacts").unwrap()).after_watermark(w);
    let e = env.client.export_stream(&env.key, contacts).next_batch().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(Checkpoint::from_token(&cp).is_ok());
}
