//! End-to-end tests of the `sfcrm` binary: the demo, and the real-org commands driven against the
//! org emulator as if it were a real org (the test plays the user's browser).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use sf_org_emulator::{Emulator, EmulatorConfig};

fn sfcrm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sfcrm"))
}

#[test]
fn demo_exports_every_type_once_and_prints_a_summary() {
    let out = tempfile::tempdir().unwrap();
    let output = sfcrm()
        .args(["demo", "--contacts", "4500", "--deals", "120", "--notes", "40", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "demo failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    // Page walk over 4,500 contacts in pages of 200 crosses OFFSET 2000 (page 11 onwards).
    assert!(stdout.contains("contacts    4500 records in  23 pages of 200"), "{stdout}");
    assert!(stdout.contains("revoked at the org: true"), "{stdout}");
    assert!(stdout.contains("refresh(es)"), "{stdout}");
    let csv = std::fs::read_to_string(out.path().join("contacts.csv")).unwrap();
    let mut reader = csv_rows(&csv);
    assert_eq!(reader.len(), 4500, "one CSV row per contact");
    reader.sort();
    reader.dedup();
    assert_eq!(reader.len(), 4500, "no contact repeated");
    let notes = std::fs::read_to_string(out.path().join("notes.ndjson")).unwrap();
    assert_eq!(notes.lines().count(), 40);
    // The sealed store holds no plaintext token.
    for entry in std::fs::read_dir(out.path().join("connections")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        assert!(!text.contains("00D"), "plaintext access token in the store: {text}");
    }
}

/// Ids of the CSV rows (first column), parsed with a real CSV reader (fields may hold newlines).
fn csv_rows(text: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut in_quotes = false;
    let mut field = String::new();
    let mut col = 0;
    let mut header = true;
    for c in text.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => {
                if col == 0 && !header {
                    ids.push(std::mem::take(&mut field));
                }
                field.clear();
                col += 1;
            }
            '\n' if !in_quotes => {
                col = 0;
                header = false;
                field.clear();
            }
            _ if col == 0 => field.push(c),
            _ => {}
        }
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_export_status_disconnect_against_an_org() {
    let emulator = Emulator::start(EmulatorConfig { contacts: 2600, ..EmulatorConfig::default() }).await.unwrap();
    let store = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let redirect = format!("http://127.0.0.1:{port}/oauth/callback");
    let env = [
        ("SALESFORCE_CLIENT_ID", "sfcrm-demo-client".to_owned()),
        ("SALESFORCE_SECRET_ID", "sfcrm-demo-secret".to_owned()),
        ("SALESFORCE_REDIRECT_URL", redirect.clone()),
        ("SALESFORCE_LOGIN_URL", emulator.login_url().to_owned()),
        ("SFCRM_STORE_DIR", store.path().display().to_string()),
    ];
    let run = |args: &[&str]| {
        let mut cmd = sfcrm();
        cmd.args(args).args(["--owner", "tester"]);
        for (k, v) in &env {
            cmd.env(k, v);
        }
        cmd.env_remove("SFCRM_SEALING_KEYS");
        cmd
    };

    // login: the command prints the authorize URL and waits for the callback on the redirect port.
    let mut login = run(&["login"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(login.stdout.take().unwrap()).lines();
    let authorize = loop {
        let line = lines.next().expect("login printed no URL").unwrap();
        if let Some(url) = line.trim().strip_prefix("http") {
            break format!("http{url}");
        }
    };
    // Wait until the callback server is up, then act as the browser: the org consents and
    // redirects to the command's callback listener.
    let body = tokio::task::spawn_blocking(move || {
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        reqwest::blocking_get(&authorize)
    })
    .await
    .unwrap();
    assert!(body.contains("Connected"), "callback page: {body}");
    let status = login.wait().unwrap();
    assert!(status.success(), "login exited with {status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.starts_with("connected: cli/tester")), "{rest:?}");
    assert_eq!(emulator.control().counters().token_authorization_code, 1);

    // The stored document is sealed.
    let doc_files: Vec<_> = std::fs::read_dir(store.path().join("connections"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(doc_files.len(), 1);
    let doc = std::fs::read_to_string(doc_files[0].path()).unwrap();
    assert!(doc.contains("\"access_token\":\"sfcrm-sealed:v1:"), "{doc}");

    // export: every contact once, as CSV.
    let out = store.path().join("contacts.csv");
    let output = run(&["export", "contacts", "--format", "csv", "--out", out.to_str().unwrap()]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let csv = std::fs::read_to_string(&out).unwrap();
    let mut ids = csv_rows(&csv);
    assert_eq!(ids.len(), 2600);
    ids.dedup();
    assert_eq!(ids.len(), 2600);
    assert!(String::from_utf8_lossy(&output.stderr).contains("2600 records"));

    // A bad field name is refused before any request, with a hint.
    let queries_before = emulator.control().counters().query;
    let output = run(&["export", "--sobject", "Contact", "--fields", "Name;DROP", "--out", "/dev/null"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("hint:"));
    assert_eq!(emulator.control().counters().query, queries_before);

    // status, then disconnect revokes at the org.
    let output = run(&["status"]).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains(emulator.instance_url()), "{text}");
    let output = run(&["disconnect"]).output().unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("revoked at Salesforce"));
    assert_eq!(emulator.control().counters().revoke, 1);
    let output = run(&["status"]).output().unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("not connected"));
    emulator.shutdown().await;
}

mod reqwest {
    /// GET following redirects; returns the final body.
    pub fn blocking_get(url: &str) -> String {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let client = ::reqwest::Client::new();
            client.get(url).send().await.unwrap().text().await.unwrap()
        })
    }
}
