//! Runs every example in `examples/` exactly as its comment header shows.
//!
//! A header line `// $ procdsl ARGS…` is a command a reader can paste (run
//! from the repository root). Each one is run through the real binary as
//! written, then again with `--json` to check the status and key results
//! listed in [`EXPECTED`]. An example without a command, or a command
//! without an expectation here, fails: an example no test runs should not exist.

use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

/// (file, command's index in its header, exit code, status, results that must match).
type Expectation = (&'static str, usize, i32, &'static str, fn() -> Value);

const EXPECTED: &[Expectation] = &[
    ("hello.proc", 0, 0, "Completed", || json!({"Greeting": "Hello, Ada!"})),
    ("approval.proc", 0, 0, "Completed", || json!({"Approved": true, "Note": "under the limit"})),
    ("approval.proc", 1, 0, "Waiting", || json!({"Approved": false, "Note": null})),
    (
        "order_approval.proc",
        0,
        0,
        "Completed",
        || json!({"Approved": true, "Reason": "under the limit", "Tracking": "TRK-8B4C2F3E"}),
    ),
    ("order_approval.proc", 1, 0, "Waiting", || json!({"Approved": false, "Reason": null, "Tracking": null})),
    ("order_approval.proc", 2, 0, "Completed", || json!({"Approved": true, "Tracking": null})),
    ("shipping.proc", 0, 0, "Completed", || json!({"Tracking": "TRK-8B4C2F3E"})),
    ("invoice_lines.proc", 0, 0, "Completed", || {
        json!({"Net": 18.45, "Vat": 3.69, "Total": 22.14, "Skipped": ["Pad"],
               "Priced": [{"Name": "Pen", "Amount": 3.45}, {"Name": "Ink", "Amount": 15.00}]})
    }),
    (
        "parallel_checks.proc",
        0,
        0,
        "Completed",
        || json!({"Accepted": true, "Notes": ["credit: true", "country: true", "name: true"]}),
    ),
    (
        "parallel_checks.proc",
        1,
        0,
        "Completed",
        || json!({"Accepted": false, "Notes": ["credit: true", "country: false", "name: true"]}),
    ),
    ("onboarding.proc", 0, 0, "Completed", || json!({"Account": "ada", "WelcomeAt": "2026-12-02T10:00:00Z"})),
    (
        "payment_retry.proc",
        0,
        0,
        "Completed",
        || json!({"Paid": true, "Attempts": 3, "Errors": ["attempt 1: card declined", "attempt 2: card declined"]}),
    ),
    ("payment_retry.proc", 1, 1, "Failed", || json!({"Paid": false, "Attempts": 3})),
    ("expense_claim.proc", 0, 0, "Completed", || json!({"Status": "approved", "Approver": "policy", "Reminders": 0})),
    ("expense_claim.proc", 1, 0, "Waiting", || json!({"Status": "escalated", "Approver": null, "Reminders": 3})),
    (
        "contract_review.proc",
        0,
        0,
        "Completed",
        || json!({"Status": "signed", "Signatures": ["signed by ACME", "signed by Globex"], "Reminders": 0}),
    ),
    ("contract_review.proc", 1, 0, "Waiting", || json!({"Status": "escalated", "Votes": [], "Reminders": 3})),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Splits a command line on spaces; single quotes group, as in a POSIX shell.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for ch in line.chars() {
        match ch {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    words.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(cur);
    }
    words
}

/// The `// $ procdsl …` commands of an example's header.
fn commands(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .take_while(|l| l.starts_with("//"))
        .filter_map(|l| l.strip_prefix("// $ procdsl "))
        .map(shell_words)
        .collect()
}

fn procdsl(args: &[String]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("PROCDSL_STORE")
        .output()
        .expect("the procdsl binary runs")
}

fn examples() -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("examples"))
        .expect("examples/ exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "proc"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("a readable example"))
        })
        .collect()
}

#[test]
fn there_are_at_least_five_examples_with_headers() {
    let all = examples();
    assert!(all.len() >= 5, "expected at least five examples, found {}", all.len());
    for (name, text) in &all {
        assert!(text.starts_with("// "), "{name} should open with a comment saying what it shows");
        assert!(!commands(text).is_empty(), "{name} has no `// $ procdsl …` line in its header");
    }
}

#[test]
fn every_example_runs_as_its_header_shows() {
    let mut failures = Vec::new();
    let mut seen = 0;
    for (name, text) in examples() {
        for (i, args) in commands(&text).into_iter().enumerate() {
            let Some((_, _, exit, status, results)) = EXPECTED.iter().find(|e| e.0 == name && e.1 == i) else {
                failures.push(format!("{name}: command {i} (`procdsl {}`) has no expectation", args.join(" ")));
                continue;
            };
            seen += 1;
            let shown = format!("{name} command {i}: procdsl {}", args.join(" "));
            let plain = procdsl(&args);
            let stderr = String::from_utf8_lossy(&plain.stderr);
            if plain.status.code() != Some(*exit) {
                failures.push(format!("{shown}: exit {:?}, expected {exit}\n{stderr}", plain.status.code()));
                continue;
            }
            if stderr.contains("panicked") {
                failures.push(format!("{shown}: panicked\n{stderr}"));
            }
            let mut with_json = args.clone();
            with_json.push("--json".to_string());
            let out = procdsl(&with_json);
            let descriptor: Value = match serde_json::from_slice(&out.stdout) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{shown} --json: not JSON ({e})"));
                    continue;
                }
            };
            if descriptor["status"] != *status {
                failures.push(format!("{shown}: status {}, expected {status}", descriptor["status"]));
            }
            let values = &descriptor["resultParameterValues"];
            for (code, want) in results().as_object().expect("results are an object") {
                if !same(&values[code], want) {
                    failures.push(format!("{shown}: {code} = {}, expected {want}", values[code]));
                }
            }
        }
    }
    assert_eq!(seen, EXPECTED.len(), "some expectations name no command: {failures:#?}");
    assert!(failures.is_empty(), "examples did not run as their headers show:\n{}", failures.join("\n"));
}

/// A decimal number's digits without trailing fraction zeros (`15.00` → `15`), compared exactly.
fn exact_number(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// JSON equality with numbers compared by exact value (`15.00` == `15`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => exact_number(&x.to_string()) == exact_number(&y.to_string()),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn order_approval_continues_after_the_manager_decides() {
    let engine = procdsl::Engine::load(&[root().join("examples/order_approval.proc")]).expect("the example loads");
    let mut instance = engine
        .start("UsrOrderApproval", [("Amount", "5000"), ("OrderId", "8b4c2f3e-0d7a-4c1b-9c55-2f1e3a4b5c6d")])
        .expect("valid inputs");
    engine.run(&mut instance);
    let waiting = instance.descriptor(None).waiting;
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].element, "ManagerApproval");
    assert_eq!(waiting[0].to, Some(vec!["managers".to_string()]));
    engine
        .exec(&mut instance, waiting[0].uid, &[("Decision", "true"), ("Comment", "fine by me")])
        .expect("the manager's decision is accepted");
    let d = instance.descriptor(None);
    assert_eq!(d.status, procdsl::Status::Completed);
    assert_eq!(d.result_parameter_values["Approved"], json!(true));
    assert_eq!(d.result_parameter_values["Reason"], json!("fine by me"));
    assert_eq!(d.result_parameter_values["Tracking"], json!("TRK-8B4C2F3E"));
}

#[test]
fn shell_words_group_single_quotes() {
    assert_eq!(
        shell_words("run a.proc -p 'L=[{\"A\": 1}]'  -p X=1"),
        ["run", "a.proc", "-p", "L=[{\"A\": 1}]", "-p", "X=1"]
    );
}
