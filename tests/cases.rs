//! Golden case tests: every `tests/cases/<kind>/<name>.proc` runs through the
//! real `procdsl` binary and its output is compared with sibling files.
//!
//! How a case runs (the working directory is the case's folder, so paths in
//! diagnostics read `name.proc`):
//! - `check/NAME.proc`: `procdsl check NAME.proc ARGS…`
//! - `test/NAME.proc`: `procdsl test NAME.proc -j 1 ARGS…` (one test at a
//!   time, so that the lines come in the order written; no trace)
//! - `fmt/NAME.proc`: `procdsl fmt -` with the file on standard input (the
//!   layout on standard output; no trace)
//! - any other kind (`run/`, `errors/`, …): `procdsl run NAME.proc ARGS…`,
//!   then a second time with `--trace --json` added to read the trace.
//!
//! ARGS come from an optional first line `// args: -p X=5 --now 2026-01-01T00:00:00Z`
//! (split on whitespace; no quoting). Files in sub-folders (e.g. `lib/`) are
//! not cases: they are imported by cases.
//!
//! Expectation files beside the case:
//! - `NAME.out`: the line `exit: N` (the exit code), then stdout verbatim. Always required.
//! - `NAME.err`: stderr. Required when stderr is not empty; must be absent when it is.
//! - `NAME.trace`: the `--trace` lines (each element executed, in order,
//!   with the parameters it changed); the `note:` lines about an instance
//!   not kept are left out. Required for non-`check` cases that got past
//!   input checking (exit code other than 2), absent otherwise.
//!
//! Before comparing, random UUIDs (version 4) are masked as `<uuid>`;
//! `NO_COLOR=1` keeps diagnostics free of colour (they render 100 columns wide).
//!
//! A missing or different expectation fails and prints what the binary
//! produced. `PROCDSL_BLESS=1 cargo test --test cases` (re)writes every
//! expectation file instead; review the diff before committing it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const BLESS_VAR: &str = "PROCDSL_BLESS";

/// Replaces every UUID v4 in `text` with `<uuid>`.
fn mask_uuids(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if i + 36 <= bytes.len() && is_uuid_v4(&bytes[i..i + 36]) {
            out.push_str("<uuid>");
            i += 36;
        } else {
            let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
            out.push(ch);
            i += ch.len_utf8().max(1);
        }
    }
    out
}

/// `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`
fn is_uuid_v4(b: &[u8]) -> bool {
    let hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
    b.iter().enumerate().all(|(i, &c)| match i {
        8 | 13 | 18 | 23 => c == b'-',
        14 => c == b'4',
        19 => matches!(c, b'8' | b'9' | b'a' | b'b'),
        _ => hex(c),
    })
}

/// The arguments from a first line `// args: …`.
fn case_args(source: &str) -> Vec<String> {
    source
        .lines()
        .next()
        .and_then(|l| l.trim().strip_prefix("// args:"))
        .map(|rest| rest.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn procdsl(dir: &Path, args: &[String]) -> Output {
    procdsl_with_input(dir, args, std::process::Stdio::null())
}

fn procdsl_with_input(dir: &Path, args: &[String], stdin: std::process::Stdio) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_procdsl"))
        .args(args)
        .stdin(stdin)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("PROCDSL_STORE")
        .output()
        .expect("the procdsl binary runs");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: mask_uuids(&String::from_utf8_lossy(&out.stdout)),
        stderr: mask_uuids(&String::from_utf8_lossy(&out.stderr)),
    }
}

/// What one case produced, file extension → contents (`None`: no such file expected).
fn produce(kind: &str, proc_file: &Path) -> Vec<(&'static str, Option<String>)> {
    let dir = proc_file.parent().expect("a case lives in a folder");
    let name = proc_file.file_name().expect("a file name").to_string_lossy().into_owned();
    let source = std::fs::read_to_string(proc_file).expect("a readable case");
    let extra = case_args(&source);
    if kind == "fmt" {
        let input = std::fs::File::open(proc_file).expect("a readable case");
        let args = ["fmt".to_string(), "-".to_string()];
        let main = procdsl_with_input(dir, &args, input.into());
        return vec![
            ("out", Some(format!("exit: {}\n{}", main.code, main.stdout))),
            ("err", (!main.stderr.is_empty()).then_some(main.stderr)),
        ];
    }
    let command = match kind {
        "check" | "test" => kind,
        _ => "run",
    };
    let mut args = vec![command.to_string(), name];
    if kind == "test" {
        args.extend(["-j".to_string(), "1".to_string()]);
    }
    args.extend(extra);
    let main = procdsl(dir, &args);
    let mut files = vec![
        ("out", Some(format!("exit: {}\n{}", main.code, main.stdout))),
        ("err", (!main.stderr.is_empty()).then(|| main.stderr.clone())),
    ];
    if kind != "check" && kind != "test" {
        let trace = if main.code == 2 {
            None
        } else {
            let mut traced = args.clone();
            traced.push("--trace".to_string());
            if !traced.iter().any(|a| a == "--json") {
                traced.push("--json".to_string());
            }
            let t = procdsl(dir, &traced);
            let lines: String =
                t.stderr.lines().filter(|l| !l.starts_with("note: ")).fold(String::new(), |mut acc, l| {
                    let _ = writeln!(acc, "{l}");
                    acc
                });
            Some(lines)
        };
        files.push(("trace", trace));
    }
    files
}

fn cases() -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut out = Vec::new();
    let mut kinds: Vec<_> = std::fs::read_dir(&root).expect("tests/cases exists").flatten().collect();
    kinds.sort_by_key(|e| e.file_name());
    for kind in kinds {
        if !kind.path().is_dir() {
            continue;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(kind.path())
            .expect("a readable folder")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "proc"))
            .collect();
        files.sort();
        let kind = kind.file_name().to_string_lossy().into_owned();
        out.extend(files.into_iter().map(|f| (kind.clone(), f)));
    }
    out
}

#[test]
fn golden_cases() {
    let bless = std::env::var_os(BLESS_VAR).is_some();
    let all = cases();
    assert!(all.len() > 50, "expected the case folders under tests/cases, found {} cases", all.len());
    let mut failures = String::new();
    for (kind, proc_file) in &all {
        for (ext, got) in produce(kind, proc_file) {
            let path = proc_file.with_extension(ext);
            let expected = std::fs::read_to_string(&path).ok();
            if expected == got {
                continue;
            }
            if bless {
                match &got {
                    Some(text) => std::fs::write(&path, text).expect("writable expectation"),
                    None => std::fs::remove_file(&path).expect("removable expectation"),
                }
                continue;
            }
            let shown = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(&path).display().to_string();
            match (expected, got) {
                (None, Some(got)) => {
                    let _ = write!(failures, "\n=== {shown} is missing; the binary produced:\n{got}");
                }
                (Some(_), None) => {
                    let _ = write!(failures, "\n=== {shown} exists, but the binary produced nothing for it\n");
                }
                (Some(want), Some(got)) => {
                    let _ = write!(failures, "\n=== {shown} differs\n--- expected:\n{want}--- got:\n{got}");
                }
                (None, None) => {}
            }
        }
    }
    assert!(failures.is_empty(), "golden cases failed (rerun with {BLESS_VAR}=1 to rewrite them):{failures}");
}

#[test]
fn masks_only_version_4_uuids() {
    let text = "a 8b4c2f3e-0d7a-4c1b-9c55-2f1e3a4b5c6d b 8b4c2f3e-0d7a-5c1b-9c55-2f1e3a4b5c6d é";
    assert_eq!(mask_uuids(text), "a <uuid> b 8b4c2f3e-0d7a-5c1b-9c55-2f1e3a4b5c6d é");
}
