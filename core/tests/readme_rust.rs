//! The README's Rust block (README.md, "Use it"), from `// SOQL with bind values` to its end,
//! compiled and run against the org emulator: the test checks that those README lines appear
//! verbatim in this file, so the README cannot drift from code that builds and runs.
//! (scripts/snippets/run.py runs the Python, JavaScript and shell snippets; Rust is checked here.)

mod support;

use sfcrm_core::export::{ExportRequest, ExportSpec, QueryRequest};
use sfcrm_core::soql::Params;
use support::Env;

const THIS_FILE: &str = include_str!("readme_rust.rs");
const README: &str = include_str!("../../README.md");

#[test]
fn the_readme_rust_lines_are_the_ones_below() {
    let block = README.split("```rust\n").nth(1).expect("README.md has a Rust block").split("```").next().unwrap();
    let from = block.find("// SOQL with bind values").expect("the query part of the README's Rust block");
    for line in block[from..].lines().filter(|l| !l.trim().is_empty()) {
        assert!(THIS_FILE.contains(&format!("    {line}\n")), "README line not in readme_rust.rs: {line}");
    }
}

#[tokio::test]
async fn the_readme_rust_query_lines_run() -> sfcrm_core::Result<()> {
    let env = Env::start().await;
    let (client, key) = (env.client.clone(), env.key.clone());
    // SOQL with bind values (never string building): every record, child cursors followed.
    let params = Params::new().with("industry", "Technology")?;
    let soql = "SELECT Id, Name, (SELECT Name FROM Contacts) FROM Account WHERE Industry = :industry";
    let mut accounts = client.query_stream(&key, QueryRequest::new(soql).params(params));
    while let Some(batch) = accounts.next_batch().await? { println!("{} accounts", batch.records.len()); }
    let first = client.query_one(&key, "SELECT Id FROM Contact WHERE Email = :e", &Params::new().with("e", "a@b.co")?).await?;
    let contact = client.describe(&key, "Contact").await?;          // fields, types, compound names
    let wide = ExportSpec::all_fields("Wide_Object__c")?               // every field, any width
        .with_where("Name LIKE :n", &Params::new().with("n", "W%")?)?;   // then export_stream(…)
    let mut every = client.query_stream(&key, QueryRequest::new("SELECT FIELDS(ALL) FROM Wide_Object__c"));
    every.ready().await?;                      // the describe expanded it: every.fields() = the columns

    assert!(accounts.progress().records > 0, "some Media accounts");
    assert_eq!(first, None);
    assert!(contact.field("MailingCity").is_some());
    let mut s = client.export_stream(&key, ExportRequest::new(wide));
    assert!(s.next_batch().await?.is_some());
    assert_eq!(every.fields().len(), 409);
    Ok(())
}
