//! Issue 7.3 (stable part): replays the cargo-fuzz corpus (`core/fuzz/corpus/<target>/`), every
//! saved crash (`core/fuzz/regressions/<target>/`, each a regression test), the seed inputs, and
//! `SFCRM_FUZZ_REPLAY_INPUTS` (default 20000) deterministic mutations per target through the same
//! target bodies the fuzzer runs (`sfcrm_reliability::fuzz_targets`). A panic is a failure; the
//! offending input is written to `target/fuzz-replay-failures/` and named in the message.

use std::path::{Path, PathBuf};

use sfcrm_reliability::fuzz_targets::{TARGETS, run};
use sfcrm_reliability::r#gen;

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    v.retain(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')));
    v.sort();
    v
}

#[test]
fn fuzz_replay() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../core/fuzz");
    let n: usize = std::env::var("SFCRM_FUZZ_REPLAY_INPUTS").ok().and_then(|s| s.parse().ok()).unwrap_or(20000);
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/fuzz-replay-failures");
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    let mut total = 0usize;
    for t in TARGETS {
        let corpus = files(&root.join("corpus").join(t));
        let regressions = files(&root.join("regressions").join(t));
        let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
        for p in corpus.iter().chain(&regressions) {
            inputs.push((p.display().to_string(), std::fs::read(p).unwrap()));
        }
        for (i, s) in r#gen::seeds(t).into_iter().enumerate() {
            inputs.push((format!("seed #{i}"), s));
        }
        for (i, s) in r#gen::inputs(t, n, 0x5EED).enumerate() {
            inputs.push((format!("generated #{i}"), s));
        }
        let count = inputs.len();
        for (name, data) in inputs {
            if std::panic::catch_unwind(|| run(t, &data)).is_err() {
                std::fs::create_dir_all(&out).unwrap();
                let path = out.join(format!("{t}-{}", failures.len()));
                std::fs::write(&path, &data).unwrap();
                failures.push(format!("{t}: {name} (saved as {})", path.display()));
            }
        }
        println!(
            "fuzz replay {t:<20}: {count} inputs ({} corpus, {} regressions, {n} generated)",
            corpus.len(),
            regressions.len()
        );
        total += count;
    }
    let _ = std::panic::take_hook();
    println!("fuzz replay: {total} inputs over {} targets, {} failures", TARGETS.len(), failures.len());
    assert!(failures.is_empty(), "fuzz replay failures:\n{}", failures.join("\n"));
}
