//! File exports and the output path (issue 16.2): the target is checked before the first request
//! (a symbolic link, a directory, a FIFO, a socket or a device is refused with an `Io` error and
//! left as it was), the temporary file is created exclusively under an unpredictable name (a
//! planted `<out>.partial` symlink is never followed), the target is checked again before the
//! rename, and a kept partial file is continued by [`ExportFile::resume`].

mod support;

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sf_org_emulator::{EmulatorConfig, Endpoint, Fault, FaultKind};
use sfcrm_core::export::{ExportFile, ExportFormat, ExportRequest, ExportSpec, Progress};
use sfcrm_core::{ErrorKind, Result};
use support::Env;

async fn env_with(contacts: usize) -> Env {
    let ecfg = EmulatorConfig { contacts, deals: 10, notes: 10, ..EmulatorConfig::default() };
    let env = Env::start_with(ecfg, |b| b.count_cache_ttl(Duration::from_secs(600))).await;
    env.emu.control().reset_counters();
    env
}

fn requests(env: &Env) -> u64 {
    let c = env.emu.control().counters();
    c.query + c.query_more
}

fn contacts() -> ExportRequest {
    ExportRequest::new(ExportSpec::builtin("contacts").unwrap())
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo {}", path.display());
}

/// A character device to export to: a copy of /dev/null's node in `dir` when this process may
/// create one (root), else /dev/null itself (a process that cannot create device nodes cannot
/// create files in /dev either, so a regression cannot replace it).
fn char_device(dir: &Path) -> PathBuf {
    let path = dir.join("null-device");
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    let made = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) } == 0;
    if made { path } else { PathBuf::from("/dev/null") }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_partial_symlink_is_never_followed() {
    let env = env_with(300).await;
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let out = dir.path().join("out.csv");
    for planted in ["out.csv.partial", ".out.csv.partial", "out.csv.tmp"] {
        std::os::unix::fs::symlink(&victim, dir.path().join(planted)).unwrap();
    }
    let s = env.client.export_to_path(&env.key, contacts(), ExportFormat::Csv, &out, None).await.unwrap();
    assert_eq!(s.records, 300);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious", "the victim was written through a symlink");
    let meta = std::fs::symlink_metadata(&out).unwrap();
    assert!(meta.file_type().is_file(), "out.csv is a regular file, not a link");
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 301);
    assert_eq!(names(dir.path()), [".out.csv.partial", "out.csv", "out.csv.partial", "out.csv.tmp", "victim.txt"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_that_are_not_regular_files_are_refused_before_any_request() {
    let env = env_with(300).await;
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let dangling = dir.path().join("dangling.csv");
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
    let fifo = dir.path().join("fifo.csv");
    mkfifo(&fifo);
    let socket = dir.path().join("socket.csv");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let subdir = dir.path().join("dir.csv");
    std::fs::create_dir(&subdir).unwrap();
    let device = char_device(dir.path());
    let in_missing_dir = dir.path().join("missing").join("out.csv");
    let in_a_file = victim.join("out.csv");
    let before = names(dir.path());

    let cases: [(&Path, &str); 8] = [
        (&link, "symbolic link"),
        (&dangling, "symbolic link"),
        (&fifo, "FIFO"),
        (&socket, "socket"),
        (&subdir, "directory"),
        (&device, "character device"),
        (&in_missing_dir, "missing"),
        (&in_a_file, "victim.txt"),
    ];
    for (target, what) in cases {
        for format in [ExportFormat::Csv, ExportFormat::Ndjson, ExportFormat::Json] {
            let e = env.client.export_to_path(&env.key, contacts(), format, target, None).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Io, "{}: {e:?}", target.display());
            assert!(e.message().contains(what), "{}: {e}", target.display());
            assert_eq!(requests(&env), 0, "{}: a request was sent before the path was checked", target.display());
        }
        // The same checks in the type hosts use directly.
        assert_eq!(ExportFile::create(target).unwrap_err().kind(), ErrorKind::Io);
    }
    // Everything is as it was: no temporary file, the link still a link to the untouched victim.
    assert_eq!(names(dir.path()), before);
    assert_eq!(std::fs::read_link(&link).unwrap(), victim);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(std::fs::symlink_metadata(&socket).unwrap().file_type().is_socket());
    assert!(std::fs::symlink_metadata(&subdir).unwrap().is_dir());
    assert!(std::fs::symlink_metadata(&device).unwrap().file_type().is_char_device());
    assert!(std::fs::symlink_metadata("/dev/null").unwrap().file_type().is_char_device());
}

/// A target swapped for a symbolic link while the export runs is refused at the rename: the link
/// stays, the file it points to is untouched and the temporary file is removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_target_is_checked_again_before_the_rename() {
    let env = env_with(3000).await;
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let out = dir.path().join("out.ndjson");
    let (v, o) = (victim.clone(), out.clone());
    let swap = move |p: Progress| {
        if p.batches == 1 {
            std::os::unix::fs::symlink(&v, &o).unwrap();
        }
    };
    let request = contacts().batch_size(1000);
    let e = env.client.export_to_path(&env.key, request, ExportFormat::Ndjson, &out, Some(&swap)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e:?}");
    assert!(e.message().contains("symbolic link"), "{e}");
    assert_eq!(std::fs::read_link(&out).unwrap(), victim);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(names(dir.path()), ["out.ndjson", "victim.txt"]);
}

/// An existing regular file is replaced (atomically, by rename), as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_regular_file_is_replaced() {
    let env = env_with(50).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    std::fs::write(&out, "old").unwrap();
    env.client.export_to_path(&env.key, contacts(), ExportFormat::Csv, &out, None).await.unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 51);
    assert_eq!(names(dir.path()), ["out.csv"]);
}

/// Writes `request` into `file` the way a host that keeps partial files does; returns the checkpoint
/// token after the last record written, and the error if the export stopped.
async fn write_into(env: &Env, file: &mut ExportFile, request: ExportRequest, format: ExportFormat) -> (String, Result<u64>) {
    let mut stream = env.client.export_stream(&env.key, request);
    let mut writer = file.record_writer(format, stream.fields()).unwrap();
    let outcome = loop {
        match stream.next_batch().await {
            Ok(Some(batch)) => batch.records.iter().for_each(|r| writer.write_raw(r).unwrap()),
            Ok(None) => break Ok(writer.records()),
            Err(e) => break Err(e),
        }
    };
    writer.finish().unwrap();
    (stream.checkpoint().to_token(), outcome)
}

/// A stopped export keeps its partial file; resuming appends the rest to it (no second CSV header,
/// JSON stays one array) and the rename gives exactly the file an uninterrupted export writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_partial_file_is_continued_exactly() {
    let env = env_with(1000).await;
    let dir = tempfile::tempdir().unwrap();
    for (format, ext) in [(ExportFormat::Csv, "csv"), (ExportFormat::Ndjson, "ndjson"), (ExportFormat::Json, "json")] {
        let whole = dir.path().join(format!("whole.{ext}"));
        env.client.export_to_path(&env.key, contacts(), format, &whole, None).await.unwrap();

        let out = dir.path().join(format!("out.{ext}"));
        env.emu.control().add_fault(Fault { endpoint: Endpoint::QueryMore, count: 100, kind: FaultKind::Status500 });
        let mut file = ExportFile::create(&out).unwrap();
        let (token, outcome) = write_into(&env, &mut file, contacts().batch_size(200), format).await;
        assert_eq!(outcome.unwrap_err().kind(), ErrorKind::Api);
        let partial = file.keep();
        assert!(!out.exists());
        let name = partial.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(&format!(".out.{ext}.")) && name.ends_with(".partial"), "{name}");
        env.emu.control().clear_faults();

        let checkpoint = sfcrm_core::export::Checkpoint::from_token(&token).unwrap();
        assert_eq!(checkpoint.records(), 200);
        let mut file = ExportFile::resume(&out, &partial).unwrap();
        let (_, outcome) = write_into(&env, &mut file, contacts().batch_size(200).resume_from(checkpoint), format).await;
        assert_eq!(outcome.unwrap(), 800);
        file.commit().unwrap();
        assert!(!partial.exists());
        assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&whole).unwrap(), "{ext}: resumed file differs");
    }
}

/// A partial file that is a link, of another format or columns, cut in the middle of a record, or
/// in another directory is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_file_that_does_not_fit_is_refused() {
    let env = env_with(10).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let stream = env.client.export_stream(&env.key, contacts());
    let fields = stream.fields().to_vec();
    let expected_header = fields.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(",") + "\r\n";
    let good = write("good.partial", &format!("{expected_header}003A,x,y,,,\r\n"));
    ExportFile::resume(&out, &good).unwrap().record_writer(ExportFormat::Csv, &fields).unwrap();
    let link = dir.path().join("link.partial");
    std::os::unix::fs::symlink(&good, &link).unwrap();
    let other_dir = tempfile::tempdir().unwrap();
    let elsewhere = other_dir.path().join("x.partial");
    std::fs::write(&elsewhere, &expected_header).unwrap();
    for (partial, format) in [
        (link.clone(), ExportFormat::Csv),
        (elsewhere, ExportFormat::Csv),
        (dir.path().join("missing.partial"), ExportFormat::Csv),
        (write("header.partial", "Id,Name\r\n003A,x\r\n"), ExportFormat::Csv),
        (write("cut.partial", &format!("{expected_header}003A,x")), ExportFormat::Csv),
        (write("json.partial", "[\n{\"Id\":\"003A\"}\n]\n"), ExportFormat::Ndjson),
        (write("ndjson.partial", "{\"Id\":\"003A\"}\n"), ExportFormat::Json),
        (write("open.partial", "[\n{\"Id\":\"003A\"}"), ExportFormat::Json),
    ] {
        let e = ExportFile::resume(&out, &partial).and_then(|mut f| f.record_writer(format, &fields).map(|_| ()));
        let e = e.expect_err(&partial.display().to_string());
        assert_eq!(e.kind(), ErrorKind::Io, "{}: {e:?}", partial.display());
    }
    assert_eq!(std::fs::read_link(&link).unwrap(), good, "the link is left alone");
    assert!(!out.exists());
    assert_eq!(requests(&env), 0);
}
