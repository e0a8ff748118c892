//! Every run case runs twice: straight through, and one element at a time
//! with the instance saved and restored between every two steps (through
//! the SQLite store, through PostgreSQL when it is installed, and through
//! the saved JSON). All must end alike: same status, results, error, log
//! and executed path.

use procdsl::check::{self, spec::Program};
use procdsl::runtime::engine::{Run, RunOptions};
use procdsl::runtime::instance::Instance;
use procdsl::runtime::saved::SavedInstance;
use procdsl::store::{ProcessStore, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One run to replay: a file, a process, inputs and a start time.
#[derive(Debug)]
struct Case {
    file: PathBuf,
    process: Option<String>,
    inputs: Vec<(String, String)>,
    now: jiff::Timestamp,
}

const DEFAULT_NOW: &str = "2026-01-01T00:00:00Z";

/// The `run` steps of the shared conformance cases that use no store.
fn conformance_cases(root: &Path, out: &mut Vec<Case>) {
    let Ok(dirs) = std::fs::read_dir(root) else { return };
    let mut dirs: Vec<PathBuf> = dirs.filter_map(|d| d.ok().map(|d| d.path())).collect();
    dirs.sort();
    for dir in dirs {
        let Ok(text) = std::fs::read_to_string(dir.join("case.json")) else { continue };
        let spec: serde_json::Value = serde_json::from_str(&text).expect("case.json is JSON");
        let steps = spec["steps"].as_array().cloned().unwrap_or_default();
        let uses_store = steps.iter().any(|s| s["cmd"].to_string().contains("{store}"));
        if uses_store {
            continue;
        }
        for step in steps {
            let cmd: Vec<String> =
                step["cmd"].as_array().into_iter().flatten().filter_map(|a| a.as_str().map(String::from)).collect();
            if cmd.first().map(String::as_str) != Some("run") || step["exit"].as_i64() == Some(2) {
                continue;
            }
            let mut case =
                Case { file: dir.join(&cmd[1]), process: None, inputs: Vec::new(), now: DEFAULT_NOW.parse().unwrap() };
            read_args(&mut case, &cmd[2..]);
            out.push(case);
        }
    }
}

/// `--process`, `-p` and `--now` of a `run` command line; the rest is left.
fn read_args(case: &mut Case, cmd: &[String]) {
    let mut i = 0;
    while i < cmd.len() {
        match cmd[i].as_str() {
            "--process" => case.process = cmd.get(i + 1).cloned(),
            "-p" | "--param" => {
                if let Some((k, v)) = cmd.get(i + 1).and_then(|p| p.split_once('=')) {
                    case.inputs.push((k.to_string(), v.to_string()));
                }
            }
            "--now" => case.now = cmd[i + 1].parse().expect("--now is a time"),
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
}

/// Every `.proc` under tests/cases, run without inputs.
fn own_cases(root: &Path, out: &mut Vec<Case>) {
    let Ok(entries) = std::fs::read_dir(root) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            own_cases(&path, out);
        } else if path.extension().is_some_and(|e| e == "proc") {
            // The arguments its first line gives the golden run (tests/cases.rs).
            let header = std::fs::read_to_string(&path).ok().and_then(|text| {
                text.lines()
                    .next()
                    .and_then(|l| l.strip_prefix("// args:"))
                    .map(|a| a.split_whitespace().map(String::from).collect::<Vec<_>>())
            });
            let mut case = Case { file: path, process: None, inputs: Vec::new(), now: DEFAULT_NOW.parse().unwrap() };
            read_args(&mut case, &header.unwrap_or_default());
            out.push(case);
        }
    }
}

/// What a run ends with, to compare.
#[derive(Debug, PartialEq)]
struct End {
    status: String,
    results: String,
    error: String,
    log: Vec<String>,
    /// process.element kind → outcome, for every element executed.
    path: Vec<String>,
}

fn start(program: &Arc<Program>, case: &Case) -> Option<Instance> {
    let process = match &case.process {
        Some(code) => program.find(code)?,
        None => {
            let first = procdsl::source::FileId(0);
            let own: Vec<_> = program.processes.iter().filter(|p| p.span.file == first).collect();
            if own.len() != 1 {
                return None;
            }
            program.find(&own[0].code)?
        }
    };
    let mut instance = Instance::new(program.clone(), process, case.now);
    instance.set_inputs(case.inputs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).ok()?;
    Some(instance)
}

fn options() -> RunOptions {
    // Small enough that the endless-loop case fails fast, three times over.
    RunOptions { trace: true, max_steps: 100_000, ..RunOptions::default() }
}

fn path_of(run: &Run) -> Vec<String> {
    run.trace.iter().map(|t| format!("{}.{} {} -> {:?}", t.process, t.element, t.kind, t.outcome)).collect()
}

fn end_of(instance: &Instance, path: Vec<String>) -> End {
    let d = instance.descriptor(None);
    End {
        status: d.status.to_string(),
        results: serde_json::to_string(&d.result_parameter_values).unwrap(),
        error: format!("{:?}", d.error),
        log: d.log,
        path,
    }
}

enum Via<'a> {
    Store(&'a mut dyn ProcessStore),
    Json,
}

fn stepped(program: &Arc<Program>, case: &Case, mut via: Via) -> End {
    let mut instance = start(program, case).unwrap();
    let mut path = Vec::new();
    // One budget across the steps, as one straight run has.
    let mut spent = 0;
    // The version each save expects: none before the first (a new instance).
    let mut version = None;
    for _ in 0..100_000 {
        let mut run = Run::new(options());
        run.budget.used = spent;
        let moved = instance.step(&mut run);
        spent = run.budget.used;
        path.extend(path_of(&run));
        instance = match &mut via {
            Via::Store(store) => {
                version = Some(store.save_if_unchanged(&instance, version).expect("save"));
                let loaded = store.load_versioned(instance.id).expect("load");
                assert_eq!(Some(loaded.version), version, "the version saved is the version loaded");
                loaded.instance
            }
            Via::Json => {
                let text = serde_json::to_string(&SavedInstance::of(&instance)).unwrap();
                let saved: SavedInstance = serde_json::from_str(&text).unwrap();
                saved.restore(program.clone()).expect("restore")
            }
        };
        if !moved {
            break;
        }
    }
    end_of(&instance, path)
}

#[test]
fn every_run_case_gives_the_same_result_when_saved_and_restored_between_steps() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cases = Vec::new();
    // The shared cases when the project brief is beside the clone; the own cases always.
    let shared = manifest.join("../shared/conformance/cases");
    if shared.is_dir() {
        conformance_cases(&shared, &mut cases);
    } else {
        // Past the test harness's capture of `eprintln!`, so a plain `cargo test` shows it.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "note: save_restore uses only tests/cases: there is no {} beside this clone",
            shared.display()
        );
    }
    own_cases(&manifest.join("tests/cases"), &mut cases);
    assert!(!cases.is_empty(), "no run cases found");
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("store.db")).unwrap();
    // The PostgreSQL store too, when it is installed (in CI it must be).
    let mut postgres = postgres_store();
    let mut compared = 0;
    for case in &cases {
        let Ok(loaded) = check::load_files(&[&case.file]) else { continue };
        let program = Arc::new(loaded.program);
        let Some(mut instance) = start(&program, case) else { continue };
        let mut run = Run::new(options());
        instance.run(&mut run);
        let straight = end_of(&instance, path_of(&run));
        assert!(!straight.path.is_empty(), "{case:?}: nothing ran");

        let through_store = stepped(&program, case, Via::Store(&mut store));
        assert_eq!(straight, through_store, "{case:?}: saved to the store and restored between steps");
        if let Some((pg, _server)) = postgres.as_mut() {
            let through_pg = stepped(&program, case, Via::Store(pg.as_mut()));
            assert_eq!(straight, through_pg, "{case:?}: saved to PostgreSQL and restored between steps");
        }
        let through_json = stepped(&program, case, Via::Json);
        assert_eq!(straight, through_json, "{case:?}: saved as JSON and restored between steps");
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} run cases were compared");
}

#[cfg(feature = "postgres")]
#[path = "support/pg.rs"]
mod pg;

/// A store on a fresh throwaway PostgreSQL database, and what keeps the
/// server up (dropped after the store). tests/support/pg.rs says loudly
/// when it is skipped, and fails in CI.
#[cfg(feature = "postgres")]
fn postgres_store() -> Option<(Box<dyn ProcessStore>, Box<dyn std::any::Any>)> {
    let (server, url) = pg::fresh_database()?;
    let store = procdsl::store::postgres::PgStore::connect(&url, procdsl::store::postgres::PgOptions::default());
    Some((Box::new(store.expect("connect to the throwaway PostgreSQL")), Box::new(server)))
}

#[cfg(not(feature = "postgres"))]
fn postgres_store() -> Option<(Box<dyn ProcessStore>, Box<dyn std::any::Any>)> {
    None
}
