//! `sfcrm describe` against the org emulator (issue 11): an sObject's fields as a table, the org's
//! sObjects, `--json` for Salesforce's body as received, and an unknown sObject reported on one
//! line with a non-zero exit.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use sf_org_emulator::{Emulator, EmulatorConfig};
use support::{connect, sfcrm};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

async fn connected() -> (Emulator, tempfile::TempDir) {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    connect(&emulator, dir.path(), REDIRECT).await;
    (emulator, dir)
}

fn run(emulator: &Emulator, dir: &Path, args: &[&str]) -> Output {
    sfcrm(emulator, dir, REDIRECT, args).output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_prints_a_table_or_the_raw_json() {
    let (emulator, dir) = connected().await;
    let table = ok(&run(&emulator, dir.path(), &["describe", "Contact"]));
    let mut lines = table.lines();
    assert!(lines.next().unwrap().starts_with("Contact (Contact): "), "{table}");
    let header = lines.next().unwrap();
    assert!(header.starts_with("NAME") && header.contains("NILLABLE") && header.ends_with("REFERENCE"), "{header}");
    let row = |name: &str| table.lines().find(|l| l.split_whitespace().next() == Some(name)).unwrap_or_else(|| panic!("{name}: {table}"));
    assert!(row("AccountId").contains("reference") && row("AccountId").contains("Account (Account)"), "{}", row("AccountId"));
    assert!(row("LastName").contains("string"));
    assert!(row("MailingCity").contains("part of MailingAddress"), "{}", row("MailingCity"));
    let raw: Value = serde_json::from_str(&ok(&run(&emulator, dir.path(), &["describe", "Contact", "--json"]))).unwrap();
    assert_eq!(raw["name"], "Contact");
    assert_eq!(table.lines().count() - 2, raw["fields"].as_array().unwrap().len());
    let global = ok(&run(&emulator, dir.path(), &["describe"]));
    assert!(global.lines().any(|l| l.starts_with("Wide_Object__c ") && l.contains(" yes")), "{global}");
    let raw: Value = serde_json::from_str(&ok(&run(&emulator, dir.path(), &["describe", "--json"]))).unwrap();
    assert!(raw["sobjects"].as_array().unwrap().len() >= 8);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_sobject_is_one_line_and_a_failure() {
    let (emulator, dir) = connected().await;
    let describes = emulator.control().counters().describe;
    for (name, needle) in [("No_Such_Object__c", "NOT_FOUND"), ("Contact;DROP", "Contact;DROP")] {
        let o = run(&emulator, dir.path(), &["describe", name]);
        assert!(!o.status.success());
        assert!(o.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
        assert!(stderr.starts_with("error: ") && stderr.contains(needle), "{stderr}");
    }
    assert_eq!(emulator.control().counters().describe, describes + 1, "an invalid name is refused before any request");
    emulator.shutdown().await;
}
