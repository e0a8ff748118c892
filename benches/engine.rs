//! Criterion benchmarks of the parser, the checker and the element engine,
//! on the benchmark workloads (`benches/workloads/w1..w5.proc`, see
//! docs/BENCHMARKS.md) and on a large generated `.proc` file.
//!
//! `cargo bench --bench engine` runs them all; `cargo bench --bench engine -- run/`
//! only the runs.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use procdsl::check::{self, spec::Program};
use procdsl::runtime::engine::{ClockMode, Run, RunOptions, DEFAULT_MAX_STEPS};
use procdsl::runtime::instance::{Instance, Status};
use procdsl::runtime::saved::SavedInstance;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Elements in the generated file (five per group).
const GENERATED_GROUPS: usize = 1_000;

fn workload(name: &str) -> (String, String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/workloads").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (path.display().to_string(), text)
}

fn program(name: &str) -> Arc<Program> {
    let (path, text) = workload(name);
    Arc::new(check::load_str(&path, &text).unwrap_or_else(|e| panic!("{path}: {e}")).program)
}

/// A process of `groups` × 5 elements: a script with a local, an `if`, a
/// log line; an exclusive gateway to one of two scripts; a merge.
fn generated(groups: usize) -> String {
    let mut s = String::from(
        "process UsrGenerated {\n    in Amount: Decimal = 12.5\n    inout Total: Decimal = 0\n    \
         inout Count: Integer = 0\n    inout Name: Text = \"x\"\n\n    start Begin -> S0\n",
    );
    for i in 0..groups {
        let next = if i + 1 == groups { "Done".to_string() } else { format!("S{}", i + 1) };
        s.push_str(&format!(
            r#"
    // group {i}
    script S{i} {{
        let x = Amount * 2 + {i}
        if x > 100 {{
            Total = Total + x
        }} else {{
            Total = Total - 1
        }}
        log "step {i}: {{Total}}"
    }} -> G{i}
    exclusive G{i} {{
        when Total > {i} and Count < 10 -> A{i}
        else -> B{i}
    }}
    script A{i} {{ Name = upper(Name) + "a" }} -> M{i}
    script B{i} {{ Count = Count + 1 }} -> M{i}
    exclusive M{i} -> {next}
"#
        ));
    }
    s.push_str("\n    end Done\n}\n");
    s
}

fn options() -> RunOptions {
    RunOptions { max_steps: DEFAULT_MAX_STEPS, clock: ClockMode::Virtual, ..RunOptions::default() }
}

fn start_time() -> jiff::Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    let text = generated(GENERATED_GROUPS);
    check::load_str("generated.proc", &text).expect("the generated file checks");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function(format!("generated_{}_elements", GENERATED_GROUPS * 5 + 2), |b| {
        b.iter(|| check::load_str("generated.proc", black_box(&text)).unwrap())
    });
    // A keystroke in a 5,000-element file: the editor (`procdsl lsp`) reparses
    // and checks the whole document on every edit; this one makes a flow
    // target unknown, so the load ends in a diagnostic.
    let edited = text.replacen("-> G500\n", "-> G5000\n", 1);
    assert!(check::load_str("edited.proc", &edited).is_err(), "the edit makes an error");
    group.bench_function("check_5000_elements", |b| {
        b.iter(|| check::load_str("edited.proc", black_box(&edited)).unwrap_err())
    });
    // The same keystroke as the editor makes it now: the edited element is
    // reparsed alone (`syntax::incremental`) and spliced into the tree of the
    // text before, then the whole document is checked. It alternates between
    // the two texts, as typing a letter and deleting it does.
    let disk = std::path::Path::new("/nonexistent/keystroke.proc");
    let load = |text: &str, before: Option<(&str, procdsl::syntax::ast::File)>| {
        let open = std::collections::HashMap::from([(disk.to_path_buf(), Arc::<str>::from(text))]);
        let (result, mut trees) = check::load_document(disk, open, |new| {
            let (old_text, old) = before?;
            Some(procdsl::syntax::incremental::plan(procdsl::source::FileId(0), old_text, &old, new)?.apply(old))
        });
        (result.is_ok(), trees.pop().expect("the text parses").1)
    };
    let mut tree = Some(load(&text, None).1);
    let mut mended = true;
    group.bench_function("keystroke_5000_elements_incremental", |b| {
        b.iter(|| {
            let (from, to) = if mended { (&text, &edited) } else { (&edited, &text) };
            mended = !mended;
            let (ok, new) = load(black_box(to), tree.take().map(|t| (from.as_str(), t)));
            assert_eq!(ok, to == &text);
            tree = Some(new);
        })
    });
    let (path, w5) = workload("w5.proc");
    group.throughput(Throughput::Bytes(w5.len() as u64));
    group.bench_function("w5_chain_1002_elements", |b| b.iter(|| check::load_str(&path, black_box(&w5)).unwrap()));
    // The syntax alone (pest → AST), without the checker.
    let file = procdsl::source::FileId(0);
    group.bench_function("w5_syntax_only", |b| b.iter(|| procdsl::syntax::parse(file, black_box(&w5)).unwrap()));
    group.finish();
}

/// Runs one instance to its end and checks that it completed.
fn run_to_end(program: &Arc<Program>) -> Instance {
    let process = program.find(&program.processes[0].code).unwrap();
    let mut instance = Instance::new(program.clone(), process, start_time());
    instance.run(&mut Run::new(options()));
    instance
}

fn run(c: &mut Criterion) {
    let mut group = c.benchmark_group("run");
    for (name, file) in [("w1_ten_scripts", "w1.proc"), ("w2_loop_1000", "w2.proc"), ("w3_fan_out_4", "w3.proc")] {
        let program = program(file);
        let done = run_to_end(&program);
        assert_eq!(done.status, Status::Completed, "{file}: {:?}", done.error);
        group.bench_function(name, |b| b.iter(|| run_to_end(black_box(&program))));
    }

    let program = program("w4.proc");
    let process = program.find(&program.processes[0].code).unwrap();
    let no_fields: &[(&str, &str)] = &[];
    group.bench_function("w4_start_wait_resume", |b| {
        b.iter(|| {
            let mut instance = Instance::new(program.clone(), process, start_time());
            instance.run(&mut Run::new(options()));
            let uid = instance.waiting[0].uid;
            instance.exec(uid, no_fields, &mut Run::new(options())).unwrap();
            debug_assert_eq!(instance.status, Status::Completed);
            instance
        })
    });
    group.finish();

    // A waiting instance's saved form: what a store writes per instance.
    let mut waiting = Instance::new(program.clone(), process, start_time());
    waiting.run(&mut Run::new(options()));
    let bytes = serde_json::to_vec(&SavedInstance::of(&waiting)).unwrap();
    println!("saved form of a waiting W4 instance: {} bytes of JSON", bytes.len());
    let mut group = c.benchmark_group("save");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("w4_waiting_to_json", |b| {
        b.iter(|| serde_json::to_vec(&SavedInstance::of(black_box(&waiting))).unwrap())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = parse, run
}
criterion_main!(benches);
