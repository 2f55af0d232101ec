//! Issue 16 for the `sfcrm` command: the output path is checked before the first request and a
//! planted `<out>.partial` symlink is never followed (16.2); text from the org reaches the
//! terminal with its control characters escaped (16.5); `sfcrm login` ignores callbacks whose
//! state does not verify (16.6) and allows its own origin whatever `SFCRM_FORWARD_ORIGINS` says;
//! `sfcrm status` exits non-zero when not connected; a busy callback port gets its own hint; the
//! summary counts in words ("1 record", "1 API call").

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileTypeExt;
use std::path::PathBuf;
use std::process::{Child, Output, Stdio};

use sf_org_emulator::{Emulator, EmulatorConfig, Endpoint, Fault, FaultKind};
use support::{connect, free_port, sfcrm, wait_for_listener};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

async fn connected(contacts: usize) -> (Emulator, tempfile::TempDir) {
    let emulator = Emulator::start(EmulatorConfig { contacts, deals: 3, notes: 3, ..EmulatorConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    connect(&emulator, dir.path(), REDIRECT).await;
    emulator.control().reset_counters();
    (emulator, dir)
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn queries(emulator: &Emulator) -> u64 {
    let c = emulator.control().counters();
    c.query + c.query_more
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_never_follows_a_planted_partial_symlink() {
    let (emulator, dir) = connected(300).await;
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let out = dir.path().join("out.csv");
    std::os::unix::fs::symlink(&victim, dir.path().join("out.csv.partial")).unwrap();
    let o = sfcrm(&emulator, dir.path(), REDIRECT, &["export", "contacts", "--format", "csv", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    let (_, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious", "the export was written through the planted link");
    assert!(std::fs::symlink_metadata(&out).unwrap().file_type().is_file(), "out.csv is a link");
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 301);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_that_is_not_a_regular_file_is_refused_before_any_request() {
    let (emulator, dir) = connected(300).await;
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let fifo = dir.path().join("fifo.csv");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let subdir = dir.path().join("dir.csv");
    std::fs::create_dir(&subdir).unwrap();
    // A device: a node like /dev/null's when this process may create one (root), else /dev/null
    // itself (which a process that cannot create nodes cannot replace either).
    let device = {
        let p = dir.path().join("null-device");
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        let made = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) } == 0;
        if made { p } else { PathBuf::from("/dev/null") }
    };
    for (target, what) in [(&link, "symbolic link"), (&fifo, "FIFO"), (&subdir, "directory"), (&device, "character device")] {
        let o = sfcrm(&emulator, dir.path(), REDIRECT, &["export", "contacts", "--format", "csv", "--out", target.to_str().unwrap()])
            .output()
            .unwrap();
        let (_, stderr) = text(&o);
        assert!(!o.status.success(), "{}: {stderr}", target.display());
        assert!(stderr.contains(what) && stderr.contains("not a regular file"), "{}: {stderr}", target.display());
        assert_eq!(queries(&emulator), 0, "{}: requests were sent before the path was checked", target.display());
    }
    assert_eq!(std::fs::read_link(&link).unwrap(), victim);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(std::fs::symlink_metadata(&subdir).unwrap().is_dir());
    assert!(std::fs::symlink_metadata(&device).unwrap().file_type().is_char_device());
    emulator.shutdown().await;
}

/// The raw bytes that must never reach the terminal: ESC, BEL, CR, backspace, C1 CSI, and the
/// bidirectional overrides.
fn raw_controls(s: &str) -> Vec<char> {
    s.chars()
        .filter(|&c| (c.is_control() && c != '\n') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_from_the_org_are_escaped_on_the_terminal() {
    let (emulator, dir) = connected(10).await;
    let evil = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[31mred\rfake line\u{8}\u{9b}31m\u{202e}txt.exe";
    let body = serde_json::json!([{ "message": evil, "errorCode": "MALFORMED_QUERY" }]).to_string();
    emulator.control().add_fault(Fault {
        endpoint: Endpoint::Query,
        count: 1,
        kind: FaultKind::Custom { status: 400, body, content_type: Some("application/json".into()) },
    });
    let out = dir.path().join("out.csv");
    let o = sfcrm(&emulator, dir.path(), REDIRECT, &["export", "contacts", "--out", out.to_str().unwrap()]).output().unwrap();
    let (stdout, stderr) = text(&o);
    assert!(!o.status.success());
    assert!(stderr.contains("MALFORMED_QUERY") || stderr.contains("red"), "{stderr}");
    assert_eq!(raw_controls(&stderr), Vec::<char>::new(), "{stderr:?}");
    assert_eq!(raw_controls(&stdout), Vec::<char>::new(), "{stdout:?}");
    assert!(stderr.contains("\\u{1b}[2J"), "escaped visibly: {stderr:?}");
    emulator.shutdown().await;
}

/// Starts `sfcrm login` on a free port; returns the child, the port, and the authorize URL it printed.
fn start_login(emulator: &Emulator, dir: &std::path::Path, env: &[(&str, &str)]) -> (Child, u16, String) {
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/oauth/callback");
    let mut cmd = sfcrm(emulator, dir, &redirect, &["login"]);
    cmd.envs(env.iter().copied()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let authorize = loop {
        let line = lines.next().expect("login printed no URL").unwrap();
        if let Some(url) = line.trim().strip_prefix("http") {
            break format!("http{url}");
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (child, port, authorize)
}

async fn get(url: &str) -> (u16, String) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn stderr_of(mut child: Child) -> (std::process::ExitStatus, String) {
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    (status, err)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_ignores_a_forged_state_and_keeps_waiting() {
    let emulator = Emulator::start(EmulatorConfig { contacts: 3, deals: 1, notes: 1, ..EmulatorConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (child, port, authorize) = start_login(&emulator, dir.path(), &[]);
    wait_for_listener(port);
    let callback = format!("http://127.0.0.1:{port}/oauth/callback");
    for query in ["?code=aPrxFORGED&state=eyJhbGciOiJIUzI1NiJ9.e30.forged", "?code=aPrxFORGED", "?error=access_denied&state=x"] {
        let (status, body) = get(&format!("{callback}{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body.to_lowercase().contains("ignored"), "{query}: {body}");
    }
    let (status, body) = get(&authorize).await;
    assert_eq!(status, 200);
    assert!(body.contains("Connected"), "the real callback after the forged ones: {body}");
    let (status, stderr) = stderr_of(child);
    assert!(status.success(), "{stderr}");
    assert_eq!(stderr.matches("ignored a callback").count(), 3, "{stderr}");
    assert_eq!(emulator.control().counters().token_authorization_code, 1);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_allows_its_own_origin_when_forward_origins_is_set() {
    let emulator = Emulator::start(EmulatorConfig { contacts: 3, deals: 1, notes: 1, ..EmulatorConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The README's emulator shell sets these for the SDK examples.
    let env = [
        ("SFCRM_FORWARD_ORIGINS", "https://app.example.com"),
        ("SFCRM_STATE_SECRET", "c2Zjcm0tcmVhZG1lLXN0YXRlLXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVm"),
    ];
    let (child, port, authorize) = start_login(&emulator, dir.path(), &env);
    wait_for_listener(port);
    let (_, body) = get(&authorize).await;
    assert!(body.contains("Connected"), "{body}");
    let (status, stderr) = stderr_of(child);
    assert!(status.success(), "{stderr}");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_exits_3_when_not_connected() {
    let (emulator, dir) = connected(3).await;
    let o = sfcrm(&emulator, dir.path(), REDIRECT, &["status"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let o = sfcrm(&emulator, dir.path(), REDIRECT, &["status", "--account", "other"]).output().unwrap();
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{stdout} {stderr}");
    assert!(stdout.contains("not connected (other/tester)"), "{stdout}");
    assert!(stderr.contains("sfcrm login"), "{stderr}");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_callback_port_gets_its_own_hint() {
    let emulator = Emulator::start(EmulatorConfig { contacts: 3, deals: 1, notes: 1, ..EmulatorConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let redirect = format!("http://127.0.0.1:{}/oauth/callback", busy.local_addr().unwrap().port());
    let o = sfcrm(&emulator, dir.path(), &redirect, &["login"]).output().unwrap();
    let (_, stderr) = text(&o);
    assert!(!o.status.success());
    assert!(stderr.contains("cannot listen on"), "{stderr}");
    assert!(!stderr.contains("SALESFORCE_CLIENT_ID"), "a hint about the client id: {stderr}");
    assert!(stderr.contains("hint:") && stderr.contains("another process"), "{stderr}");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_summary_counts_in_words() {
    let (emulator, dir) = connected(1).await;
    let out = dir.path().join("one.ndjson");
    let o = sfcrm(&emulator, dir.path(), REDIRECT, &["export", "contacts", "--out", out.to_str().unwrap()]).output().unwrap();
    let (_, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("1 record -> "), "{stderr}");
    assert!(stderr.contains("(1 API call)"), "{stderr}");
    emulator.shutdown().await;
}
