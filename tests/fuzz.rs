//! Fuzz-style tests: thousands of generated and mutated `.proc` inputs and
//! parameter values go through the parser, the checker and the engine, and
//! nothing may panic.
//!
//! - `token_soups`: random sequences of the language's tokens.
//! - `mutated_sources`: the valid `.proc` files of `tests/cases`, `examples`
//!   and the shared conformance cases (when `../shared` is there), with bytes and tokens deleted,
//!   duplicated, swapped and inserted.
//! - `generated_expressions`: well-formed processes around random
//!   expressions and statements, so that most of them check and run.
//! - `corpus_replays`: every file under `fuzz/corpus/*/`, through the same
//!   code the coverage-guided fuzz targets run (`fuzz/harness.rs`), so what
//!   a fuzzer found stays a regression test.
//!
//! The generated tests run a few hundred cases each by default, so that they
//! do not dominate `cargo test`; `PROCDSL_FUZZ_CASES=N` runs N cases per test
//! for a longer search (docs/FUZZING.md).
//!
//! Whatever checks is run through [`procdsl::Engine`] with random parameter
//! strings and a small step budget; a waiting instance has its waiting
//! elements executed with random field values. A failing input is printed
//! before the panic is passed on. Everything runs on a thread with a large
//! stack, as the binary does, so that deep nesting is bounded by the
//! parser's own limits and not by the test thread's stack.

use procdsl::runtime::engine::RunOptions;
use procdsl::Engine;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

#[path = "../fuzz/harness.rs"]
mod harness;

const STACK_BYTES: usize = 256 << 20;

/// How many inputs checked and how many instances completed (shown with `--nocapture`).
static CHECKED: AtomicUsize = AtomicUsize::new(0);
static COMPLETED: AtomicUsize = AtomicUsize::new(0);

/// Runs `f` on a thread with a large stack and passes its panic on.
fn with_big_stack(f: impl FnOnce() + Send + 'static) {
    let handle = std::thread::Builder::new().stack_size(STACK_BYTES).spawn(f).expect("a thread");
    if let Err(panic) = handle.join() {
        std::panic::resume_unwind(panic);
    }
}

/// Parses, checks and (when it checks) runs one input; prints it on a panic.
fn exercise(source: &str, params: &[(String, String)], fields: &[String]) {
    let result = catch_unwind(AssertUnwindSafe(|| exercise_inner(source, params, fields)));
    if let Err(panic) = result {
        eprintln!("=== input that panicked:\n{source}\n=== params: {params:?}\n=== fields: {fields:?}");
        std::panic::resume_unwind(panic);
    }
}

fn exercise_inner(source: &str, params: &[(String, String)], fields: &[String]) {
    let Ok(loaded) = procdsl::check::load_str("fuzz.proc", source) else {
        return;
    };
    drop(loaded);
    CHECKED.fetch_add(1, Ordering::Relaxed);
    let Ok(engine) = Engine::from_source("fuzz.proc", source) else {
        panic!("load_str accepted the source, but Engine::from_source did not");
    };
    let engine = engine.with_options(RunOptions { max_steps: 10_000, ..RunOptions::default() });
    let codes: Vec<String> = engine.program().processes.iter().map(|p| p.code.to_string()).collect();
    for code in codes {
        // Parameter Codes of the process, plus whatever the generator made up.
        let spec_params: Vec<String> = engine
            .program()
            .processes
            .iter()
            .find(|p| *p.code == *code)
            .map(|p| p.params.iter().map(|q| q.code.to_string()).collect())
            .unwrap_or_default();
        let inputs: Vec<(String, String)> = params
            .iter()
            .enumerate()
            .map(|(i, (k, v))| match spec_params.get(i % spec_params.len().max(1)) {
                Some(real) if i % 3 != 2 => (real.clone(), v.clone()),
                _ => (k.clone(), v.clone()),
            })
            .collect();
        // With all inputs, and with the valid ones only.
        let mut instance = match engine.start(&code, inputs.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
            Ok(i) => i,
            Err(_) => {
                let mut valid = Vec::new();
                for (k, v) in &inputs {
                    valid.push((k.as_str(), v.as_str()));
                    if engine.start(&code, valid.iter().copied()).is_err() {
                        valid.pop();
                    }
                }
                match engine.start(&code, valid) {
                    Ok(i) => i,
                    Err(_) => continue,
                }
            }
        };
        engine.run(&mut instance);
        let _ = serde_json::to_string(&instance.descriptor(None));
        // Execute what waits, a few rounds, with made-up field values.
        for round in 0..4 {
            let descriptor = instance.descriptor(None);
            let Some(w) = descriptor.waiting.get(round % descriptor.waiting.len().max(1)) else {
                break;
            };
            let given: Vec<(String, String)> =
                w.fields.keys().zip(fields.iter().cycle()).map(|(name, value)| (name.clone(), value.clone())).collect();
            let _ = engine.exec(&mut instance, w.uid, &given);
            let _ = engine.exec(&mut instance, w.uid, &given);
            let _ = engine.exec::<&str, &str>(&mut instance, w.uid, &[]);
            let _ = serde_json::to_string(&instance.descriptor(None));
        }
        if instance.status == procdsl::Status::Completed {
            COMPLETED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

const TOKENS: &[&str] = &[
    "import",
    "process",
    "caption",
    "uid",
    "in",
    "out",
    "inout",
    "var",
    "start",
    "end",
    "terminate",
    "script",
    "exclusive",
    "inclusive",
    "parallel",
    "user",
    "timer",
    "signal",
    "call",
    "when",
    "else",
    "done",
    "after",
    "at",
    "on",
    "error",
    "let",
    "if",
    "while",
    "for",
    "break",
    "continue",
    "return",
    "fail",
    "log",
    "emit",
    "true",
    "false",
    "null",
    "and",
    "or",
    "not",
    "List",
    "Text",
    "Integer",
    "Decimal",
    "Boolean",
    "Date",
    "DateTime",
    "Guid",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "<",
    ">",
    ",",
    ":",
    ";",
    "->",
    "=",
    "==",
    "!=",
    "<=",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "??",
    ".",
    "..",
    "\n",
    "\n",
    "\n",
    "//c\n",
    "/*c*/",
    "Begin",
    "Done",
    "Calc",
    "X",
    "Y",
    "A",
    "Usr",
    "x",
    "len",
    "round",
    "sum",
    "push",
    "now",
    "add_days",
    "text",
    "parse_json",
    "last_error",
    "0",
    "1",
    "42",
    "-1",
    "9223372036854775807",
    "12.50",
    "0.0",
    "\"\"",
    "\"a\"",
    "\"{X}\"",
    "\"\\n\\{\"",
    "\"PT1H\"",
    "\"2026-01-01\"",
    "\"8b4c2f3e-0d7a-4c1b-9c55-2f1e3a4b5c6d\"",
    "\"",
    "\\",
    "é",
    "{ A: 1 }",
    "[1, 2]",
];

/// Valid `.proc` files to mutate: the cases, the examples, the shared conformance cases.
fn seed_files() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    collect_proc(&root.join("tests/cases"), &mut paths);
    collect_proc(&root.join("examples"), &mut paths);
    // The shared conformance cases too, when the project brief is beside the clone.
    let shared = root.join("../shared/conformance/cases");
    if shared.is_dir() {
        collect_proc(&shared, &mut paths);
    } else {
        // Once, and past the test harness's capture, so a plain `cargo test` shows it.
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "note: the fuzz tests mutate only tests/cases and examples: there is no {} beside this clone",
                shared.display()
            );
        });
    }
    paths.sort();
    let files: Vec<String> = paths.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect();
    assert!(files.len() >= 20, "expected the .proc files of tests/cases, found {}", files.len());
    files
}

fn collect_proc(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_proc(&p, out);
        } else if p.extension().is_some_and(|x| x == "proc") {
            out.push(p);
        }
    }
}

/// Caller strings: valid and invalid values of every type.
fn param_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("0".to_string()),
        Just("-9223372036854775808".to_string()),
        Just("99999999999999999999999".to_string()),
        Just("12.50".to_string()),
        Just("1e5".to_string()),
        Just("TRUE".to_string()),
        Just("2026-02-30".to_string()),
        Just("2026-11-28T15:00:00+01:00".to_string()),
        Just("{8B4C2F3E-0D7A-4C1B-9C55-2F1E3A4B5C6D}".to_string()),
        Just("[1,2,3]".to_string()),
        Just("[{\"Id\":\"8b4c2f3e-0d7a-4c1b-9c55-2f1e3a4b5c6d\",\"Name\":\"x\",\"Qty\":2}]".to_string()),
        Just("{\"A\":{\"B\":[null]}}".to_string()),
        Just("[[[[[[[[[[]]]]]]]]]]".to_string()),
        "[ -~]{0,12}",
        any::<i64>().prop_map(|n| n.to_string()),
        "\\PC{0,8}",
    ]
}

fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("[A-Za-z]{1,6}", param_value()), 0..5)
}

fn fields() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(param_value(), 1..4)
}

#[derive(Clone, Debug)]
enum Mutation {
    DeleteBytes(usize, usize),
    DuplicateBytes(usize, usize),
    SwapBytes(usize, usize),
    InsertToken(usize, usize),
    DeleteToken(usize),
    DuplicateToken(usize),
    SwapTokens(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let n = any::<usize>();
    prop_oneof![
        (n, 1..8usize).prop_map(|(a, b)| Mutation::DeleteBytes(a, b)),
        (n, 1..16usize).prop_map(|(a, b)| Mutation::DuplicateBytes(a, b)),
        (n, n).prop_map(|(a, b)| Mutation::SwapBytes(a, b)),
        (n, n).prop_map(|(a, b)| Mutation::InsertToken(a, b)),
        n.prop_map(Mutation::DeleteToken),
        n.prop_map(Mutation::DuplicateToken),
        (n, n).prop_map(|(a, b)| Mutation::SwapTokens(a, b)),
    ]
}

/// Splits into words and the runs of space between them, so that token
/// mutations keep the text otherwise intact.
fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for ch in text.chars() {
        let boundary = ch.is_whitespace() || "{}()[],;:.".contains(ch);
        if boundary {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            out.push(ch.to_string());
        } else {
            cur.push(ch);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for m in mutations {
        let len = bytes.len().max(1);
        match *m {
            Mutation::DeleteBytes(at, n) => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Mutation::DuplicateBytes(at, n) => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                let copy = bytes.get(at..end).map(<[u8]>::to_vec).unwrap_or_default();
                bytes.splice(at..at, copy);
            }
            Mutation::SwapBytes(a, b) => {
                let n = bytes.len();
                if n > 0 {
                    bytes.swap(a % n, b % n);
                }
            }
            Mutation::InsertToken(at, t) => {
                let mut w = words(&String::from_utf8_lossy(&bytes));
                let at = at % (w.len() + 1);
                w.insert(at, format!(" {} ", TOKENS[t % TOKENS.len()]));
                bytes = w.concat().into_bytes();
            }
            Mutation::DeleteToken(at) => {
                let mut w = words(&String::from_utf8_lossy(&bytes));
                if !w.is_empty() {
                    let at = at % w.len();
                    w.remove(at);
                }
                bytes = w.concat().into_bytes();
            }
            Mutation::DuplicateToken(at) => {
                let mut w = words(&String::from_utf8_lossy(&bytes));
                if !w.is_empty() {
                    let at = at % w.len();
                    let t = w[at].clone();
                    w.insert(at, t);
                }
                bytes = w.concat().into_bytes();
            }
            Mutation::SwapTokens(a, b) => {
                let mut w = words(&String::from_utf8_lossy(&bytes));
                if !w.is_empty() {
                    let n = w.len();
                    w.swap(a % n, b % n);
                }
                bytes = w.concat().into_bytes();
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A random expression over the process's parameters `I` (Integer), `D`
/// (Decimal), `T` (Text), `L` (List<Integer>), `O` (an object) and locals.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (0..1000i64, 0..100u32).prop_map(|(a, b)| format!("{a}.{b:02}")),
        Just("I".to_string()),
        Just("D".to_string()),
        Just("T".to_string()),
        Just("L".to_string()),
        Just("O".to_string()),
        Just("O.Name".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("\"a{I}b\"".to_string()),
        Just("[1, 2.5, \"x\"]".to_string()),
        Just("{ A: 1, B: [I] }".to_string()),
        Just("now()".to_string()),
        Just("last_error()".to_string()),
        Just("9223372036854775807".to_string()),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        let binary = ["??", "or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"];
        let unary = ["-", "not "];
        // Each standard function with a number of arguments it takes.
        let functions: [(&str, usize); 34] = [
            ("len", 1),
            ("upper", 1),
            ("abs", 1),
            ("round", 1),
            ("round", 2),
            ("floor", 1),
            ("ceil", 1),
            ("sum", 1),
            ("min", 2),
            ("max", 3),
            ("text", 1),
            ("integer", 1),
            ("decimal", 1),
            ("to_json", 1),
            ("parse_json", 1),
            ("type_of", 1),
            ("keys", 1),
            ("range", 2),
            ("date", 1),
            ("datetime", 1),
            ("guid", 1),
            ("split", 2),
            ("join", 2),
            ("push", 2),
            ("has", 2),
            ("contains", 2),
            ("substring", 3),
            ("add_days", 2),
            ("add_hours", 2),
            ("days_between", 2),
            ("coalesce", 2),
            ("replace", 3),
            ("trim", 1),
            ("starts_with", 2),
        ];
        prop_oneof![
            (inner.clone(), 0..binary.len(), inner.clone())
                .prop_map(move |(a, op, b)| format!("({a} {} {b})", binary[op])),
            (0..unary.len(), inner.clone()).prop_map(move |(op, a)| format!("{}{a}", unary[op])),
            (0..functions.len(), prop::collection::vec(inner.clone(), 3)).prop_map(move |(f, args)| format!(
                "{}({})",
                functions[f].0,
                args[..functions[f].1].join(", ")
            )),
            (inner.clone(), inner.clone()).prop_map(|(a, i)| format!("{a}[{i}]")),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|items| format!("[{}]", items.join(", "))),
        ]
    })
}

fn statement() -> impl Strategy<Value = String> {
    let e = expression;
    prop_oneof![
        e().prop_map(|x| format!("I = {x}")),
        e().prop_map(|x| format!("D = {x}")),
        e().prop_map(|x| format!("T = {x}")),
        e().prop_map(|x| format!("L = {x}")),
        e().prop_map(|x| format!("O.Name = {x}")),
        (e(), e()).prop_map(|(i, x)| format!("L[{i}] = {x}")),
        e().prop_map(|x| format!("let v = {x}\nlog v")),
        e().prop_map(|x| format!("log {x}")),
        (e(), e()).prop_map(|(c, x)| format!("if {c} {{ log {x} }} else {{ fail {x} }}")),
        e().prop_map(|x| format!("for it in {x} {{ log it; if it == 2 {{ break }} }}")),
        (e(), e()).prop_map(|(a, b)| format!("for i in {a}..{b} {{ I = I + 1; continue }}")),
        e().prop_map(|c| format!("while {c} {{ I = I + 1 }}")),
        e().prop_map(|x| format!("emit text({x})")),
    ]
}

/// A process with a script, a gateway, a user task, a timer and a call, whose
/// script and conditions are random.
fn generated_process() -> impl Strategy<Value = String> {
    (prop::collection::vec(statement(), 1..6), expression(), expression(), expression()).prop_map(
        |(stmts, cond, timer, input)| {
            format!(
                r#"process UsrFuzz {{
    in    I: Integer = 1
    inout D: Decimal = 2.5
    in    T: Text = "t"
    in    L: List<Integer> = [1, 2, 3]
    inout O: {{ Name: Text, N: Integer }} = {{ Name: "o", N: 1 }}
    out   R: Text

    start Begin -> Calc
    script Calc {{
        {}
    }} -> Route on error -> Handle
    script Handle {{ R = last_error() }} -> Route
    exclusive Route {{
        when {cond} -> Ask
        else -> Wait
    }}
    user Ask "Ask" {{
        in F: Integer
        in G: Text = "g"
        done {{ I = F; T = G }}
    }} -> Sub
    timer Wait at add_hours(now(), integer({timer}) % 100) -> Sub
    call Sub UsrFuzzChild {{
        N = {input}
        M -> R
    }} -> Done on error -> Done2
    end Done
    terminate Done2
}}

process UsrFuzzChild {{
    in  N: Integer
    out M: Text
    start Begin -> Work
    script Work {{ M = text(N * 2) }} -> Done
    end Done
}}
"#,
                stmts.join("\n        ")
            )
        },
    )
}

/// `default` cases, or `PROCDSL_FUZZ_CASES` of them when it is set.
fn config(default: u32) -> Config {
    let cases = std::env::var("PROCDSL_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(default);
    Config { cases, failure_persistence: None, ..Config::default() }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn token_soups() {
    with_big_stack(|| {
        let soup = prop::collection::vec(0..TOKENS.len(), 0..80)
            .prop_map(|ids| ids.into_iter().map(|i| TOKENS[i]).collect::<Vec<_>>().join(" "));
        // Half the soups are wrapped in a process, so they get past the file level.
        let wrapped = (soup, any::<bool>()).prop_map(|(s, wrap)| {
            if wrap {
                format!("process UsrSoup {{\n start Begin -> Done\n {s}\n end Done\n}}\n")
            } else {
                s
            }
        });
        let mut runner = TestRunner::new(config(200));
        runner
            .run(&(wrapped, params(), fields()), |(source, params, fields)| {
                exercise(&source, &params, &fields);
                Ok(())
            })
            .unwrap();
    });
}

#[test]
fn mutated_sources() {
    with_big_stack(|| {
        let seeds = seed_files();
        let n = seeds.len();
        let mut runner = TestRunner::new(config(300));
        runner
            .run(
                &(0..n, prop::collection::vec(mutation(), 0..5), params(), fields()),
                |(i, mutations, params, fields)| {
                    let source = mutate(&seeds[i], &mutations);
                    exercise(&source, &params, &fields);
                    Ok(())
                },
            )
            .unwrap();
    });
}

#[test]
fn generated_expressions() {
    with_big_stack(|| {
        let mut runner = TestRunner::new(config(200));
        runner
            .run(&(generated_process(), params(), fields()), |(source, params, fields)| {
                exercise(&source, &params, &fields);
                Ok(())
            })
            .unwrap();
        eprintln!(
            "checked so far: {}, completed instances so far: {}",
            CHECKED.load(Ordering::Relaxed),
            COMPLETED.load(Ordering::Relaxed)
        );
    });
}

#[test]
fn every_seed_file_runs() {
    with_big_stack(|| {
        for source in seed_files() {
            exercise(&source, &[], &["1".to_string()]);
        }
    });
}

#[test]
fn corpus_replays() {
    with_big_stack(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        let mut replayed = 0;
        for target in std::fs::read_dir(&root).expect("fuzz/corpus").flatten() {
            let name = target.file_name().to_string_lossy().into_owned();
            for file in std::fs::read_dir(target.path()).expect("a corpus directory").flatten() {
                let bytes = std::fs::read(file.path()).expect("a corpus file");
                let replay = || match name.as_str() {
                    // Bytes the generator decodes into a program.
                    "interpret" => {
                        if let Some(generated) = harness::generate(&bytes) {
                            harness::run_generated(&generated);
                        }
                    }
                    // Source text (parse_check): loaded, rendered, and run when it checks.
                    _ => {
                        harness::load_any(&bytes);
                        let source = String::from_utf8_lossy(&bytes);
                        exercise(&source, &[("X".to_string(), "1".to_string())], &["1".to_string()]);
                    }
                };
                if let Err(panic) = catch_unwind(AssertUnwindSafe(replay)) {
                    eprintln!("=== corpus file that panicked: {}", file.path().display());
                    std::panic::resume_unwind(panic);
                }
                replayed += 1;
            }
        }
        assert!(replayed >= 100, "only {replayed} corpus files under {}", root.display());
    });
}

/// Found by the `interpret` fuzz target: `fail [last_error()]` looping
/// through its own handler doubled the message each turn (quotes escaped
/// again), past the text limit, until the process ran out of memory. The
/// message is bounded like every text: past the limit the failure says so.
#[test]
fn a_fail_message_that_doubles_each_turn_stops_at_the_text_limit() {
    let source = r#"
process UsrGrow {
    var N:    Integer = 0
    out Len:  Integer = 0
    out Last: Text
    start Begin -> Fail
    script Fail { fail [last_error()] } -> Done on error -> Count
    script Count {
        N = N + 1
        Last = last_error()
        Len = len(Last)
    } -> Again
    exclusive Again {
        when N < 25 -> Fail
        else -> Done
    }
    end Done
}
"#;
    let engine = Engine::from_source("grow.proc", source).unwrap();
    let d = engine.execute::<&str, &str>("UsrGrow", []).unwrap();
    let len = d.result_parameter_values["Len"].as_u64().unwrap();
    assert!(len <= procdsl::runtime::value::MAX_TEXT_LEN as u64, "a message of {len} bytes");
    let last = d.result_parameter_values["Last"].as_str().unwrap().to_string();
    assert!(last.contains("longer than the limit"), "{}", &last[..last.len().min(200)]);
}
